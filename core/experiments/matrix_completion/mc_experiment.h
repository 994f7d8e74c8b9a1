// The matrix-completion experiment's training half: the post-LN BERT (model/bert_encoder.h) on
// low-rank matrices (mc_task.h), MSE over all entries, the paper's loss split as metrics, and
// snapshots (attention, row/column scores, head spectra, the probe matrices) on a fixed probe
// batch with random, the paper's row, or drawn masks. Training thread only.
#pragma once

#include <torch/torch.h>

#include "experiment.h"
#include "experiments/matrix_completion/mc_config.h"
#include "experiments/matrix_completion/mc_task.h"
#include "model/bert_encoder.h"

namespace plateau {

class McExperiment : public Experiment {
public:
    explicit McExperiment(const RunConfig& cfg);

    std::vector<NamedParameter> parameters() override;
    bool setBf16(bool on) override {
        KernelOptions k = m_model->kernels();
        k.bf16 = on;
        m_model->setKernels(k);
        return true;
    }
    StepOutput trainStep(qint64 stepsDone) override;
    void evaluate(qint64 stepsDone, std::vector<double>& values) override;
    SnapshotPtr snapshot(qint64 step, double timeS, const ProbeSpec& probe, bool saved) override;
    Status validateProbe(const ProbeSpec& spec) const override;

    BertEncoder& model() { return m_model; }
    const MatrixCompletionTask& task() const { return m_task; }

    // The column indices of this experiment's metrics (mc_info.cpp's order).
    enum Column { Loss = 0, LossObs, LossMask, MeanAbsMaskOut, EvalLoss };

private:
    mc::TaskConfig m_taskCfg;
    MatrixCompletionTask m_task;
    BertEncoder m_model{nullptr};
    // The probe batch of the last spec: the same matrices every time, generated once per mask.
    bool m_haveProbe = false;
    ProbeSpec m_probeSpec;
    Batch m_probe;
};

}  // namespace plateau
