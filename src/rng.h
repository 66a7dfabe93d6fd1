/* rng.h — Kineto's noise: splitmix64 and Box-Muller, as train/model.py gaussian_noise. */
#ifndef KN_RNG_H
#define KN_RNG_H

#include <stddef.h>
#include <stdint.h>

/* The index-th output (0-based) of splitmix64 started at state seed. */
uint64_t kn_splitmix64(uint64_t seed, uint64_t index);
/* out[0..n) = standard normals; pair k uses outputs 2k and 2k+1. */
void kn_gaussian_noise(float *out, size_t n, uint64_t seed);

#endif
