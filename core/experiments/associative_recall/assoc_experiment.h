// Associative recall's training half: sequences from the counter-based RNG, an attention-only
// DecoderLM, cross-entropy at the query, and every step the pseudo-ranks, factor imbalance and
// nuclear-minus-Frobenius gap of each layer's attention circuits. Training thread only.
#pragma once

#include <torch/torch.h>

#include "experiment.h"
#include "experiments/associative_recall/assoc_info.h"
#include "model/decoder_lm.h"
#include "train/data_stream.h"

namespace plateau {

struct RecallBatch {
    torch::Tensor seq;     // (B, 2K + 1) int64: x1 y1 ... xK yK x_query
    torch::Tensor target;  // (B) int64: the value id to predict (noisy where the stream adds noise)
    torch::Tensor clean;   // (B) int64: the query's true value id
};

class AssocExperiment : public Experiment {
public:
    explicit AssocExperiment(const RunConfig& cfg);

    std::vector<NamedParameter> parameters() override;
    bool setBf16(bool on) override {
        m_model->setBf16(on);
        return true;
    }
    StepOutput trainStep(qint64 stepsDone) override;
    void evaluate(qint64 stepsDone, std::vector<double>& values) override;
    SnapshotPtr snapshot(qint64 step, double timeS, const ProbeSpec& probe, bool saved) override;

    DecoderLM& model() { return m_model; }
    RecallBatch batch(int size, DataStream stream, qint64 counter, bool noisy) const;
    // The same from another data seed (the analyses' own `seed`).
    RecallBatch batch(int size, DataStream stream, qint64 counter, bool noisy, std::uint64_t seed) const;
    const assoc::Settings& settings() const { return m_s; }

    enum Column { Loss = 0, Acc, EvalLoss, EvalAcc, FirstLayerColumn };

private:
    void circuitColumns(std::vector<double>& values);

    assoc::Settings m_s;
    DecoderLM m_model{nullptr};
};

}  // namespace plateau
