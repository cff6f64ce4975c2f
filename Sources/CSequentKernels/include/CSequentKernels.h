// The kernels Sequent writes in C: those that need wide vectors or instructions Swift cannot
// name (AVX512-BF16's dot product). Each is compiled for several instruction sets and picked
// at run time by `sequent_cpu_level`, so that one build runs on every x86-64 CPU.
#ifndef SEQUENT_C_KERNELS_H
#define SEQUENT_C_KERNELS_H
#include <stdint.h>

// The instruction sets Sequent's kernels are compiled for, in increasing order.
enum {
    SEQUENT_CPU_BASELINE = 0,     // x86-64 (SSE2), or any other architecture
    SEQUENT_CPU_AVX2 = 1,         // AVX2 + FMA
    SEQUENT_CPU_AVX512 = 2,       // AVX-512 F, BW, DQ, VL
    SEQUENT_CPU_AVX512_BF16 = 3,  // and AVX512-BF16's dot product
};

/// The level the kernels run at: what the CPU offers, lowered by the environment variable
/// SEQUENT_MAX_CPU_ISA (baseline, avx2, avx512_core, avx512_core_bf16 or all; oneDNN's
/// names for ONEDNN_MAX_CPU_ISA work too). Decided at the first call.
int sequent_cpu_level(void);
/// The level the CPU offers, whatever SEQUENT_MAX_CPU_ISA says.
int sequent_cpu_detected_level(void);
/// The level an ISA name stands for, or -1 for an unknown name.
int sequent_cpu_level_for_name(const char *name);
/// Whether the CPU has `feature` (a name of GCC's __builtin_cpu_supports: "avx2",
/// "avx512bf16", "amx-tile", ...); 0 for names it does not list.
int sequent_cpu_supports(const char *feature);

// Matrix-vector products y (+)= W x on a matrix packed for them once ("row blocks"):
// rows in blocks of 16, each block stored column after column, so that one 64-byte load
// holds 16 rows' weights for the same input. Float: block b, column k at
// (b * columns + k) * 16. bfloat16: columns in pairs (k even, k + 1), block b, pair p at
// (b * pairs + p) * 32, the 16 rows' (w[r][2p], w[r][2p + 1]) interleaved, as AVX512-BF16's
// dot product reads them. Blocks past the matrix's last row are padding.
//
// Each call computes `rows` outputs from the first row of `w` (a block boundary) on the
// calling thread; accumulate != 0 adds to y instead of overwriting it. descending != 0 reads
// the blocks from the last to the first, with the same results: a stream of matrices larger
// than the cache, read in alternating directions, finds the most recently read part of the
// last pass still cached instead of evicting every line before its next use.

/// Float weights: y[r] (+)= sum_k w[r][k] x[k] for r < rows.
void sequent_matvec_f32(const float *w, int rows, int columns, const float *x, float *y, int accumulate, int descending);

/// bfloat16 weights and input: y[r] (+)= sum_p w[r][2p] x[2p] + w[r][2p+1] x[2p+1], summed
/// in Float. `x_pairs` holds x rounded to bfloat16, two per 32 bits (even element in the
/// low half), zero-padded to `pairs` pairs.
void sequent_matvec_bf16(const uint16_t *w, int rows, int pairs, const uint32_t *x_pairs, float *y, int accumulate, int descending);

/// Whether sequent_matvec_bf16 runs on AVX512-BF16's dot product (else on shifts and FMAs).
int sequent_matvec_bf16_uses_dot_product(void);

/// sequent_matvec_bf16 on shifts and FMAs whatever the CPU, so that tests check it too.
void sequent_matvec_bf16_portable(const uint16_t *w, int rows, int pairs, const uint32_t *x_pairs, float *y, int accumulate, int descending);

// ---- Activations (Activations.c) ----

enum {
    SEQUENT_ACTIVATION_EXP = 0,
    SEQUENT_ACTIVATION_TANH = 1,
    SEQUENT_ACTIVATION_SIGMOID = 2,
    SEQUENT_ACTIVATION_GELU = 3,  // x Phi(x), the exact GELU
    SEQUENT_ACTIVATION_RELU = 4,
};

/// y[i] = f(x[i] - shift) for i < n (shift 0 for a plain activation; a row's maximum for
/// softmax's exponentials). x and y may be the same buffer.
void sequent_activation(const float *x, float *y, long n, float shift, int kind);
/// x[i] = f(x[i] + bias[i]) for i < n: a biased pre-activation, in place.
void sequent_biased_activation(float *x, const float *bias, long n, int kind);
/// out[i] = g[i] * GELU'(x[i]) for i < n.
void sequent_gelu_backward(const float *g, const float *x, float *out, long n);

// ---- Recurrent cells: one batch row at one time step (RecurrentCellKernels.swift) ----

/// The pointers of one row for the forward step (G = gate count * H).
typedef struct {
    float *gates;             // (G*H) in: x W_ih^T; out: the activated gates
    const float *recurrent;   // (G*H) h_prev W_hh^T
    const float *bias_ih;     // (G*H) or NULL
    const float *bias_hh;     // (G*H) or NULL
    const float *h_prev;      // (H)
    const float *c_prev;      // (H) LSTM
    float *h_new;             // (H)
    float *c_new;             // (H) LSTM
    float *extra;             // (H) GRU: W_hn h_prev + b_hn
} SequentRecurrentRow;

/// The pointers of one row for the backward step.
typedef struct {
    float *gates;             // in: the activated gates; out: their pre-activation gradients
    const float *h_prev;      // (H)
    const float *c_prev;      // (H) LSTM
    const float *c_new;       // (H) LSTM
    float *extra;             // (H) GRU: in W_hn h + b_hn; out its gradient
    const float *dh;          // (H) dLoss/dh_t in total
    float *dc;                // (H) LSTM: dLoss/dc_t in, dLoss/dc_{t-1} out
    float *dh_prev_direct;    // (H) the part of dLoss/dh_{t-1} not through W_hh
} SequentRecurrentGradientRow;

void sequent_rnn_forward(const SequentRecurrentRow *row, long hidden, int relu);
void sequent_rnn_backward(const SequentRecurrentGradientRow *row, long hidden, int relu);
void sequent_lstm_forward(const SequentRecurrentRow *row, long hidden);
void sequent_lstm_backward(const SequentRecurrentGradientRow *row, long hidden);
void sequent_gru_forward(const SequentRecurrentRow *row, long hidden);
void sequent_gru_backward(const SequentRecurrentGradientRow *row, long hidden);

// ---- Attention's small products (AttentionKernels.swift) ----

/// c (m, n) (+)= op(a) (m, k) b (k, n): a at row stride lda, or stored (k, m) when
/// transpose_a != 0; b and c row-major at strides ldb and ldc; accumulating == 0 overwrites c.
void sequent_multiply_add(long m, long n, long k, const float *a, long lda, int transpose_a,
                          const float *b, long ldb, float *c, long ldc, int accumulating);
/// x . y over n contiguous scalars.
float sequent_dot(const float *x, const float *y, long n);

/// out[i] = the bfloat16 nearest to x[i] (ties to even) as its 16 bits, NaN kept NaN.
void sequent_bfloat16_round(const float *x, uint16_t *out, long n);

// ---- Dropout (Dropout.c; the reference is DropoutKernels.swift) ----

/// out[i] = x[i] * (u_i < threshold ? 0 : scale) for i < count, with
/// u_i = mix(mix(j * 0x9E3779B9 ^ low32(key)) ^ high32(key)) >> 8 and j = index_offset + i
/// (mod 2^32), mix the murmur3 finalizer. The same bits at every level. x and out may be
/// the same buffer.
void sequent_dropout(const float *x, float *out, long count, uint32_t threshold, float scale, uint64_t key,
                     uint32_t index_offset);
/// sequent_dropout compiled for `level` (at most the CPU's), so that tests check every level.
void sequent_dropout_at_level(int level, const float *x, float *out, long count, uint32_t threshold, float scale,
                              uint64_t key, uint32_t index_offset);

#endif
