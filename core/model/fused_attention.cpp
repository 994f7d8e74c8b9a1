// Why a hand-written kernel: at the preset sizes (T = 16..49, head dim 8..32) LibTorch's bmm
// issues one tiny GEMM per (batch, head), and softmax, the scale and the head transposes each make
// a pass over memory; together they were over half of a training step. The kernels themselves
// live in attention_kernels.cpp (built for AVX2+FMA and for baseline x86-64, chosen at run time).
#include "model/fused_attention.h"

#include "model/cpu_kernels.h"

#include <ATen/Parallel.h>

#include <cmath>

namespace plateau {
namespace {

attn::Shape shapeOf(const torch::Tensor& qkv, int64_t heads, bool causal) {
    attn::Shape d;
    d.causal = causal;
    d.T = qkv.size(1);
    d.D = qkv.size(2) / 3;
    d.H = heads;
    d.dh = d.D / heads;
    d.scale = float(1.0 / std::sqrt(double(d.dh)));
    return d;
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

}  // namespace

std::vector<torch::Tensor> fusedSelfAttention(const torch::Tensor& qkv, int64_t heads, bool causal) {
    TORCH_CHECK(qkv.dim() == 3 && qkv.size(2) % (3 * heads) == 0, "qkv must be (B, T, 3D)");
    TORCH_CHECK(qkv.scalar_type() == torch::kFloat32, "fused attention is float32 only");
    TORCH_CHECK(qkv.size(2) / 3 / heads <= 1024, "head dim above 1024 is not supported");
    return FusedAttentionFn::apply(qkv, heads, causal);
}

}  // namespace plateau
