/* kineto.c — the public API (include/kineto.h): context, parameters, and a generation run step by step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "sampler.h"
#include "tokenizer.h"
#include "weights.h"

typedef enum { IDLE, RUNNING } gen_state;

struct kineto_ctx {
    kn_model *model;
    gen_state state;
    kn_generation gen;
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

static kineto_status check_params(const kn_hparams *hp, const kineto_params *p) {
    if (!p->prompt) return kn_fail(KINETO_ERR_ARG, "params.prompt is NULL");
    if (too_long(p->prompt))
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
    if (p->frames < 0 || p->frames > hp->frames)
        return kn_fail(KINETO_ERR_PARAM, "frames = %d out of range 1..%d (0 = the model's %d)", p->frames, hp->frames,
                       hp->frames);
    if (p->threads < 0 || p->threads > KN_MAX_THREADS)
        return kn_fail(KINETO_ERR_PARAM, "threads = %d out of range 1..%d (0 = automatic)", p->threads, KN_MAX_THREADS);
    if (p->temporal_attention != 0 && p->temporal_attention != 1)
        return kn_fail(KINETO_ERR_PARAM, "temporal_attention = %d, expected 0 or 1", p->temporal_attention);
    return KINETO_OK;
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
    kineto_status st = check_params(hp, params);
    if (st != KINETO_OK) return st;
    const char *negative = params->negative_prompt ? params->negative_prompt : "";

    free(ctx->unknown);
    ctx->unknown = calloc(strlen(params->prompt) + strlen(negative) + 2, 1);
    int *ids = malloc(sizeof(int) * 2 * (size_t)hp->max_tokens), n_ids = 0, n_neg = 0;
    if (!ctx->unknown || !ids) {
        free(ids);
        return kn_fail(KINETO_ERR_NOMEM, "out of memory starting a generation");
    }
    int *neg_ids = ids + hp->max_tokens;
    if ((st = tokenize_prompt(ctx, params->prompt, "prompt", ids, &n_ids, 1)) != KINETO_OK ||
        (st = tokenize_prompt(ctx, negative, "negative prompt", neg_ids, &n_neg, 0)) != KINETO_OK) {
        free(ids);
        return st;
    }

    kn_generation *g = &ctx->gen;
    int frames = params->frames ? params->frames : hp->frames;
    if (!kn_generation_alloc(g, hp, frames)) {
        free(ids);
        return kn_fail(KINETO_ERR_NOMEM, "out of memory planning a %d-frame generation", frames);
    }
    g->steps = params->steps ? params->steps : hp->default_steps;
    g->guidance = params->guidance == KINETO_GUIDANCE_DEFAULT ? hp->default_guidance : params->guidance;
    g->renoise = params->renoise == KINETO_RENOISE_DEFAULT ? hp->default_renoise : params->renoise;
    g->temporal_on = params->temporal_attention;
    kn_threads_set(params->threads ? params->threads : machine_threads());
    kn_log(KN_LOG_INFO, "generation: %d frames, %d steps, guidance %g, renoise %g, %d threads, %s kernels, "
           "%llu KB of buffers", frames, g->steps, (double)g->guidance, (double)g->renoise, kn_threads_get(),
           kn_kernels_isa(), (unsigned long long)(g->bytes >> 10));
    kn_sampler_start(ctx->model, g, ids, n_ids, neg_ids, n_neg, params->seed);
    free(ids);
    ctx->state = RUNNING;
    return KINETO_OK;
}

const char *kineto_unknown_words(const kineto_ctx *ctx) { return ctx && ctx->unknown ? ctx->unknown : ""; }

/* ------------------------------------------------------------------ steps and output */
kineto_status kineto_step(kineto_ctx *ctx) {
    if (!ctx) return kn_fail(KINETO_ERR_ARG, "kineto_step: NULL context");
    if (ctx->state != RUNNING) return kn_fail(KINETO_ERR_STATE, "kineto_step before kineto_begin");
    if (ctx->gen.steps_done >= ctx->gen.steps) return kn_fail(KINETO_ERR_STATE, "kineto_step after the last step");
    kn_sampler_step(ctx->model, &ctx->gen);
    return KINETO_OK;
}

int kineto_steps_done(const kineto_ctx *ctx) { return ctx && ctx->state == RUNNING ? ctx->gen.steps_done : 0; }
int kineto_steps_total(const kineto_ctx *ctx) { return ctx && ctx->state == RUNNING ? ctx->gen.steps : 0; }
int kineto_done(const kineto_ctx *ctx) {
    return ctx && ctx->state == RUNNING && ctx->gen.steps_done >= ctx->gen.steps;
}
int kineto_frames(const kineto_ctx *ctx) { return ctx && ctx->state == RUNNING ? ctx->gen.frames : 0; }

static kineto_status check_output(const kineto_ctx *ctx, const uint8_t *rgba, size_t size, const char *fn) {
    if (!ctx || !rgba) return kn_fail(KINETO_ERR_ARG, "%s: NULL %s", fn, ctx ? "buffer" : "context");
    if (ctx->state != RUNNING) return kn_fail(KINETO_ERR_STATE, "%s before kineto_begin", fn);
    const kn_hparams *hp = &ctx->model->hp;
    size_t need = (size_t)ctx->gen.frames * hp->height * hp->width * 4;
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
    kineto_status st = check_output(ctx, rgba, size, "kineto_preview");
    if (st != KINETO_OK) return st;
    const kn_hparams *hp = &ctx->model->hp;
    const size_t latent = (size_t)hp->latent_channels * hp->latent_h * hp->latent_w;
    const size_t frame_bytes = (size_t)hp->height * hp->width * 4;
    for (int f = 0; f < ctx->gen.frames; f++) {
        kn_preview_frame(ctx->model, ctx->gen.clean + f * latent, ctx->gen.rgb);
        store_rgba(rgba + f * frame_bytes, ctx->gen.rgb, hp->latent_h, hp->latent_w, hp->height / hp->latent_h);
    }
    return KINETO_OK;
}

kineto_status kineto_decode(kineto_ctx *ctx, uint8_t *rgba, size_t size) {
    kineto_status st = check_output(ctx, rgba, size, "kineto_decode");
    if (st != KINETO_OK) return st;
    const kn_hparams *hp = &ctx->model->hp;
    const size_t frame_bytes = (size_t)hp->height * hp->width * 4;
    const size_t frame_floats = (size_t)3 * hp->height * hp->width;
    kn_vae_decode(ctx->model, ctx->gen.clean, ctx->gen.frames, ctx->gen.rgb, &ctx->gen.vae_ws);
    for (int f = 0; f < ctx->gen.frames; f++)
        store_rgba(rgba + f * frame_bytes, ctx->gen.rgb + f * frame_floats, hp->height, hp->width, 1);
    return KINETO_OK;
}

void kineto_end(kineto_ctx *ctx) {
    if (!ctx || ctx->state == IDLE) return;
    kn_log(KN_LOG_INFO, "generation ended after %d of %d steps; released %llu KB", ctx->gen.steps_done, ctx->gen.steps,
           (unsigned long long)(ctx->gen.bytes >> 10));
    kn_generation_free(&ctx->gen);
    ctx->state = IDLE;
}

size_t kineto_generation_bytes(const kineto_ctx *ctx) {
    return ctx && ctx->state == RUNNING ? (size_t)ctx->gen.bytes : 0;
}
