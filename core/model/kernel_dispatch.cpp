// Picks the kernel variant (AVX2+FMA or baseline) once, from what this CPU supports.
#include "model/cpu_kernels.h"

namespace plateau::attn {

const KernelSet& kernels() {
    static const KernelSet k = [] {
#if defined(__x86_64__) && defined(__GNUC__)
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            return KernelSet{avx2::forward, avx2::backward};
#endif
        return KernelSet{baseline::forward, baseline::backward};
    }();
    return k;
}

}  // namespace plateau::attn
