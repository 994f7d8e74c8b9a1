// runAnalysis: checks the request, dispatches by id to the experiment's implementation, and
// records the fingerprints of the checkpoints it read.
#include <ATen/Parallel.h>

#include "analysis/analysis.h"

namespace plateau {

// experiments/matrix_completion/mc_analyses.cpp
Result<AnalysisResult> runMcNuclearNorm(const AnalysisRequest& q);
Result<AnalysisResult> runMcCopyTest(const AnalysisRequest& q);
Result<AnalysisResult> runMcOod(const AnalysisRequest& q);
// experiments/matrix_completion/mc_mechanics.cpp
Result<AnalysisResult> runMcProbes(const AnalysisRequest& q);
Result<AnalysisResult> runMcEmbeddings(const AnalysisRequest& q);
Result<AnalysisResult> runMcSwitching(const AnalysisRequest& q);
Result<AnalysisResult> runMcAblation(const AnalysisRequest& q);
Result<AnalysisResult> runMcPatching(const AnalysisRequest& q);
Result<AnalysisResult> runMcCollapse(const AnalysisRequest& q);

Result<AnalysisResult> runAnalysis(const AnalysisInfo& a, const AnalysisRequest& q) {
    if (!a.experiments.contains(q.config.experiment))
        return Error{q.runDir + ": " + a.id + " applies to " + a.experiments.join(", ") + ", not to " + q.config.experiment + " runs"};
    if (q.steps.empty()) return Error{q.runDir + ": " + a.id + ": no checkpoint to run on"};
    auto before = checkpointFingerprints(q.runDir, q.steps);
    if (!before) return Error{before.error()};
    // Torch's intra-op threads are a per-thread setting (OpenMP): this thread's only.
    const int threadsBefore = at::get_num_threads();
    if (q.threads > 0) at::set_num_threads(q.threads);
    Result<AnalysisResult> r = Error{a.id + ": no implementation"};
    if (a.id == "nuclear_norm") r = runMcNuclearNorm(q);
    else if (a.id == "copy_test") r = runMcCopyTest(q);
    else if (a.id == "ood") r = runMcOod(q);
    else if (a.id == "linear_probes") r = runMcProbes(q);
    else if (a.id == "embeddings") r = runMcEmbeddings(q);
    else if (a.id == "model_switching") r = runMcSwitching(q);
    else if (a.id == "head_ablation") r = runMcAblation(q);
    else if (a.id == "activation_patching") r = runMcPatching(q);
    else if (a.id == "representation_collapse") r = runMcCollapse(q);
    if (q.threads > 0) at::set_num_threads(threadsBefore);
    if (!r) return r;
    auto after = checkpointFingerprints(q.runDir, q.steps);
    if (!after || after.value() != before.value())
        return Error{q.runDir + ": " + a.id + ": a checkpoint changed while the analysis read it; run it again"};
    r->inputs = before.value();
    return r;
}

}  // namespace plateau
