/* text_encoder.h — word ids to text tokens and a pooled vector (train/model.py TextEncoder). */
#ifndef KN_TEXT_ENCODER_H
#define KN_TEXT_ENCODER_H

#include "../arena.h"
#include "../weights.h"

#define TEXT_MLP_RATIO 4   /* model.py TextBlock: Mlp(dim, 4 * dim); the loader checks fc1/fc2 against it */

typedef struct {
    float *x, *h;     /* (max_tokens, Dt) */
    float *qkv;       /* (max_tokens, 3Dt) */
    float *attn;      /* (max_tokens, Dt) */
    float *hidden;    /* (max_tokens, TEXT_MLP_RATIO * Dt) */
    float *scores;    /* attention scratch */
} kn_text_ws;

void kn_text_ws_carve(kn_text_ws *ws, const kn_hparams *hp, kn_arena *a);

/* ids (n,), 1 <= n <= max_tokens, every position unmasked -> tokens (n, Dt), pooled (Dt,) = mean. */
void kn_text_encode(const kn_model *m, const int *ids, int n, float *tokens, float *pooled, const kn_text_ws *ws);

#endif
