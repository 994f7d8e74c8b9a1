#include "train/trainer.h"

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

Trainer::Trainer(const RunConfig& cfg) : m_cfg(cfg), m_opt(makeOptimizer(cfg.optim)) {
    auto e = makeExperiment(cfg);
    if (!e) throw std::runtime_error(e.error().toStdString());
    m_experiment = std::move(e.value());
    m_named = m_experiment->parameters();
    m_columnCount = m_experiment->info().columnsOf(cfg).size();
    for (const NamedParameter& p : m_named) {
        m_opt->add(p.name, p.tensor, weightDecayFor(p, cfg.optim));
        m_params.push_back(p.tensor);
    }
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
