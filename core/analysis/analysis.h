// Analyses (issue 15): what explains a run's drop, computed from its checkpoints. AnalysisInfo is
// the torch-free description (id, title, the experiments it applies to, parameters declared like
// config fields); runAnalysis (core/analysis/run_analysis.cpp, torch) computes a result on the
// caller's thread, loading models through the experiment with their own generator, never the
// training thread's model. Results are stored by analysis_store.h.
#pragma once

#include "analysis/analysis_store.h"
#include "config.h"
#include "params.h"
#include "result.h"

#include <atomic>
#include <functional>
#include <vector>

namespace plateau {

struct AnalysisInfo {
    QString id;
    QString title;
    QString summary;
    QString paper;                   // the figure or table it reproduces
    QStringList experiments;         // the experiments it applies to
    std::vector<FieldSpec> params;   // validated like config fields
};

const std::vector<AnalysisInfo>& analysisRegistry();
const AnalysisInfo* findAnalysis(const QString& id);
// The analyses that apply to an experiment.
std::vector<const AnalysisInfo*> analysesFor(const QString& experiment);
// Defaults overridden by "key=value" texts; errors name `source` and the field.
Result<ParamSet> analysisParams(const AnalysisInfo& a, const QStringList& sets, const QString& source);

struct AnalysisRequest {
    QString runDir;
    RunConfig config;                 // the run's
    std::vector<qint64> steps;        // checkpoints to run on, ascending
    ParamSet params;
    std::function<void(double)> progress;  // 0..1, may be empty
    const std::atomic<bool>* cancel = nullptr;
    // Threads the computation may use (torch's intra-op threads on the calling thread, the
    // nuclear-norm solver's pool); 0 = every core. The GUI passes 1 beside live training.
    int threads = 0;
};

// Torch side (plateau_core). Errors name the checkpoint or parameter; a cancel gives an error
// saying so. The result's inputs are the fingerprints of the checkpoints read.
Result<AnalysisResult> runAnalysis(const AnalysisInfo& a, const AnalysisRequest& request);

}  // namespace plateau
