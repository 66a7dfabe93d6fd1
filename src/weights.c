/* weights.c — parse and validate a .kin file (layout in include/kineto.h) into a kn_model.

   Loading walks the model's tensors twice: the first pass checks every tensor's presence, dtype and
   shape and adds up the memory the model needs, so absurd files are refused before any allocation;
   the second converts to f32 and repacks the matrices for the kernels. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "model/vae_encoder.h"
#include "sampler.h"
#include "weights.h"

#define HEADER_BYTES 136    /* version 4 */
#define HEADER_BYTES_V3 132 /* version 3: no clean_context */
#define HEADER_BYTES_V2 120 /* versions 1 and 2: no vae_ch3, vae_levels, enc_levels either */
#define ENTRY_BYTES 88
#define NAME_BYTES 48
#define TENSOR_ALIGN 32
#define MAX_TENSORS 4096

static uint32_t read_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t read_u64(const uint8_t *p) { return read_u32(p) | (uint64_t)read_u32(p + 4) << 32; }
static float read_f32(const uint8_t *p) {
    uint32_t u = read_u32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint32_t kn_crc32(const uint8_t *data, size_t n) {
    static uint32_t table[256];
    static int ready;
    if (!ready) { /* reflected IEEE 802.3 polynomial, as zlib */
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

float kn_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, mant = h & 0x3FF, bits;
    if (exp == 0x1F) {
        bits = sign | 0x7F800000u | mant << 13;   /* inf, NaN */
    } else if (exp != 0) {
        bits = sign | (exp + 112) << 23 | mant << 13;
    } else if (mant == 0) {
        bits = sign;                               /* signed zero */
    } else {                                       /* subnormal: normalise the mantissa */
        int e = 113;
        while (!(mant & 0x400)) { mant <<= 1; e--; }
        bits = sign | (uint32_t)e << 23 | (mant & 0x3FF) << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* ------------------------------------------------------------------ header and hyperparameters */
/* One reader per field type of KINETO_HPARAMS: each stores the field and checks its range. */
static kineto_status field_u32(const uint8_t *p, const char *name, double lo, double hi, int *out) {
    uint32_t u = read_u32(p);
    if (u < lo || u > hi)
        return kn_fail(KINETO_ERR_HPARAMS, "hyperparameter %s = %u out of range %g..%g", name, u, lo, hi);
    *out = (int)u;
    return KINETO_OK;
}
static kineto_status field_f32(const uint8_t *p, const char *name, double lo, double hi, float *out) {
    float f = read_f32(p);
    if (!(f >= lo && f <= hi)) /* NaN fails too */
        return kn_fail(KINETO_ERR_HPARAMS, "hyperparameter %s = %g out of range %g..%g", name, (double)f, lo, hi);
    *out = f;
    return KINETO_OK;
}
static kineto_status field_f32_above(const uint8_t *p, const char *name, double lo, double hi, float *out) {
    float f = read_f32(p);
    if (!(f > lo && f <= hi))
        return kn_fail(KINETO_ERR_HPARAMS, "hyperparameter %s = %g out of range (%g, %g]", name, (double)f, lo, hi);
    *out = f;
    return KINETO_OK;
}

static size_t header_bytes(uint32_t version) {
    return version >= 4 ? HEADER_BYTES : version == 3 ? HEADER_BYTES_V3 : HEADER_BYTES_V2;
}

/* data: the whole file, of a version check_header accepted. The ranges keep every buffer size a
   product of at most four fields, far below 2^64. */
static kineto_status parse_hparams(const uint8_t *data, uint32_t version, kn_hparams *hp) {
    kineto_status st;
    const size_t end = header_bytes(version);
    hp->vae_ch3 = 0, hp->vae_levels = 3, hp->enc_levels = 3; /* what a file before version 3 holds */
    hp->clean_context = 0;                                    /* and one before version 4 */
#define PARSE_FIELD(name, offset, type, lo, hi) \
    if ((offset) < end && (st = field_##type(data + (offset), #name, lo, hi, &hp->name)) != KINETO_OK) return st;
    KINETO_HPARAMS(PARSE_FIELD)
#undef PARSE_FIELD

    if (hp->enc_levels > hp->vae_levels)
        return kn_fail(KINETO_ERR_HPARAMS, "enc_levels %d is more than vae_levels %d", hp->enc_levels,
                       hp->vae_levels);
    if ((hp->vae_levels == 4) != (hp->vae_ch3 != 0))
        return kn_fail(KINETO_ERR_HPARAMS, "vae_ch3 = %d with vae_levels %d (a width with 4 levels, 0 with 3)",
                       hp->vae_ch3, hp->vae_levels);
    hp->vae_factor = 1 << (hp->vae_levels - 1);
    hp->enc_factor = 1 << (hp->enc_levels - 1);
    if (hp->height % hp->vae_factor || hp->width % hp->vae_factor)
        return kn_fail(KINETO_ERR_HPARAMS, "height %d and width %d must be multiples of %d (the VAE's factor, "
                       "vae_levels %d)", hp->height, hp->width, hp->vae_factor, hp->vae_levels);
    hp->latent_h = hp->height / hp->vae_factor;
    hp->latent_w = hp->width / hp->vae_factor;
    if (hp->latent_h % hp->patch || hp->latent_w % hp->patch)
        return kn_fail(KINETO_ERR_HPARAMS, "latent size %dx%d is not a multiple of patch %d", hp->latent_h,
                       hp->latent_w, hp->patch);
    const int vae_ch[KN_VAE_MAX_LEVELS] = {hp->vae_ch0, hp->vae_ch1, hp->vae_ch2, hp->vae_ch3};
    for (int i = 0; i < hp->vae_levels; i++) {
        if (vae_ch[i] % hp->vae_groups)
            return kn_fail(KINETO_ERR_HPARAMS, "vae_ch%d = %d is not a multiple of vae_groups %d", i, vae_ch[i],
                           hp->vae_groups);
        hp->vae_ch[i] = vae_ch[i];
    }
    if (hp->text_dim % hp->text_heads)
        return kn_fail(KINETO_ERR_HPARAMS, "text_dim %d is not a multiple of text_heads %d", hp->text_dim,
                       hp->text_heads);
    if (hp->dim % hp->heads || hp->dim % 2)
        return kn_fail(KINETO_ERR_HPARAMS, "dim %d must be even and a multiple of heads %d", hp->dim, hp->heads);
    hp->grid_h = hp->latent_h / hp->patch;
    hp->grid_w = hp->latent_w / hp->patch;
    hp->tokens_per_frame = hp->grid_h * hp->grid_w;
    hp->patch_dim = hp->latent_channels * hp->patch * hp->patch;
    return KINETO_OK;
}

static int is_word_char(uint8_t c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\''; }

/* qsort order of length-prefixed vocabulary entries: by bytes, then the shorter first. */
static int entry_order(const void *a, const void *b) {
    const uint8_t *x = *(const uint8_t *const *)a, *y = *(const uint8_t *const *)b;
    int c = memcmp(x + 1, y + 1, x[0] < y[0] ? x[0] : y[0]);
    return c ? c : (int)x[0] - (int)y[0];
}

/* A word listed twice has two token ids, of which a prompt can only ever reach one. Sorting keeps
   the check O(n log n) for the largest vocabularies. p: a vocabulary parse_vocab has checked. */
static kineto_status check_distinct_words(const uint8_t *p, int vocab_size) {
    const uint8_t **entries = malloc(sizeof *entries * (size_t)vocab_size);
    if (!entries) return kn_fail(KINETO_ERR_NOMEM, "weights: out of memory checking the vocabulary");
    for (int i = 0, at = 0; i < vocab_size; i++) {
        entries[i] = p + at;
        at += 1 + p[at];
    }
    qsort(entries, (size_t)vocab_size, sizeof *entries, entry_order);
    kineto_status st = KINETO_OK;
    for (int i = 1; i < vocab_size && st == KINETO_OK; i++)
        if (!entry_order(&entries[i - 1], &entries[i]))
            st = kn_fail(KINETO_ERR_HPARAMS, "vocabulary has the word \"%.*s\" twice", (int)entries[i][0],
                         (const char *)entries[i] + 1);
    free(entries);
    return st;
}

/* Checks the vocabulary section; with words != NULL also copies the words out. */
static kineto_status parse_vocab(const uint8_t *p, uint32_t nbytes, int vocab_size, char **words, char *store) {
    uint32_t at = 0;
    for (int i = 0; i < vocab_size; i++) {
        if (at >= nbytes || at + 1 + p[at] > nbytes)
            return kn_fail(KINETO_ERR_TRUNCATED, "vocabulary entry %d overruns the %u-byte vocabulary section", i,
                           nbytes);
        uint32_t len = p[at];
        const uint8_t *w = p + at + 1;
        if (i == 0 && (len != 6 || memcmp(w, "<null>", 6)))
            return kn_fail(KINETO_ERR_HPARAMS, "vocabulary entry 0 must be \"<null>\"");
        if (len == 0) return kn_fail(KINETO_ERR_HPARAMS, "vocabulary entry %d is empty", i);
        for (uint32_t k = 0; i > 0 && k < len; k++)
            if (!is_word_char(w[k]))
                return kn_fail(KINETO_ERR_HPARAMS, "vocabulary entry %d has byte 0x%02x outside a-z, 0-9 and '", i,
                               w[k]);
        if (words) {
            memcpy(store, w, len);
            store[len] = 0;
            words[i] = store;
            store += len + 1;
        }
        at += 1 + len;
    }
    for (; at < nbytes; at++)
        if (p[at]) return kn_fail(KINETO_ERR_HPARAMS, "vocabulary section has non-zero padding at byte %u", at);
    return words ? KINETO_OK : check_distinct_words(p, vocab_size); /* checked once, before anything is loaded */
}

/* ------------------------------------------------------------------ tensor table */
typedef struct {
    char name[NAME_BYTES];
    uint32_t dtype, ndim;
    uint64_t shape[4], offset, nbytes, elems;
    int used;
} table_entry;

static kineto_status parse_table(const uint8_t *data, uint64_t file_size, uint64_t table_off, uint32_t n,
                                 table_entry *t) {
    uint64_t data_start = table_off + (uint64_t)n * ENTRY_BYTES;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = data + table_off + (uint64_t)i * ENTRY_BYTES;
        table_entry *te = &t[i];
        memset(te, 0, sizeof *te);
        if (!memchr(e, 0, NAME_BYTES)) return kn_fail(KINETO_ERR_TENSOR_SHAPE, "tensor %u: name is not NUL-terminated", i);
        memcpy(te->name, e, NAME_BYTES);
        for (const char *c = te->name; *c; c++)
            if (*c < 0x21 || *c > 0x7E) return kn_fail(KINETO_ERR_TENSOR_SHAPE, "tensor %u: name has a non-printable byte", i);
        if (!te->name[0]) return kn_fail(KINETO_ERR_TENSOR_SHAPE, "tensor %u: empty name", i);
        te->dtype = read_u32(e + 48);
        te->ndim = read_u32(e + 52);
        te->offset = read_u64(e + 72);
        te->nbytes = read_u64(e + 80);
        if (te->dtype > 1)
            return kn_fail(KINETO_ERR_TENSOR_SHAPE, "tensor '%s': dtype %u, expected 0 (f32) or 1 (f16)", te->name, te->dtype);
        if (te->ndim < 1 || te->ndim > 4)
            return kn_fail(KINETO_ERR_TENSOR_SHAPE, "tensor '%s': ndim %u out of range 1..4", te->name, te->ndim);
        te->elems = 1;
        for (int d = 0; d < 4; d++) {
            te->shape[d] = read_u32(e + 56 + 4 * d);
            if (te->shape[d] == 0 || (d >= (int)te->ndim && te->shape[d] != 1))
                return kn_fail(KINETO_ERR_TENSOR_SHAPE, "tensor '%s': dimension %d is %llu", te->name, d,
                               (unsigned long long)te->shape[d]);
            if (!kn_mul_limit(te->elems, te->shape[d], file_size, &te->elems))
                return kn_fail(KINETO_ERR_TENSOR_SHAPE, "tensor '%s': shape larger than the file", te->name);
        }
        if (te->nbytes != te->elems * (te->dtype ? 2 : 4))
            return kn_fail(KINETO_ERR_TENSOR_SHAPE, "tensor '%s': nbytes %llu, expected %llu for its shape and dtype",
                           te->name, (unsigned long long)te->nbytes, (unsigned long long)(te->elems * (te->dtype ? 2 : 4)));
        if (te->offset % TENSOR_ALIGN)
            return kn_fail(KINETO_ERR_TENSOR_SHAPE, "tensor '%s': offset %llu is not a multiple of %d", te->name,
                           (unsigned long long)te->offset, TENSOR_ALIGN);
        if (te->offset < data_start)
            return kn_fail(KINETO_ERR_TENSOR_SHAPE, "tensor '%s': offset %llu lies inside the header or table", te->name,
                           (unsigned long long)te->offset);
        if (te->offset > file_size || te->nbytes > file_size - te->offset)
            return kn_fail(KINETO_ERR_TRUNCATED, "tensor '%s': data [%llu, +%llu) runs past the end of the file (%llu bytes)",
                           te->name, (unsigned long long)te->offset, (unsigned long long)te->nbytes,
                           (unsigned long long)file_size);
        for (uint32_t j = 0; j < i; j++) {
            if (!strcmp(t[j].name, te->name))
                return kn_fail(KINETO_ERR_TENSOR_SHAPE, "tensor '%s' appears twice", te->name);
            if (te->offset < t[j].offset + t[j].nbytes && t[j].offset < te->offset + te->nbytes)
                return kn_fail(KINETO_ERR_TENSOR_SHAPE, "tensor '%s' overlaps tensor '%s'", te->name, t[j].name);
        }
    }
    return KINETO_OK;
}

/* ------------------------------------------------------------------ binding tensors to the model */
typedef struct {
    const uint8_t *data;
    table_entry *table;
    uint32_t n_tensors;
    kn_model *m;
    int loading;              /* 0: check and count only; 1: allocate and convert */
    kineto_status st;
    uint64_t param_bytes;     /* f32 copies plus packed matrices, counted in the checking pass */
} binder;

static void format_shape(char *buf, size_t n, const uint64_t *shape, int ndim) {
    size_t at = 0;
    at += (size_t)snprintf(buf, n, "(");
    for (int d = 0; d < ndim && at < n; d++)
        at += (size_t)snprintf(buf + at, n - at, d ? ", %llu" : "%llu", (unsigned long long)shape[d]);
    if (at < n) snprintf(buf + at, n - at, ")");
}

static int own(kn_model *m, float *p) {
    if (m->n_owned == m->cap_owned) {
        int cap = m->cap_owned ? 2 * m->cap_owned : 64;
        float **grown = realloc(m->owned, sizeof *grown * (size_t)cap);
        if (!grown) return 0;
        m->owned = grown;
        m->cap_owned = cap;
    }
    m->owned[m->n_owned++] = p;
    return 1;
}

/* Returns the tensor converted to f32 (loading pass), or NULL. shape: ndim sizes, PyTorch order. */
static float *bind(binder *b, const char *name, int ndim, int d0, int d1, int d2, int d3) {
    if (b->st != KINETO_OK) return NULL;
    const uint64_t want[4] = {(uint64_t)d0, (uint64_t)d1, (uint64_t)d2, (uint64_t)d3};
    table_entry *te = NULL;
    for (uint32_t i = 0; i < b->n_tensors && !te; i++)
        if (!strcmp(b->table[i].name, name)) te = &b->table[i];
    if (!te) {
        b->st = kn_fail(KINETO_ERR_TENSOR_MISSING, "tensor '%s' is missing", name);
        return NULL;
    }
    int same = (int)te->ndim == ndim;
    for (int d = 0; d < ndim && same; d++) same = te->shape[d] == want[d];
    if (!same) {
        char got[96], exp[96];
        format_shape(got, sizeof got, te->shape, (int)te->ndim);
        format_shape(exp, sizeof exp, want, ndim);
        b->st = kn_fail(KINETO_ERR_TENSOR_SHAPE, "tensor '%s': shape %s expected %s", name, got, exp);
        return NULL;
    }
    te->used = 1;
    if (!b->loading) {
        b->param_bytes += te->elems * 4;
        b->m->n_params += (int64_t)te->elems;
        return NULL;
    }
    float *f = malloc(te->elems * sizeof(float));
    if (!f || !own(b->m, f)) {
        free(f);
        b->st = kn_fail(KINETO_ERR_NOMEM, "out of memory loading tensor '%s'", name);
        return NULL;
    }
    const uint8_t *src = b->data + te->offset;
    for (uint64_t i = 0; i < te->elems; i++) {
        f[i] = te->dtype ? kn_f16_to_f32((uint16_t)(src[2 * i] | src[2 * i + 1] << 8)) : read_f32(src + 4 * i);
        if (!isfinite(f[i])) {
            b->st = kn_fail(KINETO_ERR_TENSOR_SHAPE, "tensor '%s': element %llu is not finite", name,
                            (unsigned long long)i);
            return NULL;
        }
    }
    return f;
}

static float *bind_vec(binder *b, const char *name, int n) { return bind(b, name, 1, n, 1, 1, 1); }

static void bind_dense(binder *b, kn_dense *layer, const char *prefix, int n_out, int k_in) {
    char name[NAME_BYTES + 16];
    snprintf(name, sizeof name, "%s.weight", prefix);
    float *w = bind(b, name, 2, n_out, k_in, 1, 1);
    snprintf(name, sizeof name, "%s.bias", prefix);
    layer->b = bind_vec(b, name, n_out);
    if (!b->loading) {
        b->param_bytes += (uint64_t)n_out * (uint64_t)k_in * 4; /* the packed copy */
        return;
    }
    if (w && b->st == KINETO_OK && kn_matrix_init(&layer->w, w, n_out, k_in) != 0)
        b->st = kn_fail(KINETO_ERR_NOMEM, "out of memory packing '%s'", prefix);
}

static void bind_conv(binder *b, kn_conv_layer *layer, const char *prefix, int c_out, int c_in, int k) {
    char name[NAME_BYTES + 16];
    snprintf(name, sizeof name, "%s.weight", prefix);
    float *w = bind(b, name, 4, c_out, c_in, k, k);
    snprintf(name, sizeof name, "%s.bias", prefix);
    layer->b = bind_vec(b, name, c_out);
    if (!b->loading) {
        b->param_bytes += (uint64_t)c_out * (uint64_t)c_in * (uint64_t)(k * k) * 4;
        return;
    }
    if (w && b->st == KINETO_OK && kn_conv_init(&layer->w, w, c_out, c_in, k) != 0)
        b->st = kn_fail(KINETO_ERR_NOMEM, "out of memory packing '%s'", prefix);
}

static void bind_res_block(binder *b, kn_res_block *r, const char *prefix, int ch) {
    char name[NAME_BYTES + 16];
#define RES_NAME(field) (snprintf(name, sizeof name, "%s.%s", prefix, field), name)
    r->norm1_w = bind_vec(b, RES_NAME("norm1.weight"), ch);
    r->norm1_b = bind_vec(b, RES_NAME("norm1.bias"), ch);
    bind_conv(b, &r->conv1, RES_NAME("conv1"), ch, ch, 3);
    r->norm2_w = bind_vec(b, RES_NAME("norm2.weight"), ch);
    r->norm2_b = bind_vec(b, RES_NAME("norm2.bias"), ch);
    bind_conv(b, &r->conv2, RES_NAME("conv2"), ch, ch, 3);
#undef RES_NAME
}

/* The VAE encoder: train/model.py VAEEncoder's nn.Sequential, numbered as PyTorch numbers it. */
static void bind_encoder(binder *b) {
    kn_model *m = b->m;
    const kn_hparams *hp = &m->hp;
    kn_vae_encoder *e = &m->enc;
    const int *ch = hp->vae_ch + (hp->vae_levels - hp->enc_levels), E = hp->enc_levels;
    char name[NAME_BYTES + 16];
    int at = 0; /* index in net */
#define NET(what) (snprintf(name, sizeof name, "vae_enc.net.%d%s", at, what), name)
    bind_conv(b, &e->conv_in, NET(""), ch[0], 3, 3);
    at++;
    bind_res_block(b, &e->res[0], NET(""), ch[0]);
    at++;
    for (int j = 0; j + 1 < E; j++) {
        bind_conv(b, &e->down[j], NET(""), ch[j + 1], ch[j], 3);
        at++;
        bind_res_block(b, &e->res[j + 1], NET(""), ch[j + 1]);
        at++;
    }
    e->norm_out_w = bind_vec(b, NET(".weight"), ch[E - 1]);
    e->norm_out_b = bind_vec(b, NET(".bias"), ch[E - 1]);
    at += 2; /* the GroupNorm, then the SiLU, which has no tensors */
    bind_conv(b, &e->conv_out, NET(""), 2 * hp->latent_channels, ch[E - 1], 3);
#undef NET
}

/* The whole model, in train/model.py's order. */
static void bind_model(binder *b) {
    kn_model *m = b->m;
    const kn_hparams *hp = &m->hp;
    const int Dt = hp->text_dim, D = hp->dim, C = hp->latent_channels;
    char name[NAME_BYTES + 16];

    m->text.tok = bind(b, "text.tok.weight", 2, hp->vocab_size, Dt, 1, 1);
    m->text.pos = bind(b, "text.pos", 2, hp->max_tokens, Dt, 1, 1);
    for (int i = 0; i < hp->text_layers; i++) {
        kn_text_block *tb = &m->text.blocks[b->loading ? i : 0];
#define TB(field) (snprintf(name, sizeof name, "text.blocks.%d.%s", i, field), name)
        tb->norm1_w = bind_vec(b, TB("norm1.weight"), Dt);
        tb->norm1_b = bind_vec(b, TB("norm1.bias"), Dt);
        bind_dense(b, &tb->qkv, TB("attn.qkv"), 3 * Dt, Dt);
        bind_dense(b, &tb->out, TB("attn.out"), Dt, Dt);
        tb->norm2_w = bind_vec(b, TB("norm2.weight"), Dt);
        tb->norm2_b = bind_vec(b, TB("norm2.bias"), Dt);
        bind_dense(b, &tb->fc1, TB("mlp.fc1"), TEXT_MLP_RATIO * Dt, Dt);
        bind_dense(b, &tb->fc2, TB("mlp.fc2"), Dt, TEXT_MLP_RATIO * Dt);
#undef TB
    }
    m->text.norm_w = bind_vec(b, "text.norm.weight", Dt);
    m->text.norm_b = bind_vec(b, "text.norm.bias", Dt);

    kn_denoiser *dn = &m->den;
    bind_dense(b, &dn->patch_in, "denoiser.patch_in", D, hp->patch_dim);
    dn->pos_space = bind(b, "denoiser.pos_space", 2, hp->tokens_per_frame, D, 1, 1);
    dn->pos_time = bind(b, "denoiser.pos_time", 2, hp->frames, D, 1, 1);
    bind_dense(b, &dn->time_fc1, "denoiser.time_mlp.fc1", D, D);
    bind_dense(b, &dn->time_fc2, "denoiser.time_mlp.fc2", D, D);
    bind_dense(b, &dn->text_proj, "denoiser.text_proj", D, Dt);
    for (int i = 0; i < hp->depth; i++) {
        kn_denoiser_block *db = &dn->blocks[b->loading ? i : 0];
#define DB(field) (snprintf(name, sizeof name, "denoiser.blocks.%d.%s", i, field), name)
        bind_dense(b, &db->qkv, DB("attn.qkv"), 3 * D, D);
        bind_dense(b, &db->out, DB("attn.out"), D, D);
        db->norm_cross_w = bind_vec(b, DB("norm_cross.weight"), D);
        db->norm_cross_b = bind_vec(b, DB("norm_cross.bias"), D);
        bind_dense(b, &db->cross_q, DB("cross_q"), D, D);
        bind_dense(b, &db->cross_kv, DB("cross_kv"), 2 * D, Dt);
        bind_dense(b, &db->cross_out, DB("cross_out"), D, D);
        bind_dense(b, &db->fc1, DB("mlp.fc1"), hp->mlp_ratio * D, D);
        bind_dense(b, &db->fc2, DB("mlp.fc2"), D, hp->mlp_ratio * D);
        bind_dense(b, &db->ada, DB("ada"), 6 * D, D);
#undef DB
    }
    bind_dense(b, &dn->final_ada, "denoiser.final_ada", 2 * D, D);
    bind_dense(b, &dn->patch_out, "denoiser.patch_out", hp->patch_dim, D);

    kn_vae_decoder *v = &m->vae;
    const int L = hp->vae_levels;
    bind_conv(b, &v->conv_in, "vae_dec.conv_in", hp->vae_ch[L - 1], C, 3);
    for (int i = L - 1; i >= 0; i--) {
        if (i < L - 1) {
            snprintf(name, sizeof name, "vae_dec.up%d", i);
            bind_conv(b, &v->up[i], name, hp->vae_ch[i], hp->vae_ch[i + 1], 3);
        }
        snprintf(name, sizeof name, "vae_dec.res%d", i);
        bind_res_block(b, &v->res[i], name, hp->vae_ch[i]);
    }
    v->norm_out_w = bind_vec(b, "vae_dec.norm_out.weight", hp->vae_ch[0]);
    v->norm_out_b = bind_vec(b, "vae_dec.norm_out.bias", hp->vae_ch[0]);
    bind_conv(b, &v->conv_out, "vae_dec.conv_out", 3, hp->vae_ch[0], 3);

    if (m->enc.present) bind_encoder(b);
    m->preview_w = bind(b, "preview.weight", 4, 3, C, 1, 1);
    m->preview_b = bind_vec(b, "preview.bias", 3);
}

/* ------------------------------------------------------------------ load */
static kineto_status check_header(const uint8_t *data, size_t size, uint64_t *file_size, uint32_t *version_out) {
    if (size < 4) return kn_fail(KINETO_ERR_TRUNCATED, "weights: %zu bytes, too short for a header", size);
    if (memcmp(data, "KNTO", 4)) return kn_fail(KINETO_ERR_MAGIC, "weights: magic is not \"KNTO\"");
    if (size < 24) return kn_fail(KINETO_ERR_TRUNCATED, "weights: %zu bytes, too short for a header", size);
    uint32_t version = read_u32(data + 4);
    if (version < KINETO_FORMAT_VERSION_MIN || version > KINETO_FORMAT_VERSION)
        return kn_fail(KINETO_ERR_VERSION, "weights: format version %u, this build reads versions %d to %d", version,
                       KINETO_FORMAT_VERSION_MIN, KINETO_FORMAT_VERSION);
    *version_out = version;
    *file_size = read_u64(data + 8);
    if (*file_size > size)
        return kn_fail(KINETO_ERR_TRUNCATED, "weights: file_size says %llu bytes, only %zu present",
                       (unsigned long long)*file_size, size);
    if (*file_size < size)
        return kn_fail(KINETO_ERR_TRUNCATED, "weights: file_size says %llu bytes, but %zu were given",
                       (unsigned long long)*file_size, size);
    if (*file_size < header_bytes(version) + 4)
        return kn_fail(KINETO_ERR_TRUNCATED, "weights: file_size %llu is shorter than the header",
                       (unsigned long long)*file_size);
    uint32_t crc = kn_crc32(data + 24, (size_t)(*file_size - 24));
    if (crc != read_u32(data + 16))
        return kn_fail(KINETO_ERR_CHECKSUM, "weights: CRC-32 is %08x, the header says %08x: the file is corrupt",
                       crc, read_u32(data + 16));
    return KINETO_OK;
}

void kn_model_free(kn_model *m) {
    if (!m) return;
    for (int i = 0; i < m->hp.text_layers && m->text.blocks; i++) {
        kn_text_block *tb = &m->text.blocks[i];
        kn_dense *layers[] = {&tb->qkv, &tb->out, &tb->fc1, &tb->fc2};
        for (int k = 0; k < 4; k++) kn_matrix_free(&layers[k]->w);
    }
    for (int i = 0; i < m->hp.depth && m->den.blocks; i++) {
        kn_denoiser_block *db = &m->den.blocks[i];
        kn_dense *layers[] = {&db->qkv, &db->out, &db->cross_q, &db->cross_kv, &db->cross_out, &db->fc1, &db->fc2, &db->ada};
        for (int k = 0; k < 8; k++) kn_matrix_free(&layers[k]->w);
    }
    kn_denoiser *dn = &m->den;
    kn_dense *dense[] = {&dn->patch_in, &dn->time_fc1, &dn->time_fc2, &dn->text_proj, &dn->final_ada, &dn->patch_out};
    for (int k = 0; k < 6; k++) kn_matrix_free(&dense[k]->w);
    kn_vae_decoder *v = &m->vae;
    kn_vae_encoder *e = &m->enc;
    kn_conv_free(&v->conv_in.w);
    kn_conv_free(&v->conv_out.w);
    kn_conv_free(&e->conv_in.w);
    kn_conv_free(&e->conv_out.w);
    for (int i = 0; i < KN_VAE_MAX_LEVELS; i++) { /* unbound layers hold NULL */
        if (i < KN_VAE_MAX_LEVELS - 1) kn_conv_free(&v->up[i].w), kn_conv_free(&e->down[i].w);
        kn_conv_free(&v->res[i].conv1.w), kn_conv_free(&v->res[i].conv2.w);
        kn_conv_free(&e->res[i].conv1.w), kn_conv_free(&e->res[i].conv2.w);
    }
    for (int i = 0; i < m->n_owned; i++) free(m->owned[i]);
    free(m->owned);
    free(m->text.blocks);
    free(m->den.blocks);
    if (m->vocab) free(m->vocab[0]);
    free(m->vocab);
    free(m);
}

/* The buffers of one default-length clip, within the engine's memory cap. */
static kineto_status check_clip_memory(const kn_hparams *hp, uint64_t *gen_bytes) {
    if (kn_generation_plan_bytes(hp, hp->frames, KN_MEMORY_CAP, gen_bytes)) return KINETO_OK;
    return kn_fail(KINETO_ERR_HPARAMS, "weights: a clip of this model needs more than the %llu MB limit",
                   (unsigned long long)(KN_MEMORY_CAP >> 20));
}

kn_model *kn_model_load(const uint8_t *data, size_t size, kineto_status *status) {
    kineto_status st;
    uint64_t file_size = 0;
    kn_hparams hp;
    table_entry *table = NULL;
    kn_model *m = NULL;
    if (!data) {
        *status = kn_fail(KINETO_ERR_ARG, "weights: NULL buffer");
        return NULL;
    }
    uint32_t version = 0;
    if ((st = check_header(data, size, &file_size, &version)) != KINETO_OK) goto fail;
    if ((st = parse_hparams(data, version, &hp)) != KINETO_OK) goto fail;
    const size_t head = header_bytes(version);
    uint64_t gen_bytes = 0;
    if ((st = check_clip_memory(&hp, &gen_bytes)) != KINETO_OK) goto fail;
    uint32_t vocab_bytes = read_u32(data + head);
    if (vocab_bytes % 4) {
        st = kn_fail(KINETO_ERR_HPARAMS, "weights: vocab_bytes %u is not a multiple of 4", vocab_bytes);
        goto fail;
    }
    uint64_t table_off = (uint64_t)head + 4 + vocab_bytes;
    if (table_off > file_size) {
        st = kn_fail(KINETO_ERR_TRUNCATED, "weights: vocabulary section (%u bytes) runs past the end of the file", vocab_bytes);
        goto fail;
    }
    if ((st = parse_vocab(data + head + 4, vocab_bytes, hp.vocab_size, NULL, NULL)) != KINETO_OK) goto fail;
    uint32_t n_tensors = read_u32(data + 20);
    if (n_tensors < 1 || n_tensors > MAX_TENSORS) {
        st = kn_fail(KINETO_ERR_HPARAMS, "weights: n_tensors %u out of range 1..%d", n_tensors, MAX_TENSORS);
        goto fail;
    }
    if (table_off + (uint64_t)n_tensors * ENTRY_BYTES > file_size) {
        st = kn_fail(KINETO_ERR_TRUNCATED, "weights: tensor table (%u entries) runs past the end of the file", n_tensors);
        goto fail;
    }

    table = malloc(sizeof *table * n_tensors);
    m = calloc(1, sizeof *m);
    if (!table || !m) goto nomem;
    if ((st = parse_table(data, file_size, table_off, n_tensors, table)) != KINETO_OK) goto fail;
    m->hp = hp;
    /* the encoder is optional: its first tensor says the file holds it, then all of it must be right */
    for (uint32_t i = 0; i < n_tensors && !m->enc.present; i++)
        m->enc.present = !strcmp(table[i].name, "vae_enc.net.0.weight");

    /* pass 1: shapes and memory; every block binds into one probe, as nothing is allocated yet */
    kn_text_block text_probe;
    kn_denoiser_block den_probe;
    binder b = {data, table, n_tensors, m, 0, KINETO_OK, 0};
    m->text.blocks = &text_probe;
    m->den.blocks = &den_probe;
    bind_model(&b);
    m->text.blocks = NULL;
    m->den.blocks = NULL;
    if ((st = b.st) != KINETO_OK) goto fail;
    if (m->enc.present) /* an image start's encoder work beside the clip, counted with it */
        gen_bytes += 4 * (kn_vae_encoder_work_floats(&hp) + (uint64_t)3 * kn_vae_encoder_height(&hp) *
                                                                kn_vae_encoder_width(&hp));
    if (gen_bytes > KN_MEMORY_CAP || b.param_bytes > KN_MEMORY_CAP - gen_bytes) {
        st = kn_fail(KINETO_ERR_HPARAMS, "weights: %llu MB of weights and %llu MB for a clip exceed the %llu MB limit",
                     (unsigned long long)(b.param_bytes >> 20), (unsigned long long)(gen_bytes >> 20),
                     (unsigned long long)(KN_MEMORY_CAP >> 20));
        goto fail;
    }

    /* pass 2: allocate and convert */
    m->n_params = 0;
    m->text.blocks = calloc((size_t)hp.text_layers + 1, sizeof *m->text.blocks);
    m->den.blocks = calloc((size_t)hp.depth, sizeof *m->den.blocks);
    m->vocab = calloc((size_t)hp.vocab_size, sizeof *m->vocab);
    char *store = malloc((size_t)vocab_bytes + (size_t)hp.vocab_size + 1);
    if (!m->text.blocks || !m->den.blocks || !m->vocab || !store) {
        free(store);
        goto nomem;
    }
    parse_vocab(data + head + 4, vocab_bytes, hp.vocab_size, m->vocab, store);
    for (uint32_t i = 0; i < n_tensors; i++) table[i].used = 0;
    b.loading = 1;
    bind_model(&b);
    if ((st = b.st) != KINETO_OK) goto fail;
    for (uint32_t i = 0; i < n_tensors; i++)
        if (!table[i].used) kn_log(KN_LOG_WARN, "weights: tensor '%s' is not used by this engine", table[i].name);
    int64_t n_params = 0;
    for (uint32_t i = 0; i < n_tensors; i++)
        if (table[i].used) n_params += (int64_t)table[i].elems;
    m->n_params = n_params;
    free(table);
    kn_log(KN_LOG_INFO, "weights: version %u, %u tensors, %lld parameters, %d words, %d-level VAE%s", version, n_tensors,
           (long long)n_params, hp.vocab_size, hp.vae_levels, m->enc.present ? " with its encoder" : "");
    *status = KINETO_OK;
    return m;

nomem:
    st = kn_fail(KINETO_ERR_NOMEM, "weights: out of memory");
fail:
    free(table);
    kn_model_free(m);
    *status = st;
    return NULL;
}
