// runAnalysis: checks the request, dispatches by id to the experiment's implementation, and
// records the fingerprints of the checkpoints it read.
#include <torch/torch.h>
#include <ATen/Parallel.h>

#include "analysis/analysis.h"
#include "analysis/analysis_util.h"
#include "run/checkpoint.h"
#include "run/run_store.h"

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
// experiments/decoder_mechanics.cpp: the GPT matrix completion and associative recall
Result<AnalysisResult> runDecoderProbes(const AnalysisRequest& q);
Result<AnalysisResult> runDecoderAblation(const AnalysisRequest& q);
Result<AnalysisResult> runDecoderPatching(const AnalysisRequest& q);
Result<AnalysisResult> runDecoderCollapse(const AnalysisRequest& q);

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
    const bool mc = q.config.experiment == "matrix_completion";
    if (a.id == "nuclear_norm") r = runMcNuclearNorm(q);
    else if (a.id == "copy_test") r = runMcCopyTest(q);
    else if (a.id == "ood") r = runMcOod(q);
    else if (a.id == "linear_probes") r = mc ? runMcProbes(q) : runDecoderProbes(q);
    else if (a.id == "embeddings") r = runMcEmbeddings(q);
    else if (a.id == "model_switching") r = runMcSwitching(q);
    else if (a.id == "head_ablation") r = mc ? runMcAblation(q) : runDecoderAblation(q);
    else if (a.id == "activation_patching") r = mc ? runMcPatching(q) : runDecoderPatching(q);
    else if (a.id == "representation_collapse") r = mc ? runMcCollapse(q) : runDecoderCollapse(q);
    if (q.threads > 0) at::set_num_threads(threadsBefore);
    if (!r) return r;
    auto after = checkpointFingerprints(q.runDir, q.steps);
    if (!after || after.value() != before.value())
        return Error{q.runDir + ": " + a.id + ": a checkpoint changed while the analysis read it; run it again"};
    r->inputs = before.value();
    return r;
}

}  // namespace plateau

namespace plateau::an {

Status loadStep(Experiment& e, const AnalysisRequest& q, qint64 step) {
    auto loaded = loadModelWeights(e, checkpointPathIn(q.runDir, step));
    if (!loaded) return Error{loaded.error()};
    return Status::success();
}

AnalysisResult newResult(const AnalysisRequest& q, const char* analysis) {
    AnalysisResult r;
    r.analysis = analysis;
    r.params = q.params.json();
    r.steps = q.steps;
    return r;
}

double secondsSince(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool cancelled(const AnalysisRequest& q) { return q.cancel && q.cancel->load(); }

Error cancelError(const char* analysis) { return Error{QString(analysis) + ": cancelled"}; }

Result<std::vector<HeadIntervention>> parseHeads(const QString& text, int layers, int heads, HeadIntervention::Kind kind) {
    std::vector<HeadIntervention> out;
    const QString where = "--set: head_ablation.heads: ";
    for (const QString& part : text.split(',', Qt::SkipEmptyParts)) {
        const QStringList lh = part.trimmed().split('.');
        bool okL = false;
        const int l = lh.value(0).toInt(&okL);
        if (lh.size() != 2 || !okL) return Error{where + "\"" + part.trimmed() + "\": expected layer.head (0-indexed), e.g. 2.1 or 3.4-6"};
        const QStringList range = lh[1].split('-');
        bool okA = false, okB = true;
        const int a = range.value(0).toInt(&okA);
        const int b = range.size() == 2 ? range[1].toInt(&okB) : a;
        if (!okA || !okB || range.size() > 2 || b < a)
            return Error{where + "\"" + part.trimmed() + "\": expected a head or a range a-b"};
        if (l < 0 || l >= layers || a < 0 || b >= heads)
            return Error{where + "\"" + part.trimmed() + "\": the model has layers 0.." + QString::number(layers - 1) + " and heads 0.." +
                         QString::number(heads - 1)};
        for (int h = a; h <= b; ++h) out.push_back({l, h, kind});
    }
    return out;
}

HeadIntervention::Kind ablationKind(const QString& s) {
    if (s == "zero") return HeadIntervention::Kind::Zero;
    if (s == "uniform") return HeadIntervention::Kind::UniformProbs;
    return HeadIntervention::Kind::MeanProbs;
}

Result<std::vector<int>> patchLayers(const std::vector<double>& list, int layers) {
    std::vector<int> out;
    for (double l : list) {
        if (int(l) < 0 || int(l) >= layers)
            return Error{"--set: activation_patching.layers: " + QString::number(l) + " is not a layer (0.." + QString::number(layers - 1) + ")"};
        out.push_back(int(l));
    }
    if (out.empty())
        for (int l = 0; l < layers; ++l) out.push_back(l);
    return out;
}

}  // namespace plateau::an
