/* mathf.h — the vector exp shared by softmax, SiLU and attention. It runs exactly the operations of
   kn_expf (mathf.c), lane by lane, so a vector body and its scalar tail give the same bits. */
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

static inline kn_f32x4 kn_f32x4_exp(kn_f32x4 x)
{
    /* clamp with x second, so a NaN passes through */
    x = kn_f32x4_max(kn_f32x4_splat(KN_EXP_X_MIN), x);
    x = kn_f32x4_min(kn_f32x4_splat(KN_EXP_X_MAX), x);
    kn_f32x4 t = kn_f32x4_add(kn_f32x4_mul(x, kn_f32x4_splat(KN_EXP_LOG2E)), kn_f32x4_splat(KN_EXP_ROUNDER));
    kn_i32x4 n = kn_i32x4_sub(kn_f32x4_bits(t), kn_i32x4_splat(KN_EXP_ROUNDER_BITS));
    kn_f32x4 nf = kn_f32x4_sub(t, kn_f32x4_splat(KN_EXP_ROUNDER));
    kn_f32x4 r = kn_f32x4_sub(x, kn_f32x4_mul(nf, kn_f32x4_splat(KN_EXP_LN2_HI)));
    r = kn_f32x4_sub(r, kn_f32x4_mul(nf, kn_f32x4_splat(KN_EXP_LN2_LO)));

    kn_f32x4 y = kn_f32x4_splat(KN_EXP_C7);
    y = kn_f32x4_add(kn_f32x4_mul(y, r), kn_f32x4_splat(KN_EXP_C6));
    y = kn_f32x4_add(kn_f32x4_mul(y, r), kn_f32x4_splat(KN_EXP_C5));
    y = kn_f32x4_add(kn_f32x4_mul(y, r), kn_f32x4_splat(KN_EXP_C4));
    y = kn_f32x4_add(kn_f32x4_mul(y, r), kn_f32x4_splat(KN_EXP_C3));
    y = kn_f32x4_add(kn_f32x4_mul(y, r), kn_f32x4_splat(KN_EXP_C2));
    kn_f32x4 p = kn_f32x4_add(kn_f32x4_add(kn_f32x4_mul(y, kn_f32x4_mul(r, r)), r), kn_f32x4_splat(1.0f));

    /* 2^n as two normal factors so results down in the subnormals round once, correctly */
    kn_i32x4 n1 = kn_i32x4_sar1(n);
    kn_i32x4 n2 = kn_i32x4_sub(n, n1);
    kn_f32x4 s1 = kn_i32x4_as_f32(kn_i32x4_shl23(kn_i32x4_add(n1, kn_i32x4_splat(127))));
    kn_f32x4 s2 = kn_i32x4_as_f32(kn_i32x4_shl23(kn_i32x4_add(n2, kn_i32x4_splat(127))));
    return kn_f32x4_mul(kn_f32x4_mul(p, s1), s2);
}

#if defined(KN_SIMD_SSE2) && defined(__AVX2__)
#include <immintrin.h>
#define KN_EXP_AVX2 1
/* kn_f32x4_exp's operations on eight lanes, for native AVX2 builds: each lane gets the same bits. */
static inline __m256 kn_f32x8_exp(__m256 x)
{
    x = _mm256_max_ps(_mm256_set1_ps(KN_EXP_X_MIN), x);
    x = _mm256_min_ps(_mm256_set1_ps(KN_EXP_X_MAX), x);
    __m256 t = _mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(KN_EXP_LOG2E)), _mm256_set1_ps(KN_EXP_ROUNDER));
    __m256i n = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(KN_EXP_ROUNDER_BITS));
    __m256 nf = _mm256_sub_ps(t, _mm256_set1_ps(KN_EXP_ROUNDER));
    __m256 r = _mm256_sub_ps(x, _mm256_mul_ps(nf, _mm256_set1_ps(KN_EXP_LN2_HI)));
    r = _mm256_sub_ps(r, _mm256_mul_ps(nf, _mm256_set1_ps(KN_EXP_LN2_LO)));

    __m256 y = _mm256_set1_ps(KN_EXP_C7);
    y = _mm256_add_ps(_mm256_mul_ps(y, r), _mm256_set1_ps(KN_EXP_C6));
    y = _mm256_add_ps(_mm256_mul_ps(y, r), _mm256_set1_ps(KN_EXP_C5));
    y = _mm256_add_ps(_mm256_mul_ps(y, r), _mm256_set1_ps(KN_EXP_C4));
    y = _mm256_add_ps(_mm256_mul_ps(y, r), _mm256_set1_ps(KN_EXP_C3));
    y = _mm256_add_ps(_mm256_mul_ps(y, r), _mm256_set1_ps(KN_EXP_C2));
    __m256 p = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(y, _mm256_mul_ps(r, r)), r), _mm256_set1_ps(1.0f));

    __m256i n1 = _mm256_srai_epi32(n, 1);
    __m256i n2 = _mm256_sub_epi32(n, n1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}
#endif

#endif
