/* sampler.h — one generation: its buffers (planned in one allocation) and Euler sampling of the
   rectified flow from t = 1 (noise) to t = 0, with classifier-free guidance and optional re-noising
   (model.py sample). */
#ifndef KN_SAMPLER_H
#define KN_SAMPLER_H

#include <stdint.h>

#include "model/denoiser.h"
#include "model/text_encoder.h"
#include "model/vae_decoder.h"
#include "weights.h"

/* Frames of one window at most (the hyperparameter's range). */
#define KN_MAX_WINDOW KN_DENOISER_MAX_FRAMES

typedef struct {
    int frames, steps, steps_done, temporal_on; /* frames: of the current window */
    float guidance, renoise;
    uint64_t seed;
    kn_condition cond, uncond;     /* uncond: the negative prompt, or the null prompt [0] */
    float *z;                      /* (F, C, h, w) the latent at the current time */
    float *clean;                  /* (F, C, h, w) the current estimate of the clean latent */
    float *v, *v_uncond;           /* (F, C, h, w) velocities */
    float *fresh;                  /* (F, C, h, w) a re-noising step's new noise */
    float *noise;                  /* (F, C, h, w) the window's starting noise */
    float *given;                  /* (F, C, h, w) the clean latents of the known frames */
    unsigned char known[KN_MAX_WINDOW]; /* 1: frame held to `given` (see kn_sampler_step) */
    float times[KN_MAX_WINDOW];    /* each frame's time in the current step */
    int n_known;
    float *rgb;                    /* (F, 3, H, W) decoded frames; frame 0 also the preview's */
    float *clip;                   /* (clip_frames, C, h, w) every frame's clean latent; NULL without */
    kn_text_ws text_ws;
    kn_denoiser_ws den_ws;
    kn_vae_ws vae_ws;
    float *arena;
    uint64_t bytes;
} kn_generation;

/* Plans the buffers of a generation of `frames` frames without allocating: *bytes is what it would
   need; 0 (and returns 0) when over limit. kineto_generation_bytes reports the running one's. */
int kn_generation_plan_bytes(const kn_hparams *hp, int frames, uint64_t limit, uint64_t *bytes);

/* Plans and allocates every buffer; returns 0 when out of memory. */
int kn_generation_alloc(kn_generation *g, const kn_hparams *hp, int frames);
/* The same for a clip of clip_frames made in windows of `frames`: adds the clip's latents. */
int kn_generation_alloc_clip(kn_generation *g, const kn_hparams *hp, int frames, int clip_frames);
void kn_generation_free(kn_generation *g);

/* Encodes a prompt (ids already checked: 1..max_tokens) into g->cond, or into g->uncond. */
void kn_sampler_condition(const kn_model *m, kn_generation *g, int uncond, const int *ids, int n_ids);
/* Starts a window of `frames` frames: draws its noise from seed, no frame known. A caller holding
   frames to known latents then sets known[], n_known and given[] and calls kn_sampler_hold. */
void kn_sampler_window(const kn_model *m, kn_generation *g, int frames, uint64_t seed);
void kn_sampler_hold(const kn_model *m, kn_generation *g);
/* Encodes both prompts (ids already checked: 1..max_tokens each), draws the noise. */
void kn_sampler_start(const kn_model *m, kn_generation *g, const int *ids, int n_ids, const int *neg_ids, int n_neg,
                      uint64_t seed);
/* One step from t0 = 1 - i/steps to t1 = 1 - (i+1)/steps: Euler, or with renoise r > 0 (and t1 > 0)
   z = (1 - t1) x + t1 (sqrt(1 - r^2) eps + r n), where x and eps are the step's estimates of the clean
   latent and the noise and n is fresh noise drawn with seed kn_splitmix64(seed, i). Known frames
   enter the denoiser as (1 - t0) given + t0 noise, their own starting noise at the step's time, or,
   with the model's clean_context, as `given` at time 0; their clean estimate stays `given`. */
void kn_sampler_step(const kn_model *m, kn_generation *g);
/* The time of step i, computed in double and rounded once, as model.py's Python floats. */
double kn_step_time(int i, int steps);

#endif
