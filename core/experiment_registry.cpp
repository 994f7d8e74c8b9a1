// The explicit list of experiments (descriptions only; their training halves are listed in
// experiments/experiment_factory.cpp). Adding an experiment adds one line here and one there.
#include "experiment_info.h"

#include "experiments/associative_recall/assoc_info.h"
#include "experiments/modular_arithmetic/ma_info.h"
#include "experiments/factor_toy/factor_info.h"
#include "experiments/gpt_matrix_completion/gpt_mc_info.h"
#include "experiments/matrix_completion/mc_info.h"

namespace plateau {

QString betterName(Better b) {
    return b == Better::Lower ? "lower" : b == Better::Higher ? "higher" : "neither";
}
Better betterFromName(const QString& s) {
    return s == "higher" ? Better::Higher : s == "neither" ? Better::Neither : Better::Lower;
}

MetricColumn metricColumn(const QString& key, const QString& label, const QString& unit, bool logAxis, Better better,
                          bool shown, const QString& help) {
    MetricColumn c;
    c.key = key;
    c.label = label;
    c.unit = unit;
    c.logAxis = logAxis;
    c.better = better;
    c.shown = shown;
    c.help = help;
    return c;
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
        &gptmc::info(),
        &assoc::info(),
        &ma::info(),
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

QStringList snapshotArraysFor(const ViewSpec& v) {
    QStringList out;
    if (v.kind == "attention") out << "attention";
    if (v.kind == "spectra") out << "spectra.qk" << "spectra.ov" << "spectra.qk_rank" << "spectra.ov_rank";
    if (v.kind == "factor") out << "factor.lambdas" << "factor.sv" << "factor.predicted_sv";
    if (v.kind == "matrices") {
        for (const QJsonValue& p : v.params.value("panels").toArray()) {
            const QJsonObject o = p.toObject();
            if (o.contains("array")) out << o.value("array").toString();
            for (const QJsonValue& d : o.value("abs_diff").toArray()) out << d.toString();
            if (o.contains("marks")) out << o.value("marks").toString();
        }
    }
    if (v.kind == "plot") {
        for (const char* key : {"x_array", "points", "explained"})
            if (v.params.contains(key)) out << v.params.value(key).toString();
        for (const QJsonValue& l : v.params.value("lines").toArray()) out << l.toObject().value("array").toString();
        for (const QJsonValue& c : v.params.value("colour_by").toArray()) out << c.toObject().value("array").toString();
    }
    for (const QJsonValue& i : v.params.value("item_values").toArray()) out << i.toObject().value("array").toString();
    if (v.kind == "series")
        for (const QJsonValue& p : v.params.value("arrays").toArray()) out << p.toObject().value("array").toString();
    out.removeDuplicates();
    return out;
}

QStringList snapshotScalarsFor(const ViewSpec& v) {
    QStringList out;
    for (const QJsonValue& p : v.params.value("series").toArray()) {
        const QJsonObject o = p.toObject();
        if (o.contains("scalar")) out << o.value("scalar").toString();
    }
    if (v.params.contains("hline_scalar")) out << v.params.value("hline_scalar").toString();
    out.removeDuplicates();
    return out;
}

QStringList commonMetricKeys() { return {"step", "time_s", "lr", "grad_norm", "step_ms"}; }

}  // namespace plateau
