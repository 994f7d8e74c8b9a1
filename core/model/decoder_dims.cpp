#include "model/decoder_dims.h"

namespace plateau {

namespace {
const QStringList kPositions{"learned", "rotary", "none"};
const QStringList kNorms{"pre", "post", "none"};
const QStringList kMlps{"gelu", "gelu_tanh", "relu", "none"};
const QStringList kAttention{"softmax", "linear"};
const QStringList kResidualInit{"all_projections", "mlp_projection", "none"};
}  // namespace

std::vector<FieldSpec> decoderModelFields(const DecoderDims& d) {
    return {
        intField("layers", d.layers, 1, 64, "decoder blocks"),
        intField("heads", d.heads, 1, 256, "attention heads per block"),
        intField("width", d.width, 1, 16384, "d_model (head dim = width / heads)"),
        intField("ffn", d.ffn, 1, 65536, "MLP hidden size (GPT: 4 x width)"),
        stringField("positions", kPositions[int(d.positions)], kPositions,
                    "learned absolute embeddings (transformer.wpe), rotary on Q and K (GPT-NeoX halves), or none"),
        stringField("norm", kNorms[int(d.norm)], kNorms, "LayerNorm before each sublayer (GPT-2), after it (BERT), or none"),
        boolField("final_norm", d.finalNorm, "transformer.ln_f after the last block (with pre norms)"),
        stringField("mlp", kMlps[int(d.mlp)], kMlps, "MLP activation; none = attention-only blocks"),
        boolField("bias", d.bias, "biases in every Linear (LayerNorms keep theirs)"),
        boolField("tied_head", d.tiedHead, "lm_head shares the token embedding"),
        stringField("attention", kAttention[int(d.attention)], kAttention,
                    "softmax(Q Kᵀ / sqrt(dh)) or linear (Q Kᵀ / sqrt(dh), causal, no softmax)"),
        doubleField("init_std", d.initStd, 1e-6, 1.0, "std s of the N(0, s) initialisation of every Linear weight"),
        doubleField("embedding_init_std", d.embeddingInitStd, 1e-6, 10.0,
                    "std of the N(0, e) initialisation of the token and position embeddings (GPT-2: 0.02; PyTorch's nn.Embedding: 1)"),
        stringField("residual_init", kResidualInit[int(d.residualInit)], kResidualInit,
                    "which residual projections start at s / sqrt(2 layers): every c_proj (minGPT), the MLP's, none"),
    };
}

DecoderDims decoderDimsOf(const ParamSet& m, int vocabSize, int maxPositions) {
    DecoderDims d;
    d.vocabSize = vocabSize;
    d.maxPositions = maxPositions;
    d.layers = m.i("layers");
    d.heads = m.i("heads");
    d.width = m.i("width");
    d.ffn = m.i("ffn");
    d.positions = DecoderDims::Positions(std::max(0, int(kPositions.indexOf(m.s("positions")))));
    d.norm = DecoderDims::Norm(std::max(0, int(kNorms.indexOf(m.s("norm")))));
    d.finalNorm = m.b("final_norm");
    d.mlp = DecoderDims::Mlp(std::max(0, int(kMlps.indexOf(m.s("mlp")))));
    d.bias = m.b("bias");
    d.tiedHead = m.b("tied_head");
    d.attention = DecoderDims::Attention(std::max(0, int(kAttention.indexOf(m.s("attention")))));
    d.initStd = m.d("init_std");
    d.embeddingInitStd = m.d("embedding_init_std");
    d.residualInit = DecoderDims::ResidualInit(std::max(0, int(kResidualInit.indexOf(m.s("residual_init")))));
    return d;
}

Status validateDecoderDims(const DecoderDims& d, const QString& source) {
    if (d.width % d.heads != 0)
        return Error{source + ": model.width: " + QString::number(d.width) + " is not divisible by model.heads = " +
                     QString::number(d.heads)};
    if (d.positions == DecoderDims::Positions::Rotary && d.headDim() % 2 != 0)
        return Error{source + ": model.positions: rotary needs an even head dim (width / heads = " +
                     QString::number(d.headDim()) + ")"};
    return Status::success();
}

QJsonObject decoderQuantities(const DecoderDims& d) {
    return QJsonObject{{"parameter_count", double(decoderParameterCount(d))},
                       {"vocab_size", d.vocabSize},
                       {"positions_max", d.maxPositions},
                       {"head_dim", d.headDim()}};
}

std::int64_t decoderParameterCount(const DecoderDims& d) {
    const std::int64_t w = d.width, f = d.ffn, b = d.bias ? 1 : 0;
    std::int64_t n = std::int64_t(d.vocabSize) * w;                                      // wte
    if (d.positions == DecoderDims::Positions::Learned) n += std::int64_t(d.maxPositions) * w;  // wpe
    const bool norms = d.norm != DecoderDims::Norm::None;
    std::int64_t block = (3 * w * w + 3 * w * b) + (w * w + w * b);                      // c_attn, c_proj
    if (d.mlp != DecoderDims::Mlp::None) block += (w * f + f * b) + (f * w + w * b) + (norms ? 2 * w : 0);  // ln_2 + mlp
    if (norms) block += 2 * w;                                                           // ln_1
    n += d.layers * block;
    if (norms && d.finalNorm && d.norm == DecoderDims::Norm::Pre) n += 2 * w;            // ln_f
    if (!d.tiedHead) n += std::int64_t(d.vocabSize) * w;                                 // lm_head (no bias)
    return n;
}

}  // namespace plateau
