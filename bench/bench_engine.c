/* bench_engine.c — times Kineto's native engine stage by stage through the public API.

     bench_engine WEIGHTS PROMPT SEED THREADS REPS REF_FRAMES

   One warm-up generation, then REPS timed ones; prints one JSON line of medians: text (kineto_begin:
   tokenizing, planning buffers, encoding both prompts, drawing noise), one step (conditional +
   unconditional pass), decode (VAE over every frame), the whole clip, the process's peak RSS, and
   the largest difference of the clip's bytes from REF_FRAMES (PyTorch's frames, (F, H, W, 3) u8). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "kineto.h"
#include "timing.h"

#define MAX_SAMPLES 4096

static int fail(const char *what, kineto_status st) {
    fprintf(stderr, "bench_engine: %s: %s (%s)\n", what, kineto_status_str(st), kineto_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: %s WEIGHTS PROMPT SEED THREADS REPS REF_FRAMES\n", argv[0]);
        return 2;
    }
    const int threads = atoi(argv[4]), reps = atoi(argv[5]);
    kineto_status st;
    kineto_ctx *ctx = kineto_load_file(argv[1], &st);
    if (!ctx) return fail("load", st);
    kineto_info info = kineto_model_info(ctx);
    kineto_params p = kineto_default_params();
    p.prompt = argv[2];
    p.seed = strtoull(argv[3], NULL, 10);
    p.threads = threads;
    p.renoise = 0.0f; /* Euler steps, as the PyTorch and ONNX pipelines whose bytes are the reference */
    const size_t pixels = (size_t)info.frames * info.height * info.width, rgba_size = pixels * 4;
    uint8_t *rgba = malloc(rgba_size), *ref = malloc(pixels * 3);
    FILE *f = fopen(argv[6], "rb");
    if (!rgba || !ref || !f || fread(ref, 1, pixels * 3, f) != pixels * 3) {
        fprintf(stderr, "bench_engine: cannot read %s\n", argv[6]);
        return 1;
    }
    fclose(f);

    static double text[MAX_SAMPLES], step[MAX_SAMPLES], decode[MAX_SAMPLES], clip[MAX_SAMPLES];
    int n_step = 0, max_diff = 0;
    for (int rep = -1; rep < reps; rep++) { /* rep -1 is the warm-up */
        double t0 = now_ms();
        if ((st = kineto_begin(ctx, &p)) != KINETO_OK) return fail("begin", st);
        double t1 = now_ms();
        while (!kineto_done(ctx)) {
            double s0 = now_ms();
            if ((st = kineto_step(ctx)) != KINETO_OK) return fail("step", st);
            if (rep >= 0 && n_step < MAX_SAMPLES) step[n_step++] = now_ms() - s0;
        }
        double t2 = now_ms();
        if ((st = kineto_decode(ctx, rgba, rgba_size)) != KINETO_OK) return fail("decode", st);
        double t3 = now_ms();
        kineto_end(ctx);
        if (rep < 0) continue;
        text[rep] = t1 - t0;
        decode[rep] = t3 - t2;
        clip[rep] = t3 - t0;
        for (size_t i = 0; i < pixels; i++)
            for (int c = 0; c < 3; c++) {
                int d = abs((int)rgba[i * 4 + c] - (int)ref[i * 3 + c]);
                if (d > max_diff) max_diff = d;
            }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"engine\": \"kineto\", \"where\": \"native\", \"threads\": %d, \"text_ms\": %.3f, \"step_ms\": %.3f, "
           "\"decode_ms\": %.3f, \"clip_ms\": %.3f, \"peak_mb\": %.1f, \"peak_what\": \"process max RSS\", "
           "\"max_abs_diff\": %d}\n",
           threads, median(text, reps), median(step, n_step), median(decode, reps), median(clip, reps),
           ru.ru_maxrss / 1024.0, max_diff);
    free(rgba);
    free(ref);
    kineto_free(ctx);
    return 0;
}
