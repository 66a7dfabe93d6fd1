/* test_vae.c — the VAE beyond test_parity's one decoder: the encoder and a clip started from an image
   (tiny.kin, golden.bin), a 4-level decoder over a 3-level encoder at 8 latent channels (tiny4.kin,
   golden4.bin), the image scaler, and an image start's refusals and determinism. Thresholds as
   test_parity.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_scale.h"
#include "kineto.h"
#include "model/vae_decoder.h"
#include "model/vae_encoder.h"
#include "sampler.h"
#include "weights.h"
#include "golden.h"

static kn_model *load_model(const char *path, uint8_t **file) {
    size_t size;
    kineto_status st;
    *file = read_file(path, &size);
    kn_model *m = *file ? kn_model_load(*file, size, &st) : NULL;
    if (!m) {
        fprintf(stderr, "cannot load %s: %s\n", path, kineto_last_error());
        exit(1);
    }
    return m;
}

/* The encoder from the engine's own input planes of the golden image, against PyTorch's mean. */
static void encoder_parity(const kn_model *m, const char *label) {
    const kn_hparams *hp = &m->hp;
    const golden *image = find("image");
    const int He = kn_vae_encoder_height(hp), We = kn_vae_encoder_width(hp);
    check(m->enc.present && image->ndim == 3 && image->dims[0] == He && image->dims[1] == We, "encoder present, input size");
    float *planes = malloc(sizeof(float) * 3 * He * We);
    float *work = malloc(sizeof(float) * (kn_vae_encoder_work_floats(hp) + kn_image_scale_work_floats(We, He, We, He)));
    float *mean = malloc(sizeof(float) * hp->latent_channels * hp->latent_h * hp->latent_w);
    kn_image_to_planes(image->data, We, He, planes, We, He, work);
    kn_vae_encode(m, planes, mean, work);
    compare(label, mean, gf("image.mean"), (size_t)hp->latent_channels * hp->latent_h * hp->latent_w, STAGE_TOL);
    free(planes);
    free(work);
    free(mean);
}

/* A clip from an image through the public API: rgba of frames * H * W * 4 bytes. */
static kineto_status image_clip(kineto_ctx *ctx, const uint8_t *image, int w, int h, int frames, int threads,
                                uint8_t *rgba) {
    kineto_params p = kineto_default_params();
    p.prompt = "a red ball moving right on black";
    p.seed = 11;
    p.steps = 3;
    p.frames = frames;
    p.threads = threads;
    p.image = image;
    p.image_width = w;
    p.image_height = h;
    kineto_status st = kineto_begin(ctx, &p);
    while (st == KINETO_OK && !kineto_done(ctx)) st = kineto_step(ctx);
    kineto_info in = kineto_model_info(ctx);
    if (st == KINETO_OK) st = kineto_decode(ctx, rgba, (size_t)frames * in.height * in.width * 4);
    return st;
}

static void tiny_image_start(const kn_model *m) {
    const kn_hparams *hp = &m->hp;
    encoder_parity(m, "image.mean (encoder)");

    /* one window holding frame 0 to the image's latent: model.py sample(known=[0]) */
    kineto_ctx *ctx = check_load_model(FIXTURES "/tiny.kin");
    char *prompt = golden_string("prompt"), *negative = golden_string("negative_prompt");
    const golden *image = find("image");
    kineto_params p = kineto_default_params();
    p.prompt = prompt;
    p.negative_prompt = negative;
    p.seed = (uint64_t)*(const int *)find("seed")->data;
    p.steps = *(const int *)find("steps")->data;
    p.guidance = *gf("guidance");
    p.renoise = *gf("renoise");
    p.image = image->data;
    p.image_width = image->dims[1];
    p.image_height = image->dims[0];
    const size_t HW = (size_t)hp->height * hp->width, bytes = (size_t)hp->frames * HW * 4;
    uint8_t *rgba = malloc(bytes);
    kineto_status st = kineto_begin(ctx, &p);
    check(st != KINETO_OK || kineto_frames_ready(ctx) == 1, "an image start's frame 0 is ready before any step");
    while (st == KINETO_OK && !kineto_done(ctx)) st = kineto_step(ctx);
    if (st == KINETO_OK) st = kineto_decode(ctx, rgba, bytes);
    check(st == KINETO_OK && kineto_steps_total(ctx) == p.steps, "image start runs one window");
    if (st == KINETO_OK) compare_bytes("image.frames (uint8)", rgba, find("image.frames"), hp->frames * HW);
    free(rgba);
    free(prompt);
    free(negative);
    kineto_free(ctx);
}

/* Scaling: an axis of the same size is copied, a flat colour stays flat at any size, alpha goes over black. */
static void scaler(void) {
    enum { W = 37, H = 23, OW = 16, OH = 40 };
    uint8_t *rgba = malloc(W * H * 4);
    float *out = malloc(sizeof(float) * 3 * W * H);
    float *work = malloc(sizeof(float) * kn_image_scale_work_floats(W, H, W, H) * 4);
    for (int i = 0; i < W * H * 4; i++) rgba[i] = (uint8_t)(i * 7919 % 251);
    for (int i = 0; i < W * H; i++) rgba[i * 4 + 3] = 255;
    kn_image_to_planes(rgba, W, H, out, W, H, work);
    int exact = 1;
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < W * H; i++) exact &= out[c * W * H + i] == rgba[i * 4 + c] / 127.5f - 1.0f;
    check(exact, "scaler: the same size copies every pixel exactly");
    const int sizes[][2] = {{OW, OH}, {OH, OW}, {1, 1}, {W * 3, H * 2}};
    for (int k = 0; k < 4; k++) {
        for (int i = 0; i < W * H; i++) rgba[i * 4] = 200, rgba[i * 4 + 1] = 10, rgba[i * 4 + 2] = 99, rgba[i * 4 + 3] = 255;
        float *big = malloc(sizeof(float) * 3 * sizes[k][0] * sizes[k][1]);
        float *w2 = malloc(sizeof(float) * kn_image_scale_work_floats(W, H, sizes[k][0], sizes[k][1]));
        kn_image_to_planes(rgba, W, H, big, sizes[k][0], sizes[k][1], w2);
        double worst = 0;
        const float want[3] = {200 / 127.5f - 1, 10 / 127.5f - 1, 99 / 127.5f - 1};
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < sizes[k][0] * sizes[k][1]; i++) {
                double d = fabs(big[c * sizes[k][0] * sizes[k][1] + i] - want[c]);
                if (!(d <= worst)) worst = d;
            }
        char what[96];
        snprintf(what, sizeof what, "scaler: a flat colour stays flat, %dx%d -> %dx%d", W, H, sizes[k][0], sizes[k][1]);
        check_within(what, worst, 1e-5, "");
        free(big);
        free(w2);
    }
    for (int i = 0; i < W * H; i++) rgba[i * 4 + 3] = i % 2 ? 0 : 255; /* every other pixel transparent */
    kn_image_to_planes(rgba, W, H, out, W, H, work);
    check(out[1] == -1.0f && out[W * H + 1] == -1.0f && out[0] == 200 / 127.5f - 1.0f,
          "scaler: a transparent pixel is black, an opaque one its colour");
    /* shrinking by 2 averages pairs: the mean of opaque 200 and black */
    uint8_t two[2 * 1 * 4] = {200, 0, 0, 255, 0, 0, 0, 255};
    float one[3];
    kn_image_to_planes(two, 2, 1, one, 1, 1, work);
    check(fabsf(one[0] - (100 / 127.5f - 1.0f)) < 1e-6f, "scaler: area average of two pixels");
    free(rgba);
    free(out);
    free(work);
}

/* Same bytes at 1, 2 and 4 threads and again; the image frame the same in a long clip; refusals. */
static void determinism_and_refusals(void) {
    kineto_ctx *ctx = check_load_model(FIXTURES "/tiny.kin");
    kineto_info in = kineto_model_info(ctx);
    check(in.has_encoder && in.encoder_width == 32 && in.encoder_height == 32, "kineto_info: the encoder and its input size");
    enum { W = 50, H = 37, LONG = 10 };
    uint8_t image[W * H * 4];
    for (int i = 0; i < W * H * 4; i++) image[i] = (uint8_t)(i * 2654435761u >> 13);
    const size_t frame = (size_t)in.height * in.width * 4;
    uint8_t *first = malloc(LONG * frame), *again = malloc(LONG * frame);
    check(image_clip(ctx, image, W, H, LONG, 1, first) == KINETO_OK, "image start, 10 frames, 1 thread");
    const int threads[] = {2, 4, 1};
    for (int k = 0; k < 3; k++) {
        kineto_status st = image_clip(ctx, image, W, H, LONG, threads[k], again);
        char what[64];
        snprintf(what, sizeof what, "image start: same bytes at %d thread%s%s", threads[k], threads[k] > 1 ? "s" : "",
                 k == 2 ? " again" : "");
        check(st == KINETO_OK && !memcmp(first, again, LONG * frame), what);
    }
    check(image_clip(ctx, image, W, H, in.frames, 2, again) == KINETO_OK && !memcmp(first, again, frame),
          "frame 0 is the image's reconstruction in a one-window clip and in a long one");
    check(memcmp(first, first + frame, frame) != 0, "frame 1 is made, not a copy of frame 0");

    kineto_params p = kineto_default_params();
    p.prompt = "a red ball";
    p.image = image;
    const int bad[][2] = {{0, 0}, {0, H}, {W, 0}, {KINETO_MAX_IMAGE_SIDE + 1, 4}, {4, -1}};
    for (int k = 0; k < 5; k++) {
        p.image_width = bad[k][0], p.image_height = bad[k][1];
        char what[64];
        snprintf(what, sizeof what, "image of %dx%d refused", bad[k][0], bad[k][1]);
        check(kineto_begin(ctx, &p) == KINETO_ERR_IMAGE && strstr(kineto_last_error(), "image"), what);
    }
    p.image = NULL, p.image_width = W, p.image_height = H;
    check(kineto_begin(ctx, &p) == KINETO_ERR_IMAGE, "NULL image with a size refused");
    p.image = image, p.frames = 1;
    check(kineto_begin(ctx, &p) == KINETO_ERR_PARAM && strstr(kineto_last_error(), "at least 2 frames"),
          "an image start of one frame refused");
    kineto_free(ctx);

    /* weights without the encoder: its first tensor renamed, the rest left over (unused) */
    size_t size;
    uint8_t *file = read_tiny_fixture(&size);
    const size_t table = KIN_VOCAB + rd32(file + KIN_VOCAB_BYTES);
    kineto_set_log(quiet, NULL);
    for (uint32_t i = 0; i < rd32(file + 20); i++)
        if (!strcmp((char *)file + table + 88 * i, "vae_enc.net.0.weight")) file[table + 88 * i] = 'x';
    fix_crc(file, size);
    kineto_status st;
    ctx = kineto_load_buffer(file, size, &st);
    check(ctx && !kineto_model_info(ctx).has_encoder && kineto_model_info(ctx).encoder_width == 0,
          "weights without vae_enc.net.0 load, without the encoder");
    p.frames = 0;
    check(ctx && kineto_begin(ctx, &p) == KINETO_ERR_NO_ENCODER && strstr(kineto_last_error(), "no VAE encoder"),
          "image start without the encoder: KINETO_ERR_NO_ENCODER");
    check(!strcmp(kineto_status_str(KINETO_ERR_NO_ENCODER), "these weights have no VAE encoder; image start needs one"),
          "kineto_status_str names the missing encoder");
    kineto_free(ctx);
    /* the encoder's first tensor present but a later one missing: refused by name */
    free(file);
    file = read_tiny_fixture(&size);
    for (uint32_t i = 0; i < rd32(file + 20); i++)
        if (!strcmp((char *)file + table + 88 * i, "vae_enc.net.8.weight")) file[table + 88 * i] = 'x';
    fix_crc(file, size);
    ctx = kineto_load_buffer(file, size, &st);
    check(!ctx && st == KINETO_ERR_TENSOR_MISSING && strstr(kineto_last_error(), "vae_enc.net.8.weight"),
          "a partial encoder is refused, naming the missing tensor");
    kineto_set_log(NULL, NULL);
    free(file);
    free(first);
    free(again);
}

static void four_levels(void) {
    if (!load_goldens(FIXTURES "/golden4.bin")) {
        fprintf(stderr, "cannot read %s/golden4.bin\n", FIXTURES);
        exit(1);
    }
    uint8_t *file;
    kn_model *m = load_model(FIXTURES "/tiny4.kin", &file);
    const kn_hparams *hp = &m->hp;
    check(hp->vae_levels == 4 && hp->enc_levels == 3 && hp->latent_h == 4 && hp->height == 32 &&
          kn_vae_encoder_height(hp) == 16, "tiny4.kin: 4 levels (x8) over a 3-level encoder (x4)");
    kn_generation g;
    memset(&g, 0, sizeof g);
    if (!kn_generation_alloc(&g, hp, hp->frames)) exit(1);
    const size_t HW = (size_t)hp->height * hp->width;
    float *rgb = malloc(sizeof(float) * hp->frames * 3 * HW);
    kn_vae_decode(m, gf("latent"), hp->frames, rgb, &g.vae_ws);
    compare("rgb (4-level decoder)", rgb, gf("rgb"), hp->frames * 3 * HW, STAGE_TOL);
    uint8_t *bytes = malloc(hp->frames * HW * 4);
    for (int f = 0; f < hp->frames; f++) /* planes to RGBA, as kineto_decode stores them */
        for (size_t i = 0; i < HW; i++)
            for (int c = 0; c < 4; c++)
                bytes[(f * HW + i) * 4 + c] = c == 3 ? 255 : kn_to_byte(rgb[(f * 3 + c) * HW + i]);
    compare_bytes("frames (4-level, uint8)", bytes, find("frames"), hp->frames * HW);
    free(bytes);
    encoder_parity(m, "image.mean (x4 encoder)");
    free(rgb);
    kn_generation_free(&g);
    kn_model_free(m);
    free(file);

    kineto_ctx *ctx = check_load_model(FIXTURES "/tiny4.kin");
    kineto_info in = kineto_model_info(ctx);
    const golden *image = find("image");
    uint8_t *rgba = malloc((size_t)in.frames * in.height * in.width * 4);
    check(in.width == 32 && in.latent_w == 4 && in.latent_channels == 8 && in.encoder_width == 16,
          "kineto_info of a 4-level model");
    check(image_clip(ctx, image->data, image->dims[1], image->dims[0], in.frames, 2, rgba) == KINETO_OK,
          "a 4-level model makes a clip from an image");
    free(rgba);
    kineto_free(ctx);
}

int main(void) {
    check_show_passes = 1;
    if (!load_goldens(FIXTURES "/golden.bin")) {
        fprintf(stderr, "cannot read %s/golden.bin\n", FIXTURES);
        return 1;
    }
    uint8_t *file;
    kn_model *m = load_model(FIXTURES "/tiny.kin", &file);
    tiny_image_start(m);
    kn_model_free(m);
    free(file);
    scaler();
    determinism_and_refusals();
    four_levels();
    free_goldens();
    return check_exit();
}
