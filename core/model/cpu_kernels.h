// Plain-C++ attention kernels behind fused_attention.cpp (no torch here, so the file compiles in
// a second and is built twice: once for AVX2+FMA, once for baseline x86-64; kernels() picks at
// run time). Each call processes (batch, head) pairs [begin, end); different ranges touch
// disjoint memory: any thread.
#pragma once

#include <cstdint>

namespace plateau::attn {

struct Shape {
    std::int64_t T, D, H, dh;
    float scale;          // 1 / sqrt(dh)
    bool causal = false;  // query i attends to keys 0..i only
};

// qkv (B, T, 3D) -> probs (B, H, T, T), out (B, T, D).
using ForwardFn = void (*)(const Shape&, const float* qkv, float* probs, float* out,
                           std::int64_t begin, std::int64_t end);
// qkv, probs, gradOut (B, T, D) -> gradQkv (B, T, 3D).
using BackwardFn = void (*)(const Shape&, const float* qkv, const float* probs,
                            const float* gradOut, float* gradQkv, std::int64_t begin,
                            std::int64_t end);

// The element-wise halves of attention around products done elsewhere (bf16SelfAttention): rows
// [begin, end) of (B H T, T) score rows; row r is query r % T. softmaxRows: scores -> softmax(scale
// s) in place (causal: keys above the query get exactly 0). softmaxGradRows: dP -> P (dP - <dP,
// P>) scale in place (the scores' gradient with the scale folded in).
using SoftmaxRowsFn = void (*)(const Shape&, float* scores, std::int64_t begin, std::int64_t end);
using SoftmaxGradRowsFn = void (*)(const Shape&, const float* P, float* dP, std::int64_t begin, std::int64_t end);

#define PLATEAU_KERNEL_DECLS                                                                    \
    void forward(const Shape&, const float*, float*, float*, std::int64_t, std::int64_t);      \
    void backward(const Shape&, const float*, const float*, const float*, float*, std::int64_t, \
                  std::int64_t);                                                              \
    void softmaxRows(const Shape&, float*, std::int64_t, std::int64_t);                        \
    void softmaxGradRows(const Shape&, const float*, float*, std::int64_t, std::int64_t);
namespace avx2 { PLATEAU_KERNEL_DECLS }
namespace baseline { PLATEAU_KERNEL_DECLS }
#undef PLATEAU_KERNEL_DECLS

// The variant for this CPU (AVX2+FMA if present).
struct KernelSet {
    ForwardFn forward;
    BackwardFn backward;
    SoftmaxRowsFn softmaxRows;
    SoftmaxGradRowsFn softmaxGradRows;
};
const KernelSet& kernels();

}  // namespace plateau::attn
