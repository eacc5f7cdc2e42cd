// Prints the best engine variant the building machine's CPU runs (configure-time probe for
// FASTMLP_VARIANTS=auto). The feature sets are those of cpu_features() in bindings/module.cpp,
// which picks the variant at import time: x86-64-v3 (avx2) and x86-64-v4 (avx512).
#include <cstdio>

int main() {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("f16c");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
                      __builtin_cpu_supports("avx512cd");
  std::puts(avx512 ? "avx512" : avx2 ? "avx2" : "generic");
#else
  std::puts("generic");
#endif
  return 0;
}
