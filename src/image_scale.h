/* image_scale.h — an RGBA8 image to the VAE encoder's input: alpha over black, resized, in [-1, 1]. */
#ifndef KN_IMAGE_SCALE_H
#define KN_IMAGE_SCALE_H

#include <stdint.h>

/* Floats of work memory kn_image_to_planes needs for these sizes. */
uint64_t kn_image_scale_work_floats(int width, int height, int out_width, int out_height);

/* rgba (height, width, 4), row-major, -> out (3, out_height, out_width) in [-1, 1]:
   - alpha over black: each colour is multiplied by alpha / 255 first (a transparent pixel is black);
   - resized per axis, the width first: a shrinking axis averages the source pixels each output pixel
     covers, weighted by the part it covers (area average); a growing axis interpolates linearly
     between the two nearest source pixel centres (bilinear, pixel centres at i + 0.5, edges clamped);
     an axis of the same size is copied exactly;
   - value v in [0, 255] -> v / 127.5 - 1, the [-1, 1] of training (train.py: frames in [0, 1] * 2 - 1).
   Plain float arithmetic in a fixed order, so native and WebAssembly builds give the same bits. */
void kn_image_to_planes(const uint8_t *rgba, int width, int height, float *out, int out_width, int out_height,
                        float *work);

#endif
