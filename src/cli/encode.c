/* encode.c — PNG through stb_image_write, GIF through giflib (colour-quantised per frame with
   GifQuantizeBuffer), both into memory. */
#include <gif_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBIW_ASSERT(x) ((void)0) /* stb's asserts guard programming errors our calls cannot make */
#include <stb/stb_image_write.h>

#include "encode.h"

#define GIF_COLORS 256

void kn_bytes_free(kn_bytes *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

static void append(kn_bytes *b, const void *data, size_t n) {
    if (b->failed) return;
    if (b->size + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->size + n) cap *= 2;
        uint8_t *grown = realloc(b->data, cap);
        if (!grown) { b->failed = 1; return; }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->size, data, n);
    b->size += n;
}

static void append_png(void *context, void *data, int size) { append(context, data, (size_t)size); }

int kn_encode_png(kn_bytes *out, const uint8_t *rgba, int width, int height) {
    out->size = 0;
    out->failed = 0;
    int ok = stbi_write_png_to_func(append_png, out, width, height, 4, rgba, width * 4) != 0;
    return ok && !out->failed ? 0 : -1;
}

static int append_gif(GifFileType *gif, const GifByteType *data, int size) {
    kn_bytes *b = gif->UserData;
    append(b, data, (size_t)size);
    return b->failed ? 0 : size;
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

int kn_encode_gif(kn_bytes *out, const uint8_t *rgba, int n, int width, int height, int fps, const char **why) {
    out->size = 0;
    out->failed = 0;
    uint8_t *planes = malloc((size_t)width * height * 4);
    if (!planes) {
        *why = "out of memory";
        return -1;
    }
    int err = 0, ok = 0;
    GifFileType *gif = EGifOpen(out, append_gif, &err);
    if (gif) {
        EGifSetGifVersion(gif, true);
        const int delay_cs = (100 + fps / 2) / fps; /* GIF delays are in centiseconds */
        ok = EGifPutScreenDesc(gif, width, height, 8, 0, NULL) == GIF_OK && put_loop_forever(gif);
        for (int f = 0; ok && f < n; f++)
            ok = put_frame(gif, rgba + (size_t)f * width * height * 4, width, height, delay_cs, planes);
        if (EGifCloseFile(gif, &err) != GIF_OK) ok = 0;
    }
    free(planes);
    if (out->failed) ok = 0, *why = "out of memory";
    else if (!ok) *why = GifErrorString(err) ? GifErrorString(err) : "cannot encode the GIF";
    return ok ? 0 : -1;
}
