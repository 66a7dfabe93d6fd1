/* denoiser.c — one forward pass of the video transformer, following train/model.py Denoiser.forward.
   Activations are (N, D) rows in frame-major order: row f*T + p is patch p of frame f. */
#include <stddef.h>

#include "denoiser.h"

#define CROSS_ROWS 32           /* query rows per cross-attention work item */
#define LOG_10000 9.21034037198f /* ln(10000): timestep_embedding's frequency base */

void kn_condition_carve(kn_condition *c, const kn_hparams *hp, kn_arena *a) {
    const uint64_t L = (uint64_t)hp->max_tokens;
    c->tokens = kn_carve(a, L * (uint64_t)hp->text_dim);
    c->pooled = kn_carve(a, (uint64_t)hp->text_dim);
    c->cross_kv = kn_carve(a, (uint64_t)hp->depth * L * 2 * (uint64_t)hp->dim);
}

/* attention scratch for one thread: the largest of the three kinds of call */
static uint64_t attention_floats(const kn_hparams *hp, int frames) {
    const int T = hp->tokens_per_frame, hd = hp->dim / hp->heads;
    uint64_t spatial = kn_attention_scratch_floats(T, T, hd), temporal = kn_attention_scratch_floats(frames, frames, hd);
    uint64_t cross = kn_attention_scratch_floats(CROSS_ROWS, hp->max_tokens, hd);
    uint64_t most = spatial > temporal ? spatial : temporal;
    return most > cross ? most : cross;
}

void kn_denoiser_ws_carve(kn_denoiser_ws *ws, const kn_hparams *hp, int frames, kn_arena *a) {
    const uint64_t N = (uint64_t)frames * (uint64_t)hp->tokens_per_frame, D = (uint64_t)hp->dim;
    ws->x = kn_carve(a, N * D);
    ws->h = kn_carve(a, N * D);
    ws->attn = kn_carve(a, N * D);
    ws->qkv = kn_carve(a, N * 3 * D);
    ws->hidden = kn_carve(a, N * (uint64_t)hp->mlp_ratio * D);
    ws->patches = kn_carve(a, N * (uint64_t)hp->patch_dim);
    ws->scores_per_thread = attention_floats(hp, frames);
    ws->scores = kn_carve(a, ws->scores_per_thread * KN_MAX_THREADS);
    ws->temb = kn_carve(a, D);
    ws->c = kn_carve(a, D);
    ws->c_hidden = kn_carve(a, D);
    ws->c_act = kn_carve(a, (uint64_t)frames * D);
    ws->ada = kn_carve(a, (uint64_t)frames * 6 * D);
}

void kn_condition_prepare(const kn_model *m, kn_condition *c) {
    const kn_hparams *hp = &m->hp;
    const size_t block_stride = (size_t)hp->max_tokens * 2 * hp->dim;
    for (int l = 0; l < hp->depth; l++)
        kn_linear(c->cross_kv + l * block_stride, c->tokens, &m->den.blocks[l].cross_kv.w, m->den.blocks[l].cross_kv.b,
                  c->n_tokens);
}

void kn_timestep_embedding(float *out, float t, int dim) {
    const int half = dim / 2;
    const float t1000 = t * 1000.0f;
    for (int i = 0; i < half; i++) {
        float freq = kn_expf((-LOG_10000 * (float)i) / (float)half);
        float arg = t1000 * freq;
        out[i] = kn_cosf(arg);
        out[half + i] = kn_sinf(arg);
    }
}

/* ---- patches: token p = py*gw + px, feature = c*P*P + iy*P + ix (model.py patchify) ---- */
static void patchify(float *patches, const float *z, const kn_hparams *hp, int frames) {
    const int C = hp->latent_channels, P = hp->patch, h = hp->latent_h, w = hp->latent_w;
    for (int f = 0; f < frames; f++)
        for (int py = 0; py < hp->grid_h; py++)
            for (int px = 0; px < hp->grid_w; px++) {
                float *row = patches + ((size_t)f * hp->tokens_per_frame + py * hp->grid_w + px) * hp->patch_dim;
                for (int c = 0; c < C; c++)
                    for (int iy = 0; iy < P; iy++)
                        for (int ix = 0; ix < P; ix++)
                            *row++ = z[(((size_t)f * C + c) * h + py * P + iy) * w + px * P + ix];
            }
}

static void unpatchify(float *z, const float *patches, const kn_hparams *hp, int frames) {
    const int C = hp->latent_channels, P = hp->patch, h = hp->latent_h, w = hp->latent_w;
    for (int f = 0; f < frames; f++)
        for (int py = 0; py < hp->grid_h; py++)
            for (int px = 0; px < hp->grid_w; px++) {
                const float *row = patches + ((size_t)f * hp->tokens_per_frame + py * hp->grid_w + px) * hp->patch_dim;
                for (int c = 0; c < C; c++)
                    for (int iy = 0; iy < P; iy++)
                        for (int ix = 0; ix < P; ix++)
                            z[(((size_t)f * C + c) * h + py * P + iy) * w + px * P + ix] = *row++;
            }
}

/* ---- attention work split across threads, each with its own scratch ---- */
typedef struct {
    const kn_hparams *hp;
    const float *qkv;      /* self-attention: (N, 3D); cross: queries (N, D) */
    const float *kv;       /* cross only: (L, 2D) */
    float *out;            /* (N, D) */
    float *scores;         /* scratch_floats per thread */
    size_t scratch_floats;
    int frames, n_keys, n_rows;
} attention_job;

static float *thread_scratch(const attention_job *j) { return j->scores + kn_thread_index() * j->scratch_floats; }

/* Spatial: item f attends among the T patches of frame f. */
static void spatial_items(void *arg, int begin, int end) {
    const attention_job *j = arg;
    const int T = j->hp->tokens_per_frame, D = j->hp->dim, heads = j->hp->heads;
    for (int f = begin; f < end; f++) {
        const float *q = j->qkv + (size_t)f * T * 3 * D;
        kn_attention(j->out + (size_t)f * T * D, D, q, 3 * D, q + D, 3 * D, q + 2 * D, 3 * D, T, T, heads, D / heads,
                     thread_scratch(j));
    }
}

/* Temporal: item p attends among the F frames' copies of patch p (rows p, p+T, p+2T, ...). */
static void temporal_items(void *arg, int begin, int end) {
    const attention_job *j = arg;
    const int T = j->hp->tokens_per_frame, D = j->hp->dim, heads = j->hp->heads, F = j->frames;
    for (int p = begin; p < end; p++) {
        const float *q = j->qkv + (size_t)p * 3 * D;
        kn_attention(j->out + (size_t)p * D, T * D, q, T * 3 * D, q + D, T * 3 * D, q + 2 * D, T * 3 * D, F, F, heads,
                     D / heads, thread_scratch(j));
    }
}

/* Cross: item i takes CROSS_ROWS query rows against all of the prompt's tokens. */
static void cross_items(void *arg, int begin, int end) {
    const attention_job *j = arg;
    const int D = j->hp->dim, heads = j->hp->heads;
    for (int i = begin; i < end; i++) {
        int row = i * CROSS_ROWS, n = j->n_rows - row < CROSS_ROWS ? j->n_rows - row : CROSS_ROWS;
        kn_attention(j->out + (size_t)row * D, D, j->qkv + (size_t)row * D, D, j->kv, 2 * D, j->kv + D, 2 * D, n,
                     j->n_keys, heads, D / heads, thread_scratch(j));
    }
}

/* Frames first[r]..first[r+1]-1 share a time, so a conditioning vector: run r's is row r of
   ws->c_act, its adaLN terms row r of ws->ada (shift1, scale1, gate1, shift2, scale2, gate2). */
typedef struct {
    int n;
    int first[KN_DENOISER_MAX_FRAMES + 1];
} time_runs;

/* adaLN's modulation of layer norm, each run's rows by its own terms (at `part` of its ada row) */
static void norm_modulate_runs(float *h, const float *x, const float *ada, int part, const time_runs *runs, int T,
                               int D, int ada_width, float eps) {
    for (int r = 0; r < runs->n; r++) {
        const size_t row = (size_t)runs->first[r] * T * D;
        const float *terms = ada + (size_t)r * ada_width + (size_t)part * D;
        kn_layer_norm_modulate(h + row, x + row, terms, terms + D, (runs->first[r + 1] - runs->first[r]) * T, D, eps);
    }
}

/* x += gate * (in @ W^T + bias), in of in_width per row, each run's rows by its own gate */
static void linear_gated_runs(float *x, float *h, const float *in, int in_width, const kn_dense *layer,
                              const float *ada, int part, const time_runs *runs, int T, int D) {
    for (int r = 0; r < runs->n; r++) {
        const size_t row = (size_t)runs->first[r] * T;
        kn_linear_residual(x + row * D, h + row * D, in + row * in_width, &layer->w, layer->b,
                           ada + (size_t)r * 6 * D + (size_t)part * D, (runs->first[r + 1] - runs->first[r]) * T);
    }
}

static void denoiser_block(const kn_model *m, int l, int temporal, const kn_condition *text, int frames,
                           const time_runs *runs, const kn_denoiser_ws *ws) {
    const kn_hparams *hp = &m->hp;
    const kn_denoiser_block *b = &m->den.blocks[l];
    const int D = hp->dim, T = hp->tokens_per_frame, N = frames * T;
    const float eps = hp->norm_eps;
    float *x = ws->x, *h = ws->h, *attn = ws->attn;

    for (int r = 0; r < runs->n; r++)
        kn_linear(ws->ada + (size_t)r * 6 * D, ws->c_act + (size_t)r * D, &b->ada.w, b->ada.b, 1);

    /* self-attention, within frames or across them */
    norm_modulate_runs(h, x, ws->ada, 0, runs, T, D, 6 * D, eps);
    kn_linear(ws->qkv, h, &b->qkv.w, b->qkv.b, N);
    attention_job job = {hp, ws->qkv, NULL, attn, ws->scores, ws->scores_per_thread, frames, 0, N};
    if (temporal) kn_parallel_for(hp->tokens_per_frame, temporal_items, &job);
    else kn_parallel_for(frames, spatial_items, &job);
    linear_gated_runs(x, h, attn, D, &b->out, ws->ada, 2, runs, T, D);

    /* cross-attention: every patch of every frame attends to the prompt's tokens */
    kn_layer_norm(h, x, b->norm_cross_w, b->norm_cross_b, N, D, eps);
    kn_linear(ws->qkv, h, &b->cross_q.w, b->cross_q.b, N);
    attention_job cross = {hp, ws->qkv, text->cross_kv + (size_t)l * hp->max_tokens * 2 * D, attn, ws->scores,
                           ws->scores_per_thread, frames, text->n_tokens, N};
    kn_parallel_for((N + CROSS_ROWS - 1) / CROSS_ROWS, cross_items, &cross);
    kn_linear_residual(x, h, attn, &b->cross_out.w, b->cross_out.b, NULL, N);

    /* MLP */
    norm_modulate_runs(h, x, ws->ada, 3, runs, T, D, 6 * D, eps);
    kn_linear_silu(ws->hidden, h, &b->fc1.w, b->fc1.b, N);
    linear_gated_runs(x, h, ws->hidden, hp->mlp_ratio * D, &b->fc2, ws->ada, 5, runs, T, D);
}

void kn_denoise(const kn_model *m, const float *z, const float *t, const kn_condition *text, int frames,
                int temporal_on, float *v, const kn_denoiser_ws *ws) {
    const kn_hparams *hp = &m->hp;
    const kn_denoiser *dn = &m->den;
    const int D = hp->dim, T = hp->tokens_per_frame, N = frames * T;

    patchify(ws->patches, z, hp, frames);
    kn_linear(ws->x, ws->patches, &dn->patch_in.w, dn->patch_in.b, N);
    for (int f = 0; f < frames; f++)
        for (int p = 0; p < T; p++) {
            float *row = ws->x + ((size_t)f * T + p) * D;
            for (int d = 0; d < D; d++) row[d] = row[d] + dn->pos_space[p * D + d] + dn->pos_time[f * D + d];
        }

    /* each run of frames at one time has a conditioning vector c = time_mlp(timestep) +
       text_proj(pooled), used through SiLU; one run when every frame is at the step's time */
    time_runs runs = {0, {0}};
    for (int f = 0; f < frames; f++)
        if (f == 0 || t[f] != t[f - 1]) runs.first[runs.n++] = f;
    runs.first[runs.n] = frames;
    for (int r = 0; r < runs.n; r++) {
        float *c_act = ws->c_act + (size_t)r * D;
        kn_timestep_embedding(ws->temb, t[runs.first[r]], D);
        kn_linear(ws->c_hidden, ws->temb, &dn->time_fc1.w, dn->time_fc1.b, 1);
        kn_silu(ws->c_hidden, ws->c_hidden, (size_t)D);
        kn_linear(ws->c, ws->c_hidden, &dn->time_fc2.w, dn->time_fc2.b, 1);
        kn_linear(ws->c_hidden, text->pooled, &dn->text_proj.w, dn->text_proj.b, 1);
        for (int d = 0; d < D; d++) ws->c[d] += ws->c_hidden[d];
        kn_silu(c_act, ws->c, (size_t)D);
    }

    for (int l = 0; l < hp->depth; l++) {
        int temporal = l % 2 == 1;
        if (temporal && !temporal_on) continue;
        denoiser_block(m, l, temporal, text, frames, &runs, ws);
    }

    for (int r = 0; r < runs.n; r++) /* shift, scale */
        kn_linear(ws->ada + (size_t)r * 2 * D, ws->c_act + (size_t)r * D, &dn->final_ada.w, dn->final_ada.b, 1);
    norm_modulate_runs(ws->h, ws->x, ws->ada, 0, &runs, T, D, 2 * D, hp->norm_eps);
    kn_linear(ws->patches, ws->h, &dn->patch_out.w, dn->patch_out.b, N);
    unpatchify(v, ws->patches, hp, frames);
}
