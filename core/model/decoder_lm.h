// DecoderLM: one causal decoder family with options instead of copies. Positions learned | rotary |
// none; LayerNorm pre | post | none; MLP GELU (exact or tanh) | ReLU | none (attention-only);
// biases on or off; a tied or separate output head; softmax or linear attention. State-dict
// names follow nanoGPT / minGPT (transformer.wte.weight, transformer.h.{i}.attn.c_attn.weight,
// lm_head.weight, ...; nn.Linear layout (out, in)), so a researcher's nanoGPT code reads them. The
// GPT matrix completion, associative recall, modular arithmetic and a linear transformer are all
// configurations of it. Forward hooks for analyses: attention probabilities, hidden states,
// per-layer head contexts; a head intervention (zero, mean-ablate, uniform); replacing chosen
// heads' contexts (activation patching). Training takes the fast path (fused causal attention,
// oneDNN linears) and pays for no hook it does not use. Owned and run by one thread at a time.
#pragma once

#include <torch/torch.h>

#include "model/decoder_dims.h"
#include "model/head_hooks.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace plateau {

// What a forward pass may do besides predicting (analyses only; training uses none of it).
struct DecoderForwardOptions : HeadHooks {
    bool attentions = false;    // every layer's (B, H, T, T) probabilities (linear: the raw scores)
    bool hiddenStates = false;  // the embedding output and every block's output, (B, T, D)
};
struct DecoderForwardOutput {
    torch::Tensor logits;                     // (B, T, vocab)
    std::vector<torch::Tensor> attentions;    // L x (B, H, T, T)
    std::vector<torch::Tensor> hiddenStates;  // (L + 1) x (B, T, D)
    std::vector<torch::Tensor> contexts;      // L x (B, H, T, dh)
};

struct DecoderBlockRefs {
    torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr};
    torch::nn::Linear cAttn{nullptr}, attnProj{nullptr};
    torch::nn::Linear cFc{nullptr}, mlpProj{nullptr};
};

class DecoderLMImpl : public torch::nn::Module {
public:
    explicit DecoderLMImpl(const DecoderDims& dims);

    // tokens (B, T) int64, T <= maxPositions when positions are learned.
    DecoderForwardOutput forward(const torch::Tensor& tokens, const DecoderForwardOptions& opts = {});

    const DecoderDims& dims() const { return m_dims; }
    const DecoderBlockRefs& block(int i) const { return m_blocks.at(std::size_t(i)); }
    // The output head's weight (vocab, D): lm_head.weight, or wte.weight when tied.
    torch::Tensor headWeight() const;
    // Fast kernels (fused causal attention, oneDNN linears) or plain LibTorch ops; the same function.
    // Plain ops are always used for float64 and whenever a hook needs the probabilities.
    void setFastKernels(bool on) { m_fastAttention = m_fastLinear = on; }
    // One or the other (benchmarks): the fused attention kernel, the oneDNN linears.
    void setFastKernels(bool attention, bool linears) {
        m_fastAttention = attention;
        m_fastLinear = linears;
    }
    // train.precision = bf16: every linear and the output head through bf16Linear (precision.h).
    void setBf16(bool on) { m_bf16 = on; }
    bool bf16() const { return m_bf16; }
    // GPT's initialisation from gen (see DecoderDims::initStd, residualInit); zero biases, LN (1, 0).
    void resetParameters(torch::Generator& gen);

private:
    torch::Tensor linear(const torch::nn::Linear& l, const torch::Tensor& x) const;
    bool oneDnn(const torch::Tensor& x) const;
    torch::Tensor attention(int layer, const DecoderBlockRefs& b, const torch::Tensor& h, const DecoderForwardOptions& o,
                            DecoderForwardOutput& out);
    // residual + MLP(h); either GELU form through fusedGeluMlp on the fast fp32 path.
    torch::Tensor mlp(const DecoderBlockRefs& b, const torch::Tensor& h, const torch::Tensor& residual) const;
    torch::Tensor norm(torch::nn::LayerNorm n, const torch::Tensor& x) const;  // fusedLayerNorm on the fast path
    torch::Tensor rotate(const torch::Tensor& x) const;  // (B, T, H, dh) -> rotary-embedded

    DecoderDims m_dims;
    bool m_fastAttention = true, m_fastLinear = true, m_bf16 = false;
    torch::nn::Embedding m_wte{nullptr}, m_wpe{nullptr};
    torch::nn::LayerNorm m_lnF{nullptr};
    std::vector<DecoderBlockRefs> m_blocks;
    torch::nn::Linear m_head{nullptr};
    torch::Tensor m_cos, m_sin;  // rotary tables (maxPositions, dh)
};
TORCH_MODULE(DecoderLM);

}  // namespace plateau
