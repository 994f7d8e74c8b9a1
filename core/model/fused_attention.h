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

// train.precision = bf16's attention: the same function, its five products (Q K^T, P V, and dO V^T,
// dS K, dS^T Q, P^T dO backward) as batched bf16 matmuls over all (batch, head) pairs (bf16Gemm-
// Batched: AMX where the CPU has it; fp32 accumulation and results); softmax, its backward, the
// probabilities returned and the scale stay fp32. Per-head bf16 copies of Q, K, V (and of dO) are
// made once. Within bf16's rounding of fusedSelfAttention (tst_model). Used for head dims >= 32,
// where the products dominate (bench/README.md); same arguments and results.
std::vector<torch::Tensor> bf16SelfAttention(const torch::Tensor& qkv, int64_t heads, bool causal = false);
// The smallest head dim at which the models take bf16SelfAttention in bf16 (below it the fp32
// kernel, whose per-row loops beat batched GEMMs of 12-wide heads).
constexpr int64_t kBf16AttentionMinHeadDim = 32;

}  // namespace plateau
