// runAnalysis: checks the request, dispatches by id to the experiment's implementation, and
// records the fingerprints of the checkpoints it read.
#include "analysis/analysis.h"

namespace plateau {

// experiments/matrix_completion/mc_analyses.cpp
Result<AnalysisResult> runMcNuclearNorm(const AnalysisRequest& q);
Result<AnalysisResult> runMcCopyTest(const AnalysisRequest& q);

Result<AnalysisResult> runAnalysis(const AnalysisInfo& a, const AnalysisRequest& q) {
    if (!a.experiments.contains(q.config.experiment))
        return Error{q.runDir + ": " + a.id + " applies to " + a.experiments.join(", ") + ", not to " + q.config.experiment + " runs"};
    if (q.steps.empty()) return Error{q.runDir + ": " + a.id + ": no checkpoint to run on"};
    auto before = checkpointFingerprints(q.runDir, q.steps);
    if (!before) return Error{before.error()};
    Result<AnalysisResult> r = Error{a.id + ": no implementation"};
    if (a.id == "nuclear_norm") r = runMcNuclearNorm(q);
    else if (a.id == "copy_test") r = runMcCopyTest(q);
    if (!r) return r;
    auto after = checkpointFingerprints(q.runDir, q.steps);
    if (!after || after.value() != before.value())
        return Error{q.runDir + ": " + a.id + ": a checkpoint changed while the analysis read it; run it again"};
    r->inputs = before.value();
    return r;
}

}  // namespace plateau
