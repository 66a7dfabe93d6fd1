/* conv.c — 3x3 (stride 1, zero padding 1) and 1x1 convolutions in CHW layout.

   As a GEMM: y (c_out, HW) = W (c_out, K) @ columns (K, HW), K = c_in * k * k in PyTorch's weight
   order (ci, ky, kx). Each thread packs 8 output pixels' columns into one panel in its own scratch
   slot (im2col, one panel at a time so it stays in L1) and runs the shared micro-kernel over all
   output channels. Padding enters as zeros multiplied like any other input, as in the reference
   loops, so the two agree bit for bit. */
#include <stdlib.h>
#include <string.h>
#include "ops.h"
#include "simd.h"
#include "gemm_kernel.h"

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

static int conv_depth(const kn_conv *c) { return c->c_in * c->k * c->k; }

/* One panel (K * 8 floats) per possible thread; H and W do not matter. */
size_t kn_conv_scratch_floats(const kn_conv *c, int H, int W)
{
    (void)H, (void)W;
    return (size_t)conv_depth(c) * KN_PANEL * KN_MAX_THREADS;
}

/* The 8 inputs that row `row` (may be outside the image) offers to pixels x0..x0+7 at tap offset
   dx in {-1, 0, 1}; pixels past `cols` get zeros. */
static void pack_taps(float *dst, const float *plane, int H, int W, int row, int x0, int dx, int cols)
{
    if (row < 0 || row >= H) {
        memset(dst, 0, KN_PANEL * sizeof *dst);
        return;
    }
    const float *src = plane + (size_t)row * W + x0 + dx;
    if (cols == KN_PANEL && x0 + dx >= 0 && x0 + dx + KN_PANEL <= W) {
        kn_f32x4_store(dst, kn_f32x4_load(src));
        kn_f32x4_store(dst + 4, kn_f32x4_load(src + 4));
        return;
    }
    for (int j = 0; j < KN_PANEL; j++) {
        int x = x0 + dx + j;
        dst[j] = j < cols && x >= 0 && x < W ? src[j] : 0.0f;
    }
}

/* im2col for output pixels [p0, p0 + cols): panel[(ci*9 + ky*3 + kx) * 8 + j]. */
static void pack_panel_3x3(float *panel, const float *x, int c_in, int H, int W, int p0, int cols)
{
    int y0 = p0 / W, x0 = p0 % W;
    if (x0 + cols <= W) {   /* all in one image row */
        for (int ci = 0; ci < c_in; ci++) {
            const float *plane = x + (size_t)ci * H * W;
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++, panel += KN_PANEL)
                    pack_taps(panel, plane, H, W, y0 + ky - 1, x0, kx - 1, cols);
        }
        return;
    }
    for (int ci = 0; ci < c_in; ci++)   /* the panel wraps onto the next row: pixel by pixel */
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++, panel += KN_PANEL)
                for (int j = 0; j < KN_PANEL; j++) {
                    int p = p0 + j, yy = p / W + ky - 1, xx = p % W + kx - 1;
                    int inside = j < cols && yy >= 0 && yy < H && xx >= 0 && xx < W;
                    panel[j] = inside ? x[((size_t)ci * H + yy) * W + xx] : 0.0f;
                }
}

static void pack_panel_1x1(float *panel, const float *x, int c_in, int HW, int p0, int cols)
{
    for (int ci = 0; ci < c_in; ci++, panel += KN_PANEL) {
        const float *src = x + (size_t)ci * HW + p0;
        if (cols == KN_PANEL) {
            kn_f32x4_store(panel, kn_f32x4_load(src));
            kn_f32x4_store(panel + 4, kn_f32x4_load(src + 4));
        } else {
            for (int j = 0; j < KN_PANEL; j++) panel[j] = j < cols ? src[j] : 0.0f;
        }
    }
}

typedef struct {
    float *y, *scratch;
    const float *x, *bias;
    const kn_conv *c;
    int H, W;
} conv_job;

/* output pixel panels [begin, end) */
static void conv_panels(void *arg, int begin, int end)
{
    const conv_job *job = arg;
    const kn_conv *c = job->c;
    int K = conv_depth(c), HW = job->H * job->W;
    float *panel = job->scratch + (size_t)kn_thread_index() * K * KN_PANEL;
    for (int p = begin; p < end; p++) {
        int p0 = p * KN_PANEL, cols = HW - p0 < KN_PANEL ? HW - p0 : KN_PANEL;
        if (c->k == 3) pack_panel_3x3(panel, job->x, c->c_in, job->H, job->W, p0, cols);
        else pack_panel_1x1(panel, job->x, c->c_in, HW, p0, cols);
        kn_gemm_panel(job->y + p0, HW, c->packed, K, panel, K, c->c_out, cols, NULL, job->bias);
    }
}

void kn_conv2d(float *y, const float *x, const kn_conv *c, const float *bias, int H, int W, float *scratch)
{
    conv_job job = {y, scratch, x, bias, c, H, W};
    int panels = (H * W + KN_PANEL - 1) / KN_PANEL;
    kn_parallel_for(panels, conv_panels, &job);
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
