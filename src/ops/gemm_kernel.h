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

#define KN_PANEL 8   /* columns per packed panel */

/* Writes the first `cols` (1..8) columns of C; the panel's other columns are zero padding.
   bias_col: `cols` floats added to every row, or bias_row: one float per row; at most one non-NULL. */
void kn_gemm_panel(float *c, int ldc, const float *a, int lda, const float *panel, int K, int rows,
                   int cols, const float *bias_col, const float *bias_row);

#endif
