// The GPT matrix completion's training half: DecoderLM (the paper's minGPT as defaults) on
// sequences "masked matrix | SEP | full matrix" built from the matrix-completion task's data
// streams, next-token cross-entropy over the whole sequence, teacher-forced answer accuracy per
// step, greedy generation on the evaluation cadence and in the snapshots. Training thread only.
#pragma once

#include <torch/torch.h>

#include "experiment.h"
#include "experiments/gpt_matrix_completion/gpt_mc_info.h"
#include "experiments/matrix_completion/mc_task.h"
#include "model/decoder_lm.h"

namespace plateau {

struct GptBatch {
    torch::Tensor seq;       // (B, 2 n^2 + 1) int64
    torch::Tensor observed;  // (B, n^2) bool: the entry is visible in the prompt
    torch::Tensor values;    // (B, n^2) float32: the rounded X
};

class GptMcExperiment : public Experiment {
public:
    explicit GptMcExperiment(const RunConfig& cfg);

    std::vector<NamedParameter> parameters() override;
    bool setBf16(bool on) override {
        m_model->setBf16(on);
        return true;
    }
    StepOutput trainStep(qint64 stepsDone) override;
    void evaluate(qint64 stepsDone, std::vector<double>& values) override;
    SnapshotPtr snapshot(qint64 step, double timeS, const ProbeSpec& probe, bool saved) override;

    DecoderLM& model() { return m_model; }
    GptBatch batch(int size, DataStream stream, qint64 counter) const;
    // The same from another data seed (the analyses' own `seed`).
    GptBatch batch(int size, DataStream stream, qint64 counter, std::uint64_t seed) const;
    // Sequences "masked matrix | SEP | full matrix" of values (B, n^2) with `observed` (B, n^2) bool.
    GptBatch sequences(const torch::Tensor& values, const torch::Tensor& observed) const;
    const gptmc::Settings& settings() const { return m_s; }
    // Greedy completion of the answer from prompt + SEP: (B, n^2) token ids.
    torch::Tensor generate(const torch::Tensor& seq);

    enum Column { Loss = 0, AnswerCe, AccObs, AccMask, EvalAnswerCe, EvalGenAcc, EvalGenAccObs, EvalGenAccMask };

private:
    gptmc::Settings m_s;
    mc::TaskConfig m_taskCfg;
    MatrixCompletionTask m_task;
    DecoderLM m_model{nullptr};
};

}  // namespace plateau
