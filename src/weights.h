/* weights.h — a loaded Kineto model: hyperparameters, vocabulary and weights ready for the kernels.
   Tensor shapes are those of train/model.py; Linear layers are repacked once into kn_matrix. */
#ifndef KN_WEIGHTS_H
#define KN_WEIGHTS_H

#include <stdint.h>
#include "kineto.h"
#include "ops/ops.h"

/* Levels of the VAE a file may have (KINETO_HPARAMS vae_levels). */
#define KN_VAE_MAX_LEVELS 4

/* Everything the engine may allocate for one model (weights + the largest generation). */
#define KN_MEMORY_CAP ((uint64_t)1 << 30)

/* The header's fields (KINETO_HPARAMS in kineto.h, same names; u32 as int), then derived sizes. */
typedef struct {
    int frames, height, width, fps, latent_channels;
    int vae_ch0, vae_ch1, vae_ch2, vae_groups;
    int vocab_size, max_tokens, text_dim, text_layers, text_heads;
    int patch, dim, depth, heads, mlp_ratio;
    float latent_scale, norm_eps;
    int default_steps;
    float default_guidance;
    float default_renoise;
    int vae_ch3, vae_levels, enc_levels;  /* version 3; older files: 0, 3, 3 */
    int clean_context;                    /* version 4; older files: 0 */
    /* derived */
    int latent_h, latent_w, grid_h, grid_w, tokens_per_frame, patch_dim; /* patch_dim = C*P*P */
    int vae_ch[KN_VAE_MAX_LEVELS];        /* vae_ch0.. as an array, level 0 at full resolution */
    int vae_factor;                       /* 2^(vae_levels-1): frame pixels per latent cell */
    int enc_factor;                       /* 2^(enc_levels-1): the encoder's input is latent size * this */
} kn_hparams;

typedef struct {
    kn_matrix w;
    float *b; /* (n_out,) */
} kn_dense;

typedef struct {
    kn_conv w;
    float *b; /* (c_out,) */
} kn_conv_layer;

typedef struct {
    float *norm1_w, *norm1_b, *norm2_w, *norm2_b; /* (Dt,) */
    kn_dense qkv, out, fc1, fc2;                  /* (3Dt, Dt), (Dt, Dt), (4Dt, Dt), (Dt, 4Dt) */
} kn_text_block;

typedef struct {
    float *tok;   /* (vocab, Dt) */
    float *pos;   /* (max_tokens, Dt) */
    kn_text_block *blocks;
    float *norm_w, *norm_b;
} kn_text_encoder;

typedef struct {
    kn_dense qkv, out;               /* self-attention, spatial or temporal */
    float *norm_cross_w, *norm_cross_b;
    kn_dense cross_q, cross_kv, cross_out; /* (D, D), (2D, Dt), (D, D) */
    kn_dense fc1, fc2;               /* (mlp*D, D), (D, mlp*D) */
    kn_dense ada;                    /* (6D, D): shift1, scale1, gate1, shift2, scale2, gate2 */
} kn_denoiser_block;

typedef struct {
    kn_dense patch_in;               /* (D, C*P*P) */
    float *pos_space;                /* (tokens_per_frame, D) */
    float *pos_time;                 /* (frames, D) */
    kn_dense time_fc1, time_fc2, text_proj;
    kn_denoiser_block *blocks;
    kn_dense final_ada, patch_out;   /* (2D, D), (C*P*P, D) */
} kn_denoiser;

typedef struct {
    float *norm1_w, *norm1_b, *norm2_w, *norm2_b;
    kn_conv_layer conv1, conv2;
} kn_res_block;

/* train/model.py VAEDecoder: conv_in and res[L-1] at the latent's size, then per level i = L-2..0
   a nearest x2, up[i] and res[i] with vae_ch[i] channels; norm_out, SiLU, conv_out. */
typedef struct {
    kn_conv_layer conv_in, conv_out;         /* (ch[L-1], C, 3, 3), (3, ch[0], 3, 3) */
    kn_conv_layer up[KN_VAE_MAX_LEVELS - 1]; /* up[i]: (ch[i], ch[i+1], 3, 3) */
    kn_res_block res[KN_VAE_MAX_LEVELS];     /* res[i] at ch[i] */
    float *norm_out_w, *norm_out_b;          /* (ch[0],) */
} kn_vae_decoder;

/* train/model.py VAEEncoder, its nn.Sequential `net` over the widths e = the last enc_levels of
   vae_ch: conv_in (net.0) and res[0] at e[0]; per level j a stride-2 conv down[j] and res[j+1];
   GroupNorm, SiLU, conv_out to 2C channels (mean, then log-variance, which the engine drops). */
typedef struct {
    int present;                               /* the file holds vae_enc.* */
    kn_conv_layer conv_in, conv_out;           /* (e[0], 3, 3, 3), (2C, e[last], 3, 3) */
    kn_conv_layer down[KN_VAE_MAX_LEVELS - 1]; /* down[j]: (e[j+1], e[j], 3, 3), stride 2 */
    kn_res_block res[KN_VAE_MAX_LEVELS];       /* res[j] at e[j] */
    float *norm_out_w, *norm_out_b;            /* (e[last],) */
} kn_vae_encoder;

typedef struct {
    kn_hparams hp;
    char **vocab;        /* vocab_size NUL-terminated words; vocab[0] = "<null>" */
    kn_text_encoder text;
    kn_denoiser den;
    kn_vae_decoder vae;
    kn_vae_encoder enc;  /* optional: image start needs it */
    float *preview_w;    /* (3, C), already divided by latent_scale */
    float *preview_b;    /* (3,) */
    int64_t n_params;
    /* every float array above, freed together */
    float **owned;
    int n_owned, cap_owned;
} kn_model;

/* Parses and validates a .kin buffer; on failure returns NULL and sets *st and the last error. */
kn_model *kn_model_load(const uint8_t *data, size_t size, kineto_status *st);
void kn_model_free(kn_model *m);

uint32_t kn_crc32(const uint8_t *data, size_t n);
float kn_f16_to_f32(uint16_t h);

#endif
