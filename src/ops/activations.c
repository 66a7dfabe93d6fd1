/* activations.c — element-wise kernels: SiLU, softmax, residual adds, nearest upsampling. */
#include <string.h>
#include "ops.h"
#include "simd.h"
#include "mathf.h"
#include "reduce.h"

/* x / (1 + exp(-x)), PyTorch's formula; exp overflows to inf for x < -89 and gives -0. */
void kn_silu(float *y, const float *x, size_t n)
{
    kn_f32x4 one = kn_f32x4_splat(1.0f), zero = kn_f32x4_zero();
    size_t i = 0;
#ifdef KN_EXP_AVX2
    for (; i + 8 <= n; i += 8) {   /* the denoiser's MLP spends a few percent of a step here */
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 e = kn_f32x8_exp(_mm256_sub_ps(_mm256_setzero_ps(), v));
        _mm256_storeu_ps(y + i, _mm256_div_ps(v, _mm256_add_ps(_mm256_set1_ps(1.0f), e)));
    }
#endif
    for (; i + 4 <= n; i += 4) {
        kn_f32x4 v = kn_f32x4_load(x + i);
        kn_f32x4_store(y + i, kn_f32x4_div(v, kn_f32x4_add(one, kn_f32x4_exp(kn_f32x4_sub(zero, v)))));
    }
    for (; i < n; i++) y[i] = x[i] / (1.0f + kn_expf(0.0f - x[i]));
}

void kn_silu_ref(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = x[i] / (1.0f + kn_expf(-x[i]));
}

/* exp(x - max) / sum, the sum in reduce.h's order */
void kn_softmax(float *x, int n)
{
    if (n <= 0) return;
    int i = 0;
    float max = x[0];
    if (n >= 4) {
        kn_f32x4 mv = kn_f32x4_load(x);
        for (i = 4; i + 4 <= n; i += 4) mv = kn_f32x4_max(mv, kn_f32x4_load(x + i));
        max = kn_f32x4_hmax(mv);
    }
    for (; i < n; i++) max = kn_maxf(max, x[i]);

    kn_f32x4 m = kn_f32x4_splat(max);
    i = 0;
#ifdef KN_EXP_AVX2
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(x + i, kn_f32x8_exp(_mm256_sub_ps(_mm256_loadu_ps(x + i), _mm256_set1_ps(max))));
#endif
    for (; i + 4 <= n; i += 4) kn_f32x4_store(x + i, kn_f32x4_exp(kn_f32x4_sub(kn_f32x4_load(x + i), m)));
    for (; i < n; i++) x[i] = kn_expf(x[i] - max);

    float sum = kn_sum(x, (size_t)n);
    kn_f32x4 s = kn_f32x4_splat(sum);
    for (i = 0; i + 4 <= n; i += 4) kn_f32x4_store(x + i, kn_f32x4_div(kn_f32x4_load(x + i), s));
    for (; i < n; i++) x[i] /= sum;
}

void kn_softmax_ref(float *x, int n)
{
    if (n <= 0) return;
    float max = x[0], sum = 0.0f;
    for (int i = 1; i < n; i++) if (x[i] > max) max = x[i];
    for (int i = 0; i < n; i++) sum += x[i] = kn_expf(x[i] - max);
    for (int i = 0; i < n; i++) x[i] /= sum;
}

void kn_add(float *y, const float *x, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) kn_f32x4_store(y + i, kn_f32x4_add(kn_f32x4_load(y + i), kn_f32x4_load(x + i)));
    for (; i < n; i++) y[i] += x[i];
}

void kn_add_gated(float *y, const float *x, const float *gate, int M, int D)
{
    for (int r = 0; r < M; r++) {
        float *yr = y + (size_t)r * D;
        const float *xr = x + (size_t)r * D;
        int d = 0;
        for (; d + 4 <= D; d += 4)
            kn_f32x4_store(yr + d, kn_f32x4_add(kn_f32x4_load(yr + d),
                                                kn_f32x4_mul(kn_f32x4_load(gate + d), kn_f32x4_load(xr + d))));
        for (; d < D; d++) yr[d] += gate[d] * xr[d];
    }
}

void kn_upsample2x(float *y, const float *x, int C, int H, int W)
{
    for (int c = 0; c < C; c++)
        for (int i = 0; i < H; i++) {
            const float *src = x + ((size_t)c * H + i) * W;
            float *dst = y + ((size_t)c * 2 * H + 2 * i) * 2 * W;
            for (int j = 0; j < W; j++) dst[2 * j] = dst[2 * j + 1] = src[j];
            memcpy(dst + 2 * W, dst, (size_t)2 * W * sizeof *dst);
        }
}
