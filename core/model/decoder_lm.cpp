// Module tree with nanoGPT's names, built from plain container modules so the names are exact while
// the forward pass uses direct references. The fast path (fused causal softmax attention reading
// c_attn's (B, T, 3D) output, oneDNN linears) serves training; hooks that need the probabilities
// or the per-head contexts take the plain path, which computes the same function.
#include "model/decoder_lm.h"

#include "model/fast_linear.h"
#include "model/fused_attention.h"
#include "model/fused_layers.h"

#include <cmath>

namespace plateau {
namespace nn = torch::nn;

namespace {
std::shared_ptr<nn::Module> container(nn::Module& parent, const std::string& name) {
    return parent.register_module(name, std::make_shared<nn::Module>());
}
}  // namespace

DecoderLMImpl::DecoderLMImpl(const DecoderDims& d) : m_dims(d) {
    const int w = d.width;
    const bool norms = d.norm != DecoderDims::Norm::None;
    auto transformer = container(*this, "transformer");
    m_wte = transformer->register_module("wte", nn::Embedding(d.vocabSize, w));
    if (d.positions == DecoderDims::Positions::Learned)
        m_wpe = transformer->register_module("wpe", nn::Embedding(d.maxPositions, w));
    auto h = transformer->register_module("h", nn::ModuleList());
    auto layerNorm = [&](int n) { return nn::LayerNorm(nn::LayerNormOptions({n}).eps(d.lnEps)); };
    for (int i = 0; i < d.layers; ++i) {
        auto block = std::make_shared<nn::Module>();
        DecoderBlockRefs r;
        if (norms) r.ln1 = block->register_module("ln_1", layerNorm(w));
        auto attn = container(*block, "attn");
        r.cAttn = attn->register_module("c_attn", nn::Linear(nn::LinearOptions(w, 3 * w).bias(d.bias)));
        r.attnProj = attn->register_module("c_proj", nn::Linear(nn::LinearOptions(w, w).bias(d.bias)));
        if (d.mlp != DecoderDims::Mlp::None) {
            if (norms) r.ln2 = block->register_module("ln_2", layerNorm(w));
            auto mlp = container(*block, "mlp");
            r.cFc = mlp->register_module("c_fc", nn::Linear(nn::LinearOptions(w, d.ffn).bias(d.bias)));
            r.mlpProj = mlp->register_module("c_proj", nn::Linear(nn::LinearOptions(d.ffn, w).bias(d.bias)));
        }
        h->push_back(block);
        m_blocks.push_back(r);
    }
    if (norms && d.finalNorm && d.norm == DecoderDims::Norm::Pre) m_lnF = transformer->register_module("ln_f", layerNorm(w));
    if (!d.tiedHead) m_head = register_module("lm_head", nn::Linear(nn::LinearOptions(w, d.vocabSize).bias(false)));
    if (d.positions == DecoderDims::Positions::Rotary) {
        // GPT-NeoX rotary over the whole head: pairs (c, c + dh/2) turn by t * base^(-2c/dh).
        const int dh = d.headDim(), half = dh / 2;
        auto inv = torch::pow(d.rotaryBase, -torch::arange(0, half, torch::kFloat64) * 2.0 / dh);  // (half)
        auto t = torch::arange(0, d.maxPositions, torch::kFloat64).unsqueeze(1);                 // (T, 1)
        auto angles = torch::cat({t * inv, t * inv}, 1);                                           // (T, dh)
        m_cos = register_buffer("rotary_cos", angles.cos().to(torch::kFloat32));
        m_sin = register_buffer("rotary_sin", angles.sin().to(torch::kFloat32));
    }
}

void DecoderLMImpl::resetParameters(torch::Generator& gen) {
    torch::NoGradGuard noGrad;
    const double s = m_dims.initStd;
    const double residual = s / std::sqrt(2.0 * m_dims.layers);
    auto initLinear = [&](nn::Linear& l, double std) {
        if (!l) return;
        l->weight.normal_(0.0, std, gen);
        if (l->bias.defined()) l->bias.zero_();
    };
    auto initNorm = [](nn::LayerNorm& n) {
        if (!n) return;
        n->weight.fill_(1.0);
        n->bias.zero_();
    };
    m_wte->weight.normal_(0.0, m_dims.embeddingInitStd, gen);
    if (m_wpe) m_wpe->weight.normal_(0.0, m_dims.embeddingInitStd, gen);
    const bool allProj = m_dims.residualInit == DecoderDims::ResidualInit::AllProjections;
    const bool mlpProj = allProj || m_dims.residualInit == DecoderDims::ResidualInit::MlpProjection;
    for (DecoderBlockRefs& b : m_blocks) {
        initNorm(b.ln1);
        initLinear(b.cAttn, s);
        initLinear(b.attnProj, allProj ? residual : s);
        initNorm(b.ln2);
        initLinear(b.cFc, s);
        initLinear(b.mlpProj, mlpProj ? residual : s);
    }
    initNorm(m_lnF);
    initLinear(m_head, s);  // the rotary tables are buffers, computed, never drawn
}

torch::Tensor DecoderLMImpl::headWeight() const { return m_head ? m_head->weight : m_wte->weight; }

// oneDNN's GEMM at every width. On an AMD EPYC (AVX2) at 98 tokens oneDNN made width 64 1.3x
// faster and width 256 1.2x slower than OpenBLAS (plateau-bench-decoder); on an AVX-512 Xeon
// (session 26, plateau-bench-gemm) Debian's OpenBLAS ran 27-49 GFLOP/s against oneDNN's
// 94-248 at every shape from quick's to paper's (4.5-7x). The worst case of always taking oneDNN
// is 1.2x, of the old width-128 rule 7x. A fixed rule, not a timed choice, so runs stay
// reproducible.
bool DecoderLMImpl::oneDnn(const torch::Tensor& x) const {
    return m_fastLinear && x.scalar_type() == torch::kFloat32;
}

torch::Tensor DecoderLMImpl::linear(const nn::Linear& l, const torch::Tensor& x) const {
    if (m_bf16) return bf16Linear(x, l->weight, l->bias);
    return oneDnn(x) ? fastLinear(x, l->weight, l->bias) : torch::linear(x, l->weight, l->bias);
}

torch::Tensor DecoderLMImpl::rotate(const torch::Tensor& x) const {
    // x (B, T, H, dh); cos/sin (maxPositions, dh) -> (1, T, 1, dh)
    const auto T = x.size(1), half = x.size(3) / 2;
    const auto cos = m_cos.slice(0, 0, T).to(x.scalar_type()).unsqueeze(0).unsqueeze(2);
    const auto sin = m_sin.slice(0, 0, T).to(x.scalar_type()).unsqueeze(0).unsqueeze(2);
    const auto rotated = torch::cat({-x.slice(3, half), x.slice(3, 0, half)}, 3);
    return x * cos + rotated * sin;
}

torch::Tensor DecoderLMImpl::attention(int layer, const DecoderBlockRefs& b, const torch::Tensor& h,
                                       const DecoderForwardOptions& o, DecoderForwardOutput& out) {
    const auto B = h.size(0), T = h.size(1);
    const int H = m_dims.heads, dh = m_dims.headDim(), D = m_dims.width;
    torch::Tensor qkv = linear(b.cAttn, h);  // (B, T, 3D)
    if (m_dims.positions == DecoderDims::Positions::Rotary) {
        auto parts = qkv.split(D, -1);
        auto q = rotate(parts[0].reshape({B, T, H, dh})).reshape({B, T, D});
        auto k = rotate(parts[1].reshape({B, T, H, dh})).reshape({B, T, D});
        qkv = torch::cat({q, k, parts[2]}, -1);
    }
    const bool intervened = o.touches(layer);
    const bool softmax = m_dims.attention == DecoderDims::Attention::Softmax;
    if (m_fastAttention && softmax && !intervened && qkv.scalar_type() == torch::kFloat32) {
        auto fused = m_bf16 && dh >= kBf16AttentionMinHeadDim ? bf16SelfAttention(qkv, H, /*causal=*/true)
                                                              : fusedSelfAttention(qkv, H, /*causal=*/true);  // {(B, T, D), (B, H, T, T)}
        if (o.attentions) out.attentions.push_back(fused[1]);
        return linear(b.attnProj, fused[0]);
    }
    auto split = [&](const torch::Tensor& x) { return x.reshape({B, T, H, dh}).transpose(1, 2); };  // (B, H, T, dh)
    auto parts = qkv.split(D, -1);
    auto q = split(parts[0]), k = split(parts[1]), v = split(parts[2]);
    auto scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(double(dh));  // (B, H, T, T)
    const auto causal = torch::ones({T, T}, torch::TensorOptions().dtype(torch::kBool)).tril();
    torch::Tensor probs = softmax ? torch::softmax(scores.masked_fill(~causal, -INFINITY), -1)
                                  : scores.masked_fill(~causal, 0.0);
    probs = applyInterventions(o, layer, probs, causal);
    if (o.attentions) out.attentions.push_back(probs);
    torch::Tensor ctx = torch::matmul(probs, v);  // (B, H, T, dh)
    ctx = applyPatch(o, layer, ctx);
    if (o.contexts) out.contexts.push_back(ctx);
    return linear(b.attnProj, ctx.transpose(1, 2).reshape({B, T, D}));
}

torch::Tensor DecoderLMImpl::mlp(const DecoderBlockRefs& b, const torch::Tensor& h, const torch::Tensor& residual) const {
    const bool gelu = m_dims.mlp == DecoderDims::Mlp::Gelu || m_dims.mlp == DecoderDims::Mlp::GeluTanh;
    if (gelu && m_bf16 && h.scalar_type() == torch::kFloat32)
        return bf16GeluMlp(h, b.cFc->weight, b.cFc->bias, b.mlpProj->weight, b.mlpProj->bias, residual,
                           m_dims.mlp == DecoderDims::Mlp::Gelu ? GeluForm::Erf : GeluForm::Tanh);
    if (gelu && !m_bf16 && oneDnn(h))
        return fusedGeluMlp(h, b.cFc->weight, b.cFc->bias, b.mlpProj->weight, b.mlpProj->bias, residual,
                            m_dims.mlp == DecoderDims::Mlp::Gelu ? GeluForm::Erf : GeluForm::Tanh);
    torch::Tensor x = linear(b.cFc, h);
    switch (m_dims.mlp) {
    case DecoderDims::Mlp::Gelu: x = torch::gelu(x); break;
    case DecoderDims::Mlp::GeluTanh: x = torch::gelu(x, "tanh"); break;
    case DecoderDims::Mlp::Relu: x = torch::relu(x); break;
    case DecoderDims::Mlp::None: break;
    }
    if (m_bf16) return bf16Linear(x, b.mlpProj->weight, b.mlpProj->bias, residual);
    return residual + linear(b.mlpProj, x);
}

torch::Tensor DecoderLMImpl::norm(torch::nn::LayerNorm n, const torch::Tensor& x) const {
    if (m_fastLinear && x.scalar_type() == torch::kFloat32) return fusedLayerNorm(x, n->weight, n->bias, n->options.eps());
    return n(x);
}

DecoderForwardOutput DecoderLMImpl::forward(const torch::Tensor& tokens, const DecoderForwardOptions& o) {
    const auto T = tokens.size(1);
    TORCH_CHECK(T <= m_dims.maxPositions, "sequence longer than the model's positions");
    DecoderForwardOutput out;
    torch::Tensor h = m_wte(tokens);  // (B, T, D)
    if (m_wpe) h = h + m_wpe(torch::arange(T, torch::kInt64));
    if (o.hiddenStates) out.hiddenStates.push_back(h);
    const auto normKind = m_dims.norm;
    for (int l = 0; l < int(m_blocks.size()); ++l) {
        DecoderBlockRefs& b = m_blocks[std::size_t(l)];
        if (normKind == DecoderDims::Norm::Pre) {
            h = h + attention(l, b, norm(b.ln1, h), o, out);
            if (b.cFc) h = mlp(b, norm(b.ln2, h), h);
        } else if (normKind == DecoderDims::Norm::Post) {
            h = norm(b.ln1, h + attention(l, b, h, o, out));
            if (b.cFc) h = norm(b.ln2, mlp(b, h, h));
        } else {
            h = h + attention(l, b, h, o, out);
            if (b.cFc) h = mlp(b, h, h);
        }
        if (o.hiddenStates) out.hiddenStates.push_back(h);
    }
    if (m_lnF) h = norm(m_lnF, h);
    if (m_bf16) {
        out.logits = bf16Linear(h, headWeight(), torch::Tensor());
        return out;
    }
    out.logits = m_head ? (oneDnn(h) ? fastLinear(h, m_head->weight, torch::Tensor()) : torch::linear(h, m_head->weight))
                        : torch::matmul(h, m_wte->weight.t());
    return out;
}

}  // namespace plateau
