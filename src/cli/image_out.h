/* image_out.h — the CLI's outputs: PNG frames (stb_image_write) and an animated GIF (giflib), each
   written to a temporary file and renamed into place, so a reader never sees half a file. */
#ifndef KN_IMAGE_OUT_H
#define KN_IMAGE_OUT_H

#include <stddef.h>
#include <stdint.h>

/* Write one RGBA frame (height, width, 4) as a PNG. 0 on success, else -1 with *why set. */
int kn_write_png(const char *path, const uint8_t *rgba, int width, int height, const char **why);

/* Write frames (n, height, width, 4) as a looping GIF at fps. 0 on success, else -1 with *why set. */
int kn_write_gif(const char *path, const uint8_t *rgba, int n, int width, int height, int fps, const char **why);

/* Remove the temporary file being written, if any. Async-signal-safe: the CLI calls it on SIGINT. */
void kn_remove_partial_output(void);

#endif
