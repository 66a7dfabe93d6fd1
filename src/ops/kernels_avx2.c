/* kernels_avx2.c — the width-dependent kernels once more, for x86 CPUs with AVX2: build.sh compiles
   this file with -mavx2, so simd.h's kn_vec has 8 lanes here, and isa.h gives every function the
   suffix _avx2. The SSE2 entry points call them when the CPU has AVX2 (isa.h). Any other build
   compiles this file to nothing. */
#if defined(KN_DISPATCH_AVX2) && defined(__AVX2__)
#define KN_AVX2_COPY 1
#include "activations.c"
#include "attention.c"
#include "conv.c"
#include "gemm.c"
#include "norm.c"
#else
typedef int kn_no_avx2_copy;   /* ISO C wants a declaration in every translation unit */
#endif
