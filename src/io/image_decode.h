/* image_decode.h — a PNG or JPEG file's bytes to RGBA8, for an image start (kineto_params.image).
   One decoder (stb_image, PNG and JPEG only, its portable C paths) for the CLI and the WebAssembly
   build, so a browser passing a file's bytes gets exactly the CLI's pixels. */
#ifndef KN_IMAGE_DECODE_H
#define KN_IMAGE_DECODE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *rgba;      /* (height, width, 4), row-major; free with kn_image_free */
    int width, height;
} kn_image;

/* Decodes data (size bytes) into *out. Checks, in order, before decoding any pixel: the signature (PNG
   or JPEG), that the file ends as its format ends (PNG's IEND chunk, JPEG's EOI marker: a cut file is
   refused), that its chunks or segments lie within it (and JPEG's Huffman tables hold at most 256
   codes), and the size from the header, each side 1..max_side. Returns 0, or -1 with a one-line
   reason in why ("not a PNG or JPEG file", "a JPEG of 20000x20000 pixels: ...") and out zeroed. */
int kn_image_decode(const uint8_t *data, size_t size, int max_side, kn_image *out, char *why, size_t why_size);
void kn_image_free(kn_image *img);

#endif
