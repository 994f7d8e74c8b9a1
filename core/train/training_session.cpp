#include <torch/torch.h>

#include "train/training_session.h"

#include "precision.h"

#include "analysis/snapshot_schedule.h"
#include "run/checkpoint.h"
#include "run/run_reader.h"
#include "run/run_store.h"
#include "runtime_env.h"
#include "train/trainer.h"

#include <QFile>
#include <QLockFile>

#include <algorithm>

#include <algorithm>
#include <chrono>

namespace plateau {

void TrainControl::pause() {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_paused = true;
    m_granted = 0;
}
void TrainControl::resume() {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_paused = false;
    }
    m_cv.notify_all();
}
void TrainControl::stop() {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stop = true;
    }
    m_cv.notify_all();
}
void TrainControl::stepOnce() {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_paused = true;
        ++m_granted;
    }
    m_cv.notify_all();
}
bool TrainControl::isPaused() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_paused;
}
bool TrainControl::stopRequested() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_stop;
}
void TrainControl::wake() {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_wake = true;
    }
    m_cv.notify_all();
}
bool TrainControl::waitForTurn(const std::function<void()>& whilePaused) {
    std::unique_lock<std::mutex> lock(m_mutex);
    while (true) {
        m_cv.wait(lock, [this] { return m_stop || !m_paused || m_granted > 0 || m_wake; });
        if (m_stop || !m_paused || m_granted > 0) break;
        m_wake = false;
        if (whilePaused) {
            lock.unlock();
            whilePaused();
            lock.lock();
        }
    }
    if (m_stop) return false;
    if (m_paused) --m_granted;
    return true;
}

TrainingSession::~TrainingSession() = default;

// One writer per run: a viewer that finds the lock follows the run instead; a second trainer is
// refused (two writers would interleave metrics and checkpoints).
Status TrainingSession::lockRun(const QString& dir) {
    m_lock = std::make_unique<QLockFile>(runLockPath(dir));
    m_lock->setStaleLockTime(0);  // stale only when its process is gone
    if (m_lock->tryLock(0)) return Status::success();
    qint64 pid = 0;
    QString host, app;
    m_lock->getLockInfo(&pid, &host, &app);
    if (m_lock->error() == QLockFile::LockFailedError)
        return Error{dir + ": being trained by another process (pid " + QString::number(pid) + " on " + host +
                     "); open it in the GUI to follow it"};
    return Error{runLockPath(dir) + ": cannot create the lock file (is the folder writable?)"};
}

Result<std::unique_ptr<TrainingSession>> TrainingSession::create(const RunConfig& cfgIn,
                                                                 const QString& outDir) {
    RunConfig cfg = cfgIn;
    if (cfg.train.threads == 0) cfg.train.threads = coreCount();  // recorded for reproducibility
    if (Status s = validateConfig(cfg, "config"); !s) return Error{s.error()};
    // Resolved (auto -> fp32 | bf16) and recorded before the run folder is made.
    auto precision = resolvePrecision(cfg.train.precision, bf16Support(), "config");
    if (!precision) return Error{precision.error()};
    cfg.train.precision = precision.value();
    if (!cfg.train.from.isEmpty())  // before the run folder is made: a bad source leaves nothing behind
        if (auto src = sourceCheckpoint(cfg.train, "config"); !src) return Error{src.error()};
    auto store = RunStore::create(outDir, cfg);
    if (!store) return Error{store.error()};
    std::unique_ptr<TrainingSession> session(new TrainingSession);
    if (Status s = session->lockRun(store.value()->dir()); !s) return Error{s.error()};
    session->m_store = std::move(store.value());
    try {
        session->m_trainer = std::make_unique<Trainer>(cfg);
    } catch (const std::exception& e) {
        return Error{QString::fromStdString(e.what()).section('\n', 0, 0)};
    }
    return session;
}

Result<std::unique_ptr<TrainingSession>> TrainingSession::resume(const QString& runDir,
                                                                 std::optional<qint64> totalSteps) {
    if (runBeingWritten(runDir))
        return Error{runDir + ": being trained by another process; open it in the GUI to follow it"};
    auto store = RunStore::open(runDir);
    if (!store) return Error{store.error()};
    RunConfig cfg = store.value()->config();
    if (totalSteps) cfg.train.steps = *totalSteps;
    if (cfg.train.threads == 0) cfg.train.threads = coreCount();
    // A run recorded in bf16 resumes in bf16 only where it may (its config.json says which).
    if (auto p = resolvePrecision(cfg.train.precision, bf16Support(), store.value()->dir() + "/config.json"); !p)
        return Error{p.error()};
    std::unique_ptr<TrainingSession> session(new TrainingSession);
    if (Status s = session->lockRun(store.value()->dir()); !s) return Error{s.error()};
    try {
        session->m_trainer = std::make_unique<Trainer>(cfg, Trainer::Init::ForResume);
    } catch (const std::exception& e) {
        return Error{QString::fromStdString(e.what()).section('\n', 0, 0)};
    }
    // Newest checkpoint that loads; a damaged newer one is reported if none loads.
    const auto files = store.value()->checkpoints();
    if (files.empty()) return Error{store.value()->checkpointDir() + ": no checkpoint to resume from"};
    QString firstError;
    for (auto it = files.rbegin(); it != files.rend(); ++it) {
        auto info = loadCheckpoint(*session->m_trainer, it->path);
        if (info) {
            session->m_resumedFrom = it->path;
            session->m_lastCheckpoint = info->step;
            break;
        }
        if (firstError.isEmpty()) firstError = info.error();
    }
    if (session->m_resumedFrom.isEmpty()) return Error{firstError};
    if (Status s = store.value()->truncateAfter(session->m_trainer->stepsDone()); !s) return Error{s.error()};
    if (totalSteps)
        if (Status s = store.value()->writeConfig(cfg); !s) return Error{s.error()};
    session->m_store = std::move(store.value());
    return session;
}

Status TrainingSession::flush() {
    Status s = m_store->append(m_pending);
    m_pending.clear();
    return s;
}

Status TrainingSession::checkpointNow() {
    if (Status s = flush(); !s) return s;
    const qint64 step = m_trainer->stepsDone();
    if (Status s = saveCheckpoint(*m_trainer, m_store->checkpointPath(step)); !s) return s;
    m_lastCheckpoint = step;
    // Retention: drop the oldest beyond keep_checkpoints (the new one is always kept).
    const int keep = m_trainer->config().train.keepCheckpoints;
    if (keep > 0) {
        const auto files = m_store->checkpoints();
        for (std::size_t i = 0; i + std::size_t(keep) < files.size(); ++i)
            if (files[i].step != step && !QFile::remove(files[i].path))
                return Error{files[i].path + ": cannot remove old checkpoint (train.keep_checkpoints)"};
    }
    return Status::success();
}

Result<OnlineDropDetector> TrainingSession::dropDetector(int every) {
    const RunConfig& cfg = m_trainer->config();
    OnlineDropDetector detector(DetectorParams::forLength(std::size_t(cfg.train.steps)), every);
    auto earlier = m_store->readMetrics();
    if (!earlier) return Error{earlier.error()};
    const DetectorSeries series = detectorSeries(earlier.value(), m_store->columns(), cfg.info().detector);
    for (std::size_t i = 0; i < series.steps.size(); ++i) detector.append(series.steps[i], series.values[i]);
    return detector;
}

Result<SnapshotPtr> TrainingSession::buildSnapshot(const ProbeSpec& probe, bool saved) {
    try {
        return m_trainer->experiment().snapshot(m_trainer->stepsDone(), m_trainer->trainSeconds(), probe, saved);
    } catch (const std::exception& e) {
        return Error{"snapshot at step " + QString::number(m_trainer->stepsDone()) +
                     " failed: " + QString::fromStdString(e.what()).section('\n', 0, 0)};
    }
}

Status TrainingSession::saveSnapshot(const SessionCallbacks& cb) {
    auto built = buildSnapshot(ProbeSpec{}, true);
    if (!built) return Error{built.error()};
    const SnapshotPtr s = built.value();
    if (Status st = m_store->appendSnapshot(*s); !st) return st;
    m_lastSaved = s;
    if (cb.onSavedSnapshot) cb.onSavedSnapshot(s);
    return Status::success();
}

Status TrainingSession::run(TrainControl& control, const SessionCallbacks& cb, double flushSeconds) {
    using Clock = std::chrono::steady_clock;
    const RunConfig& cfg = m_trainer->config();
    const SnapshotSaveSchedule saveSchedule(cfg.train.snapshotSaveEvery, cfg.train.steps);
    if (m_trainer->stepsDone() == 0 && !m_lastSaved)
        if (Status s = saveSnapshot(cb); !s) return s;
    auto lastFlush = Clock::now();
    std::vector<StepMetrics> batch;
    Status result;
    while (m_trainer->stepsDone() < cfg.train.steps) {
        if (!control.waitForTurn([&] {
                if (cb.whilePaused) cb.whilePaused(*m_trainer);
            }))
            break;
        StepMetrics m;
        try {
            m = m_trainer->step();
        } catch (const std::exception& e) {
            result = Error{"training step " + QString::number(m_trainer->stepsDone() + 1) +
                           " failed: " + QString::fromStdString(e.what()).section('\n', 0, 0)};
            break;
        }
        m_pending.push_back(m);
        batch.push_back(m);
        if (saveSchedule.due(m.step))
            if (Status s = saveSnapshot(cb); !s) { result = s; break; }
        if (cb.afterStep) cb.afterStep(*m_trainer);
        const bool timeUp = std::chrono::duration<double>(Clock::now() - lastFlush).count() >= flushSeconds;
        if (timeUp || control.isPaused()) {
            if (cb.onMetrics) cb.onMetrics(batch);
            batch.clear();
            if (Status s = flush(); !s) { result = s; break; }
            lastFlush = Clock::now();
        }
        const int every = cfg.train.checkpointEvery;
        const auto& extra = cfg.train.checkpointSteps;
        if ((every > 0 && m.step % every == 0) || std::find(extra.begin(), extra.end(), m.step) != extra.end())
            if (Status s = checkpointNow(); !s) { result = s; break; }
    }
    if (cb.onMetrics && !batch.empty()) cb.onMetrics(batch);
    // Whatever happened, keep what was computed: metrics, the last step's snapshot and a final
    // checkpoint.
    Status f = flush();
    if (result.ok() && !f.ok()) result = f;
    if (m_trainer->stepsDone() > 0 && (!m_lastSaved || m_lastSaved->step != m_trainer->stepsDone())) {
        Status sn = saveSnapshot(cb);
        if (result.ok() && !sn.ok()) result = sn;
    }
    if (m_trainer->stepsDone() != m_lastCheckpoint && m_trainer->stepsDone() > 0) {
        Status c = checkpointNow();
        if (result.ok() && !c.ok()) result = c;
    }
    return result;
}

}  // namespace plateau
