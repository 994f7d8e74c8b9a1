// SessionModel: the one model every view reads. It holds the run's metric rows (every step), the
// snapshot timeline, the drop detection and the current step; views redraw from it and never talk
// to each other or to the trainer. Live training appends; scrubbing only moves the current index.
// GUI thread only.
#pragma once

#include "analysis/drop_detector.h"
#include "config.h"
#include "experiment_info.h"
#include "metrics.h"
#include "snapshot.h"

#include <QObject>
#include <memory>
#include <vector>

namespace plateau {

class SessionModel : public QObject {
    Q_OBJECT
public:
    explicit SessionModel(QObject* parent = nullptr);
    // Live snapshots the run does not store are kept for the newest kMaxLive only.
    static constexpr std::size_t kMaxLive = 300;

    // Starts over for a run (config, folder, the run's metric columns as stored, rows already stored
    // when resuming). Empty columns: the experiment's own.
    void reset(const RunConfig& cfg, const QString& runDir, const std::vector<StepMetrics>& earlier = {},
               const std::vector<MetricColumn>& columns = {});
    void appendMetrics(const std::vector<StepMetrics>& rows);
    // Appends a snapshot; one at the same step as the newest replaces it (a re-probe while paused).
    void appendSnapshot(const SnapshotPtr& s);
    // Merges snapshots at any steps (a run's older stored snapshots, read after the window showed);
    // ones at steps already held are ignored. The current snapshot stays the current one.
    void insertSnapshots(const std::vector<SnapshotPtr>& snaps);
    void setDetection(const DropDetection& d);

    const RunConfig& config() const { return m_cfg; }
    const QString& runDir() const { return m_runDir; }
    bool hasRun() const { return m_hasRun; }
    const ExperimentInfo& info() const { return m_cfg.info(); }
    const std::vector<MetricColumn>& columns() const { return m_columns; }
    int columnIndex(const QString& key) const;
    const std::vector<ReferenceLine>& references() const { return m_references; }
    // The value of row i the detector watches (the detector column, or ceiling - it when rising).
    double watchedValue(std::size_t row) const;
    const std::vector<StepMetrics>& metrics() const { return m_metrics; }
    const std::vector<SnapshotPtr>& snapshots() const { return m_snapshots; }
    const DropDetection& detection() const { return m_detection; }

    // Current snapshot (null before the first). Follows the newest while followLive().
    SnapshotPtr current() const;
    int currentIndex() const { return m_current; }
    void setCurrentIndex(int index);  // leaves follow-live unless it is the newest
    bool followLive() const { return m_follow; }
    void setFollowLive(bool on);

signals:
    void runReset();
    void metricsAppended(std::size_t firstNewRow);
    void snapshotsChanged();
    void currentChanged();
    void detectionChanged();

private:
    void dropOldLiveSnapshots();

    RunConfig m_cfg;
    QString m_runDir;
    bool m_hasRun = false;
    std::vector<MetricColumn> m_columns;
    std::vector<ReferenceLine> m_references;
    int m_watched = -1;
    std::vector<StepMetrics> m_metrics;
    std::vector<SnapshotPtr> m_snapshots;
    DropDetection m_detection;
    int m_current = -1;
    bool m_follow = true;
};

}  // namespace plateau
