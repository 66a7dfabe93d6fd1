/* clip.c — a clip made window by window (see clip.h; train/model.py clip_windows, sample_clip). */
#include <stdlib.h>
#include <string.h>

#include "clip.h"
#include "rng.h"

/* Window seeds index splitmix64 past any step's re-noising index (at most KINETO_MAX_STEPS). */
#define KN_WINDOW_SEED_BASE ((uint64_t)1 << 32)

uint64_t kn_window_seed(uint64_t seed, int k) {
    return k == 0 ? seed : kn_splitmix64(seed, KN_WINDOW_SEED_BASE + (uint64_t)k);
}

int kn_clip_default_overlap(int window) { return window / 2; }

static int min_int(int a, int b) { return a < b ? a : b; }
static int max_int(int a, int b) { return a > b ? a : b; }

int kn_clip_plan(int frames, int window, int overlap, const int *shot_frames, int n_shots, int seamless, int first,
                 kn_window *out) {
    int n = 0, shot = 0, shot_end = shot_frames[0];
    for (int a = first; a < frames;) {
        while (a >= shot_end) shot_end += shot_frames[++shot];
        /* a window makes window - overlap new frames, all of one shot, after the frames before it; the
           first fills the window after the `first` frames given */
        int b = min_int(a + (a == first ? window - first : window - overlap), shot_end);
        int start = max_int(0, b - window);
        out[n++] = (kn_window){start, a - start, b - a, 0, shot};
        a = b;
    }
    if (seamless) {
        /* the last `fresh` frames again, between `before` frames ahead of them (the overlap) and the
           clip's first `after` frames (half the overlap), which follow the last frame in a loop; all
           made frames within the last shot. 8 + 4 known frames around 4 made ones measured better
           loops than 4 + 4 around 8 (docs/experiments.md). */
        int known = max_int(overlap, 2);
        int after = min_int(max_int(known / 2, 1), frames / 2);
        int fresh = min_int(min_int(max_int(window - known - after, 1), frames - after), shot_frames[n_shots - 1]);
        int before = max_int(0, min_int(window - after - fresh, frames - after - fresh));
        out[n++] = (kn_window){frames - fresh - before, before, fresh, after, n_shots - 1};
    }
    return n;
}

int kn_clip_alloc(kn_clip *c, const kn_hparams *hp, int frames, int overlap, const int *shot_frames, int n_shots,
                  int seamless, const int *shot_ids, const int *shot_n_ids, int image_start) {
    memset(c, 0, sizeof *c);
    c->frames = frames;
    c->window = min_int(hp->frames, frames);
    c->overlap = overlap;
    c->seamless = seamless;
    c->n_shots = n_shots;
    c->windows = malloc(sizeof(kn_window) * (size_t)(frames + 1));
    c->shot_ids = malloc(sizeof(int) * (size_t)n_shots * (size_t)hp->max_tokens);
    c->shot_n_ids = malloc(sizeof(int) * (size_t)n_shots);
    if (!c->windows || !c->shot_ids || !c->shot_n_ids ||
        !kn_generation_alloc_clip(&c->gen, hp, c->window, frames)) {
        kn_clip_free(c);
        return 0;
    }
    memcpy(c->shot_ids, shot_ids, sizeof(int) * (size_t)n_shots * (size_t)hp->max_tokens);
    memcpy(c->shot_n_ids, shot_n_ids, sizeof(int) * (size_t)n_shots);
    c->image_start = image_start;
    c->n_windows = kn_clip_plan(frames, hp->frames, overlap, shot_frames, n_shots, seamless, image_start, c->windows);
    return 1;
}

void kn_clip_free(kn_clip *c) {
    kn_generation_free(&c->gen);
    free(c->windows);
    free(c->shot_ids);
    free(c->shot_n_ids);
    c->windows = NULL;
    c->shot_ids = c->shot_n_ids = NULL;
}

/* The window's made frames' current estimates into the clip. */
static void store_fresh(const kn_model *m, kn_clip *c) {
    const size_t frame = (size_t)m->hp.latent_channels * m->hp.latent_h * m->hp.latent_w;
    const kn_window *w = &c->windows[c->current];
    for (int s = w->before; s < w->before + w->fresh; s++)
        memcpy(c->gen.clip + (size_t)((w->start + s) % c->frames) * frame, c->gen.clean + s * frame,
               frame * sizeof(float));
}

static void start_window(const kn_model *m, kn_clip *c, int k) {
    const size_t frame = (size_t)m->hp.latent_channels * m->hp.latent_h * m->hp.latent_w;
    const kn_window *w = &c->windows[k];
    kn_generation *g = &c->gen;
    c->current = k;
    if (w->shot != c->encoded_shot) {
        kn_sampler_condition(m, g, 0, c->shot_ids + (size_t)w->shot * m->hp.max_tokens, c->shot_n_ids[w->shot]);
        c->encoded_shot = w->shot;
    }
    kn_sampler_window(m, g, w->before + w->fresh + w->after, kn_window_seed(c->seed, k));
    for (int s = 0; s < g->frames; s++) {
        if (s >= w->before && s < w->before + w->fresh) continue;
        g->known[s] = 1;
        g->n_known++;
        memcpy(g->given + s * frame, g->clip + (size_t)((w->start + s) % c->frames) * frame, frame * sizeof(float));
    }
    kn_sampler_hold(m, g);
    store_fresh(m, c);
}

void kn_clip_start(const kn_model *m, kn_clip *c, const int *neg_ids, int n_neg, uint64_t seed,
                   const float *first_latent) {
    static const int null_prompt[1] = {0};
    const size_t frame = (size_t)m->hp.latent_channels * m->hp.latent_h * m->hp.latent_w;
    if (n_neg > 0) kn_sampler_condition(m, &c->gen, 1, neg_ids, n_neg);
    else kn_sampler_condition(m, &c->gen, 1, null_prompt, 1);
    memset(c->gen.clip, 0, (size_t)c->frames * frame * sizeof(float)); /* frames not started yet */
    if (c->image_start) memcpy(c->gen.clip, first_latent, frame * sizeof(float)); /* known from the start */
    c->seed = seed;
    c->ready = c->image_start; /* a given first frame is final */
    c->encoded_shot = -1;
    start_window(m, c, 0);
}

void kn_clip_step(const kn_model *m, kn_clip *c) {
    if (c->gen.steps_done >= c->gen.steps) start_window(m, c, c->current + 1);
    kn_sampler_step(m, &c->gen);
    store_fresh(m, c);
    if (c->gen.steps_done < c->gen.steps) return;
    const kn_window *w = &c->windows[c->current];
    if (c->current == c->n_windows - 1) c->ready = c->frames;
    else if (!w->after) {
        /* a seamless clip's last frames are made again by its last window */
        int end = w->start + w->before + w->fresh;
        const kn_window *last = &c->windows[c->n_windows - 1];
        c->ready = c->seamless ? min_int(end, last->start + last->before) : end;
    }
}

int kn_clip_steps_done(const kn_clip *c) { return c->current * c->gen.steps + c->gen.steps_done; }
int kn_clip_steps_total(const kn_clip *c) { return c->n_windows * c->gen.steps; }
int kn_clip_done(const kn_clip *c) { return c->current == c->n_windows - 1 && c->gen.steps_done >= c->gen.steps; }
