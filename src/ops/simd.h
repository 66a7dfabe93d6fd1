/* simd.h — the one vector layer Kineto's kernels are written against: four f32 lanes.

   Three back ends, chosen once here at compile time:
     wasm_simd128.h  under __wasm_simd128__
     SSE2            on x86 (emmintrin.h)
     four plain floats in a struct, under KINETO_NO_SIMD or on any other target.
   Every operation is lane-wise IEEE single precision (no FMA), and the few that are not plain
   arithmetic (max/min, horizontal sums) are defined the same way in all three, so a kernel gives
   the same bits whichever back end it was compiled for. */
#ifndef KINETO_SIMD_H
#define KINETO_SIMD_H

#include <stdint.h>
#include <string.h>

#if !defined(KINETO_NO_SIMD) && defined(__wasm_simd128__)
#define KN_SIMD_WASM 1
#elif !defined(KINETO_NO_SIMD) && (defined(__SSE2__) || defined(_M_X64))
#define KN_SIMD_SSE2 1
#else
#define KN_SIMD_SCALAR 1
#endif

/* ---------------------------------------------------------------- WebAssembly SIMD */
#if defined(KN_SIMD_WASM)
#include <wasm_simd128.h>
#define KN_SIMD_NAME "wasm-simd128"
typedef v128_t kn_f32x4;
typedef v128_t kn_i32x4;

static inline kn_f32x4 kn_f32x4_load(const float *p) { return wasm_v128_load(p); }
static inline void kn_f32x4_store(float *p, kn_f32x4 v) { wasm_v128_store(p, v); }
static inline kn_f32x4 kn_f32x4_splat(float f) { return wasm_f32x4_splat(f); }
static inline kn_f32x4 kn_f32x4_load32_splat(const float *p) { return wasm_v128_load32_splat(p); }
static inline kn_f32x4 kn_f32x4_add(kn_f32x4 a, kn_f32x4 b) { return wasm_f32x4_add(a, b); }
static inline kn_f32x4 kn_f32x4_sub(kn_f32x4 a, kn_f32x4 b) { return wasm_f32x4_sub(a, b); }
static inline kn_f32x4 kn_f32x4_mul(kn_f32x4 a, kn_f32x4 b) { return wasm_f32x4_mul(a, b); }
static inline kn_f32x4 kn_f32x4_div(kn_f32x4 a, kn_f32x4 b) { return wasm_f32x4_div(a, b); }
static inline kn_f32x4 kn_f32x4_sqrt(kn_f32x4 a) { return wasm_f32x4_sqrt(a); }
/* pmax(b, a) = a > b ? a : b, exactly SSE's maxps(a, b), NaN and signed zeros included. */
static inline kn_f32x4 kn_f32x4_max(kn_f32x4 a, kn_f32x4 b) { return wasm_f32x4_pmax(b, a); }
static inline kn_f32x4 kn_f32x4_min(kn_f32x4 a, kn_f32x4 b) { return wasm_f32x4_pmin(b, a); }
static inline kn_f32x4 kn_f32x4_gt(kn_f32x4 a, kn_f32x4 b) { return wasm_f32x4_gt(a, b); }
/* mask ? a : b, lane by lane; mask lanes all ones or all zeros (from a comparison). */
static inline kn_f32x4 kn_f32x4_select(kn_f32x4 mask, kn_f32x4 a, kn_f32x4 b) { return wasm_v128_bitselect(a, b, mask); }
static inline float kn_f32x4_lane(kn_f32x4 v, int i)
{
    float f[4];
    wasm_v128_store(f, v);
    return f[i];
}
static inline kn_i32x4 kn_f32x4_bits(kn_f32x4 v) { return v; }
static inline kn_f32x4 kn_i32x4_as_f32(kn_i32x4 v) { return v; }
static inline kn_i32x4 kn_i32x4_splat(int32_t i) { return wasm_i32x4_splat(i); }
static inline kn_i32x4 kn_i32x4_add(kn_i32x4 a, kn_i32x4 b) { return wasm_i32x4_add(a, b); }
static inline kn_i32x4 kn_i32x4_sub(kn_i32x4 a, kn_i32x4 b) { return wasm_i32x4_sub(a, b); }
static inline kn_i32x4 kn_i32x4_shl23(kn_i32x4 a) { return wasm_i32x4_shl(a, 23); }
static inline kn_i32x4 kn_i32x4_sar1(kn_i32x4 a) { return wasm_i32x4_shr(a, 1); }

/* ---------------------------------------------------------------- SSE2 */
#elif defined(KN_SIMD_SSE2)
#include <emmintrin.h>
#define KN_SIMD_NAME "sse2"
typedef __m128 kn_f32x4;
typedef __m128i kn_i32x4;

static inline kn_f32x4 kn_f32x4_load(const float *p) { return _mm_loadu_ps(p); }
static inline void kn_f32x4_store(float *p, kn_f32x4 v) { _mm_storeu_ps(p, v); }
static inline kn_f32x4 kn_f32x4_splat(float f) { return _mm_set1_ps(f); }
static inline kn_f32x4 kn_f32x4_load32_splat(const float *p) { return _mm_set1_ps(*p); }
static inline kn_f32x4 kn_f32x4_add(kn_f32x4 a, kn_f32x4 b) { return _mm_add_ps(a, b); }
static inline kn_f32x4 kn_f32x4_sub(kn_f32x4 a, kn_f32x4 b) { return _mm_sub_ps(a, b); }
static inline kn_f32x4 kn_f32x4_mul(kn_f32x4 a, kn_f32x4 b) { return _mm_mul_ps(a, b); }
static inline kn_f32x4 kn_f32x4_div(kn_f32x4 a, kn_f32x4 b) { return _mm_div_ps(a, b); }
static inline kn_f32x4 kn_f32x4_sqrt(kn_f32x4 a) { return _mm_sqrt_ps(a); }
static inline kn_f32x4 kn_f32x4_max(kn_f32x4 a, kn_f32x4 b) { return _mm_max_ps(a, b); }
static inline kn_f32x4 kn_f32x4_min(kn_f32x4 a, kn_f32x4 b) { return _mm_min_ps(a, b); }
static inline kn_f32x4 kn_f32x4_gt(kn_f32x4 a, kn_f32x4 b) { return _mm_cmpgt_ps(a, b); }
static inline kn_f32x4 kn_f32x4_select(kn_f32x4 mask, kn_f32x4 a, kn_f32x4 b)
{
    return _mm_or_ps(_mm_and_ps(mask, a), _mm_andnot_ps(mask, b));
}
static inline float kn_f32x4_lane(kn_f32x4 v, int i)
{
    float f[4];
    _mm_storeu_ps(f, v);
    return f[i];
}
static inline kn_i32x4 kn_f32x4_bits(kn_f32x4 v) { return _mm_castps_si128(v); }
static inline kn_f32x4 kn_i32x4_as_f32(kn_i32x4 v) { return _mm_castsi128_ps(v); }
static inline kn_i32x4 kn_i32x4_splat(int32_t i) { return _mm_set1_epi32(i); }
static inline kn_i32x4 kn_i32x4_add(kn_i32x4 a, kn_i32x4 b) { return _mm_add_epi32(a, b); }
static inline kn_i32x4 kn_i32x4_sub(kn_i32x4 a, kn_i32x4 b) { return _mm_sub_epi32(a, b); }
static inline kn_i32x4 kn_i32x4_shl23(kn_i32x4 a) { return _mm_slli_epi32(a, 23); }
static inline kn_i32x4 kn_i32x4_sar1(kn_i32x4 a) { return _mm_srai_epi32(a, 1); }

/* ---------------------------------------------------------------- four plain floats */
#else
#define KN_SIMD_NAME "scalar"
typedef struct { float f[4]; } kn_f32x4;
typedef struct { int32_t i[4]; } kn_i32x4;

#define KN_LANEWISE(expr) do { for (int l = 0; l < 4; l++) r.f[l] = (expr); } while (0)
static inline kn_f32x4 kn_f32x4_load(const float *p) { kn_f32x4 r; memcpy(r.f, p, sizeof r.f); return r; }
static inline void kn_f32x4_store(float *p, kn_f32x4 v) { memcpy(p, v.f, sizeof v.f); }
static inline kn_f32x4 kn_f32x4_splat(float f) { kn_f32x4 r; KN_LANEWISE(f); return r; }
static inline kn_f32x4 kn_f32x4_load32_splat(const float *p) { return kn_f32x4_splat(*p); }
static inline kn_f32x4 kn_f32x4_add(kn_f32x4 a, kn_f32x4 b) { kn_f32x4 r; KN_LANEWISE(a.f[l] + b.f[l]); return r; }
static inline kn_f32x4 kn_f32x4_sub(kn_f32x4 a, kn_f32x4 b) { kn_f32x4 r; KN_LANEWISE(a.f[l] - b.f[l]); return r; }
static inline kn_f32x4 kn_f32x4_mul(kn_f32x4 a, kn_f32x4 b) { kn_f32x4 r; KN_LANEWISE(a.f[l] * b.f[l]); return r; }
static inline kn_f32x4 kn_f32x4_div(kn_f32x4 a, kn_f32x4 b) { kn_f32x4 r; KN_LANEWISE(a.f[l] / b.f[l]); return r; }
/* correctly rounded everywhere (IEEE 754); the builtin compiles to the instruction */
static inline kn_f32x4 kn_f32x4_sqrt(kn_f32x4 a) { kn_f32x4 r; KN_LANEWISE(__builtin_sqrtf(a.f[l])); return r; }
static inline kn_f32x4 kn_f32x4_max(kn_f32x4 a, kn_f32x4 b) { kn_f32x4 r; KN_LANEWISE(a.f[l] > b.f[l] ? a.f[l] : b.f[l]); return r; }
static inline kn_f32x4 kn_f32x4_min(kn_f32x4 a, kn_f32x4 b) { kn_f32x4 r; KN_LANEWISE(a.f[l] < b.f[l] ? a.f[l] : b.f[l]); return r; }
static inline kn_f32x4 kn_f32x4_gt(kn_f32x4 a, kn_f32x4 b)
{
    kn_f32x4 r;
    for (int l = 0; l < 4; l++) {
        uint32_t m = a.f[l] > b.f[l] ? 0xFFFFFFFFu : 0;
        memcpy(&r.f[l], &m, 4);
    }
    return r;
}
static inline kn_f32x4 kn_f32x4_select(kn_f32x4 mask, kn_f32x4 a, kn_f32x4 b)
{
    kn_f32x4 r;
    for (int l = 0; l < 4; l++) {
        uint32_t m, x, y, z;
        memcpy(&m, &mask.f[l], 4), memcpy(&x, &a.f[l], 4), memcpy(&y, &b.f[l], 4);
        z = (x & m) | (y & ~m);
        memcpy(&r.f[l], &z, 4);
    }
    return r;
}
static inline float kn_f32x4_lane(kn_f32x4 v, int i) { return v.f[i]; }
static inline kn_i32x4 kn_f32x4_bits(kn_f32x4 v) { kn_i32x4 r; memcpy(r.i, v.f, 16); return r; }
static inline kn_f32x4 kn_i32x4_as_f32(kn_i32x4 v) { kn_f32x4 r; memcpy(r.f, v.i, 16); return r; }
/* two's complement wrap-around as the vector instructions do it, through uint32_t */
#define KN_LANEWISE_I(expr) do { for (int l = 0; l < 4; l++) r.i[l] = (int32_t)(expr); } while (0)
static inline kn_i32x4 kn_i32x4_splat(int32_t i) { kn_i32x4 r; KN_LANEWISE_I(i); return r; }
static inline kn_i32x4 kn_i32x4_add(kn_i32x4 a, kn_i32x4 b) { kn_i32x4 r; KN_LANEWISE_I((uint32_t)a.i[l] + (uint32_t)b.i[l]); return r; }
static inline kn_i32x4 kn_i32x4_sub(kn_i32x4 a, kn_i32x4 b) { kn_i32x4 r; KN_LANEWISE_I((uint32_t)a.i[l] - (uint32_t)b.i[l]); return r; }
static inline kn_i32x4 kn_i32x4_shl23(kn_i32x4 a) { kn_i32x4 r; KN_LANEWISE_I((uint32_t)a.i[l] << 23); return r; }
static inline kn_i32x4 kn_i32x4_sar1(kn_i32x4 a)
{
    kn_i32x4 r;
    KN_LANEWISE_I(a.i[l] >= 0 ? a.i[l] >> 1 : ~(~a.i[l] >> 1));
    return r;
}
#undef KN_LANEWISE
#undef KN_LANEWISE_I
#endif

/* ---------------------------------------------------------------- shared by all back ends */
static inline kn_f32x4 kn_f32x4_zero(void) { return kn_f32x4_splat(0.0f); }

/* The one horizontal order every reduction uses: (l0 + l2) + (l1 + l3). */
static inline float kn_f32x4_hsum(kn_f32x4 v)
{
    return (kn_f32x4_lane(v, 0) + kn_f32x4_lane(v, 2)) + (kn_f32x4_lane(v, 1) + kn_f32x4_lane(v, 3));
}

/* the rules of kn_f32x4_max and _min, for tails and horizontal reductions */
static inline float kn_maxf(float a, float b) { return a > b ? a : b; }
static inline float kn_minf(float a, float b) { return a < b ? a : b; }

static inline float kn_f32x4_hmax(kn_f32x4 v)
{
    return kn_maxf(kn_maxf(kn_f32x4_lane(v, 0), kn_f32x4_lane(v, 2)),
                   kn_maxf(kn_f32x4_lane(v, 1), kn_f32x4_lane(v, 3)));
}

/* IEEE square root: one correctly rounded result on every back end, no libm. */
static inline float kn_sqrtf(float x) { return kn_f32x4_lane(kn_f32x4_sqrt(kn_f32x4_splat(x)), 0); }

static inline uint32_t kn_f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float kn_f32_from_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

#endif
