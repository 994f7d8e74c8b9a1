// The training halves of the registered experiments (one line each; their descriptions are listed
// in experiment_registry.cpp), and what every experiment shares: its generator, the default
// evaluation and probe checks, and the snapshot helpers for attention and head spectra.
#include <torch/torch.h>

#include "experiment.h"

#include "analysis/spectra.h"
#include "experiments/associative_recall/assoc_experiment.h"
#include "experiments/modular_arithmetic/ma_experiment.h"
#include "experiments/factor_toy/factor_experiment.h"
#include "experiments/gpt_matrix_completion/gpt_mc_experiment.h"
#include "experiments/matrix_completion/mc_experiment.h"

namespace plateau {

const char* paramRoleName(ParamRole r) {
    switch (r) {
    case ParamRole::Attention: return "attention";
    case ParamRole::Mlp: return "mlp";
    case ParamRole::Embedding: return "embedding";
    case ParamRole::Norm: return "norm";
    case ParamRole::Readout: return "readout";
    case ParamRole::Other: return "other";
    }
    return "other";
}

namespace {
bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }
bool endsWith(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

NamedParameter classifyDecoderParameter(const std::string& name, const torch::Tensor& t) {
    NamedParameter p{name, t, ParamRole::Other, false};
    const bool norm = contains(name, ".ln_");
    p.biasOrNorm = norm || endsWith(name, ".bias");
    if (norm) p.role = ParamRole::Norm;
    else if (contains(name, ".attn.")) p.role = ParamRole::Attention;
    else if (contains(name, ".mlp.")) p.role = ParamRole::Mlp;
    else if (contains(name, ".wte.") || contains(name, ".wpe.")) p.role = ParamRole::Embedding;
    else if (contains(name, "lm_head")) p.role = ParamRole::Readout;
    return p;
}

std::vector<NamedParameter> decoderParameters(torch::nn::Module& model) {
    std::vector<NamedParameter> out;
    for (const auto& item : model.named_parameters()) out.push_back(classifyDecoderParameter(item.key(), item.value()));
    return out;
}

Experiment::Experiment(const RunConfig& cfg)
    : m_cfg(cfg), m_gen(at::make_generator<at::CPUGeneratorImpl>(std::uint64_t(cfg.train.seed))) {}

Experiment::~Experiment() = default;

void Experiment::evaluate(qint64, std::vector<double>&) {}

Status Experiment::validateProbe(const ProbeSpec& spec) const {
    if (spec.source != MaskSource::Random)
        return Error{"experiment " + m_cfg.experiment + " probes with its own batch only (no mask choice)"};
    return Status::success();
}

std::int64_t Experiment::parameterCount() {
    std::int64_t n = 0;
    for (const NamedParameter& p : parameters()) n += p.tensor.numel();
    return n;
}

std::vector<double> Experiment::emptyValues() const {
    return std::vector<double>(info().columnsOf(m_cfg).size(), std::numeric_limits<double>::quiet_NaN());
}

Result<std::unique_ptr<Experiment>> makeExperiment(const RunConfig& cfg) {
    try {
        if (cfg.experiment == "matrix_completion") return std::unique_ptr<Experiment>(new McExperiment(cfg));
        if (cfg.experiment == "factor_toy") return std::unique_ptr<Experiment>(new FactorExperiment(cfg));
        if (cfg.experiment == "gpt_matrix_completion") return std::unique_ptr<Experiment>(new GptMcExperiment(cfg));
        if (cfg.experiment == "associative_recall") return std::unique_ptr<Experiment>(new AssocExperiment(cfg));
        if (cfg.experiment == "modular_arithmetic") return std::unique_ptr<Experiment>(new ModularExperiment(cfg));
    } catch (const std::exception& e) {
        return Error{"experiment " + cfg.experiment + ": cannot build: " +
                     QString::fromStdString(e.what()).section('\n', 0, 0)};
    }
    return Error{"experiment: \"" + cfg.experiment + "\" has no training half in this build"};
}

std::vector<CircuitStats> layerCircuitStats(int heads, const torch::Tensor& wqIn, const torch::Tensor& wkIn,
                                            const torch::Tensor& wvIn, const torch::Tensor& woIn) {
    const torch::Tensor wq = wqIn.detach().to(torch::kFloat32).contiguous();  // (D, D): rows = outputs
    const torch::Tensor wk = wkIn.detach().to(torch::kFloat32).contiguous();
    const torch::Tensor wv = wvIn.detach().to(torch::kFloat32).contiguous();
    const torch::Tensor wo = woIn.detach().to(torch::kFloat32).contiguous();  // (D, D): columns = heads' outputs
    const int D = int(wq.size(1)), H = heads, dh = int(wq.size(0)) / heads;
    TORCH_CHECK(wo.size(0) == D && wo.size(1) == H * dh, "head circuits need a square output projection");
    const float *q = wq.data_ptr<float>(), *k = wk.data_ptr<float>(), *v = wv.data_ptr<float>(), *o = wo.data_ptr<float>();
    std::vector<float> a(std::size_t(D) * std::size_t(dh)), b(std::size_t(dh) * std::size_t(D));
    std::vector<CircuitStats> out;
    for (int h = 0; h < H; ++h) {
        // W_K,h^T W_Q,h: A = W_K,h^T (D x dh), B = W_Q,h (dh x D).
        for (int i = 0; i < D; ++i)
            for (int r = 0; r < dh; ++r) a[std::size_t(i * dh + r)] = k[std::size_t((h * dh + r) * D + i)];
        std::copy(q + std::size_t(h * dh) * std::size_t(D), q + std::size_t((h + 1) * dh) * std::size_t(D), b.begin());
        out.push_back(circuitStats(a.data(), b.data(), D, dh));
        // P_h W_V,h: A = P_h (D x dh), B = W_V,h (dh x D).
        for (int i = 0; i < D; ++i)
            for (int r = 0; r < dh; ++r) a[std::size_t(i * dh + r)] = o[std::size_t(i * D + h * dh + r)];
        std::copy(v + std::size_t(h * dh) * std::size_t(D), v + std::size_t((h + 1) * dh) * std::size_t(D), b.begin());
        out.push_back(circuitStats(a.data(), b.data(), D, dh));
    }
    return out;
}

std::shared_ptr<Snapshot> newSnapshot(qint64 step, double timeS, bool saved, int probeCount) {
    auto s = std::make_shared<Snapshot>();
    s->step = step;
    s->timeS = timeS;
    s->saved = saved;
    s->probeCount = probeCount;
    return s;
}

void addDecoderHeadSpectra(Snapshot& s, DecoderLMImpl& model) {
    const DecoderDims& d = model.dims();
    for (int l = 0; l < d.layers; ++l) {
        const DecoderBlockRefs& blk = model.block(l);
        const torch::Tensor w = blk.cAttn->weight.detach();  // (3D, D): [W_Q; W_K; W_V]
        addHeadSpectra(s, l, d.layers, d.heads, w.slice(0, 0, d.width), w.slice(0, d.width, 2 * d.width),
                       w.slice(0, 2 * d.width, 3 * d.width), blk.attnProj->weight);
    }
}

void addHeadSpectra(Snapshot& s, int layer, int layers, int heads, const torch::Tensor& wq, const torch::Tensor& wk,
                    const torch::Tensor& wv, const torch::Tensor& wo) {
    const std::vector<CircuitStats> stats = layerCircuitStats(heads, wq, wk, wv, wo);
    const int H = heads, dh = int(wq.size(0)) / heads;
    if (layer == 0) {
        s.addF32("spectra.qk", {layers, H, dh});
        s.addF32("spectra.ov", {layers, H, dh});
        s.add("spectra.qk_rank", ArrayType::I32, {layers, H});
        s.add("spectra.ov_rank", ArrayType::I32, {layers, H});
    }
    float* qkOut = s.arrays["spectra.qk"].f32.data();
    float* ovOut = s.arrays["spectra.ov"].f32.data();
    std::int32_t* qkRank = s.arrays["spectra.qk_rank"].i32.data();
    std::int32_t* ovRank = s.arrays["spectra.ov_rank"].i32.data();
    for (int h = 0; h < H; ++h) {
        const std::size_t at = std::size_t(layer * H + h);
        const std::vector<float>& qk = stats[std::size_t(2 * h)].singular;
        const std::vector<float>& ov = stats[std::size_t(2 * h + 1)].singular;
        std::copy(qk.begin(), qk.end(), qkOut + at * std::size_t(dh));
        std::copy(ov.begin(), ov.end(), ovOut + at * std::size_t(dh));
        qkRank[at] = pseudoRank(qk);
        ovRank[at] = pseudoRank(ov);
    }
}

void addAttention(Snapshot& s, const std::vector<torch::Tensor>& probs) {
    if (probs.empty()) return;
    const int L = int(probs.size()), H = int(probs[0].size(1)), T = int(probs[0].size(2));
    float* dst = s.addF32("attention", {L, H, T, T});
    const std::size_t per = std::size_t(H) * std::size_t(T) * std::size_t(T);
    for (int l = 0; l < L; ++l) {
        const torch::Tensor mean = probs[std::size_t(l)].mean(0).contiguous().to(torch::kFloat32);  // (H, T, T)
        std::copy(mean.data_ptr<float>(), mean.data_ptr<float>() + per, dst + std::size_t(l) * per);
    }
}

}  // namespace plateau
