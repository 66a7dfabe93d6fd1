/* vae_decoder.c — conv decoder: conv_in, a residual block at each of three resolutions with
   nearest-neighbour 2x upsampling and a 3x3 conv between them, then GroupNorm + SiLU + conv_out. */
#include "vae_decoder.h"

static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

void kn_vae_ws_carve(kn_vae_ws *ws, const kn_hparams *hp, kn_arena *a) {
    const uint64_t hw = (uint64_t)hp->latent_h * (uint64_t)hp->latent_w;
    const uint64_t c0 = (uint64_t)hp->vae_ch0, c1 = (uint64_t)hp->vae_ch1, c2 = (uint64_t)hp->vae_ch2;
    uint64_t most = max_u64((uint64_t)hp->latent_channels * hw, c2 * 4 * hw); /* c2 after the first upsample */
    most = max_u64(most, c1 * 16 * hw);                                        /* c1 after the second */
    most = max_u64(most, max_u64(c0, 3) * 16 * hw);
    ws->a = kn_carve(a, most);
    ws->b = kn_carve(a, most);
    ws->c = kn_carve(a, most);
    /* scratch for the widest convolution at each resolution */
    const int H = hp->height, W = hp->width;
    kn_conv probes[] = {{(int)c2, hp->latent_channels, 3, 0}, {(int)c2, (int)c2, 3, 0}, {(int)c1, (int)c2, 3, 0},
                        {(int)c1, (int)c1, 3, 0}, {(int)c0, (int)c1, 3, 0}, {(int)c0, (int)c0, 3, 0},
                        {3, (int)c0, 3, 0}};
    const int scale[] = {1, 1, 2, 2, 4, 4, 4};
    uint64_t scratch = 1;
    for (int i = 0; i < 7; i++) {
        int s = scale[i];
        scratch = max_u64(scratch, kn_conv_scratch_floats(&probes[i], H * s / 4, W * s / 4));
    }
    ws->scratch = kn_carve(a, scratch);
}

static void conv(const kn_conv_layer *c, float *y, const float *x, int H, int W, const kn_vae_ws *ws) {
    kn_conv2d(y, x, &c->w, c->b, H, W, ws->scratch);
}

/* x (ch, H, W) += conv2(silu(norm2(conv1(silu(norm1(x)))))); uses t1, t2 as temporaries. */
static void res_block(const kn_res_block *r, float *x, float *t1, float *t2, int ch, int H, int W, int groups,
                      float eps, const kn_vae_ws *ws) {
    kn_group_norm(t1, x, r->norm1_w, r->norm1_b, ch, H * W, groups, eps, 1);
    conv(&r->conv1, t2, t1, H, W, ws);
    kn_group_norm(t1, t2, r->norm2_w, r->norm2_b, ch, H * W, groups, eps, 1);
    conv(&r->conv2, t2, t1, H, W, ws);
    kn_add(x, t2, (size_t)ch * H * W);
}

void kn_vae_decode(const kn_model *m, const float *latent, int frames, float *rgb, const kn_vae_ws *ws) {
    const kn_hparams *hp = &m->hp;
    const kn_vae_decoder *v = &m->vae;
    const int C = hp->latent_channels, h = hp->latent_h, w = hp->latent_w, g = hp->vae_groups;
    const int c0 = hp->vae_ch0, c1 = hp->vae_ch1, c2 = hp->vae_ch2;
    const size_t n_latent = (size_t)C * h * w, n_rgb = (size_t)3 * 16 * h * w;
    const float eps = hp->norm_eps;
    float *a = ws->a, *b = ws->b, *c = ws->c;

    for (int f = 0; f < frames; f++) {
        for (size_t i = 0; i < n_latent; i++) a[i] = latent[f * n_latent + i] / hp->latent_scale;
        conv(&v->conv_in, b, a, h, w, ws);
        res_block(&v->res2, b, a, c, c2, h, w, g, eps, ws);
        kn_upsample2x(a, b, c2, h, w);
        conv(&v->up1, b, a, 2 * h, 2 * w, ws);
        res_block(&v->res1, b, a, c, c1, 2 * h, 2 * w, g, eps, ws);
        kn_upsample2x(a, b, c1, 2 * h, 2 * w);
        conv(&v->up0, b, a, 4 * h, 4 * w, ws);
        res_block(&v->res0, b, a, c, c0, 4 * h, 4 * w, g, eps, ws);
        kn_group_norm(a, b, v->norm_out_w, v->norm_out_b, c0, 16 * h * w, g, eps, 1);
        conv(&v->conv_out, rgb + f * n_rgb, a, 4 * h, 4 * w, ws);
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
