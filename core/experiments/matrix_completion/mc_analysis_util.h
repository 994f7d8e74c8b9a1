// What matrix completion's analyses share (mc_analyses.cpp, mc_mechanics.cpp; the generic
// helpers are analysis/analysis_util.h): the analysis's
// own McExperiment, loading one checkpoint into it, the loss split of a batch under forward hooks,
// fresh matrices from the analysis data stream. Torch; the analysis thread only.
#pragma once

#include <torch/torch.h>

#include "analysis/analysis.h"
#include "analysis/analysis_util.h"
#include "experiments/matrix_completion/mc_experiment.h"

#include <chrono>
#include <limits>
#include <memory>

namespace plateau::mcan {

using an::kNaN;

// The analysis's own McExperiment for the run's config (its own model and generator).
Result<std::unique_ptr<McExperiment>> experimentFor(const AnalysisRequest& q, const char* analysis);
// The (B, T) readout of `tokens` in chunks of at most `chunk` sequences (0 = one pass; hooks that
// depend on the whole batch, like mean-ablation, need one pass).
torch::Tensor forwardOutput(McExperiment& mc, const torch::Tensor& tokens, const ForwardOptions& o = {}, int chunk = 256);
// L, L_obs, L_mask of `b` under the hooks `o`.
LossParts lossesOf(McExperiment& mc, const Batch& b, const ForwardOptions& o = {}, int chunk = 256);
// Probe targets of every entry, (B, n^2, K) float64: 0 the element (K = 1), 1 the entry's row of
// the masked input with missing entries 0 (K = n), 2 the top left singular vector of X (K = n; its
// entries sum to >= 0). Shared by the encoder's and the GPT variant's linear probes.
torch::Tensor probeTarget(int kind, const Batch& b, int n);
struct Split {
    double all = 0, mask = 0, obs = 0;
};
// Mean squared error of pred against y (B, T, K), over all tokens, masked ones and observed ones.
Split splitMse(const torch::Tensor& pred, const torch::Tensor& y, const torch::Tensor& mask);

using an::cancelError;
using an::cancelled;
using an::loadStep;
using an::newResult;
using an::Progress;
using an::secondsSince;

}  // namespace plateau::mcan
