/* timing.h — the clock and the median shared by the benchmark programs (native and emcc builds). */
#ifndef KINETO_BENCH_TIMING_H
#define KINETO_BENCH_TIMING_H

#include <stdlib.h>
#include <time.h>

/* milliseconds on the monotonic clock (needs _POSIX_C_SOURCE before the first include) */
static inline double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static inline int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* sorts v in place */
static inline double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#endif
