/* simd.h — the one vector layer Kineto's kernels are written against.

   kn_vec is the widest float vector of the target, KN_VEC_LANES lanes: 8 with AVX2 (native x86
   builds made with -mavx2), 4 with SSE2, with wasm_simd128, and as plain floats (KINETO_NO_SIMD or
   any other target). Element-wise kernels, exp and the GEMM tiles are written once against it:
   their lanes never mix, so the width changes the speed, not the bits.
   kn_f32x4 is exactly four lanes on every target, for the reductions of reduce.h: a sum's order
   is part of its bits, so it must not follow the width.

   Every operation is lane-wise IEEE single precision (no FMA), and the few that are not plain
   arithmetic (max/min, horizontal sums) are defined the same way in every back end, so a kernel
   gives the same bits whichever back end it was compiled for. */
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
#if defined(KN_SIMD_SSE2) && defined(__AVX2__)
#define KN_SIMD_AVX2 1   /* kn_vec in 256-bit registers; kn_f32x4 stays SSE (VEX-encoded) */
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
#ifdef KN_SIMD_AVX2
#define KN_SIMD_NAME "avx2"
#else
#define KN_SIMD_NAME "sse2"
#endif
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

/* ---------------------------------------------------------------- kn_vec: the target's width */
#ifdef KN_SIMD_AVX2
#include <immintrin.h>
#define KN_VEC_LANES 8
typedef __m256 kn_vec;
typedef __m256i kn_ivec;
static inline kn_vec kn_vec_load(const float *p) { return _mm256_loadu_ps(p); }
static inline void kn_vec_store(float *p, kn_vec v) { _mm256_storeu_ps(p, v); }
static inline kn_vec kn_vec_splat(float f) { return _mm256_set1_ps(f); }
static inline kn_vec kn_vec_load_splat(const float *p) { return _mm256_broadcast_ss(p); }
static inline kn_vec kn_vec_add(kn_vec a, kn_vec b) { return _mm256_add_ps(a, b); }
static inline kn_vec kn_vec_sub(kn_vec a, kn_vec b) { return _mm256_sub_ps(a, b); }
static inline kn_vec kn_vec_mul(kn_vec a, kn_vec b) { return _mm256_mul_ps(a, b); }
static inline kn_vec kn_vec_div(kn_vec a, kn_vec b) { return _mm256_div_ps(a, b); }
static inline kn_vec kn_vec_max(kn_vec a, kn_vec b) { return _mm256_max_ps(a, b); }
static inline kn_vec kn_vec_min(kn_vec a, kn_vec b) { return _mm256_min_ps(a, b); }
static inline kn_ivec kn_vec_bits(kn_vec v) { return _mm256_castps_si256(v); }
static inline kn_vec kn_ivec_as_f32(kn_ivec v) { return _mm256_castsi256_ps(v); }
static inline kn_ivec kn_ivec_splat(int32_t i) { return _mm256_set1_epi32(i); }
static inline kn_ivec kn_ivec_add(kn_ivec a, kn_ivec b) { return _mm256_add_epi32(a, b); }
static inline kn_ivec kn_ivec_sub(kn_ivec a, kn_ivec b) { return _mm256_sub_epi32(a, b); }
static inline kn_ivec kn_ivec_shl23(kn_ivec a) { return _mm256_slli_epi32(a, 23); }
static inline kn_ivec kn_ivec_sar1(kn_ivec a) { return _mm256_srai_epi32(a, 1); }
#else
#define KN_VEC_LANES 4
typedef kn_f32x4 kn_vec;
typedef kn_i32x4 kn_ivec;
static inline kn_vec kn_vec_load(const float *p) { return kn_f32x4_load(p); }
static inline void kn_vec_store(float *p, kn_vec v) { kn_f32x4_store(p, v); }
static inline kn_vec kn_vec_splat(float f) { return kn_f32x4_splat(f); }
static inline kn_vec kn_vec_load_splat(const float *p) { return kn_f32x4_load32_splat(p); }
static inline kn_vec kn_vec_add(kn_vec a, kn_vec b) { return kn_f32x4_add(a, b); }
static inline kn_vec kn_vec_sub(kn_vec a, kn_vec b) { return kn_f32x4_sub(a, b); }
static inline kn_vec kn_vec_mul(kn_vec a, kn_vec b) { return kn_f32x4_mul(a, b); }
static inline kn_vec kn_vec_div(kn_vec a, kn_vec b) { return kn_f32x4_div(a, b); }
static inline kn_vec kn_vec_max(kn_vec a, kn_vec b) { return kn_f32x4_max(a, b); }
static inline kn_vec kn_vec_min(kn_vec a, kn_vec b) { return kn_f32x4_min(a, b); }
static inline kn_ivec kn_vec_bits(kn_vec v) { return kn_f32x4_bits(v); }
static inline kn_vec kn_ivec_as_f32(kn_ivec v) { return kn_i32x4_as_f32(v); }
static inline kn_ivec kn_ivec_splat(int32_t i) { return kn_i32x4_splat(i); }
static inline kn_ivec kn_ivec_add(kn_ivec a, kn_ivec b) { return kn_i32x4_add(a, b); }
static inline kn_ivec kn_ivec_sub(kn_ivec a, kn_ivec b) { return kn_i32x4_sub(a, b); }
static inline kn_ivec kn_ivec_shl23(kn_ivec a) { return kn_i32x4_shl23(a); }
static inline kn_ivec kn_ivec_sar1(kn_ivec a) { return kn_i32x4_sar1(a); }
#endif
static inline kn_vec kn_vec_zero(void) { return kn_vec_splat(0.0f); }

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
