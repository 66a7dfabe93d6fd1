/* vae_decoder.c — conv decoder (train/model.py VAEDecoder): conv_in, a residual block at each of
   vae_levels resolutions (3 or 4) with nearest-neighbour 2x upsampling and a 3x3 conv between them,
   then GroupNorm + SiLU + conv_out. */
#include "vae_decoder.h"

static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

void kn_vae_ws_carve(kn_vae_ws *ws, const kn_hparams *hp, kn_arena *a) {
    const uint64_t hw = (uint64_t)hp->latent_h * (uint64_t)hp->latent_w;
    const int L = hp->vae_levels;
    /* level i works on (4^(L-1-i) hw) pixels: its residual block, and the upsampled level i+1 before up[i] */
    uint64_t most = (uint64_t)hp->latent_channels * hw;
    for (int i = L - 1; i >= 0; i--) {
        const uint64_t px = hw << (2 * (L - 1 - i));
        most = max_u64(most, (uint64_t)hp->vae_ch[i] * px);
        if (i < L - 1) most = max_u64(most, (uint64_t)hp->vae_ch[i + 1] * px);
    }
    most = max_u64(most, 3 * (hw << (2 * (L - 1))));
    ws->a = kn_carve(a, most);
    ws->b = kn_carve(a, most);
    ws->c = kn_carve(a, most);
    /* scratch for the widest convolution at each resolution */
    uint64_t scratch = 1;
    for (int i = L - 1; i >= 0; i--) {
        const int h = hp->latent_h << (L - 1 - i), w = hp->latent_w << (L - 1 - i), ch = hp->vae_ch[i];
        const int c_in = i == L - 1 ? hp->latent_channels : hp->vae_ch[i + 1]; /* conv_in, or up[i] */
        kn_conv probes[] = {{ch, c_in, 3, 0}, {ch, ch, 3, 0}, {3, ch, 3, 0}};
        for (int k = 0; k < (i == 0 ? 3 : 2); k++)
            scratch = max_u64(scratch, kn_conv_scratch_floats(&probes[k], h, w));
    }
    ws->scratch = kn_carve(a, scratch);
}

static void conv(const kn_conv_layer *c, float *y, const float *x, int H, int W, float *scratch) {
    kn_conv2d(y, x, &c->w, c->b, H, W, scratch);
}

void kn_res_block_forward(const kn_res_block *r, float *x, float *t1, float *t2, int ch, int H, int W, int groups,
                          float eps, float *scratch) {
    kn_group_norm(t1, x, r->norm1_w, r->norm1_b, ch, H * W, groups, eps, 1);
    conv(&r->conv1, t2, t1, H, W, scratch);
    kn_group_norm(t1, t2, r->norm2_w, r->norm2_b, ch, H * W, groups, eps, 1);
    conv(&r->conv2, t2, t1, H, W, scratch);
    kn_add(x, t2, (size_t)ch * H * W);
}

void kn_vae_decode(const kn_model *m, const float *latent, int frames, float *rgb, const kn_vae_ws *ws) {
    const kn_hparams *hp = &m->hp;
    const kn_vae_decoder *v = &m->vae;
    const int C = hp->latent_channels, g = hp->vae_groups, L = hp->vae_levels;
    const size_t n_latent = (size_t)C * hp->latent_h * hp->latent_w, n_rgb = (size_t)3 * hp->height * hp->width;
    const float eps = hp->norm_eps;
    float *a = ws->a, *b = ws->b, *c = ws->c;

    for (int f = 0; f < frames; f++) {
        int h = hp->latent_h, w = hp->latent_w;
        for (size_t i = 0; i < n_latent; i++) a[i] = latent[f * n_latent + i] / hp->latent_scale;
        conv(&v->conv_in, b, a, h, w, ws->scratch);
        kn_res_block_forward(&v->res[L - 1], b, a, c, hp->vae_ch[L - 1], h, w, g, eps, ws->scratch);
        for (int i = L - 2; i >= 0; i--) { /* b holds level i+1 */
            kn_upsample2x(a, b, hp->vae_ch[i + 1], h, w);
            h *= 2, w *= 2;
            conv(&v->up[i], b, a, h, w, ws->scratch);
            kn_res_block_forward(&v->res[i], b, a, c, hp->vae_ch[i], h, w, g, eps, ws->scratch);
        }
        kn_group_norm(a, b, v->norm_out_w, v->norm_out_b, hp->vae_ch[0], h * w, g, eps, 1);
        conv(&v->conv_out, rgb + f * n_rgb, a, h, w, ws->scratch);
    }
}

void kn_preview_frame(const kn_model *m, const float *latent, float *rgb) {
    const int C = m->hp.latent_channels, hw = m->hp.latent_h * m->hp.latent_w;
    for (int k = 0; k < 3; k++)
        for (int p = 0; p < hw; p++) {
            float sum = m->preview_b[k];
            for (int c = 0; c < C; c++) sum += m->preview_w[k * C + c] * latent[c * hw + p];
            rgb[k * hw + p] = sum;
        }
}

uint8_t kn_to_byte(float x) {
    x = x > 1.0f ? 1.0f : x >= -1.0f ? x : -1.0f; /* NaN -> -1 */
    float s = (x + 1.0f) * 127.5f + 0.5f;
    int i = (int)s; /* s >= 0.5, so truncation is floor */
    return (uint8_t)(i > 255 ? 255 : i);
}
