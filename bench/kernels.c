/* kernels.c — GFLOP/s of Kineto's GEMM and convolution kernels at the shapes the default model runs,
   beside the measured SIMD peak of the same vector width, natively and (compiled with emcc) in
   WebAssembly. Every line names the build's ISA ("isa").

     kernels THREADS... [--only TEXT]   one JSON line per figure; --only: just the shapes whose
                                        "what" contains TEXT (and the peak)

   Peak: a register-only loop of independent multiply-then-add chains (acc = acc * m + a; no fused
   multiply-add, as the engine is built), on every thread at once, in the engine's vector (simd.h's
   kn_vec): f32x8 with AVX2, else f32x4. Each figure is the median
   over REPEATS windows of the fastest call in the window; each fraction of peak is the median of
   REPEATS ratios of a kernel window to a peak window measured just before it. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "ops/simd.h"
#include "timing.h"

/* the engine's vector: f32x8 with AVX2, else f32x4 */
#define ISA KN_SIMD_NAME
typedef kn_vec peak_vec;
#define PEAK_LANES KN_VEC_LANES
#define PEAK_VECTOR (KN_VEC_LANES == 8 ? "f32x8" : "f32x4")
#define peak_splat kn_vec_splat
#define peak_mul kn_vec_mul
#define peak_add kn_vec_add
static float peak_lane0(peak_vec v) {
    float f[KN_VEC_LANES];
    kn_vec_store(f, v);
    return f[0];
}

#define REPEATS 5
#define MIN_MS 20.0

/* Milliseconds of the fastest fn(arg) call in a window of MIN_MS, after a warm-up call: on a shared
   machine the fastest call is the one no other process interrupted. */
static void time_ms(void (*fn)(void *), void *arg, double *t) {
    double start, best = 1e30;
    fn(arg);
    start = now_ms();
    for (int calls = 0; calls < 3 || now_ms() - start < MIN_MS; calls++) {
        double t0 = now_ms();
        fn(arg);
        double dt = now_ms() - t0;
        if (dt < best) best = dt;
    }
    *t = best;
}

/* ---- peak ---- */
#define PEAK_CHAINS 12 /* enough independent chains to cover mul + add latency; fits 16 registers */
#define PEAK_ITERS 200000
static volatile float peak_mul_by = 0.5f, peak_add_to = 1.0f; /* volatile: not constants the compiler folds */
volatile float peak_sink[KN_MAX_THREADS]; /* read by nobody, but volatile: the loops must run */

/* Written out chain by chain so every accumulator stays in a register (an array may be spilled). */
#define PEAK_STEP(acc) acc = peak_add(peak_mul(acc, m), a)
static void peak_chunk(void *arg, int begin, int end) {
    (void)arg;
    for (int t = begin; t < end; t++) {
        peak_vec m = peak_splat(peak_mul_by), a = peak_splat(peak_add_to);
        peak_vec a0 = peak_splat(0.f), a1 = peak_splat(1.f), a2 = peak_splat(2.f), a3 = peak_splat(3.f),
                 a4 = peak_splat(4.f), a5 = peak_splat(5.f), a6 = peak_splat(6.f), a7 = peak_splat(7.f),
                 a8 = peak_splat(8.f), a9 = peak_splat(9.f), a10 = peak_splat(10.f), a11 = peak_splat(11.f);
        for (int i = 0; i < PEAK_ITERS; i++) {
            PEAK_STEP(a0); PEAK_STEP(a1); PEAK_STEP(a2); PEAK_STEP(a3); PEAK_STEP(a4); PEAK_STEP(a5);
            PEAK_STEP(a6); PEAK_STEP(a7); PEAK_STEP(a8); PEAK_STEP(a9); PEAK_STEP(a10); PEAK_STEP(a11);
        }
        peak_vec s = peak_add(peak_add(peak_add(a0, a1), peak_add(a2, a3)), peak_add(peak_add(a4, a5), peak_add(a6, a7)));
        s = peak_add(s, peak_add(peak_add(a8, a9), peak_add(a10, a11)));
        peak_sink[t % KN_MAX_THREADS] = peak_lane0(s);
    }
}

static void peak_run(void *arg) { kn_parallel_for(*(int *)arg, peak_chunk, NULL); }
static double peak_gflops(double ms, int threads) { return 2.0 * PEAK_LANES * PEAK_CHAINS * PEAK_ITERS * threads / (ms * 1e6); }

/* GFLOP/s of fn and its fraction of the peak. The machine is shared, so the peak is re-measured
   beside every timing and the fraction is the median of those paired ratios. */
static double kernel_gflops(void (*fn)(void *), void *arg, double flops, int threads, double *of_peak) {
    double g[REPEATS], ratio[REPEATS];
    for (int r = 0; r < REPEATS; r++) {
        double pk, t;
        time_ms(peak_run, &threads, &pk);
        time_ms(fn, arg, &t);
        g[r] = flops / (t * 1e6);
        ratio[r] = g[r] / peak_gflops(pk, threads);
    }
    *of_peak = median(ratio, REPEATS);
    return median(g, REPEATS);
}

/* ---- GEMM: y (M, N) = x (M, K) @ W^T + b ---- */
typedef struct { int M, K, N; const char *what; } gemm_shape;
/* One denoiser pass of the default model: M = 16 frames x 16 tokens, dim 128, MLP 512, patch 4x4x4. */
static const gemm_shape GEMMS[] = {
    {256, 64, 128, "patch_in"}, {256, 128, 384, "attn.qkv"}, {256, 128, 128, "attn.out, cross_q, cross_out"},
    {256, 128, 512, "mlp.fc1"}, {256, 512, 128, "mlp.fc2"}, {256, 128, 64, "patch_out"},
};
typedef struct { float *y, *x, *b; kn_matrix w; int M; } gemm_job;
static void gemm_run(void *arg) {
    gemm_job *j = arg;
    kn_linear(j->y, j->x, &j->w, j->b, j->M);
}

/* ---- 3x3 convolution, CHW ---- */
typedef struct { int c_out, c_in, H, W; const char *what; } conv_shape;
/* The VAE decoder of the 64x64 model, per frame (widths 64, 48, 24 at 16, 32, 64 pixels), then the
   128x128 model's finest level (its level 3 at 16, 32, 64 pixels has the shapes above): width 16. */
static const conv_shape CONVS[] = {
    {64, 4, 16, 16, "conv_in"}, {64, 64, 16, 16, "res2"}, {48, 64, 32, 32, "up1"}, {48, 48, 32, 32, "res1"},
    {24, 48, 64, 64, "up0"}, {24, 24, 64, 64, "res0"}, {3, 24, 64, 64, "conv_out"},
    {16, 24, 128, 128, "128x128: up0"}, {16, 16, 128, 128, "128x128: res0"}, {3, 16, 128, 128, "128x128: conv_out"},
};
typedef struct { float *y, *x, *b, *scratch; kn_conv c; int H, W; } conv_job;
static void conv_run(void *arg) {
    conv_job *j = arg;
    kn_conv2d(j->y, j->x, &j->c, j->b, j->H, j->W, j->scratch);
}

static float *random_floats(size_t n, unsigned seed) {
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; p && i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
    }
    return p;
}

#ifdef __EMSCRIPTEN__
#define WHERE "wasm-node"
#else
#define WHERE "native"
#endif

static int wanted(const char *what, const char *only) { return !only || strstr(what, only); }

int main(int argc, char **argv) {
    const char *only = NULL;
    for (int a = 1; a + 1 < argc; a++)
        if (!strcmp(argv[a], "--only")) only = argv[a + 1];
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--only")) {
            a++;
            continue;
        }
        int threads = atoi(argv[a]);
        if (threads < 1 || threads > KN_MAX_THREADS) {
            fprintf(stderr, "kernels: thread count '%s' is not 1..%d\n", argv[a], KN_MAX_THREADS);
            return 2;
        }
        kn_threads_set(threads);
        double pk[REPEATS], of_peak;
        for (int r = 0; r < REPEATS; r++) time_ms(peak_run, &threads, &pk[r]);
        double peak = peak_gflops(median(pk, REPEATS), threads);
        printf("{\"kind\": \"peak\", \"where\": \"%s\", \"isa\": \"%s\", \"vector\": \"%s\", \"threads\": %d, \"gflops\": %.2f}\n",
               WHERE, ISA, PEAK_VECTOR, threads, peak);
        fflush(stdout);
        for (size_t i = 0; i < sizeof GEMMS / sizeof *GEMMS; i++) {
            const gemm_shape *s = &GEMMS[i];
            if (!wanted(s->what, only)) continue;
            float *w = random_floats((size_t)s->N * s->K, 1);
            gemm_job j = {malloc((size_t)s->M * s->N * sizeof(float)), random_floats((size_t)s->M * s->K, 2),
                          random_floats((size_t)s->N, 3), {0, 0, NULL}, s->M};
            if (!w || !j.y || !j.x || !j.b || kn_matrix_init(&j.w, w, s->N, s->K) != 0) return 1;
            double g = kernel_gflops(gemm_run, &j, 2.0 * s->M * s->K * s->N, threads, &of_peak);
            printf("{\"kind\": \"gemm\", \"where\": \"%s\", \"isa\": \"%s\", \"threads\": %d, \"shape\": \"%dx%dx%d\", \"what\": \"%s\", "
                   "\"gflops\": %.2f, \"of_peak\": %.3f}\n", WHERE, ISA, threads, s->M, s->K, s->N, s->what, g, of_peak);
            fflush(stdout);
            kn_matrix_free(&j.w);
            free(w), free(j.y), free(j.x), free(j.b);
        }
        for (size_t i = 0; i < sizeof CONVS / sizeof *CONVS; i++) {
            const conv_shape *s = &CONVS[i];
            if (!wanted(s->what, only)) continue;
            float *w = random_floats((size_t)s->c_out * s->c_in * 9, 4);
            conv_job j = {malloc((size_t)s->c_out * s->H * s->W * sizeof(float)),
                          random_floats((size_t)s->c_in * s->H * s->W, 5), random_floats((size_t)s->c_out, 6), NULL,
                          {0, 0, 0, NULL}, s->H, s->W};
            if (!w || !j.y || !j.x || !j.b || kn_conv_init(&j.c, w, s->c_out, s->c_in, 3) != 0) return 1;
            j.scratch = malloc(kn_conv_scratch_floats(&j.c, s->H, s->W) * sizeof(float) + 16);
            if (!j.scratch) return 1;
            double g = kernel_gflops(conv_run, &j, 2.0 * s->c_out * s->c_in * 9 * s->H * s->W, threads, &of_peak);
            printf("{\"kind\": \"conv3x3\", \"where\": \"%s\", \"isa\": \"%s\", \"threads\": %d, \"shape\": \"%dx%dx%dx%d\", \"what\": \"%s\", "
                   "\"gflops\": %.2f, \"of_peak\": %.3f}\n",
                   WHERE, ISA, threads, s->c_out, s->c_in, s->H, s->W, s->what, g, of_peak);
            fflush(stdout);
            kn_conv_free(&j.c);
            free(w), free(j.y), free(j.x), free(j.b), free(j.scratch);
        }
    }
    return 0;
}
