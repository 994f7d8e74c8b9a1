// What matrix completion's analyses share (mc_analyses.cpp, mc_mechanics.cpp): the analysis's
// own McExperiment, loading one checkpoint into it, the loss split of a batch under forward hooks,
// fresh matrices from the analysis data stream. Torch; the analysis thread only.
#pragma once

#include <torch/torch.h>

#include "analysis/analysis.h"
#include "experiments/matrix_completion/mc_experiment.h"

#include <chrono>
#include <limits>
#include <memory>

namespace plateau::mcan {

inline const double kNaN = std::numeric_limits<double>::quiet_NaN();

// The analysis's own McExperiment for the run's config (its own model and generator).
Result<std::unique_ptr<McExperiment>> experimentFor(const AnalysisRequest& q, const char* analysis);
// The weights of checkpoint `step` of the request's run into `mc`.
Status loadStep(McExperiment& mc, const AnalysisRequest& q, qint64 step);
// The (B, T) readout of `tokens` in chunks of at most `chunk` sequences (0 = one pass; hooks that
// depend on the whole batch, like mean-ablation, need one pass).
torch::Tensor forwardOutput(McExperiment& mc, const torch::Tensor& tokens, const ForwardOptions& o = {}, int chunk = 256);
// L, L_obs, L_mask of `b` under the hooks `o`.
LossParts lossesOf(McExperiment& mc, const Batch& b, const ForwardOptions& o = {}, int chunk = 256);
// A result with its id, parameters and steps filled in.
AnalysisResult newResult(const AnalysisRequest& q, const char* analysis);
double secondsSince(std::chrono::steady_clock::time_point t0);
bool cancelled(const AnalysisRequest& q);
Error cancelError(const char* analysis);

// Progress in `total` equal units.
class Progress {
public:
    Progress(const AnalysisRequest& q, double total) : m_q(q), m_total(std::max(1.0, total)) {}
    void tick(double units = 1) {
        m_done += units;
        if (m_q.progress) m_q.progress(std::min(1.0, m_done / m_total));
    }

private:
    const AnalysisRequest& m_q;
    double m_total, m_done = 0;
};

}  // namespace plateau::mcan
