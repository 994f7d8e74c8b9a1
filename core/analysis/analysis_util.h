// What every experiment's analyses share (matrix completion's mc_*.cpp, the decoders'
// decoder_mechanics.cpp): a result with its id, parameters and steps filled in, progress in
// equal units, cancellation, and the head sets of head_ablation ("2.2,3.4-6"). Torch (the head
// interventions); the analysis thread only.
#pragma once

#include <torch/torch.h>  // before Qt (its `slots` macro)

#include "analysis/analysis.h"
#include "model/head_hooks.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <vector>

namespace plateau {
class Experiment;
}

namespace plateau::an {

inline const double kNaN = std::numeric_limits<double>::quiet_NaN();

// The weights of checkpoint `step` of the request's run into `e` (the analysis's own experiment).
Status loadStep(Experiment& e, const AnalysisRequest& q, qint64 step);
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

// Parses "layer.head, layer.head, ..." (0-indexed; "3.4-6" = heads 4 to 6 of layer 3); errors
// name head_ablation.heads and the model's ranges.
Result<std::vector<HeadIntervention>> parseHeads(const QString& text, int layers, int heads, HeadIntervention::Kind kind);
// head_ablation.kind: mean | uniform | zero.
HeadIntervention::Kind ablationKind(const QString& s);
// activation_patching.layers, checked against the model (empty = every layer).
Result<std::vector<int>> patchLayers(const std::vector<double>& list, int layers);

}  // namespace plateau::an
