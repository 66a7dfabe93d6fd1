/* image_decode.c — see image_decode.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_decode.h"
#include "kineto.h"

/* stb_image, restricted: PNG and JPEG from memory, every function static (no clash with an embedder's
   stb), the portable C paths only (STBI_NO_SIMD), so native and WebAssembly decode to the same bytes. */
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_NO_SIMD
#define STBI_MAX_DIMENSIONS KINETO_MAX_IMAGE_SIDE /* a second guard behind the header check below */
/* zeroed allocations: whatever stb reads of a buffer it has not filled is 0 on every platform */
#define STBI_MALLOC(n) calloc(1, n)
#define STBI_REALLOC(p, n) realloc(p, n)
#define STBI_FREE(p) free(p)
#define STBI_ASSERT(x) ((void)0) /* stb's asserts guard its own invariants; a trap would kill a worker */
#if defined(__GNUC__) || defined(__clang__) /* stb's own code, for this file (unused ones reported at its end) */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#endif
#include <stb/stb_image.h>

static const uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
/* the last 12 bytes of every PNG: IEND's zero length, type and CRC */
static const uint8_t png_end[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};

/* A JPEG ends with EOI (FF D9); some writers pad after it with zeros, which are skipped. */
static int jpeg_ends(const uint8_t *data, size_t size) {
    while (size > 2 && data[size - 1] == 0) size--;
    return size >= 4 && data[size - 2] == 0xFF && data[size - 1] == 0xD9;
}

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t be32(const uint8_t *p) { return be16(p) << 16 | be16(p + 2); }

/* The size a header states, read here (stb's own check stops at 2^30 bytes and names no size, and an
   empty image is an error to it), so that every refusal can say it. 0 when the header is cut or bad. */
static int png_size(const uint8_t *data, size_t size, uint32_t *w, uint32_t *h) {
    if (size < 33 || be32(data + 8) != 13 || memcmp(data + 12, "IHDR", 4)) return 0;
    *w = be32(data + 16);
    *h = be32(data + 20);
    return 1;
}

/* Every chunk's stated length within the file, up to its IEND: stb_image would first allocate what a
   lying IDAT length says (up to 2 GB) and only then find the bytes missing. */
static int png_chunks_fit(const uint8_t *data, size_t size) {
    size_t at = 8;
    while (at + 12 <= size) {
        const uint32_t len = be32(data + at);
        if (len > size - at - 12) return 0;
        if (!memcmp(data + at + 4, "IEND", 4)) return at + 12 + len == size;
        at += 12 + (size_t)len;
    }
    return 0;
}

/* A DHT segment's tables (body: its bytes after the length): each a class/id byte, 16 code counts and
   that many symbols. stb_image 2.27 (Debian's) writes past its table when the counts add up to more
   than 256, so such a file is refused here. Each table defined sets its bit in *defined (DC tables
   bits 0..3, AC tables 4..7). */
static int dht_fits(const uint8_t *body, size_t n, unsigned *defined) {
    size_t at = 0;
    while (at < n) {
        if (at + 17 > n) return 0;
        const unsigned table_class = body[at] >> 4, id = body[at] & 15;
        if (table_class > 1 || id > 3) return 0;
        size_t codes = 0;
        for (int i = 1; i <= 16; i++) codes += body[at + i];
        if (codes > 256 || at + 17 + codes > n) return 0;
        *defined |= 1u << (table_class * 4 + id);
        at += 17 + codes;
    }
    return 1;
}

/* A scan header (SOS body) uses only Huffman tables defined before it: stb_image 2.27 decodes with
   a table never defined from uninitialised memory and indexes past its symbols. A DC table is used
   by a scan that starts at coefficient 0 (but for a progressive refinement), an AC table by one
   that reaches past it. */
static int sos_tables_defined(const uint8_t *body, size_t n, int progressive, unsigned defined) {
    if (n < 1) return 0;
    const size_t components = body[0];
    if (components < 1 || components > 4 || n < 1 + 2 * components + 3) return 0;
    const uint8_t *spectral = body + 1 + 2 * components; /* Ss, Se, Ah:Al */
    const int uses_dc = spectral[0] == 0 && (!progressive || spectral[2] >> 4 == 0);
    const int uses_ac = !progressive || spectral[1] > 0;
    for (size_t i = 0; i < components; i++) {
        const unsigned dc = body[2 + 2 * i] >> 4, ac = body[2 + 2 * i] & 15;
        if (uses_dc && (dc > 3 || !(defined >> dc & 1))) return 0;
        if (uses_ac && (ac > 3 || !(defined >> (4 + ac) & 1))) return 0;
    }
    return 1;
}

/* Walks the JPEG's segments to its end (EOI), past each scan's entropy-coded data, checking every
   Huffman table and every scan's use of them, and reading the size from the frame header (SOFn:
   C0..CF but C4 DHT, C8 JPG, CC DAC; C2 is progressive). 0 when a segment is cut or bad, or there is
   no frame header. */
static int jpeg_size(const uint8_t *data, size_t size, uint32_t *w, uint32_t *h) {
    size_t at = 2;
    int have_size = 0, progressive = 0;
    unsigned defined = 0;
    while (at + 2 <= size) {
        if (data[at] != 0xFF) return 0;
        const uint8_t marker = data[at + 1];
        if (marker == 0xFF) { at++; continue; } /* fill byte */
        if (marker == 0xD9) break;
        if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) { at += 2; continue; } /* no length */
        if (at + 4 > size) return 0;
        const size_t len = be16(data + at + 2);
        if (len < 2 || at + 2 + len > size) return 0;
        if (marker == 0xC4 && !dht_fits(data + at + 4, len - 2, &defined)) return 0;
        if (marker == 0xDA && !sos_tables_defined(data + at + 4, len - 2, progressive, defined)) return 0;
        if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC && !have_size) {
            if (len < 7) return 0;
            *h = be16(data + at + 5);
            *w = be16(data + at + 7);
            have_size = 1;
            progressive = marker == 0xC2;
        }
        at += 2 + len;
        if (marker == 0xDA) /* entropy-coded data: FF 00 is a stuffed byte, FF D0..D7 a restart */
            while (at + 1 < size && !(data[at] == 0xFF && data[at + 1] != 0 && (data[at + 1] < 0xD0 || data[at + 1] > 0xD7)))
                at++;
    }
    return have_size;
}

int kn_image_decode(const uint8_t *data, size_t size, int max_side, kn_image *out, char *why, size_t why_size) {
    memset(out, 0, sizeof *out);
    const int png = size >= 8 && !memcmp(data, png_signature, 8);
    const int jpeg = size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;
    const char *format = png ? "PNG" : "JPEG";
    if (!png && !jpeg) {
        snprintf(why, why_size, "not a PNG or JPEG file");
        return -1;
    }
    if (size > (size_t)0x7FFFFFFF) { /* stb reads an int's worth */
        snprintf(why, why_size, "a %s of %zu bytes, over 2 GB", format, size);
        return -1;
    }
    if (png ? size < 12 + 8 || memcmp(data + size - 12, png_end, 12) : !jpeg_ends(data, size)) {
        snprintf(why, why_size, "a truncated %s (it does not end with %s)", format, png ? "an IEND chunk" : "an EOI marker");
        return -1;
    }
    if (png && !png_chunks_fit(data, size)) {
        snprintf(why, why_size, "a corrupt PNG (a chunk runs past the end of the file)");
        return -1;
    }
    uint32_t stated_w = 0, stated_h = 0;
    if (!(png ? png_size(data, size, &stated_w, &stated_h) : jpeg_size(data, size, &stated_w, &stated_h))) {
        snprintf(why, why_size, "a corrupt %s (%s)", format,
                 png ? "no IHDR chunk with its size" : "a segment cut short, a bad or missing Huffman table, or no frame header");
        return -1;
    }
    if (stated_w < 1 || stated_h < 1 || stated_w > (uint32_t)max_side || stated_h > (uint32_t)max_side) {
        snprintf(why, why_size, "a %s of %ux%u pixels: each side must be 1..%d", format, stated_w, stated_h, max_side);
        return -1;
    }
    int w = 0, h = 0, channels = 0;
    if (!stbi_info_from_memory(data, (int)size, &w, &h, &channels) || w != (int)stated_w || h != (int)stated_h) {
        snprintf(why, why_size, "a corrupt %s header (%s)", format, stbi_failure_reason());
        return -1;
    }
    int got_w = 0, got_h = 0;
    uint8_t *rgba = stbi_load_from_memory(data, (int)size, &got_w, &got_h, &channels, 4);
    if (!rgba || got_w != w || got_h != h) {
        const char *reason = stbi_failure_reason();
        stbi_image_free(rgba);
        if (reason && !strcmp(reason, "outofmem"))
            snprintf(why, why_size, "out of memory decoding a %s of %dx%d pixels", format, w, h);
        else
            snprintf(why, why_size, "a corrupt %s (%s)", format, reason ? reason : "its size changed while decoding");
        return -1;
    }
    out->rgba = rgba;
    out->width = w;
    out->height = h;
    return 0;
}

void kn_image_free(kn_image *img) {
    stbi_image_free(img->rgba);
    img->rgba = NULL;
    img->width = img->height = 0;
}
