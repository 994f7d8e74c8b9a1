#include <torch/torch.h>  // before Qt: Qt's `slots` macro breaks torch headers

#include "training_controller.h"

#include "analysis/snapshot_schedule.h"
#include "run/run_store.h"
#include "runtime_env.h"
#include "train/trainer.h"
#include "train/training_session.h"

namespace plateau {

TrainingController::TrainingController(QObject* parent) : QObject(parent) {
    qRegisterMetaType<std::vector<plateau::StepMetrics>>();
    qRegisterMetaType<plateau::RunConfig>();
    qRegisterMetaType<plateau::DropDetection>();
    qRegisterMetaType<plateau::SnapshotPtr>();
}

TrainingController::~TrainingController() {
    disconnect(this, nullptr, nullptr, nullptr);  // the window may be half destroyed: tell no one
    stopAndWait();
    delete m_control;
}

bool TrainingController::isRunning() const { return m_running; }
bool TrainingController::isPaused() const { return m_control && m_control->isPaused(); }

void TrainingController::setProbeSpec(const ProbeSpec& spec) {
    {
        std::lock_guard<std::mutex> lock(m_probeMutex);
        m_probe = spec;
    }
    ++m_probeVersion;
    if (m_control) m_control->wake();
}

ProbeSpec TrainingController::probeSpec() const {
    std::lock_guard<std::mutex> lock(m_probeMutex);
    return m_probe;
}

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
    // The whole session lives on the worker thread: the store's SQLite connection, the model,
    // the detector and the snapshot builder belong to it.
    m_thread = QThread::create([this, control, open] {
        auto opened = open();
        if (!opened) {
            setOutcome(0, opened.error());
            return;
        }
        TrainingSession& session = *opened.value();
        Trainer& trainer = session.trainer();
        const RunConfig& cfg = trainer.config();
        const RuntimeReport rt = configureRuntime(cfg.train.threads);
        auto earlier = session.store().readMetrics();
        auto detectorOrError = session.dropDetector(100);
        if (!earlier || !detectorOrError) {
            setOutcome(trainer.stepsDone(), !earlier ? earlier.error() : detectorOrError.error());
            return;
        }
        OnlineDropDetector detector = std::move(detectorOrError.value());
        emit started(session.store().dir(), rt.summary(), rt.warnings, cfg, earlier.value());
        if (detector.size() > 0) emit detectionChanged(detector.result());

        SnapshotSchedule schedule(cfg.train.snapshotEvery);
        const std::vector<MetricColumn> columns = session.store().columns();
        const DetectorTarget target = cfg.info().detector;
        int builtVersion = -1;
        double lastSeconds = trainer.trainSeconds();
        qint64 shownStep = -1;  // step of the newest snapshot handed to the GUI
        // Snapshots wait for the next batch of rows and go over with it: one wake-up of the GUI
        // thread per batch (4 a second) instead of one per snapshot as well. A paused run hands
        // them over at once.
        std::vector<SnapshotPtr> waiting;
        auto show = [&](const SnapshotPtr& s) {
            shownStep = s->step;
            waiting.push_back(s);
        };
        auto handOver = [&] {
            for (const SnapshotPtr& s : waiting) emit snapshotReady(s);
            waiting.clear();
        };
        QString snapshotError;
        auto snapshot = [&](Trainer&, bool warm) {
            builtVersion = m_probeVersion;
            auto built = session.buildSnapshot(probeSpec(), false);
            if (!built) {  // reported once; training goes on (the stored snapshots report their own errors)
                if (snapshotError.isEmpty()) snapshotError = built.error();
                return;
            }
            const SnapshotPtr s = built.value();
            if (warm) schedule.snapshotCost(s->buildMs);  // the first build pays one-off set-up costs
            show(s);
        };
        // Where a resumed run stands (a new run's step 0 is stored by the session, below).
        if (trainer.stepsDone() > 0) snapshot(trainer, false);
        handOver();

        SessionCallbacks cb;
        cb.onSavedSnapshot = [&](const SnapshotPtr& s) {
            // A stored snapshot (random masks) is the live one too unless the user drew a mask:
            // then afterStep builds one with it at the same step.
            if (s->probe != probeSpec()) return;
            builtVersion = m_probeVersion;
            if (s->step > 0) schedule.snapshotCost(s->buildMs);
            show(s);
        };
        cb.afterStep = [&](Trainer& t) {
            const double ms = (t.trainSeconds() - lastSeconds) * 1000.0;
            lastSeconds = t.trainSeconds();
            const bool due = schedule.due(t.stepsDone(), ms);
            const bool fresh = builtVersion == m_probeVersion;
            if (shownStep == t.stepsDone() && fresh) return;  // the stored one is shown already
            const SnapshotPtr& saved = session.lastSavedSnapshot();
            const bool savedNow = saved && saved->step == t.stepsDone();
            if (savedNow || due || !fresh || control->isPaused()) snapshot(t, true);
        };
        cb.whilePaused = [&](Trainer& t) {
            if (builtVersion != m_probeVersion) snapshot(t, true);
            handOver();
        };
        cb.onMetrics = [&](const std::vector<StepMetrics>& rows) {
            emit metricsArrived(rows);
            handOver();
            const std::size_t before = detector.size();
            const DetectorSeries series = detectorSeries(rows, columns, target);
            for (std::size_t i = 0; i < series.steps.size(); ++i) detector.append(series.steps[i], series.values[i]);
            // result() re-runs at most every 100 rows; hand it over when it was recomputed.
            if (detector.size() / 100 != before / 100) emit detectionChanged(detector.result());
        };
        // Rows reach the GUI 4 times a second (what the status bar and the loss view show; fewer
        // wake-ups of the GUI thread, which competes with training for the cores).
        const Status st = session.run(*control, cb, 0.25);
        handOver();  // the last step's snapshot, stored after the last rows
        emit detectionChanged(detector.result());
        QString error = st.ok() ? QString() : st.error();
        if (error.isEmpty() && !snapshotError.isEmpty()) error = "live snapshots failed: " + snapshotError;
        setOutcome(trainer.stepsDone(), error);
    });
    m_announced = false;
    connect(m_thread, &QThread::finished, this, [this, gen = ++m_generation] {
        if (gen == m_generation) announceFinished();
    });
    m_thread->start();
}

void TrainingController::setOutcome(qint64 steps, const QString& error) {
    std::lock_guard<std::mutex> lock(m_outcomeMutex);
    m_outcomeSteps = steps;
    m_outcomeError = error;
}

void TrainingController::announceFinished() {
    if (m_announced) return;
    m_announced = true;
    m_running = false;
    qint64 steps;
    QString error;
    {
        std::lock_guard<std::mutex> lock(m_outcomeMutex);
        steps = m_outcomeSteps;
        error = m_outcomeError;
    }
    emit finished(steps, error);
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
    announceFinished();
}

}  // namespace plateau
