// In-context modular arithmetic's training half: the task set built once from the data seed,
// batches from the counter-based RNG (each i.d. task equally often), cross-entropy on the z tokens
// only, and on the evaluation cadence accuracy for the four sets. Training thread only.
#pragma once

#include <torch/torch.h>

#include "experiment.h"
#include "experiments/modular_arithmetic/ma_info.h"
#include "model/decoder_lm.h"
#include "train/data_stream.h"

#include <functional>

namespace plateau {

struct ModularBatch {
    torch::Tensor input;   // (B, 3E - 1) int64
    torch::Tensor target;  // (B, 3E - 1) int64: the next token
    torch::Tensor zMask;   // (3E - 1) bool: positions whose target is a z (the scored ones)
};

// The shot counts of the correctness maps for `examples` per sequence: 1, 2, 4, ... and examples - 1.
std::vector<int> mapShots(int examples);

class ModularExperiment : public Experiment {
public:
    explicit ModularExperiment(const RunConfig& cfg);

    std::vector<NamedParameter> parameters() override;
    bool setBf16(bool on) override {
        m_model->setBf16(on);
        return true;
    }
    StepOutput trainStep(qint64 stepsDone) override;
    void evaluate(qint64 stepsDone, std::vector<double>& values) override;
    SnapshotPtr snapshot(qint64 step, double timeS, const ProbeSpec& probe, bool saved) override;

    DecoderLM& model() { return m_model; }
    const ma::TaskSet& tasks() const { return m_tasks; }
    // Sequence b is of tasks[b % tasks.size()], its pairs from `pairs`; a function of (data seed,
    // stream, counter, b).
    ModularBatch batch(const std::vector<ma::TaskVector>& tasks, const std::vector<int>& pairs, int size,
                       DataStream stream, qint64 counter) const;

    enum Column { Loss = 0, FirstAcc = 1, FirstLastAcc = 5 };

    // The snapshot's evaluations, through any model: tokens (B, T) -> logits (B, T, p), and with
    // `contexts` each layer's per-head context (pca.* is skipped when a forward gives none). The
    // snapshot uses the decoder (modelForward()); the tests a hand-made model with known answers.
    using Forward = std::function<DecoderForwardOutput(const torch::Tensor& tokens, bool contexts)>;
    Forward modelForward();
    // matrices.* of the p x p correctness maps at mapShots() shots, maps.*, map_acc_* scalars, pca.*
    void correctnessMaps(Snapshot& s, const Forward& forward);
    // kshot.acc (4 sets x E positions: the z of example e has e examples before it), kshot.shots
    void kShotCurves(Snapshot& s, const Forward& forward);

private:
    void headPca(Snapshot& s, const std::vector<torch::Tensor>& contexts, const ma::TaskVector& task, const float* modelZ);

    ma::Settings m_s;
    ma::TaskSet m_tasks;
    DecoderLM m_model{nullptr};
};

}  // namespace plateau
