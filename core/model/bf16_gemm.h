// train.precision = bf16's matrix products: oneDNN's matmul primitive on bf16 operands with fp32
// accumulation and an fp32 result (AMX-BF16 tiles where the CPU has them, AVX512-BF16 or
// oneDNN's emulation elsewhere), plus the float <-> bf16 conversions around it. No torch.
//
// Why the primitive and not LibTorch's bf16 matmul: LibTorch 1.13 returns a bf16 product (an
// extra rounding of every output and every gradient, then a widening pass) and its path ran
// 0.6x fp32 at quick's shapes and 0.5-1.2 TFLOP/s at the paper's; the primitive writes fp32
// directly, takes the bias and a residual as post-ops and ran 1.4-2.5 TFLOP/s at the paper's
// shapes and 1.4-2.4x fp32 at quick's (bench/README.md, "bf16 through oneDNN's matmul").
//
// Threads: callable from any thread; primitives are built once per shape (cached under a mutex)
// and run with a per-call scratchpad, so concurrent calls are safe. oneDNN parallelises over its
// OpenMP threads; inside a parallel region a call runs on the calling thread.
#pragma once

#include <cstdint>

namespace plateau {

using bf16_t = std::uint16_t;  // bfloat16's bits: the high half of an IEEE float

// C (M x N, row-major, fp32) = op(A) op(B) [+ bias (N)] [+ residual (M x N, row-major)].
// A is M x K row-major, or K x M when transA (op(A) = A^T); B is K x N row-major, or N x K when
// transB. bias and residual may be null; C may not alias A, B or residual. Throws
// std::runtime_error with oneDNN's status on failure. Deterministic for a fixed thread count.
void bf16Gemm(bool transA, bool transB, std::int64_t M, std::int64_t N, std::int64_t K, const bf16_t* A,
              const bf16_t* B, const float* bias, const float* residual, float* C);

// batch independent products C_i = op(A_i) op(B_i), each matrix contiguous and the batch's
// matrices one after another (A_i at A + i M K, B_i at B + i K N, C_i at C + i M N): one oneDNN
// call for all of them (attention's per-head products).
void bf16GemmBatched(std::int64_t batch, bool transA, bool transB, std::int64_t M, std::int64_t N, std::int64_t K,
                     const bf16_t* A, const bf16_t* B, float* C);

// The same product from the bf16 operands widened to fp32 (exactly) and dnnl_sgemm: what bf16Gemm
// falls back to where oneDNN has no bf16 matmul (CPUs without AVX-512: emulated bf16, slow, only
// under PLATEAU_BF16_EMULATE=1), and the tests' reference. Equal to bf16Gemm up to fp32 round-off.
void bf16GemmReference(bool transA, bool transB, std::int64_t M, std::int64_t N, std::int64_t K, const bf16_t* A,
                       const bf16_t* B, const float* bias, const float* residual, float* C);

// dst[i] = float(src[i]) (exact).
void bf16ToFloat(const bf16_t* src, float* dst, std::int64_t n);

// dst[i] = bf16(src[i]), rounded to nearest even (NaN stays NaN), n elements; parallel over
// OpenMP threads above a size where that pays.
void floatToBf16(const float* src, bf16_t* dst, std::int64_t n);

// The same on the calling thread only (for callers that split the work themselves).
void floatToBf16Range(const float* src, bf16_t* dst, std::int64_t n);

// The oneDNN implementation bf16Gemm picks for that shape (e.g. "brg:avx512_core_amx_bf16"):
// what the benchmarks print beside their figures.
const char* bf16GemmImplementation(bool transA, bool transB, std::int64_t M, std::int64_t N, std::int64_t K);

}  // namespace plateau
