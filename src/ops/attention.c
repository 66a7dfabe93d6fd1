/* attention.c — softmax attention for one group of queries (a frame's tokens, one position across
   frames, or the prompt's tokens for cross attention).

   It runs on the calling thread: the model calls it once per group from inside kn_parallel_for,
   and the groups are many and small (n = m = 16 with head dim 32, or n = 256 over m <= 24 keys),
   so splitting one call would cost more than it saves. */
#include "ops.h"
#include "simd.h"
#include "reduce.h"

/* 1 / sqrt(hd) as PyTorch's `* (1.0 / math.sqrt(hd))` gets it: in double, rounded once to float.
   Two Newton steps from the float estimate reach double precision without libm. */
static float attention_scale(int hd)
{
    double y = 1.0 / (double)kn_sqrtf((float)hd);
    y = y * (1.5 - 0.5 * hd * y * y);
    y = y * (1.5 - 0.5 * hd * y * y);
    return (float)y;
}

/* scores[j] = (q . k_j) * scale for 4 keys at once, each in kn_dot's order */
static void score_4_keys(float *scores, const float *q, const float *k0, int k_stride, int hd, float scale)
{
    const float *k1 = k0 + k_stride, *k2 = k1 + k_stride, *k3 = k2 + k_stride;
    kn_f32x4 a0 = kn_f32x4_zero(), a1 = a0, a2 = a0, a3 = a0;
    int d = 0;
    for (; d + 4 <= hd; d += 4) {
        kn_f32x4 qv = kn_f32x4_load(q + d);
        a0 = kn_f32x4_add(a0, kn_f32x4_mul(qv, kn_f32x4_load(k0 + d)));
        a1 = kn_f32x4_add(a1, kn_f32x4_mul(qv, kn_f32x4_load(k1 + d)));
        a2 = kn_f32x4_add(a2, kn_f32x4_mul(qv, kn_f32x4_load(k2 + d)));
        a3 = kn_f32x4_add(a3, kn_f32x4_mul(qv, kn_f32x4_load(k3 + d)));
    }
    float s0 = kn_f32x4_hsum(a0), s1 = kn_f32x4_hsum(a1), s2 = kn_f32x4_hsum(a2), s3 = kn_f32x4_hsum(a3);
    for (; d < hd; d++) s0 += q[d] * k0[d], s1 += q[d] * k1[d], s2 += q[d] * k2[d], s3 += q[d] * k3[d];
    scores[0] = s0 * scale, scores[1] = s1 * scale, scores[2] = s2 * scale, scores[3] = s3 * scale;
}

/* out (hd) = sum_j p_j v_j, each element summed over j = 0, 1, ... from zero */
static void weighted_sum(float *out, const float *p, const float *v, int v_stride, int m, int hd)
{
    int d = 0;
    for (; d + 32 <= hd; d += 32) {   /* 8 independent accumulators */
        kn_f32x4 a0 = kn_f32x4_zero(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        const float *vj = v + d;
        for (int j = 0; j < m; j++, vj += v_stride) {
            kn_f32x4 w = kn_f32x4_load32_splat(p + j);
            a0 = kn_f32x4_add(a0, kn_f32x4_mul(w, kn_f32x4_load(vj)));
            a1 = kn_f32x4_add(a1, kn_f32x4_mul(w, kn_f32x4_load(vj + 4)));
            a2 = kn_f32x4_add(a2, kn_f32x4_mul(w, kn_f32x4_load(vj + 8)));
            a3 = kn_f32x4_add(a3, kn_f32x4_mul(w, kn_f32x4_load(vj + 12)));
            a4 = kn_f32x4_add(a4, kn_f32x4_mul(w, kn_f32x4_load(vj + 16)));
            a5 = kn_f32x4_add(a5, kn_f32x4_mul(w, kn_f32x4_load(vj + 20)));
            a6 = kn_f32x4_add(a6, kn_f32x4_mul(w, kn_f32x4_load(vj + 24)));
            a7 = kn_f32x4_add(a7, kn_f32x4_mul(w, kn_f32x4_load(vj + 28)));
        }
        kn_f32x4_store(out + d, a0), kn_f32x4_store(out + d + 4, a1);
        kn_f32x4_store(out + d + 8, a2), kn_f32x4_store(out + d + 12, a3);
        kn_f32x4_store(out + d + 16, a4), kn_f32x4_store(out + d + 20, a5);
        kn_f32x4_store(out + d + 24, a6), kn_f32x4_store(out + d + 28, a7);
    }
    for (; d + 4 <= hd; d += 4) {
        kn_f32x4 a = kn_f32x4_zero();
        for (int j = 0; j < m; j++) a = kn_f32x4_add(a, kn_f32x4_mul(kn_f32x4_load32_splat(p + j), kn_f32x4_load(v + (size_t)j * v_stride + d)));
        kn_f32x4_store(out + d, a);
    }
    for (; d < hd; d++) {
        float a = 0.0f;
        for (int j = 0; j < m; j++) a += p[j] * v[(size_t)j * v_stride + d];
        out[d] = a;
    }
}

void kn_attention(float *out, int out_stride, const float *q, int q_stride, const float *k, int k_stride,
                  const float *v, int v_stride, int n, int m, int heads, int hd, float *scratch)
{
    if (n <= 0 || m <= 0 || heads <= 0 || hd <= 0) return;
    float scale = attention_scale(hd);
    float *scores = scratch;   /* (m) */
    for (int h = 0; h < heads; h++)
        for (int i = 0; i < n; i++) {
            const float *qi = q + (size_t)i * q_stride + h * hd;
            const float *kh = k + h * hd;
            int j = 0;
            for (; j + 4 <= m; j += 4) score_4_keys(scores + j, qi, kh + (size_t)j * k_stride, k_stride, hd, scale);
            for (; j < m; j++) scores[j] = kn_dot(qi, kh + (size_t)j * k_stride, hd) * scale;
            kn_softmax(scores, m);
            weighted_sum(out + (size_t)i * out_stride + h * hd, scores, v + h * hd, v_stride, m, hd);
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
