// TrainingSession: a Trainer bound to its run directory. It runs the step loop (for the CLI's
// main thread or the GUI's worker thread), logs every step to the store, writes checkpoints,
// and obeys a TrainControl that any other thread may poke.
#pragma once

#include "analysis/drop_detector.h"
#include "config.h"
#include "metrics.h"
#include "result.h"
#include "snapshot.h"

#include <QLockFile>
#include <QString>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace plateau {

class Trainer;
class RunStore;


// Pause / resume / single-step / stop, set from any thread, obeyed between steps.
class TrainControl {
public:
    void pause();
    void resume();
    void stop();
    void stepOnce();  // while paused: allow exactly one more step
    bool isPaused() const;
    bool stopRequested() const;
    // Wakes a paused loop once so it can run SessionCallbacks::whilePaused (e.g. a new snapshot).
    void wake();
    // Called by the loop before each step: blocks while paused (running `whilePaused` on every
    // wake()); false once stop is requested.
    bool waitForTurn(const std::function<void()>& whilePaused = {});

private:
    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_paused = false;
    bool m_stop = false;
    bool m_wake = false;
    int m_granted = 0;
};

struct SessionCallbacks {
    // Metric rows in step order, delivered in batches (on the loop's thread).
    std::function<void(const std::vector<StepMetrics>&)> onMetrics;
    // Called after every step with the trainer (for snapshots); on the loop's thread.
    std::function<void(Trainer&)> afterStep;
    // Called while paused, on the loop's thread, each time TrainControl::wake() is called.
    std::function<void(Trainer&)> whilePaused;
    // A snapshot was stored in the run (before afterStep of the same step); on the loop's thread.
    std::function<void(const SnapshotPtr&)> onSavedSnapshot;
};

class TrainingSession {
public:
    ~TrainingSession();
    // A new run in outDir with cfg (threads resolved, config.json written).
    static Result<std::unique_ptr<TrainingSession>> create(const RunConfig& cfg, const QString& outDir);
    // Continues the run in runDir from its newest readable checkpoint. totalSteps, if given,
    // replaces train.steps (to extend a finished run).
    static Result<std::unique_ptr<TrainingSession>> resume(const QString& runDir,
                                                           std::optional<qint64> totalSteps = {});

    // Trains until train.steps or a stop request. Metrics are committed at least every
    // flushSeconds; a checkpoint is written every train.checkpoint_every steps and at the end.
    // Snapshots (default probe: random masks) are stored at step 0, on the SnapshotSaveSchedule
    // of train.snapshot_save_every and at the last step.
    Status run(TrainControl& control, const SessionCallbacks& callbacks = {}, double flushSeconds = 0.5);
    // An online drop detector with the window the offline detector would use on a run of the
    // planned length, already fed the stored rows (of a resumed run). Re-runs every `every` rows.
    Result<OnlineDropDetector> dropDetector(int every = 100);
    // Writes a checkpoint of the current step now (metrics are committed first).
    Status checkpointNow();

    // A snapshot of the current step from the experiment (the GUI builds its live ones with it
    // too, sharing the experiment's cached probe batch); exceptions become errors. Loop thread only.
    Result<SnapshotPtr> buildSnapshot(const ProbeSpec& probe, bool saved);
    // The newest stored snapshot (null before the first).
    const SnapshotPtr& lastSavedSnapshot() const { return m_lastSaved; }

    Trainer& trainer() { return *m_trainer; }
    RunStore& store() { return *m_store; }
    const QString& resumedFrom() const { return m_resumedFrom; }

private:
    TrainingSession() = default;
    Status lockRun(const QString& dir);
    Status flush();
    Status saveSnapshot(const SessionCallbacks& cb);

    std::unique_ptr<Trainer> m_trainer;
    std::unique_ptr<RunStore> m_store;
    std::vector<StepMetrics> m_pending;
    qint64 m_lastCheckpoint = -1;
    QString m_resumedFrom;
    std::unique_ptr<QLockFile> m_lock;  // held while this session may write the run
    SnapshotPtr m_lastSaved;
};

}  // namespace plateau
