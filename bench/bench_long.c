/* bench_long.c — times Kineto's native engine on a long clip against a one-window clip.

     bench_long WEIGHTS PROMPT SEED THREADS REPS [STEPS]

   For 16 and 64 frames (the default model's window and four times it): one warm-up clip, then REPS
   timed ones (kineto_begin to the last frame decoded); prints one JSON line each with the median
   clip time, the steps it ran (every window's) and the buffers it planned. STEPS: 0 or absent for
   the model's default. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "kineto.h"
#include "timing.h"

#define MAX_REPS 64
static const int LONG_FRAMES[] = {16, 64};

static int fail(const char *what, kineto_status st) {
    fprintf(stderr, "bench_long: %s: %s (%s)\n", what, kineto_status_str(st), kineto_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: %s WEIGHTS PROMPT SEED THREADS REPS [STEPS]\n", argv[0]);
        return 2;
    }
    const int threads = atoi(argv[4]), reps = atoi(argv[5]), steps = argc == 7 ? atoi(argv[6]) : 0;
    if (reps < 1 || reps > MAX_REPS) {
        fprintf(stderr, "bench_long: REPS must be 1..%d\n", MAX_REPS);
        return 2;
    }
    kineto_status st;
    kineto_ctx *ctx = kineto_load_file(argv[1], &st);
    if (!ctx) return fail("load", st);
    kineto_info info = kineto_model_info(ctx);
    for (size_t k = 0; k < sizeof LONG_FRAMES / sizeof *LONG_FRAMES; k++) {
        kineto_params p = kineto_default_params();
        p.prompt = argv[2];
        p.seed = strtoull(argv[3], NULL, 10);
        p.threads = threads;
        p.steps = steps;
        p.frames = LONG_FRAMES[k];
        const size_t size = (size_t)p.frames * info.height * info.width * 4;
        uint8_t *rgba = malloc(size);
        if (!rgba) return fail("frames", KINETO_ERR_NOMEM);
        static double clip[MAX_REPS];
        int steps_total = 0;
        double planned_mb = 0;
        for (int rep = -1; rep < reps; rep++) { /* rep -1 is the warm-up */
            double t0 = now_ms();
            if ((st = kineto_begin(ctx, &p)) != KINETO_OK) return fail("begin", st);
            planned_mb = kineto_generation_bytes(ctx) / 1048576.0;
            while (!kineto_done(ctx))
                if ((st = kineto_step(ctx)) != KINETO_OK) return fail("step", st);
            if ((st = kineto_decode(ctx, rgba, size)) != KINETO_OK) return fail("decode", st);
            steps_total = kineto_steps_total(ctx);
            kineto_end(ctx);
            if (rep >= 0) clip[rep] = now_ms() - t0;
        }
        printf("{\"kind\": \"long\", \"engine\": \"kineto\", \"where\": \"native\", \"threads\": %d, \"frames\": %d, "
               "\"clip_ms\": %.3f, \"steps\": %d, \"generation_mb\": %.3f}\n",
               threads, p.frames, median(clip, reps), steps_total, planned_mb);
        free(rgba);
    }
    kineto_free(ctx);
    return 0;
}
