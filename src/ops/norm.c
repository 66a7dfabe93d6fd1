/* norm.c — layer norm, group norm (+ SiLU) and adaLN modulation.
   Statistics as PyTorch defines them: mean, then the biased variance as the mean of squared
   deviations from it; summed in reduce.h's fixed order. */
#include "ops.h"
#include "simd.h"
#include "mathf.h"
#include "reduce.h"

/* y = ((x - mean) * rstd) * gamma + beta over n floats; gamma/beta: per element, or NULL. */
static void normalize_span(float *y, const float *x, int n, float mean, float rstd,
                           const float *gamma, const float *beta)
{
    kn_vec m = kn_vec_splat(mean), r = kn_vec_splat(rstd);
    int i = 0;
    for (; i + KN_VEC_LANES <= n; i += KN_VEC_LANES) {
        kn_vec v = kn_vec_mul(kn_vec_sub(kn_vec_load(x + i), m), r);
        if (gamma) v = kn_vec_mul(v, kn_vec_load(gamma + i));
        if (beta) v = kn_vec_add(v, kn_vec_load(beta + i));
        kn_vec_store(y + i, v);
    }
    for (; i < n; i++) {
        float v = (x[i] - mean) * rstd;
        if (gamma) v *= gamma[i];
        if (beta) v += beta[i];
        y[i] = v;
    }
}

/* the same with one gamma and beta for the whole span (a group-norm channel), then SiLU */
static void normalize_channel(float *y, const float *x, int n, float mean, float rstd,
                              float gamma, float beta, int silu)
{
    kn_vec m = kn_vec_splat(mean), r = kn_vec_splat(rstd), g = kn_vec_splat(gamma), b = kn_vec_splat(beta);
    int i = 0;
    for (; i + KN_VEC_LANES <= n; i += KN_VEC_LANES) {
        kn_vec v = kn_vec_add(kn_vec_mul(kn_vec_mul(kn_vec_sub(kn_vec_load(x + i), m), r), g), b);
        kn_vec_store(y + i, silu ? kn_vec_silu(v) : v);
    }
    for (; i < n; i++) {
        float v = (x[i] - mean) * rstd * gamma + beta;
        y[i] = silu ? v / (1.0f + kn_expf(0.0f - v)) : v;
    }
}

/* mean and 1/std of n floats, the statistics every norm here starts from */
static void span_stats(const float *x, size_t n, float eps, float *mean, float *rstd)
{
    *mean = kn_sum(x, n) / (float)n;
    *rstd = 1.0f / kn_sqrtf(kn_sum_sq_dev(x, n, *mean) / (float)n + eps);
}

/* span_stats of 4 rows of D <= KN_SUM_BLOCK floats, each in kn_sum's order, the four rows'
   dependency chains interleaved so that they overlap */
static void row_stats_4(const float *x, int D, float eps, float mean[4], float rstd[4])
{
    kn_f32x4 acc[4];
    float s[4];
    int i;
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++) acc[r] = kn_f32x4_zero();
    for (i = 0; i + 4 <= D; i += 4)
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++) acc[r] = kn_f32x4_add(acc[r], kn_f32x4_load(x + (size_t)r * D + i));
    for (int r = 0; r < 4; r++) {
        s[r] = kn_f32x4_hsum(acc[r]);
        for (int j = i; j < D; j++) s[r] += x[(size_t)r * D + j];
        mean[r] = (0.0f + s[r]) / (float)D;
        acc[r] = kn_f32x4_zero();
    }
    for (i = 0; i + 4 <= D; i += 4)
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++) {
            kn_f32x4 d = kn_f32x4_sub(kn_f32x4_load(x + (size_t)r * D + i), kn_f32x4_splat(mean[r]));
            acc[r] = kn_f32x4_add(acc[r], kn_f32x4_mul(d, d));
        }
    for (int r = 0; r < 4; r++) {
        s[r] = kn_f32x4_hsum(acc[r]);
        for (int j = i; j < D; j++) {
            float d = x[(size_t)r * D + j] - mean[r];
            s[r] += d * d;
        }
        rstd[r] = 1.0f / kn_sqrtf((0.0f + s[r]) / (float)D + eps);
    }
}

typedef struct {
    float *y;
    const float *x, *gamma, *beta;
    const float *shift, *scale;   /* adaLN's, per element; when set, gamma and beta are NULL */
    int D, C, HW, groups, silu;
    float eps;
} norm_job;

/* ((x - mean) * rstd) * (1 + scale) + shift: normalize_span without gamma/beta, then kn_modulate_ref */
static void normalize_modulate_span(float *y, const float *x, int n, float mean, float rstd,
                                    const float *shift, const float *scale)
{
    kn_vec m = kn_vec_splat(mean), r = kn_vec_splat(rstd), one = kn_vec_splat(1.0f);
    int i = 0;
    for (; i + KN_VEC_LANES <= n; i += KN_VEC_LANES) {
        kn_vec v = kn_vec_mul(kn_vec_sub(kn_vec_load(x + i), m), r);
        kn_vec s = kn_vec_add(one, kn_vec_load(scale + i));
        kn_vec_store(y + i, kn_vec_add(kn_vec_mul(v, s), kn_vec_load(shift + i)));
    }
    for (; i < n; i++) {
        float v = (x[i] - mean) * rstd;
        y[i] = v * (1.0f + scale[i]) + shift[i];
    }
}

/* one row of layer norm from its statistics: adaLN's shift/scale when set, else gamma/beta */
static void normalize_row(const norm_job *job, int i, float mean, float rstd)
{
    const float *x = job->x + (size_t)i * job->D;
    float *y = job->y + (size_t)i * job->D;
    if (job->scale) normalize_modulate_span(y, x, job->D, mean, rstd, job->shift, job->scale);
    else normalize_span(y, x, job->D, mean, rstd, job->gamma, job->beta);
}

static void layer_norm_rows(void *arg, int begin, int end)
{
    const norm_job *job = arg;
    int i = begin;
    for (; job->D <= KN_SUM_BLOCK && i + 4 <= end; i += 4) {
        float mean[4], rstd[4];
        row_stats_4(job->x + (size_t)i * job->D, job->D, job->eps, mean, rstd);
        for (int r = 0; r < 4; r++) normalize_row(job, i + r, mean[r], rstd[r]);
    }
    for (; i < end; i++) {
        float mean, rstd;
        span_stats(job->x + (size_t)i * job->D, job->D, job->eps, &mean, &rstd);
        normalize_row(job, i, mean, rstd);
    }
}

/* below this many elements a row loop is not worth waking threads for */
#define PARALLEL_MIN_ELEMENTS 16384

void kn_layer_norm(float *y, const float *x, const float *gamma, const float *beta, int M, int D, float eps)
{
    KN_DISPATCH(kn_layer_norm, y, x, gamma, beta, M, D, eps);
    norm_job job = {.y = y, .x = x, .gamma = gamma, .beta = beta, .D = D, .eps = eps};
    if ((size_t)M * D < PARALLEL_MIN_ELEMENTS) layer_norm_rows(&job, 0, M);
    else kn_parallel_for(M, layer_norm_rows, &job);
}

void kn_layer_norm_modulate(float *y, const float *x, const float *shift, const float *scale, int M, int D,
                            float eps)
{
    KN_DISPATCH(kn_layer_norm_modulate, y, x, shift, scale, M, D, eps);
    norm_job job = {.y = y, .x = x, .shift = shift, .scale = scale, .D = D, .eps = eps};
    if ((size_t)M * D < PARALLEL_MIN_ELEMENTS) layer_norm_rows(&job, 0, M);
    else kn_parallel_for(M, layer_norm_rows, &job);
}

void kn_layer_norm_ref(float *y, const float *x, const float *gamma, const float *beta, int M, int D, float eps)
{
    for (int i = 0; i < M; i++) {
        const float *row = x + (size_t)i * D;
        float sum = 0.0f, sq = 0.0f;
        for (int d = 0; d < D; d++) sum += row[d];
        float mean = sum / (float)D;
        for (int d = 0; d < D; d++) sq += (row[d] - mean) * (row[d] - mean);
        float sd = kn_sqrtf(sq / (float)D + eps);
        for (int d = 0; d < D; d++) {
            float v = (row[d] - mean) / sd;
            y[(size_t)i * D + d] = v * (gamma ? gamma[d] : 1.0f) + (beta ? beta[d] : 0.0f);
        }
    }
}

static void group_norm_groups(void *arg, int begin, int end)
{
    const norm_job *job = arg;
    int per_group = job->C / job->groups;
    size_t count = (size_t)per_group * job->HW;
    for (int g = begin; g < end; g++) {
        const float *x = job->x + (size_t)g * count;
        float mean, rstd;
        span_stats(x, count, job->eps, &mean, &rstd);
        for (int c = g * per_group; c < (g + 1) * per_group; c++)
            normalize_channel(job->y + (size_t)c * job->HW, job->x + (size_t)c * job->HW, job->HW, mean, rstd,
                              job->gamma ? job->gamma[c] : 1.0f, job->beta ? job->beta[c] : 0.0f, job->silu);
    }
}

void kn_group_norm(float *y, const float *x, const float *gamma, const float *beta,
                   int C, int HW, int groups, float eps, int silu)
{
    KN_DISPATCH(kn_group_norm, y, x, gamma, beta, C, HW, groups, eps, silu);
    if (groups <= 0 || C % groups != 0) return;   /* the loader checks the shapes; never trap */
    norm_job job = {.y = y, .x = x, .gamma = gamma, .beta = beta, .C = C, .HW = HW, .groups = groups,
                    .silu = silu, .eps = eps};
    if ((size_t)C * HW < PARALLEL_MIN_ELEMENTS) group_norm_groups(&job, 0, groups);
    else kn_parallel_for(groups, group_norm_groups, &job);
}

void kn_group_norm_ref(float *y, const float *x, const float *gamma, const float *beta,
                       int C, int HW, int groups, float eps, int silu)
{
    if (groups <= 0 || C % groups != 0) return;
    size_t count = (size_t)(C / groups) * HW;
    for (int g = 0; g < groups; g++) {
        const float *gx = x + g * count;
        float sum = 0.0f, sq = 0.0f;
        for (size_t i = 0; i < count; i++) sum += gx[i];
        float mean = sum / (float)count;
        for (size_t i = 0; i < count; i++) sq += (gx[i] - mean) * (gx[i] - mean);
        float sd = kn_sqrtf(sq / (float)count + eps);
        for (size_t i = 0; i < count; i++) {
            int c = (int)(g * (count / HW) + i / HW);
            float v = (gx[i] - mean) / sd * (gamma ? gamma[c] : 1.0f) + (beta ? beta[c] : 0.0f);
            y[g * count + i] = silu ? v / (1.0f + kn_expf(-v)) : v;
        }
    }
}

void kn_modulate_ref(float *y, const float *x, const float *shift, const float *scale, int M, int D)
{
    for (int i = 0; i < M; i++)
        for (int d = 0; d < D; d++) y[(size_t)i * D + d] = x[(size_t)i * D + d] * (1.0f + scale[d]) + shift[d];
}
