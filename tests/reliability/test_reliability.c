/* test_reliability.c — what test_weights.c and test_api.c leave out: random and systematically damaged
   files under a memory limit (no allocation past KN_TEST_ALLOC_LIMIT, so an absurd header can never
   make the loader try one), a weights file larger than memory, parameters at the ends of their types,
   cancelling at every point of a generation, and many generations in a row without growth. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../check.h"
#include "kineto.h"
#include "weights.h"
#include "../weights_util.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures"
#endif

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KN_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define KN_TEST_ASAN 1
#endif

/* The tiny model needs well under 16 MB; 256 MB more than it is the most any load may ask for. */
#define KN_TEST_ALLOC_LIMIT_MB 256

#ifdef KN_TEST_ASAN
/* Under ASan a larger malloc returns NULL (and the loader reports NOMEM, which fails a check below). */
const char *__asan_default_options(void) { return "allocator_may_return_null=1:max_allocation_size_mb=256"; }
#endif

static uint8_t *good;
static size_t good_size;

static uint64_t rng_state = 0x4B494E45544F; /* fixed: every run tests the same files */
static uint32_t rnd(void) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

/* A refusal must name what was wrong and never be NOMEM (that would mean a huge allocation was tried). */
typedef struct { int loads, refused, loaded, nameless, nomem; } tally;

static void load_one(const uint8_t *b, size_t n, tally *t, const char *what, size_t where) {
    kineto_status st = KINETO_OK;
    kineto_ctx *ctx = kineto_load_buffer(b, n, &st);
    t->loads++;
    if (ctx) {
        t->loaded++;
        kineto_free(ctx);
        return;
    }
    t->refused++;
    if (!kineto_last_error()[0] || st == KINETO_OK) t->nameless++;
    if (st == KINETO_ERR_NOMEM) {
        if (t->nomem++ < 3) printf("  %s at %zu: out of memory (%s)\n", what, where, kineto_last_error());
    }
}

static void report(const tally *t, const char *what, int must_refuse) {
    char line[160];
    snprintf(line, sizeof line, "%s: %d loads, %d refused by name, none out of memory%s", what, t->loads, t->refused,
             must_refuse ? ", none loaded" : "");
    check(t->nameless == 0 && t->nomem == 0 && (!must_refuse || t->loaded == 0), line);
}

static void test_random_files(void) {
    tally t = {0};
    uint8_t *b = malloc(good_size);
    for (int i = 0; i < 240; i++) {
        size_t n = i < 80 ? rnd() % 256 : rnd() % good_size;
        for (size_t k = 0; k < n; k++) b[k] = (uint8_t)rnd();
        if (i >= 160 && n >= KIN_VOCAB) { /* a valid header over random contents */
            memcpy(b, "KNTO\1\0\0\0", 8);
            fix_header(b, n);
        }
        load_one(b, n, &t, "random file", n);
    }
    report(&t, "random bytes, raw and behind a valid header", 1);

    tally z = {0};
    memset(b, 0, good_size);
    for (size_t n = 0; n <= good_size; n += n < 256 ? 1 : 4099) load_one(b, n, &z, "zeros", n);
    memcpy(b, "KNTO\1\0\0\0", 8);
    fix_header(b, good_size);
    load_one(b, good_size, &z, "zeros behind a header", good_size);
    report(&z, "zero-filled files of every small length", 1);
    free(b);
}

/* Bit flips with the CRC and size rewritten, so the parser (not the checksum) has to catch them.
   A flip inside tensor data can give a valid model; anything else must be refused by name. */
static void test_flips_behind_checksum(void) {
    const size_t data_start = KIN_VOCAB + rd32(good + KIN_VOCAB_BYTES) + 88 * (size_t)rd32(good + 20);
    tally head = {0}, body = {0};
    uint8_t *b = malloc(good_size);
    memcpy(b, good, good_size);
    for (size_t byte = 0; byte < data_start; byte += byte < KIN_VOCAB ? 1 : 5) {
        for (int bit = 0; bit < 8; bit++) {
            if (byte >= 8 && byte < 24) continue; /* file_size and CRC are rewritten */
            b[byte] ^= (uint8_t)(1u << bit);
            fix_header(b, good_size);
            load_one(b, good_size, &head, "flip", byte);
            b[byte] ^= (uint8_t)(1u << bit);
        }
    }
    for (int i = 0; i < 150; i++) {
        size_t byte = data_start + rnd() % (good_size - data_start);
        int bit = (int)(rnd() % 8);
        b[byte] ^= (uint8_t)(1u << bit);
        fix_header(b, good_size);
        load_one(b, good_size, &body, "flip in data", byte);
        b[byte] ^= (uint8_t)(1u << bit);
    }
    free(b);
    report(&head, "bit flips in header, vocabulary and table (CRC rewritten)", 0);
    report(&body, "bit flips in tensor data (CRC rewritten)", 0);
    check(head.refused > head.loads / 2, "most header and table flips are refused");
}

/* Every 32-bit integer field of the header and of sampled table entries set to values that overflow
   products or claim more memory than exists, CRC rewritten. */
static void test_absurd_fields(void) {
    static const uint32_t values[] = {0xFFFFFFFFu, 0x80000000u, 0x7FFFFFFFu, 0x40000001u, 0x10000u, 0};
    const size_t table = KIN_VOCAB + rd32(good + KIN_VOCAB_BYTES);
    const uint32_t n = rd32(good + 20);
    tally t = {0};
    uint8_t *b = malloc(good_size);
    for (size_t at = 20; at < KIN_VOCAB; at += 4)
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
            const int is_f32 = at == 100 || at == 104 || at == 112 || at == 116;
            if (rd32(good + at) == values[v] || is_f32) continue; /* unchanged, or not an integer */
            memcpy(b, good, good_size);
            wr32(b + at, values[v]);
            fix_header(b, good_size);
            load_one(b, good_size, &t, "header field", at);
        }
    for (uint32_t e = 0; e < n; e += 1 + n / 8)
        for (size_t field = 48; field < 88; field += 4)
            for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
                if (rd32(good + table + 88 * (size_t)e + field) == values[v]) continue;
                memcpy(b, good, good_size);
                wr32(b + table + 88 * (size_t)e + field, values[v]);
                fix_header(b, good_size);
                load_one(b, good_size, &t, "table field", table + 88 * (size_t)e + field);
            }
    /* file_size beyond the buffer (and beyond size_t on 32-bit targets) */
    memcpy(b, good, good_size);
    wr64(b + 8, UINT64_MAX);
    kineto_status st;
    kineto_ctx *ctx = kineto_load_buffer(b, good_size, &st);
    check(!ctx && st == KINETO_ERR_TRUNCATED && strstr(kineto_last_error(), "file_size"), "file_size 2^64-1 -> TRUNCATED naming file_size");
    free(b);
    report(&t, "absurd header and table fields (CRC rewritten)", 0);
    if (t.loaded >= 8) printf("  %d of %d loaded\n", t.loaded, t.loads);
    check(t.loaded <= 1, "absurd integer fields are refused (text_layers = 0 is a valid model)");
}

/* A file bigger than the memory cap is refused by its size, before it is read. */
static void test_huge_file(void) {
    char path[] = "/tmp/kineto-huge-XXXXXX";
    int fd = mkstemp(path);
    check(fd >= 0, "temporary file");
    if (fd < 0) return;
    int ok = ftruncate(fd, (off_t)8 << 30) == 0 && pwrite(fd, good, KIN_VOCAB, 0) == KIN_VOCAB; /* sparse 8 GB */
    close(fd);
    check(ok, "sparse 8 GB file");
    kineto_status st;
    kineto_ctx *ctx = kineto_load_file(path, &st);
    check(!ctx && st == KINETO_ERR_HPARAMS && strstr(kineto_last_error(), "limit"), "8 GB weights file refused by its size");
    unlink(path);
    ctx = kineto_load_file("/", &st);
    check(!ctx && st == KINETO_ERR_IO, "a directory as the weights file -> IO");
}

/* ---------------------------------------------------------------- parameters and generations */
static kineto_ctx *ctx;
static size_t clip_size;

static kineto_params params(void) {
    kineto_params p = kineto_default_params();
    p.prompt = "a red ball moving left on black";
    p.negative_prompt = "blue";
    p.seed = 7;
    p.steps = 3;
    p.threads = 2;
    return p;
}

static void expect_param(kineto_params p, const char *field, const char *range, const char *what) {
    kineto_status st = kineto_begin(ctx, &p);
    int ok = st == KINETO_ERR_PARAM && strstr(kineto_last_error(), field) && strstr(kineto_last_error(), range) &&
             kineto_steps_total(ctx) == 0;
    if (!ok) printf("  %s: %s (%s)\n", what, kineto_status_str(st), kineto_last_error());
    check(ok, what);
    kineto_end(ctx);
}

static void test_param_extremes(void) {
    kineto_params p = params();
    p.steps = INT_MAX;
    expect_param(p, "steps", "1..200", "steps INT_MAX");
    p = params();
    p.steps = INT_MIN;
    expect_param(p, "steps", "1..200", "steps INT_MIN");
    p = params();
    p.guidance = -INFINITY;
    expect_param(p, "guidance", "0..30", "guidance -inf");
    p = params();
    p.guidance = -NAN;
    expect_param(p, "guidance", "0..30", "guidance -NaN");
    p = params();
    p.guidance = 1e-45f * -1.0f;
    expect_param(p, "guidance", "0..30", "guidance -denormal");
    p = params();
    p.frames = INT_MAX;
    expect_param(p, "frames", "1..256", "frames INT_MAX");
    p = params();
    p.frames = INT_MIN;
    expect_param(p, "frames", "1..256", "frames INT_MIN");
    p = params();
    p.threads = INT_MAX;
    expect_param(p, "threads", "1..", "threads INT_MAX");
    p = params();
    p.seed = UINT64_MAX; /* every seed is valid */
    check(kineto_begin(ctx, &p) == KINETO_OK, "seed 2^64-1 accepted");
    kineto_end(ctx);
}

/* Runs a full generation into out; returns its status. */
static kineto_status generate(kineto_params p, uint8_t *out) {
    kineto_status st = kineto_begin(ctx, &p);
    while (st == KINETO_OK && !kineto_done(ctx)) st = kineto_step(ctx);
    if (st == KINETO_OK) st = kineto_decode(ctx, out, clip_size);
    kineto_end(ctx);
    return st;
}

static void test_cancel_anywhere(void) {
    uint8_t *want = malloc(clip_size), *got = malloc(clip_size), *scratch = malloc(clip_size);
    kineto_params p = params();
    check(generate(p, want) == KINETO_OK, "reference generation");
    /* cancel points: 0 = right after begin, 1..3 = after that many steps, 4 = after a preview,
       5 = after decode, 6 = by a new begin with other settings, 7 = by kineto_free (a new context) */
    for (int at = 0; at <= 7; at++) {
        kineto_params q = p;
        if (at == 6) { q.seed = 99; q.prompt = "a green square"; q.frames = 2; }
        kineto_status st = kineto_begin(ctx, &q);
        for (int s = 0; st == KINETO_OK && s < (at >= 1 && at <= 3 ? at : at >= 4 ? 1 : 0); s++) st = kineto_step(ctx);
        if (at == 4) st = kineto_preview(ctx, scratch, clip_size);
        if (at == 5) st = kineto_decode(ctx, scratch, clip_size);
        if (at == 7) {
            kineto_free(ctx);
            ctx = kineto_load_buffer(good, good_size, &st);
        } else if (at != 6) {
            kineto_end(ctx);
        }
        char what[96];
        snprintf(what, sizeof what, "cancel point %d, then the same frames as an uncancelled run", at);
        check(st == KINETO_OK && ctx && generate(p, got) == KINETO_OK && !memcmp(want, got, clip_size), what);
    }
    free(want); free(got); free(scratch);
}

#ifndef KN_TEST_ASAN
/* Live heap blocks, counted by wrapping glibc's allocator: exact, unlike mallinfo's byte totals,
   which depend on how glibc splits its free chunks. */
extern void *__libc_malloc(size_t), *__libc_calloc(size_t, size_t), *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
static long live_blocks;
void *malloc(size_t n) {
    void *p = __libc_malloc(n);
    if (p) __atomic_add_fetch(&live_blocks, 1, __ATOMIC_RELAXED);
    return p;
}
void *calloc(size_t n, size_t size) {
    void *p = __libc_calloc(n, size);
    if (p) __atomic_add_fetch(&live_blocks, 1, __ATOMIC_RELAXED);
    return p;
}
void *realloc(void *old, size_t n) {
    void *p = __libc_realloc(old, n);
    if (!old && p) __atomic_add_fetch(&live_blocks, 1, __ATOMIC_RELAXED);
    else if (old && !n) __atomic_sub_fetch(&live_blocks, 1, __ATOMIC_RELAXED);
    return p;
}
void free(void *p) {
    if (p) __atomic_sub_fetch(&live_blocks, 1, __ATOMIC_RELAXED);
    __libc_free(p);
}
#endif

/* Many generations in one context: after the first, the heap in use must not grow at all. */
static void test_many_generations(void) {
    uint8_t *out = malloc(clip_size);
    kineto_params p = params();
    p.steps = 1;
    long base = 0, last = 0;
    int ok = 1;
    for (int i = 0; i < 200 && ok; i++) {
        p.seed = (uint64_t)i;
        p.frames = 1 + i % 4;
        p.prompt = i % 3 ? "a red ball" : "zorbly a blue square \xff\xfe rising";
        ok = generate(p, out) == KINETO_OK;
        if (i % 5 == 4) { /* and a cancelled one */
            kineto_begin(ctx, &p);
            kineto_step(ctx);
            kineto_end(ctx);
        }
#ifndef KN_TEST_ASAN
        if (i == 19) base = live_blocks; /* the same prompt, frames and cancel as i = 199 */
        last = live_blocks;
#endif
    }
    check(ok, "200 generations in a row");
#ifndef KN_TEST_ASAN
    if (last != base) printf("  live heap blocks after 20 generations %ld, after 200 %ld\n", base, last);
    check(last == base, "no heap block left behind from generation 20 to 200");
#endif
    free(out);
}

int main(void) {
    good = read_tiny_fixture(&good_size);
    if (!good) return 1;
    kineto_set_log(quiet, NULL);
#ifndef KN_TEST_ASAN
    /* Address space capped at what the process uses now plus the limit: an allocation past it fails. */
    struct rlimit rl;
    FILE *statm = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (statm && fscanf(statm, "%lu", &pages) == 1) {
        rl.rlim_cur = rl.rlim_max = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)KN_TEST_ALLOC_LIMIT_MB << 20);
        check(setrlimit(RLIMIT_AS, &rl) == 0, "address space limit set");
        void *volatile too_big = malloc((size_t)(KN_TEST_ALLOC_LIMIT_MB + 16) << 20);
        check(too_big == NULL, "the limit holds: a larger malloc fails");
        free(too_big);
    }
    if (statm) fclose(statm);
#else
    void *volatile too_big = malloc((size_t)(KN_TEST_ALLOC_LIMIT_MB + 16) << 20);
    check(too_big == NULL, "the limit holds: a larger malloc fails");
    free(too_big);
#endif

    test_random_files();
    test_flips_behind_checksum();
    test_absurd_fields();
    test_huge_file();

    kineto_status st;
    ctx = kineto_load_buffer(good, good_size, &st);
    if (!ctx) {
        printf("cannot load the fixture: %s\n", kineto_last_error());
        return 1;
    }
    kineto_info in = kineto_model_info(ctx);
    clip_size = (size_t)in.frames * in.height * in.width * 4;
    test_param_extremes();
    test_cancel_anywhere();
    test_many_generations();
    kineto_free(ctx);
    free(good);
    return check_exit();
}
