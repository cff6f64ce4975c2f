// Elementwise kernels with transcendental functions: the activations (exp, tanh, sigmoid,
// GELU), softmax's shifted exponentials, the per-row arithmetic of the recurrent cells
// (forward and backward), and attention's small products. Written once on 16-lane GCC vector types and compiled for
// AVX-512, AVX2 + FMA and baseline x86-64, picked at run time by `sequent_cpu_level`.
//
// The functions are the Cephes single-precision algorithms of `VectorMath` (Swift), which
// stays as their readable reference and is what the tests compare against. On FMA levels
// the compiler fuses each a * b + c (-ffp-contract=on), so the last bit of a result may
// differ between levels, never between runs or thread counts on one level.
#include "CSequentKernels.h"
#include <stdlib.h>
#include <string.h>

typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));
#define INLINE static inline __attribute__((always_inline))
enum { LANES = 16 };

// Each level's functions, from one source (see ActivationKernels.h).
#if defined(__x86_64__)
#define L(name) name##_avx512
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"))), apply_to = function)
#include "ActivationKernels.h"
#pragma clang attribute pop
#undef L
#define L(name) name##_avx2
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "ActivationKernels.h"
#pragma clang attribute pop
#undef L
#else
#define L(name) name##_avx512
#include "ActivationKernels.h"
#undef L
#define L(name) name##_avx2
#include "ActivationKernels.h"
#undef L
#endif
#define L(name) name##_baseline
#include "ActivationKernels.h"
#undef L

// The exported kernels: each picks its level's version.
void sequent_activation(const float *x, float *y, long n, float shift, int kind) {
    switch (sequent_cpu_level()) {
    case SEQUENT_CPU_BASELINE: sequent_activation_baseline(x, y, n, shift, kind); break;
    case SEQUENT_CPU_AVX2: sequent_activation_avx2(x, y, n, shift, kind); break;
    default: sequent_activation_avx512(x, y, n, shift, kind); break;
    }
}

void sequent_biased_activation(float *x, const float *bias, long n, int kind) {
    switch (sequent_cpu_level()) {
    case SEQUENT_CPU_BASELINE: sequent_biased_activation_baseline(x, bias, n, kind); break;
    case SEQUENT_CPU_AVX2: sequent_biased_activation_avx2(x, bias, n, kind); break;
    default: sequent_biased_activation_avx512(x, bias, n, kind); break;
    }
}

void sequent_gelu_backward(const float *g, const float *x, float *out, long n) {
    switch (sequent_cpu_level()) {
    case SEQUENT_CPU_BASELINE: sequent_gelu_backward_baseline(g, x, out, n); break;
    case SEQUENT_CPU_AVX2: sequent_gelu_backward_avx2(g, x, out, n); break;
    default: sequent_gelu_backward_avx512(g, x, out, n); break;
    }
}

void sequent_rnn_forward(const SequentRecurrentRow *row, long hidden, int relu) {
    switch (sequent_cpu_level()) {
    case SEQUENT_CPU_BASELINE: sequent_rnn_forward_baseline(row, hidden, relu); break;
    case SEQUENT_CPU_AVX2: sequent_rnn_forward_avx2(row, hidden, relu); break;
    default: sequent_rnn_forward_avx512(row, hidden, relu); break;
    }
}

void sequent_rnn_backward(const SequentRecurrentGradientRow *row, long hidden, int relu) {
    switch (sequent_cpu_level()) {
    case SEQUENT_CPU_BASELINE: sequent_rnn_backward_baseline(row, hidden, relu); break;
    case SEQUENT_CPU_AVX2: sequent_rnn_backward_avx2(row, hidden, relu); break;
    default: sequent_rnn_backward_avx512(row, hidden, relu); break;
    }
}

void sequent_lstm_forward(const SequentRecurrentRow *row, long hidden) {
    switch (sequent_cpu_level()) {
    case SEQUENT_CPU_BASELINE: sequent_lstm_forward_baseline(row, hidden); break;
    case SEQUENT_CPU_AVX2: sequent_lstm_forward_avx2(row, hidden); break;
    default: sequent_lstm_forward_avx512(row, hidden); break;
    }
}

void sequent_lstm_backward(const SequentRecurrentGradientRow *row, long hidden) {
    switch (sequent_cpu_level()) {
    case SEQUENT_CPU_BASELINE: sequent_lstm_backward_baseline(row, hidden); break;
    case SEQUENT_CPU_AVX2: sequent_lstm_backward_avx2(row, hidden); break;
    default: sequent_lstm_backward_avx512(row, hidden); break;
    }
}

void sequent_gru_forward(const SequentRecurrentRow *row, long hidden) {
    switch (sequent_cpu_level()) {
    case SEQUENT_CPU_BASELINE: sequent_gru_forward_baseline(row, hidden); break;
    case SEQUENT_CPU_AVX2: sequent_gru_forward_avx2(row, hidden); break;
    default: sequent_gru_forward_avx512(row, hidden); break;
    }
}

void sequent_gru_backward(const SequentRecurrentGradientRow *row, long hidden) {
    switch (sequent_cpu_level()) {
    case SEQUENT_CPU_BASELINE: sequent_gru_backward_baseline(row, hidden); break;
    case SEQUENT_CPU_AVX2: sequent_gru_backward_avx2(row, hidden); break;
    default: sequent_gru_backward_avx512(row, hidden); break;
    }
}

void sequent_multiply_add(long m, long n, long k, const float *a, long lda, int transpose_a,
                          const float *b, long ldb, float *c, long ldc, int accumulating) {
    switch (sequent_cpu_level()) {
    case SEQUENT_CPU_BASELINE: sequent_multiply_add_baseline(m, n, k, a, lda, transpose_a, b, ldb, c, ldc, accumulating); break;
    case SEQUENT_CPU_AVX2: sequent_multiply_add_avx2(m, n, k, a, lda, transpose_a, b, ldb, c, ldc, accumulating); break;
    default: sequent_multiply_add_avx512(m, n, k, a, lda, transpose_a, b, ldb, c, ldc, accumulating); break;
    }
}

float sequent_dot(const float *x, const float *y, long n) {
    switch (sequent_cpu_level()) {
    case SEQUENT_CPU_BASELINE: return sequent_dot_baseline(x, y, n);
    case SEQUENT_CPU_AVX2: return sequent_dot_avx2(x, y, n);
    default: return sequent_dot_avx512(x, y, n);
    }
}

void sequent_bfloat16_round(const float *x, uint16_t *out, long n) {
    switch (sequent_cpu_level()) {
    case SEQUENT_CPU_BASELINE: sequent_bfloat16_round_baseline(x, out, n); break;
    case SEQUENT_CPU_AVX2: sequent_bfloat16_round_avx2(x, out, n); break;
    default: sequent_bfloat16_round_avx512(x, out, n); break;
    }
}
