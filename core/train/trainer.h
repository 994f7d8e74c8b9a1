// Trainer: the generic step loop of one run: the experiment (model, data, loss, metrics), the
// optimiser over the experiment's parameters with per-role weight decay, the learning-rate
// schedule and the counters. One step: zero grads -> experiment.trainStep -> backward -> clip ->
// optimiser step -> experiment.evaluate when due. Not thread-safe: one thread (the CLI's main
// thread or the GUI's worker) drives it; other threads talk to the loop through TrainControl.
#pragma once

#include <torch/torch.h>

#include "config.h"
#include "experiment.h"
#include "metrics.h"
#include "train/optimizer.h"

#include <memory>

namespace plateau {

class Trainer {
public:
    // Builds the experiment (its model initialised from train.seed with its own generator) and
    // the optimiser. Throws std::runtime_error with a message naming the field if the experiment
    // cannot be built (TrainingSession turns it into an error).
    // Init::Fresh applies train.from (the source checkpoint's weights, then train.reinit);
    // Init::ForResume does not (the run's own checkpoint is loaded next). train.train_only
    // freezes every other parameter either way.
    enum class Init { Fresh, ForResume };
    explicit Trainer(const RunConfig& cfg, Init init = Init::Fresh);
    ~Trainer();

    // One optimiser update on a fresh batch; returns its metrics (step = steps done after it).
    StepMetrics step();

    // Learning rate for the 1-based update number s (warm-up, then constant or cosine).
    double learningRate(qint64 s) const;

    qint64 stepsDone() const { return m_stepsDone; }
    double trainSeconds() const { return m_trainSeconds; }
    const RunConfig& config() const { return m_cfg; }
    Experiment& experiment() { return *m_experiment; }
    Optimizer& optimizer() { return *m_opt; }
    // The experiment's parameters in the optimiser's (and the checkpoint's) order.
    const std::vector<NamedParameter>& parameters() const { return m_named; }
    // The parameters the optimiser updates (all but the frozen ones of train.train_only).
    std::int64_t trainableCount() const;

    // Restores the counters after loading a checkpoint (see run/checkpoint.h).
    void restoreCounters(qint64 stepsDone, double trainSeconds);

private:
    RunConfig m_cfg;
    std::unique_ptr<Experiment> m_experiment;
    std::unique_ptr<Optimizer> m_opt;
    std::vector<NamedParameter> m_named;
    std::vector<torch::Tensor> m_params;
    std::size_t m_columnCount = 0;
    qint64 m_stepsDone = 0;
    double m_trainSeconds = 0.0;
};

// Whether parameter `name` belongs to a train.train_only component (BERT's HF names and the
// decoders' nanoGPT names): embeddings (token + position embeddings and the embedding norm),
// tokens, positions, attention (Q, K, V, the output projection and the norm after it), mlp,
// readout. "" = every parameter.
bool inComponent(const std::string& name, const QString& component);

// Weight decay a parameter gets under cfg, by its role (optim.*_weight_decay).
double weightDecayFor(const NamedParameter& p, const OptimConfig& cfg);
// The optimiser optim.name names (adam, adamw, sgd).
std::unique_ptr<Optimizer> makeOptimizer(const OptimConfig& cfg);

}  // namespace plateau
