// Inverted-dropout masks from a counter-based hash (DropoutKernels.swift keeps the Swift
// reference and says why the mask is a hash of the index). x, out are (count).
//
// One body, compiled for AVX-512, AVX2 and baseline x86-64 and picked at run time by
// `sequent_cpu_level` (CPUID, lowered by SEQUENT_MAX_CPU_ISA), never by the compiler's host:
// baseline x86-64 has no 32-bit lane multiply (pmulld is SSE4.1), so there the hash's three
// multiplies are emulated with 64-bit ones. Every operation is an exact integer operation or
// one Float multiply, so every level gives the same bits.
#include "CSequentKernels.h"

#define INLINE static inline __attribute__((always_inline))

// The murmur3 32-bit finalizer: a bijection that spreads every input bit over every output bit.
INLINE uint32_t mix(uint32_t h) {
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}

INLINE void dropout_body(const float *x, float *out, long count, uint32_t threshold, float scale, uint64_t key,
                         uint32_t index_offset) {
    const uint32_t key_low = (uint32_t)key, key_high = (uint32_t)(key >> 32);
#pragma clang loop vectorize(enable) interleave(enable)
    for (long i = 0; i < count; i++) {
        const uint32_t index = index_offset + (uint32_t)i;
        const uint32_t bits = mix(mix(index * 0x9E3779B9u ^ key_low) ^ key_high) >> 8;
        out[i] = x[i] * (bits < threshold ? 0.0f : scale);
    }
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
static void dropout_avx512(const float *x, float *out, long count, uint32_t threshold, float scale, uint64_t key, uint32_t offset) {
    dropout_body(x, out, count, threshold, scale, key, offset);
}
__attribute__((target("avx2,fma")))
static void dropout_avx2(const float *x, float *out, long count, uint32_t threshold, float scale, uint64_t key, uint32_t offset) {
    dropout_body(x, out, count, threshold, scale, key, offset);
}
#endif
static void dropout_baseline(const float *x, float *out, long count, uint32_t threshold, float scale, uint64_t key, uint32_t offset) {
    dropout_body(x, out, count, threshold, scale, key, offset);
}

void sequent_dropout_at_level(int level, const float *x, float *out, long count, uint32_t threshold, float scale,
                              uint64_t key, uint32_t index_offset) {
#if defined(__x86_64__)
    if (level >= SEQUENT_CPU_AVX512) { dropout_avx512(x, out, count, threshold, scale, key, index_offset); return; }
    if (level == SEQUENT_CPU_AVX2) { dropout_avx2(x, out, count, threshold, scale, key, index_offset); return; }
#endif
    (void)level;
    dropout_baseline(x, out, count, threshold, scale, key, index_offset);
}

void sequent_dropout(const float *x, float *out, long count, uint32_t threshold, float scale, uint64_t key,
                     uint32_t index_offset) {
    sequent_dropout_at_level(sequent_cpu_level(), x, out, count, threshold, scale, key, index_offset);
}
