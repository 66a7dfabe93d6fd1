/* gemm.c — linear layers: y = x W^T + b over packed weight panels (gemm_kernel.h). */
#include <stdlib.h>
#include "ops.h"
#include "simd.h"
#include "gemm_kernel.h"

const char *kn_kernels_isa(void)
{
#ifdef KN_DISPATCHING
    if (__builtin_cpu_supports("avx2")) return "avx2";
#endif
    return KN_SIMD_NAME;
}

void kn_gemm_panel(float *c, int ldc, const float *a, int lda, const float *panel, int K, int rows,
                   int cols, const float *bias_col, const float *bias_row)
{
    kn_gemm_rows(c, (size_t)ldc, a, lda, rows, panel, 0, 0, NULL, K, cols, bias_col, bias_row, KN_TILE_ROWS, 1);
}

/* ---------------------------------------------------------------- linear layers */

/* packed: panel p = outputs [8p, 8p+8), K groups of 8 weights, zero beyond n_out. */
int kn_matrix_init(kn_matrix *m, const float *w, int n_out, int k_in)
{
    m->n_out = n_out, m->k_in = k_in, m->packed = NULL;
    if (n_out <= 0 || k_in <= 0) return -1;
    int panels = (n_out + KN_PANEL - 1) / KN_PANEL;
    float *packed = malloc((size_t)panels * k_in * KN_PANEL * sizeof *packed);
    if (!packed) return -1;
    for (int p = 0; p < panels; p++)
        for (int k = 0; k < k_in; k++)
            for (int j = 0; j < KN_PANEL; j++) {
                int o = p * KN_PANEL + j;
                packed[((size_t)p * k_in + k) * KN_PANEL + j] = o < n_out ? w[(size_t)o * k_in + k] : 0.0f;
            }
    m->packed = packed;
    return 0;
}

void kn_matrix_free(kn_matrix *m)
{
    free(m->packed);
    m->packed = NULL;
}

/* Rows handled together against one panel: their x rows (ROW_BLOCK * K floats) stay in L2
   while one panel (K * 8 floats) stays in L1. */
#define ROW_BLOCK 64
/* below this many multiply-adds, waking threads costs more than it saves */
#define PARALLEL_MIN_MACS (1 << 16)

typedef struct {
    float *y;
    const float *x, *bias;
    const kn_matrix *w;
    int M;
    int silu;              /* y = SiLU(y) */
    float *resid;          /* resid += gate * y (gate NULL: resid += y) */
    const float *gate;
} linear_job;

/* rows [4 * begin, 4 * end) */
static void linear_rows(void *arg, int begin, int end)
{
    const linear_job *job = arg;
    int K = job->w->k_in, N = job->w->n_out;
    int row_end = 4 * end < job->M ? 4 * end : job->M;
    for (int r0 = 4 * begin; r0 < row_end; r0 += ROW_BLOCK) {
        int rows = row_end - r0 < ROW_BLOCK ? row_end - r0 : ROW_BLOCK;
        float *y = job->y + (size_t)r0 * N;
        const float *x = job->x + (size_t)r0 * K, *bias = job->bias;
        const size_t panel_floats = (size_t)K * KN_PANEL;
        int col = 0;
        /* one-row layers (adaLN, the time embedding): four panels at a time rather than repeated rows */
        for (; rows == 1 && col + 4 * KN_PANEL <= N; col += 4 * KN_PANEL)
            kn_gemm_tile(y + col, (size_t)N, x, K, 1, job->w->packed + col / KN_PANEL * panel_floats, panel_floats,
                         0, NULL, K, 4 * KN_PANEL, bias ? bias + col : NULL, NULL, 1, 4);
        for (; col + KN_WIDE_PANELS * KN_PANEL <= N; col += KN_WIDE_PANELS * KN_PANEL)
            kn_gemm_rows(y + col, (size_t)N, x, K, rows, job->w->packed + col / KN_PANEL * panel_floats, panel_floats,
                         0, NULL, K, KN_WIDE_PANELS * KN_PANEL, bias ? bias + col : NULL, NULL, KN_WIDE_ROWS,
                         KN_WIDE_PANELS);
        for (; col < N; col += KN_PANEL)
            kn_gemm_panel(y + col, N, x, K, job->w->packed + col / KN_PANEL * panel_floats, K, rows,
                          N - col < KN_PANEL ? N - col : KN_PANEL, bias ? bias + col : NULL, NULL);
        /* the element-wise step on this row block while it is still in cache */
        if (job->silu) kn_silu(y, y, (size_t)rows * N);
        if (job->resid && job->gate) kn_add_gated(job->resid + (size_t)r0 * N, y, job->gate, rows, N);
        else if (job->resid) kn_add(job->resid + (size_t)r0 * N, y, (size_t)rows * N);
    }
}

static void run_linear(linear_job *job)
{
    int units = (job->M + 3) / 4;
    if ((double)job->M * job->w->k_in * job->w->n_out < PARALLEL_MIN_MACS) linear_rows(job, 0, units);
    else kn_parallel_for(units, linear_rows, job);
}

void kn_linear(float *y, const float *x, const kn_matrix *w, const float *bias, int M)
{
    KN_DISPATCH(kn_linear, y, x, w, bias, M);
    linear_job job = {.y = y, .x = x, .bias = bias, .w = w, .M = M};
    run_linear(&job);
}

void kn_linear_silu(float *y, const float *x, const kn_matrix *w, const float *bias, int M)
{
    KN_DISPATCH(kn_linear_silu, y, x, w, bias, M);
    linear_job job = {.y = y, .x = x, .bias = bias, .w = w, .M = M, .silu = 1};
    run_linear(&job);
}

void kn_linear_residual(float *resid, float *y, const float *x, const kn_matrix *w, const float *bias,
                        const float *gate, int M)
{
    KN_DISPATCH(kn_linear_residual, resid, y, x, w, bias, gate, M);
    linear_job job = {.y = y, .x = x, .bias = bias, .w = w, .M = M, .resid = resid, .gate = gate};
    run_linear(&job);
}

void kn_linear_ref(float *y, const float *x, const float *w, const float *bias, int M, int K, int N)
{
    for (int i = 0; i < M; i++)
        for (int o = 0; o < N; o++) {
            float acc = 0.0f;
            for (int k = 0; k < K; k++) acc += x[(size_t)i * K + k] * w[(size_t)o * K + k];
            y[(size_t)i * N + o] = bias ? acc + bias[o] : acc;
        }
}
