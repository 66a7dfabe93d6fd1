/* test_clip.c — clips past the model's window on the tiny fixture model (window 4): the same bytes
   on every run and at every thread count, a one-window clip unchanged, progress over every window,
   frames ready in order, decode_range equal to decode, cancelling between windows, and the refusals
   of frames, shots, overlap and seamless, each naming its field. The clip tests run again with the
   fixture's header saying clean_context 1, so given frames enter clean at time 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "../weights_util.h"
#include "kineto.h"

static kineto_ctx *ctx;
static kineto_info info;
static size_t frame_bytes;


static kineto_params params(int frames) {
    kineto_params p = kineto_default_params();
    p.prompt = "a red ball moving left on black";
    p.seed = 11;
    p.steps = 2;
    p.frames = frames;
    return p;
}

static void expect_refused(kineto_params p, kineto_status want, const char *field, const char *what) {
    kineto_status st = kineto_begin(ctx, &p);
    int ok = st == want && strstr(kineto_last_error(), field) && kineto_frames(ctx) == 0;
    if (!ok) printf("  %s: got %s (%s)\n", what, kineto_status_str(st), kineto_last_error());
    check(ok, what);
    kineto_end(ctx);
}

/* A whole clip's frames (malloc'd), or NULL; *ready_in_order: frames_ready never went back and was
   below the clip's length until the last window. */
static uint8_t *generate(kineto_params p, int *ready_in_order) {
    if (kineto_begin(ctx, &p) != KINETO_OK) return NULL;
    const int frames = kineto_frames(ctx);
    int ready = 0, ordered = 1;
    while (!kineto_done(ctx)) {
        if (kineto_step(ctx) != KINETO_OK) return NULL;
        int now = kineto_frames_ready(ctx);
        ordered &= now >= ready && (now < frames || kineto_steps_done(ctx) > kineto_steps_total(ctx) - p.steps);
        ready = now;
    }
    uint8_t *out = malloc(frames * frame_bytes);
    if (kineto_decode(ctx, out, frames * frame_bytes) != KINETO_OK) {
        free(out);
        out = NULL;
    }
    if (ready_in_order) *ready_in_order = ordered && ready == frames;
    kineto_end(ctx);
    return out;
}

/* Mean absolute byte change between frames f-1 and f. */
static double frame_change(const uint8_t *clip, int f) {
    double sum = 0;
    for (size_t i = 0; i < frame_bytes; i++) sum += abs((int)clip[f * frame_bytes + i] - (int)clip[(f - 1) * frame_bytes + i]);
    return sum / (double)frame_bytes;
}

static void test_long_clip(void) {
    const int frames = 11; /* windows 0..3, then 2..5, 4..7, 6..9 (2 known frames each), 7..10 */
    kineto_params p = params(frames);
    p.threads = 1;
    int in_order = 0;
    uint8_t *a = generate(p, &in_order), *b = generate(p, NULL);
    check(a && b && !memcmp(a, b, frames * frame_bytes), "an 11-frame clip: the same bytes on two runs");
    check(in_order, "frames_ready grows window by window and reaches the clip's length at the end");
    for (int threads = 2; threads <= 4; threads += 2) {
        p.threads = threads;
        uint8_t *c = generate(p, NULL);
        char what[64];
        snprintf(what, sizeof what, "%d threads: the same bytes as 1", threads);
        check(a && c && !memcmp(a, c, frames * frame_bytes), what);
        free(c);
    }
    /* the first window is the 4-frame clip of the same seed: frames 0..3 made exactly as before */
    uint8_t *one = generate(params(info.frames), NULL);
    check(a && one && !memcmp(a, one, info.frames * frame_bytes), "the first window is the one-window clip");
    /* each window has its own noise: later frames are not the first window again */
    check(a && memcmp(a, a + 4 * frame_bytes, 4 * frame_bytes) != 0, "later windows differ from the first");
    int changes = 1;
    for (int f = 1; a && f < frames; f++) changes &= frame_change(a, f) > 0;
    check(changes, "every frame differs from the one before (no repeated window)");

    /* progress counts every window; decode_range gives decode's bytes; ready frames stay */
    p.threads = 0;
    check(kineto_begin(ctx, &p) == KINETO_OK && kineto_steps_total(ctx) == 5 * p.steps,
          "steps_total counts the 5 windows");
    uint8_t *early = malloc(info.frames * frame_bytes), *late = malloc(info.frames * frame_bytes);
    while (kineto_frames_ready(ctx) == 0 && kineto_step(ctx) == KINETO_OK) {}
    int ready = kineto_frames_ready(ctx);
    check(ready == info.frames && kineto_steps_done(ctx) == p.steps, "the first window's frames are ready after its steps");
    check(kineto_decode_range(ctx, 0, ready, early, ready * frame_bytes) == KINETO_OK, "decode_range of the ready frames");
    while (!kineto_done(ctx) && kineto_step(ctx) == KINETO_OK) {}
    check(kineto_decode_range(ctx, 0, ready, late, ready * frame_bytes) == KINETO_OK && !memcmp(early, late, ready * frame_bytes)
          && a && !memcmp(a, late, ready * frame_bytes), "ready frames stay as they were, and equal decode's");
    uint8_t *tail = malloc(3 * frame_bytes);
    check(kineto_decode_range(ctx, 8, 3, tail, 3 * frame_bytes) == KINETO_OK && a &&
          !memcmp(tail, a + 8 * frame_bytes, 3 * frame_bytes), "decode_range of the last 3 frames equals decode's");
    check(kineto_decode_range(ctx, 9, 3, tail, 3 * frame_bytes) == KINETO_ERR_ARG &&
          strstr(kineto_last_error(), "outside"), "decode_range past the clip is refused");
    check(kineto_decode_range(ctx, 0, 3, tail, 2 * frame_bytes) == KINETO_ERR_ARG, "decode_range into a small buffer is refused");
    kineto_end(ctx);

    /* cancelled in the second window, then the same clip again */
    check(kineto_begin(ctx, &p) == KINETO_OK, "begin to cancel");
    for (int i = 0; i < p.steps + 1; i++) kineto_step(ctx);
    kineto_end(ctx);
    uint8_t *again = generate(p, NULL);
    check(a && again && !memcmp(a, again, frames * frame_bytes), "after a clip cancelled mid-window, the same bytes");
    p.overlap = 1;
    uint8_t *other = generate(p, NULL);
    check(a && other && !memcmp(a, other, 4 * frame_bytes) && memcmp(a, other, frames * frame_bytes) != 0,
          "another overlap: the same first window, other later frames");
    free(other);
    free(again);
    free(tail);
    free(early);
    free(late);
    free(one);
    free(a);
    free(b);
}

static void test_storyboard_and_loop(void) {
    kineto_shot shots[2] = {{"a red ball moving left on black", 5}, {"a red ball bouncing on black", 4}};
    kineto_params p = params(0);
    p.shots = shots;
    p.n_shots = 2;
    uint8_t *a = generate(p, NULL), *b = generate(p, NULL);
    check(a && b && !memcmp(a, b, 9 * frame_bytes), "a storyboard: the same bytes on two runs");
    shots[1].prompt = "a blue square bouncing on black";
    uint8_t *c = generate(p, NULL);
    check(a && c && !memcmp(a, c, 5 * frame_bytes) && memcmp(a + 5 * frame_bytes, c + 5 * frame_bytes, 4 * frame_bytes),
          "the second shot's prompt changes its frames only");
    p.seamless = 1;
    uint8_t *loop = generate(p, NULL), *loop2 = generate(p, NULL);
    check(loop && loop2 && !memcmp(loop, loop2, 9 * frame_bytes), "a seamless storyboard: the same bytes on two runs");
    check(loop && c && !memcmp(loop, c, 3 * frame_bytes) && memcmp(loop, c, 9 * frame_bytes),
          "seamless keeps the start and makes the end again");
    kineto_params q = params(2);
    q.seamless = 1;
    uint8_t *two = generate(q, NULL);
    check(two != NULL, "a seamless 2-frame clip");
    free(two);
    free(loop);
    free(loop2);
    free(a);
    free(b);
    free(c);
}

static void test_refusals(void) {
    kineto_params p = params(257);
    expect_refused(p, KINETO_ERR_PARAM, "frames", "257 frames refused by name");
    p = params(KINETO_MAX_FRAMES);
    check(kineto_begin(ctx, &p) == KINETO_OK && kineto_frames(ctx) == KINETO_MAX_FRAMES &&
          kineto_frames_ready(ctx) == 0, "256 frames start");
    kineto_end(ctx);

    kineto_shot shots[KINETO_MAX_SHOTS + 1];
    for (int i = 0; i <= KINETO_MAX_SHOTS; i++) shots[i] = (kineto_shot){"a red ball", 1};
    p = params(0);
    p.shots = shots;
    p.n_shots = KINETO_MAX_SHOTS + 1;
    expect_refused(p, KINETO_ERR_PARAM, "n_shots", "65 shots refused by name");
    p.n_shots = KINETO_MAX_SHOTS;
    check(kineto_begin(ctx, &p) == KINETO_OK && kineto_frames(ctx) == KINETO_MAX_SHOTS, "64 shots of 1 frame start");
    kineto_end(ctx);
    p.n_shots = 2;
    shots[1].frames = 0;
    expect_refused(p, KINETO_ERR_PARAM, "shots[1].frames", "a shot of 0 frames refused by name");
    shots[1].frames = 256;
    expect_refused(p, KINETO_ERR_PARAM, "shots", "shots over 256 frames in all refused");
    shots[1] = (kineto_shot){"   ", 2};
    expect_refused(p, KINETO_ERR_PROMPT_EMPTY, "shots[1].prompt", "an empty shot refused by name");
    shots[1] = (kineto_shot){NULL, 2};
    expect_refused(p, KINETO_ERR_ARG, "shots[1].prompt", "a NULL shot prompt refused by name");
    shots[1] = (kineto_shot){"zorbly", 2};
    expect_refused(p, KINETO_ERR_PROMPT_UNKNOWN, "shots[1].prompt", "a shot of unknown words refused by name");
    shots[1] = (kineto_shot){"a red ball", 2};
    p.frames = 5;
    expect_refused(p, KINETO_ERR_PARAM, "frames", "frames other than the shots' sum refused");
    p.frames = 0;
    p.shots = NULL;
    expect_refused(p, KINETO_ERR_ARG, "shots", "NULL shots with n_shots refused");
    p = params(1);
    p.seamless = 1;
    expect_refused(p, KINETO_ERR_PARAM, "seamless", "seamless with 1 frame refused");
    p = params(0);
    p.seamless = 2;
    expect_refused(p, KINETO_ERR_PARAM, "seamless", "seamless 2 refused");
    p = params(12);
    p.overlap = info.frames;
    expect_refused(p, KINETO_ERR_PARAM, "overlap", "overlap of the whole window refused");
    p.overlap = -1;
    expect_refused(p, KINETO_ERR_PARAM, "overlap", "negative overlap refused");
}

int main(void) {
    kineto_set_log(quiet, NULL);
    ctx = check_load_model(FIXTURES "/tiny.kin");
    info = kineto_model_info(ctx);
    frame_bytes = (size_t)info.height * info.width * 4;
    test_long_clip();
    test_storyboard_and_loop();
    test_refusals();
    kineto_free(ctx);

    size_t size;
    uint8_t *file = read_tiny_fixture(&size);
    if (!file) return 1;
    wr32(file + 132, 1); /* clean_context */
    fix_crc(file, size);
    kineto_status st;
    ctx = kineto_load_buffer(file, size, &st);
    check(ctx && kineto_model_info(ctx).clean_context == 1, "the fixture with clean_context 1 loads");
    if (ctx) {
        printf("-- again, given frames clean at time 0\n");
        test_long_clip();
        test_storyboard_and_loop();
        kineto_free(ctx);
    }
    free(file);
    return check_exit();
}
