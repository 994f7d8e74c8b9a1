// Why a hand-written kernel: at the preset sizes (T = 16..49, head dim 8..32) LibTorch's bmm
// issues one tiny GEMM per (batch, head), and softmax, the scale and the head transposes each make
// a pass over memory; together they were over half of a training step. The kernels themselves
// live in attention_kernels.cpp (built for AVX2+FMA and for baseline x86-64, chosen at run time).
#include "model/fused_attention.h"

#include "model/bf16_gemm.h"
#include "model/cpu_kernels.h"
#include "model/fast_linear.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace plateau {
namespace {

// T tokens, width D in `heads` heads.
attn::Shape shapeOf(int64_t T, int64_t D, int64_t heads, bool causal) {
    attn::Shape d;
    d.causal = causal;
    d.T = T;
    d.D = D;
    d.H = heads;
    d.dh = d.D / heads;
    d.scale = float(1.0 / std::sqrt(double(d.dh)));
    return d;
}

attn::Shape shapeOf(const torch::Tensor& qkv, int64_t heads, bool causal) {
    return shapeOf(qkv.size(1), qkv.size(2) / 3, heads, causal);
}

// (batch, head) pairs per task: enough work per task to amortise scheduling.
int64_t grainOf(const attn::Shape& d) { return std::max<int64_t>(1, 4096 / (d.T * d.T)); }

class FusedAttentionFn : public torch::autograd::Function<FusedAttentionFn> {
public:
    static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx,
                                                  const torch::Tensor& qkvIn, int64_t heads, bool causal) {
        const torch::Tensor qkv = qkvIn.contiguous();
        const attn::Shape d = shapeOf(qkv, heads, causal);
        const int64_t B = qkv.size(0);
        auto out = torch::empty({B, d.T, d.D}, qkv.options());
        auto probs = torch::empty({B, d.H, d.T, d.T}, qkv.options());
        const float* src = qkv.data_ptr<float>();
        float* o = out.data_ptr<float>();
        float* p = probs.data_ptr<float>();
        const auto fn = attn::kernels().forward;
        at::parallel_for(0, B * d.H, grainOf(d), [&](int64_t begin, int64_t end) {
            fn(d, src, p, o, begin, end);
        });
        ctx->save_for_backward({qkv, probs});
        ctx->saved_data["heads"] = heads;
        ctx->saved_data["causal"] = causal;
        ctx->mark_non_differentiable({probs});
        return {out, probs};
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const torch::Tensor& qkv = saved[0];
        const torch::Tensor& probs = saved[1];
        const attn::Shape d = shapeOf(qkv, ctx->saved_data["heads"].toInt(), ctx->saved_data["causal"].toBool());
        const int64_t B = qkv.size(0);
        const torch::Tensor gout = grads[0].contiguous();
        auto gqkv = torch::empty_like(qkv);
        const float* src = qkv.data_ptr<float>();
        const float* go = gout.data_ptr<float>();
        const float* p = probs.data_ptr<float>();
        float* g = gqkv.data_ptr<float>();
        const auto fn = attn::kernels().backward;
        at::parallel_for(0, B * d.H, grainOf(d), [&](int64_t begin, int64_t end) {
            fn(d, src, p, go, g, begin, end);
        });
        return {gqkv, torch::Tensor(), torch::Tensor()};
    }
};

// Head h of part `part` (0 Q, 1 K, 2 V) of a (B, T, 3D) or (B, T, D) float tensor (stride
// `rowStride` between tokens, the part at `offset`) as bf16 rows (B H, T, dh), and back.
void gatherHeadsBf16(const float* src, int64_t rowStride, int64_t offset, const attn::Shape& d, int64_t B,
                     bf16_t* dst) {
    at::parallel_for(0, B * d.H, grainOf(d), [&](int64_t begin, int64_t end) {
        for (int64_t bh = begin; bh < end; ++bh) {
            const int64_t b = bh / d.H, h = bh % d.H;
            for (int64_t t = 0; t < d.T; ++t)
                floatToBf16Range(src + (b * d.T + t) * rowStride + offset + h * d.dh, dst + (bh * d.T + t) * d.dh, d.dh);
        }
    });
}

void scatterHeads(const float* src, const attn::Shape& d, int64_t B, float* dst, int64_t rowStride, int64_t offset) {
    at::parallel_for(0, B * d.H, grainOf(d), [&](int64_t begin, int64_t end) {
        for (int64_t bh = begin; bh < end; ++bh) {
            const int64_t b = bh / d.H, h = bh % d.H;
            for (int64_t t = 0; t < d.T; ++t)
                std::memcpy(dst + (b * d.T + t) * rowStride + offset + h * d.dh, src + (bh * d.T + t) * d.dh,
                            sizeof(float) * std::size_t(d.dh));
        }
    });
}

class Bf16AttentionFn : public torch::autograd::Function<Bf16AttentionFn> {
public:
    static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx,
                                                  const torch::Tensor& qkvIn, int64_t heads, bool causal) {
        const torch::Tensor qkv = qkvIn.contiguous();
        const attn::Shape d = shapeOf(qkv, heads, causal);
        const int64_t B = qkv.size(0), BH = B * d.H, T = d.T, dh = d.dh, D = d.D;
        const auto f32 = qkv.options();
        const auto bf = f32.dtype(torch::kBFloat16);
        torch::Tensor q = torch::empty({BH, T, dh}, bf), k = torch::empty({BH, T, dh}, bf), v = torch::empty({BH, T, dh}, bf);
        const float* src = qkv.data_ptr<float>();
        gatherHeadsBf16(src, 3 * D, 0, d, B, bf16Data(q));
        gatherHeadsBf16(src, 3 * D, D, d, B, bf16Data(k));
        gatherHeadsBf16(src, 3 * D, 2 * D, d, B, bf16Data(v));
        auto probs = torch::empty({B, d.H, T, T}, f32);
        float* P = probs.data_ptr<float>();
        bf16GemmBatched(BH, false, true, T, T, dh, bf16Data(q), bf16Data(k), P);  // scores Q K^T
        torch::Tensor pb = torch::empty({BH, T, T}, bf);
        const auto softmax = attn::kernels().softmaxRows;
        at::parallel_for(0, BH, grainOf(d), [&](int64_t begin, int64_t end) {
            softmax(d, P, begin * T, end * T);  // softmax(scale s) per row, fp32
            floatToBf16Range(P + begin * T * T, bf16Data(pb) + begin * T * T, (end - begin) * T * T);
        });
        torch::Tensor o = torch::empty({BH, T, dh}, f32);
        bf16GemmBatched(BH, false, false, T, dh, T, bf16Data(pb), bf16Data(v), o.data_ptr<float>());  // P V
        auto out = torch::empty({B, T, D}, f32);
        scatterHeads(o.data_ptr<float>(), d, B, out.data_ptr<float>(), D, 0);
        ctx->save_for_backward({q, k, v, probs, pb});
        ctx->saved_data["heads"] = heads;
        ctx->saved_data["causal"] = causal;
        ctx->mark_non_differentiable({probs});
        return {out, probs};
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const torch::Tensor &q = saved[0], &k = saved[1], &v = saved[2], &probs = saved[3], &pb = saved[4];
        const int64_t B = probs.size(0), H = probs.size(1), T = probs.size(2), dh = q.size(2), BH = B * H, D = H * dh;
        const attn::Shape d = shapeOf(T, D, H, ctx->saved_data["causal"].toBool());
        const auto f32 = probs.options();
        const torch::Tensor gout = grads[0].contiguous();
        torch::Tensor go = torch::empty({BH, T, dh}, f32.dtype(torch::kBFloat16));
        gatherHeadsBf16(gout.data_ptr<float>(), D, 0, d, B, bf16Data(go));
        torch::Tensor dp = torch::empty({BH, T, T}, f32);
        float* dP = dp.data_ptr<float>();
        bf16GemmBatched(BH, false, true, T, T, dh, bf16Data(go), bf16Data(v), dP);  // dP = dO V^T
        // dS = P (dP - <dP, P>) scale: the scores' gradient, scale folded in (S = scale Q K^T).
        const float* P = probs.data_ptr<float>();
        torch::Tensor ds = torch::empty({BH, T, T}, f32.dtype(torch::kBFloat16));
        const auto softmaxGrad = attn::kernels().softmaxGradRows;
        at::parallel_for(0, BH, grainOf(d), [&](int64_t begin, int64_t end) {
            softmaxGrad(d, P, dP, begin * T, end * T);
            floatToBf16Range(dP + begin * T * T, bf16Data(ds) + begin * T * T, (end - begin) * T * T);
        });
        auto gqkv = torch::empty({B, T, 3 * D}, f32);
        torch::Tensor part = torch::empty({BH, T, dh}, f32);
        float* gq = gqkv.data_ptr<float>();
        bf16GemmBatched(BH, false, false, T, dh, T, bf16Data(ds), bf16Data(k), part.data_ptr<float>());  // dQ = dS K
        scatterHeads(part.data_ptr<float>(), d, B, gq, 3 * D, 0);
        bf16GemmBatched(BH, true, false, T, dh, T, bf16Data(ds), bf16Data(q), part.data_ptr<float>());  // dK = dS^T Q
        scatterHeads(part.data_ptr<float>(), d, B, gq, 3 * D, D);
        bf16GemmBatched(BH, true, false, T, dh, T, bf16Data(pb), bf16Data(go), part.data_ptr<float>());  // dV = P^T dO
        scatterHeads(part.data_ptr<float>(), d, B, gq, 3 * D, 2 * D);
        return {gqkv, torch::Tensor(), torch::Tensor()};
    }
};

}  // namespace

std::vector<torch::Tensor> fusedSelfAttention(const torch::Tensor& qkv, int64_t heads, bool causal) {
    TORCH_CHECK(qkv.dim() == 3 && qkv.size(2) % (3 * heads) == 0, "qkv must be (B, T, 3D)");
    TORCH_CHECK(qkv.scalar_type() == torch::kFloat32, "fused attention is float32 only");
    TORCH_CHECK(qkv.size(2) / 3 / heads <= 1024, "head dim above 1024 is not supported");
    return FusedAttentionFn::apply(qkv, heads, causal);
}

std::vector<torch::Tensor> bf16SelfAttention(const torch::Tensor& qkv, int64_t heads, bool causal) {
    TORCH_CHECK(qkv.dim() == 3 && qkv.size(2) % (3 * heads) == 0, "qkv must be (B, T, 3D)");
    TORCH_CHECK(qkv.scalar_type() == torch::kFloat32, "bf16 attention takes float32 qkv");
    if (qkv.numel() == 0) return fusedSelfAttention(qkv, heads, causal);
    return Bf16AttentionFn::apply(qkv, heads, causal);
}

}  // namespace plateau
