// The post-LN BERT encoder of the paper (HF BertModel semantics, no token-type embeddings, no
// dropout) plus a Linear(d, 1) readout. Parameter names match HF (`encoder.layer.0.attention.
// self.query.weight`, ... `read_out.weight`). Owned and run by one thread at a time (the trainer's).
#pragma once

#include <torch/torch.h>

#include "experiments/matrix_completion/mc_config.h"
#include "model/head_hooks.h"

#include <string>
#include <vector>

namespace plateau {

struct BertDims {
    int vocabSize = 2002;
    int maxPositions = 512;
    int width = 768;
    int heads = 8;
    int layers = 4;
    int ffn = 3072;
    double initStd = 0.02;  // N(0, initStd) for embeddings and Linear weights
    int headDim() const { return width / heads; }
};

struct KernelOptions {
    bool fusedAttention = true;  // model/fused_attention.h (and one GEMM for Q, K, V)
    bool oneDnnLinear = true;    // model/fast_linear.h
    bool bf16 = false;           // train.precision = bf16: the linears through bf16Linear (precision.h)
    bool fusedMlp = true;        // model/fused_layers.h: GEMM, GELU, GEMM in cache-sized row blocks (needs oneDnnLinear)
    bool fusedNorm = true;       // model/fused_layers.h: LayerNorm kernels; residuals added inside the GEMMs
    static KernelOptions plain() { return {false, false, false, false, false}; }
};

// The kernels every encoder built afterwards starts with (all fast unless changed). For tests and
// benchmarks that must reproduce the arithmetic of builds from before a kernel existed
// (tst_fixtures); change it before any model is built, from one thread.
KernelOptions& defaultKernels();

// Besides predicting: what to keep, and the per-head hooks of the analyses (head_hooks.h).
struct ForwardOptions : HeadHooks {
    bool attentions = false;    // keep every layer's attention probabilities
    bool hiddenStates = false;  // keep the embedding output and every layer's output
};

struct ForwardOutput {
    torch::Tensor output;                     // (B, T) readout per token
    std::vector<torch::Tensor> attentions;    // L x (B, H, T, T), if requested
    std::vector<torch::Tensor> hiddenStates;  // (L + 1) x (B, T, D), if requested
    std::vector<torch::Tensor> contexts;      // L x (B, H, T, dh), if requested
};

// Views of one layer's modules, for the analyses (spectra, patching) and the forward pass.
struct BertLayerRefs {
    torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr}, attnOut{nullptr};
    torch::nn::LayerNorm attnNorm{nullptr};
    torch::nn::Linear intermediate{nullptr}, output{nullptr};
    torch::nn::LayerNorm outNorm{nullptr};
};

class BertEncoderImpl : public torch::nn::Module {
public:
    explicit BertEncoderImpl(const BertDims& dims);

    // tokens: (B, T) int64 ids, T <= maxPositions. Returns the (B, T) readout.
    ForwardOutput forward(const torch::Tensor& tokens, const ForwardOptions& opts = {});

    const BertDims& dims() const { return m_dims; }
    // Fast kernels (all on by default) or plain LibTorch ops; both compute the same function.
    // Plain ops are always used for non-float32 parameters (float64 gradient checks).
    void setKernels(const KernelOptions& k) { m_kernels = k; }
    const KernelOptions& kernels() const { return m_kernels; }
    const BertLayerRefs& layer(int i) const { return m_layers.at(std::size_t(i)); }
    // The token and position embedding tables (analyses read them; the embeddings analysis
    // permutes the position rows and puts them back).
    torch::nn::Embedding& wordEmbeddings() { return m_wordEmb; }
    torch::nn::Embedding& positionEmbeddings() { return m_posEmb; }
    std::int64_t parameterCount() const;

    // HF initialisation: N(0, initStd) weights (HF and the paper: 0.02), zero biases, LN (1, 0),
    // padding row zero; the readout keeps PyTorch's default Linear init. Uses torch's global
    // generator (what the constructor does).
    void resetParameters();
    // The same from `gen`, after first drawing from it what the modules' constructors draw
    // (Linear's Kaiming-uniform weights and uniform biases, Embedding's N(0, 1)), in construction
    // order: so a generator seeded with s gives exactly the weights torch::manual_seed(s) followed
    // by construction and resetParameters() gave (runs before per-experiment generators existed).
    void resetParameters(torch::Generator& gen);

private:
    void initialise(c10::optional<torch::Generator> gen);
    torch::Tensor attention(int layer, BertLayerRefs& l, const torch::Tensor& h, const ForwardOptions& o, ForwardOutput& out);
    torch::Tensor linear(torch::nn::Linear& l, const torch::Tensor& x);
    bool fastFp32(const torch::Tensor& x) const;  // the fp32 oneDNN path (not bf16, not plain ops)
    torch::Tensor residualLinear(torch::nn::Linear& l, const torch::Tensor& x, const torch::Tensor& residual);
    torch::Tensor mlp(BertLayerRefs& l, const torch::Tensor& h);  // h + FFN(h)
    torch::Tensor norm(torch::nn::LayerNorm& n, const torch::Tensor& x) const;

    BertDims m_dims;
    KernelOptions m_kernels;
    torch::nn::Embedding m_wordEmb{nullptr}, m_posEmb{nullptr};
    torch::nn::LayerNorm m_embNorm{nullptr};
    std::vector<BertLayerRefs> m_layers;
    torch::nn::Linear m_readOut{nullptr};
};
TORCH_MODULE(BertEncoder);

// The model sizes of a run configuration.
BertDims bertDimsOf(const mc::ModelConfig& m);

// Parameter-count of a configuration without building it.
std::int64_t bertParameterCount(const BertDims& d);

}  // namespace plateau
