/* gemm.c — linear layers: y = x W^T + b over packed weight panels (gemm_kernel.h). */
#include <stdlib.h>
#include "ops.h"
#include "simd.h"
#include "gemm_kernel.h"

/* ---------------------------------------------------------------- micro-kernels (and gemm_kernel.h's) */

/* 1 row x 4 panels (32 columns): per k, 8 panel loads, 1 splat, 8 multiplies, 8 adds. For the
   one-row layers (adaLN, the time embedding), where kn_tile_4x8 would repeat the row. */
static void tile_1x32(float out[4][KN_PANEL], const float *a, const float *panel, size_t panel_floats, int K)
{
    const float *p0 = panel, *p1 = p0 + panel_floats, *p2 = p1 + panel_floats, *p3 = p2 + panel_floats;
    kn_f32x4 c00 = kn_f32x4_zero(), c01 = c00, c10 = c00, c11 = c00;
    kn_f32x4 c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (int k = 0; k < K; k++, p0 += KN_PANEL, p1 += KN_PANEL, p2 += KN_PANEL, p3 += KN_PANEL) {
        kn_f32x4 x = kn_f32x4_load32_splat(a + k);
        c00 = kn_f32x4_add(c00, kn_f32x4_mul(x, kn_f32x4_load(p0)));
        c01 = kn_f32x4_add(c01, kn_f32x4_mul(x, kn_f32x4_load(p0 + 4)));
        c10 = kn_f32x4_add(c10, kn_f32x4_mul(x, kn_f32x4_load(p1)));
        c11 = kn_f32x4_add(c11, kn_f32x4_mul(x, kn_f32x4_load(p1 + 4)));
        c20 = kn_f32x4_add(c20, kn_f32x4_mul(x, kn_f32x4_load(p2)));
        c21 = kn_f32x4_add(c21, kn_f32x4_mul(x, kn_f32x4_load(p2 + 4)));
        c30 = kn_f32x4_add(c30, kn_f32x4_mul(x, kn_f32x4_load(p3)));
        c31 = kn_f32x4_add(c31, kn_f32x4_mul(x, kn_f32x4_load(p3 + 4)));
    }
    kn_f32x4_store(out[0], c00), kn_f32x4_store(out[0] + 4, c01);
    kn_f32x4_store(out[1], c10), kn_f32x4_store(out[1] + 4, c11);
    kn_f32x4_store(out[2], c20), kn_f32x4_store(out[2] + 4, c21);
    kn_f32x4_store(out[3], c30), kn_f32x4_store(out[3] + 4, c31);
}

#ifdef KN_TILE_AVX
/* 8 rows x 8 columns: per k, 1 panel load, 8 broadcasts, 8 multiplies, 8 adds (8 chains, enough to
   keep the adder busy through its latency). */
static void tile_8x8(float out[8][KN_PANEL], const float *a, int lda, const float *panel, int K)
{
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    const float *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda;
    const float *a4 = a + 4 * lda, *a5 = a + 5 * lda, *a6 = a + 6 * lda, *a7 = a + 7 * lda;
    for (int k = 0; k < K; k++, panel += KN_PANEL) {
        __m256 b = _mm256_loadu_ps(panel);
        c0 = _mm256_add_ps(c0, _mm256_mul_ps(_mm256_broadcast_ss(a0 + k), b));
        c1 = _mm256_add_ps(c1, _mm256_mul_ps(_mm256_broadcast_ss(a1 + k), b));
        c2 = _mm256_add_ps(c2, _mm256_mul_ps(_mm256_broadcast_ss(a2 + k), b));
        c3 = _mm256_add_ps(c3, _mm256_mul_ps(_mm256_broadcast_ss(a3 + k), b));
        c4 = _mm256_add_ps(c4, _mm256_mul_ps(_mm256_broadcast_ss(a4 + k), b));
        c5 = _mm256_add_ps(c5, _mm256_mul_ps(_mm256_broadcast_ss(a5 + k), b));
        c6 = _mm256_add_ps(c6, _mm256_mul_ps(_mm256_broadcast_ss(a6 + k), b));
        c7 = _mm256_add_ps(c7, _mm256_mul_ps(_mm256_broadcast_ss(a7 + k), b));
    }
    _mm256_storeu_ps(out[0], c0), _mm256_storeu_ps(out[1], c1), _mm256_storeu_ps(out[2], c2);
    _mm256_storeu_ps(out[3], c3), _mm256_storeu_ps(out[4], c4), _mm256_storeu_ps(out[5], c5);
    _mm256_storeu_ps(out[6], c6), _mm256_storeu_ps(out[7], c7);
}
#endif

/* Adds the bias (one of the two, or none) and writes the valid columns of one tile row. */
static void finish_row(float *c, const float *acc, int cols, const float *bias_col, const float *bias_row)
{
    if (cols == KN_PANEL) {
        kn_f32x4 v0 = kn_f32x4_load(acc), v1 = kn_f32x4_load(acc + 4);
        if (bias_col) {
            v0 = kn_f32x4_add(v0, kn_f32x4_load(bias_col));
            v1 = kn_f32x4_add(v1, kn_f32x4_load(bias_col + 4));
        } else if (bias_row) {
            v0 = kn_f32x4_add(v0, kn_f32x4_splat(*bias_row));
            v1 = kn_f32x4_add(v1, kn_f32x4_splat(*bias_row));
        }
        kn_f32x4_store(c, v0), kn_f32x4_store(c + 4, v1);
        return;
    }
    for (int j = 0; j < cols; j++)
        c[j] = bias_col ? acc[j] + bias_col[j] : bias_row ? acc[j] + *bias_row : acc[j];
}

void kn_gemm_panel(float *c, int ldc, const float *a, int lda, const float *panel, int K, int rows,
                   int cols, const float *bias_col, const float *bias_row)
{
    float acc[8][KN_PANEL];
    int r = 0;
#ifdef KN_TILE_AVX
    for (; r + 8 <= rows; r += 8) {
        tile_8x8(acc, a + (size_t)r * lda, lda, panel, K);
        for (int i = 0; i < 8; i++)
            finish_row(c + (size_t)(r + i) * ldc, acc[i], cols, bias_col, bias_row ? bias_row + r + i : NULL);
    }
#endif
    for (; r + 4 <= rows; r += 4) {
        kn_tile_4x8(acc, a + (size_t)r * lda, lda, 4, panel, 0, NULL, K);
        for (int i = 0; i < 4; i++)
            finish_row(c + (size_t)(r + i) * ldc, acc[i], cols, bias_col, bias_row ? bias_row + r + i : NULL);
    }
    if (r < rows) {
        kn_tile_4x8(acc, a + (size_t)r * lda, lda, rows - r, panel, 0, NULL, K);
        for (int i = 0; r + i < rows; i++)
            finish_row(c + (size_t)(r + i) * ldc, acc[i], cols, bias_col, bias_row ? bias_row + r + i : NULL);
    }
}

#ifdef KN_TILE_AVX
/* Two adjacent full panels (16 columns) of a linear layer: 6 rows at a time, then up to 4. */
static void gemm_panel_pair(float *c, int ldc, const float *a, int lda, const float *panel, int K, int rows,
                            const float *bias)
{
    float acc[6][2 * KN_PANEL];
    const float *bias1 = bias ? bias + KN_PANEL : NULL;
    int r = 0;
    for (; r + 6 <= rows; r += 6) {
        kn_tile_x16(acc, a + (size_t)r * lda, lda, 6, panel, panel + (size_t)K * KN_PANEL, 0, NULL, K, 6);
        for (int i = 0; i < 6; i++) {
            finish_row(c + (size_t)(r + i) * ldc, acc[i], KN_PANEL, bias, NULL);
            finish_row(c + (size_t)(r + i) * ldc + KN_PANEL, acc[i] + KN_PANEL, KN_PANEL, bias1, NULL);
        }
    }
    for (; r < rows; r += 4) {
        int n = rows - r < 4 ? rows - r : 4;
        kn_tile_x16(acc, a + (size_t)r * lda, lda, n, panel, panel + (size_t)K * KN_PANEL, 0, NULL, K, 4);
        for (int i = 0; i < n; i++) {
            finish_row(c + (size_t)(r + i) * ldc, acc[i], KN_PANEL, bias, NULL);
            finish_row(c + (size_t)(r + i) * ldc + KN_PANEL, acc[i] + KN_PANEL, KN_PANEL, bias1, NULL);
        }
    }
}
#endif

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
        int col = 0;
        for (; rows == 1 && col + 4 * KN_PANEL <= N; col += 4 * KN_PANEL) {
            float acc[4][KN_PANEL];
            tile_1x32(acc, job->x + (size_t)r0 * K, job->w->packed + (size_t)(col / KN_PANEL) * K * KN_PANEL,
                      (size_t)K * KN_PANEL, K);
            for (int p = 0; p < 4; p++)
                finish_row(y + col + p * KN_PANEL, acc[p], KN_PANEL,
                           job->bias ? job->bias + col + p * KN_PANEL : NULL, NULL);
        }
#ifdef KN_TILE_AVX
        for (; col + 2 * KN_PANEL <= N; col += 2 * KN_PANEL)
            gemm_panel_pair(y + col, N, job->x + (size_t)r0 * K, K,
                            job->w->packed + (size_t)(col / KN_PANEL) * K * KN_PANEL, K, rows,
                            job->bias ? job->bias + col : NULL);
#endif
        for (; col < N; col += KN_PANEL) {
            int cols = N - col < KN_PANEL ? N - col : KN_PANEL;
            const float *panel = job->w->packed + (size_t)(col / KN_PANEL) * K * KN_PANEL;
            kn_gemm_panel(y + col, N, job->x + (size_t)r0 * K, K, panel, K,
                          rows, cols, job->bias ? job->bias + col : NULL, NULL);
        }
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
    linear_job job = {.y = y, .x = x, .bias = bias, .w = w, .M = M};
    run_linear(&job);
}

void kn_linear_silu(float *y, const float *x, const kn_matrix *w, const float *bias, int M)
{
    linear_job job = {.y = y, .x = x, .bias = bias, .w = w, .M = M, .silu = 1};
    run_linear(&job);
}

void kn_linear_residual(float *resid, float *y, const float *x, const kn_matrix *w, const float *bias,
                        const float *gate, int M)
{
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
