// Matrix-vector products on row-block-packed weights (layout in CSequentKernels.h): the
// batch-1 step of streaming inference, bound by how fast the weights stream from cache.
//
// Four row blocks are summed at a time, with two accumulators each (even and odd columns
// or pairs), so that eight independent sums hide the FMA latency while every load is a
// whole 64-byte line. The kernels are written once on GCC vector types and compiled three
// times, for AVX-512, for AVX2 + FMA and for baseline x86-64 (one zmm, two ymm or four xmm
// instructions per 16 lanes); `sequent_cpu_level` (CPU.c) picks one at run time. The
// AVX512-BF16 dot-product kernel runs where the CPU has it and the level allows it.
//
// Not AMX: its speed on this product varied several-fold from process to process on a
// shared host, and picking the kernel by timing it would make the sums (which round
// differently) depend on the host's load (docs/performance.md).
#include "CSequentKernels.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <string.h>

typedef float v16f __attribute__((vector_size(64)));
typedef uint32_t v16u __attribute__((vector_size(64)));

enum { LANES = 16, GROUP = 4 };

// The sums of `group` consecutive row blocks starting at `w`, over `depth` columns
// (Float) or column pairs (bfloat16). Inlined with a constant group, so that the sums stay
// in registers.
typedef void BlockSums(const void *w, int depth, const void *x, v16f *sums, int group);

#define INLINE static inline __attribute__((always_inline))

INLINE v16f load(const void *p) {
    v16f v;
    memcpy(&v, p, sizeof v);
    return v;
}

INLINE v16f float_bits(v16u bits) {
    v16f v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

INLINE float scalar_float_bits(uint32_t bits) {
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

// y[0 ..< count] (+)= the block's sums (count < 16 for a matrix's partial last block).
INLINE void store_block(v16f sums, float *y, int count, int accumulate) {
    float lanes[LANES];
    memcpy(lanes, &sums, sizeof lanes);
    for (int i = 0; i < count; i++) y[i] = accumulate ? y[i] + lanes[i] : lanes[i];
}

// The one driver: groups of blocks, then the blocks left over, each stored as it is summed;
// with `descending`, the same steps in reverse order (the same sums, bit for bit).
INLINE void matvec(BlockSums *block_sums, const char *w, size_t block_bytes, int rows, int depth,
                   const void *x, float *y, int accumulate, int descending) {
    const int blocks = (rows + LANES - 1) / LANES;
    const int groups = blocks / GROUP, steps = groups + blocks % GROUP;
    v16f sums[GROUP];
    for (int step = 0; step < steps; step++) {
        const int index = descending ? steps - 1 - step : step;
        const int group = index < groups ? GROUP : 1;
        const int b = index < groups ? index * GROUP : groups * GROUP + (index - groups);
        if (group == GROUP) {
            block_sums(w + b * block_bytes, depth, x, sums, GROUP);
        } else {
            block_sums(w + b * block_bytes, depth, x, sums, 1);
        }
        for (int i = 0; i < group; i++) {
            const int first = (b + i) * LANES;
            store_block(sums[i], y + first, rows - first < LANES ? rows - first : LANES, accumulate);
        }
    }
}

// Float: sums[i] = sum_k block_i[k] x[k], even and odd columns in separate accumulators.
INLINE void f32_block_sums(const void *weights, int columns, const void *input, v16f *sums, const int group) {
    const float *w = weights, *x = input;
    const size_t stride = (size_t)columns * LANES;
    v16f even[GROUP], odd[GROUP];
    for (int i = 0; i < group; i++) even[i] = odd[i] = (v16f){0};
    int k = 0;
    for (; k + 2 <= columns; k += 2) {
        for (int i = 0; i < group; i++) {
            even[i] += load(w + i * stride + (size_t)k * LANES) * x[k];
            odd[i] += load(w + i * stride + (size_t)(k + 1) * LANES) * x[k + 1];
        }
    }
    for (; k < columns; k++) {
        for (int i = 0; i < group; i++) even[i] += load(w + i * stride + (size_t)k * LANES) * x[k];
    }
    for (int i = 0; i < group; i++) sums[i] = even[i] + odd[i];
}

// bfloat16 on shifts and FMAs: a pair's even weight is its low 16 bits moved up, the odd
// one its high 16 bits with the low ones cleared; the input pair splits the same way.
INLINE void bf16_shift_block_sums(const void *weights, int pairs, const void *input, v16f *sums, const int group) {
    const uint16_t *w = weights;
    const uint32_t *x_pairs = input;
    const size_t stride = (size_t)pairs * 2 * LANES;
    v16f even[GROUP], odd[GROUP];
    for (int i = 0; i < group; i++) even[i] = odd[i] = (v16f){0};
    for (int p = 0; p < pairs; p++) {
        const float x0 = scalar_float_bits(x_pairs[p] << 16), x1 = scalar_float_bits(x_pairs[p] & 0xFFFF0000u);
        for (int i = 0; i < group; i++) {
            v16u pair;
            memcpy(&pair, w + i * stride + (size_t)p * 2 * LANES, sizeof pair);
            even[i] += float_bits(pair << 16) * x0;
            odd[i] += float_bits(pair & 0xFFFF0000u) * x1;
        }
    }
    for (int i = 0; i < group; i++) sums[i] = even[i] + odd[i];
}

#if defined(__x86_64__)
#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
#define AVX2_TARGET __attribute__((target("avx2,fma")))
#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,avx512bf16")))

// bfloat16 on AVX512-BF16: one vdpbf16ps adds a pair's two products for 16 rows.
BF16_TARGET INLINE void bf16_dot_block_sums(const void *weights, int pairs, const void *input, v16f *sums, const int group) {
    const uint16_t *w = weights;
    const uint32_t *x_pairs = input;
    const size_t stride = (size_t)pairs * 2 * LANES;
    __m512 even[GROUP], odd[GROUP];
    for (int i = 0; i < group; i++) even[i] = odd[i] = _mm512_setzero_ps();
    int p = 0;
    for (; p + 2 <= pairs; p += 2) {
        const __m512bh x0 = (__m512bh)_mm512_set1_epi32((int)x_pairs[p]);
        const __m512bh x1 = (__m512bh)_mm512_set1_epi32((int)x_pairs[p + 1]);
        for (int i = 0; i < group; i++) {
            const uint16_t *block = w + i * stride + (size_t)p * 2 * LANES;
            even[i] = _mm512_dpbf16_ps(even[i], (__m512bh)_mm512_loadu_si512(block), x0);
            odd[i] = _mm512_dpbf16_ps(odd[i], (__m512bh)_mm512_loadu_si512(block + 2 * LANES), x1);
        }
    }
    if (p < pairs) {
        const __m512bh x0 = (__m512bh)_mm512_set1_epi32((int)x_pairs[p]);
        for (int i = 0; i < group; i++) {
            even[i] = _mm512_dpbf16_ps(even[i], (__m512bh)_mm512_loadu_si512(w + i * stride + (size_t)p * 2 * LANES), x0);
        }
    }
    for (int i = 0; i < group; i++) sums[i] = (v16f)_mm512_add_ps(even[i], odd[i]);
}

BF16_TARGET static void matvec_bf16_dot(const uint16_t *w, int rows, int pairs, const uint32_t *x_pairs, float *y, int accumulate, int descending) {
    matvec(bf16_dot_block_sums, (const char *)w, (size_t)pairs * 2 * LANES * sizeof *w, rows, pairs, x_pairs, y, accumulate, descending);
}
#else
#define AVX512_TARGET
#define AVX2_TARGET
#endif

// One kernel body, three instruction sets: NAME_avx512, NAME_avx2, NAME_baseline.
#define DISPATCHED(NAME, PARAMS, ...)                           \
    AVX512_TARGET static void NAME##_avx512 PARAMS __VA_ARGS__  \
    AVX2_TARGET static void NAME##_avx2 PARAMS __VA_ARGS__      \
    static void NAME##_baseline PARAMS __VA_ARGS__

DISPATCHED(matvec_f32, (const float *w, int rows, int columns, const float *x, float *y, int accumulate, int descending), {
    matvec(f32_block_sums, (const char *)w, (size_t)columns * LANES * sizeof *w, rows, columns, x, y, accumulate, descending);
})

DISPATCHED(matvec_bf16_shift, (const uint16_t *w, int rows, int pairs, const uint32_t *x_pairs, float *y, int accumulate, int descending), {
    matvec(bf16_shift_block_sums, (const char *)w, (size_t)pairs * 2 * LANES * sizeof *w, rows, pairs, x_pairs, y, accumulate, descending);
})

void sequent_matvec_bf16_portable(const uint16_t *w, int rows, int pairs, const uint32_t *x_pairs, float *y, int accumulate, int descending) {
    switch (sequent_cpu_level()) {
    case SEQUENT_CPU_BASELINE: matvec_bf16_shift_baseline(w, rows, pairs, x_pairs, y, accumulate, descending); break;
    case SEQUENT_CPU_AVX2: matvec_bf16_shift_avx2(w, rows, pairs, x_pairs, y, accumulate, descending); break;
    default: matvec_bf16_shift_avx512(w, rows, pairs, x_pairs, y, accumulate, descending); break;
    }
}

void sequent_matvec_f32(const float *w, int rows, int columns, const float *x, float *y, int accumulate, int descending) {
    switch (sequent_cpu_level()) {
    case SEQUENT_CPU_BASELINE: matvec_f32_baseline(w, rows, columns, x, y, accumulate, descending); break;
    case SEQUENT_CPU_AVX2: matvec_f32_avx2(w, rows, columns, x, y, accumulate, descending); break;
    default: matvec_f32_avx512(w, rows, columns, x, y, accumulate, descending); break;
    }
}

int sequent_matvec_bf16_uses_dot_product(void) {
    return sequent_cpu_level() >= SEQUENT_CPU_AVX512_BF16;
}

void sequent_matvec_bf16(const uint16_t *w, int rows, int pairs, const uint32_t *x_pairs, float *y, int accumulate, int descending) {
#if defined(__x86_64__)
    if (sequent_matvec_bf16_uses_dot_product()) {
        matvec_bf16_dot(w, rows, pairs, x_pairs, y, accumulate, descending);
        return;
    }
#endif
    sequent_matvec_bf16_portable(w, rows, pairs, x_pairs, y, accumulate, descending);
}
