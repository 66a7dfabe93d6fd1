/* clip.h — a clip longer than the model's window, made window by window (train/model.py sample_clip).

   Each window after the first starts with known frames: the final latents of the frames before it.
   The sampler holds them to their latents, noised to every step's time, so the window's temporal
   attention carries the object, its colour, place and speed on. Windows split at shot boundaries,
   each conditioned on its shot's prompt. A seamless clip ends with one more window over its last
   frames, which also knows the clip's first frames after them, so the last frame leads into the first.
   A clip started from an image has its first frame given: the image's latent, known to every window
   that holds it, from the first on. */
#ifndef KN_CLIP_H
#define KN_CLIP_H

#include <stdint.h>

#include "sampler.h"

/* One window: frames start, start+1, ... (mod the clip's length): `before` known, `fresh` made,
   `after` known (the clip's first frames, in a seamless clip's last window). */
typedef struct {
    int start, before, fresh, after, shot;
} kn_window;

typedef struct {
    int frames, window, overlap, seamless;
    int image_start;               /* 1: frame 0 is given (an image's latent), never made */
    int n_windows, current, ready;
    kn_window *windows;
    int n_shots, encoded_shot;
    int *shot_ids, *shot_n_ids;    /* (n_shots, max_tokens) token ids, their counts */
    uint64_t seed;
    kn_generation gen;             /* the current window's sampler; gen.clip holds every frame */
} kn_clip;

/* The default overlap: half the window (8 of 16). On 64-frame clips (train/long_eval.py,
   docs/experiments.md) the change across a window boundary over the change within windows was 3.5x,
   2.5x and 1.7x at overlaps 2, 4 and 8, for 5, 5 and 7 windows. */
int kn_clip_default_overlap(int window);

/* Lays out the windows of a clip of `frames` frames in shots of shot_frames[n_shots] frames (summing
   to frames) over a model window of `window` frames; out has room for frames + 1 windows. Returns
   the count. overlap 0..window-1; seamless needs frames >= 2 and window >= 2. first: frames given
   before any window (0, or 1 for an image start; then frames >= 2 and window >= 2), which the first
   window knows. */
int kn_clip_plan(int frames, int window, int overlap, const int *shot_frames, int n_shots, int seamless, int first,
                 kn_window *out);

/* Allocates the clip's buffers and plan, copies the shots' ids; 0 when out of memory. image_start 1:
   frame 0 is given to kn_clip_start. */
int kn_clip_alloc(kn_clip *c, const kn_hparams *hp, int frames, int overlap, const int *shot_frames, int n_shots,
                  int seamless, const int *shot_ids, const int *shot_n_ids, int image_start);
void kn_clip_free(kn_clip *c);

/* Encodes the negative prompt (n_neg 0: the null prompt) and starts the first window. first_latent:
   frame 0's latent (C, h, w) in diffusion scale for an image start, else unused (NULL). */
void kn_clip_start(const kn_model *m, kn_clip *c, const int *neg_ids, int n_neg, uint64_t seed,
                   const float *first_latent);
/* One sampling step of the current window, starting the next window first when this one is done. */
void kn_clip_step(const kn_model *m, kn_clip *c);
int kn_clip_steps_done(const kn_clip *c);
int kn_clip_steps_total(const kn_clip *c);
int kn_clip_done(const kn_clip *c);

/* The seed of window k: the clip's seed for the first, so a clip of one window is the plain one. */
uint64_t kn_window_seed(uint64_t seed, int k);

#endif
