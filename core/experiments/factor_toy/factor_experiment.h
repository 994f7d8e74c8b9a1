// The factor toy's training half: the stacked factor pairs A, B (pairs, n, n), the summed
// objective, the per-pair imbalance as metrics, and snapshots with every pair's singular values,
// product and imbalance matrix. Training thread only.
#pragma once

#include <torch/torch.h>

#include "experiment.h"
#include "experiments/factor_toy/factor_info.h"

namespace plateau {

class FactorExperiment : public Experiment {
public:
    explicit FactorExperiment(const RunConfig& cfg);

    std::vector<NamedParameter> parameters() override;
    StepOutput trainStep(qint64 stepsDone) override;
    SnapshotPtr snapshot(qint64 step, double timeS, const ProbeSpec& probe, bool saved) override;

    const torch::Tensor& a() const { return m_a; }
    const torch::Tensor& b() const { return m_b; }
    // ||A_j^T A_j - B_j^T B_j||_F of every pair, (pairs) float64.
    torch::Tensor imbalance() const;

private:
    factor::Settings m_s;
    torch::Tensor m_a, m_b;      // (pairs, n, n)
    torch::Tensor m_d, m_lambda;  // (n, n), (pairs)
};

}  // namespace plateau
