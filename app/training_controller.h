// TrainingController: owns the worker QThread on which a TrainingSession runs. The GUI thread
// only calls the controller's slots and receives its signals (queued); it never runs a training
// step or a torch call. Pause/step/stop go through TrainControl, which is thread-safe.
#pragma once

#include "config.h"
#include "metrics.h"
#include "train/training_session.h"

#include <QObject>
#include <QThread>
#include <QVector>
#include <atomic>
#include <memory>
#include <vector>

namespace plateau {

class TrainingController : public QObject {
    Q_OBJECT
public:
    explicit TrainingController(QObject* parent = nullptr);
    ~TrainingController() override;  // stops the worker and waits for it (final checkpoint)

    // Starts a new run in outDir, or resumes runDir when resume is true.
    void start(const RunConfig& cfg, const QString& outDir);
    void resumeRun(const QString& runDir, qint64 totalSteps = 0);
    bool isRunning() const;
    bool isPaused() const;

public slots:
    void pause();
    void resume();
    void stepOnce();
    void stop();          // asks the worker to stop after the current step
    void stopAndWait();   // stop() and block until the final checkpoint is written

signals:
    void started(const QString& runDir, const QString& runtimeSummary, const QStringList& warnings,
                 const plateau::RunConfig& cfg);
    void metricsArrived(const std::vector<plateau::StepMetrics>& rows);
    void finished(qint64 stepsDone, const QString& error);

private:
    void launch(std::function<Result<std::unique_ptr<TrainingSession>>()> open);

    QThread* m_thread = nullptr;
    TrainControl* m_control = nullptr;
    std::atomic<bool> m_running{false};
};

}  // namespace plateau

Q_DECLARE_METATYPE(std::vector<plateau::StepMetrics>)
Q_DECLARE_METATYPE(plateau::RunConfig)
