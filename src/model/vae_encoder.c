/* vae_encoder.c — conv encoder (train/model.py VAEEncoder): conv_in and a residual block at the
   input's size, then per level a 3x3 stride-2 conv and a residual block, then GroupNorm + SiLU +
   conv_out to the latent's mean and log-variance.

   A stride-2 convolution (padding 1) is the stride-1 one read at even pixels: output (y, x) sums
   the same inputs (2y + ky - 1, 2x + kx - 1) in the same order. The encoder runs once per clip, so
   it computes the stride-1 convolution with the tested kernel and keeps every other pixel, rather
   than adding a second kernel. */
#include <string.h>

#include "vae_decoder.h"
#include "vae_encoder.h"

int kn_vae_encoder_height(const kn_hparams *hp) { return hp->latent_h * hp->enc_factor; }
int kn_vae_encoder_width(const kn_hparams *hp) { return hp->latent_w * hp->enc_factor; }

static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* The widths e[0..E-1]: the decoder's last enc_levels. */
static const int *enc_ch(const kn_hparams *hp) { return hp->vae_ch + (hp->vae_levels - hp->enc_levels); }

/* Three activation buffers of `most` floats each, then the convolutions' scratch. */
static void work_sizes(const kn_hparams *hp, uint64_t *most, uint64_t *scratch) {
    const int *e = enc_ch(hp), E = hp->enc_levels;
    const int H = kn_vae_encoder_height(hp), W = kn_vae_encoder_width(hp);
    *most = (uint64_t)2 * hp->latent_channels * hp->latent_h * hp->latent_w;
    *scratch = 1;
    for (int j = 0; j < E; j++) {
        const int h = H >> j, w = W >> j;
        /* level j: conv_in (j = 0), its residual block at e[j], then the stride-1 form of down[j] to
           e[j+1] (or conv_out at the last level); the input image is the caller's */
        const int next = j + 1 < E ? e[j + 1] : 2 * hp->latent_channels;
        *most = max_u64(*most, (uint64_t)(next > e[j] ? next : e[j]) * h * w);
        kn_conv probes[] = {{e[j], j == 0 ? 3 : e[j], 3, 0}, {e[j], e[j], 3, 0}, {next, e[j], 3, 0}};
        for (int k = 0; k < 3; k++) *scratch = max_u64(*scratch, kn_conv_scratch_floats(&probes[k], h, w));
    }
}

uint64_t kn_vae_encoder_work_floats(const kn_hparams *hp) {
    uint64_t most, scratch;
    work_sizes(hp, &most, &scratch);
    return 3 * most + scratch;
}

/* x (C, H, W) -> y (C, H/2, W/2): the even rows and columns. */
static void take_even_pixels(float *y, const float *x, int C, int H, int W) {
    for (int c = 0; c < C; c++)
        for (int i = 0; i < H / 2; i++)
            for (int j = 0; j < W / 2; j++)
                y[((size_t)c * (H / 2) + i) * (W / 2) + j] = x[((size_t)c * H + 2 * i) * W + 2 * j];
}

void kn_vae_encode(const kn_model *m, const float *image, float *mean, float *work) {
    const kn_hparams *hp = &m->hp;
    const kn_vae_encoder *v = &m->enc;
    const int *e = enc_ch(hp), E = hp->enc_levels, g = hp->vae_groups;
    const float eps = hp->norm_eps;
    uint64_t most, scratch_floats;
    work_sizes(hp, &most, &scratch_floats);
    float *a = work, *b = work + most, *c = work + 2 * most, *scratch = work + 3 * most;
    int H = kn_vae_encoder_height(hp), W = kn_vae_encoder_width(hp);

    kn_conv2d(b, image, &v->conv_in.w, v->conv_in.b, H, W, scratch);
    kn_res_block_forward(&v->res[0], b, a, c, e[0], H, W, g, eps, scratch);
    for (int j = 0; j + 1 < E; j++) { /* b holds level j */
        kn_conv2d(a, b, &v->down[j].w, v->down[j].b, H, W, scratch);
        take_even_pixels(b, a, e[j + 1], H, W);
        H /= 2, W /= 2;
        kn_res_block_forward(&v->res[j + 1], b, a, c, e[j + 1], H, W, g, eps, scratch);
    }
    kn_group_norm(a, b, v->norm_out_w, v->norm_out_b, e[E - 1], H * W, g, eps, 1);
    kn_conv2d(c, a, &v->conv_out.w, v->conv_out.b, H, W, scratch);
    memcpy(mean, c, sizeof(float) * (size_t)hp->latent_channels * H * W); /* the first C channels */
}
