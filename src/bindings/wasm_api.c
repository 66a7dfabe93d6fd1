/* wasm_api.c — kineto.h flattened for JavaScript: only scalars and pointers cross the boundary.
   Functions of kineto.h that already take scalars (kineto_step, kineto_decode, ...) are exported
   as they are; this file covers the ones that take or return structs or write through status
   pointers. web/lib/kineto-engine.js (run by web/lib/worker.js, and by the Node tests) is the only caller. */
#include <stdio.h>
#include <stdlib.h>

#include "io/image_decode.h"
#include "kineto.h"

static kineto_status last_load_status = KINETO_OK;

/* kineto_load_buffer with the status kept here, so JS needs no out-parameter. NULL on failure. */
kineto_ctx *kineto_js_load(const void *data, size_t size) {
    return kineto_load_buffer(data, size, &last_load_status);
}

int kineto_js_load_status(void) { return (int)last_load_status; }

/* kineto_info as a JSON object written into out (capacity bytes), keys named as JavaScript reads
   them, so the field list lives only here. %.17g prints every double (the float defaults included)
   so that it reads back exactly. Returns the length written, or -1 if out is too small. */
int kineto_js_info(const kineto_ctx *ctx, char *out, int capacity) {
    if (!ctx || !out || capacity <= 0) return -1;
    kineto_info in = kineto_model_info(ctx);
    int n = snprintf(out, (size_t)capacity,
                     "{\"frames\":%d,\"height\":%d,\"width\":%d,\"fps\":%d,\"latentChannels\":%d,"
                     "\"latentH\":%d,\"latentW\":%d,\"vocabSize\":%d,\"maxTokens\":%d,\"defaultSteps\":%d,"
                     "\"defaultGuidance\":%.17g,\"defaultRenoise\":%.17g,\"params\":%lld,"
                     "\"hasEncoder\":%s,\"encoderWidth\":%d,\"encoderHeight\":%d}",
                     in.frames, in.height, in.width, in.fps, in.latent_channels, in.latent_h, in.latent_w,
                     in.vocab_size, in.max_tokens, in.default_steps, (double)in.default_guidance,
                     (double)in.default_renoise, (long long)in.n_params, in.has_encoder ? "true" : "false",
                     in.encoder_width, in.encoder_height);
    return n < capacity ? n : -1;
}

/* kineto_begin for a long clip, a storyboard or a loop: prompts holds n_shots NUL-terminated prompts
   one after another, shot_frames their lengths (n_shots 0: one shot of the first prompt over `frames`
   frames); overlap, seamless and the start image (NULL, 0, 0 for none; RGBA8, as from
   kineto_js_decode_image) as kineto_params. The seed comes as two 32-bit halves because a JS
   number cannot carry every u64; frames/steps 0 mean the model's defaults. */
int kineto_js_begin_clip(kineto_ctx *ctx, const char *prompts, const int *shot_frames, int n_shots,
                         const char *negative_prompt, uint32_t seed_lo, uint32_t seed_hi, int steps, float guidance,
                         float renoise, int frames, int threads, int overlap, int seamless, const uint8_t *image,
                         int image_width, int image_height) {
    kineto_shot shots[KINETO_MAX_SHOTS];
    const int usable = n_shots >= 0 && n_shots <= KINETO_MAX_SHOTS && prompts && shot_frames;
    const char *at = prompts;
    for (int i = 0; usable && i < n_shots; i++) { /* an n_shots out of range is refused by name below */
        shots[i] = (kineto_shot){at, shot_frames[i]};
        while (*at) at++;
        at++;
    }
    kineto_params p = kineto_default_params();
    p.prompt = prompts;
    p.shots = usable ? shots : NULL;
    p.n_shots = n_shots;
    p.negative_prompt = negative_prompt;
    p.seed = ((uint64_t)seed_hi << 32) | seed_lo;
    p.steps = steps;
    p.guidance = guidance;
    p.renoise = renoise;
    p.frames = frames;
    p.threads = threads;
    p.overlap = overlap;
    p.seamless = seamless;
    p.image = image;
    p.image_width = image_width;
    p.image_height = image_height;
    return (int)kineto_begin(ctx, &p);
}

/* kineto_begin with the parameters spelled out: one shot of `prompt`. The seed comes as two 32-bit
   halves because a JS number cannot carry every u64; frames/steps 0 mean the model's defaults. */
int kineto_js_begin(kineto_ctx *ctx, const char *prompt, const char *negative_prompt,
                    uint32_t seed_lo, uint32_t seed_hi, int steps, float guidance, float renoise,
                    int frames, int threads) {
    return kineto_js_begin_clip(ctx, prompt, NULL, 0, negative_prompt, seed_lo, seed_hi, steps, guidance, renoise,
                                frames, threads, 0, 0, NULL, 0, 0);
}

/* ---- start images: a PNG or JPEG file's bytes to RGBA, by the CLI's decoder (io/image_decode.h) ---- */
static int image_width, image_height;
static char image_error[256];

/* The RGBA8 pixels (height * width * 4 bytes; free them with _free) of the file's bytes, with
   kineto_js_image_width/height; NULL when refused, with kineto_js_image_error saying why. */
uint8_t *kineto_js_decode_image(const uint8_t *data, int size) {
    kn_image img;
    image_width = image_height = 0;
    image_error[0] = 0;
    if (!data || size < 0) {
        snprintf(image_error, sizeof image_error, "no image bytes");
        return NULL;
    }
    if (kn_image_decode(data, (size_t)size, KINETO_MAX_IMAGE_SIDE, &img, image_error, sizeof image_error) != 0)
        return NULL;
    image_width = img.width;
    image_height = img.height;
    return img.rgba; /* stb allocates with malloc, so JS's _free releases it */
}

int kineto_js_image_width(void) { return image_width; }
int kineto_js_image_height(void) { return image_height; }
const char *kineto_js_image_error(void) { return image_error; }

/* Bytes kineto_preview / kineto_decode write for the current generation: frames * h * w * RGBA. */
double kineto_js_clip_bytes(const kineto_ctx *ctx) {
    if (!ctx) return 0;
    kineto_info in = kineto_model_info(ctx);
    return (double)kineto_frames(ctx) * in.height * in.width * 4;
}
