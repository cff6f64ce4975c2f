// Which instruction set Sequent's own kernels run on: decided once per process from the
// CPU (cpuid, through the compiler's __builtin_cpu_supports) and from SEQUENT_MAX_CPU_ISA,
// which can only lower it, as ONEDNN_MAX_CPU_ISA does for oneDNN.
#include "CSequentKernels.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

// The level the CPU itself offers.
static int detected_level(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return SEQUENT_CPU_BASELINE;
    if (!(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
          && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))) return SEQUENT_CPU_AVX2;
    if (!__builtin_cpu_supports("avx512bf16")) return SEQUENT_CPU_AVX512;
    return SEQUENT_CPU_AVX512_BF16;
#else
    return SEQUENT_CPU_BASELINE;
#endif
}

int sequent_cpu_level_for_name(const char *name) {
    if (name == NULL || name[0] == 0) return -1;
    char lower[32];
    size_t n = 0;
    for (; name[n] != 0 && n + 1 < sizeof lower; n++) lower[n] = (char)tolower((unsigned char)name[n]);
    lower[n] = 0;
    if (name[n] != 0) return -1;
    // oneDNN's names are accepted too (ONEDNN_MAX_CPU_ISA's values, lower-cased).
    static const struct { const char *name; int level; } names[] = {
        {"baseline", SEQUENT_CPU_BASELINE}, {"sse2", SEQUENT_CPU_BASELINE}, {"sse41", SEQUENT_CPU_BASELINE},
        {"avx", SEQUENT_CPU_BASELINE}, {"avx2", SEQUENT_CPU_AVX2}, {"avx2_vnni", SEQUENT_CPU_AVX2},
        {"avx512", SEQUENT_CPU_AVX512}, {"avx512_core", SEQUENT_CPU_AVX512}, {"avx512_core_vnni", SEQUENT_CPU_AVX512},
        {"avx512_bf16", SEQUENT_CPU_AVX512_BF16}, {"avx512_core_bf16", SEQUENT_CPU_AVX512_BF16},
        {"avx512_core_amx", SEQUENT_CPU_AVX512_BF16}, {"all", SEQUENT_CPU_AVX512_BF16},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(lower, names[i].name) == 0) return names[i].level;
    }
    return -1;
}

int sequent_cpu_detected_level(void) {
    static int known = -1;  // threads racing here compute the same value
    int level = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (level < 0) {
        level = detected_level();
        __atomic_store_n(&known, level, __ATOMIC_RELAXED);
    }
    return level;
}

int sequent_cpu_level(void) {
    static int known = -1;
    int level = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (level < 0) {
        level = sequent_cpu_detected_level();
        const int limit = sequent_cpu_level_for_name(getenv("SEQUENT_MAX_CPU_ISA"));
        if (limit >= 0 && limit < level) level = limit;  // an unknown name limits nothing; `sequent info` says so
        __atomic_store_n(&known, level, __ATOMIC_RELAXED);
    }
    return level;
}

int sequent_cpu_supports(const char *feature) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    // __builtin_cpu_supports needs a literal: the features `sequent info` lists.
#define FEATURE(NAME) if (strcmp(feature, NAME) == 0) return __builtin_cpu_supports(NAME) != 0;
    FEATURE("sse4.2") FEATURE("avx") FEATURE("avx2") FEATURE("fma") FEATURE("f16c")
    FEATURE("avx512f") FEATURE("avx512bw") FEATURE("avx512dq") FEATURE("avx512vl") FEATURE("avx512vnni")
    FEATURE("avx512bf16") FEATURE("avx512fp16") FEATURE("amx-tile") FEATURE("amx-bf16") FEATURE("amx-int8")
#undef FEATURE
#endif
    (void)feature;
    return 0;
}
