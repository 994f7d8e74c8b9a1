// SweepData: a sweep folder read for viewing: the manifest, and per point its run's metric rows,
// columns, progress and drop detection. refresh() reads what the runs wrote since (points still
// training are followed; new run folders are picked up). Tolerant: an unreadable run is listed
// with its problem and the others still load. No torch; one thread per SweepData (it holds the
// runs' SQLite connections); opening reads the runs on a few threads of its own.
#pragma once

#include "analysis/drop_detector.h"
#include "metrics.h"
#include "result.h"
#include "sweep/sweep.h"

#include <memory>
#include <vector>

namespace plateau {

class RunStore;

struct SweepRun {
    const SweepPoint* point = nullptr;
    PointProgress progress;
    std::vector<MetricColumn> columns;
    std::vector<StepMetrics> rows;
    DropDetection detection;
    QString problem;                 // why the run could not be read ("" if it could)
    // The first complete drop, if any.
    const DropEvent* drop() const;
    int column(const QString& key) const;
    // The final value of a column: median of the last 5 % of its finite values (at most 200).
    double finalValue(const QString& key) const;
};

class SweepData {
public:
    static Result<std::unique_ptr<SweepData>> open(const QString& dir);
    ~SweepData();
    // Reads new rows of runs that are not finished (and runs that appeared); true if anything changed.
    bool refresh();
    // Rows hold the detector's column and the columns asked for here (others are NaN): reading
    // one column of a hundred runs is several times faster than reading all. Asking for a new
    // one re-reads every run's rows.
    void want(const QString& columnKey);
    const QStringList& wanted() const { return m_wanted; }

    const Sweep& sweep() const { return m_sweep; }
    const std::vector<SweepRun>& runs() const { return m_runs; }
    // Every column key any run stores, in first-seen order, and the detector's column.
    QStringList columnKeys() const;
    QString detectorColumn() const;
    QString columnLabel(const QString& key) const;
    bool columnLog(const QString& key) const;
    bool anyRunning() const;
    // The distinct values of a swept key, sorted numerically when all are numbers.
    QStringList valuesOf(const QString& key) const;

private:
    SweepData() = default;
    bool load(std::size_t i);
    // Loads every point from scratch on a few threads (each opens, reads and closes its runs'
    // stores there); later refreshes open stores on the calling thread as needed.
    void loadAll();
    Sweep m_sweep;
    std::vector<SweepRun> m_runs;
    std::vector<std::unique_ptr<RunStore>> m_stores;
    QStringList m_wanted;
};

}  // namespace plateau
