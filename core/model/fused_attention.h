// Fused multi-head self-attention for small heads (scores, softmax, context and the backward in
// one pass per (batch, head)), reading Q, K, V straight from the fused projection's (B, T, 3D)
// output and writing the context in (B, T, D): no per-head GEMM calls, no transposes. Exactly
// softmax(Q K^T / sqrt(dh)) V; any thread, parallel over (batch, head) with at::parallel_for.
#pragma once

#include <torch/torch.h>

namespace plateau {

// qkv: (B, T, 3D) float32, [Q | K | V] along the last axis, heads contiguous inside each.
// Returns {context (B, T, D), probabilities (B, H, T, T)}; differentiable w.r.t. qkv. causal: query
// i attends to keys 0..i (probabilities above the diagonal are 0).
std::vector<torch::Tensor> fusedSelfAttention(const torch::Tensor& qkv, int64_t heads, bool causal = false);

}  // namespace plateau
