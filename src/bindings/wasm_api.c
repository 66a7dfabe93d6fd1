/* wasm_api.c — kineto.h flattened for JavaScript: only scalars and pointers cross the boundary.
   Functions of kineto.h that already take scalars (kineto_step, kineto_decode, ...) are exported
   as they are; this file covers the ones that take or return structs or write through status
   pointers. web/worker.js is the only caller. */
#include "kineto.h"

static kineto_status last_load_status = KINETO_OK;

/* kineto_load_buffer with the status kept here, so JS needs no out-parameter. NULL on failure. */
kineto_ctx *kineto_js_load(const void *data, size_t size) {
    return kineto_load_buffer(data, size, &last_load_status);
}

int kineto_js_load_status(void) { return (int)last_load_status; }

/* kineto_info as numbers, in this order (web/worker.js reads them by the same names):
   frames, height, width, fps, latent_channels, latent_h, latent_w, vocab_size, max_tokens,
   default_steps, default_guidance, n_params, default_renoise. */
#define KINETO_JS_INFO_FIELDS 13
int kineto_js_info(const kineto_ctx *ctx, double *out, int capacity) {
    if (!ctx || !out || capacity < KINETO_JS_INFO_FIELDS) return -1;
    kineto_info in = kineto_model_info(ctx);
    const double fields[KINETO_JS_INFO_FIELDS] = {
        in.frames, in.height, in.width, in.fps, in.latent_channels, in.latent_h, in.latent_w,
        in.vocab_size, in.max_tokens, in.default_steps, in.default_guidance, (double)in.n_params,
        in.default_renoise,
    };
    for (int i = 0; i < KINETO_JS_INFO_FIELDS; i++) out[i] = fields[i];
    return KINETO_JS_INFO_FIELDS;
}

/* kineto_begin with the parameters spelled out. The seed comes as two 32-bit halves because a
   JS number cannot carry every u64; frames/steps 0 mean the model's defaults. */
int kineto_js_begin(kineto_ctx *ctx, const char *prompt, const char *negative_prompt,
                    uint32_t seed_lo, uint32_t seed_hi, int steps, float guidance, float renoise,
                    int frames, int threads) {
    kineto_params p = kineto_default_params();
    p.prompt = prompt;
    p.negative_prompt = negative_prompt;
    p.seed = ((uint64_t)seed_hi << 32) | seed_lo;
    p.steps = steps;
    p.guidance = guidance;
    p.renoise = renoise;
    p.frames = frames;
    p.threads = threads;
    return (int)kineto_begin(ctx, &p);
}

/* Bytes kineto_preview / kineto_decode write for the current generation: frames * h * w * RGBA. */
double kineto_js_clip_bytes(const kineto_ctx *ctx) {
    if (!ctx) return 0;
    kineto_info in = kineto_model_info(ctx);
    return (double)kineto_frames(ctx) * in.height * in.width * 4;
}
