/* text_encoder.c — pre-norm transformer over the prompt's words, then a final LayerNorm and the mean
   over words. One prompt at a time, so no position is ever masked. */
#include <string.h>

#include "text_encoder.h"

void kn_text_ws_carve(kn_text_ws *ws, const kn_hparams *hp, kn_arena *a) {
    const uint64_t L = (uint64_t)hp->max_tokens, Dt = (uint64_t)hp->text_dim;
    ws->x = kn_carve(a, L * Dt);
    ws->h = kn_carve(a, L * Dt);
    ws->qkv = kn_carve(a, L * 3 * Dt);
    ws->attn = kn_carve(a, L * Dt);
    ws->hidden = kn_carve(a, L * TEXT_MLP_RATIO * Dt);
    ws->scores = kn_carve(a, kn_attention_scratch_floats(hp->max_tokens, hp->max_tokens, hp->text_dim / hp->text_heads));
}

void kn_text_encode(const kn_model *m, const int *ids, int n, float *tokens, float *pooled, const kn_text_ws *ws) {
    const kn_hparams *hp = &m->hp;
    const int Dt = hp->text_dim, heads = hp->text_heads;
    const float eps = hp->norm_eps;
    float *x = ws->x, *h = ws->h;
    for (int i = 0; i < n; i++)
        for (int d = 0; d < Dt; d++)
            x[i * Dt + d] = m->text.tok[(size_t)ids[i] * Dt + d] + m->text.pos[(size_t)i * Dt + d];
    for (int l = 0; l < hp->text_layers; l++) {
        const kn_text_block *b = &m->text.blocks[l];
        kn_layer_norm(h, x, b->norm1_w, b->norm1_b, n, Dt, eps);
        kn_linear(ws->qkv, h, &b->qkv.w, b->qkv.b, n);
        kn_attention(ws->attn, Dt, ws->qkv, 3 * Dt, ws->qkv + Dt, 3 * Dt, ws->qkv + 2 * Dt, 3 * Dt, n, n, heads,
                     Dt / heads, ws->scores);
        kn_linear(h, ws->attn, &b->out.w, b->out.b, n);
        kn_add(x, h, (size_t)n * Dt);
        kn_layer_norm(h, x, b->norm2_w, b->norm2_b, n, Dt, eps);
        kn_linear(ws->hidden, h, &b->fc1.w, b->fc1.b, n);
        kn_silu(ws->hidden, ws->hidden, (size_t)n * TEXT_MLP_RATIO * Dt);
        kn_linear(h, ws->hidden, &b->fc2.w, b->fc2.b, n);
        kn_add(x, h, (size_t)n * Dt);
    }
    kn_layer_norm(tokens, x, m->text.norm_w, m->text.norm_b, n, Dt, eps);
    /* masked mean in model.py: (x * mask).sum(1) / mask.sum(1), summed over words in order */
    for (int d = 0; d < Dt; d++) {
        float sum = 0.0f;
        for (int i = 0; i < n; i++) sum += tokens[i * Dt + d];
        pooled[d] = sum / (float)n;
    }
}
