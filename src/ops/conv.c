/* conv.c — 3x3 (stride 1, zero padding 1) and 1x1 convolutions in CHW layout.

   As a GEMM: y (c_out, HW) = W (c_out, K) @ columns (K, HW), K = c_in * k * k in PyTorch's weight
   order (ci, ky, kx). The input is first copied into scratch with a zero border of k / 2 pixels,
   laid out (row, channel, x), so that column (ci, ky, kx) of neighbouring output pixels in one image
   row is consecutive floats of the copy at a fixed offset, and one row of outputs reads a few pages.
   The micro-kernels read the columns there through a table of those offsets; no im2col buffer.
   Each output accumulates its K products in order from zero, then adds its bias, as the reference
   loops do, so the two agree bit for bit; the border's zeros are multiplied like any other input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ops.h"
#include "simd.h"
#include "gemm_kernel.h"

#define STRIP (KN_WIDE_PANELS * KN_PANEL)   /* output pixels per work item: one wide tile's columns */
/* A convolution to RGB (the decoder's conv_out) runs in tiles of exactly 3 rows: the general tiles
   (4 or 6 rows) would repeat its last row, a quarter or more of their multiplies wasted. (3 rows x 2
   panels, more chains, ran slower in WebAssembly: 12 accumulators and the loads outgrow 16 registers.) */
#define RGB_ROWS 3
/* Reads of a strip's last columns may run this far past the padded copy; they land in discarded lanes. */
#define SLACK 16

int kn_conv_init(kn_conv *c, const float *w, int c_out, int c_in, int k)
{
    c->c_out = c_out, c->c_in = c_in, c->k = k, c->packed = NULL;
    if (c_out <= 0 || c_in <= 0 || (k != 1 && k != 3)) return -1;
    size_t n = (size_t)c_out * c_in * k * k;
    c->packed = malloc(n * sizeof *c->packed);   /* (c_out, K) is already the GEMM's A */
    if (!c->packed) return -1;
    memcpy(c->packed, w, n * sizeof *w);
    return 0;
}

void kn_conv_free(kn_conv *c)
{
    free(c->packed);
    c->packed = NULL;
}

/* room for the K column offsets, in floats */
static size_t offsets_floats(const kn_conv *c)
{
    return ((size_t)c->c_in * c->k * c->k * sizeof(int32_t) + sizeof(float) - 1) / sizeof(float);
}

/* The input copy: (H + 2 pad, c_in, W + 2 pad), then the slack, then the column offsets. */
size_t kn_conv_scratch_floats(const kn_conv *c, int H, int W)
{
    int pad = c->k / 2;
    return (size_t)c->c_in * (H + 2 * pad) * (W + 2 * pad) + SLACK + offsets_floats(c);
}

typedef struct {
    float *y, *padded;
    int32_t *off;          /* column k's first pixel, from tap (0, 0, 0)'s */
    const float *x, *bias;
    const kn_conv *c;
    int H, W;
} conv_job;

/* channels [begin, end) of x into the bordered copy */
static void pad_channels(void *arg, int begin, int end)
{
    const conv_job *job = arg;
    const int pad = job->c->k / 2, H = job->H, W = job->W, Wp = W + 2 * pad;
    const size_t row_stride = (size_t)job->c->c_in * Wp;
    for (int ci = begin; ci < end; ci++) {
        float *dst = job->padded + (size_t)ci * Wp;
        const float *src = job->x + (size_t)ci * H * W;
        if (pad) memset(dst, 0, (size_t)Wp * sizeof *dst);   /* top border */
        for (int y = 0; y < H; y++) {
            float *row = dst + (size_t)(y + pad) * row_stride;
            memcpy(row + pad, src + (size_t)y * W, (size_t)W * sizeof *row);
            if (pad) row[0] = row[W + 1] = 0.0f;
        }
        if (pad) memset(dst + (size_t)(H + 1) * row_stride, 0, (size_t)Wp * sizeof *dst);   /* bottom border */
    }
}

/* strips [begin, end): strip s covers pixels x0 .. x0 + STRIP - 1 of image row s / per_row */
static void conv_strips(void *arg, int begin, int end)
{
    const conv_job *job = arg;
    const int W = job->W, per_row = (W + STRIP - 1) / STRIP;
    const size_t row_stride = (size_t)job->c->c_in * (W + 2 * (job->c->k / 2));
    for (int s = begin; s < end; s++) {
        int row = s / per_row, x0 = s % per_row * STRIP, cols = W - x0 < STRIP ? W - x0 : STRIP;
        float *y = job->y + (size_t)row * W + x0;
        const float *src = job->padded + row * row_stride + x0;   /* tap (0, 0, 0) of the first pixel */
        const kn_conv *c = job->c;
        const int K = c->c_in * c->k * c->k;
        const size_t HW = (size_t)job->H * W;
        if (c->c_out == RGB_ROWS && cols == STRIP) {   /* conv_out: a tile of exactly its 3 rows */
            kn_gemm_rows(y, HW, c->packed, K, RGB_ROWS, src, 0, 1, job->off, K, STRIP, NULL, job->bias,
                         RGB_ROWS, KN_WIDE_PANELS);
            continue;
        }
        if (STRIP > KN_PANEL && cols == STRIP) {   /* the wide tile, where it is wider than a panel */
            kn_gemm_rows(y, HW, c->packed, K, c->c_out, src, 0, 1, job->off, K, STRIP, NULL, job->bias,
                         KN_WIDE_ROWS, KN_WIDE_PANELS);
            continue;
        }
        for (int j = 0; j < cols; j += KN_PANEL)   /* the row's last pixels, a panel at a time */
            kn_gemm_rows(y + j, HW, c->packed, K, c->c_out, src + j, 0, 1, job->off, K,
                         cols - j < KN_PANEL ? cols - j : KN_PANEL, NULL, job->bias, KN_TILE_ROWS, 1);
    }
}

void kn_conv2d(float *y, const float *x, const kn_conv *c, const float *bias, int H, int W, float *scratch)
{
    KN_DISPATCH(kn_conv2d, y, x, c, bias, H, W, scratch);
    const int k = c->k, Wp = W + 2 * (k / 2);
    const size_t copy = kn_conv_scratch_floats(c, H, W) - SLACK - offsets_floats(c);
    conv_job job = {y, scratch, (int32_t *)(scratch + copy + SLACK), x, bias, c, H, W};
    memset(scratch + copy, 0, SLACK * sizeof *scratch);   /* what discarded lanes read: no stray NaNs */
    int32_t *off = job.off;
    for (int ci = 0; ci < c->c_in; ci++)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) *off++ = (int32_t)(ky * c->c_in * Wp + ci * Wp + kx);
    kn_parallel_for(c->c_in, pad_channels, &job);
    kn_parallel_for(H * ((W + STRIP - 1) / STRIP), conv_strips, &job);
}

void kn_conv2d_ref(float *y, const float *x, const float *w, const float *bias,
                   int c_out, int c_in, int k, int H, int W)
{
    int pad = k / 2;
    for (int co = 0; co < c_out; co++)
        for (int oy = 0; oy < H; oy++)
            for (int ox = 0; ox < W; ox++) {
                float acc = 0.0f;
                for (int ci = 0; ci < c_in; ci++)
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            int iy = oy + ky - pad, ix = ox + kx - pad;
                            float v = iy >= 0 && iy < H && ix >= 0 && ix < W ? x[((size_t)ci * H + iy) * W + ix] : 0.0f;
                            acc += w[(((size_t)co * c_in + ci) * k + ky) * k + kx] * v;
                        }
                y[((size_t)co * H + oy) * W + ox] = bias ? acc + bias[co] : acc;
            }
}
