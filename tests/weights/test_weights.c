/* test_weights.c — the .kin loader refuses every damaged or hostile file with the right status and a
   message naming what is wrong, and never crashes (run it under valgrind or ASan to see the latter). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "kineto.h"
#include "weights.h"
#include "../weights_util.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures"
#endif

static uint8_t *good;
static size_t good_size;

/* Loads buf; checks the status, and (when want_text) that the message mentions want_text. */
static void expect(const uint8_t *buf, size_t size, kineto_status want, const char *want_text, const char *what) {
    kineto_status st = KINETO_OK;
    kineto_ctx *ctx = kineto_load_buffer(buf, size, &st);
    int ok = st == want && (want == KINETO_OK) == (ctx != NULL);
    if (ok && want_text) ok = strstr(kineto_last_error(), want_text) != NULL;
    if (!ok)
        printf("  %s: got %s (%s), expected %s%s%s\n", what, kineto_status_str(st), kineto_last_error(),
               kineto_status_str(want), want_text ? " naming " : "", want_text ? want_text : "");
    check(ok, what);
    kineto_free(ctx);
}

static uint8_t *copy(void) {
    uint8_t *b = malloc(good_size);
    memcpy(b, good, good_size);
    return b;
}

/* ---- file layout helpers ---- */
static uint32_t n_tensors(void) { return rd32(good + 20); }
static size_t table_offset(void) { return KIN_VOCAB + rd32(good + KIN_VOCAB_BYTES); }
static uint8_t *entry(uint8_t *buf, uint32_t i) { return buf + table_offset() + 88 * (size_t)i; }
static int find_entry(const char *name) {
    for (uint32_t i = 0; i < n_tensors(); i++)
        if (!strcmp((const char *)entry(good, i), name)) return (int)i;
    return -1;
}

static void test_primitives(void) {
    check(kn_crc32((const uint8_t *)"123456789", 9) == 0xCBF43926u, "crc32 check value");
    int ok = 1;
    for (uint32_t h = 0; h < 65536; h++) { /* every half: sign * 2^(e-15) * (1 + m/1024), or subnormal */
        uint32_t e = (h >> 10) & 31, mnt = h & 1023;
        double want = e == 0 ? ldexp(mnt, -24) : e == 31 ? (mnt ? NAN : INFINITY) : ldexp(1024 + mnt, (int)e - 25);
        if (h & 0x8000) want = -want;
        float got = kn_f16_to_f32((uint16_t)h);
        if (isnan(want) ? !isnan(got) : (double)got != want || !signbit(got) != !signbit(want)) ok = 0;
    }
    check(ok, "f16 -> f32 for all 65536 halves");
}

static void test_header(void) {
    expect(good, good_size, KINETO_OK, NULL, "the fixture loads");
    expect(NULL, 0, KINETO_ERR_ARG, NULL, "NULL buffer");
    kineto_status st;
    check(kineto_load_file("/nonexistent/kineto.kin", &st) == NULL && st == KINETO_ERR_IO, "missing file -> IO");

    uint8_t *b = copy();
    memset(b, 0, good_size);
    expect(b, good_size, KINETO_ERR_MAGIC, "magic", "zero-filled file");
    memcpy(b, good, good_size);
    b[0] = 'G';
    expect(b, good_size, KINETO_ERR_MAGIC, "magic", "wrong magic");
    memcpy(b, good, good_size);
    wr32(b + 4, KINETO_FORMAT_VERSION + 1);
    expect(b, good_size, KINETO_ERR_VERSION, "versions 1 to", "a version after this build's");
    wr32(b + 4, 0);
    expect(b, good_size, KINETO_ERR_VERSION, "version 0", "version 0");
    /* versions 1 and 2: the header ends at byte 120 and means a 3-level VAE; version 3: at 132 */
    for (uint32_t version = 1; version <= 3; version++) {
        uint8_t *old = kin_as_version(good, good_size, version);
        kineto_status st1 = KINETO_ERR_ARG, st4 = KINETO_ERR_ARG;
        kineto_ctx *v_old = kineto_load_buffer(old, good_size, &st1), *v4 = kineto_load_buffer(good, good_size, &st4);
        kineto_info a = kineto_model_info(v_old), c = kineto_model_info(v4);
        check(v_old && v4 && a.default_renoise == c.default_renoise && a.height == c.height &&
              a.latent_h == c.latent_h && a.n_params == c.n_params,
              version == 1 ? "a version-1 file loads, with the same default_renoise and sizes"
              : version == 2 ? "a version-2 file loads, with the same sizes"
                             : "a version-3 file loads, with the same sizes");
        kineto_free(v_old);
        kineto_free(v4);
        free(old);
    }
    memcpy(b, good, good_size);
    b[100] ^= 1;
    expect(b, good_size, KINETO_ERR_CHECKSUM, "CRC", "corrupt byte");
    memcpy(b, good, good_size);
    wr32(b + 20, 0);
    expect(b, good_size, KINETO_ERR_HPARAMS, "n_tensors", "n_tensors 0");
    wr32(b + 20, 1000000);
    expect(b, good_size, KINETO_ERR_HPARAMS, "n_tensors", "n_tensors 1e6");
    free(b);
}

static void test_truncation(void) {
    /* cut points: inside the header, at every section boundary, at every tensor's start and end */
    size_t cuts[600];
    int n = 0;
    const size_t fixed[] = {0, 1, 3, 4, 5, 23, 24, 25, 119, 120, 131, 132, 135, 136, 139, 140, table_offset() - 1, table_offset(),
                            good_size - 1};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) cuts[n++] = fixed[i];
    for (uint32_t i = 0; i < n_tensors() && n < 590; i++) {
        uint64_t off, nb;
        memcpy(&off, entry(good, i) + 72, 8);
        memcpy(&nb, entry(good, i) + 80, 8);
        cuts[n++] = table_offset() + 88 * (size_t)i + 44;
        cuts[n++] = (size_t)off;
        cuts[n++] = (size_t)(off + nb / 2);
    }
    int ok_plain = 1, ok_fixed = 1;
    uint8_t *b = copy();
    for (int i = 0; i < n; i++) {
        size_t len = cuts[i];
        kineto_status st;
        kineto_ctx *ctx = kineto_load_buffer(good, len, &st); /* the header still claims the full size */
        if (ctx || st != KINETO_ERR_TRUNCATED) {
            printf("  cut at %zu: %s\n", len, kineto_status_str(st));
            ok_plain = 0;
        }
        kineto_free(ctx);
        if (len < 24) continue;
        /* a consistent short file: file_size and CRC rewritten, so only the sections overrun */
        memcpy(b, good, len);
        wr64(b + 8, len);
        if (len >= KIN_VOCAB) fix_crc(b, len);
        ctx = kineto_load_buffer(b, len, &st);
        if (ctx || (st != KINETO_ERR_TRUNCATED && st != KINETO_ERR_TENSOR_MISSING)) {
            printf("  consistent cut at %zu: %s (%s)\n", len, kineto_status_str(st), kineto_last_error());
            ok_fixed = 0;
        }
        kineto_free(ctx);
    }
    free(b);
    char what[64];
    snprintf(what, sizeof what, "truncated at %d offsets -> TRUNCATED", n);
    check(ok_plain, what);
    check(ok_fixed, "truncated with file_size and CRC rewritten -> TRUNCATED (or a tensor missing)");
}

static void test_bit_flips(void) {
    uint8_t *b = copy();
    int ok = 1, loads = 0;
    for (size_t byte = 0; byte < good_size; byte += byte < 256 ? 1 : 97) {
        for (int bit = 0; bit < 8; bit += byte < 256 ? 1 : 3) {
            b[byte] ^= (uint8_t)(1u << bit);
            kineto_status st;
            kineto_ctx *ctx = kineto_load_buffer(b, good_size, &st);
            loads++;
            if (ctx || st == KINETO_OK) {
                printf("  flip byte %zu bit %d loaded\n", byte, bit);
                ok = 0;
            }
            kineto_free(ctx);
            b[byte] ^= (uint8_t)(1u << bit);
        }
    }
    free(b);
    char what[64];
    snprintf(what, sizeof what, "%d single-bit flips all refused", loads);
    check(ok, what);
}

/* Rewrites field (u32 at byte `at` of entry `name`) and the CRC, then expects `want`. */
static void entry_case(const char *name, size_t at, uint32_t value, kineto_status want, const char *text, const char *what) {
    int i = find_entry(name);
    check(i >= 0, name);
    if (i < 0) return;
    uint8_t *b = copy();
    wr32(entry(b, (uint32_t)i) + at, value);
    fix_crc(b, good_size);
    expect(b, good_size, want, text, what);
    free(b);
}

static void test_tensor_table(void) {
    const char *qkv = "denoiser.blocks.0.attn.qkv.weight"; /* (96, 32) in the tiny model */
    int i = find_entry(qkv);
    check(i >= 0 && rd32(entry(good, (uint32_t)i) + 56) == 96, "fixture has the expected qkv entry");
    /* same element count, transposed shape: only the model check can see it */
    uint8_t *b = copy();
    wr32(entry(b, (uint32_t)i) + 56, 32);
    wr32(entry(b, (uint32_t)i) + 60, 96);
    fix_crc(b, good_size);
    expect(b, good_size, KINETO_ERR_TENSOR_SHAPE, "'denoiser.blocks.0.attn.qkv.weight': shape (32, 96) expected (96, 32)",
           "transposed tensor shape");
    /* a renamed tensor is missing (and the renamed one unused) */
    memcpy(b, good, good_size);
    int pb = find_entry("preview.bias");
    entry(b, (uint32_t)pb)[11] = 'X';
    fix_crc(b, good_size);
    expect(b, good_size, KINETO_ERR_TENSOR_MISSING, "'preview.bias'", "renamed tensor");
    /* a duplicate name */
    memcpy(b, good, good_size);
    int pw = find_entry("preview.weight");
    memcpy(entry(b, (uint32_t)pb), entry(b, (uint32_t)pw), 48);
    fix_crc(b, good_size);
    expect(b, good_size, KINETO_ERR_TENSOR_SHAPE, "twice", "duplicate tensor name");
    /* a name without its NUL */
    memcpy(b, good, good_size);
    memset(entry(b, 0), 'a', 48);
    fix_crc(b, good_size);
    expect(b, good_size, KINETO_ERR_TENSOR_SHAPE, "NUL", "unterminated name");
    free(b);

    entry_case(qkv, 48, 7, KINETO_ERR_TENSOR_SHAPE, "dtype 7", "unknown dtype");
    entry_case(qkv, 48, 0, KINETO_ERR_TENSOR_SHAPE, "nbytes", "dtype f32 with f16 nbytes");
    entry_case(qkv, 52, 5, KINETO_ERR_TENSOR_SHAPE, "ndim 5", "ndim 5");
    entry_case(qkv, 52, 3, KINETO_ERR_TENSOR_SHAPE, "shape (96, 32, 1) expected (96, 32)", "ndim 3");
    entry_case(qkv, 56, 0, KINETO_ERR_TENSOR_SHAPE, "dimension 0", "zero dimension");
    entry_case(qkv, 56, 0xFFFFFFFFu, KINETO_ERR_TENSOR_SHAPE, qkv, "huge dimension");
    entry_case(qkv, 64, 2, KINETO_ERR_TENSOR_SHAPE, "dimension 2", "unused dimension not 1");
    entry_case(qkv, 72, rd32(entry(good, (uint32_t)i) + 72) + 4, KINETO_ERR_TENSOR_SHAPE, "multiple of 32", "unaligned offset");
    entry_case(qkv, 72, 32, KINETO_ERR_TENSOR_SHAPE, "inside the header", "offset inside the table");
    entry_case(qkv, 72, (uint32_t)(good_size & ~(size_t)31), KINETO_ERR_TRUNCATED, "past the end", "offset at the end");
    entry_case(qkv, 76, 1, KINETO_ERR_TRUNCATED, "past the end", "offset beyond 4 GB");
    entry_case(qkv, 80, 6145, KINETO_ERR_TENSOR_SHAPE, "nbytes 6145", "nbytes not matching the shape");
    uint32_t other_off = rd32(entry(good, (uint32_t)find_entry("preview.weight")) + 72);
    entry_case(qkv, 72, other_off, KINETO_ERR_TENSOR_SHAPE, "overlaps", "overlapping tensors");

    /* a NaN weight */
    b = copy();
    uint64_t off;
    memcpy(&off, entry(b, (uint32_t)i) + 72, 8);
    b[off] = 0x00;
    b[off + 1] = 0x7E; /* f16 NaN */
    fix_crc(b, good_size);
    expect(b, good_size, KINETO_ERR_TENSOR_SHAPE, "not finite", "NaN weight");
    free(b);
}

static void hparam_case(int field, uint32_t value, kineto_status want, const char *text) {
    uint8_t *b = copy();
    wr32(b + 24 + 4 * field, value);
    fix_crc(b, good_size);
    char what[96];
    snprintf(what, sizeof what, "hyperparameter %d = %u", field, value);
    expect(b, good_size, want, text, what);
    free(b);
}

static uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

/* Values just outside a KINETO_HPARAMS field's range, and absurd ones, are refused naming the field. */
static void field_cases(const char *name, int offset, const char *type, double lo, double hi) {
    const int field = (offset - 24) / 4;
    if (!strcmp(type, "u32")) {
        if (lo > 0) hparam_case(field, (uint32_t)lo - 1, KINETO_ERR_HPARAMS, name);
        hparam_case(field, (uint32_t)hi + 1, KINETO_ERR_HPARAMS, name);
        hparam_case(field, 0xFFFFFFFFu, KINETO_ERR_HPARAMS, name);
        return;
    }
    /* f32 [lo, hi] or f32_above (lo, hi] */
    hparam_case(field, f32_bits(!strcmp(type, "f32") ? nextafterf((float)lo, -INFINITY) : (float)lo),
                KINETO_ERR_HPARAMS, name);
    hparam_case(field, f32_bits(nextafterf((float)hi, INFINITY)), KINETO_ERR_HPARAMS, name);
    hparam_case(field, f32_bits(NAN), KINETO_ERR_HPARAMS, name);
    hparam_case(field, f32_bits(-INFINITY), KINETO_ERR_HPARAMS, name);
}

static void test_hparams(void) {
    int n = 0, contiguous = 1;
#define FIELD_CASES(name, offset, type, lo, hi) \
    field_cases(#name, offset, #type, lo, hi);    \
    contiguous &= (offset) == 24 + 4 * n++;
    KINETO_HPARAMS(FIELD_CASES)
#undef FIELD_CASES
    check(contiguous && n == 28, "KINETO_HPARAMS: 28 fields of 4 bytes, one after another from byte 24");
    /* version 3's VAE fields, each consistent with the others */
    hparam_case(25, 4, KINETO_ERR_HPARAMS, "vae_ch3 = 0 with vae_levels 4");
    hparam_case(24, 8, KINETO_ERR_HPARAMS, "vae_ch3 = 8 with vae_levels 3");
    hparam_case(26, 4, KINETO_ERR_HPARAMS, "enc_levels 4 is more than vae_levels 3");
    hparam_case(1, 30, KINETO_ERR_HPARAMS, "multiples of 4");     /* height */
    hparam_case(14, 3, KINETO_ERR_HPARAMS, "patch 3");            /* latent 8x8 */
    hparam_case(15, 33, KINETO_ERR_HPARAMS, "dim 33");
    hparam_case(8, 3, KINETO_ERR_HPARAMS, "vae_groups 3");
    /* every field in range, but a clip too large for the memory limit: refused before allocating */
    uint8_t *b = copy();
    const uint32_t big[][2] = {{0, 256}, {1, 1024}, {2, 1024}, {14, 1}, {15, 4096}, {18, 16}};
    for (int k = 0; k < 6; k++) wr32(b + 24 + 4 * big[k][0], big[k][1]);
    fix_crc(b, good_size);
    expect(b, good_size, KINETO_ERR_HPARAMS, "limit", "in-range but huge model");
    /* vocabulary */
    memcpy(b, good, good_size);
    wr32(b + KIN_VOCAB_BYTES, rd32(good + KIN_VOCAB_BYTES) + 2);
    fix_crc(b, good_size);
    expect(b, good_size, KINETO_ERR_HPARAMS, "vocab_bytes", "vocab_bytes not a multiple of 4");
    wr32(b + KIN_VOCAB_BYTES, 0xFFFFFFF0u);
    fix_crc(b, good_size);
    expect(b, good_size, KINETO_ERR_TRUNCATED, "vocabulary", "vocab_bytes past the end");
    memcpy(b, good, good_size);
    b[KIN_VOCAB + 7 + 1] = 'A'; /* first byte of entry 1 */
    fix_crc(b, good_size);
    expect(b, good_size, KINETO_ERR_HPARAMS, "vocabulary entry 1", "upper-case vocabulary word");
    memcpy(b, good, good_size);
    b[KIN_VOCAB + 1] = 'N';
    fix_crc(b, good_size);
    expect(b, good_size, KINETO_ERR_HPARAMS, "<null>", "entry 0 not <null>");
    memcpy(b, good, good_size);
    check(!memcmp(b + KIN_VOCAB + 9, "\x02" "an", 3) && !memcmp(b + KIN_VOCAB + 16, "\x02" "at", 3), "fixture words 2 and 4 are an, at");
    b[KIN_VOCAB + 11] = 't';
    fix_crc(b, good_size);
    expect(b, good_size, KINETO_ERR_HPARAMS, "word \"at\" twice", "a word listed twice");
    free(b);
}

int main(void) {
    good = read_tiny_fixture(&good_size);
    if (!good) return 1;
    kineto_set_log(quiet, NULL);

    test_primitives();
    test_header();
    test_truncation();
    test_bit_flips();
    test_tensor_table();
    test_hparams();

    free(good);
    return check_exit();
}
