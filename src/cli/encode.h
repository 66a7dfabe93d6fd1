/* encode.h — the CLI's image formats, encoded into memory: PNG frames (stb_image_write) and an
   animated GIF (giflib). Files are written by out_files.h, which checks every write. */
#ifndef KN_ENCODE_H
#define KN_ENCODE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *data;
    size_t size, cap;
    int failed; /* an allocation failed: the bytes are incomplete */
} kn_bytes;

void kn_bytes_free(kn_bytes *b);

/* One RGBA frame (height, width, 4) as a PNG into *out (emptied first). 0 on success, else -1. */
int kn_encode_png(kn_bytes *out, const uint8_t *rgba, int width, int height);

/* Frames (n, height, width, 4) as a GIF that loops forever at fps into *out. 0 on success, else -1
   with *why set. */
int kn_encode_gif(kn_bytes *out, const uint8_t *rgba, int n, int width, int height, int fps, const char **why);

#endif
