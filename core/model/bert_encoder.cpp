// The module tree is built with plain container modules so names follow HF exactly while the
// forward pass uses direct references (no string lookups on the hot path).
#include "model/bert_encoder.h"

#include "model/fast_linear.h"
#include "model/fused_attention.h"
#include "model/fused_layers.h"
#include "model/init.h"

#include <cmath>

namespace plateau {
namespace nn = torch::nn;

namespace {
std::shared_ptr<nn::Module> container(nn::Module& parent, const std::string& name) {
    return parent.register_module(name, std::make_shared<nn::Module>());
}
nn::LayerNorm makeNorm(int d) { return nn::LayerNorm(nn::LayerNormOptions({d}).eps(1e-12)); }
}  // namespace

KernelOptions& defaultKernels() {
    static KernelOptions k;
    return k;
}

BertEncoderImpl::BertEncoderImpl(const BertDims& dims) : m_dims(dims), m_kernels(defaultKernels()) {
    const int d = dims.width;
    auto embeddings = container(*this, "embeddings");
    m_wordEmb = embeddings->register_module(
        "word_embeddings", nn::Embedding(nn::EmbeddingOptions(dims.vocabSize, d).padding_idx(0)));
    m_posEmb = embeddings->register_module("position_embeddings",
                                           nn::Embedding(dims.maxPositions, d));
    m_embNorm = embeddings->register_module("LayerNorm", makeNorm(d));

    auto encoder = container(*this, "encoder");
    auto layerList = encoder->register_module("layer", nn::ModuleList());
    for (int i = 0; i < dims.layers; ++i) {
        auto layer = std::make_shared<nn::Module>();
        BertLayerRefs r;
        auto attention = container(*layer, "attention");
        auto self = container(*attention, "self");
        r.query = self->register_module("query", nn::Linear(d, d));
        r.key = self->register_module("key", nn::Linear(d, d));
        r.value = self->register_module("value", nn::Linear(d, d));
        auto attnOutput = container(*attention, "output");
        r.attnOut = attnOutput->register_module("dense", nn::Linear(d, d));
        r.attnNorm = attnOutput->register_module("LayerNorm", makeNorm(d));
        auto intermediate = container(*layer, "intermediate");
        r.intermediate = intermediate->register_module("dense", nn::Linear(d, dims.ffn));
        auto output = container(*layer, "output");
        r.output = output->register_module("dense", nn::Linear(dims.ffn, d));
        r.outNorm = output->register_module("LayerNorm", makeNorm(d));
        layerList->push_back(layer);
        m_layers.push_back(r);
    }
    m_readOut = register_module("read_out", nn::Linear(d, 1));
    resetParameters();
}

void BertEncoderImpl::resetParameters() { initialise(c10::nullopt); }

void BertEncoderImpl::resetParameters(torch::Generator& gen) {
    torch::NoGradGuard noGrad;
    // What the constructors drew, in construction order (the values are overwritten below).
    auto linearDraws = [&gen](nn::Linear& l) { pytorchLinearInit(l->weight, &l->bias, gen); };
    m_wordEmb->weight.normal_(0.0, 1.0, gen);
    m_posEmb->weight.normal_(0.0, 1.0, gen);
    for (auto& r : m_layers)
        for (auto* l : {&r.query, &r.key, &r.value, &r.attnOut, &r.intermediate, &r.output}) linearDraws(*l);
    linearDraws(m_readOut);
    initialise(gen);
}

void BertEncoderImpl::initialise(c10::optional<torch::Generator> gen) {
    torch::NoGradGuard noGrad;
    const double s = m_dims.initStd;
    auto initLinear = [s, &gen](nn::Linear& l) {
        l->weight.normal_(0.0, s, gen);
        l->bias.zero_();
    };
    auto initNorm = [](nn::LayerNorm& n) {
        n->weight.fill_(1.0);
        n->bias.zero_();
    };
    m_wordEmb->weight.normal_(0.0, s, gen);
    m_wordEmb->weight[0].zero_();  // padding index (MASK): zero row, never updated
    m_posEmb->weight.normal_(0.0, s, gen);
    initNorm(m_embNorm);
    for (auto& r : m_layers) {
        for (auto* l : {&r.query, &r.key, &r.value, &r.attnOut, &r.intermediate, &r.output})
            initLinear(*l);
        initNorm(r.attnNorm);
        initNorm(r.outNorm);
    }
    pytorchLinearInit(m_readOut->weight, &m_readOut->bias, gen);  // PyTorch's default, as the paper's code
}

std::int64_t BertEncoderImpl::parameterCount() const {
    std::int64_t n = 0;
    for (const auto& p : parameters()) n += p.numel();
    return n;
}

BertDims bertDimsOf(const mc::ModelConfig& m) {
    BertDims d;
    d.vocabSize = m.vocabSize;
    d.maxPositions = m.maxPositions;
    d.width = m.width;
    d.heads = m.heads;
    d.layers = m.layers;
    d.ffn = m.ffn;
    d.initStd = m.initStd;
    return d;
}

std::int64_t bertParameterCount(const BertDims& d) {
    mc::ModelConfig m;
    m.vocabSize = d.vocabSize;
    m.maxPositions = d.maxPositions;
    m.width = d.width;
    m.heads = d.heads;
    m.layers = d.layers;
    m.ffn = d.ffn;
    return mc::bertParameterCount(m);
}

torch::Tensor BertEncoderImpl::attention(int layer, BertLayerRefs& l, const torch::Tensor& h, const ForwardOptions& o,
                                         ForwardOutput& out) {
    const auto B = h.size(0), T = h.size(1);
    const int H = m_dims.heads, dh = m_dims.headDim();
    if (m_kernels.fusedAttention && h.scalar_type() == torch::kFloat32 && !o.touches(layer)) {
        // One GEMM for Q, K and V; autograd splits the weight gradient back per matrix.
        const auto w = torch::cat({l.query->weight, l.key->weight, l.value->weight}, 0);  // (3D, D)
        const auto b = torch::cat({l.query->bias, l.key->bias, l.value->bias}, 0);
        const auto qkv = m_kernels.bf16 ? bf16Linear(h, w, b) : m_kernels.oneDnnLinear ? fastLinear(h, w, b) : torch::linear(h, w, b);  // (B, T, 3D)
        auto outs = m_kernels.bf16 && dh >= kBf16AttentionMinHeadDim ? bf16SelfAttention(qkv, H)
                                                                      : fusedSelfAttention(qkv, H);  // {(B, T, D), (B, H, T, T)}
        if (o.attentions) out.attentions.push_back(outs[1]);
        return outs[0];
    }
    auto split = [&](const torch::Tensor& x) { return x.view({B, T, H, dh}).transpose(1, 2); };
    auto proj = [&](torch::nn::Linear& m) { return m_kernels.bf16 ? bf16Linear(h, m->weight, m->bias) : m(h); };
    auto q = split(proj(l.query));  // (B, H, T, dh)
    auto k = split(proj(l.key));
    auto v = split(proj(l.value));
    auto scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(double(dh));  // (B, H, T, T)
    auto probs = torch::softmax(scores, -1);
    if (!o.interventions.empty())
        probs = applyInterventions(o, layer, probs, torch::ones({T, T}, torch::TensorOptions().dtype(torch::kBool)));
    if (o.attentions) out.attentions.push_back(probs);
    auto ctx = applyPatch(o, layer, torch::matmul(probs, v));  // (B, H, T, dh)
    if (o.contexts) out.contexts.push_back(ctx);
    return ctx.transpose(1, 2).reshape({B, T, m_dims.width});
}

torch::Tensor BertEncoderImpl::linear(torch::nn::Linear& l, const torch::Tensor& x) {
    if (m_kernels.bf16) return bf16Linear(x, l->weight, l->bias);
    return m_kernels.oneDnnLinear ? fastLinear(x, l->weight, l->bias) : l(x);
}

bool BertEncoderImpl::fastFp32(const torch::Tensor& x) const {
    return !m_kernels.bf16 && m_kernels.oneDnnLinear && x.scalar_type() == torch::kFloat32;
}

torch::Tensor BertEncoderImpl::residualLinear(torch::nn::Linear& l, const torch::Tensor& x, const torch::Tensor& residual) {
    if (m_kernels.fusedNorm && fastFp32(x)) return fastLinear(x, l->weight, l->bias, residual);
    if (m_kernels.bf16 && x.scalar_type() == torch::kFloat32) return bf16Linear(x, l->weight, l->bias, residual);
    return residual + linear(l, x);
}

torch::Tensor BertEncoderImpl::mlp(BertLayerRefs& l, const torch::Tensor& h) {
    if (m_kernels.bf16 && h.scalar_type() == torch::kFloat32)
        return bf16GeluMlp(h, l.intermediate->weight, l.intermediate->bias, l.output->weight, l.output->bias, h);
    if (m_kernels.fusedMlp && fastFp32(h))
        return fusedGeluMlp(h, l.intermediate->weight, l.intermediate->bias, l.output->weight, l.output->bias, h);
    return residualLinear(l.output, torch::gelu(linear(l.intermediate, h)), h);
}

torch::Tensor BertEncoderImpl::norm(torch::nn::LayerNorm& n, const torch::Tensor& x) const {
    if (m_kernels.fusedNorm && x.scalar_type() == torch::kFloat32)
        return fusedLayerNorm(x, n->weight, n->bias, n->options.eps());
    return n(x);
}

ForwardOutput BertEncoderImpl::forward(const torch::Tensor& tokens, const ForwardOptions& opts) {
    const auto T = tokens.size(1);
    TORCH_CHECK(T <= m_dims.maxPositions, "sequence longer than max positions");
    ForwardOutput out;
    auto positions = torch::arange(T, torch::kInt64);
    auto h = norm(m_embNorm, m_wordEmb(tokens) + m_posEmb(positions));  // (B, T, D)
    if (opts.hiddenStates) out.hiddenStates.push_back(h);
    for (int li = 0; li < int(m_layers.size()); ++li) {
        BertLayerRefs& l = m_layers[std::size_t(li)];
        auto a = attention(li, l, h, opts, out);
        h = norm(l.attnNorm, residualLinear(l.attnOut, a, h));
        h = norm(l.outNorm, mlp(l, h));
        if (opts.hiddenStates) out.hiddenStates.push_back(h);
    }
    out.output = m_readOut(h).squeeze(-1);  // (B, T)
    return out;
}

}  // namespace plateau
