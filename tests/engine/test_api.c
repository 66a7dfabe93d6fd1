/* test_api.c — the public API on the tiny fixture model: parameter validation, prompt handling,
   call order, cancelling, determinism across runs and thread counts, and the thread rules of
   kineto.h: two contexts generating at once on two threads, the log callback changed meanwhile. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "kineto.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures"
#endif

static kineto_ctx *ctx;
static kineto_info info;

static void quiet(int level, const char *msg, void *user) { (void)level; (void)msg; (void)user; }

static kineto_params params(const char *prompt) {
    kineto_params p = kineto_default_params();
    p.prompt = prompt;
    p.seed = 7;
    p.steps = 3;
    return p;
}

/* kineto_begin's status, and whether the last error mentions text. */
static void expect_begin(kineto_params p, kineto_status want, const char *text, const char *what) {
    kineto_status st = kineto_begin(ctx, &p);
    int ok = st == want && (!text || strstr(kineto_last_error(), text));
    if (!ok) printf("  %s: got %s (%s)\n", what, kineto_status_str(st), kineto_last_error());
    check(ok, what);
    kineto_end(ctx);
}

static size_t clip_bytes(int frames) { return (size_t)frames * info.height * info.width * 4; }

/* Runs a whole generation on c; returns its decoded frames (malloc'd) or NULL. */
static uint8_t *generate(kineto_ctx *c, kineto_params p, uint8_t **preview_mid) {
    if (kineto_begin(c, &p) != KINETO_OK) return NULL;
    size_t n = clip_bytes(kineto_frames(c));
    uint8_t *out = malloc(n);
    kineto_status st = KINETO_OK;
    while (st == KINETO_OK && !kineto_done(c)) {
        st = kineto_step(c);
        if (preview_mid && kineto_steps_done(c) == 1) {
            *preview_mid = malloc(n);
            if (kineto_preview(c, *preview_mid, n) != KINETO_OK) st = KINETO_ERR_STATE;
        }
    }
    if (st == KINETO_OK) st = kineto_decode(c, out, n);
    kineto_end(c);
    if (st != KINETO_OK) {
        free(out);
        return NULL;
    }
    return out;
}

static void test_info(void) {
    check(info.frames == 4 && info.height == 32 && info.width == 32 && info.latent_h == 8, "model info");
    check(info.n_params > 10000, "parameter count");
    check(!strcmp(kineto_vocab_word(ctx, 0), "<null>"), "vocab word 0 is <null>");
    check(kineto_vocab_word(ctx, info.vocab_size) == NULL && kineto_vocab_word(ctx, -1) == NULL, "vocab out of range");
    check(kineto_vocab_word(NULL, 1) == NULL, "vocab of NULL context");
    kineto_params d = kineto_default_params();
    check(d.steps == 0 && d.guidance == KINETO_GUIDANCE_DEFAULT && d.renoise == KINETO_RENOISE_DEFAULT &&
              d.frames == 0 && d.threads == 0 && d.temporal_attention == 1 && d.negative_prompt == NULL,
          "default params");
    for (int st = KINETO_OK; st <= KINETO_ERR_STATE; st++)
        if (!kineto_status_str((kineto_status)st)[0]) check(0, "status string");
    check(strcmp(kineto_status_str((kineto_status)999), "") != 0, "status string out of range");
}

static void test_params(void) {
    kineto_params p = params("a red ball");
    check(kineto_begin(NULL, &p) == KINETO_ERR_ARG, "begin with NULL context");
    check(kineto_begin(ctx, NULL) == KINETO_ERR_ARG, "begin with NULL params");
    p.prompt = NULL;
    expect_begin(p, KINETO_ERR_ARG, "prompt", "NULL prompt");
    const struct { int steps; float guidance; int frames, threads, temporal; const char *field; } bad[] = {
        {-1, 3, 0, 0, 1, "steps"}, {201, 3, 0, 0, 1, "steps"}, {3, NAN, 0, 0, 1, "guidance"},
        {3, INFINITY, 0, 0, 1, "guidance"}, {3, -0.5f, 0, 0, 1, "guidance"}, {3, 30.5f, 0, 0, 1, "guidance"},
        {3, 3, -1, 0, 1, "frames"}, {3, 3, 257, 0, 1, "frames"}, {3, 3, 0, -1, 1, "threads"},
        {3, 3, 0, 9, 1, "threads"}, {3, 3, 0, 0, 2, "temporal_attention"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = params("a red ball");
        p.steps = bad[i].steps;
        p.guidance = bad[i].guidance;
        p.frames = bad[i].frames;
        p.threads = bad[i].threads;
        p.temporal_attention = bad[i].temporal;
        char what[64];
        snprintf(what, sizeof what, "bad %s is refused by name", bad[i].field);
        expect_begin(p, KINETO_ERR_PARAM, bad[i].field, what);
    }
    const float bad_renoise[] = {NAN, -0.5f, 1.01f, INFINITY};
    for (size_t i = 0; i < sizeof bad_renoise / sizeof bad_renoise[0]; i++) {
        p = params("a red ball");
        p.renoise = bad_renoise[i];
        expect_begin(p, KINETO_ERR_PARAM, "renoise", "bad renoise is refused by name");
    }
    p = params("a red ball");
    p.steps = 200;
    p.guidance = 30;
    p.renoise = 1;
    p.frames = 4;
    p.threads = 8;
    p.temporal_attention = 0;
    expect_begin(p, KINETO_OK, NULL, "limits of every range accepted");
    p.steps = 0;
    p.guidance = 0;
    p.renoise = 0;
    p.frames = 1;
    expect_begin(p, KINETO_OK, NULL, "steps 0 (default), guidance 0, renoise 0, one frame accepted");
    check(kineto_begin(ctx, &p) == KINETO_OK && kineto_steps_total(ctx) == info.default_steps && kineto_frames(ctx) == 1,
          "steps 0 means the model's default");
    check(kineto_generation_bytes(ctx) > 0, "generation bytes reported while running");
    kineto_end(ctx);
    check(kineto_generation_bytes(ctx) == 0, "generation bytes 0 after end");
}

static void test_prompts(void) {
    expect_begin(params(""), KINETO_ERR_PROMPT_EMPTY, "no words", "empty prompt");
    expect_begin(params("  \t\n\r "), KINETO_ERR_PROMPT_EMPTY, NULL, "whitespace prompt");
    expect_begin(params("!!! ... ???"), KINETO_ERR_PROMPT_EMPTY, NULL, "punctuation-only prompt");
    expect_begin(params("zorbly florp"), KINETO_ERR_PROMPT_UNKNOWN, "zorbly", "only unknown words");
    check(!strcmp(kineto_unknown_words(ctx), "zorbly florp"), "unknown words listed");
    expect_begin(params("<null>"), KINETO_ERR_PROMPT_UNKNOWN, NULL, "<null> is not a word");
    expect_begin(params("a a a a a a a a a a a a"), KINETO_OK, NULL, "max_tokens known words accepted");
    expect_begin(params("a a a a a a a a a a a a a"), KINETO_ERR_PROMPT_TOO_LONG, "13 known words", "too many words");
    expect_begin(params("a a a a a a a a a a a a zorbly florp"), KINETO_OK, NULL, "unknown words do not count");
    kineto_params p = params("A RED Ball, moving-left!");
    p.negative_prompt = "blue florp";
    expect_begin(p, KINETO_OK, NULL, "mixed case and punctuation");
    check(!strcmp(kineto_unknown_words(ctx), "florp"), "negative prompt's unknown words listed");
    p.negative_prompt = "a a a a a a a a a a a a a";
    expect_begin(p, KINETO_ERR_PROMPT_TOO_LONG, "negative", "negative prompt too long");
    p.negative_prompt = "florp";
    expect_begin(p, KINETO_OK, NULL, "negative prompt of unknown words falls back to the null prompt");
    p.negative_prompt = "";
    expect_begin(p, KINETO_OK, NULL, "empty negative prompt");

    /* arbitrary bytes: invalid UTF-8, control characters, very long input */
    expect_begin(params("red \xff\xfe\xc0\x80 ball \x01\x02\x1b[31m \xe2\x84\xaa"), KINETO_OK, NULL, "invalid UTF-8 and controls");
    size_t n = 100 * 1024, cap = KINETO_MAX_PROMPT_BYTES;
    char *big = malloc(n + 1);
    unsigned s = 12345;
    int ok = 1;
    for (int round = 0; round < 4; round++) { /* random bytes up to the cap reach the tokenizer */
        for (size_t i = 0; i < cap; i++) {
            s = s * 1103515245u + 12345u;
            big[i] = (char)(1 + (s >> 16) % 255);
        }
        big[cap] = 0;
        kineto_status st = kineto_begin(ctx, &(kineto_params){.prompt = big, .steps = 1, .guidance = 1});
        ok &= st == KINETO_OK || st == KINETO_ERR_PROMPT_UNKNOWN || st == KINETO_ERR_PROMPT_TOO_LONG ||
              st == KINETO_ERR_PROMPT_EMPTY;
        kineto_end(ctx);
    }
    check(ok, "4 KB of random bytes handled");
    for (size_t i = 0; i < n; i++) big[i] = "red "[i % 4];
    big[n] = 0;
    expect_begin(params(big), KINETO_ERR_PROMPT_TOO_LONG, "longer than 4096 bytes", "100 KB prompt");
    kineto_params huge_negative = params("red");
    huge_negative.negative_prompt = big;
    expect_begin(huge_negative, KINETO_ERR_PROMPT_TOO_LONG, "negative prompt is longer than 4096 bytes",
                 "100 KB negative prompt");
    big[cap] = 0;
    expect_begin(params(big), KINETO_ERR_PROMPT_TOO_LONG, "known words", "4 KB of one known word");
    memset(big, 'x', n);
    big[cap] = 0;
    expect_begin(params(big), KINETO_ERR_PROMPT_UNKNOWN, NULL, "one 4096-byte word, at the cap");
    big[cap] = 'x';
    big[cap + 1] = 0;
    expect_begin(params(big), KINETO_ERR_PROMPT_TOO_LONG, NULL, "one 4097-byte word, past the cap");
    free(big);
}

static void test_call_order(void) {
    uint8_t px[4];
    kineto_end(ctx);
    kineto_end(NULL);
    check(kineto_step(ctx) == KINETO_ERR_STATE, "step before begin");
    check(kineto_preview(ctx, px, sizeof px) == KINETO_ERR_STATE, "preview before begin");
    check(kineto_decode(ctx, px, sizeof px) == KINETO_ERR_STATE, "decode before begin");
    check(kineto_step(NULL) == KINETO_ERR_ARG, "step with NULL context");
    kineto_params p = params("a red ball");
    check(kineto_begin(ctx, &p) == KINETO_OK, "begin");
    check(kineto_preview(ctx, px, sizeof px) == KINETO_ERR_ARG, "preview into a small buffer");
    check(kineto_decode(ctx, NULL, 1 << 20) == KINETO_ERR_ARG, "decode into NULL");
    while (!kineto_done(ctx)) kineto_step(ctx);
    check(kineto_steps_done(ctx) == 3 && kineto_step(ctx) == KINETO_ERR_STATE, "step after the last step");
    check(kineto_begin(ctx, &p) == KINETO_OK && kineto_steps_done(ctx) == 0, "begin again ends the previous one");
    kineto_end(ctx);
    kineto_end(ctx);
    check(kineto_steps_total(ctx) == 0 && !kineto_done(ctx), "idle after end");
}

static void test_determinism(void) {
    kineto_params p = params("a red ball moving left on black");
    p.negative_prompt = "blue";
    p.threads = 1;
    uint8_t *mid1 = NULL, *mid2 = NULL, *mid4 = NULL;
    uint8_t *a = generate(ctx, p, &mid1);
    uint8_t *b = generate(ctx, p, NULL);
    size_t n = clip_bytes(info.frames);
    check(a && b && !memcmp(a, b, n), "same inputs, same frames");
    p.threads = 2;
    uint8_t *c = generate(ctx, p, &mid2);
    p.threads = 4;
    uint8_t *d = generate(ctx, p, &mid4);
    check(c && d && !memcmp(a, c, n) && !memcmp(a, d, n), "1, 2 and 4 threads give identical frames");
    check(mid1 && mid2 && mid4 && !memcmp(mid1, mid2, n) && !memcmp(mid1, mid4, n), "and identical previews");

    /* cancel mid-way, then the next generation equals an uncancelled one */
    p.threads = 2;
    check(kineto_begin(ctx, &p) == KINETO_OK && kineto_step(ctx) == KINETO_OK, "start a generation to cancel");
    kineto_end(ctx);
    uint8_t *e = generate(ctx, p, NULL);
    check(e && !memcmp(a, e, n), "after a cancelled generation, the same frames");
    kineto_params other = p;
    other.seed = 8;
    uint8_t *f = generate(ctx, other, NULL);
    check(f && memcmp(a, f, n) != 0, "another seed, other frames");
    other = p;
    other.temporal_attention = 0;
    uint8_t *g = generate(ctx, other, NULL);
    check(g && memcmp(a, g, n) != 0, "temporal attention off changes the frames");
    other = p;
    other.guidance = 1;
    uint8_t *h = generate(ctx, other, NULL);
    check(h && memcmp(a, h, n) != 0, "guidance 1 (no unconditional pass) runs and differs");
    other = p;
    other.renoise = info.default_renoise > 0 ? 0 : 0.5f;
    uint8_t *r = generate(ctx, other, NULL);
    check(r && memcmp(a, r, n) != 0, "another renoise, other frames");
    other = p;
    other.frames = 2;
    uint8_t *two = generate(ctx, other, NULL);
    check(two != NULL, "a two-frame clip");
    free(a); free(b); free(c); free(d); free(e); free(f); free(g); free(h); free(r); free(two);
    free(mid1); free(mid2); free(mid4);
}

/* ---- two contexts on two threads (kineto.h, "Threads") ---- */

typedef struct {
    kineto_ctx *ctx;
    kineto_params params;
    uint8_t *frames;
} clip_job;

static void *generate_thread(void *arg) {
    clip_job *job = arg;
    job->frames = generate(job->ctx, job->params, NULL);
    return NULL;
}

static atomic_int log_calls;
static void count_log(int level, const char *msg, void *user) {
    (void)level, (void)msg;
    atomic_fetch_add((atomic_int *)user, 1);
}

static void test_two_threads(void) {
    kineto_status st;
    kineto_ctx *second = kineto_load_file(FIXTURES "/tiny.kin", &st);
    check(second != NULL, "a second context on the same model file");
    if (!second) return;
    clip_job jobs[2] = {{ctx, params("a red ball moving left on black"), NULL},
                        {second, params("a blue star bouncing on grass"), NULL}};
    jobs[0].params.threads = 2, jobs[1].params.threads = 3;   /* the pool's size changes under both */
    uint8_t *alone[2] = {generate(ctx, jobs[0].params, NULL), generate(second, jobs[1].params, NULL)};
    size_t n = clip_bytes(info.frames);
    check(alone[0] && alone[1] && memcmp(alone[0], alone[1], n) != 0, "two prompts, two clips, one at a time");
    int same = 1, both_started = 1;
    for (int round = 0; round < 3; round++) {
        pthread_t threads[2];
        int started = 0;
        for (int t = 0; t < 2; t++) started += pthread_create(&threads[t], NULL, generate_thread, &jobs[t]) == 0;
        /* swap the log callback while both generate (ThreadSanitizer's build sees any race) */
        for (int i = 0; i < 200; i++) kineto_set_log(i % 2 ? quiet : count_log, &log_calls);
        for (int t = 0; t < started; t++) pthread_join(threads[t], NULL);
        both_started &= started == 2;
        for (int t = 0; t < 2; t++) {
            same &= jobs[t].frames && !memcmp(jobs[t].frames, alone[t], n);
            free(jobs[t].frames);
        }
    }
    kineto_set_log(count_log, &log_calls);
    check(both_started, "two generating threads started");
    check(same, "two contexts generating at once on two threads: the bytes of one at a time, 3 rounds");
    int before = atomic_load(&log_calls);
    uint8_t *again = generate(ctx, jobs[0].params, NULL);
    check(atomic_load(&log_calls) > before, "the callback set last receives the next generation's log");
    kineto_set_log(quiet, NULL);
    free(again), free(alone[0]), free(alone[1]);
    kineto_free(second);
}

int main(void) {
    kineto_set_log(quiet, NULL);
    ctx = check_load_model(FIXTURES "/tiny.kin");
    info = kineto_model_info(ctx);
    test_info();
    test_params();
    test_prompts();
    test_call_order();
    test_determinism();
    test_two_threads();
    kineto_free(ctx);
    return check_exit();
}
