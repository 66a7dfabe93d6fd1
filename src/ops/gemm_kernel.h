/* gemm_kernel.h — the register-tiled GEMM that linear layers, convolutions and attention share.

   C (rows, cols) = A (rows, K) @ B + bias, where B is P panels of KN_PANEL columns. Row k of panel p
   is at b + p * panel_stride + 8k in packed weights (linear layers, attention), or, when the
   constant `indirect` is 1, at b + off[k] + 8p in the input itself (convolutions, conv.c). Each
   output lane accumulates its K products in order k = 0, 1, ..., from zero, then adds its bias: the
   order of the plain triple loop, so every tile shape and vector width gives the same bits.

   A tile is R rows x P panels held in R * P * KN_PANEL_VECS vector accumulators. Per k it loads P
   rows of B, broadcasts R values of A, and does one multiply and one add per accumulator; the
   shapes below keep 8 to 12 accumulators, enough independent chains to hide the adder's latency,
   with the loads in the rest of 16 registers. (A one-row layer's 1 x 4 panels has fewer with 8
   lanes; reading its weights bounds it anyway.) */
#ifndef KINETO_GEMM_KERNEL_H
#define KINETO_GEMM_KERNEL_H

#include <stddef.h>
#include <stdint.h>
#include "simd.h"

#define KN_PANEL 8                                 /* columns per packed panel */
#define KN_PANEL_VECS (KN_PANEL / KN_VEC_LANES)    /* vectors per panel row: 1 (AVX2) or 2 */
#define KN_TILE_ROWS (8 / KN_PANEL_VECS)           /* rows of a one-panel tile: 8 accumulators */
/* The tile for full panels of linear layers and convolutions: 6 rows x 2 panels (12 accumulators)
   with 8 lanes, 4 rows x 1 panel (8) with 4. */
#if KN_VEC_LANES == 8
#define KN_WIDE_PANELS 2
#define KN_WIDE_ROWS 6
#else
#define KN_WIDE_PANELS 1
#define KN_WIDE_ROWS 4
#endif
#define KN_ALWAYS_INLINE inline __attribute__((always_inline))
/* Unrolls a loop over a tile's rows or vectors completely, so that its accumulators are registers,
   not an array in memory. Under clang (Emscripten) GCC's pragma left these loops rolled. */
#ifdef __clang__
#define KN_UNROLL _Pragma("clang loop unroll(full)")
#else
#define KN_UNROLL _Pragma("GCC unroll 8")
#endif

/* One tile: C rows [0, rows) (rows <= R; rows past them repeat the last real one and are not
   written), columns [0, cols) of the P panels (cols <= 8P). bias_col: one float per column, or
   bias_row: one per row; at most one non-NULL. Always inlined with constant R, P and indirect, so
   the loops unroll and the accumulators stay in registers. */
static KN_ALWAYS_INLINE void kn_gemm_tile(float *c, size_t ldc, const float *a, int lda, int rows,
                                          const float *b, size_t panel_stride, const int indirect,
                                          const int32_t *off, int K, int cols, const float *bias_col,
                                          const float *bias_row, const int R, const int P)
{
    kn_vec acc[8][4 * KN_PANEL_VECS];   /* R <= 8, P <= 4 */
    const float *ar[8];
    KN_UNROLL
    for (int i = 0; i < R; i++) {
        ar[i] = i == 0 ? a : i < rows ? ar[i - 1] + lda : ar[i - 1];
        KN_UNROLL
        for (int j = 0; j < P * KN_PANEL_VECS; j++) acc[i][j] = kn_vec_zero();
    }
    const float *packed_row = b;
    for (int k = 0; k < K; k++, packed_row += KN_PANEL) {
        const float *row = indirect ? b + off[k] : packed_row;
        kn_vec bk[4 * KN_PANEL_VECS];
        KN_UNROLL
        for (int j = 0; j < P * KN_PANEL_VECS; j++) {
            int p = j / KN_PANEL_VECS, lane0 = j % KN_PANEL_VECS * KN_VEC_LANES;
            bk[j] = kn_vec_load(row + (indirect ? (size_t)p * KN_PANEL : p * panel_stride) + lane0);
        }
        KN_UNROLL
        for (int i = 0; i < R; i++) {
            kn_vec x = kn_vec_load_splat(ar[i] + k);
            KN_UNROLL
            for (int j = 0; j < P * KN_PANEL_VECS; j++) acc[i][j] = kn_vec_add(acc[i][j], kn_vec_mul(x, bk[j]));
        }
    }
    KN_UNROLL
    for (int i = 0; i < R; i++) {
        if (i >= rows) continue;   /* not break: a constant trip count, so the loop unrolls */
        float *ci = c + i * ldc;
        KN_UNROLL
        for (int j = 0; j < P * KN_PANEL_VECS; j++) {
            int c0 = j * KN_VEC_LANES;
            if (c0 + KN_VEC_LANES <= cols) {
                kn_vec v = acc[i][j];
                if (bias_col) v = kn_vec_add(v, kn_vec_load(bias_col + c0));
                else if (bias_row) v = kn_vec_add(v, kn_vec_splat(bias_row[i]));
                kn_vec_store(ci + c0, v);
            } else {   /* a panel's padding columns, not written */
                float t[KN_VEC_LANES];
                kn_vec_store(t, acc[i][j]);
                for (int l = 0; c0 + l < cols; l++)
                    ci[c0 + l] = bias_col ? t[l] + bias_col[c0 + l] : bias_row ? t[l] + bias_row[i] : t[l];
            }
        }
    }
}

/* All `rows` rows in tiles of R; the last 1..R-1 rows in one more tile of R, or of 4 when they fit
   in 4 (so one instance of the tile when R is 4). Arguments as kn_gemm_tile's. */
static KN_ALWAYS_INLINE void kn_gemm_rows(float *c, size_t ldc, const float *a, int lda, int rows,
                                          const float *b, size_t panel_stride, const int indirect,
                                          const int32_t *off, int K, int cols, const float *bias_col,
                                          const float *bias_row, const int R, const int P)
{
    for (int r = 0; r < rows; r += R) {
        int n = rows - r < R ? rows - r : R;
        const float *row_bias = bias_row ? bias_row + r : NULL;
        if (R > 4 && n <= 4)
            kn_gemm_tile(c + r * ldc, ldc, a + (size_t)r * lda, lda, n, b, panel_stride, indirect, off, K, cols,
                         bias_col, row_bias, 4, P);
        else
            kn_gemm_tile(c + r * ldc, ldc, a + (size_t)r * lda, lda, n, b, panel_stride, indirect, off, K, cols,
                         bias_col, row_bias, R, P);
    }
}

/* C (rows, cols) from one packed panel (K groups of 8 floats), cols 1..8; the panel's other
   columns are zero padding. Bias as kn_gemm_tile's. */
void kn_gemm_panel(float *c, int ldc, const float *a, int lda, const float *panel, int K, int rows,
                   int cols, const float *bias_col, const float *bias_row);

#endif
