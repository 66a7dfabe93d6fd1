/* test_parity.c — the C engine against PyTorch (train/model.py), stage by stage, on the tiny random
   model of tests/fixtures (written by train/golden.py). Prints the max abs diff and relative error of
   every tensor and fails when one is over its threshold.

   Thresholds: both sides compute in f32 but sum in different orders (PyTorch's BLAS blocks its dot
   products; Kineto's kernels fix their own), and the engine's exp/log/sin/cos are its own, so each
   op differs by an ulp or so. Measured on this model: at most 7e-7 of a tensor's largest magnitude at
   any stage, 4e-7 after the three guided steps. The limits, 1e-5 per stage and 2e-5 after the
   sampler (whose steps amplify earlier differences by up to 1 + guidance), leave a margin of ten for
   other compilers and the scalar build; a wrong index, head, order or missing term gives errors of
   order 1. Decoded bytes may differ by one where a value lies within ~1e-6 of a rounding edge. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kineto.h"
#include "model/denoiser.h"
#include "model/text_encoder.h"
#include "model/vae_decoder.h"
#include "rng.h"
#include "clip.h"
#include "sampler.h"
#include "tokenizer.h"
#include "weights.h"
#include "../check.h"
#include "../weights_util.h"


#include "golden.h"

/* A storyboard of two shots past the window, seamless, with re-noising (model.py sample_clip): the
   clip's latents from the engine's windows against golden `name`. */
static void storyboard_latents(const kn_model *m, const char *prompt, const char *negative, uint64_t seed, int steps,
                               float guidance, float renoise, const char *name) {
    const kn_hparams *hp = &m->hp;
    char *prompt2 = golden_string("clip.prompt2");
    const int *shot_frames = find("clip.shot_frames")->data;
    const int frames = shot_frames[0] + shot_frames[1];
    int ids[2 * 64], n_ids[2], neg_ids[64], n_neg, words;
    kn_vocab vocab;
    check(kn_vocab_init(&vocab, m->vocab, hp->vocab_size) == 0, "vocabulary index");
    n_ids[0] = kn_tokenize(prompt, &vocab, ids, hp->max_tokens, NULL, 0, &words);
    n_ids[1] = kn_tokenize(prompt2, &vocab, ids + hp->max_tokens, hp->max_tokens, NULL, 0, &words);
    n_neg = kn_tokenize(negative, &vocab, neg_ids, 64, NULL, 0, &words);
    kn_vocab_free(&vocab);

    kn_clip c;
    if (!kn_clip_alloc(&c, hp, frames, kn_clip_default_overlap(hp->frames), shot_frames, 2, 1, ids, n_ids, 0)) exit(1);
    c.gen.steps = steps;
    c.gen.guidance = guidance;
    c.gen.renoise = renoise;
    c.gen.temporal_on = 1;
    kn_clip_start(m, &c, neg_ids, n_neg, seed, NULL);
    while (!kn_clip_done(&c)) kn_clip_step(m, &c);
    char what[96];
    snprintf(what, sizeof what, "storyboard of %d frames in %d windows of %d", frames, c.n_windows, hp->frames);
    check(c.n_windows > 3 && kn_clip_steps_total(&c) == c.n_windows * steps, what);
    compare(name, c.gen.clip, gf(name), (size_t)frames * hp->latent_channels * hp->latent_h * hp->latent_w,
            TRAJECTORY_TOL);
    kn_clip_free(&c);
    free(prompt2);
}

/* The same storyboard's bytes through the public API. */
static void storyboard(const kn_model *m, const char *prompt, const char *negative, uint64_t seed, int steps,
                       float guidance, float renoise) {
    const kn_hparams *hp = &m->hp;
    char *prompt2 = golden_string("clip.prompt2");
    const int *shot_frames = find("clip.shot_frames")->data;
    const int frames = shot_frames[0] + shot_frames[1];
    kineto_status st;
    kineto_ctx *ctx = kineto_load_file(FIXTURES "/tiny.kin", &st);
    kineto_shot shots[2] = {{prompt, shot_frames[0]}, {prompt2, shot_frames[1]}};
    kineto_params p = kineto_default_params();
    p.shots = shots;
    p.n_shots = 2;
    p.negative_prompt = negative;
    p.seed = seed;
    p.steps = steps;
    p.guidance = guidance;
    p.renoise = renoise;
    p.seamless = 1;
    const size_t bytes = (size_t)frames * hp->height * hp->width * 4;
    uint8_t *rgba = malloc(bytes);
    st = ctx ? kineto_begin(ctx, &p) : st;
    while (st == KINETO_OK && !kineto_done(ctx)) st = kineto_step(ctx);
    if (st == KINETO_OK) st = kineto_decode(ctx, rgba, bytes);
    check(st == KINETO_OK && kineto_frames(ctx) == frames && kineto_frames_ready(ctx) == frames,
          "public API storyboard runs");
    if (st == KINETO_OK) compare_bytes("clip.frames (uint8)", rgba, find("clip.frames"), (size_t)frames * hp->height * hp->width);
    free(rgba);
    kineto_free(ctx);
    free(prompt2);
}

/* Runs every step of a generation, comparing each latent with the golden "<prefix>.<step>". */
static void sampler_trajectory(const kn_model *m, kn_generation *g, const int *ids, int n_ids, const int *neg_ids,
                               int n_neg, uint64_t seed, const char *prefix, size_t latent) {
    kn_sampler_start(m, g, ids, n_ids, neg_ids, n_neg, seed);
    for (int i = 0; i < g->steps; i++) {
        kn_sampler_step(m, g);
        char name[48];
        snprintf(name, sizeof name, "%s.%d", prefix, i);
        compare(name, g->z, gf(name), latent, TRAJECTORY_TOL);
    }
}

int main(void) {
    check_show_passes = 1;
    if (!load_goldens(FIXTURES "/golden.bin")) {
        fprintf(stderr, "cannot read %s/golden.bin\n", FIXTURES);
        return 1;
    }
    size_t size;
    uint8_t *file = read_file(FIXTURES "/tiny.kin", &size);
    kineto_status st;
    kn_model *m = file ? kn_model_load(file, size, &st) : NULL;
    if (!m) {
        fprintf(stderr, "cannot load %s/tiny.kin: %s\n", FIXTURES, kineto_last_error());
        return 1;
    }
    const kn_hparams *hp = &m->hp;
    char *prompt = golden_string("prompt"), *negative = golden_string("negative_prompt");
    const int seed = *(const int *)find("seed")->data, steps = *(const int *)find("steps")->data;
    const float guidance = *gf("guidance"), renoise = *gf("renoise");

    /* tokenizer */
    int ids[64], neg_ids[64], words;
    char unknown[256];
    kn_vocab vocab;
    check(kn_vocab_init(&vocab, m->vocab, hp->vocab_size) == 0, "vocabulary index");
    int n_ids = kn_tokenize(prompt, &vocab, ids, 64, unknown, sizeof unknown, &words);
    int n_neg = kn_tokenize(negative, &vocab, neg_ids, 64, NULL, 0, &words);
    kn_vocab_free(&vocab);
    compare_ints("ids", ids, n_ids, find("ids"));
    compare_ints("neg_ids", neg_ids, n_neg, find("neg_ids"));
    char *want_unknown = golden_string("unknown");
    check(!strcmp(unknown, want_unknown), "unknown words match model.py tokenize");

    kn_generation g;
    memset(&g, 0, sizeof g);
    if (!kn_generation_alloc(&g, hp, hp->frames)) return 1;
    const size_t Dt = (size_t)hp->text_dim;
    const size_t latent = (size_t)hp->frames * hp->latent_channels * hp->latent_h * hp->latent_w;

    /* text encoder */
    static const int null_id[1] = {0};
    float pooled[256];
    kn_text_encode(m, ids, n_ids, g.cond.tokens, pooled, &g.text_ws);
    compare("cond.tokens", g.cond.tokens, gf("cond.tokens"), n_ids * Dt, STAGE_TOL);
    compare("cond.pooled", pooled, gf("cond.pooled"), Dt, STAGE_TOL);
    kn_text_encode(m, neg_ids, n_neg, g.cond.tokens, pooled, &g.text_ws);
    compare("uncond.tokens", g.cond.tokens, gf("uncond.tokens"), n_neg * Dt, STAGE_TOL);
    compare("uncond.pooled", pooled, gf("uncond.pooled"), Dt, STAGE_TOL);
    kn_text_encode(m, null_id, 1, g.cond.tokens, pooled, &g.text_ws);
    compare("null.tokens", g.cond.tokens, gf("null.tokens"), Dt, STAGE_TOL);
    compare("null.pooled", pooled, gf("null.pooled"), Dt, STAGE_TOL);

    /* timestep embedding and noise */
    float temb[1024];
    kn_timestep_embedding(temb, (float)kn_step_time(1, steps), hp->dim);
    compare("temb.t_mid", temb, gf("temb.t_mid"), (size_t)hp->dim, STAGE_TOL);
    kn_gaussian_noise(g.z, latent, (uint64_t)seed);
    compare("noise", g.z, gf("noise"), latent, STAGE_TOL);

    /* one denoiser pass from PyTorch's own inputs, so its error is the denoiser's alone */
    const struct { const char *tokens, *pooled, *out; int n, temporal; } passes[] = {
        {"cond.tokens", "cond.pooled", "v.cond.t1", n_ids, 1},
        {"uncond.tokens", "uncond.pooled", "v.uncond.t1", n_neg, 1},
        {"cond.tokens", "cond.pooled", "v.cond.t1.no_temporal", n_ids, 0},
    };
    for (int i = 0; i < 3; i++) {
        g.cond.n_tokens = passes[i].n;
        memcpy(g.cond.tokens, gf(passes[i].tokens), passes[i].n * Dt * sizeof(float));
        memcpy(g.cond.pooled, gf(passes[i].pooled), Dt * sizeof(float));
        kn_condition_prepare(m, &g.cond);
        float times[KN_DENOISER_MAX_FRAMES];
        for (int f = 0; f < hp->frames; f++) times[f] = 1.0f;
        kn_denoise(m, gf("noise"), times, &g.cond, hp->frames, passes[i].temporal, g.v, &g.den_ws);
        compare(passes[i].out, g.v, gf(passes[i].out), latent, STAGE_TOL);
    }
    /* a time per frame: the given frames at 0, the others at the step's */
    kn_denoise(m, gf("noise"), gf("times"), &g.cond, hp->frames, 1, g.v, &g.den_ws);
    compare("v.cond.times", g.v, gf("v.cond.times"), latent, STAGE_TOL);

    /* the whole sampler from the engine's own start: every latent of the trajectory, first with
       re-noising steps (fresh noise from the seed at every step but the last), then Euler steps */
    g.steps = steps;
    g.guidance = guidance;
    g.temporal_on = 1;
    g.renoise = renoise;
    sampler_trajectory(m, &g, ids, n_ids, neg_ids, n_neg, (uint64_t)seed, "latent.renoise", latent);
    float *renoised = malloc(latent * sizeof(float));
    memcpy(renoised, g.z, latent * sizeof(float));
    g.renoise = 0.0f;
    sampler_trajectory(m, &g, ids, n_ids, neg_ids, n_neg, (uint64_t)seed, "latent", latent);
    check(!memcmp(g.z, g.clean, latent * sizeof(float)), "clean estimate equals the final latent after the last step");
    check(memcmp(g.z, renoised, latent * sizeof(float)) != 0, "re-noising changes the clip");
    free(renoised);

    /* preview and VAE decode of the engine's final latent */
    const size_t hw = (size_t)hp->latent_h * hp->latent_w, HW = (size_t)hp->height * hp->width;
    float *preview = malloc(hp->frames * 3 * hw * sizeof(float)), *rgb = malloc(hp->frames * 3 * HW * sizeof(float));
    for (int f = 0; f < hp->frames; f++)
        kn_preview_frame(m, g.z + f * latent / hp->frames, preview + f * 3 * hw);
    kn_vae_decode(m, g.z, hp->frames, rgb, &g.vae_ws);
    compare("preview", preview, gf("preview"), hp->frames * 3 * hw, TRAJECTORY_TOL);
    compare("rgb", rgb, gf("rgb"), hp->frames * 3 * HW, TRAJECTORY_TOL);
    /* the same decode from PyTorch's final latent isolates the decoder */
    kn_vae_decode(m, gf("latent.2"), hp->frames, rgb, &g.vae_ws);
    compare("rgb (from torch latent)", rgb, gf("rgb"), hp->frames * 3 * HW, STAGE_TOL);

    /* the public API end to end: bytes of every frame */
    kineto_ctx *ctx = kineto_load_file(FIXTURES "/tiny.kin", &st);
    check(ctx != NULL, "kineto_load_file(tiny.kin)");
    if (ctx) {
        kineto_params p = kineto_default_params();
        p.prompt = prompt;
        p.negative_prompt = negative;
        p.seed = (uint64_t)seed;
        p.steps = steps;
        p.guidance = guidance;
        p.renoise = 0.0f; /* the golden frames come from Euler steps */
        st = kineto_begin(ctx, &p);
        while (st == KINETO_OK && !kineto_done(ctx)) st = kineto_step(ctx);
        size_t bytes = (size_t)hp->frames * HW * 4;
        uint8_t *rgba = malloc(bytes);
        if (st == KINETO_OK) st = kineto_decode(ctx, rgba, bytes);
        check(st == KINETO_OK, "public API generation runs");
        check(!strcmp(kineto_unknown_words(ctx), want_unknown), "kineto_unknown_words matches");
        compare_bytes("frames (uint8)", rgba, find("frames"), hp->frames * HW);
        free(rgba);
        kineto_free(ctx);
    }

    storyboard_latents(m, prompt, negative, (uint64_t)seed, steps, guidance, renoise, "clip.latent");
    storyboard(m, prompt, negative, (uint64_t)seed, steps, guidance, renoise);
    m->hp.clean_context = 1; /* the same weights, giving their known frames clean */
    storyboard_latents(m, prompt, negative, (uint64_t)seed, steps, guidance, renoise, "clean.clip.latent");

    free(preview);
    free(rgb);
    kn_generation_free(&g);
    kn_model_free(m);
    free(file);
    free(prompt);
    free(negative);
    free(want_unknown);
    return check_exit();
}
