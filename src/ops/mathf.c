/* mathf.c — exp, log, sin and cos without libm, so glibc and Emscripten's musl give the same bits.
   exp is in float, in the order of kn_vec_exp (mathf.h); log, sin and cos reduce and evaluate
   in double (IEEE everywhere, no FMA under -ffp-contract=off) and round once to float. */
#include "mathf.h"

float kn_expf(float x)
{
    x = kn_maxf(KN_EXP_X_MIN, x);
    x = kn_minf(KN_EXP_X_MAX, x);
    float t = x * KN_EXP_LOG2E + KN_EXP_ROUNDER;
    int32_t n = (int32_t)(kn_f32_bits(t) - (uint32_t)KN_EXP_ROUNDER_BITS);
    float nf = t - KN_EXP_ROUNDER;
    float r = x - nf * KN_EXP_LN2_HI;
    r = r - nf * KN_EXP_LN2_LO;

    float y = KN_EXP_C7;
    y = y * r + KN_EXP_C6;
    y = y * r + KN_EXP_C5;
    y = y * r + KN_EXP_C4;
    y = y * r + KN_EXP_C3;
    y = y * r + KN_EXP_C2;
    float p = (y * (r * r) + r) + 1.0f;

    int32_t n1 = n >= 0 ? n >> 1 : ~(~n >> 1);   /* arithmetic shift, as the vector one */
    int32_t n2 = n - n1;
    float s1 = kn_f32_from_bits((uint32_t)(n1 + 127) << 23);
    float s2 = kn_f32_from_bits((uint32_t)(n2 + 127) << 23);
    return (p * s1) * s2;
}

#define LN2_D 0.6931471805599453
#define SQRT2_F 1.41421356f

float kn_logf(float x)
{
    if (x != x) return x;
    if (x < 0.0f) return (x - x) / (x - x);          /* NaN */
    if (x == 0.0f) return -1.0f / 0.0f;
    if (x == 1.0f / 0.0f) return x;
    uint32_t bits = kn_f32_bits(x);
    int e = (int)(bits >> 23) - 127;
    if ((bits >> 23) == 0) {                          /* subnormal: scale into the normals */
        bits = kn_f32_bits(x * 33554432.0f);          /* 2^25 */
        e = (int)(bits >> 23) - 127 - 25;
    }
    float m = kn_f32_from_bits((bits & 0x7FFFFFu) | 0x3F800000u);   /* [1, 2) */
    if (m > SQRT2_F) { m *= 0.5f; e++; }                            /* [0.707, 1.414] */
    /* log m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172: six odd terms reach 2^-35 */
    double f = (double)m - 1.0;
    double s = f / (2.0 + f);
    double z = s * s;
    double series = 1.0 + z * (1.0 / 3 + z * (1.0 / 5 + z * (1.0 / 7 + z * (1.0 / 9 + z * (1.0 / 11 + z / 13)))));
    return (float)((double)e * LN2_D + 2.0 * s * series);
}

/* pi/2 in three parts; the first two have 33 significant bits, so n * part is exact for
   |n| < 2^20, i.e. the reduction is exact to about 2^-100 for |x| < 1.6e6. */
#define PIO2_1 1.5707963267341256
#define PIO2_2 6.077100506303966e-11
#define PIO2_3 2.0222662487959506e-21
#define TWO_OVER_PI 0.6366197723675814
#define ROUNDER_D 6755399441055744.0                  /* 1.5 * 2^52: rounds a double to an integer */

#define TRIG_EXACT_MAX 1.6e6                     /* |n| < 2^20 below this */
#define TWO_POW_51 2251799813685248.0

/* r = x - n pi/2 with |r| <= pi/4; returns n mod 4. Past TRIG_EXACT_MAX, r comes from the double
   product x * 2/pi, whose fraction has lost most of its bits: bounded, deterministic, not accurate. */
static int reduce_pio2(float x, double *r)
{
    double y = (double)x * TWO_OVER_PI;
    double n = y < TWO_POW_51 && y > -TWO_POW_51 ? (y + ROUNDER_D) - ROUNDER_D : y;   /* big y: integral */
    if (x < TRIG_EXACT_MAX && x > -TRIG_EXACT_MAX) *r = (((double)x - n * PIO2_1) - n * PIO2_2) - n * PIO2_3;
    else *r = (y - n) * PIO2_1;
    int64_t q = n < 4.0e15 && n > -4.0e15 ? (int64_t)n : 0;   /* stay inside int64's range */
    return (int)(q & 3);
}

/* Taylor series on |r| <= pi/4, to r^13 and r^14: truncation below 2^-40 */
static double sin_poly(double r)
{
    double z = r * r;
    return r + r * z * (-1.0 / 6 + z * (1.0 / 120 + z * (-1.0 / 5040 + z * (1.0 / 362880
           + z * (-1.0 / 39916800 + z * (1.0 / 6227020800.0))))));
}

static double cos_poly(double r)
{
    double z = r * r;
    return 1.0 + z * (-1.0 / 2 + z * (1.0 / 24 + z * (-1.0 / 720 + z * (1.0 / 40320
           + z * (-1.0 / 3628800 + z * (1.0 / 479001600.0 + z * (-1.0 / 87178291200.0)))))));
}

/* Accurate for |x| < 1.6e6; beyond, the result stays in [-1, 1] but loses its digits. inf, NaN -> NaN. */
float kn_sinf(float x)
{
    if (x != x || x - x != 0.0f) return x - x;
    double r;
    switch (reduce_pio2(x, &r)) {
    case 0: return (float)sin_poly(r);
    case 1: return (float)cos_poly(r);
    case 2: return (float)-sin_poly(r);
    default: return (float)-cos_poly(r);
    }
}

float kn_cosf(float x)
{
    if (x != x || x - x != 0.0f) return x - x;
    double r;
    switch (reduce_pio2(x, &r)) {
    case 0: return (float)cos_poly(r);
    case 1: return (float)-sin_poly(r);
    case 2: return (float)-cos_poly(r);
    default: return (float)sin_poly(r);
    }
}
