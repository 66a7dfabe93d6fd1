/* test_ops.c — every fast kernel against its plain reference, the math functions against libm,
   and thread-count independence. Prints a max error per check with its tolerance, a hash of every
   kernel's output (run.sh compares them across the native, no-SIMD and WebAssembly builds), and
   ends with "N passed, N failed"; exits non-zero on any failure. */
#define _POSIX_C_SOURCE 200809L   /* nanosleep, alarm */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ops/ops.h"
#include "ops/simd.h"
#include "ops/mathf.h"
#define CHECK_WITHOUT_ENGINE
#include "../check.h"

#define U (1.0 / 16777216.0)   /* unit roundoff of f32, 2^-24 */

/* ---------------------------------------------------------------- inputs and hashes */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static float uniform(float lo, float hi)   /* 24 random bits: exactly representable */
{
    rng_state ^= rng_state >> 12, rng_state ^= rng_state << 25, rng_state ^= rng_state >> 27;
    uint32_t r = (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 40);
    return lo + (hi - lo) * (float)r * (float)U;
}

static float *random_floats(size_t n, float lo, float hi)
{
    float *x = malloc((n ? n : 1) * sizeof *x);
    if (!x) { fprintf(stderr, "out of memory\n"); exit(2); }
    for (size_t i = 0; i < n; i++) x[i] = uniform(lo, hi);
    return x;
}

static float *zeros(size_t n)
{
    float *x = calloc(n ? n : 1, sizeof *x);
    if (!x) { fprintf(stderr, "out of memory\n"); exit(2); }
    return x;
}

/* scratch that starts as garbage, as the model's reused buffers do */
static float *nans(size_t n)
{
    float *x = malloc((n ? n : 1) * sizeof *x);
    if (!x) { fprintf(stderr, "out of memory\n"); exit(2); }
    for (size_t i = 0; i < n; i++) x[i] = __builtin_nanf("");
    return x;
}

/* FNV-1a over the bits of every output, one line per kernel and shape */
static uint64_t hash_floats(const float *x, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    const unsigned char *b = (const unsigned char *)x;
    for (size_t i = 0; i < n * sizeof *x; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static void print_hash(const char *what, const float *x, size_t n)
{
    printf("hash %-44s %016llx\n", what, (unsigned long long)hash_floats(x, n));
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m || d != d) m = d;
    }
    return m;
}

/* max over i of |a - b| / (1 + |b|): absolute near zero, relative for large values */
static double max_scaled_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]) / (1.0 + fabs((double)b[i]));
        if (d > m || d != d) m = d;
    }
    return m;
}

/* ---------------------------------------------------------------- math functions */

/* error of f in units of the last place of the exact (double) value rounded to float */
static double ulp_error(float got, double exact)
{
    if (isnan(exact)) return isnan(got) ? 0 : INFINITY;
    float e = (float)exact;   /* an exact value past FLT_MAX must round to inf */
    if (isinf(e) || isinf(got)) return got == e ? 0 : INFINITY;
    double ulp = e == 0 ? 1.401298464324817e-45 : fabs((double)nextafterf(e, INFINITY) - (double)e);
    if (fabs(e) < 1.1754943508222875e-38) ulp = 1.401298464324817e-45;   /* subnormal spacing */
    return fabs((double)got - exact) / ulp;
}

static void test_math(void)
{
    double err = 0;
    int simd_mismatch = 0;
    /* exp over its whole finite range, down into the subnormal results */
    for (int i = 0; i <= 2000000; i++) {
        float x = -103.9f + (88.72f + 103.9f) * (float)i / 2000000.0f;
        double e = ulp_error(kn_expf(x), exp((double)x));
        if (e > err) err = e;
    }
    check_within("kn_expf vs exp, x in [-103.9, 88.72], 2M points", err, 2, "ulp");

    float specials[] = {0.0f, -0.0f, 1.0f, -1.0f, 88.72283f, 88.7229f, 89.0f, 100.0f, -87.3f, -100.0f, -103.97f,
                        -104.0f, -200.0f, INFINITY, -INFINITY, NAN, 1e-30f, -1e-30f, 0.5f, 0.34657f};
    double spec_err = 0;
    for (size_t i = 0; i < sizeof specials / sizeof *specials; i++) {
        double e = ulp_error(kn_expf(specials[i]), exp((double)specials[i]));
        if (e > spec_err) spec_err = e;
    }
    check_within("kn_expf specials (0, +-inf, NaN, overflow, underflow)", spec_err, 2, "ulp");

    /* the vector exp must give the scalar's bits, lane by lane */
    for (int i = 0; i < 1600000 / KN_VEC_LANES; i++) {
        float x[KN_VEC_LANES], y[KN_VEC_LANES];
        for (int l = 0; l < KN_VEC_LANES; l++) {
            int kind = (i * KN_VEC_LANES + l) % 4;
            x[l] = kind == 0 ? uniform(-120, 100) : kind == 1 ? uniform(-20, 20) : kind == 2 ? uniform(-1, 1)
                 : specials[(i * KN_VEC_LANES + l) / 4 % 20];
        }
        kn_vec_store(y, kn_vec_exp(kn_vec_load(x)));
        for (int l = 0; l < KN_VEC_LANES; l++) {
            float s = kn_expf(x[l]);
            /* WebAssembly leaves a NaN's sign and payload open: any NaN matches any NaN */
            if (kn_f32_bits(s) != kn_f32_bits(y[l]) && !(isnan(s) && isnan(y[l]))) simd_mismatch++;
        }
    }
    check_within("kn_vec_exp bits == kn_expf bits, 1.6M values", simd_mismatch, 0, "mismatches");

    /* log over every exponent, subnormals included */
    err = 0;
    for (int i = 0; i < 2000000; i++) {
        float x = kn_f32_from_bits(1u + (uint32_t)((uint64_t)i * 0x7F7FFFFEu / 2000000u));
        double e = ulp_error(kn_logf(x), log((double)x));
        if (e > err) err = e;
    }
    for (int i = 0; i < 200000; i++) {   /* around 1, where log is small */
        float x = 0.9f + 0.2f * (float)i / 200000.0f;
        double e = ulp_error(kn_logf(x), log((double)x));
        if (e > err) err = e;
    }
    check_within("kn_logf vs log, all positive floats + [0.9, 1.1]", err, 1, "ulp");
    int log_specials = isnan(kn_logf(-1.0f)) && isnan(kn_logf(NAN)) && kn_logf(0.0f) == -INFINITY &&
                       kn_logf(INFINITY) == INFINITY && kn_logf(1.0f) == 0.0f;
    check_within("kn_logf specials (-1, NaN, 0, inf, 1)", !log_specials, 0, "wrong");

    double sin_err = 0, cos_err = 0;
    for (int i = 0; i <= 2000000; i++) {
        float x = -10.0f + 20.0f * (float)i / 2000000.0f;
        double es = ulp_error(kn_sinf(x), sin((double)x)), ec = ulp_error(kn_cosf(x), cos((double)x));
        if (es > sin_err) sin_err = es;
        if (ec > cos_err) cos_err = ec;
    }
    check_within("kn_sinf vs sin, x in [-10, 10], 2M points", sin_err, 1, "ulp");
    check_within("kn_cosf vs cos, x in [-10, 10], 2M points", cos_err, 1, "ulp");
    sin_err = cos_err = 0;
    for (int i = 0; i < 1000000; i++) {
        float x = uniform(-1.5e6f, 1.5e6f);
        double es = ulp_error(kn_sinf(x), sin((double)x)), ec = ulp_error(kn_cosf(x), cos((double)x));
        if (es > sin_err) sin_err = es;
        if (ec > cos_err) cos_err = ec;
    }
    check_within("kn_sinf vs sin, x in [-1.5e6, 1.5e6], 1M random", sin_err, 1, "ulp");
    check_within("kn_cosf vs cos, x in [-1.5e6, 1.5e6], 1M random", cos_err, 1, "ulp");
    int trig_specials = isnan(kn_sinf(INFINITY)) && isnan(kn_cosf(-INFINITY)) && isnan(kn_sinf(NAN)) &&
                        kn_sinf(0.0f) == 0.0f && kn_cosf(0.0f) == 1.0f;
    float huge = kn_sinf(3e38f) + kn_cosf(-1e20f);   /* out of the accurate range: bounded, no trap */
    trig_specials = trig_specials && huge >= -2.0f && huge <= 2.0f;
    check_within("kn_sinf/kn_cosf specials (inf, NaN, 0, 3e38)", !trig_specials, 0, "wrong");
}

/* ---------------------------------------------------------------- GEMM and convolution */

/* The fast kernels accumulate each output in the reference's order (k = 0, 1, ..., then the
   bias), so the tolerance is zero: any difference is a bug, not rounding. */
static void test_linear(int M, int K, int N, int with_bias)
{
    float *x = random_floats((size_t)M * K, -1, 1), *w = random_floats((size_t)N * K, -1, 1);
    float *bias = with_bias ? random_floats(N, -1, 1) : NULL;
    float *y = zeros((size_t)M * N), *y_ref = zeros((size_t)M * N);
    kn_matrix mat;
    if (kn_matrix_init(&mat, w, N, K) != 0) { fprintf(stderr, "out of memory\n"); exit(2); }
    kn_linear(y, x, &mat, bias, M);
    kn_linear_ref(y_ref, x, w, bias, M, K, N);
    char what[96];
    snprintf(what, sizeof what, "kn_linear M=%d K=%d N=%d%s", M, K, N, with_bias ? " +bias" : "");
    check_within(what, max_abs_diff(y, y_ref, (size_t)M * N), 0, "abs");
    print_hash(what, y, (size_t)M * N);
    kn_matrix_free(&mat);
    free(x), free(w), free(bias), free(y), free(y_ref);
}

static void test_conv(int c_out, int c_in, int k, int H, int W)
{
    size_t n_in = (size_t)c_in * H * W, n_out = (size_t)c_out * H * W;
    float *x = random_floats(n_in, -1, 1), *w = random_floats((size_t)c_out * c_in * k * k, -0.5f, 0.5f);
    float *bias = random_floats(c_out, -1, 1), *y = zeros(n_out), *y_ref = zeros(n_out);
    kn_conv conv;
    if (kn_conv_init(&conv, w, c_out, c_in, k) != 0) { fprintf(stderr, "out of memory\n"); exit(2); }
    float *scratch = nans(kn_conv_scratch_floats(&conv, H, W));   /* the kernel must not read what it did not write */
    kn_conv2d(y, x, &conv, bias, H, W, scratch);
    kn_conv2d_ref(y_ref, x, w, bias, c_out, c_in, k, H, W);
    char what[96];
    snprintf(what, sizeof what, "kn_conv2d %dx%d %d->%d %dx%d", k, k, c_in, c_out, H, W);
    check_within(what, max_abs_diff(y, y_ref, n_out), 0, "abs");
    print_hash(what, y, n_out);
    kn_conv_free(&conv);
    free(x), free(w), free(bias), free(y), free(y_ref), free(scratch);
}

/* ---------------------------------------------------------------- normalisation */

/* Both forms sum D values in different orders: each sum may move by up to 2 D u of the sum of
   magnitudes, which moves mean and 1/std by about that relative amount; 4 D u (1 + |y|) covers it. */
static void test_layer_norm(int M, int D, int affine)
{
    size_t n = (size_t)M * D;
    float *x = random_floats(n, -2, 3), *gamma = random_floats(D, 0.5f, 1.5f), *beta = random_floats(D, -1, 1);
    float *y = zeros(n), *y_ref = zeros(n);
    kn_layer_norm(y, x, affine ? gamma : NULL, affine ? beta : NULL, M, D, 1e-6f);
    kn_layer_norm_ref(y_ref, x, affine ? gamma : NULL, affine ? beta : NULL, M, D, 1e-6f);
    char what[96];
    snprintf(what, sizeof what, "kn_layer_norm M=%d D=%d%s", M, D, affine ? " affine" : "");
    check_within(what, max_scaled_diff(y, y_ref, n), 4.0 * (D + 4) * U, "abs/(1+|y|)");
    print_hash(what, y, n);
    free(x), free(gamma), free(beta), free(y), free(y_ref);
}

/* As layer norm, over a group of C/groups * HW values; the fast form's blocked sums are the more
   accurate, so the reference's sequential error bounds the difference. */
static void test_group_norm(int C, int HW, int groups, int silu)
{
    size_t n = (size_t)C * HW, count = n / groups;
    float *x = random_floats(n, -1, 2), *gamma = random_floats(C, 0.5f, 1.5f), *beta = random_floats(C, -1, 1);
    float *y = zeros(n), *y_ref = zeros(n);
    kn_group_norm(y, x, gamma, beta, C, HW, groups, 1e-6f, silu);
    kn_group_norm_ref(y_ref, x, gamma, beta, C, HW, groups, 1e-6f, silu);
    char what[96];
    snprintf(what, sizeof what, "kn_group_norm C=%d HW=%d groups=%d%s", C, HW, groups, silu ? " +silu" : "");
    check_within(what, max_scaled_diff(y, y_ref, n), 4.0 * (double)(count + 4) * U, "abs/(1+|y|)");
    print_hash(what, y, n);
    free(x), free(gamma), free(beta), free(y), free(y_ref);
}

/* ---------------------------------------------------------------- attention and softmax */

/* Softmax: the sum of n positive terms reordered moves by up to 2 n u of itself; each output is
   divided by it, so the relative difference is at most 2 n u + 1 ulp. Outputs are <= 1. */
static void test_softmax(int n, float spread)
{
    float *x = random_floats(n, -spread, spread), *x_ref = zeros(n);
    memcpy(x_ref, x, n * sizeof *x);
    kn_softmax(x, n);
    kn_softmax_ref(x_ref, n);
    char what[96];
    snprintf(what, sizeof what, "kn_softmax n=%d spread=%g", n, spread);
    check_within(what, max_abs_diff(x, x_ref, n), (2.0 * n + 2) * U, "abs");
    print_hash(what, x, n);
    free(x), free(x_ref);
}

/* Scores are hd-term dot products (|q|,|k| <= 1) reordered: |ds| <= 2 hd u * hd * scale; a score
   error moves each probability by about that relative amount, the softmax sum adds 2 m u, and the
   output (|v| <= 1, weights summing to 1) by the same. */
static void test_attention(int n, int m, int heads, int hd)
{
    int D = heads * hd, stride = 3 * D;   /* q, k, v side by side as in a fused qkv buffer */
    float *qkv = random_floats((size_t)(n > m ? n : m) * stride, -1, 1);
    float *out = zeros((size_t)n * D), *out_ref = zeros((size_t)n * D);
    float *scratch = nans(kn_attention_scratch_floats(n, m, hd));
    kn_attention(out, D, qkv, stride, qkv + D, stride, qkv + 2 * D, stride, n, m, heads, hd, scratch);
    kn_attention_ref(out_ref, D, qkv, stride, qkv + D, stride, qkv + 2 * D, stride, n, m, heads, hd);
    char what[96];
    snprintf(what, sizeof what, "kn_attention n=%d m=%d heads=%d hd=%d", n, m, heads, hd);
    double score_err = 2.0 * hd * U * hd / sqrt((double)hd);
    check_within(what, max_abs_diff(out, out_ref, (size_t)n * D), 2.0 * (score_err + (2.0 * m + 4) * U), "abs");
    print_hash(what, out, (size_t)n * D);
    free(qkv), free(out), free(out_ref), free(scratch);
}

/* Many small random shapes (odd widths, one row, one key, channels that fill no tile) against the
   references: convolutions and linear layers exactly, attention within test_attention's bound. Each
   kernel's outputs over the sweep go into one hash, compared across builds. */
static int random_int(int lo, int hi) { return lo + (int)(uniform(0.0f, 1.0f) * (float)(hi - lo + 1)) % (hi - lo + 1); }

static void test_random_shapes(int count)
{
    double conv_err = 0, linear_err = 0, attention_ratio = 0;
    uint64_t conv_hash = 0, linear_hash = 0, attention_hash = 0;
    for (int i = 0; i < count; i++) {
        int c_out = random_int(1, 13), c_in = random_int(1, 7), k = random_int(0, 1) ? 3 : 1;
        int H = random_int(1, 19), W = random_int(1, 41);
        size_t n_out = (size_t)c_out * H * W;
        float *x = random_floats((size_t)c_in * H * W, -1, 1), *w = random_floats((size_t)c_out * c_in * k * k, -1, 1);
        float *bias = random_int(0, 1) ? random_floats(c_out, -1, 1) : NULL, *y = zeros(n_out), *y_ref = zeros(n_out);
        kn_conv conv;
        if (kn_conv_init(&conv, w, c_out, c_in, k) != 0) exit(2);
        float *scratch = nans(kn_conv_scratch_floats(&conv, H, W));
        kn_conv2d(y, x, &conv, bias, H, W, scratch);
        kn_conv2d_ref(y_ref, x, w, bias, c_out, c_in, k, H, W);
        double e = max_abs_diff(y, y_ref, n_out);
        conv_err = e > conv_err ? e : conv_err;
        conv_hash = conv_hash * 31 + hash_floats(y, n_out);
        kn_conv_free(&conv);
        free(x), free(w), free(bias), free(y), free(y_ref), free(scratch);

        int M = random_int(1, 70), K = random_int(1, 70), N = random_int(1, 90);
        x = random_floats((size_t)M * K, -1, 1), w = random_floats((size_t)N * K, -1, 1);
        bias = random_int(0, 1) ? random_floats(N, -1, 1) : NULL, y = zeros((size_t)M * N), y_ref = zeros((size_t)M * N);
        kn_matrix mat;
        if (kn_matrix_init(&mat, w, N, K) != 0) exit(2);
        kn_linear(y, x, &mat, bias, M);
        kn_linear_ref(y_ref, x, w, bias, M, K, N);
        e = max_abs_diff(y, y_ref, (size_t)M * N);
        linear_err = e > linear_err ? e : linear_err;
        linear_hash = linear_hash * 31 + hash_floats(y, (size_t)M * N);
        kn_matrix_free(&mat);
        free(x), free(w), free(bias), free(y), free(y_ref);

        int n = random_int(1, 40), m = random_int(1, 40), heads = random_int(1, 3), hd = random_int(1, 40);
        int D = heads * hd, stride = 3 * D;
        float *qkv = random_floats((size_t)(n > m ? n : m) * stride, -1, 1);
        float *out = zeros((size_t)n * D), *out_ref = zeros((size_t)n * D);
        scratch = nans(kn_attention_scratch_floats(n, m, hd));
        kn_attention(out, D, qkv, stride, qkv + D, stride, qkv + 2 * D, stride, n, m, heads, hd, scratch);
        kn_attention_ref(out_ref, D, qkv, stride, qkv + D, stride, qkv + 2 * D, stride, n, m, heads, hd);
        double bound = 2.0 * (2.0 * hd * U * hd / sqrt((double)hd) + (2.0 * m + 4) * U);
        e = max_abs_diff(out, out_ref, (size_t)n * D) / bound;
        attention_ratio = e > attention_ratio ? e : attention_ratio;
        attention_hash = attention_hash * 31 + hash_floats(out, (size_t)n * D);
        free(qkv), free(out), free(out_ref), free(scratch);
    }
    char what[96];
    snprintf(what, sizeof what, "kn_conv2d, %d random shapes", count);
    check_within(what, conv_err, 0, "abs");
    printf("hash %-44s %016llx\n", what, (unsigned long long)conv_hash);
    snprintf(what, sizeof what, "kn_linear, %d random shapes", count);
    check_within(what, linear_err, 0, "abs");
    printf("hash %-44s %016llx\n", what, (unsigned long long)linear_hash);
    snprintf(what, sizeof what, "kn_attention, %d random shapes", count);
    check_within(what, attention_ratio, 1, "of bound");
    printf("hash %-44s %016llx\n", what, (unsigned long long)attention_hash);
}

/* ---------------------------------------------------------------- element-wise */

static void test_elementwise(size_t n, int M, int D)
{
    char what[96];
    float *x = random_floats(n, -12, 12), *y = zeros(n), *y_ref = zeros(n);
    kn_silu(y, x, n);
    kn_silu_ref(y_ref, x, n);
    snprintf(what, sizeof what, "kn_silu n=%zu (same formula and exp bits)", n);
    check_within(what, max_abs_diff(y, y_ref, n), 0, "abs");
    print_hash(what, y, n);
    memcpy(y, x, n * sizeof *x);
    kn_silu(y, y, n);   /* in place */
    snprintf(what, sizeof what, "kn_silu in place n=%zu", n);
    check_within(what, max_abs_diff(y, y_ref, n), 0, "abs");

    size_t md = (size_t)M * D;
    float *a = random_floats(md, -1, 1), *b = random_floats(md, -1, 1), *gate = random_floats(D, -1, 1);
    float *r = zeros(md), *r_ref = zeros(md);
    memcpy(r, a, md * sizeof *a), memcpy(r_ref, a, md * sizeof *a);
    kn_add(r, b, md);
    for (size_t i = 0; i < md; i++) r_ref[i] += b[i];
    snprintf(what, sizeof what, "kn_add n=%zu", md);
    check_within(what, max_abs_diff(r, r_ref, md), 0, "abs");

    memcpy(r, a, md * sizeof *a), memcpy(r_ref, a, md * sizeof *a);
    kn_add_gated(r, b, gate, M, D);
    for (size_t i = 0; i < md; i++) r_ref[i] += gate[i % D] * b[i];
    snprintf(what, sizeof what, "kn_add_gated M=%d D=%d", M, D);
    check_within(what, max_abs_diff(r, r_ref, md), 0, "abs");
    print_hash(what, r, md);

    int C = 3, H = M, W = D;
    float *up = zeros((size_t)C * 4 * H * W);
    float *img = random_floats((size_t)C * H * W, -1, 1);
    kn_upsample2x(up, img, C, H, W);
    int wrong = 0;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < 2 * H; i++)
            for (int j = 0; j < 2 * W; j++)
                wrong += up[((size_t)c * 2 * H + i) * 2 * W + j] != img[((size_t)c * H + i / 2) * W + j / 2];
    snprintf(what, sizeof what, "kn_upsample2x C=%d H=%d W=%d", C, H, W);
    check_within(what, wrong, 0, "wrong pixels");
    free(x), free(y), free(y_ref), free(a), free(b), free(gate);
    free(r), free(r_ref), free(up), free(img);
}

/* ---------------------------------------------------------------- fused kernels */

/* Each fused kernel against the composition of the reference kernels it replaces. kn_linear_silu
   and kn_linear_residual run kn_linear's sums, then SiLU or the (gated) add with the same formula
   as kn_silu_ref and the loop below, so the tolerance is zero. */
static void test_linear_fused(int M, int K, int N)
{
    size_t mn = (size_t)M * N;
    float *x = random_floats((size_t)M * K, -1, 1), *w = random_floats((size_t)N * K, -1, 1);
    float *bias = random_floats(N, -1, 1), *gate = random_floats(N, -1, 1), *resid = random_floats(mn, -1, 1);
    float *y = zeros(mn), *y_ref = zeros(mn), *r = zeros(mn), *r_ref = zeros(mn);
    kn_matrix mat;
    if (kn_matrix_init(&mat, w, N, K) != 0) { fprintf(stderr, "out of memory\n"); exit(2); }
    char what[96];

    kn_linear_silu(y, x, &mat, bias, M);
    kn_linear_ref(y_ref, x, w, bias, M, K, N);
    kn_silu_ref(y_ref, y_ref, mn);
    snprintf(what, sizeof what, "kn_linear_silu M=%d K=%d N=%d", M, K, N);
    check_within(what, max_abs_diff(y, y_ref, mn), 0, "abs");
    print_hash(what, y, mn);

    for (int gated = 0; gated < 2; gated++) {
        memcpy(r, resid, mn * sizeof *r), memcpy(r_ref, resid, mn * sizeof *r);
        kn_linear_residual(r, y, x, &mat, bias, gated ? gate : NULL, M);
        kn_linear_ref(y_ref, x, w, bias, M, K, N);
        for (size_t i = 0; i < mn; i++) r_ref[i] += gated ? gate[i % N] * y_ref[i] : y_ref[i];
        double err = max_abs_diff(r, r_ref, mn), err_y = max_abs_diff(y, y_ref, mn);
        snprintf(what, sizeof what, "kn_linear_residual M=%d K=%d N=%d%s (resid, y)", M, K, N, gated ? " gated" : "");
        check_within(what, err > err_y ? err : err_y, 0, "abs");
        print_hash(what, r, mn);
    }
    kn_matrix_free(&mat);
    free(x), free(w), free(bias), free(gate), free(resid), free(y), free(y_ref), free(r), free(r_ref);
}

/* kn_layer_norm_modulate is kn_layer_norm (no gamma/beta) then kn_modulate_ref, operation for operation:
   bit-exact against them. Against kn_layer_norm_ref then the modulation formula it inherits layer
   norm's bound (test_layer_norm, scaled by 1 + |v| with |v| <= sqrt(D)), times |1 + scale| <= 2, plus
   a rounding each of the product and the sum (|y| <= 2 sqrt(D) + 1). */
static void test_layer_norm_modulate(int M, int D)
{
    size_t n = (size_t)M * D;
    float *x = random_floats(n, -2, 3), *shift = random_floats(D, -1, 1), *scale = random_floats(D, -1, 1);
    float *y = zeros(n), *y_fast = zeros(n), *y_ref = zeros(n);
    char what[96];
    kn_layer_norm_modulate(y, x, shift, scale, M, D, 1e-6f);
    kn_layer_norm(y_fast, x, NULL, NULL, M, D, 1e-6f);
    kn_modulate_ref(y_fast, y_fast, shift, scale, M, D);
    snprintf(what, sizeof what, "kn_layer_norm_modulate M=%d D=%d vs norm+modulate", M, D);
    check_within(what, max_abs_diff(y, y_fast, n), 0, "abs");
    print_hash(what, y, n);

    kn_layer_norm_ref(y_ref, x, NULL, NULL, M, D, 1e-6f);
    for (size_t i = 0; i < n; i++) y_ref[i] = y_ref[i] * (1.0f + scale[i % D]) + shift[i % D];
    double root_d = sqrt((double)D);
    snprintf(what, sizeof what, "kn_layer_norm_modulate M=%d D=%d vs refs", M, D);
    check_within(what, max_abs_diff(y, y_ref, n), 2.0 * 4.0 * (D + 4) * U * (1 + root_d) + 2.0 * (2 * root_d + 1) * U, "abs");
    free(x), free(shift), free(scale), free(y), free(y_fast), free(y_ref);
}

/* ---------------------------------------------------------------- thread-count independence */

typedef struct { int *hits; } cover_job;
static void cover(void *arg, int begin, int end)
{
    cover_job *job = arg;
    for (int i = begin; i < end; i++) job->hits[i]++;
}

static void nested(void *arg, int begin, int end)
{
    cover_job *job = arg;
    for (int i = begin; i < end; i++) {
        cover_job inner = {job->hits + i * 10};
        kn_parallel_for(10, cover, &inner);   /* runs serially inside a chunk */
    }
}

static void test_threads(void)
{
    int hits[1000] = {0};
    cover_job job = {hits};
    kn_threads_set(KN_MAX_THREADS);
    for (int rep = 0; rep < 200; rep++) kn_parallel_for(1 + rep % 37, cover, &job);
    kn_parallel_for(100, nested, &job);
    int wrong = 0;
    for (int i = 0; i < 1000; i++) {
        int want = 1;   /* from the nested loop */
        for (int rep = 0; rep < 200; rep++) want += i < 1 + rep % 37;
        wrong += hits[i] != want;
    }
    printf("threads: pool of %d (asked %d)\n", kn_threads_get(), KN_MAX_THREADS);
    check_within("kn_parallel_for covers each index once, nested too", wrong, 0, "wrong");

    /* the same kernels at 1, 2 and 3 threads must give the same bits */
    int M = 203, K = 128, N = 384;
    float *x = random_floats((size_t)M * K, -1, 1), *w = random_floats((size_t)N * K, -1, 1), *b = random_floats(N, -1, 1);
    kn_matrix mat;
    kn_conv conv;
    if (kn_matrix_init(&mat, w, N, K) != 0 || kn_conv_init(&conv, w, 24, 16, 3) != 0) exit(2);
    float *img = random_floats(16 * 32 * 32, -1, 1), *scratch = zeros(kn_conv_scratch_floats(&conv, 32, 32));
    float *resid = random_floats((size_t)M * N, -1, 1), *y = zeros((size_t)M * N);
    float *gate = random_floats(N, -1, 1);
    enum { KERNELS = 7 };
    float *out[3][KERNELS];
    for (int t = 0; t < 3; t++) {
        kn_threads_set(t + 1);
        out[t][0] = zeros((size_t)M * N), out[t][1] = zeros(24 * 32 * 32);
        out[t][2] = zeros((size_t)M * K), out[t][3] = zeros(16 * 32 * 32);
        out[t][4] = zeros((size_t)M * N), out[t][5] = zeros((size_t)M * N), out[t][6] = zeros((size_t)M * K);
        kn_linear(out[t][0], x, &mat, b, M);
        kn_conv2d(out[t][1], img, &conv, b, 32, 32, scratch);
        kn_layer_norm(out[t][2], x, b, b + K, M, K, 1e-6f);
        kn_group_norm(out[t][3], img, b, b + 16, 16, 32 * 32, 4, 1e-6f, 1);
        kn_linear_silu(out[t][4], x, &mat, b, M);
        memcpy(out[t][5], resid, (size_t)M * N * sizeof(float));
        kn_linear_residual(out[t][5], y, x, &mat, b, gate, M);
        kn_layer_norm_modulate(out[t][6], x, b, b + K, M, K, 1e-6f);
    }
    size_t sizes[KERNELS] = {(size_t)M * N, 24 * 32 * 32, (size_t)M * K, 16 * 32 * 32, (size_t)M * N, (size_t)M * N,
                             (size_t)M * K};
    const char *names[KERNELS] = {"kn_linear", "kn_conv2d", "kn_layer_norm", "kn_group_norm", "kn_linear_silu",
                                  "kn_linear_residual", "kn_layer_norm_modulate"};
    for (int k = 0; k < KERNELS; k++) {
        int differ = memcmp(out[0][k], out[1][k], sizes[k] * sizeof(float)) != 0 ||
                     memcmp(out[0][k], out[2][k], sizes[k] * sizeof(float)) != 0;
        char what[96];
        snprintf(what, sizeof what, "%s bits at 1, 2, 3 threads", names[k]);
        check_within(what, differ, 0, "differ");
    }
    for (int t = 0; t < 3; t++) for (int k = 0; k < KERNELS; k++) free(out[t][k]);
    free(resid), free(y);
    kn_matrix_free(&mat), kn_conv_free(&conv);
    free(x), free(w), free(b), free(gate), free(img), free(scratch);
    kn_threads_set(1);
}

/* The pool's threads spin between jobs and sleep once idle: a job posted after an idle gap, at any
   thread count, must still wake them. A lost wake-up would hang, so the alarm turns it into a failure. */
static void test_pool_after_idle(void)
{
#if defined(__unix__) && !defined(__EMSCRIPTEN__)
    alarm(60);
#endif
    int hits[64], wrong = 0;
    cover_job job = {hits};
    for (int rep = 0; rep < 48; rep++) {
        kn_threads_set(1 + rep % KN_MAX_THREADS);
        if (rep % 3 == 0) nanosleep(&(struct timespec){0, 40 * 1000 * 1000}, NULL);  /* past any spin */
        memset(hits, 0, sizeof hits);
        kn_parallel_for(64, cover, &job);
        for (int i = 0; i < 64; i++) wrong += hits[i] != 1;
    }
#if defined(__unix__) && !defined(__EMSCRIPTEN__)
    alarm(0);
#endif
    kn_threads_set(1);
    check_within("kn_parallel_for after idle gaps, 1 to 8 threads", wrong, 0, "wrong");
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    printf("Kineto ops tests: kernels for %s\n", kn_kernels_isa());
    test_math();

    kn_threads_set(threads);
    int linear_shapes[][3] = {{1, 1, 1}, {1, 128, 768}, {3, 5, 7}, {4, 8, 8}, {5, 13, 9}, {17, 33, 15},
                              {64, 128, 384}, {37, 128, 512}, {256, 128, 128}, {66, 512, 128}, {7, 3, 17},
                              {1, 7, 40}, {1, 64, 260}, {65, 9, 72}, {1, 5, 32}};
    for (size_t i = 0; i < sizeof linear_shapes / sizeof *linear_shapes; i++)
        test_linear(linear_shapes[i][0], linear_shapes[i][1], linear_shapes[i][2], i % 2 == 0);
    test_linear(29, 31, 24, 1);
    test_random_shapes(60);

    int conv_shapes[][5] = {{24, 24, 3, 64, 64}, {3, 24, 3, 64, 64}, {24, 48, 1, 64, 64}, {48, 64, 3, 32, 32},
                            {64, 4, 3, 16, 16}, {16, 8, 3, 32, 32}, {8, 16, 3, 32, 32}, {5, 3, 3, 7, 9},
                            {4, 2, 1, 5, 5}, {2, 1, 3, 1, 1}, {7, 5, 3, 3, 13}, {9, 6, 1, 11, 3},
                            {13, 5, 3, 6, 24}, {7, 3, 3, 5, 40}, {6, 4, 1, 3, 24}, {11, 2, 3, 17, 17},
                            {3, 16, 3, 128, 128}, {3, 5, 1, 9, 21}, {3, 2, 3, 4, 3}};   /* RGB tiles, tails */
    for (size_t i = 0; i < sizeof conv_shapes / sizeof *conv_shapes; i++)
        test_conv(conv_shapes[i][0], conv_shapes[i][1], conv_shapes[i][2], conv_shapes[i][3], conv_shapes[i][4]);

    test_layer_norm(256, 128, 1), test_layer_norm(5, 7, 0), test_layer_norm(3, 33, 1), test_layer_norm(1, 1, 1);
    /* odd tails, and (with argv 2) shapes large enough to be split across threads */
    int fused_shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {5, 13, 9}, {17, 33, 15}, {29, 31, 24}, {66, 128, 136}};
    for (size_t i = 0; i < sizeof fused_shapes / sizeof *fused_shapes; i++)
        test_linear_fused(fused_shapes[i][0], fused_shapes[i][1], fused_shapes[i][2]);
    test_layer_norm_modulate(1, 1), test_layer_norm_modulate(5, 7), test_layer_norm_modulate(3, 33);
    test_layer_norm_modulate(203, 128);
    test_group_norm(24, 4096, 8, 1), test_group_norm(8, 64, 4, 0), test_group_norm(6, 7, 3, 1), test_group_norm(64, 256, 8, 1);

    test_softmax(1, 4), test_softmax(7, 4), test_softmax(16, 8), test_softmax(24, 30), test_softmax(257, 50);
    test_attention(16, 16, 4, 32), test_attention(256, 24, 4, 32), test_attention(1, 1, 1, 1);
    test_attention(5, 7, 3, 5), test_attention(3, 9, 2, 33), test_attention(16, 16, 2, 64), test_attention(64, 64, 4, 32);

    test_elementwise(1, 1, 1), test_elementwise(1027, 5, 11), test_elementwise(4096, 16, 128);
    test_threads();
    test_pool_after_idle();

    return check_exit();
}
