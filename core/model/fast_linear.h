// y = x W^T + b with oneDNN's GEMM (dnnl_sgemm, Debian's libdnnl) on the tensors' own row-major
// buffers instead of the system BLAS: on the encoder's tall-skinny GEMMs it ran forward and
// backward markedly faster than OpenBLAS here. Same function; float32 only, other inputs go to
// torch::linear. Any thread.
#pragma once

#include <torch/torch.h>

namespace plateau {

// x: (..., in), weight: (out, in), bias: (out) or undefined (no bias). Differentiable in all.
torch::Tensor fastLinear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

// train.precision = bf16 (precision.h): x W^T from bf16 copies of x and W with fp32 accumulation,
// the result in fp32, plus the fp32 bias. Differentiable; the gradients reach the fp32 master
// weights through the casts. Float32 x only (other inputs go to torch::linear).
torch::Tensor bf16Linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

}  // namespace plateau
