/* mathf.h — the vector exp shared by softmax and SiLU. It runs exactly the operations of kn_expf
   (mathf.c), lane by lane, so a vector body and its scalar tail give the same bits. */
#ifndef KINETO_MATHF_H
#define KINETO_MATHF_H

#include "ops.h"
#include "simd.h"

/* exp(x) = 2^n * exp(r), n = round(x / ln 2), r = x - n ln 2 in two parts (Cody and Waite):
   LN2_HI has 9 significant bits, so n * LN2_HI is exact for |n| < 2^15. */
#define KN_EXP_LOG2E    1.44269504088896341f
#define KN_EXP_LN2_HI   0.693359375f
#define KN_EXP_LN2_LO  -2.12194440e-4f
/* adding 1.5 * 2^23 rounds to an integer, which lands in the low mantissa bits */
#define KN_EXP_ROUNDER  12582912.0f
#define KN_EXP_ROUNDER_BITS 0x4B400000
/* beyond these exp is inf or 0; clamping keeps n in [-150, 128] */
#define KN_EXP_X_MAX    89.0f
#define KN_EXP_X_MIN  -104.0f
/* Taylor coefficients 1/k!, k = 2..7: on |r| <= ln2/2 the truncation is below 0.15 ulp */
#define KN_EXP_C2 (1.0f / 2.0f)
#define KN_EXP_C3 (1.0f / 6.0f)
#define KN_EXP_C4 (1.0f / 24.0f)
#define KN_EXP_C5 (1.0f / 120.0f)
#define KN_EXP_C6 (1.0f / 720.0f)
#define KN_EXP_C7 (1.0f / 5040.0f)

/* exp on every lane of the target's vector; lane for lane the operations of kn_expf */
static inline kn_vec kn_vec_exp(kn_vec x)
{
    /* clamp with x second, so a NaN passes through */
    x = kn_vec_max(kn_vec_splat(KN_EXP_X_MIN), x);
    x = kn_vec_min(kn_vec_splat(KN_EXP_X_MAX), x);
    kn_vec t = kn_vec_add(kn_vec_mul(x, kn_vec_splat(KN_EXP_LOG2E)), kn_vec_splat(KN_EXP_ROUNDER));
    kn_ivec n = kn_ivec_sub(kn_vec_bits(t), kn_ivec_splat(KN_EXP_ROUNDER_BITS));
    kn_vec nf = kn_vec_sub(t, kn_vec_splat(KN_EXP_ROUNDER));
    kn_vec r = kn_vec_sub(x, kn_vec_mul(nf, kn_vec_splat(KN_EXP_LN2_HI)));
    r = kn_vec_sub(r, kn_vec_mul(nf, kn_vec_splat(KN_EXP_LN2_LO)));

    kn_vec y = kn_vec_splat(KN_EXP_C7);
    y = kn_vec_add(kn_vec_mul(y, r), kn_vec_splat(KN_EXP_C6));
    y = kn_vec_add(kn_vec_mul(y, r), kn_vec_splat(KN_EXP_C5));
    y = kn_vec_add(kn_vec_mul(y, r), kn_vec_splat(KN_EXP_C4));
    y = kn_vec_add(kn_vec_mul(y, r), kn_vec_splat(KN_EXP_C3));
    y = kn_vec_add(kn_vec_mul(y, r), kn_vec_splat(KN_EXP_C2));
    kn_vec p = kn_vec_add(kn_vec_add(kn_vec_mul(y, kn_vec_mul(r, r)), r), kn_vec_splat(1.0f));

    /* 2^n as two normal factors so results down in the subnormals round once, correctly */
    kn_ivec n1 = kn_ivec_sar1(n);
    kn_ivec n2 = kn_ivec_sub(n, n1);
    kn_vec s1 = kn_ivec_as_f32(kn_ivec_shl23(kn_ivec_add(n1, kn_ivec_splat(127))));
    kn_vec s2 = kn_ivec_as_f32(kn_ivec_shl23(kn_ivec_add(n2, kn_ivec_splat(127))));
    return kn_vec_mul(kn_vec_mul(p, s1), s2);
}

/* SiLU on every lane: x / (1 + exp(0 - x)), as the scalar tails compute it */
static inline kn_vec kn_vec_silu(kn_vec x)
{
    return kn_vec_div(x, kn_vec_add(kn_vec_splat(1.0f), kn_vec_exp(kn_vec_sub(kn_vec_zero(), x))));
}

#endif
