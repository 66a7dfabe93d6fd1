/* fuzz_prompt.c — libFuzzer harness for the tokenizer and kineto_begin: arbitrary bytes as the prompt
   and negative prompt of the tiny model (tests/fixtures/tiny.kin), then one step, a preview and
   kineto_end. Input: byte 0 picks the parameters (some valid, some out of range), the rest is
   "prompt" or "prompt\0negative". The model is loaded once; each input must leave it clean. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kineto.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures"
#endif

static kineto_ctx *ctx;
static uint8_t *rgba;
static size_t rgba_size;

static void quiet(int level, const char *msg, void *user) { (void)level; (void)msg; (void)user; }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    kineto_set_log(quiet, NULL);
    const char *path = getenv("KINETO_FUZZ_MODEL");
    kineto_status st;
    ctx = kineto_load_file(path ? path : FIXTURES "/tiny.kin", &st);
    if (!ctx) {
        fprintf(stderr, "fuzz_prompt: cannot load the model: %s (set KINETO_FUZZ_MODEL)\n", kineto_last_error());
        exit(1);
    }
    kineto_info in = kineto_model_info(ctx);
    rgba_size = (size_t)KINETO_MAX_FRAMES * in.height * in.width * 4; /* the longest clip */
    rgba = malloc(rgba_size);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static const float guidances[] = {1.0f, 3.0f, KINETO_GUIDANCE_DEFAULT, NAN, -1e9f, INFINITY, 30.0f, 31.0f};
    const uint8_t sel = data[0];
    char *text = malloc(size + 1); /* prompt \0 negative \0 */
    if (!text) return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    text[size] = 0;
    const char *negative = text + strlen(text) + 1;
    if (negative > text + size - 1) negative = NULL;

    kineto_params p = kineto_default_params();
    p.prompt = text;
    p.negative_prompt = sel & 0x80 ? negative : NULL;
    p.steps = 1 + (sel & 1);
    /* 0 = the model's window; past it, clips made window by window; past KINETO_MAX_FRAMES refused */
    static const int frame_counts[] = {0, 1, 3, 4, 6, 11, KINETO_MAX_FRAMES, KINETO_MAX_FRAMES + 1};
    p.frames = frame_counts[(sel >> 1) & 7];
    p.guidance = guidances[(sel >> 4) & 7];
    p.seed = (uint64_t)sel * 0x9E3779B97F4A7C15ull;
    p.threads = 1;

    kineto_status st = kineto_begin(ctx, &p);
    if (st == KINETO_OK) {
        if (kineto_step(ctx) != KINETO_OK || kineto_preview(ctx, rgba, rgba_size) != KINETO_OK) __builtin_trap();
        /* unknown words come from the prompts' own bytes: never longer than both together */
        if (strlen(kineto_unknown_words(ctx)) > size) __builtin_trap();
    } else if (kineto_last_error()[0] == 0) {
        __builtin_trap(); /* a refusal without a reason */
    }
    kineto_end(ctx);
    if (kineto_steps_total(ctx) != 0 || kineto_generation_bytes(ctx) != 0) __builtin_trap();
    free(text);
    return 0;
}
