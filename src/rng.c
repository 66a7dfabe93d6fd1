/* rng.c — counter-based splitmix64 plus Box-Muller. model.py computes in float64; the engine uses f32
   with its own libm-free log/sin/cos so that native and WebAssembly builds draw identical noise. The
   difference from model.py's noise is a few f32 ulps (checked by tests/engine/test_parity.c). */
#include <math.h>

#include "ops/ops.h"
#include "rng.h"

#define TWO_PI 6.28318530717958647692f
#define INV_2_24 (1.0f / 16777216.0f)

uint64_t kn_splitmix64(uint64_t seed, uint64_t index) {
    uint64_t z = seed + (index + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void kn_gaussian_noise(float *out, size_t n, uint64_t seed) {
    for (size_t k = 0; 2 * k < n; k++) {
        uint64_t a = kn_splitmix64(seed, 2 * k), b = kn_splitmix64(seed, 2 * k + 1);
        float u1 = (float)((a >> 40) + 1) * INV_2_24; /* (0, 1]: log stays finite */
        float u2 = (float)(b >> 40) * INV_2_24;       /* [0, 1) */
        float r = sqrtf(-2.0f * kn_logf(u1));
        float angle = TWO_PI * u2;
        out[2 * k] = r * kn_cosf(angle);
        if (2 * k + 1 < n) out[2 * k + 1] = r * kn_sinf(angle);
    }
}
