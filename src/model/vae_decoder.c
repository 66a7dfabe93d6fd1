/* vae_decoder.c — conv decoder: conv_in, a residual block at each of three resolutions with
   nearest-neighbour 2x upsampling and a 3x3 conv between them, then GroupNorm + SiLU + conv_out;
   optionally a TemporalMix after the first two residual blocks. */
#include "vae_decoder.h"

static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

void kn_vae_ws_carve(kn_vae_ws *ws, const kn_hparams *hp, int frames, kn_arena *a) {
    const uint64_t hw = (uint64_t)hp->latent_h * (uint64_t)hp->latent_w;
    const uint64_t c0 = (uint64_t)hp->vae_ch[0], c1 = (uint64_t)hp->vae_ch[1], c2 = (uint64_t)hp->vae_ch[2];
    uint64_t most = max_u64((uint64_t)hp->latent_channels * hw, c2 * 4 * hw); /* c2 after the first upsample */
    most = max_u64(most, c1 * 16 * hw);                                        /* c1 after the second */
    most = max_u64(most, max_u64(c0, 3) * 16 * hw);
    ws->a = kn_carve(a, most);
    ws->b = kn_carve(a, most);
    ws->c = kn_carve(a, most);
    ws->clip2 = kn_carve(a, (uint64_t)frames * c2 * hw);
    ws->clip1 = kn_carve(a, (uint64_t)frames * c1 * 4 * hw);
    ws->normed = hp->vae_temporal ? kn_carve(a, (uint64_t)frames * max_u64(c2 * hw, c1 * 4 * hw)) : NULL;
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

/* clip (frames, ch, H, W) += the three frame taps over n = silu(norm(clip)), as model.py TemporalMix:
   y = cur(n[f]) + prev(n[f - 1]) + next(n[f + 1]), the missing neighbours of the end frames zero. */
static void temporal_mix(const kn_temporal_mix *t, float *clip, int frames, int ch, int H, int W, int groups,
                         float eps, const kn_vae_ws *ws) {
    const size_t n = (size_t)ch * H * W;
    for (int f = 0; f < frames; f++)
        kn_group_norm(ws->normed + f * n, clip + f * n, t->norm_w, t->norm_b, ch, H * W, groups, eps, 1);
    for (int f = 0; f < frames; f++) {
        conv(&t->cur, ws->a, ws->normed + f * n, H, W, ws);
        if (f > 0) {
            conv(&t->prev, ws->b, ws->normed + (f - 1) * n, H, W, ws);
            kn_add(ws->a, ws->b, n);
        }
        if (f + 1 < frames) {
            conv(&t->next, ws->b, ws->normed + (f + 1) * n, H, W, ws);
            kn_add(ws->a, ws->b, n);
        }
        kn_add(clip + f * n, ws->a, n);
    }
}

void kn_vae_decode(const kn_model *m, const float *latent, int frames, float *rgb, const kn_vae_ws *ws) {
    const kn_hparams *hp = &m->hp;
    const kn_vae_decoder *v = &m->vae;
    const int C = hp->latent_channels, h = hp->latent_h, w = hp->latent_w, g = hp->vae_groups;
    const int c0 = hp->vae_ch[0], c1 = hp->vae_ch[1], c2 = hp->vae_ch[2];
    const size_t n_latent = (size_t)C * h * w, n2 = (size_t)c2 * h * w, n1 = (size_t)c1 * 4 * h * w;
    const size_t n_rgb = (size_t)3 * 16 * h * w;
    const float eps = hp->norm_eps;
    float *a = ws->a, *b = ws->b, *c = ws->c;

    for (int f = 0; f < frames; f++) {
        float *x = ws->clip2 + f * n2;
        for (size_t i = 0; i < n_latent; i++) a[i] = latent[f * n_latent + i] / hp->latent_scale;
        conv(&v->conv_in, x, a, h, w, ws);
        res_block(&v->res2, x, a, c, c2, h, w, g, eps, ws);
    }
    if (hp->vae_temporal) temporal_mix(&v->tmix2, ws->clip2, frames, c2, h, w, g, eps, ws);
    for (int f = 0; f < frames; f++) {
        float *x = ws->clip1 + f * n1;
        kn_upsample2x(a, ws->clip2 + f * n2, c2, h, w);
        conv(&v->up1, x, a, 2 * h, 2 * w, ws);
        res_block(&v->res1, x, a, c, c1, 2 * h, 2 * w, g, eps, ws);
    }
    if (hp->vae_temporal) temporal_mix(&v->tmix1, ws->clip1, frames, c1, 2 * h, 2 * w, g, eps, ws);
    for (int f = 0; f < frames; f++) {
        kn_upsample2x(a, ws->clip1 + f * n1, c1, 2 * h, 2 * w);
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
