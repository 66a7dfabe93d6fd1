/* fuzz_image.c — libFuzzer harness for the start-image decoder (src/io/image_decode.c, stb_image's
   PNG and JPEG) and the engine's scaler behind it: any bytes are refused with a reason or give an
   image of the size they state, which then scales to the default encoder's 64x64 input. The side
   limit is FUZZ_MAX_SIDE, not KINETO_MAX_IMAGE_SIDE, so that each input decodes in milliseconds; the
   check that enforces it is the same code. */
#include <stdlib.h>
#include <string.h>

#include "image_scale.h"
#include "io/image_decode.h"

#define FUZZ_MAX_SIDE 1024
#define ENCODER_SIDE 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    kn_image img;
    char why[256] = "";
    if (kn_image_decode(data, size, FUZZ_MAX_SIDE, &img, why, sizeof why) != 0) {
        if (!why[0] || img.rgba) __builtin_trap(); /* a refusal says why and holds nothing */
        return 0;
    }
    if (!img.rgba || img.width < 1 || img.height < 1 || img.width > FUZZ_MAX_SIDE || img.height > FUZZ_MAX_SIDE)
        __builtin_trap();
    float *planes = malloc(sizeof(float) * 3 * ENCODER_SIDE * ENCODER_SIDE);
    float *work = malloc(sizeof(float) * kn_image_scale_work_floats(img.width, img.height, ENCODER_SIDE, ENCODER_SIDE));
    if (planes && work) {
        kn_image_to_planes(img.rgba, img.width, img.height, planes, ENCODER_SIDE, ENCODER_SIDE, work);
        for (int i = 0; i < 3 * ENCODER_SIDE * ENCODER_SIDE; i++) /* colours over black stay in [-1, 1] */
            if (!(planes[i] >= -1.0001f && planes[i] <= 1.0001f)) __builtin_trap();
    }
    free(planes);
    free(work);
    kn_image_free(&img);
    return 0;
}
