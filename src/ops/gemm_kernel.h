/* gemm_kernel.h — the register-tiled GEMM micro-kernels that linear layers and attention share.

   C (rows, 8) = A (rows, K) @ B, where B is one packed panel: K groups of 8 floats, group k holding
   row k of B's 8 columns. Each output lane accumulates its K products in order k = 0, 1, ..., from
   zero, then adds its bias: the same order as the plain triple loop, so results match it bit for bit.
   Rows come 4 at a time (8 independent f32x4 accumulators, A values splat from memory), the last
   1..3 together; a native AVX build takes 8 rows at a time in 256-bit registers, and linear layers
   6 rows by two panels, then the last 1..5 rows by two panels too; a one-row layer takes four panels
   at a time. */
#ifndef KINETO_GEMM_KERNEL_H
#define KINETO_GEMM_KERNEL_H

#include <stddef.h>
#include <stdint.h>
#include "simd.h"

#define KN_PANEL 8   /* columns per packed panel */
#define KN_ALWAYS_INLINE inline __attribute__((always_inline))

/* The tiles below read row k of B (8 floats) at b + 8k from a packed panel (linear layers), or, when
   the constant `indirect` is 1, at b + off[k] in the input itself (convolutions, conv.c). Always
   inlined, so each use compiles to one of the two loops. */

/* 4 rows x 8 columns: per k, 2 loads of B, 4 splats, 8 multiplies, 8 adds (8 independent chains).
   Rows past `rows` (1..4) repeat the last real one; their results are not to be written. */
static KN_ALWAYS_INLINE void kn_tile_4x8(float out[4][KN_PANEL], const float *a, int lda, int rows, const float *b,
                                         const int indirect, const int32_t *off, int K)
{
    const float *a0 = a, *a1 = rows > 1 ? a0 + lda : a0, *a2 = rows > 2 ? a1 + lda : a1, *a3 = rows > 3 ? a2 + lda : a2;
    kn_f32x4 c00 = kn_f32x4_zero(), c01 = c00, c10 = c00, c11 = c00;
    kn_f32x4 c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    const float *panel = b;
    for (int k = 0; k < K; k++, panel += KN_PANEL) {
        const float *bk = indirect ? b + off[k] : panel;
        kn_f32x4 b0 = kn_f32x4_load(bk), b1 = kn_f32x4_load(bk + 4);
        kn_f32x4 x = kn_f32x4_load32_splat(a0 + k);
        c00 = kn_f32x4_add(c00, kn_f32x4_mul(x, b0));
        c01 = kn_f32x4_add(c01, kn_f32x4_mul(x, b1));
        x = kn_f32x4_load32_splat(a1 + k);
        c10 = kn_f32x4_add(c10, kn_f32x4_mul(x, b0));
        c11 = kn_f32x4_add(c11, kn_f32x4_mul(x, b1));
        x = kn_f32x4_load32_splat(a2 + k);
        c20 = kn_f32x4_add(c20, kn_f32x4_mul(x, b0));
        c21 = kn_f32x4_add(c21, kn_f32x4_mul(x, b1));
        x = kn_f32x4_load32_splat(a3 + k);
        c30 = kn_f32x4_add(c30, kn_f32x4_mul(x, b0));
        c31 = kn_f32x4_add(c31, kn_f32x4_mul(x, b1));
    }
    kn_f32x4_store(out[0], c00), kn_f32x4_store(out[0] + 4, c01);
    kn_f32x4_store(out[1], c10), kn_f32x4_store(out[1] + 4, c11);
    kn_f32x4_store(out[2], c20), kn_f32x4_store(out[2] + 4, c21);
    kn_f32x4_store(out[3], c30), kn_f32x4_store(out[3] + 4, c31);
}

/* Native builds for a CPU with AVX (./build.sh native checks) also run 256-bit tiles. Lane j of row
   r's accumulator takes the same products in the same order as in kn_tile_4x8, so the results are
   the same bits; only twice as many lanes go through the adder at once. */
#if defined(KN_SIMD_SSE2) && defined(__AVX__)
#include <immintrin.h>
#define KN_TILE_AVX 1

/* R rows x 16 columns (R = 6, or 4 for the last rows): per k, 2 loads of B, R broadcasts, 2R
   multiplies and 2R adds. Columns 8..15 of row k are at b_hi + 8k (a second panel), or, indirect,
   right after the first 8. Rows past `rows` repeat the last real one. Inlined with a constant R, so
   the loops over rows unroll and the accumulators stay in registers. */
static KN_ALWAYS_INLINE void kn_tile_x16(float out[][2 * KN_PANEL], const float *a, int lda, int rows,
                                         const float *b, const float *b_hi, const int indirect, const int32_t *off,
                                         int K, const int R)
{
    __m256 c[6][2];
    const float *ar[6];
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
        c[i][0] = c[i][1] = _mm256_setzero_ps();
        ar[i] = i == 0 ? a : i < rows ? ar[i - 1] + lda : ar[i - 1];
    }
    const float *panel = b, *panel_hi = b_hi;
    for (int k = 0; k < K; k++, panel += KN_PANEL, panel_hi += KN_PANEL) {
        const float *lo = indirect ? b + off[k] : panel, *hi = indirect ? lo + KN_PANEL : panel_hi;
        __m256 b0 = _mm256_loadu_ps(lo), b1 = _mm256_loadu_ps(hi);
#pragma GCC unroll 6
        for (int i = 0; i < R; i++) {
            __m256 x = _mm256_broadcast_ss(ar[i] + k);
            c[i][0] = _mm256_add_ps(c[i][0], _mm256_mul_ps(x, b0));
            c[i][1] = _mm256_add_ps(c[i][1], _mm256_mul_ps(x, b1));
        }
    }
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) _mm256_storeu_ps(out[i], c[i][0]), _mm256_storeu_ps(out[i] + 8, c[i][1]);
}
#endif

/* Writes the first `cols` (1..8) columns of C; the panel's other columns are zero padding.
   bias_col: `cols` floats added to every row, or bias_row: one float per row; at most one non-NULL. */
void kn_gemm_panel(float *c, int ldc, const float *a, int lda, const float *panel, int K, int rows,
                   int cols, const float *bias_col, const float *bias_row);

#endif
