// RunReader: opens a run folder for viewing (GUI, `plateau-cli export`), tolerant of damage:
// each unreadable part (config.json, metrics.sqlite, a snapshot, a truncated checkpoint) adds a
// message naming its file, and whatever is readable is still returned. Read-only; no torch, so
// the GUI thread may use it. A run another process is training is recognised by its lock file
// and can be followed with readUpdates(). One thread per RunReader (it owns an SQLite
// connection).
#pragma once

#include "config.h"
#include "metrics.h"
#include "result.h"
#include "run/run_store.h"
#include "snapshot.h"

#include <QStringList>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace plateau {

// The lock file a TrainingSession holds while it writes a run.
QString runLockPath(const QString& runDir);
// True if another live process holds the run's lock (it is being trained now).
bool runBeingWritten(const QString& runDir);
// A checkpoint is a zip archive (PyTorch's format): a file cut short lacks the end-of-central-
// directory record. Cheap check without torch.
bool checkpointLooksComplete(const QString& path);

// Decodes a run's stored snapshots with step < beforeStep on a thread of its own (with its own
// SQLite connection), so that a window opening a long run shows at once and fills its timeline a
// moment later. `ready` is called on the loader's thread when the result can be taken; take() is
// for any thread. The destructor cancels and joins.
class SnapshotLoader {
public:
    SnapshotLoader(const QString& runDir, qint64 beforeStep, std::function<void()> ready);
    ~SnapshotLoader();
    SnapshotLoader(const SnapshotLoader&) = delete;
    SnapshotLoader& operator=(const SnapshotLoader&) = delete;
    void wait();          // blocks until the thread is done
    bool done() const { return m_done.load(); }
    // The decoded snapshots (step order) and a message per unreadable one, once; empty afterwards.
    std::pair<std::vector<SnapshotPtr>, QStringList> take();

private:
    std::thread m_thread;
    std::atomic<bool> m_cancel{false}, m_done{false};
    std::mutex m_mutex;
    std::vector<SnapshotPtr> m_snapshots;
    QStringList m_problems;
};

class RunReader {
public:
    // All: decode every stored snapshot now (export, tests). NewestOnly: decode the newest one and
    // list the steps of the others (snapshotSteps()); a SnapshotLoader reads those (the GUI).
    enum class Snapshots { All, NewestOnly };
    // Fails only when there is nothing to show: no such folder, or neither a readable config
    // nor a readable metrics database.
    static Result<std::unique_ptr<RunReader>> open(const QString& dir, Snapshots load = Snapshots::All);

    const QString& dir() const { return m_dir; }
    bool configOk() const { return m_configOk; }
    const RunConfig& config() const { return m_cfg; }
    const std::vector<MetricColumn>& columns() const { return m_store->columns(); }
    const std::vector<StepMetrics>& metrics() const { return m_metrics; }
    // The decoded snapshots (NewestOnly: the newest) and the steps of all stored ones.
    const std::vector<SnapshotPtr>& snapshots() const { return m_snapshots; }
    const std::vector<qint64>& snapshotSteps() const { return m_snapshotSteps; }
    const std::vector<CheckpointFile>& checkpoints() const { return m_checkpoints; }  // complete ones
    const QStringList& problems() const { return m_problems; }
    bool beingWritten() const { return runBeingWritten(m_dir); }
    bool finished() const { return !m_metrics.empty() && m_metrics.back().step >= m_cfg.train.steps; }

    // Reads rows and snapshots written since the last read (following a run in progress); the
    // new ones are appended above and returned through the out-parameters.
    Status readUpdates(std::vector<StepMetrics>* newRows, std::vector<SnapshotPtr>* newSnapshots);

private:
    RunReader() = default;
    QString m_dir;
    bool m_configOk = false;
    RunConfig m_cfg;
    std::unique_ptr<RunStore> m_store;
    std::vector<StepMetrics> m_metrics;
    std::vector<SnapshotPtr> m_snapshots;
    std::vector<qint64> m_snapshotSteps;
    std::vector<CheckpointFile> m_checkpoints;
    QStringList m_problems;
};

}  // namespace plateau
