// Plain-C++ element-wise and per-row kernels behind fused_layers.cpp: exact (erf) GELU and
// LayerNorm, forward and backward. Like the attention kernels (cpu_kernels.h) they hold no torch,
// are built twice (AVX2+FMA and baseline x86-64) and chosen at run time. Every function works on
// the range it is given and touches nothing else: any thread, any split.
#pragma once

#include <cstdint>

namespace plateau::pw {

// GELU(u) = u Phi(u) with the exact normal CDF, as torch::gelu's default. erf by Abramowitz &
// Stegun 7.1.26 (absolute error <= 1.5e-7, the approximation ATen's vectorised erf uses too).
// a[i] = GELU(u[i]).
using GeluForwardFn = void (*)(const float* u, float* a, std::int64_t n);
// gu[i] = ga[i] * GELU'(u[i]) (GELU'(u) = Phi(u) + u phi(u)) and, if a is not null, a[i] =
// GELU(u[i]) from the same erf (the backward recomputes the activation instead of keeping it).
using GeluBackwardFn = void (*)(const float* u, const float* ga, float* gu, float* a, std::int64_t n);

// The same for GELU's tanh form (GPT-2's, torch::gelu(x, "tanh")): 0.5 u (1 + tanh(y)),
// y = sqrt(2/pi) (u + 0.044715 u^3), tanh from the exp polynomial.
using GeluTanhForwardFn = GeluForwardFn;
using GeluTanhBackwardFn = GeluBackwardFn;

// LayerNorm over rows of width D: y = (x - mean) rstd gamma + beta, rstd = 1 / sqrt(var + eps)
// (biased variance, as torch::layer_norm). Keeps mean and rstd per row for the backward.
using NormForwardFn = void (*)(const float* x, const float* gamma, const float* beta, float eps,
                               std::int64_t rows, std::int64_t D, float* y, float* mean, float* rstd);
// gx = dL/dx for those rows; ggamma and gbeta are *added to* (callers give each thread its own
// accumulators and sum them in a fixed order, so results do not depend on scheduling).
using NormBackwardFn = void (*)(const float* x, const float* gamma, const float* mean, const float* rstd,
                                const float* gy, std::int64_t rows, std::int64_t D, float* gx,
                                float* ggamma, float* gbeta);

#define PLATEAU_PW_DECLS                                                                              \
    void geluForward(const float*, float*, std::int64_t);                                            \
    void geluBackward(const float*, const float*, float*, float*, std::int64_t);                     \
    void geluTanhForward(const float*, float*, std::int64_t);                                        \
    void geluTanhBackward(const float*, const float*, float*, float*, std::int64_t);                 \
    void normForward(const float*, const float*, const float*, float, std::int64_t, std::int64_t, float*, \
                     float*, float*);                                                                 \
    void normBackward(const float*, const float*, const float*, const float*, const float*, std::int64_t, \
                      std::int64_t, float*, float*, float*);
namespace avx2 { PLATEAU_PW_DECLS }
namespace baseline { PLATEAU_PW_DECLS }
#undef PLATEAU_PW_DECLS

struct KernelSet {
    GeluForwardFn geluForward;
    GeluBackwardFn geluBackward;
    GeluTanhForwardFn geluTanhForward;
    GeluTanhBackwardFn geluTanhBackward;
    NormForwardFn normForward;
    NormBackwardFn normBackward;
};
// The variant for this CPU (AVX2+FMA if present).
const KernelSet& kernels();

}  // namespace plateau::pw
