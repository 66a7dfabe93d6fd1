/* ops.h — Kineto's kernels. Each has a plain reference (suffix _ref) and a fast form written over
   simd.h's kn_vec; a KINETO_NO_SIMD build (or a target without SSE2 or wasm SIMD) compiles the fast
   form over four plain floats, in the same order, so it gives the same bits. Tensors are row-major
   f32; shapes are given in comments as (rows, cols).

   Determinism: every kernel fixes its reduction order, independent of the thread count and of the
   vector width, so the native (AVX2, SSE2, scalar) and WebAssembly builds give bit-identical results. No libm: the
   transcendental functions come from mathf.h. */
#ifndef KINETO_OPS_H
#define KINETO_OPS_H

#include <stddef.h>
#include "isa.h"

/* The instruction set the kernels run with: "avx2", "sse2", "wasm-simd128" or "scalar". */
const char *kn_kernels_isa(void);

/* ---- math without libm (mathf.c): same bits on glibc and Emscripten ---- */
float kn_expf(float x);
float kn_logf(float x);  /* x > 0 */
float kn_sinf(float x);
float kn_cosf(float x);

/* ---- threads (threads.c): one process-wide pool shared by all kernels and contexts; serial when
   the build has no pthreads ---- */
void kn_threads_set(int n);   /* 1..KN_MAX_THREADS; the pool starts lazily */
int kn_threads_get(void);
#define KN_MAX_THREADS 8
/* Calls fn(arg, begin, end) over [0, n) split into contiguous chunks, one per thread; returns when
   all are done. fn must write disjoint outputs per index. While another thread has the pool, the
   whole range runs on the calling thread. */
void kn_parallel_for(int n, void (*fn)(void *arg, int begin, int end), void *arg);
/* 0 on the calling thread, 1..KN_MAX_THREADS-1 on the pool's workers: picks a per-thread scratch slot. */
int kn_thread_index(void);

/* ---- linear layers (gemm.c) ---- */
/* A weight matrix (n_out, k_in) as PyTorch stores it, repacked once at load for the GEMM kernel. */
typedef struct {
    int n_out, k_in;
    float *packed;   /* layout private to gemm.c */
} kn_matrix;
int kn_matrix_init(kn_matrix *m, const float *w, int n_out, int k_in); /* 0, or -1 when out of memory */
void kn_matrix_free(kn_matrix *m);
/* y (M, n_out) = x (M, k_in) @ W^T + bias; bias may be NULL. */
void kn_linear(float *y, const float *x, const kn_matrix *w, const float *bias, int M);
void kn_linear_ref(float *y, const float *x, const float *w, const float *bias, int M, int K, int N);
/* kn_linear then kn_silu(y, y), or then resid (M, n_out) += gate (n_out,) * y (kn_add_gated; kn_add
   when gate is NULL): the same operations, each row block finished while it is in cache and on the
   thread that computed it. */
void kn_linear_silu(float *y, const float *x, const kn_matrix *w, const float *bias, int M);
void kn_linear_residual(float *resid, float *y, const float *x, const kn_matrix *w, const float *bias,
                        const float *gate, int M);

/* ---- convolution (conv.c): 3x3, stride 1, zero padding 1, and 1x1; CHW layout ---- */
typedef struct {
    int c_out, c_in, k;   /* k = 1 or 3 */
    float *packed;
} kn_conv;
int kn_conv_init(kn_conv *c, const float *w, int c_out, int c_in, int k); /* w (c_out, c_in, k, k) */
void kn_conv_free(kn_conv *c);
/* y (c_out, H, W) = conv(x (c_in, H, W)) + bias. scratch: kn_conv_scratch_floats(c, H, W) floats. */
size_t kn_conv_scratch_floats(const kn_conv *c, int H, int W);
void kn_conv2d(float *y, const float *x, const kn_conv *c, const float *bias, int H, int W, float *scratch);
void kn_conv2d_ref(float *y, const float *x, const float *w, const float *bias,
                   int c_out, int c_in, int k, int H, int W);

/* ---- normalisation (norm.c) ---- */
/* Per row of x (M, D): (x - mean) / sqrt(var + eps) * gamma + beta; gamma/beta may be NULL. */
void kn_layer_norm(float *y, const float *x, const float *gamma, const float *beta, int M, int D, float eps);
void kn_layer_norm_ref(float *y, const float *x, const float *gamma, const float *beta, int M, int D, float eps);
/* x (C, HW) in groups of C/groups channels; then SiLU when silu != 0. */
void kn_group_norm(float *y, const float *x, const float *gamma, const float *beta,
                   int C, int HW, int groups, float eps, int silu);
void kn_group_norm_ref(float *y, const float *x, const float *gamma, const float *beta,
                       int C, int HW, int groups, float eps, int silu);
/* kn_layer_norm without gamma/beta, then adaLN's y = y * (1 + scale) + shift, in one pass over each
   row; shift and scale (D,) shared by all rows. kn_modulate_ref is the second step alone. */
void kn_layer_norm_modulate(float *y, const float *x, const float *shift, const float *scale, int M, int D,
                            float eps);
void kn_modulate_ref(float *y, const float *x, const float *shift, const float *scale, int M, int D);

/* ---- attention (attention.c) ---- */
/* Multi-head softmax attention for one group of n queries over m keys:
   out[i, h*hd:(h+1)*hd] = softmax_j(q_i . k_j / sqrt(hd)) v_j, per head h.
   Row i of q starts at q + i*q_stride (likewise k, v, out), so q/k/v may sit inside a fused qkv
   buffer. scratch: kn_attention_scratch_floats(n, m, hd) floats, for this call alone. */
size_t kn_attention_scratch_floats(int n, int m, int hd);
void kn_attention(float *out, int out_stride, const float *q, int q_stride, const float *k, int k_stride,
                  const float *v, int v_stride, int n, int m, int heads, int hd, float *scratch);
void kn_attention_ref(float *out, int out_stride, const float *q, int q_stride, const float *k, int k_stride,
                      const float *v, int v_stride, int n, int m, int heads, int hd);

/* ---- element-wise (activations.c) ---- */
void kn_silu(float *y, const float *x, size_t n);          /* x * sigmoid(x); y may equal x */
void kn_silu_ref(float *y, const float *x, size_t n);
void kn_softmax(float *x, int n);                          /* in place, one row */
void kn_softmax_ref(float *x, int n);
void kn_add(float *y, const float *x, size_t n);           /* y += x */
/* y (M, D) += gate (D,) * x (M, D) */
void kn_add_gated(float *y, const float *x, const float *gate, int M, int D);
/* (C, H, W) -> (C, 2H, 2W), nearest neighbour */
void kn_upsample2x(float *y, const float *x, int C, int H, int W);

#ifdef KN_DISPATCHING
/* The AVX2 twins of the entry points that dispatch (kernels_avx2.c, isa.h). */
void kn_linear_avx2(float *y, const float *x, const kn_matrix *w, const float *bias, int M);
void kn_linear_silu_avx2(float *y, const float *x, const kn_matrix *w, const float *bias, int M);
void kn_linear_residual_avx2(float *resid, float *y, const float *x, const kn_matrix *w, const float *bias,
                             const float *gate, int M);
void kn_conv2d_avx2(float *y, const float *x, const kn_conv *c, const float *bias, int H, int W, float *scratch);
void kn_layer_norm_avx2(float *y, const float *x, const float *gamma, const float *beta, int M, int D, float eps);
void kn_group_norm_avx2(float *y, const float *x, const float *gamma, const float *beta,
                        int C, int HW, int groups, float eps, int silu);
void kn_layer_norm_modulate_avx2(float *y, const float *x, const float *shift, const float *scale, int M, int D,
                                 float eps);
void kn_attention_avx2(float *out, int out_stride, const float *q, int q_stride, const float *k, int k_stride,
                       const float *v, int v_stride, int n, int m, int heads, int hd, float *scratch);
void kn_silu_avx2(float *y, const float *x, size_t n);
void kn_softmax_avx2(float *x, int n);
void kn_add_avx2(float *y, const float *x, size_t n);
void kn_add_gated_avx2(float *y, const float *x, const float *gate, int M, int D);
#endif

#endif
