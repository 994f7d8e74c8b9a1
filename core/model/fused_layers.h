// The non-matrix work of a transformer block, fused (profile of the quick step before this: GELU
// 3.6 ms and residual + LayerNorm 1.9 ms per layer against 12.8 ms of linears). Float32 only;
// each is the same function as the LibTorch ops it replaces (tst_model checks both, forward and
// backward). Any thread; deterministic for a given thread count.
#pragma once

#include <torch/torch.h>

namespace plateau {

// residual + GELU(x W1^T + b1) W2^T + b2 with the exact (erf) GELU, torch::gelu's default.
// x: (..., D), W1: (F, D), b1: (F) or undefined, W2: (D, F), b2: (D) or undefined, residual:
// shaped as x or undefined. Works in row blocks small enough that the (block, F) intermediate stays in the
// core's L2 cache between the two GEMMs and the GELU, forward and backward; each thread takes its
// own rows (one GEMM per block, on that thread). Differentiable in all inputs.
// GeluForm::Tanh: GELU's tanh approximation instead (GPT-2's; torch::gelu(u, "tanh")).
enum class GeluForm { Erf, Tanh };
torch::Tensor fusedGeluMlp(const torch::Tensor& x, const torch::Tensor& w1, const torch::Tensor& b1,
                           const torch::Tensor& w2, const torch::Tensor& b2, const torch::Tensor& residual,
                           GeluForm form = GeluForm::Erf);

// train.precision = bf16's fusedGeluMlp: both products through bf16Gemm (bf16 copies of x, the
// weights, GELU(u) and dL/du; fp32 accumulation, results, u, biases and their gradients). Within
// bf16's rounding of fusedGeluMlp (tst_model). Non-float inputs take fusedGeluMlp's fallback.
torch::Tensor bf16GeluMlp(const torch::Tensor& x, const torch::Tensor& w1, const torch::Tensor& b1,
                          const torch::Tensor& w2, const torch::Tensor& b2, const torch::Tensor& residual,
                          GeluForm form = GeluForm::Erf);

// torch::layer_norm over the last dimension (biased variance, eps inside the root) in one pass
// per row forward and one backward, the weight and bias gradients summed per thread. x: (..., D),
// weight and bias (D). Differentiable in all three.
torch::Tensor fusedLayerNorm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                             double eps);

// The row block fusedGeluMlp uses for a hidden width F (exposed for the benchmark): the
// intermediate's three (block, F) buffers fill about half of a 512 KiB L2, but at least 64 rows
// (the weights are re-read once per block, and the weight-gradient GEMMs sum over the block's
// rows); all of a thread's rows when F >= 1024, where the GEMMs dominate and larger blocks run
// them faster. Measured on an AVX2 EPYC (bench/README.md): at F = 192 blocks of 64-112 rows ran the
// MLP 1.25x the unfused one, all rows at once no faster than unfused; at F = 512, 64-512 rows were
// within the machine's noise of each other.
std::int64_t mlpRowBlock(std::int64_t F, std::int64_t rowsPerThread);

}  // namespace plateau
