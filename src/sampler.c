/* sampler.c — a generation's buffers and the sampler of train/model.py sample(). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "sampler.h"

static void carve_all(kn_generation *g, const kn_hparams *hp, int frames, int clip_frames, kn_arena *a) {
    const uint64_t frame_latent = (uint64_t)hp->latent_channels * (uint64_t)hp->latent_h * (uint64_t)hp->latent_w;
    const uint64_t latent = (uint64_t)frames * frame_latent;
    g->z = kn_carve(a, latent);
    g->clean = kn_carve(a, latent);
    g->v = kn_carve(a, latent);
    g->v_uncond = kn_carve(a, latent);
    g->fresh = kn_carve(a, latent);
    g->rgb = kn_carve(a, (uint64_t)frames * 3 * (uint64_t)hp->height * (uint64_t)hp->width);
    kn_condition_carve(&g->cond, hp, a);
    kn_condition_carve(&g->uncond, hp, a);
    kn_text_ws_carve(&g->text_ws, hp, a);
    kn_denoiser_ws_carve(&g->den_ws, hp, frames, a);
    kn_vae_ws_carve(&g->vae_ws, hp, a);
    /* after the single clip's buffers, so their plan (and its bytes) stays as it was */
    g->noise = kn_carve(a, latent);
    g->given = kn_carve(a, latent);
    g->clip = clip_frames ? kn_carve(a, (uint64_t)clip_frames * frame_latent) : NULL;
}

static int plan(const kn_hparams *hp, int frames, int clip_frames, uint64_t limit, uint64_t *bytes) {
    kn_generation g;
    kn_arena a = {NULL, 0, limit / sizeof(float), 0};
    carve_all(&g, hp, frames, clip_frames, &a);
    *bytes = a.overflow ? 0 : a.used * sizeof(float);
    return !a.overflow;
}

int kn_generation_plan_bytes(const kn_hparams *hp, int frames, uint64_t limit, uint64_t *bytes) {
    return plan(hp, frames, 0, limit, bytes);
}

int kn_generation_alloc_clip(kn_generation *g, const kn_hparams *hp, int frames, int clip_frames) {
    uint64_t bytes;
    if (!plan(hp, frames, clip_frames, KN_MEMORY_CAP, &bytes) || bytes > SIZE_MAX) return 0;
    float *base = malloc((size_t)bytes);
    if (!base) return 0;
    kn_arena a = {base, 0, bytes / sizeof(float), 0};
    carve_all(g, hp, frames, clip_frames, &a);
    g->arena = base;
    g->bytes = bytes;
    g->frames = frames;
    g->n_known = 0;
    return 1;
}

int kn_generation_alloc(kn_generation *g, const kn_hparams *hp, int frames) {
    return kn_generation_alloc_clip(g, hp, frames, 0);
}

void kn_generation_free(kn_generation *g) {
    free(g->arena);
    g->arena = NULL;
    g->bytes = 0;
}

void kn_sampler_condition(const kn_model *m, kn_generation *g, int uncond, const int *ids, int n) {
    kn_condition *c = uncond ? &g->uncond : &g->cond;
    c->n_tokens = n;
    kn_text_encode(m, ids, n, c->tokens, c->pooled, &g->text_ws);
    kn_condition_prepare(m, c);
}

void kn_sampler_window(const kn_model *m, kn_generation *g, int frames, uint64_t seed) {
    const kn_hparams *hp = &m->hp;
    size_t n = (size_t)frames * hp->latent_channels * hp->latent_h * hp->latent_w;
    g->frames = frames;
    kn_gaussian_noise(g->z, n, seed);
    memcpy(g->noise, g->z, n * sizeof(float));
    memcpy(g->clean, g->z, n * sizeof(float)); /* before any step the best guess is the noise */
    memset(g->known, 0, sizeof g->known);
    g->n_known = 0;
    g->seed = seed;
    g->steps_done = 0;
}

/* The known frames' clean estimates are their given latents. */
void kn_sampler_hold(const kn_model *m, kn_generation *g) {
    const size_t frame = (size_t)m->hp.latent_channels * m->hp.latent_h * m->hp.latent_w;
    for (int f = 0; f < g->frames; f++)
        if (g->known[f]) memcpy(g->clean + f * frame, g->given + f * frame, frame * sizeof(float));
}

void kn_sampler_start(const kn_model *m, kn_generation *g, const int *ids, int n_ids, const int *neg_ids, int n_neg,
                      uint64_t seed) {
    static const int null_prompt[1] = {0};
    kn_sampler_condition(m, g, 0, ids, n_ids);
    if (n_neg > 0) kn_sampler_condition(m, g, 1, neg_ids, n_neg);
    else kn_sampler_condition(m, g, 1, null_prompt, 1);
    kn_sampler_window(m, g, g->frames, seed);
}

double kn_step_time(int i, int steps) { return 1.0 - (double)i / (double)steps; }

/* Each frame's time for the step at t, and the known frames' latents: for a clean_context model
   clean, at time 0; otherwise at t, z = (1 - t) given + t noise, the rectified flow's path from
   their latents. */
static void place_known(const kn_model *m, kn_generation *g, double t) {
    const size_t frame = (size_t)m->hp.latent_channels * m->hp.latent_h * m->hp.latent_w;
    const int clean = m->hp.clean_context;
    const float a = (float)(1.0 - t), b = (float)t;
    for (int f = 0; f < g->frames; f++) {
        g->times[f] = g->known[f] && clean ? 0.0f : (float)t;
        if (!g->known[f]) continue;
        float *z = g->z + f * frame;
        const float *x = g->given + f * frame, *n = g->noise + f * frame;
        if (clean) memcpy(z, x, frame * sizeof(float));
        else for (size_t i = 0; i < frame; i++) z[i] = a * x[i] + b * n[i];
    }
}

void kn_sampler_step(const kn_model *m, kn_generation *g) {
    const kn_hparams *hp = &m->hp;
    const size_t n = (size_t)g->frames * hp->latent_channels * hp->latent_h * hp->latent_w;
    const double t0 = kn_step_time(g->steps_done, g->steps), t1 = kn_step_time(g->steps_done + 1, g->steps);
    const float dt = (float)(t1 - t0), to_clean = (float)(0.0 - t0);
    place_known(m, g, t0);
    kn_denoise(m, g->z, g->times, &g->cond, g->frames, g->temporal_on, g->v, &g->den_ws);
    if (g->guidance != 1.0f) {
        kn_denoise(m, g->z, g->times, &g->uncond, g->frames, g->temporal_on, g->v_uncond, &g->den_ws);
        for (size_t i = 0; i < n; i++) g->v[i] = g->v_uncond[i] + g->guidance * (g->v[i] - g->v_uncond[i]);
    }
    /* z_t = (1 - t) x + t eps and v = eps - x, so x = z_t - t v; at the last step this equals z. */
    if (g->renoise > 0.0f && t1 > 0.0) {
        /* Replacing part of eps = z_t + (1 - t) v with fresh noise lets a later step undo an earlier
           step's error instead of following it to t = 0. */
        const float keep = sqrtf(1.0f - g->renoise * g->renoise), r = g->renoise, to_noise = (float)(1.0 - t0);
        const float a = (float)(1.0 - t1), b = (float)t1;
        kn_gaussian_noise(g->fresh, n, kn_splitmix64(g->seed, (uint64_t)g->steps_done));
        for (size_t i = 0; i < n; i++) {
            float x = g->z[i] + to_clean * g->v[i], eps = g->z[i] + to_noise * g->v[i];
            g->clean[i] = x;
            g->z[i] = a * x + b * (keep * eps + r * g->fresh[i]);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            g->clean[i] = g->z[i] + to_clean * g->v[i];
            g->z[i] = g->z[i] + dt * g->v[i];
        }
    }
    if (g->n_known) kn_sampler_hold(m, g);
    g->steps_done++;
}
