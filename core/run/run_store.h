// RunStore: the run directory every feature reads. config.json (resolved config + versions),
// metrics.sqlite (one row per step, WAL mode) and checkpoints/. A RunStore's SQLite connection
// belongs to the thread that opened the store: create and use it on one thread.
#pragma once

#include "config.h"
#include "experiment_info.h"
#include "metrics.h"
#include "result.h"
#include "snapshot.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <atomic>
#include <memory>
#include <vector>

namespace plateau {

struct CheckpointFile {
    qint64 step;
    QString path;
};

// RUN/checkpoints/step_000004000.pt: where a run keeps its checkpoint of `step`.
QString checkpointPathIn(const QString& runDir, qint64 step);
// The checkpoint files of RUN/checkpoints, by step (no store needed: any thread).
std::vector<CheckpointFile> checkpointsIn(const QString& runDir);

// RUN/stopped_after_drop.json: written by `plateau-cli train --stop-after-drop K` when it stopped
// the run K steps after the drop's end ({"step", "drop_end_step", "after"}), so that a sweep counts
// the run as finished although fewer steps were done than planned; removed when training resumes.
QString stoppedAfterDropPath(const QString& runDir);
Status writeStoppedAfterDrop(const QString& runDir, qint64 step, qint64 dropEndStep, qint64 after);
void clearStoppedAfterDrop(const QString& runDir);
// The step at which the marker says the run was stopped after its drop, or -1 (none, unreadable).
qint64 stoppedAfterDropStep(const QString& runDir);

class RunStore {
public:
    ~RunStore();
    RunStore(const RunStore&) = delete;
    RunStore& operator=(const RunStore&) = delete;

    // Creates a new run in dir (made if missing; must not already hold a run).
    static Result<std::unique_ptr<RunStore>> create(const QString& dir, const RunConfig& cfg);
    // Opens an existing run (read config.json, open metrics). readOnly: never writes.
    static Result<std::unique_ptr<RunStore>> open(const QString& dir, bool readOnly = false);
    // Read-only and tolerant, for viewing: a missing, invalid or too new config.json is
    // reported in *configError (the store then holds a default config) instead of failing; only
    // an unreadable metrics database fails.
    static Result<std::unique_ptr<RunStore>> openForViewing(const QString& dir, QString* configError);

    const QString& dir() const { return m_dir; }
    const RunConfig& config() const { return m_cfg; }
    // The experiment's metric columns as this run stores them (StepMetrics::values order).
    const std::vector<MetricColumn>& columns() const { return m_columns; }
    int formatVersion() const { return m_format; }
    QString configPath() const;
    QString metricsPath() const;
    QString checkpointDir() const;
    QString checkpointPath(qint64 step) const;

    // Appends (or replaces) metric rows in one transaction.
    Status append(const std::vector<StepMetrics>& rows);
    // Every stored row in step order.
    Result<std::vector<StepMetrics>> readMetrics(qint64 afterStep = -1) const;
    // The same with only step, time and the named columns read (the others NaN; "lr", "grad_norm"
    // and "step_ms" may be named too): several times faster when a view needs one or two columns
    // of many runs.
    Result<std::vector<StepMetrics>> readMetrics(qint64 afterStep, const QStringList* onlyColumns) const;
    // The last stored row's step (0 without rows), without reading the rows.
    Result<qint64> lastStep() const;
    // Stores a snapshot (replacing one at the same step) in the snapshots table.
    Status appendSnapshot(const Snapshot& s);
    // Steps of the stored snapshots, ascending (none for runs written before snapshots existed).
    Result<std::vector<qint64>> snapshotSteps() const;
    Result<SnapshotPtr> readSnapshot(qint64 step) const;
    // Every stored snapshot with afterStep < step < beforeStep (-1: no upper bound) that decodes, in
    // step order; each damaged one adds a message to `problems` (naming the file and step) and is
    // skipped. A set `cancel` stops the read between snapshots (what was read is returned).
    Result<std::vector<SnapshotPtr>> readSnapshots(QStringList* problems = nullptr, qint64 afterStep = -1,
                                                   qint64 beforeStep = -1,
                                                   const std::atomic<bool>* cancel = nullptr) const;
    // Removes rows and snapshots with step > last (used when resuming from an earlier checkpoint).
    Status truncateAfter(qint64 last);
    // Checkpoints on disk, oldest first.
    std::vector<CheckpointFile> checkpoints() const;
    // Rewrites config.json (e.g. after `--steps` extends a resumed run).
    Status writeConfig(const RunConfig& cfg);

private:
    RunStore() = default;
    Status openDatabase(bool create);
    Status readConfig();
    bool hasSnapshotTable() const;
    bool hasTable(const QString& name) const;
    Status readColumns();

    QString m_dir;
    QString m_connection;
    RunConfig m_cfg;
    bool m_readOnly = false;
    std::vector<MetricColumn> m_columns;
    int m_format = 0;
};

constexpr int kRunFormatVersion = 2;

// The versions recorded in config.json (Plateau, LibTorch, Qt, run format).
QJsonObject versionInfo(int runFormat = 2);

}  // namespace plateau
