/* kineto_cli.c — the command line:
     kineto generate --prompt TEXT [--prompt TEXT ...] [--seed N] [--steps N] [--guidance G] [--renoise R]
                     [--negative TEXT] [--frames N] [--seamless] [--overlap N] [--threads N] [--no-temporal]
                     [--image FILE] [--out DIR] [--gif FILE] [--weights FILE] [--force] [--verbose]
   --prompt given more than once makes a storyboard, one shot each, --frames split evenly over them
   (each shot the model's window when --frames is absent).
     kineto info [--weights FILE]
     kineto --version
   Weights: --weights, else $KINETO_WEIGHTS, else weights/kineto-world.kin of the repository the binary
   was built in (build/kineto -> ../weights/), else of the current directory. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "encode.h"
#include "io/image_decode.h"
#include "kineto.h"
#include "out_files.h"
#include "terminal.h"

#define DEFAULT_WEIGHTS "weights/kineto-world.kin"
#define MAX_IMAGE_FILE_BYTES ((long)256 << 20) /* an --image file; an 8192x8192 PNG is far smaller */
#ifndef KINETO_VERSION
#define KINETO_VERSION "unknown" /* build.sh passes package.json's version */
#endif

static int verbose;

static void log_to_stderr(int level, const char *msg, void *user_data) {
    (void)user_data;
    if (level == 1) kn_note("warning: ", msg);
    else if (level == 0 && verbose) kn_note("", msg);
    /* errors are printed once, by fail_status() */
}

static int fail_status(const char *what, kineto_status st) {
    const char *detail = kineto_last_error();
    return kn_complain("%s: %s", what, detail[0] ? detail : kineto_status_str(st));
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- arguments: numbers are plain decimal, nothing around them ---- */
typedef struct {
    const char *prompts[KINETO_MAX_SHOTS]; /* one per --prompt, in order */
    int n_prompts;
    const char *negative, *out_dir, *gif, *weights, *image;
    unsigned long long seed;
    long steps, frames, threads, overlap;
    double guidance, renoise;
    int no_temporal, force, seamless;
} cli_args;

/* Decimal digits only (no sign, space or base prefix), at most max. */
static int parse_decimal(const char *s, unsigned long long max, unsigned long long *out) {
    unsigned long long v = 0;
    if (!*s) return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return 0;
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

static int parse_long(const char *flag, const char *s, long lo, long hi, long *out) {
    unsigned long long v;
    if (!parse_decimal(s, (unsigned long long)hi, &v) || (long long)v < lo) {
        kn_complain("%s: '%s' is not a whole number in %ld..%ld", flag, s, lo, hi);
        return 0;
    }
    *out = (long)v;
    return 1;
}

/* A plain decimal fraction such as 1.5 or 2e-1: no sign, space, hex, inf or nan. */
static int parse_fraction(const char *s, double lo, double hi, double *out) {
    if (!((*s >= '0' && *s <= '9') || *s == '.') || strpbrk(s, "xXpP")) return 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= hi)) return 0;
    *out = v;
    return 1;
}

static int is_value_flag(const char *flag) {
    static const char *const flags[] = {"--prompt", "--negative", "--out", "--gif", "--weights", "--steps",
                                        "--frames", "--threads", "--seed", "--guidance", "--renoise",
                                        "--overlap", "--image"};
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
        if (!strcmp(flag, "--seamless")) { a->seamless = 1; continue; }
        if (!strcmp(flag, "--verbose")) { verbose = 1; continue; }
        if (!is_value_flag(flag)) return !kn_complain("unknown option '%s' (see kineto --help)", flag);
        if (i + 1 >= argc) return !kn_complain("%s needs a value", flag);
        const char *value = argv[++i];
        if (!strcmp(flag, "--prompt")) {
            if (a->n_prompts == KINETO_MAX_SHOTS)
                return !kn_complain("--prompt: more than %d shots (one per --prompt)", KINETO_MAX_SHOTS);
            a->prompts[a->n_prompts++] = value;
        }
        else if (!strcmp(flag, "--negative")) a->negative = value;
        else if (!strcmp(flag, "--out")) a->out_dir = value;
        else if (!strcmp(flag, "--gif")) a->gif = value;
        else if (!strcmp(flag, "--weights")) a->weights = value;
        else if (!strcmp(flag, "--image")) a->image = value;
        else if (!strcmp(flag, "--steps")) { if (!parse_long(flag, value, 1, KINETO_MAX_STEPS, &a->steps)) return 0; }
        else if (!strcmp(flag, "--frames")) { if (!parse_long(flag, value, 1, KINETO_MAX_FRAMES, &a->frames)) return 0; }
        else if (!strcmp(flag, "--overlap")) { if (!parse_long(flag, value, 1, KINETO_MAX_FRAMES, &a->overlap)) return 0; }
        else if (!strcmp(flag, "--threads")) { if (!parse_long(flag, value, 0, 64, &a->threads)) return 0; }
        else if (!strcmp(flag, "--seed")) {
            if (!parse_decimal(value, UINT64_MAX, &a->seed))
                return !kn_complain("--seed: '%s' is not a decimal whole number in 0..18446744073709551615", value);
        } else if (!strcmp(flag, "--renoise")) {
            if (!parse_fraction(value, 0, 1, &a->renoise)) return !kn_complain("--renoise: '%s' is not a number in 0..1", value);
        } else if (!parse_fraction(value, 0, KINETO_MAX_GUIDANCE, &a->guidance)) { /* --guidance */
            return !kn_complain("--guidance: '%s' is not a number in 0..%g", value, (double)KINETO_MAX_GUIDANCE);
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

/* The command's exit status once stdout has been checked. */
static int finish(int rc) {
    int err = kn_stdout_error();
    if (err && rc == 0) return kn_complain("standard output: %s", strerror(err));
    return rc;
}

/* ---- --image: the file's bytes, checked and decoded to RGBA (io/image_decode.h) ---- */
static int read_image(const char *path, kn_image *img) {
    FILE *f = fopen(path, "rb");
    if (!f) return kn_complain("--image %s: %s", path, strerror(errno));
    uint8_t *data = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return kn_complain("--image %s: cannot read it (a directory?)", path);
    }
    if (size > MAX_IMAGE_FILE_BYTES) {
        fclose(f);
        return kn_complain("--image %s: %ld bytes, over the %ld MB an image file may have", path, size,
                           MAX_IMAGE_FILE_BYTES >> 20);
    }
    data = malloc(size ? (size_t)size : 1);
    size_t got = data ? fread(data, 1, (size_t)size, f) : 0;
    int read_error = ferror(f);
    fclose(f);
    if (!data) return kn_complain("--image %s: out of memory reading %ld bytes", path, size);
    if (got != (size_t)size || read_error) {
        free(data);
        return kn_complain("--image %s: cannot read it (a directory?)", path);
    }
    char why[256];
    int rc = kn_image_decode(data, (size_t)size, KINETO_MAX_IMAGE_SIDE, img, why, sizeof why);
    free(data);
    return rc ? kn_complain("--image %s: %s", path, why) : 0;
}

/* ---- info ---- */
static int cmd_info(const cli_args *a) {
    const char *path = a->weights ? a->weights : default_weights();
    kineto_ctx *ctx = load(path);
    if (!ctx) return 1;
    kineto_info in = kineto_model_info(ctx);
    kn_say("weights          %s\n", path);
    kn_say("clip             %d frames of %dx%d at %d fps\n", in.frames, in.width, in.height, in.fps);
    kn_say("latent           %d channels of %dx%d\n", in.latent_channels, in.latent_w, in.latent_h);
    kn_say("parameters       %lld\n", (long long)in.n_params);
    kn_say("prompt           at most %d known words\n", in.max_tokens);
    kn_say("defaults         %d steps, guidance %g, renoise %g\n", in.default_steps, (double)in.default_guidance,
           (double)in.default_renoise);
    if (in.has_encoder) kn_say("image start      yes: images are scaled to %dx%d\n", in.encoder_width, in.encoder_height);
    else kn_say("image start      no (the weights have no VAE encoder)\n");
    kn_say("given frames     %s\n", in.clean_context ? "clean, at time 0 (a noise level per frame)"
                                                     : "noised to each step's time");
    kn_say("vocabulary       %d words:", in.vocab_size - 1);
    for (int i = 1; i < in.vocab_size; i++) kn_say(" %s", kineto_vocab_word(ctx, i));
    kn_say("\n");
    kineto_free(ctx);
    return 0;
}

/* ---- generate ---- */
/* Encodes and writes every file under a temporary name, then renames them all into place. */
static int write_outputs(kn_out_files *out, const cli_args *a, const uint8_t *rgba, int frames, const kineto_info *in) {
    char why[PATH_MAX + 256];
    const char *reason = "";
    kn_bytes bytes = {0};
    size_t frame_bytes = (size_t)in->width * in->height * 4;
    int ok = kn_out_begin(out, why, sizeof why) == 0;
    for (int f = 0; ok && a->out_dir && f < frames; f++) {
        if (kn_encode_png(&bytes, rgba + f * frame_bytes, in->width, in->height) != 0)
            ok = 0, snprintf(why, sizeof why, "frame %d: out of memory encoding the PNG", f);
        else ok = kn_out_frame(out, f, bytes.data, bytes.size, why, sizeof why) == 0;
    }
    if (ok && a->gif) {
        if (kn_encode_gif(&bytes, rgba, frames, in->width, in->height, in->fps, &reason) != 0)
            ok = 0, snprintf(why, sizeof why, "%s: %s", a->gif, reason);
        else ok = kn_out_gif(out, bytes.data, bytes.size, why, sizeof why) == 0;
    }
    kn_bytes_free(&bytes);
    if (ok) ok = kn_out_commit(out, why, sizeof why) == 0;
    if (!ok) {
        kn_out_abort(out);
        return kn_complain("%s", why);
    }
    if (a->out_dir) kn_say("wrote %d frames to %s/\n", frames, a->out_dir);
    if (a->gif) kn_say("wrote %s\n", a->gif);
    return 0;
}

/* One shot per --prompt: --frames split evenly (the first ones a frame longer), or the model's window
   each. Returns the clip's frames, or 0 after complaining. */
static int plan_shots(const cli_args *a, const kineto_info *in, kineto_shot *shots) {
    if (a->n_prompts == 1) return a->frames ? (int)a->frames : in->frames;
    if (a->frames && a->frames < a->n_prompts)
        return !kn_complain("--frames %ld is fewer than the %d shots (one per --prompt)", a->frames, a->n_prompts);
    int total = 0;
    for (int i = 0; i < a->n_prompts; i++) {
        shots[i].prompt = a->prompts[i];
        shots[i].frames = a->frames ? (int)(a->frames / a->n_prompts + (i < a->frames % a->n_prompts)) : in->frames;
        total += shots[i].frames;
    }
    if (total > KINETO_MAX_FRAMES)
        return !kn_complain("%d shots of %d frames make %d, over the clip's %d: give --frames", a->n_prompts,
                            in->frames, total, KINETO_MAX_FRAMES);
    return total;
}

static int cmd_generate(const cli_args *a) {
    if (!a->n_prompts) return kn_complain("generate needs --prompt TEXT");
    if (!a->out_dir && !a->gif) return kn_complain("generate needs --out DIR and/or --gif FILE");
    const char *weights = a->weights ? a->weights : default_weights();
    kineto_ctx *ctx = load(weights);
    if (!ctx) return 1;
    kineto_info in = kineto_model_info(ctx);
    kineto_shot shots[KINETO_MAX_SHOTS];
    kn_image image = {0};
    int frames = plan_shots(a, &in, shots);
    if (!frames) {
        kineto_free(ctx);
        return 1;
    }
    if (a->seamless && frames < 2) {
        kineto_free(ctx);
        return kn_complain("--seamless needs at least 2 frames (--frames %d)", frames);
    }
    if (a->image && !in.has_encoder) {
        kineto_free(ctx);
        return kn_complain("--image: the weights %s have no VAE encoder; image start needs one", weights);
    }
    if (a->image && frames < 2) {
        kineto_free(ctx);
        return kn_complain("--image needs at least 2 frames (--frames %d): the image is the first", frames);
    }
    if (a->image && read_image(a->image, &image) != 0) {
        kineto_free(ctx);
        return 1;
    }
    if (a->overlap && a->overlap >= in.frames) {
        kineto_free(ctx);
        return kn_complain("--overlap: '%ld' is not below the model's window of %d frames", a->overlap, in.frames);
    }
    char why[PATH_MAX + 256];
    kn_out_files *out = NULL;
    /* every output path is checked before the work */
    if (!(out = kn_out_plan(a->out_dir, frames, a->gif, a->force, why, sizeof why))) {
        kineto_free(ctx);
        kn_image_free(&image);
        return kn_complain("%s", why);
    }
    kineto_params p = kineto_default_params();
    p.prompt = a->prompts[0];
    if (a->n_prompts > 1) {
        p.shots = shots;
        p.n_shots = a->n_prompts;
    } else {
        p.frames = frames;
    }
    p.negative_prompt = a->negative;
    p.seed = a->seed;
    p.steps = (int)a->steps;
    p.guidance = (float)a->guidance;
    p.renoise = (float)a->renoise;
    p.threads = (int)a->threads;
    p.temporal_attention = !a->no_temporal;
    p.seamless = a->seamless;
    p.overlap = (int)a->overlap;
    if (image.rgba) {
        p.image = image.rgba;
        p.image_width = image.width;
        p.image_height = image.height;
        kn_say("image %dx%d, scaled to %dx%d for the encoder, is frame 0\n", image.width, image.height, in.encoder_width,
               in.encoder_height);
    }
    int rc = 1;
    uint8_t *rgba = NULL;
    kineto_status st = kineto_begin(ctx, &p);
    if (st != KINETO_OK) { fail_status("generate", st); goto done; }
    size_t bytes = (size_t)frames * in.width * in.height * 4;
    rgba = malloc(bytes);
    if (!rgba) { kn_complain("out of memory for the frames"); goto done; }

    double start = now_seconds();
    while (!kineto_done(ctx)) {
        double t = now_seconds();
        if ((st = kineto_step(ctx)) != KINETO_OK) { fail_status("step", st); goto done; }
        kn_say("step %d/%d  %.2f s\n", kineto_steps_done(ctx), kineto_steps_total(ctx), now_seconds() - t);
    }
    double t = now_seconds();
    if ((st = kineto_decode(ctx, rgba, bytes)) != KINETO_OK) { fail_status("decode", st); goto done; }
    kn_say("decoded %d frames  %.2f s (total %.2f s)\n", frames, now_seconds() - t, now_seconds() - start);
    rc = write_outputs(out, a, rgba, frames, &in);
done:
    free(rgba);
    kn_image_free(&image);
    kn_out_free(out);
    kineto_free(ctx);
    return rc;
}

static void usage(FILE *to) {
    fprintf(to,
            "usage: kineto generate --prompt TEXT [--prompt TEXT ...] [--seed N] [--steps N] [--guidance G]\n"
            "                       [--renoise R] [--negative TEXT] [--frames N] [--seamless] [--overlap N]\n"
            "                       [--threads N] [--no-temporal] [--image FILE] [--out DIR] [--gif FILE]\n"
            "                       [--weights FILE] [--force] [--verbose]\n"
            "       kineto info [--weights FILE]\n"
            "       kineto --version\n"
            "  --frames N     1..%d frames; past the model's window the clip is made window by window\n"
            "  --prompt       given more than once: a storyboard, one shot per prompt in order, --frames\n"
            "                 split evenly (each shot the model's window without --frames)\n"
            "  --seamless     a loop: the last frame leads into the first\n"
            "  --overlap N    known frames each window starts from (default half the window)\n"
            "  --renoise R    0..1: share of each step's noise estimate replaced by fresh noise (0 = Euler)\n"
            "  --image FILE   a PNG or JPEG (up to %dx%d) as the first frame, over black where transparent;\n"
            "                 the clip moves on from it (needs weights with the VAE encoder)\n"
            "  --no-temporal  skip the temporal attention (for ablations)\n"
            "Steps, guidance and renoise default to the model's. Weights default to $KINETO_WEIGHTS, else\n"
            "%s beside the build directory.\n",
            KINETO_MAX_FRAMES, KINETO_MAX_IMAGE_SIDE, KINETO_MAX_IMAGE_SIDE, DEFAULT_WEIGHTS);
}

int main(int argc, char **argv) {
    /* A closed stdout is seen as EPIPE, not a kill: the files still get written. A file-size limit
       is seen as EFBIG on the write, which fails the run cleanly instead of killing it mid-file. */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : finish(0);
    }
    if (!strcmp(argv[1], "--version")) {
        printf("kineto %s\n", KINETO_VERSION);
        return finish(0);
    }
    kineto_set_log(log_to_stderr, NULL);
    cli_args a;
    if (!parse_args(argc, argv, &a)) return 2;
    if (!strcmp(argv[1], "generate")) return finish(cmd_generate(&a));
    if (!strcmp(argv[1], "info")) return finish(cmd_info(&a));
    kn_complain("unknown command '%s'", argv[1]);
    usage(stderr);
    return 2;
}
