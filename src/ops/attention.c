/* attention.c — softmax attention for one group of queries (a frame's tokens, one position across
   frames, or the prompt's tokens for cross attention).

   It runs on the calling thread: the model calls it once per group from inside kn_parallel_for,
   and the groups are many and small (n = m = 16 with head dim 32, or 32 queries over m <= 24 keys),
   so splitting one call would cost more than it saves. */
#include <string.h>
#include "ops.h"
#include "simd.h"
#include "gemm_kernel.h"

/* 1 / sqrt(hd) as PyTorch's `* (1.0 / math.sqrt(hd))` gets it: in double, rounded once to float.
   Two Newton steps from the float estimate reach double precision without libm. */
static float attention_scale(int hd)
{
    double y = 1.0 / (double)kn_sqrtf((float)hd);
    y = y * (1.5 - 0.5 * hd * y * y);
    y = y * (1.5 - 0.5 * hd * y * y);
    return (float)y;
}

static size_t round8(int x) { return ((size_t)x + 7) / 8 * 8; }

size_t kn_attention_scratch_floats(int n, int m, int hd)
{
    if (n <= 0 || m <= 0 || hd <= 0) return 1;
    return (size_t)n * m + round8(m) * hd + (size_t)m * round8(hd);
}

/* Head h's keys as GEMM panels (gemm_kernel.h): panel g holds keys 8g..8g+7, hd groups of 8. */
static void pack_keys(float *panels, const float *k, int k_stride, int m, int hd)
{
    for (int j0 = 0; j0 < m; j0 += KN_PANEL)
        for (int d = 0; d < hd; d++)
            for (int jj = 0; jj < KN_PANEL; jj++, panels++)
                *panels = j0 + jj < m ? k[(size_t)(j0 + jj) * k_stride + d] : 0.0f;
}

/* Head h's values as panels: panel g holds dimensions 8g..8g+7 of each of the m keys. */
static void pack_values(float *panels, const float *v, int v_stride, int m, int hd)
{
    for (int d0 = 0; d0 < hd; d0 += KN_PANEL)
        for (int j = 0; j < m; j++, panels += KN_PANEL) {
            const float *src = v + (size_t)j * v_stride + d0;
            if (d0 + KN_PANEL <= hd) memcpy(panels, src, KN_PANEL * sizeof *panels);
            else for (int dd = 0; dd < KN_PANEL; dd++) panels[dd] = d0 + dd < hd ? src[dd] : 0.0f;
        }
}

/* Per head, two small GEMMs on the shared micro-kernel: scores (n, m) = Q K^T, each summed over
   d = 0, 1, ... and then scaled, as in the reference; softmax per row; out (n, hd) = P V, each
   output summed over j = 0, 1, ... */
void kn_attention(float *out, int out_stride, const float *q, int q_stride, const float *k, int k_stride,
                  const float *v, int v_stride, int n, int m, int heads, int hd, float *scratch)
{
    KN_DISPATCH(kn_attention, out, out_stride, q, q_stride, k, k_stride, v, v_stride, n, m, heads, hd, scratch);
    if (n <= 0 || m <= 0 || heads <= 0 || hd <= 0) return;
    const float scale = attention_scale(hd);
    const kn_vec scale_vec = kn_vec_splat(scale);
    float *scores = scratch, *keys = scores + (size_t)n * m, *values = keys + round8(m) * hd;
    for (int h = 0; h < heads; h++) {
        pack_keys(keys, k + h * hd, k_stride, m, hd);
        pack_values(values, v + h * hd, v_stride, m, hd);
        for (int j0 = 0; j0 < m; j0 += KN_PANEL)
            kn_gemm_panel(scores + j0, m, q + h * hd, q_stride, keys + (size_t)j0 * hd, hd, n,
                          m - j0 < KN_PANEL ? m - j0 : KN_PANEL, NULL, NULL);
        for (int i = 0; i < n; i++) {
            float *row = scores + (size_t)i * m;
            int j = 0;
            for (; j + KN_VEC_LANES <= m; j += KN_VEC_LANES)
                kn_vec_store(row + j, kn_vec_mul(kn_vec_load(row + j), scale_vec));
            for (; j < m; j++) row[j] *= scale;
            kn_softmax(row, m);
        }
        for (int d0 = 0; d0 < hd; d0 += KN_PANEL)
            kn_gemm_panel(out + h * hd + d0, out_stride, scores, m, values + (size_t)d0 * m, m, n,
                          hd - d0 < KN_PANEL ? hd - d0 : KN_PANEL, NULL, NULL);
    }
}

/* Recomputes each score where it needs it rather than store them: plain loops, no allocation. */
static float score_ref(const float *qi, const float *k, int k_stride, int j, int h, int hd, float scale)
{
    const float *kj = k + (size_t)j * k_stride + h * hd;
    float dot = 0.0f;
    for (int d = 0; d < hd; d++) dot += qi[d] * kj[d];
    return dot * scale;
}

void kn_attention_ref(float *out, int out_stride, const float *q, int q_stride, const float *k, int k_stride,
                      const float *v, int v_stride, int n, int m, int heads, int hd)
{
    if (n <= 0 || m <= 0 || heads <= 0 || hd <= 0) return;
    float scale = attention_scale(hd);
    for (int h = 0; h < heads; h++)
        for (int i = 0; i < n; i++) {
            const float *qi = q + (size_t)i * q_stride + h * hd;
            float max = score_ref(qi, k, k_stride, 0, h, hd, scale), sum = 0.0f;
            for (int j = 1; j < m; j++) {
                float s = score_ref(qi, k, k_stride, j, h, hd, scale);
                if (s > max) max = s;
            }
            for (int j = 0; j < m; j++) sum += kn_expf(score_ref(qi, k, k_stride, j, h, hd, scale) - max);
            for (int d = 0; d < hd; d++) {
                float acc = 0.0f;
                for (int j = 0; j < m; j++) {
                    float p = kn_expf(score_ref(qi, k, k_stride, j, h, hd, scale) - max) / sum;
                    acc += p * v[(size_t)j * v_stride + h * hd + d];
                }
                out[(size_t)i * out_stride + h * hd + d] = acc;
            }
        }
}
