// y = x W^T + b with oneDNN's GEMM (dnnl_sgemm, Debian's libdnnl) on the tensors' own row-major
// buffers instead of the system BLAS: on the encoder's tall-skinny GEMMs it ran forward and
// backward markedly faster than OpenBLAS here. Same function; float32 only, other inputs go to
// torch::linear. Any thread.
#pragma once

#include <torch/torch.h>

#include "model/bf16_gemm.h"

namespace plateau {

// x: (..., in), weight: (out, in), bias: (out) or undefined (no bias). Differentiable in all.
torch::Tensor fastLinear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);
// residual + x W^T + b, residual shaped as the output: the residual is the GEMM's starting value
// (no separate pass over memory to add it). Differentiable in all four.
torch::Tensor fastLinear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                         const torch::Tensor& residual);

// C (M, N) = op(A) op(B) + beta C, all row-major, float32, through dnnl_sgemm (which runs on one
// thread when called inside a parallel region). Throws on a oneDNN error.
void sgemm(char ta, char tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc);

// LibTorch 1.13's custom autograd Functions cannot take undefined tensors (their inputs' device is
// read): an absent optional input (bias, residual) travels into one as this empty placeholder.
inline torch::Tensor orAbsent(const torch::Tensor& t) { return t.defined() ? t : torch::empty({0}); }
inline bool present(const torch::Tensor& t) { return t.defined() && t.numel() > 0; }

// train.precision = bf16 (precision.h): x W^T from bf16 copies of x and W with fp32 accumulation
// and an fp32 result (oneDNN's matmul, bf16_gemm.h), plus the fp32 bias. Differentiable: the
// backward multiplies the saved bf16 copies by a bf16 copy of the gradient and writes fp32
// gradients into the fp32 master weights. Float32 x only (other inputs go to torch::linear).
torch::Tensor bf16Linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);
// A float32 tensor's bf16 copy (round to nearest even; contiguous, same shape), and a bf16
// tensor's bits for bf16Gemm.
torch::Tensor toBf16(const torch::Tensor& t);
inline bf16_t* bf16Data(const torch::Tensor& t) { return reinterpret_cast<bf16_t*>(t.data_ptr()); }
// residual + bf16Linear(x, weight, bias), the residual added by the GEMM itself (a post-op).
torch::Tensor bf16Linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                         const torch::Tensor& residual);
}  // namespace plateau
