/* image_scale.c — see image_scale.h. Each axis is resized by a table of taps: for output pixel o, the
   source pixels first[o] .. first[o] + taps - 1 with their weights (zero past the ones it uses). */
#include <stddef.h>

#include "image_scale.h"

/* Taps per output pixel: an area average reads ceil(n / m) + 1 source pixels at most, bilinear 2. */
static int axis_taps(int n, int m) { return n > m ? (n + m - 1) / m + 1 : 2; }

static uint64_t axis_floats(int n, int m) { return (uint64_t)m * (uint64_t)axis_taps(n, m) + (uint64_t)m; }

uint64_t kn_image_scale_work_floats(int width, int height, int out_width, int out_height) {
    return axis_floats(width, out_width) + axis_floats(height, out_height) + (uint64_t)3 * height * out_width;
}

/* The table resizing n source pixels to m: weights (m, taps), then first (m,) stored as floats. */
static void axis_table(int n, int m, float *weights, float *first) {
    const int taps = axis_taps(n, m);
    for (int o = 0; o < m; o++) {
        float *w = weights + (size_t)o * taps;
        for (int k = 0; k < taps; k++) w[k] = 0.0f;
        if (n == m) { /* same size: the pixel itself */
            first[o] = (float)o;
            w[0] = 1.0f;
        } else if (n > m) { /* area: output o covers source [o n / m, (o + 1) n / m) */
            const double lo = (double)o * n / m, hi = (double)(o + 1) * n / m;
            const int i0 = (int)lo; /* lo >= 0: truncation is floor */
            first[o] = (float)i0;
            for (int k = 0; k < taps && i0 + k < n; k++) {
                double a = i0 + k > lo ? i0 + k : lo, b = i0 + k + 1 < hi ? i0 + k + 1 : hi;
                if (b > a) w[k] = (float)((b - a) * m / n);
            }
        } else { /* bilinear between the source centres around output o's centre */
            double s = ((double)o + 0.5) * n / m - 0.5;
            if (s < 0) s = 0;
            if (s > n - 1) s = n - 1;
            int i0 = (int)s;
            if (i0 > n - 2) i0 = n > 1 ? n - 2 : 0;
            const double f = s - i0;
            first[o] = (float)i0;
            w[0] = (float)(1.0 - f);
            if (n > 1) w[1] = (float)f;
        }
    }
}

void kn_image_to_planes(const uint8_t *rgba, int width, int height, float *out, int out_width, int out_height,
                        float *work) {
    const int tx = axis_taps(width, out_width), ty = axis_taps(height, out_height);
    float *wx = work, *fx = wx + (size_t)out_width * tx;
    float *wy = fx + out_width, *fy = wy + (size_t)out_height * ty;
    float *rows = fy + out_height; /* (3, height, out_width): the width resized */
    axis_table(width, out_width, wx, fx);
    axis_table(height, out_height, wy, fy);
    for (int y = 0; y < height; y++) {
        const uint8_t *src = rgba + (size_t)y * width * 4;
        for (int o = 0; o < out_width; o++) {
            const int i0 = (int)fx[o];
            const float *w = wx + (size_t)o * tx;
            float acc[3] = {0.0f, 0.0f, 0.0f};
            for (int k = 0; k < tx && i0 + k < width; k++) {
                const uint8_t *px = src + (size_t)(i0 + k) * 4;
                for (int c = 0; c < 3; c++) acc[c] += w[k] * ((float)(px[c] * px[3]) / 255.0f); /* over black */
            }
            for (int c = 0; c < 3; c++) rows[((size_t)c * height + y) * out_width + o] = acc[c];
        }
    }
    for (int c = 0; c < 3; c++)
        for (int o = 0; o < out_height; o++) {
            const int i0 = (int)fy[o];
            const float *w = wy + (size_t)o * ty;
            float *dst = out + ((size_t)c * out_height + o) * out_width;
            for (int x = 0; x < out_width; x++) {
                float acc = 0.0f;
                for (int k = 0; k < ty && i0 + k < height; k++)
                    acc += w[k] * rows[((size_t)c * height + i0 + k) * out_width + x];
                dst[x] = acc / 127.5f - 1.0f;
            }
        }
}
