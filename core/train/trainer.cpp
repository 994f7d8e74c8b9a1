#include "train/trainer.h"

#include <chrono>
#include <cmath>

namespace plateau {

namespace {
bool endsWith(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

double weightDecayFor(const std::string& name, const OptimConfig& cfg) {
    const bool isNormOrBias = endsWith(name, ".bias") || name.find("LayerNorm") != std::string::npos;
    if (isNormOrBias && !cfg.decayBiasesAndNorms) return 0.0;
    const bool isAttention = name.find(".attention.self.") != std::string::npos ||
                             name.find(".attention.output.dense.") != std::string::npos;
    return isAttention ? cfg.attnWeightDecay : cfg.weightDecay;
}

Trainer::Trainer(const RunConfig& cfg)
    : m_cfg(cfg),
      m_task(cfg.task),
      m_opt(cfg.optim.beta1, cfg.optim.beta2, cfg.optim.eps, cfg.optim.name == "adamw") {
    torch::manual_seed(std::uint64_t(cfg.train.seed));
    m_model = BertEncoder(bertDimsOf(cfg.model));
    for (const auto& item : m_model->named_parameters()) {
        m_opt.add(item.key(), item.value(), weightDecayFor(item.key(), cfg.optim));
        m_params.push_back(item.value());
    }
}

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
    const auto seed = std::uint64_t(m_cfg.dataSeed());
    const Batch batch = m_task.sample(m_cfg.task.batchSize, seed, DataStream::Train,
                                      std::uint64_t(m_stepsDone));
    for (auto& p : m_params) p.mutable_grad().reset();  // set_to_none: no memset
    const torch::Tensor out = m_model->forward(batch.tokens).output;  // (B, T)
    torch::mse_loss(out, batch.target).backward();

    StepMetrics m;
    m.step = m_stepsDone + 1;
    m.gradNorm = clipGradNorm(m_params, m_cfg.optim.gradClip);
    m.lr = learningRate(m.step);
    m_opt.step(m.lr);
    const LossParts parts = lossParts(out, batch);
    m.loss = parts.loss;
    m.lossObs = parts.lossObs;
    m.lossMask = parts.lossMask;
    m.meanAbsMaskOut = parts.meanAbsMaskOut;

    if (m_cfg.train.evalEvery > 0 && m.step % m_cfg.train.evalEvery == 0) {
        torch::NoGradGuard noGrad;
        const Batch eval = m_task.sample(m_cfg.task.evalBatchSize, seed, DataStream::Eval,
                                         std::uint64_t(m_stepsDone));
        m.evalLoss = lossParts(m_model->forward(eval.tokens).output, eval).loss;
    }
    ++m_stepsDone;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    m_trainSeconds += secs;
    m.stepMs = secs * 1000.0;
    m.timeS = m_trainSeconds;
    return m;
}

}  // namespace plateau
