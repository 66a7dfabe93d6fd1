/* isa.h — x86 kernels for two instruction sets in one binary, chosen at run time.

   A native x86 build (build.sh) defines KN_DISPATCH_AVX2 and compiles the kernels whose speed
   depends on the vector width twice: as they are, for SSE2 (4 lanes; every x86-64 CPU has it), and
   again in kernels_avx2.c with -mavx2 (8 lanes), where the names below end in _avx2. Each SSE2
   entry point starts with KN_DISPATCH(name, args...), which hands the call to its _avx2 twin when
   the CPU has AVX2, as the C runtime detected it at start-up (__builtin_cpu_supports), so a binary
   built here runs on any x86-64 CPU at the best width it has. Both give the same bits (simd.h).
   Builds without KN_DISPATCH_AVX2 (WebAssembly, scalar, sanitizers, NATIVE_ISA=sse2 or avx2) run
   the one instruction set they were compiled for. */
#ifndef KINETO_ISA_H
#define KINETO_ISA_H

#ifdef KN_AVX2_COPY   /* inside kernels_avx2.c: every external name of the kernels it includes */
#define kn_kernels_isa kn_kernels_isa_avx2
#define kn_matrix_init kn_matrix_init_avx2
#define kn_matrix_free kn_matrix_free_avx2
#define kn_gemm_panel kn_gemm_panel_avx2
#define kn_linear kn_linear_avx2
#define kn_linear_silu kn_linear_silu_avx2
#define kn_linear_residual kn_linear_residual_avx2
#define kn_linear_ref kn_linear_ref_avx2
#define kn_conv_init kn_conv_init_avx2
#define kn_conv_free kn_conv_free_avx2
#define kn_conv_scratch_floats kn_conv_scratch_floats_avx2
#define kn_conv2d kn_conv2d_avx2
#define kn_conv2d_ref kn_conv2d_ref_avx2
#define kn_layer_norm kn_layer_norm_avx2
#define kn_layer_norm_ref kn_layer_norm_ref_avx2
#define kn_group_norm kn_group_norm_avx2
#define kn_group_norm_ref kn_group_norm_ref_avx2
#define kn_layer_norm_modulate kn_layer_norm_modulate_avx2
#define kn_modulate_ref kn_modulate_ref_avx2
#define kn_attention_scratch_floats kn_attention_scratch_floats_avx2
#define kn_attention kn_attention_avx2
#define kn_attention_ref kn_attention_ref_avx2
#define kn_silu kn_silu_avx2
#define kn_silu_ref kn_silu_ref_avx2
#define kn_softmax kn_softmax_avx2
#define kn_softmax_ref kn_softmax_ref_avx2
#define kn_add kn_add_avx2
#define kn_add_gated kn_add_gated_avx2
#define kn_upsample2x kn_upsample2x_avx2
#endif

#if defined(KN_DISPATCH_AVX2) && !defined(KN_AVX2_COPY)
#define KN_DISPATCHING 1
#define KN_DISPATCH(fn, ...) \
    do { if (__builtin_cpu_supports("avx2")) { fn##_avx2(__VA_ARGS__); return; } } while (0)
#else
#define KN_DISPATCH(fn, ...) ((void)0)
#endif

#endif
