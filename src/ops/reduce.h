/* reduce.h — the fixed summation orders every kernel uses, so results do not depend on the build.

   A sum runs over blocks of KN_SUM_BLOCK floats; inside a block lane l of one f32x4 adds the
   elements at l, l+4, l+8, ... in turn, the lanes meet as (l0 + l2) + (l1 + l3), then the block's
   last n % 4 elements are added one by one; block sums are added in order. Blocks keep rounding
   error growing with the block count, not the length, on long group-norm sums. */
#ifndef KINETO_REDUCE_H
#define KINETO_REDUCE_H

#include <stddef.h>
#include "simd.h"

#define KN_SUM_BLOCK 1024

static inline float kn_sum_block(const float *x, int n)
{
    kn_f32x4 acc = kn_f32x4_zero();
    int i = 0;
    for (; i + 4 <= n; i += 4) acc = kn_f32x4_add(acc, kn_f32x4_load(x + i));
    float s = kn_f32x4_hsum(acc);
    for (; i < n; i++) s += x[i];
    return s;
}

static inline float kn_sum(const float *x, size_t n)
{
    float s = 0.0f;
    for (size_t i = 0; i < n; i += KN_SUM_BLOCK)
        s += kn_sum_block(x + i, n - i < KN_SUM_BLOCK ? (int)(n - i) : KN_SUM_BLOCK);
    return s;
}

/* sum of (x - mean)^2, blocked and ordered as kn_sum */
static inline float kn_sum_sq_dev_block(const float *x, int n, float mean)
{
    kn_f32x4 acc = kn_f32x4_zero(), m = kn_f32x4_splat(mean);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        kn_f32x4 d = kn_f32x4_sub(kn_f32x4_load(x + i), m);
        acc = kn_f32x4_add(acc, kn_f32x4_mul(d, d));
    }
    float s = kn_f32x4_hsum(acc);
    for (; i < n; i++) s += (x[i] - mean) * (x[i] - mean);
    return s;
}

static inline float kn_sum_sq_dev(const float *x, size_t n, float mean)
{
    float s = 0.0f;
    for (size_t i = 0; i < n; i += KN_SUM_BLOCK)
        s += kn_sum_sq_dev_block(x + i, n - i < KN_SUM_BLOCK ? (int)(n - i) : KN_SUM_BLOCK, mean);
    return s;
}

#endif
