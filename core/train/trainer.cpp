#include "train/trainer.h"

#include "precision.h"

#include "run/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <cmath>
#include <stdexcept>

namespace plateau {

double weightDecayFor(const NamedParameter& p, const OptimConfig& o) {
    auto inherit = [&](double own) { return own >= 0 ? own : o.weightDecay; };
    double group = o.weightDecay;
    switch (p.role) {
    case ParamRole::Attention: group = o.attnWeightDecay; break;
    case ParamRole::Mlp: group = inherit(o.mlpWeightDecay); break;
    case ParamRole::Embedding: group = inherit(o.embeddingWeightDecay); break;
    case ParamRole::Readout: group = inherit(o.readoutWeightDecay); break;
    case ParamRole::Norm:
    case ParamRole::Other: group = o.weightDecay; break;
    }
    if (!p.biasOrNorm) return group;
    if (o.normWeightDecay >= 0) return o.normWeightDecay;
    return o.decayBiasesAndNorms ? group : 0.0;
}

std::unique_ptr<Optimizer> makeOptimizer(const OptimConfig& o) {
    if (o.name == "sgd") return std::make_unique<Sgd>(o.momentum);
    return std::make_unique<Adam>(o.beta1, o.beta2, o.eps, o.name == "adamw");
}

bool inComponent(const std::string& n, const QString& c) {
    auto has = [&](const char* s) { return n.find(s) != std::string::npos; };
    if (c.isEmpty()) return true;
    if (c == "tokens") return has("word_embeddings") || has(".wte.");
    if (c == "positions") return has("position_embeddings") || has(".wpe.");
    if (c == "embeddings") return n.rfind("embeddings.", 0) == 0 || has(".wte.") || has(".wpe.");
    if (c == "attention") return has(".attention.") || has(".attn.") || has(".ln_1.");
    if (c == "mlp") return has(".intermediate.") || (has(".output.") && !has(".attention.")) || has(".mlp.") || has(".ln_2.");
    if (c == "readout") return n.rfind("read_out.", 0) == 0 || n.rfind("lm_head.", 0) == 0;
    return false;
}

namespace {
// A component's parameters drawn again: matrices N(0, model.init_std) (the experiments' own
// Linear and embedding init), biases 0, norm gains 1; from a generator seeded by train.seed.
void reinitialise(const std::vector<NamedParameter>& params, const RunConfig& cfg) {
    torch::NoGradGuard g;
    auto gen = at::detail::createCPUGenerator(std::uint64_t(cfg.train.seed) ^ 0x9e3779b97f4a7c15ULL);
    const double std = cfg.model.has("init_std") ? cfg.model.d("init_std") : 0.02;
    for (const NamedParameter& p : params) {
        if (!inComponent(p.name, cfg.train.trainOnly)) continue;
        const bool norm = p.name.find("LayerNorm") != std::string::npos || p.name.find("ln_") != std::string::npos;
        const bool bias = p.name.size() >= 4 && p.name.compare(p.name.size() - 4, 4, "bias") == 0;
        if (bias) p.tensor.zero_();
        else if (norm || p.tensor.dim() < 2) p.tensor.fill_(1.0);
        else p.tensor.normal_(0.0, std, gen);
        if (p.name.find("word_embeddings") != std::string::npos) p.tensor[0].zero_();  // BERT's padding row (MASK)
    }
}
}  // namespace

Trainer::Trainer(const RunConfig& cfg, Init init) : m_cfg(cfg), m_opt(makeOptimizer(cfg.optim)) {
    auto precision = resolvePrecision(cfg.train.precision, bf16Support(), "config");
    if (!precision) throw std::runtime_error(precision.error().toStdString());
    m_cfg.train.precision = precision.value();
    auto e = makeExperiment(m_cfg);
    if (!e) throw std::runtime_error(e.error().toStdString());
    m_experiment = std::move(e.value());
    if (!m_experiment->setBf16(m_cfg.train.precision == "bf16") )
        throw std::runtime_error(("config: train.precision: bf16: " + m_cfg.experiment + " has no layers that run in bf16; use fp32").toStdString());
    m_named = m_experiment->parameters();
    m_columnCount = m_experiment->info().columnsOf(cfg).size();
    if (init == Init::Fresh && !cfg.train.from.isEmpty()) {
        auto path = sourceCheckpoint(cfg.train, "config");
        if (!path) throw std::runtime_error(path.error().toStdString());
        auto loaded = loadModelWeights(*m_experiment, path.value());
        if (!loaded) throw std::runtime_error(("config: train.from: " + loaded.error()).toStdString());
    }
    if (init == Init::Fresh && cfg.train.reinit) reinitialise(m_named, cfg);
    bool any = false;
    for (const NamedParameter& p : m_named) {
        if (!inComponent(p.name, cfg.train.trainOnly)) {
            p.tensor.requires_grad_(false);  // frozen: no gradient, not in the optimiser
            continue;
        }
        any = true;
        m_opt->add(p.name, p.tensor, weightDecayFor(p, cfg.optim));
        m_params.push_back(p.tensor);
    }
    if (!any) throw std::runtime_error(("config: train.train_only: " + cfg.train.trainOnly + ": no parameter of this model belongs to it").toStdString());
}

std::int64_t Trainer::trainableCount() const {
    std::int64_t n = 0;
    for (const torch::Tensor& t : m_params) n += t.numel();
    return n;
}

Trainer::~Trainer() = default;

void Trainer::restoreCounters(qint64 stepsDone, double trainSeconds) {
    m_stepsDone = stepsDone;
    m_trainSeconds = trainSeconds;
}

double Trainer::learningRate(qint64 s) const {
    const auto& o = m_cfg.optim;
    if (o.warmupSteps > 0 && s <= o.warmupSteps) return o.lr * double(s) / double(o.warmupSteps);
    const qint64 start = std::max<qint64>(o.warmupSteps, o.decayStart);
    if (o.schedule == "cosine" && m_cfg.train.steps > start) {
        const double span = double(m_cfg.train.steps - start);
        const double progress = std::clamp(double(s - start) / span, 0.0, 1.0);
        return o.lr * (o.minLrRatio + (1.0 - o.minLrRatio) * 0.5 * (1.0 + std::cos(M_PI * progress)));
    }
    return o.lr;
}

StepMetrics Trainer::step() {
    const auto t0 = std::chrono::steady_clock::now();
    for (auto& p : m_params) p.mutable_grad().reset();  // set_to_none: no memset
    StepOutput out = m_experiment->trainStep(m_stepsDone);
    out.loss.backward();

    StepMetrics m;
    m.step = m_stepsDone + 1;
    m.gradNorm = clipGradNorm(m_params, m_cfg.optim.gradClip);
    m.lr = learningRate(m.step);
    m_opt->step(m.lr);
    m.values = std::move(out.values);
    if (m.values.size() != m_columnCount)
        throw std::logic_error("experiment " + m_cfg.experiment.toStdString() + " returned the wrong number of metric values");
    if (m_cfg.train.evalEvery > 0 && m.step % m_cfg.train.evalEvery == 0) m_experiment->evaluate(m_stepsDone, m.values);
    ++m_stepsDone;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    m_trainSeconds += secs;
    m.stepMs = secs * 1000.0;
    m.timeS = m_trainSeconds;
    return m;
}

}  // namespace plateau
