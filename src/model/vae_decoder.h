/* vae_decoder.h — latent clip to RGB frames (train/model.py VAEDecoder) and the cheap 1x1 preview map. */
#ifndef KN_VAE_DECODER_H
#define KN_VAE_DECODER_H

#include <stdint.h>

#include "../arena.h"
#include "../weights.h"

typedef struct {
    float *a, *b, *c;   /* each the largest (channels, H, W) activation of one frame */
    float *scratch;     /* convolution scratch */
} kn_vae_ws;

void kn_vae_ws_carve(kn_vae_ws *ws, const kn_hparams *hp, kn_arena *a);

/* A clip: latent (frames, C, h, w) in diffusion scale -> rgb (frames, 3, H, W) floats, about [-1, 1],
   unclamped; frame by frame. */
void kn_vae_decode(const kn_model *m, const float *latent, int frames, float *rgb, const kn_vae_ws *ws);

/* train/model.py ResBlock: x (ch, H, W) += conv2(silu(norm2(conv1(silu(norm1(x)))))); t1, t2 are
   temporaries of x's size, scratch the convolutions'. Shared with the encoder. */
void kn_res_block_forward(const kn_res_block *r, float *x, float *t1, float *t2, int ch, int H, int W, int groups,
                          float eps, float *scratch);

/* One frame: latent (C, h, w) -> rgb (3, h, w) through the preview's 1x1 map. */
void kn_preview_frame(const kn_model *m, const float *latent, float *rgb);

/* [-1, 1] float -> byte, as model.py decode_frames: floor((clamp(x) + 1) * 127.5 + 0.5). */
uint8_t kn_to_byte(float x);

#endif
