/* kineto_cli.c — the command line:
     kineto generate --prompt TEXT [--seed N] [--steps N] [--guidance G] [--renoise R] [--negative TEXT]
                     [--frames N] [--threads N] [--no-temporal] [--out DIR] [--gif FILE] [--weights FILE]
                     [--force] [--verbose]
     kineto info [--weights FILE]
   Weights: --weights, else $KINETO_WEIGHTS, else weights/kineto-world.kin of the repository the binary
   was built in (build/kineto -> ../weights/), else of the current directory. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image_out.h"
#include "kineto.h"

#define DEFAULT_WEIGHTS "weights/kineto-world.kin"

static int verbose;

static void log_to_stderr(int level, const char *msg, void *user_data) {
    (void)user_data;
    if (level == 1) fprintf(stderr, "warning: %s\n", msg);
    else if (level == 0 && verbose) fprintf(stderr, "%s\n", msg);
    /* errors are printed once, by fail() */
}

static int fail(const char *fmt, const char *arg) {
    fprintf(stderr, "kineto: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    return 1;
}

static int fail_status(const char *what, kineto_status st) {
    const char *detail = kineto_last_error();
    fprintf(stderr, "kineto: %s: %s\n", what, detail[0] ? detail : kineto_status_str(st));
    return 1;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- arguments ---- */
typedef struct {
    const char *prompt, *negative, *out_dir, *gif, *weights;
    unsigned long long seed;
    long steps, frames, threads;
    double guidance, renoise;
    int no_temporal, force;
} cli_args;

static int parse_long(const char *flag, const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "kineto: %s: '%s' is not a whole number in %ld..%ld\n", flag, s, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

static int is_value_flag(const char *flag) {
    static const char *const flags[] = {"--prompt", "--negative", "--out", "--gif", "--weights", "--steps",
                                        "--frames", "--threads", "--seed", "--guidance", "--renoise"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (!strcmp(flag, flags[i])) return 1;
    return 0;
}

static int parse_args(int argc, char **argv, cli_args *a) {
    memset(a, 0, sizeof *a);
    a->guidance = KINETO_GUIDANCE_DEFAULT;
    a->renoise = KINETO_RENOISE_DEFAULT;
    for (int i = 2; i < argc; i++) {
        const char *flag = argv[i];
        if (!strcmp(flag, "--no-temporal")) { a->no_temporal = 1; continue; }
        if (!strcmp(flag, "--force")) { a->force = 1; continue; }
        if (!strcmp(flag, "--verbose")) { verbose = 1; continue; }
        if (!is_value_flag(flag)) return !fail("unknown option '%s' (see kineto --help)", flag);
        if (i + 1 >= argc) return !fail("%s needs a value", flag);
        const char *value = argv[++i];
        char *end;
        if (!strcmp(flag, "--prompt")) a->prompt = value;
        else if (!strcmp(flag, "--negative")) a->negative = value;
        else if (!strcmp(flag, "--out")) a->out_dir = value;
        else if (!strcmp(flag, "--gif")) a->gif = value;
        else if (!strcmp(flag, "--weights")) a->weights = value;
        else if (!strcmp(flag, "--steps")) { if (!parse_long(flag, value, 1, KINETO_MAX_STEPS, &a->steps)) return 0; }
        else if (!strcmp(flag, "--frames")) { if (!parse_long(flag, value, 1, 1 << 16, &a->frames)) return 0; }
        else if (!strcmp(flag, "--threads")) { if (!parse_long(flag, value, 0, 64, &a->threads)) return 0; }
        else if (!strcmp(flag, "--seed")) {
            errno = 0;
            a->seed = strtoull(value, &end, 0);
            if (errno || end == value || *end || value[0] == '-')
                return !fail("--seed: '%s' is not a non-negative 64-bit integer", value);
        } else if (!strcmp(flag, "--renoise")) {
            a->renoise = strtod(value, &end);
            if (end == value || *end || !(a->renoise >= 0 && a->renoise <= 1))
                return !fail("--renoise: '%s' is not a number in 0..1", value);
        } else { /* --guidance */
            a->guidance = strtod(value, &end);
            if (end == value || *end || !(a->guidance >= 0 && a->guidance <= KINETO_MAX_GUIDANCE)) {
                fprintf(stderr, "kineto: --guidance: '%s' is not a number in 0..%g\n", value, (double)KINETO_MAX_GUIDANCE);
                return 0;
            }
        }
    }
    return 1;
}

/* ---- weights location ---- */
static char weights_buf[PATH_MAX + 64];

static const char *default_weights(void) {
    const char *env = getenv("KINETO_WEIGHTS");
    if (env && env[0]) return env;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');           /* .../build/kineto -> .../build */
        if (slash) *slash = 0;
        slash = strrchr(exe, '/');                 /* .../build -> ... */
        if (slash) {
            *slash = 0;
            snprintf(weights_buf, sizeof weights_buf, "%s/%s", exe, DEFAULT_WEIGHTS);
            if (access(weights_buf, R_OK) == 0) return weights_buf;
        }
    }
    return DEFAULT_WEIGHTS;
}

static kineto_ctx *load(const char *path) {
    kineto_status st;
    kineto_ctx *ctx = kineto_load_file(path, &st);
    if (!ctx) fail_status(path, st);
    return ctx;
}

/* ---- info ---- */
static int cmd_info(const cli_args *a) {
    const char *path = a->weights ? a->weights : default_weights();
    kineto_ctx *ctx = load(path);
    if (!ctx) return 1;
    kineto_info in = kineto_model_info(ctx);
    printf("weights          %s\n", path);
    printf("clip             %d frames of %dx%d at %d fps\n", in.frames, in.width, in.height, in.fps);
    printf("latent           %d channels of %dx%d\n", in.latent_channels, in.latent_w, in.latent_h);
    printf("parameters       %lld\n", (long long)in.n_params);
    printf("prompt           at most %d known words\n", in.max_tokens);
    printf("defaults         %d steps, guidance %g, renoise %g\n", in.default_steps, (double)in.default_guidance,
           (double)in.default_renoise);
    printf("vocabulary       %d words:", in.vocab_size - 1);
    for (int i = 1; i < in.vocab_size; i++) printf(" %s", kineto_vocab_word(ctx, i));
    printf("\n");
    kineto_free(ctx);
    return 0;
}

/* ---- generate ---- */
static char *frame_path(const char *dir, int f) {
    size_t n = strlen(dir) + 32;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/frame_%03d.png", dir, f);
    return p;
}

/* Refuses to replace an existing file unless --force. */
static int may_write(const char *path, int force) {
    if (force || access(path, F_OK) != 0) return 1;
    fail("%s exists; pass --force to overwrite it", path);
    return 0;
}

static int check_outputs(const cli_args *a, int frames) {
    if (a->out_dir) {
        struct stat sb;
        if (stat(a->out_dir, &sb) != 0 && mkdir(a->out_dir, 0777) != 0)
            return fail("cannot create directory %s", a->out_dir), 0;
        if (stat(a->out_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) return fail("%s is not a directory", a->out_dir), 0;
        for (int f = 0; f < frames; f++) {
            char *p = frame_path(a->out_dir, f);
            int ok = p && may_write(p, a->force);
            free(p);
            if (!ok) return 0;
        }
    }
    return !a->gif || may_write(a->gif, a->force);
}

static int write_outputs(const cli_args *a, const uint8_t *rgba, int frames, const kineto_info *in) {
    const char *why = "";
    size_t frame_bytes = (size_t)in->width * in->height * 4;
    for (int f = 0; a->out_dir && f < frames; f++) {
        char *p = frame_path(a->out_dir, f);
        if (!p || kn_write_png(p, rgba + f * frame_bytes, in->width, in->height, &why) != 0) {
            fprintf(stderr, "kineto: %s: %s\n", p ? p : a->out_dir, p ? why : "out of memory");
            free(p);
            return 0;
        }
        free(p);
    }
    if (a->out_dir) printf("wrote %d frames to %s/\n", frames, a->out_dir);
    if (a->gif) {
        if (kn_write_gif(a->gif, rgba, frames, in->width, in->height, in->fps, &why) != 0) {
            fprintf(stderr, "kineto: %s: %s\n", a->gif, why);
            return 0;
        }
        printf("wrote %s\n", a->gif);
    }
    return 1;
}

static int cmd_generate(const cli_args *a) {
    if (!a->prompt) return fail("%s", "generate needs --prompt TEXT");
    if (!a->out_dir && !a->gif) return fail("%s", "generate needs --out DIR and/or --gif FILE");
    kineto_ctx *ctx = load(a->weights ? a->weights : default_weights());
    if (!ctx) return 1;
    kineto_info in = kineto_model_info(ctx);
    kineto_params p = kineto_default_params();
    p.prompt = a->prompt;
    p.negative_prompt = a->negative;
    p.seed = a->seed;
    p.steps = (int)a->steps;
    p.guidance = (float)a->guidance;
    p.renoise = (float)a->renoise;
    p.frames = (int)a->frames;
    p.threads = (int)a->threads;
    p.temporal_attention = !a->no_temporal;

    int rc = 1;
    uint8_t *rgba = NULL;
    kineto_status st = kineto_begin(ctx, &p);
    if (st != KINETO_OK) { fail_status("generate", st); goto done; }
    int frames = kineto_frames(ctx);
    if (!check_outputs(a, frames)) goto done;
    size_t bytes = (size_t)frames * in.width * in.height * 4;
    rgba = malloc(bytes);
    if (!rgba) { fail("%s", "out of memory for the frames"); goto done; }

    double start = now_seconds();
    while (!kineto_done(ctx)) {
        double t = now_seconds();
        if ((st = kineto_step(ctx)) != KINETO_OK) { fail_status("step", st); goto done; }
        printf("step %d/%d  %.2f s\n", kineto_steps_done(ctx), kineto_steps_total(ctx), now_seconds() - t);
        fflush(stdout);
    }
    double t = now_seconds();
    if ((st = kineto_decode(ctx, rgba, bytes)) != KINETO_OK) { fail_status("decode", st); goto done; }
    printf("decoded %d frames  %.2f s (total %.2f s)\n", frames, now_seconds() - t, now_seconds() - start);
    if (write_outputs(a, rgba, frames, &in)) rc = 0;
done:
    free(rgba);
    kineto_free(ctx);
    return rc;
}

static void usage(FILE *to) {
    fprintf(to,
            "usage: kineto generate --prompt TEXT [--seed N] [--steps N] [--guidance G] [--renoise R]\n"
            "                       [--negative TEXT] [--frames N] [--threads N] [--no-temporal] [--out DIR]\n"
            "                       [--gif FILE] [--weights FILE] [--force] [--verbose]\n"
            "       kineto info [--weights FILE]\n"
            "Weights default to $KINETO_WEIGHTS, else %s beside the build directory.\n",
            DEFAULT_WEIGHTS);
}

/* Ctrl+C or a kill while a file is being written leaves no temporary file behind. */
static void on_signal(int sig) {
    kn_remove_partial_output();
    signal(sig, SIG_DFL);
    raise(sig);
}

int main(int argc, char **argv) {
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    kineto_set_log(log_to_stderr, NULL);
    cli_args a;
    if (!parse_args(argc, argv, &a)) return 2;
    if (!strcmp(argv[1], "generate")) return cmd_generate(&a);
    if (!strcmp(argv[1], "info")) return cmd_info(&a);
    fprintf(stderr, "kineto: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
