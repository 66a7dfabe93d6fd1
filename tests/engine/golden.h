/* golden.h — train/golden.py's golden tensors (format in golden.py) and their comparisons with the
   engine's, for the parity tests. Thresholds: see test_parity.c. */
#ifndef KINETO_TEST_GOLDEN_H
#define KINETO_TEST_GOLDEN_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "../weights_util.h"

#define STAGE_TOL 1e-5      /* single stage, relative to the tensor's max magnitude */
#define TRAJECTORY_TOL 2e-5 /* after the whole sampler */
#define BYTE_MISMATCH_FRACTION 0.001 /* decoded bytes may differ by one where a value sits on a rounding edge */

/* ---- golden.bin reader (format in train/golden.py) ---- */
typedef struct {
    char name[64];
    int dtype, ndim, dims[4];
    size_t n;
    void *data;
} golden;

static golden goldens[64];
static int n_goldens;

/* Forgets the tensors read so far, so that another file's may be read. */
static inline void free_goldens(void) {
    for (int i = 0; i < n_goldens; i++) free(goldens[i].data);
    n_goldens = 0;
}

static inline int load_goldens(const char *path) {
    free_goldens();
    size_t size;
    uint8_t *buf = read_file(path, &size);
    if (!buf || size < 12 || memcmp(buf, "KNGT", 4) || rd32(buf + 4) != 1) return 0;
    uint32_t count = rd32(buf + 8);
    size_t at = 12;
    for (uint32_t i = 0; i < count && n_goldens < 64; i++) {
        golden *g = &goldens[n_goldens++];
        uint32_t len = rd32(buf + at);
        at += 4;
        if (len >= sizeof g->name) return 0;
        memcpy(g->name, buf + at, len);
        g->name[len] = 0;
        at += len;
        g->dtype = (int)rd32(buf + at);
        g->ndim = (int)rd32(buf + at + 4);
        at += 8;
        g->n = 1;
        for (int d = 0; d < g->ndim; d++) {
            g->dims[d] = (int)rd32(buf + at);
            g->n *= (size_t)g->dims[d];
            at += 4;
        }
        size_t bytes = g->n * (g->dtype == 2 ? 1 : 4);
        if (at + bytes > size) return 0;
        g->data = malloc(bytes ? bytes : 1); /* an aligned copy: the file packs tensors at any offset */
        if (!g->data) return 0;
        memcpy(g->data, buf + at, bytes);
        at += bytes;
    }
    free(buf);
    return 1;
}

static inline const golden *find(const char *name) {
    for (int i = 0; i < n_goldens; i++)
        if (!strcmp(goldens[i].name, name)) return &goldens[i];
    fprintf(stderr, "golden tensor '%s' missing\n", name);
    exit(1);
}

static inline const float *gf(const char *name) { return find(name)->data; }

/* Prints and checks max |got - want| against tol * max |want|. */
static inline void compare(const char *name, const float *got, const float *want, size_t n, double tol) {
    double max_diff = 0, max_want = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= max_diff)) max_diff = d; /* NaN propagates */
        if (fabs(want[i]) > max_want) max_want = fabs(want[i]);
    }
    double rel = max_diff / (max_want > 0 ? max_want : 1);
    char what[160];
    snprintf(what, sizeof what, "%-24s max abs diff %.3e  rel %.3e  (scale %.3f, limit %.0e)", name, max_diff, rel,
             max_want, tol);
    check(rel <= tol, what);
}

static inline void compare_ints(const char *name, const int *got, int n_got, const golden *want) {
    int ok = n_got == (int)want->n;
    for (int i = 0; ok && i < n_got; i++) ok = got[i] == ((const int *)want->data)[i];
    char what[96];
    snprintf(what, sizeof what, "%-24s %d ids, exact", name, n_got);
    check(ok, what);
}

static inline char *golden_string(const char *name) {
    const golden *g = find(name);
    char *s = calloc(g->n + 1, 1);
    memcpy(s, g->data, g->n);
    return s;
}

/* RGBA bytes against golden RGB bytes (F, H, W, 3): equal, or off by one at a rounding edge. */
static inline void compare_bytes(const char *name, const uint8_t *rgba, const golden *want_golden, size_t pixels) {
    const uint8_t *want = want_golden->data;
    size_t off_by_one = 0, worse = 0;
    for (size_t i = 0; i < pixels; i++)
        for (int c = 0; c < 3; c++) {
            int d = abs((int)rgba[i * 4 + c] - (int)want[i * 3 + c]);
            off_by_one += d == 1;
            worse += d > 1;
        }
    char what[128];
    snprintf(what, sizeof what, "%-24s%zu of %zu bytes off by one, %zu by more", name, off_by_one, pixels * 3, worse);
    check(want_golden->n == pixels * 3 && worse == 0 && off_by_one <= BYTE_MISMATCH_FRACTION * pixels * 3, what);
}

#endif
