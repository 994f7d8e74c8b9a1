// The explicit list of experiments (descriptions only; their training halves are listed in
// experiments/experiment_factory.cpp). Adding an experiment adds one line here and one there.
#include "experiment_info.h"

#include "experiments/factor_toy/factor_info.h"
#include "experiments/matrix_completion/mc_info.h"

namespace plateau {

QString betterName(Better b) {
    return b == Better::Lower ? "lower" : b == Better::Higher ? "higher" : "neither";
}
Better betterFromName(const QString& s) {
    return s == "higher" ? Better::Higher : s == "neither" ? Better::Neither : Better::Lower;
}

int ExperimentInfo::columnIndex(const QString& key) const {
    for (std::size_t i = 0; i < columns.size(); ++i)
        if (columns[i].key == key) return int(i);
    return -1;
}

std::vector<MetricColumn> ExperimentInfo::columnsOf(const RunConfig& cfg) const {
    std::vector<MetricColumn> all = columns;
    if (extraColumns)
        for (const MetricColumn& c : extraColumns(cfg)) all.push_back(c);
    return all;
}

const ViewSpec* ExperimentInfo::view(const QString& kind) const {
    for (const ViewSpec& v : views)
        if (v.kind == kind) return &v;
    return nullptr;
}

const std::vector<const ExperimentInfo*>& experimentRegistry() {
    static const std::vector<const ExperimentInfo*> list = {
        &mc::info(),
        &factor::info(),
    };
    return list;
}

const ExperimentInfo* findExperiment(const QString& id) {
    for (const ExperimentInfo* e : experimentRegistry())
        if (e->id == id) return e;
    return nullptr;
}

QStringList experimentIds() {
    QStringList ids;
    for (const ExperimentInfo* e : experimentRegistry()) ids << e->id;
    return ids;
}

QString defaultExperimentId() { return "matrix_completion"; }

QStringList commonMetricKeys() { return {"step", "time_s", "lr", "grad_norm", "step_ms"}; }

}  // namespace plateau
