// Vectorisable float math for the plain-C++ kernels (cpu_kernels.cpp, pointwise_kernels.cpp):
// inline, no libm calls, so loops under `omp simd` keep whole vector registers.
#pragma once

#include <cstdint>
#include <cstring>

// In an unnamed namespace on purpose: the kernel files are compiled once with AVX2 and once
// without, and each copy must keep its own code (one shared inline definition could hand the
// baseline build AVX2 instructions).
namespace plateau::simd {
namespace {

// exp(x) for x <= 0 (softmax after subtracting the row max, exp(-z^2) in erf): x = n ln2 + r with
// |r| <= ln2/2, e^r by its degree-7 Taylor polynomial (relative error < 1e-8, below float
// precision), 2^n assembled in the exponent bits. Inputs below -80 give e^-80 (1.8e-35): the
// result and anything multiplied by it stay clear of denormals, which cost ~100x per operation.
inline float expNonPositive(float x) {
    x = x < -80.0f ? -80.0f : x;
    const float n = __builtin_floorf(x * 1.44269504088896341f + 0.5f);
    const float r = (x - n * 0.693145751953125f) - n * 1.42860682030941723e-6f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const std::int32_t bits = (std::int32_t(n) + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

}  // namespace
}  // namespace plateau::simd
