// Picks the kernel variants (AVX2+FMA or baseline) once, from what this CPU supports.
#include "model/cpu_kernels.h"
#include "model/pointwise_kernels.h"

namespace plateau {
namespace {
bool hasAvx2Fma() {
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
}
}  // namespace

namespace attn {
const KernelSet& kernels() {
    static const KernelSet k =
        hasAvx2Fma() ? KernelSet{avx2::forward, avx2::backward, avx2::softmaxRows, avx2::softmaxGradRows}
                     : KernelSet{baseline::forward, baseline::backward, baseline::softmaxRows, baseline::softmaxGradRows};
    return k;
}
}  // namespace attn

namespace pw {
const KernelSet& kernels() {
    static const KernelSet k =
        hasAvx2Fma() ? KernelSet{avx2::geluForward, avx2::geluBackward, avx2::geluTanhForward,
                                 avx2::geluTanhBackward, avx2::normForward, avx2::normBackward}
                     : KernelSet{baseline::geluForward, baseline::geluBackward, baseline::geluTanhForward,
                                 baseline::geluTanhBackward, baseline::normForward, baseline::normBackward};
    return k;
}
}  // namespace pw

}  // namespace plateau
