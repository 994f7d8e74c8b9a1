// Compiled twice with cpu_kernels.cpp (see core/CMakeLists.txt): PLATEAU_ATTN_NS is avx2 (with
// -mavx2 -mfma) or baseline. Loops are written so the compiler vectorises them (omp simd, no
// calls into libm: erf and exp are polynomials here).
#include "model/pointwise_kernels.h"
#include "model/simd_math.h"

#include <cmath>
#include <cstring>

#ifndef PLATEAU_ATTN_NS
#error "define PLATEAU_ATTN_NS"
#endif

namespace plateau::pw::PLATEAU_ATTN_NS {
namespace {

using simd::expNonPositive;

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;

// Phi(u) (the normal CDF) and exp(-u^2 / 2). With z = |u| / sqrt(2), A&S 7.1.26 gives
// 1 - erf(z) = q = t (a1 + t (a2 + ...)) exp(-z^2), t = 1 / (1 + p z); Phi = q / 2 below zero
// (no cancellation in the tail) and 1 - q / 2 above.
inline void normalCdf(float u, float& cdf, float& gauss) {
    const float z = __builtin_fabsf(u) * kInvSqrt2;
    const float t = 1.0f / (1.0f + 0.3275911f * z);
    float poly = 1.061405429f;
    poly = poly * t - 1.453152027f;
    poly = poly * t + 1.421413741f;
    poly = poly * t - 0.284496736f;
    poly = poly * t + 0.254829592f;
    gauss = expNonPositive(-z * z);
    const float half = 0.5f * poly * t * gauss;
    cdf = u < 0.0f ? half : 1.0f - half;
}

constexpr float kSqrt2OverPi = 0.79788456080286536f;
constexpr float kTanhCubic = 0.044715f;

// tanh(y) = sign(y) (1 - e) / (1 + e), e = exp(-2 |y|) <= 1: no overflow, no cancellation for
// large |y| (e -> 0); near 0 the relative error of 1 - e is ~1e-7 absolute, below GELU's scale.
inline float tanhOf(float y) {
    const float e = expNonPositive(-2.0f * __builtin_fabsf(y));
    const float t = (1.0f - e) / (1.0f + e);
    return y < 0.0f ? -t : t;
}

// GELU(u) and GELU'(u) in the tanh form, from t = tanh(sqrt(2/pi) (u + 0.044715 u^3)):
// d/du = 0.5 (1 + t) + 0.5 u (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 u^2).
inline float geluTanhGate(float x) { return tanhOf(kSqrt2OverPi * (x + kTanhCubic * x * x * x)); }
inline float geluTanhGrad(float x, float t) {
    return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * kTanhCubic * x * x);
}
// GELU'(u) = Phi(u) + u phi(u) from normalCdf's two results.
inline float geluErfGrad(float u, float cdf, float gauss) { return cdf + u * gauss * kInvSqrt2Pi; }

}  // namespace

void geluTanhForward(const float* __restrict u, float* __restrict a, std::int64_t n) {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) {
        a[i] = 0.5f * u[i] * (1.0f + geluTanhGate(u[i]));
    }
}

void geluTanhBackward(const float* __restrict u, const float* __restrict ga, float* __restrict gu,
                      float* __restrict a, std::int64_t n) {
    if (a) {
#pragma omp simd
        for (std::int64_t i = 0; i < n; ++i) {
            const float t = geluTanhGate(u[i]);
            a[i] = 0.5f * u[i] * (1.0f + t);
            gu[i] = ga[i] * geluTanhGrad(u[i], t);
        }
        return;
    }
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) gu[i] = ga[i] * geluTanhGrad(u[i], geluTanhGate(u[i]));
}

void geluForward(const float* __restrict u, float* __restrict a, std::int64_t n) {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) {
        float cdf, gauss;
        normalCdf(u[i], cdf, gauss);
        a[i] = u[i] * cdf;
    }
}

void geluBackward(const float* __restrict u, const float* __restrict ga, float* __restrict gu, float* __restrict a,
                  std::int64_t n) {
    if (a) {
#pragma omp simd
        for (std::int64_t i = 0; i < n; ++i) {
            float cdf, gauss;
            normalCdf(u[i], cdf, gauss);
            a[i] = u[i] * cdf;
            gu[i] = ga[i] * geluErfGrad(u[i], cdf, gauss);
        }
        return;
    }
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) {
        float cdf, gauss;
        normalCdf(u[i], cdf, gauss);
        gu[i] = ga[i] * geluErfGrad(u[i], cdf, gauss);
    }
}

void normForward(const float* __restrict x, const float* __restrict gamma, const float* __restrict beta, float eps,
                 std::int64_t rows, std::int64_t D, float* __restrict y, float* __restrict mean,
                 float* __restrict rstd) {
    const float invD = 1.0f / float(D);
    for (std::int64_t r = 0; r < rows; ++r) {
        const float* __restrict xr = x + r * D;
        float* __restrict yr = y + r * D;
        float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (std::int64_t j = 0; j < D; ++j) sum += xr[j];
        const float m = sum * invD;
        float sq = 0.0f;  // two passes over a row in cache: no E[x^2] - m^2 cancellation
#pragma omp simd reduction(+ : sq)
        for (std::int64_t j = 0; j < D; ++j) sq += (xr[j] - m) * (xr[j] - m);
        const float s = 1.0f / std::sqrt(sq * invD + eps);
#pragma omp simd
        for (std::int64_t j = 0; j < D; ++j) yr[j] = (xr[j] - m) * s * gamma[j] + beta[j];
        mean[r] = m;
        rstd[r] = s;
    }
}

void normBackward(const float* __restrict x, const float* __restrict gamma, const float* __restrict mean,
                  const float* __restrict rstd, const float* __restrict gy, std::int64_t rows, std::int64_t D,
                  float* __restrict gx, float* __restrict ggamma, float* __restrict gbeta) {
    const float invD = 1.0f / float(D);
    for (std::int64_t r = 0; r < rows; ++r) {
        const float* __restrict xr = x + r * D;
        const float* __restrict gr = gy + r * D;
        float* __restrict gxr = gx + r * D;
        const float m = mean[r], s = rstd[r];
        float c1 = 0.0f, c2 = 0.0f;  // mean of g gamma and of g gamma xhat
#pragma omp simd reduction(+ : c1, c2)
        for (std::int64_t j = 0; j < D; ++j) {
            const float xhat = (xr[j] - m) * s;
            const float gh = gr[j] * gamma[j];
            c1 += gh;
            c2 += gh * xhat;
            ggamma[j] += gr[j] * xhat;
            gbeta[j] += gr[j];
        }
        c1 *= invD;
        c2 *= invD;
#pragma omp simd
        for (std::int64_t j = 0; j < D; ++j) {
            const float xhat = (xr[j] - m) * s;
            gxr[j] = s * (gr[j] * gamma[j] - c1 - xhat * c2);
        }
    }
}

}  // namespace plateau::pw::PLATEAU_ATTN_NS
