// TrainingController: owns the worker QThread on which a TrainingSession runs, with the drop
// detector and the snapshot builder. The GUI thread only calls the controller's slots and
// receives its signals (queued); it never runs a training step or a torch call. Pause/step/stop
// go through TrainControl; the probe spec is copied under a mutex. Signals carry plain data.
#pragma once

#include "analysis/drop_detector.h"
#include "config.h"
#include "metrics.h"
#include "snapshot.h"

#include <QObject>
#include <QThread>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace plateau {

class TrainControl;
class TrainingSession;
template <class T> class Result;

class TrainingController : public QObject {
    Q_OBJECT
public:
    explicit TrainingController(QObject* parent = nullptr);
    ~TrainingController() override;  // stops the worker and waits for it (final checkpoint)

    // Starts a new run in outDir, or resumes runDir.
    void start(const RunConfig& cfg, const QString& outDir);
    void resumeRun(const QString& runDir, qint64 totalSteps = 0);
    bool isRunning() const;
    bool isPaused() const;

    // The probe masks of the next snapshots (a paused run builds one at once).
    void setProbeSpec(const ProbeSpec& spec);
    ProbeSpec probeSpec() const;

public slots:
    void pause();
    void resume();
    void stepOnce();
    void stop();          // asks the worker to stop after the current step
    void stopAndWait();   // stop() and block until the final checkpoint is written

signals:
    void started(const QString& runDir, const QString& runtimeSummary, const QStringList& warnings,
                 const plateau::RunConfig& cfg, const std::vector<plateau::StepMetrics>& earlierRows);
    void metricsArrived(const std::vector<plateau::StepMetrics>& rows);
    void detectionChanged(const plateau::DropDetection& detection);
    void snapshotReady(const plateau::SnapshotPtr& snapshot);
    // The worker has ended (after its final checkpoint); emitted on the controller's thread.
    void finished(qint64 stepsDone, const QString& error);

private:
    void launch(std::function<Result<std::unique_ptr<TrainingSession>>()> open);
    void setOutcome(qint64 steps, const QString& error);  // worker thread
    void announceFinished();                              // GUI thread: once per run

    QThread* m_thread = nullptr;
    TrainControl* m_control = nullptr;
    std::atomic<bool> m_running{false};
    mutable std::mutex m_probeMutex;
    ProbeSpec m_probe;
    std::atomic<int> m_probeVersion{0};
    std::mutex m_outcomeMutex;
    qint64 m_outcomeSteps = 0;
    QString m_outcomeError;
    bool m_announced = true;
    int m_generation = 0;
};

}  // namespace plateau

Q_DECLARE_METATYPE(std::vector<plateau::StepMetrics>)
Q_DECLARE_METATYPE(plateau::RunConfig)
Q_DECLARE_METATYPE(plateau::DropDetection)
Q_DECLARE_METATYPE(plateau::SnapshotPtr)
