/* image_out.c — PNG through stb_image_write, GIF through giflib (colour-quantised per frame with
   GifQuantizeBuffer), both atomically: write PATH.tmp, then rename over PATH. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <gif_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBIW_ASSERT(x) ((void)0) /* stb's asserts guard programming errors our calls cannot make */
#include <stb/stb_image_write.h>

#include "image_out.h"

#define GIF_COLORS 256

static char *volatile partial; /* the temporary file being written, for kn_remove_partial_output */

static char *temp_path(const char *path) {
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (tmp) snprintf(tmp, n, "%s.tmp%ld", path, (long)getpid());
    partial = tmp;
    return tmp;
}

void kn_remove_partial_output(void) {
    char *tmp = partial;
    if (tmp) unlink(tmp);
}

static int commit(char *tmp, const char *path, int ok, const char **why) {
    if (ok && rename(tmp, path) != 0) {
        *why = "cannot rename the temporary file into place";
        ok = 0;
    }
    if (!ok) remove(tmp);
    partial = NULL;
    free(tmp);
    return ok ? 0 : -1;
}

int kn_write_png(const char *path, const uint8_t *rgba, int width, int height, const char **why) {
    char *tmp = temp_path(path);
    if (!tmp) { *why = "out of memory"; return -1; }
    int ok = stbi_write_png(tmp, width, height, 4, rgba, width * 4) != 0;
    if (!ok) *why = "cannot write the PNG";
    return commit(tmp, path, ok, why);
}

/* The NETSCAPE2.0 application extension: loop forever. */
static int put_loop_forever(GifFileType *gif) {
    static const unsigned char loop[3] = {1, 0, 0};
    return EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE) == GIF_OK &&
           EGifPutExtensionBlock(gif, 11, "NETSCAPE2.0") == GIF_OK && EGifPutExtensionBlock(gif, 3, loop) == GIF_OK &&
           EGifPutExtensionTrailer(gif) == GIF_OK;
}

static int put_frame(GifFileType *gif, const uint8_t *rgba, int width, int height, int delay_cs, uint8_t *planes) {
    const size_t n = (size_t)width * height;
    uint8_t *r = planes, *g = planes + n, *b = planes + 2 * n, *index = planes + 3 * n;
    for (size_t i = 0; i < n; i++) {
        r[i] = rgba[4 * i];
        g[i] = rgba[4 * i + 1];
        b[i] = rgba[4 * i + 2];
    }
    GifColorType palette[GIF_COLORS];
    memset(palette, 0, sizeof palette);
    int colors = GIF_COLORS;
    if (GifQuantizeBuffer((unsigned)width, (unsigned)height, &colors, r, g, b, index, palette) != GIF_OK) return 0;
    ColorMapObject *map = GifMakeMapObject(GIF_COLORS, palette); /* a power of two, as GIF requires */
    if (!map) return 0;
    GraphicsControlBlock gcb = {DISPOSE_DO_NOT, false, delay_cs, NO_TRANSPARENT_COLOR};
    GifByteType ext[4];
    size_t ext_len = EGifGCBToExtension(&gcb, ext);
    int ok = EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, (int)ext_len, ext) == GIF_OK &&
             EGifPutImageDesc(gif, 0, 0, width, height, false, map) == GIF_OK;
    for (int y = 0; ok && y < height; y++) ok = EGifPutLine(gif, index + (size_t)y * width, width) == GIF_OK;
    GifFreeMapObject(map);
    return ok;
}

int kn_write_gif(const char *path, const uint8_t *rgba, int n, int width, int height, int fps, const char **why) {
    char *tmp = temp_path(path);
    uint8_t *planes = malloc((size_t)width * height * 4);
    if (!tmp || !planes) {
        partial = NULL;
        free(tmp);
        free(planes);
        *why = "out of memory";
        return -1;
    }
    int err = 0, ok = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666); /* giflib's own open would make it 0600 */
    GifFileType *gif = fd >= 0 ? EGifOpenFileHandle(fd, &err) : NULL;
    if (fd >= 0 && !gif) close(fd);
    if (gif) {
        EGifSetGifVersion(gif, true);
        const int delay_cs = (100 + fps / 2) / fps; /* GIF delays are in centiseconds */
        ok = EGifPutScreenDesc(gif, width, height, 8, 0, NULL) == GIF_OK && put_loop_forever(gif);
        for (int f = 0; ok && f < n; f++)
            ok = put_frame(gif, rgba + (size_t)f * width * height * 4, width, height, delay_cs, planes);
        if (EGifCloseFile(gif, &err) != GIF_OK) ok = 0;
    }
    free(planes);
    if (!ok) *why = GifErrorString(err) ? GifErrorString(err) : "cannot write the GIF";
    return commit(tmp, path, ok, why);
}
