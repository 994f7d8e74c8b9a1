// DecoderDims: the sizes and options of a DecoderLM (model/decoder_lm.h), with the config fields
// that choose them and their parameter count, without torch (experiment descriptions use them).
// Plain data, any thread.
#pragma once

#include "params.h"

#include <QJsonObject>
#include <QString>
#include <cstdint>
#include <vector>

namespace plateau {

struct DecoderDims {
    enum class Positions { Learned, Rotary, None };
    enum class Norm { Pre, Post, None };
    enum class Mlp { Gelu, GeluTanh, Relu, None };
    enum class Attention { Softmax, Linear };
    enum class ResidualInit { AllProjections, MlpProjection, None };

    int vocabSize = 405;
    int maxPositions = 99;       // learned position embeddings (the block size)
    int width = 256;
    int heads = 2;
    int layers = 2;
    int ffn = 1024;              // MLP hidden size (4 x width in GPT)
    Positions positions = Positions::Learned;
    Norm norm = Norm::Pre;
    bool finalNorm = true;       // ln_f after the last block (pre-LN); ignored without norms
    Mlp mlp = Mlp::GeluTanh;
    bool bias = true;            // every Linear (LayerNorms keep their affine either way)
    bool tiedHead = false;       // lm_head shares transformer.wte.weight
    Attention attention = Attention::Softmax;
    double initStd = 0.02;       // N(0, s) for Linear weights
    double embeddingInitStd = 0.02;  // N(0, e) for the token and position embeddings (wte, wpe)
    // The residual projections' std s / sqrt(2 layers): every c_proj (minGPT), only the MLP's
    // (the in-context modular arithmetic code), or none.
    ResidualInit residualInit = ResidualInit::AllProjections;
    double lnEps = 1e-5;
    double rotaryBase = 10000.0;
    int headDim() const { return width / heads; }
};

// The model fields every decoder experiment offers, with that experiment's defaults (`d`).
std::vector<FieldSpec> decoderModelFields(const DecoderDims& d);
// The dims those fields give (vocabSize and maxPositions come from the task: pass them).
DecoderDims decoderDimsOf(const ParamSet& model, int vocabSize, int maxPositions);
// Cross-field checks (width divisible by heads, even head dim for rotary); `source` names the file.
Status validateDecoderDims(const DecoderDims& d, const QString& source);
// Parameter count without building the model (lm_head counted once when tied).
std::int64_t decoderParameterCount(const DecoderDims& d);
// What `describe` / `info` print of a decoder: parameter count, vocabulary, head dim, options.
QJsonObject decoderQuantities(const DecoderDims& d);

}  // namespace plateau
