// Trainer: owns the model, the optimiser and the data streams of one run and advances it one
// step at a time. Not thread-safe: one thread (the CLI's main thread or the GUI's worker) drives
// it; other threads talk to the loop through TrainControl.
#pragma once

#include <torch/torch.h>

#include "config.h"
#include "metrics.h"
#include "model/bert_encoder.h"
#include "tasks/matrix_completion_task.h"
#include "train/adam.h"

namespace plateau {

class Trainer {
public:
    // Builds and initialises the model from cfg.train.seed (torch's global generator).
    explicit Trainer(const RunConfig& cfg);

    // One optimiser update on a fresh batch; returns its metrics (step = steps done after it).
    StepMetrics step();

    // Learning rate for the 1-based update number s (warm-up, then constant or cosine).
    double learningRate(qint64 s) const;

    qint64 stepsDone() const { return m_stepsDone; }
    double trainSeconds() const { return m_trainSeconds; }
    const RunConfig& config() const { return m_cfg; }
    BertEncoder& model() { return m_model; }
    const MatrixCompletionTask& task() const { return m_task; }
    Adam& optimizer() { return m_opt; }

    // Restores the counters after loading a checkpoint (see run/checkpoint.h).
    void restoreCounters(qint64 stepsDone, double trainSeconds);

private:
    RunConfig m_cfg;
    MatrixCompletionTask m_task;
    BertEncoder m_model{nullptr};
    Adam m_opt;
    std::vector<torch::Tensor> m_params;
    qint64 m_stepsDone = 0;
    double m_trainSeconds = 0.0;
};

// Weight decay a parameter gets under cfg (attention matrices, other matrices, biases/norms).
double weightDecayFor(const std::string& name, const OptimConfig& cfg);

}  // namespace plateau
