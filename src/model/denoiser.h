/* denoiser.h — the Latte-style video transformer (train/model.py Denoiser): latent clip, time and
   text in, velocity out. Blocks alternate spatial (within a frame) and temporal (across frames)
   self-attention; each also cross-attends to the prompt and is modulated by adaLN-Zero. */
#ifndef KN_DENOISER_H
#define KN_DENOISER_H

#include "../arena.h"
#include "../weights.h"

/* A prompt encoded for the denoiser; the cross-attention keys and values depend only on the text,
   so they are computed once per generation. */
typedef struct {
    int n_tokens;       /* 1..max_tokens */
    float *tokens;      /* (max_tokens, Dt) */
    float *pooled;      /* (Dt,) */
    float *cross_kv;    /* (depth, max_tokens, 2D): per block, keys then values of each token */
} kn_condition;

typedef struct {
    float *x, *h, *attn;   /* (N, D), N = frames * tokens_per_frame */
    float *qkv;            /* (N, 3D) */
    float *hidden;         /* (N, mlp_ratio * D) */
    float *patches;        /* (N, C*P*P) */
    float *scores;         /* attention scratch: KN_MAX_THREADS slots of scores_per_thread floats */
    size_t scores_per_thread;
    float *temb, *c, *c_hidden; /* (D,) */
    float *c_act;          /* (F, D): a conditioning vector per run of frames at one time */
    float *ada;            /* (F, 6D): a run's adaLN terms */
} kn_denoiser_ws;

void kn_condition_carve(kn_condition *c, const kn_hparams *hp, kn_arena *a);
void kn_denoiser_ws_carve(kn_denoiser_ws *ws, const kn_hparams *hp, int frames, kn_arena *a);

/* Fills c->cross_kv from c->tokens. */
void kn_condition_prepare(const kn_model *m, kn_condition *c);

/* Frames of one pass at most (the frames hyperparameter's range). */
#define KN_DENOISER_MAX_FRAMES 256

/* z (F, C, h, w), frame f at time t[f] in [0, 1] -> v (F, C, h, w). temporal_on = 0 skips the
   temporal blocks. */
void kn_denoise(const kn_model *m, const float *z, const float *t, const kn_condition *text, int frames,
                int temporal_on, float *v, const kn_denoiser_ws *ws);

/* (dim,) = [cos(1000 t f_i), sin(1000 t f_i)], f_i = 10000^(-i/(dim/2)), as model.py timestep_embedding. */
void kn_timestep_embedding(float *out, float t, int dim);

#endif
