#include <torch/torch.h>  // before Qt: Qt's `slots` macro breaks torch headers

#include "training_controller.h"

#include "run/run_store.h"
#include "runtime_env.h"
#include "train/trainer.h"

namespace plateau {

TrainingController::TrainingController(QObject* parent) : QObject(parent) {
    qRegisterMetaType<std::vector<plateau::StepMetrics>>();
    qRegisterMetaType<plateau::RunConfig>();
}

TrainingController::~TrainingController() { stopAndWait(); }

bool TrainingController::isRunning() const { return m_running; }
bool TrainingController::isPaused() const { return m_control && m_control->isPaused(); }

void TrainingController::start(const RunConfig& cfg, const QString& outDir) {
    launch([cfg, outDir] { return TrainingSession::create(cfg, outDir); });
}

void TrainingController::resumeRun(const QString& runDir, qint64 totalSteps) {
    launch([runDir, totalSteps] {
        return TrainingSession::resume(runDir, totalSteps > 0 ? std::optional<qint64>(totalSteps) : std::nullopt);
    });
}

void TrainingController::launch(std::function<Result<std::unique_ptr<TrainingSession>>()> open) {
    stopAndWait();
    delete m_control;
    m_control = new TrainControl;
    TrainControl* control = m_control;
    m_running = true;
    // The whole session lives on the worker thread: the store's SQLite connection and the
    // model belong to it.
    m_thread = QThread::create([this, control, open] {
        auto session = open();
        if (!session) {
            emit finished(0, session.error());
            return;
        }
        Trainer& trainer = session.value()->trainer();
        const RuntimeReport rt = configureRuntime(trainer.config().train.threads);
        emit started(session.value()->store().dir(), rt.summary(), rt.warnings, trainer.config());
        SessionCallbacks cb;
        cb.onMetrics = [this](const std::vector<StepMetrics>& rows) { emit metricsArrived(rows); };
        const Status st = session.value()->run(*control, cb, 0.1);
        emit finished(trainer.stepsDone(), st.ok() ? QString() : st.error());
    });
    connect(m_thread, &QThread::finished, this, [this] { m_running = false; });
    m_thread->start();
}

void TrainingController::pause() {
    if (m_control) m_control->pause();
}
void TrainingController::resume() {
    if (m_control) m_control->resume();
}
void TrainingController::stepOnce() {
    if (m_control) m_control->stepOnce();
}
void TrainingController::stop() {
    if (m_control) m_control->stop();
}
void TrainingController::stopAndWait() {
    if (!m_thread) return;
    stop();
    m_thread->wait();
    delete m_thread;
    m_thread = nullptr;
    m_running = false;
}

}  // namespace plateau
