#include "run/run_summary.h"

#include "analysis/drop_detector.h"
#include "config.h"
#include "experiment_info.h"
#include "run/run_store.h"

#include <QJsonArray>

#include <algorithm>
#include <cmath>

namespace plateau {

namespace {
// Median of the last `count` finite values of a column.
template <class Get>
double tailMedian(const std::vector<StepMetrics>& rows, Get get, std::size_t count) {
    std::vector<double> v;
    for (auto it = rows.rbegin(); it != rows.rend() && v.size() < count; ++it)
        if (std::isfinite(get(*it))) v.push_back(get(*it));
    if (v.empty()) return NAN;
    std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(v.size() / 2), v.end());
    return v[v.size() / 2];
}

}  // namespace

Result<QJsonObject> runSummary(const QString& runDir) {
    auto store = RunStore::open(runDir, true);
    if (!store) return Error{store.error()};
    const RunConfig& cfg = store.value()->config();
    const ExperimentInfo& einfo = cfg.info();
    const std::vector<MetricColumn>& columns = store.value()->columns();
    // Every row of what the detector and the step time need; every column only of the tail that
    // the final values are taken from (reading all columns of every row was most of the time).
    const QStringList wanted{einfo.detector.column, "step_ms"};
    auto rowsR = store.value()->readMetrics(-1, &wanted);
    if (!rowsR) return Error{rowsR.error()};
    const std::vector<StepMetrics>& rows = rowsR.value();
    const DetectorSeries series = detectorSeries(rows, columns, einfo.detector);
    const DropDetection det = detectDrops(series.steps, series.values);
    auto timeAt = [&](qint64 step) {
        auto it = std::lower_bound(rows.begin(), rows.end(), step,
                                   [](const StepMetrics& m, qint64 s) { return m.step < s; });
        return it == rows.end() ? NAN : it->timeS;
    };
    QJsonObject detection = det.toJson();
    detection["column"] = einfo.detector.column;
    detection["direction"] = einfo.detector.rising ? "rising" : "falling";
    if (einfo.detector.rising)
        detection["watched"] = QString::number(einfo.detector.ceiling) + " - " + einfo.detector.column +
                               " (levels below are of the column itself)";
    QJsonArray drops;
    for (int i = 0; i < int(det.drops.size()); ++i) {
        QJsonObject d = detection["drops"].toArray()[i].toObject();
        d["level_before"] = columnValue(einfo.detector, det.drops[std::size_t(i)].levelBefore);
        d["level_after"] = columnValue(einfo.detector, det.drops[std::size_t(i)].levelAfter);
        d["onset_time_s"] = timeAt(det.drops[std::size_t(i)].onsetStep);
        d["end_time_s"] = timeAt(det.drops[std::size_t(i)].endStep);
        d["plateau_start_time_s"] = timeAt(det.drops[std::size_t(i)].plateau.startStep);
        drops.append(d);
    }
    detection["drops"] = drops;
    const std::size_t tail = std::max<std::size_t>(1, std::min<std::size_t>(200, rows.size() / 20));
    auto num = [](double v) { return std::isfinite(v) ? QJsonValue(v) : QJsonValue(); };
    QJsonObject summary{
        {"run", store.value()->dir()},
        {"experiment", cfg.experiment},
        {"run_format", store.value()->formatVersion()},
        {"preset", cfg.preset},
        {"steps_done", rows.empty() ? 0.0 : double(rows.back().step)},
        {"steps_planned", double(cfg.train.steps)},
        {"train_seconds", rows.empty() ? 0.0 : rows.back().timeS},
        {"median_step_ms", num(tailMedian(rows, [](const StepMetrics& m) { return m.stepMs; }, rows.size()))},
        {"checkpoints", int(store.value()->checkpoints().size())}};
    // The experiment's own quantities (matrix completion: E[X^2], the copying level, ...).
    if (einfo.quantities) {
        const QJsonObject q = einfo.quantities(cfg);
        for (auto it = q.begin(); it != q.end(); ++it) summary[it.key()] = it.value();
    }
    // Final value of every column: the median over the last 5 % of rows (at most 200 rows; columns
    // computed on a cadence use their last 200 values at most). The tail is read with every column,
    // widened until each column has its `tail` values there or the tail is the whole run.
    std::vector<StepMetrics> tailRows;
    for (std::size_t window = std::min(rows.size(), std::max<std::size_t>(2000, 20 * tail));; window = std::min(rows.size(), 4 * window)) {
        const qint64 after = window >= rows.size() ? -1 : rows[rows.size() - window - 1].step;
        auto t = store.value()->readMetrics(after);
        if (!t) return Error{t.error()};
        tailRows = std::move(t.value());
        bool enough = true;
        for (std::size_t c = 0; c < columns.size() && enough; ++c) {
            std::size_t finite = 0;
            for (const StepMetrics& m : tailRows) finite += std::isfinite(m.value(int(c))) ? 1 : 0;
            enough = finite >= tail;
        }
        if (enough || window >= rows.size()) break;
    }
    for (std::size_t c = 0; c < columns.size(); ++c)
        summary["final_" + columns[c].key] = num(tailMedian(tailRows, [c](const StepMetrics& m) { return m.value(int(c)); }, tail));
    return QJsonObject{{"summary", summary}, {"detection", detection}, {"config", cfg.toJson()}};
}


}  // namespace plateau
