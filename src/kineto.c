/* kineto.c — the public API (include/kineto.h): context, parameters, and a generation run step by step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "clip.h"
#include "image_scale.h"
#include "model/vae_encoder.h"
#include "tokenizer.h"
#include "weights.h"

typedef enum { IDLE, RUNNING } gen_state;

struct kineto_ctx {
    kn_model *model;
    gen_state state;
    kn_clip clip;      /* the generation: its windows, shots and buffers */
    kn_vocab vocab;    /* the model's words, indexed for the tokenizer */
    char *unknown;     /* unknown words of the last kineto_begin */
};

kineto_params kineto_default_params(void) {
    kineto_params p = {
        /*.prompt =*/ NULL,
        /*.negative_prompt =*/ NULL,
        /*.seed =*/ 0,
        /*.steps =*/ 0,              /* the model's default */
        /*.guidance =*/ KINETO_GUIDANCE_DEFAULT,
        /*.frames =*/ 0,             /* the model's */
        /*.threads =*/ 0,            /* as many as the machine has, up to KN_MAX_THREADS */
        /*.temporal_attention =*/ 1,
        /*.renoise =*/ KINETO_RENOISE_DEFAULT,
        /*.shots =*/ NULL,           /* one shot of prompt */
        /*.n_shots =*/ 0,
        /*.overlap =*/ 0,            /* half the model's window */
        /*.seamless =*/ 0,
        /*.image =*/ NULL,           /* a clip from noise */
        /*.image_width =*/ 0,
        /*.image_height =*/ 0,
    };
    return p;
}

static kineto_ctx *finish_load(kn_model *m, kineto_status *status) {
    if (!m) return NULL;
    kineto_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        kn_model_free(m);
        *status = kn_fail(KINETO_ERR_NOMEM, "out of memory creating the context");
        return NULL;
    }
    ctx->model = m;
    if (kn_vocab_init(&ctx->vocab, m->vocab, m->hp.vocab_size) != 0) {
        kineto_free(ctx);
        *status = kn_fail(KINETO_ERR_NOMEM, "out of memory indexing the vocabulary");
        return NULL;
    }
    *status = KINETO_OK;
    return ctx;
}

kineto_ctx *kineto_load_buffer(const void *data, size_t size, kineto_status *status) {
    kineto_status ignored;
    if (!status) status = &ignored;
    kn_clear_error();
    return finish_load(kn_model_load(data, size, status), status);
}

kineto_ctx *kineto_load_file(const char *path, kineto_status *status) {
    kineto_status ignored;
    if (!status) status = &ignored;
    kn_clear_error();
    if (!path) {
        *status = kn_fail(KINETO_ERR_ARG, "weights path is NULL");
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        *status = kn_fail(KINETO_ERR_IO, "cannot open weights file '%s'", path);
        return NULL;
    }
    long size = -1;
    /* a directory opens but cannot be read; its "size" would be meaningless */
    if (fgetc(f) == EOF && ferror(f)) {
        fclose(f);
        *status = kn_fail(KINETO_ERR_IO, "cannot read weights file '%s' (a directory?)", path);
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        *status = kn_fail(KINETO_ERR_IO, "cannot read weights file '%s'", path);
        return NULL;
    }
    if ((uint64_t)size > KN_MEMORY_CAP) {
        fclose(f);
        *status = kn_fail(KINETO_ERR_HPARAMS, "weights file '%s' is %ld bytes, over the %llu MB limit", path, size,
                          (unsigned long long)(KN_MEMORY_CAP >> 20));
        return NULL;
    }
    uint8_t *data = malloc(size ? (size_t)size : 1);
    if (!data) {
        fclose(f);
        *status = kn_fail(KINETO_ERR_NOMEM, "out of memory reading '%s' (%ld bytes)", path, size);
        return NULL;
    }
    size_t got = fread(data, 1, (size_t)size, f);
    fclose(f);
    if (got != (size_t)size) {
        free(data);
        *status = kn_fail(KINETO_ERR_IO, "short read of weights file '%s'", path);
        return NULL;
    }
    kineto_ctx *ctx = finish_load(kn_model_load(data, (size_t)size, status), status);
    free(data);
    return ctx;
}

void kineto_free(kineto_ctx *ctx) {
    if (!ctx) return;
    kineto_end(ctx);
    free(ctx->unknown);
    kn_vocab_free(&ctx->vocab);
    kn_model_free(ctx->model);
    free(ctx);
}

kineto_info kineto_model_info(const kineto_ctx *ctx) {
    kineto_info info;
    memset(&info, 0, sizeof info);
    if (!ctx) return info;
    const kn_hparams *hp = &ctx->model->hp;
    info.frames = hp->frames;
    info.height = hp->height;
    info.width = hp->width;
    info.fps = hp->fps;
    info.latent_channels = hp->latent_channels;
    info.latent_h = hp->latent_h;
    info.latent_w = hp->latent_w;
    info.vocab_size = hp->vocab_size;
    info.max_tokens = hp->max_tokens;
    info.default_steps = hp->default_steps;
    info.default_guidance = hp->default_guidance;
    info.default_renoise = hp->default_renoise;
    info.n_params = ctx->model->n_params;
    info.has_encoder = ctx->model->enc.present;
    info.encoder_width = info.has_encoder ? kn_vae_encoder_width(hp) : 0;
    info.encoder_height = info.has_encoder ? kn_vae_encoder_height(hp) : 0;
    info.clean_context = hp->clean_context;
    return info;
}

const char *kineto_vocab_word(const kineto_ctx *ctx, int i) {
    if (!ctx || i < 0 || i >= ctx->model->hp.vocab_size) return NULL;
    return ctx->model->vocab[i];
}

/* ------------------------------------------------------------------ begin */
static int machine_threads(void) {
#ifdef _SC_NPROCESSORS_ONLN
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n >= 1) return n > KN_MAX_THREADS ? KN_MAX_THREADS : (int)n;
#endif
    return 1;
}

/* Reads at most KINETO_MAX_PROMPT_BYTES + 1 bytes, so a huge prompt is refused at once. */
static int too_long(const char *text) {
    for (size_t i = 0; i <= KINETO_MAX_PROMPT_BYTES; i++)
        if (!text[i]) return 0;
    return 1;
}

static kineto_status check_shots(const kineto_params *p, int *total) {
    if (p->n_shots < 0 || p->n_shots > KINETO_MAX_SHOTS)
        return kn_fail(KINETO_ERR_PARAM, "n_shots = %d out of range 0..%d", p->n_shots, KINETO_MAX_SHOTS);
    if (p->n_shots > 0 && !p->shots) return kn_fail(KINETO_ERR_ARG, "params.shots is NULL with n_shots = %d", p->n_shots);
    *total = 0;
    for (int i = 0; i < p->n_shots; i++) {
        const kineto_shot *s = &p->shots[i];
        if (!s->prompt) return kn_fail(KINETO_ERR_ARG, "shots[%d].prompt is NULL", i);
        if (too_long(s->prompt))
            return kn_fail(KINETO_ERR_PROMPT_TOO_LONG, "shots[%d].prompt is longer than %d bytes", i,
                           KINETO_MAX_PROMPT_BYTES);
        if (s->frames < 1 || s->frames > KINETO_MAX_FRAMES)
            return kn_fail(KINETO_ERR_PARAM, "shots[%d].frames = %d out of range 1..%d", i, s->frames,
                           KINETO_MAX_FRAMES);
        *total += s->frames;
    }
    if (*total > KINETO_MAX_FRAMES)
        return kn_fail(KINETO_ERR_PARAM, "shots: %d frames in all, over the clip's %d", *total, KINETO_MAX_FRAMES);
    if (p->n_shots > 0 && p->frames != 0 && p->frames != *total)
        return kn_fail(KINETO_ERR_PARAM, "frames = %d but the shots sum to %d (0 = their sum)", p->frames, *total);
    return KINETO_OK;
}

static kineto_status check_image(const kn_hparams *hp, const kineto_params *p, int frames, int has_encoder) {
    if (!p->image && !p->image_width && !p->image_height) return KINETO_OK;
    if (!p->image)
        return kn_fail(KINETO_ERR_IMAGE, "image is NULL with image_width %d and image_height %d", p->image_width,
                       p->image_height);
    if (p->image_width < 1 || p->image_width > KINETO_MAX_IMAGE_SIDE || p->image_height < 1 ||
        p->image_height > KINETO_MAX_IMAGE_SIDE)
        return kn_fail(KINETO_ERR_IMAGE, "image of %dx%d pixels: each side must be 1..%d", p->image_width,
                       p->image_height, KINETO_MAX_IMAGE_SIDE);
    if (!has_encoder)
        return kn_fail(KINETO_ERR_NO_ENCODER, "these weights have no VAE encoder (vae_enc.*); image start needs one");
    if (frames < 2) return kn_fail(KINETO_ERR_PARAM, "an image start needs at least 2 frames (frames = %d)", frames);
    if (hp->frames < 2)
        return kn_fail(KINETO_ERR_PARAM, "an image start needs a model window of at least 2 frames (it has %d)",
                       hp->frames);
    return KINETO_OK;
}

/* The start image's diffusion latent (C, h, w) into latent: scaled, encoded, times latent_scale. */
static kineto_status encode_image(const kn_model *m, const kineto_params *p, float *latent) {
    const kn_hparams *hp = &m->hp;
    const int He = kn_vae_encoder_height(hp), We = kn_vae_encoder_width(hp);
    const uint64_t planes = (uint64_t)3 * He * We;
    const uint64_t scale_work = kn_image_scale_work_floats(p->image_width, p->image_height, We, He);
    const uint64_t enc_work = kn_vae_encoder_work_floats(hp);
    const uint64_t floats = planes + (scale_work > enc_work ? scale_work : enc_work);
    float *work = floats <= SIZE_MAX / sizeof(float) ? malloc((size_t)floats * sizeof(float)) : NULL;
    if (!work) return kn_fail(KINETO_ERR_NOMEM, "out of memory encoding a %dx%d image", p->image_width, p->image_height);
    kn_image_to_planes(p->image, p->image_width, p->image_height, work, We, He, work + planes);
    kn_vae_encode(m, work, latent, work + planes);
    const size_t n = (size_t)hp->latent_channels * hp->latent_h * hp->latent_w;
    for (size_t i = 0; i < n; i++) latent[i] *= hp->latent_scale;
    free(work);
    return KINETO_OK;
}

/* Checks every parameter; *frames = the clip's length. */
static kineto_status check_params(const kn_hparams *hp, const kineto_params *p, int has_encoder, int *frames) {
    if (!p->prompt && p->n_shots == 0) return kn_fail(KINETO_ERR_ARG, "params.prompt is NULL");
    if (p->n_shots == 0 && too_long(p->prompt))
        return kn_fail(KINETO_ERR_PROMPT_TOO_LONG, "the prompt is longer than %d bytes", KINETO_MAX_PROMPT_BYTES);
    if (p->negative_prompt && too_long(p->negative_prompt))
        return kn_fail(KINETO_ERR_PROMPT_TOO_LONG, "the negative prompt is longer than %d bytes",
                       KINETO_MAX_PROMPT_BYTES);
    if (p->steps < 0 || p->steps > KINETO_MAX_STEPS)
        return kn_fail(KINETO_ERR_PARAM, "steps = %d out of range 1..%d (0 = the model's default %d)", p->steps,
                       KINETO_MAX_STEPS, hp->default_steps);
    if (p->guidance != KINETO_GUIDANCE_DEFAULT && !(p->guidance >= 0.0f && p->guidance <= KINETO_MAX_GUIDANCE))
        return kn_fail(KINETO_ERR_PARAM, "guidance = %g out of range 0..%g (or KINETO_GUIDANCE_DEFAULT)", (double)p->guidance,
                       (double)KINETO_MAX_GUIDANCE);
    if (p->renoise != KINETO_RENOISE_DEFAULT && !(p->renoise >= 0.0f && p->renoise <= 1.0f))
        return kn_fail(KINETO_ERR_PARAM, "renoise = %g out of range 0..1 (or KINETO_RENOISE_DEFAULT)",
                       (double)p->renoise);
    if (p->frames < 0 || p->frames > KINETO_MAX_FRAMES)
        return kn_fail(KINETO_ERR_PARAM, "frames = %d out of range 1..%d (0 = the model's %d)", p->frames,
                       KINETO_MAX_FRAMES, hp->frames);
    int shot_frames = 0;
    kineto_status st = check_shots(p, &shot_frames);
    if (st != KINETO_OK) return st;
    *frames = p->n_shots ? shot_frames : p->frames ? p->frames : hp->frames;
    if (p->threads < 0 || p->threads > KN_MAX_THREADS)
        return kn_fail(KINETO_ERR_PARAM, "threads = %d out of range 1..%d (0 = automatic)", p->threads, KN_MAX_THREADS);
    if (p->temporal_attention != 0 && p->temporal_attention != 1)
        return kn_fail(KINETO_ERR_PARAM, "temporal_attention = %d, expected 0 or 1", p->temporal_attention);
    if (p->overlap < 0 || (p->overlap > 0 && p->overlap >= hp->frames))
        return kn_fail(KINETO_ERR_PARAM, "overlap = %d out of range 1..%d (0 = the default %d)", p->overlap,
                       hp->frames - 1, kn_clip_default_overlap(hp->frames));
    if (p->seamless != 0 && p->seamless != 1)
        return kn_fail(KINETO_ERR_PARAM, "seamless = %d, expected 0 or 1", p->seamless);
    if (p->seamless && *frames < 2)
        return kn_fail(KINETO_ERR_PARAM, "seamless needs at least 2 frames (frames = %d)", *frames);
    if (p->seamless && hp->frames < 2)
        return kn_fail(KINETO_ERR_PARAM, "seamless needs a model window of at least 2 frames (it has %d)", hp->frames);
    return check_image(hp, p, *frames, has_encoder);
}

/* Tokenizes one prompt into ids (capacity max_tokens); appends its unknown words to ctx->unknown. */
static kineto_status tokenize_prompt(kineto_ctx *ctx, const char *text, const char *what, int *ids, int *n_ids,
                                     int required) {
    const kn_hparams *hp = &ctx->model->hp;
    size_t len = strlen(text), at = strlen(ctx->unknown);
    char *unknown = malloc(len + 1);
    if (!unknown) return kn_fail(KINETO_ERR_NOMEM, "out of memory tokenizing the %s", what);
    int words = 0;
    int known = kn_tokenize(text, &ctx->vocab, ids, hp->max_tokens, unknown, len + 1, &words);
    if (unknown[0]) { /* ctx->unknown has room for both prompts' text (sized in kineto_begin) */
        if (at) ctx->unknown[at++] = ' ';
        memcpy(ctx->unknown + at, unknown, strlen(unknown) + 1);
        kn_log(KN_LOG_WARN, "unknown words in the %s: %s", what, unknown);
    }
    free(unknown);
    *n_ids = known;
    if (known > hp->max_tokens)
        return kn_fail(KINETO_ERR_PROMPT_TOO_LONG, "the %s has %d known words, the model reads at most %d", what, known,
                       hp->max_tokens);
    if (required && words == 0) return kn_fail(KINETO_ERR_PROMPT_EMPTY, "the %s has no words", what);
    if (required && known == 0)
        return kn_fail(KINETO_ERR_PROMPT_UNKNOWN, "no word of the %s is in the vocabulary (unknown: %s)", what,
                       ctx->unknown);
    return KINETO_OK;
}

kineto_status kineto_begin(kineto_ctx *ctx, const kineto_params *params) {
    kn_clear_error();
    if (!ctx || !params) return kn_fail(KINETO_ERR_ARG, "kineto_begin: NULL %s", ctx ? "params" : "context");
    kineto_end(ctx);
    const kn_hparams *hp = &ctx->model->hp;
    int frames = 0;
    kineto_status st = check_params(hp, params, ctx->model->enc.present, &frames);
    if (st != KINETO_OK) return st;
    const char *negative = params->negative_prompt ? params->negative_prompt : "";
    /* one shot of `prompt` over the whole clip unless a storyboard is given */
    const kineto_shot one = {params->prompt, frames};
    const kineto_shot *shots = params->n_shots ? params->shots : &one;
    const int n_shots = params->n_shots ? params->n_shots : 1;

    size_t text_bytes = strlen(negative) + 2;
    for (int i = 0; i < n_shots; i++) text_bytes += strlen(shots[i].prompt) + 1;
    free(ctx->unknown);
    ctx->unknown = calloc(text_bytes, 1);
    int *ids = malloc(sizeof(int) * (size_t)(n_shots + 1) * (size_t)hp->max_tokens);
    int *n_ids = malloc(sizeof(int) * (size_t)n_shots), *shot_frames = malloc(sizeof(int) * (size_t)n_shots), n_neg = 0;
    if (!ctx->unknown || !ids || !n_ids || !shot_frames) {
        free(ids), free(n_ids), free(shot_frames);
        return kn_fail(KINETO_ERR_NOMEM, "out of memory starting a generation");
    }
    int *neg_ids = ids + (size_t)n_shots * hp->max_tokens;
    for (int i = 0; i < n_shots && st == KINETO_OK; i++) {
        char what[32];
        if (params->n_shots) snprintf(what, sizeof what, "shots[%d].prompt", i);
        else snprintf(what, sizeof what, "prompt");
        st = tokenize_prompt(ctx, shots[i].prompt, what, ids + (size_t)i * hp->max_tokens, &n_ids[i], 1);
        shot_frames[i] = shots[i].frames;
    }
    if (st == KINETO_OK) st = tokenize_prompt(ctx, negative, "negative prompt", neg_ids, &n_neg, 0);
    const int overlap = params->overlap ? params->overlap : kn_clip_default_overlap(hp->frames);
    const int image_start = params->image != NULL;
    float *first_latent = NULL;
    if (st == KINETO_OK && image_start) {
        kn_threads_set(params->threads ? params->threads : machine_threads()); /* the encoder's convolutions */
        first_latent = malloc(sizeof(float) * (size_t)hp->latent_channels * hp->latent_h * hp->latent_w);
        st = first_latent ? encode_image(ctx->model, params, first_latent)
                          : kn_fail(KINETO_ERR_NOMEM, "out of memory for the image's latent");
    }
    kn_clip *c = &ctx->clip;
    if (st == KINETO_OK &&
        !kn_clip_alloc(c, hp, frames, overlap, shot_frames, n_shots, params->seamless, ids, n_ids, image_start))
        st = kn_fail(KINETO_ERR_NOMEM, "out of memory planning a %d-frame generation", frames);
    free(n_ids);
    free(shot_frames);
    if (st != KINETO_OK) {
        free(ids);
        free(first_latent);
        return st;
    }
    kn_generation *g = &c->gen;
    g->steps = params->steps ? params->steps : hp->default_steps;
    g->guidance = params->guidance == KINETO_GUIDANCE_DEFAULT ? hp->default_guidance : params->guidance;
    g->renoise = params->renoise == KINETO_RENOISE_DEFAULT ? hp->default_renoise : params->renoise;
    g->temporal_on = params->temporal_attention;
    kn_threads_set(params->threads ? params->threads : machine_threads());
    kn_log(KN_LOG_INFO, "generation: %d frames in %d windows of %d (overlap %d), %d shots%s%s, %d steps, guidance %g, "
           "renoise %g, %d threads, %s kernels, %llu KB of buffers", frames, c->n_windows, c->window, overlap, n_shots,
           params->seamless ? ", seamless" : "", image_start ? ", from an image" : "", g->steps, (double)g->guidance, (double)g->renoise, kn_threads_get(),
           kn_kernels_isa(), (unsigned long long)(g->bytes >> 10));
    kn_clip_start(ctx->model, c, neg_ids, n_neg, params->seed, first_latent);
    free(ids);
    free(first_latent);
    ctx->state = RUNNING;
    return KINETO_OK;
}

const char *kineto_unknown_words(const kineto_ctx *ctx) { return ctx && ctx->unknown ? ctx->unknown : ""; }

/* ------------------------------------------------------------------ steps and output */
kineto_status kineto_step(kineto_ctx *ctx) {
    if (!ctx) return kn_fail(KINETO_ERR_ARG, "kineto_step: NULL context");
    if (ctx->state != RUNNING) return kn_fail(KINETO_ERR_STATE, "kineto_step before kineto_begin");
    if (kn_clip_done(&ctx->clip)) return kn_fail(KINETO_ERR_STATE, "kineto_step after the last step");
    kn_clip_step(ctx->model, &ctx->clip);
    return KINETO_OK;
}

int kineto_steps_done(const kineto_ctx *ctx) {
    return ctx && ctx->state == RUNNING ? kn_clip_steps_done(&ctx->clip) : 0;
}
int kineto_steps_total(const kineto_ctx *ctx) {
    return ctx && ctx->state == RUNNING ? kn_clip_steps_total(&ctx->clip) : 0;
}
int kineto_done(const kineto_ctx *ctx) { return ctx && ctx->state == RUNNING && kn_clip_done(&ctx->clip); }
int kineto_frames(const kineto_ctx *ctx) { return ctx && ctx->state == RUNNING ? ctx->clip.frames : 0; }
int kineto_frames_ready(const kineto_ctx *ctx) { return ctx && ctx->state == RUNNING ? ctx->clip.ready : 0; }

static kineto_status check_output(const kineto_ctx *ctx, const uint8_t *rgba, size_t size, const char *fn, int count) {
    if (!ctx || !rgba) return kn_fail(KINETO_ERR_ARG, "%s: NULL %s", fn, ctx ? "buffer" : "context");
    if (ctx->state != RUNNING) return kn_fail(KINETO_ERR_STATE, "%s before kineto_begin", fn);
    const kn_hparams *hp = &ctx->model->hp;
    size_t need = (size_t)count * hp->height * hp->width * 4;
    if (size < need) return kn_fail(KINETO_ERR_ARG, "%s: buffer of %zu bytes, %zu needed", fn, size, need);
    return KINETO_OK;
}

/* rgb (3, h, w) floats -> RGBA bytes (H, W, 4), each source pixel repeated `scale` times each way. */
static void store_rgba(uint8_t *out, const float *rgb, int h, int w, int scale) {
    const int W = w * scale, hw = h * w;
    for (int y = 0; y < h * scale; y++)
        for (int x = 0; x < W; x++) {
            int p = (y / scale) * w + x / scale;
            uint8_t *px = out + ((size_t)y * W + x) * 4;
            px[0] = kn_to_byte(rgb[p]);
            px[1] = kn_to_byte(rgb[hw + p]);
            px[2] = kn_to_byte(rgb[2 * hw + p]);
            px[3] = 255;
        }
}

kineto_status kineto_preview(kineto_ctx *ctx, uint8_t *rgba, size_t size) {
    kineto_status st = check_output(ctx, rgba, size, "kineto_preview", kineto_frames(ctx));
    if (st != KINETO_OK) return st;
    const kn_hparams *hp = &ctx->model->hp;
    const size_t latent = (size_t)hp->latent_channels * hp->latent_h * hp->latent_w;
    const size_t frame_bytes = (size_t)hp->height * hp->width * 4;
    for (int f = 0; f < ctx->clip.frames; f++) {
        kn_preview_frame(ctx->model, ctx->clip.gen.clip + f * latent, ctx->clip.gen.rgb);
        store_rgba(rgba + f * frame_bytes, ctx->clip.gen.rgb, hp->latent_h, hp->latent_w, hp->height / hp->latent_h);
    }
    return KINETO_OK;
}

static kineto_status decode_frames(kineto_ctx *ctx, int first, int count, uint8_t *rgba, size_t size,
                                   const char *fn) {
    kineto_status st = check_output(ctx, rgba, size, fn, 0);
    if (st != KINETO_OK) return st;
    if (first < 0 || count < 1 || first > ctx->clip.frames - count)
        return kn_fail(KINETO_ERR_ARG, "%s: frames %d..%d outside the clip's 0..%d", fn, first, first + count - 1,
                       ctx->clip.frames - 1);
    if ((st = check_output(ctx, rgba, size, fn, count)) != KINETO_OK) return st;
    const kn_hparams *hp = &ctx->model->hp;
    const size_t latent = (size_t)hp->latent_channels * hp->latent_h * hp->latent_w;
    const size_t frame_bytes = (size_t)hp->height * hp->width * 4;
    const size_t frame_floats = (size_t)3 * hp->height * hp->width;
    kn_generation *g = &ctx->clip.gen;
    /* through the window's RGB buffer, a window at a time */
    for (int at = 0; at < count; at += ctx->clip.window) {
        int n = count - at < ctx->clip.window ? count - at : ctx->clip.window;
        kn_vae_decode(ctx->model, g->clip + (size_t)(first + at) * latent, n, g->rgb, &g->vae_ws);
        for (int f = 0; f < n; f++)
            store_rgba(rgba + (size_t)(at + f) * frame_bytes, g->rgb + f * frame_floats, hp->height, hp->width, 1);
    }
    return KINETO_OK;
}

kineto_status kineto_decode_range(kineto_ctx *ctx, int first, int count, uint8_t *rgba, size_t size) {
    return decode_frames(ctx, first, count, rgba, size, "kineto_decode_range");
}

kineto_status kineto_decode(kineto_ctx *ctx, uint8_t *rgba, size_t size) {
    return decode_frames(ctx, 0, ctx ? kineto_frames(ctx) : 0, rgba, size, "kineto_decode");
}

void kineto_end(kineto_ctx *ctx) {
    if (!ctx || ctx->state == IDLE) return;
    kn_log(KN_LOG_INFO, "generation ended after %d of %d steps; released %llu KB", kineto_steps_done(ctx),
           kineto_steps_total(ctx), (unsigned long long)(ctx->clip.gen.bytes >> 10));
    kn_clip_free(&ctx->clip);
    ctx->state = IDLE;
}

size_t kineto_generation_bytes(const kineto_ctx *ctx) {
    return ctx && ctx->state == RUNNING ? (size_t)ctx->clip.gen.bytes : 0;
}
