/* activations.c — element-wise kernels: SiLU, softmax, residual adds, nearest upsampling. */
#include <string.h>
#include "ops.h"
#include "simd.h"
#include "mathf.h"
#include "reduce.h"

/* x / (1 + exp(-x)), PyTorch's formula; exp overflows to inf for x < -89 and gives -0. */
void kn_silu(float *y, const float *x, size_t n)
{
    KN_DISPATCH(kn_silu, y, x, n);
    size_t i = 0;
    for (; i + KN_VEC_LANES <= n; i += KN_VEC_LANES) kn_vec_store(y + i, kn_vec_silu(kn_vec_load(x + i)));
    for (; i < n; i++) y[i] = x[i] / (1.0f + kn_expf(0.0f - x[i]));
}

void kn_silu_ref(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = x[i] / (1.0f + kn_expf(-x[i]));
}

/* exp(x - max) / sum; the max and the sum in reduce.h's four-lane order */
void kn_softmax(float *x, int n)
{
    KN_DISPATCH(kn_softmax, x, n);
    if (n <= 0) return;
    int i = 0;
    float max = x[0];
    if (n >= 4) {
        kn_f32x4 mv = kn_f32x4_load(x);
        for (i = 4; i + 4 <= n; i += 4) mv = kn_f32x4_max(mv, kn_f32x4_load(x + i));
        max = kn_f32x4_hmax(mv);
    }
    for (; i < n; i++) max = kn_maxf(max, x[i]);

    kn_vec m = kn_vec_splat(max);
    for (i = 0; i + KN_VEC_LANES <= n; i += KN_VEC_LANES)
        kn_vec_store(x + i, kn_vec_exp(kn_vec_sub(kn_vec_load(x + i), m)));
    for (; i < n; i++) x[i] = kn_expf(x[i] - max);

    float sum = kn_sum(x, (size_t)n);
    kn_vec s = kn_vec_splat(sum);
    for (i = 0; i + KN_VEC_LANES <= n; i += KN_VEC_LANES) kn_vec_store(x + i, kn_vec_div(kn_vec_load(x + i), s));
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
    KN_DISPATCH(kn_add, y, x, n);
    size_t i = 0;
    for (; i + KN_VEC_LANES <= n; i += KN_VEC_LANES)
        kn_vec_store(y + i, kn_vec_add(kn_vec_load(y + i), kn_vec_load(x + i)));
    for (; i < n; i++) y[i] += x[i];
}

void kn_add_gated(float *y, const float *x, const float *gate, int M, int D)
{
    KN_DISPATCH(kn_add_gated, y, x, gate, M, D);
    for (int r = 0; r < M; r++) {
        float *yr = y + (size_t)r * D;
        const float *xr = x + (size_t)r * D;
        int d = 0;
        for (; d + KN_VEC_LANES <= D; d += KN_VEC_LANES)
            kn_vec_store(yr + d, kn_vec_add(kn_vec_load(yr + d), kn_vec_mul(kn_vec_load(gate + d), kn_vec_load(xr + d))));
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
