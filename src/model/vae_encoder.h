/* vae_encoder.h — an RGB frame to its latent (train/model.py VAEEncoder), for a clip that starts from
   an image. Optional: only weights that hold vae_enc.* have it (kn_model.enc.present). */
#ifndef KN_VAE_ENCODER_H
#define KN_VAE_ENCODER_H

#include <stdint.h>

#include "../weights.h"

/* The encoder's input side: the latent's times enc_factor (64x64 for the default model). */
int kn_vae_encoder_height(const kn_hparams *hp);
int kn_vae_encoder_width(const kn_hparams *hp);

/* Floats of work memory kn_vae_encode needs. */
uint64_t kn_vae_encoder_work_floats(const kn_hparams *hp);

/* image (3, He, We) in [-1, 1] -> mean (C, h, w), the posterior's mean in the VAE's own scale (the
   diffusion latent is mean * latent_scale); the log-variance is dropped. work: the floats above. */
void kn_vae_encode(const kn_model *m, const float *image, float *mean, float *work);

#endif
