/* weights_util.h — reading test files, and the little-endian fields and checksum of a .kin file
   (layout in include/kineto.h), for the tests that build or damage weights files. */
#ifndef KINETO_TEST_WEIGHTS_UTIL_H
#define KINETO_TEST_WEIGHTS_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weights.h"

/* The whole file, malloc'd (one spare byte, so an empty file is not a NULL buffer); NULL on failure. */
static inline uint8_t *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = buf ? (size_t)n : 0;
    return buf;
}

/* Version 4's layout: vocab_bytes at 136, the vocabulary from 140 (version 3: 132, 136; versions 1 and 2: 120, 124). */
#define KIN_VOCAB_BYTES 136
#define KIN_VOCAB 140

static inline uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* The CRC over bytes 24.. (at offset 16), so an edit past the header reaches the parser. */
static inline void fix_crc(uint8_t *buf, size_t size) { wr32(buf + 16, kn_crc32(buf + 24, size - 24)); }
/* file_size (offset 8) and the CRC, for a buffer of another length. */
static inline void fix_header(uint8_t *buf, size_t size) {
    wr64(buf + 8, size);
    fix_crc(buf, size);
}

/* A version-4 file of a 3-level VAE without clean_context rewritten as version `version` (1 to 3),
   whose header ends before: at byte 132 (version 3, no clean_context) or 120 (versions 1 and 2, no
   vae_ch3, vae_levels or enc_levels either). The fields dropped move to the end of the vocabulary
   section as zero padding, so the table and tensors keep their offsets. Same size; malloc'd. */
static inline uint8_t *kin_as_version(const uint8_t *v4, size_t size, uint32_t version) {
    uint8_t *b = malloc(size);
    if (!b) return NULL;
    const uint32_t vocab_bytes = rd32(v4 + KIN_VOCAB_BYTES), end = version >= 3 ? 132 : 120;
    const uint32_t dropped = KIN_VOCAB_BYTES - end;
    memcpy(b, v4, end);
    wr32(b + 4, version);
    wr32(b + end, vocab_bytes + dropped);
    memcpy(b + end + 4, v4 + KIN_VOCAB, vocab_bytes);
    memset(b + end + 4 + vocab_bytes, 0, dropped);
    memcpy(b + KIN_VOCAB + vocab_bytes, v4 + KIN_VOCAB + vocab_bytes, size - KIN_VOCAB - vocab_bytes);
    fix_crc(b, size);
    return b;
}

/* for kineto_set_log: the loaders' refusals are expected here */
static inline void quiet(int level, const char *msg, void *user) { (void)level; (void)msg; (void)user; }

#ifndef FIXTURES
#define FIXTURES "tests/fixtures" /* tests run from the repository root */
#endif

/* The tiny model every weights test damages; NULL (after saying why) when it cannot be read. */
static inline uint8_t *read_tiny_fixture(size_t *size) {
    uint8_t *buf = read_file(FIXTURES "/tiny.kin", size);
    if (!buf) fprintf(stderr, "cannot read %s/tiny.kin\n", FIXTURES);
    return buf;
}

#endif
