#include "run/run_reader.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLockFile>

namespace plateau {

QString runLockPath(const QString& runDir) { return runDir + "/.plateau.lock"; }

bool runBeingWritten(const QString& runDir) {
    if (!QFileInfo::exists(runLockPath(runDir))) return false;
    QLockFile lock(runLockPath(runDir));
    // tryLock removes a stale lock (its process is gone) and succeeds.
    if (lock.tryLock(0)) {
        lock.unlock();
        return false;
    }
    return lock.error() == QLockFile::LockFailedError;
}

bool checkpointLooksComplete(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly) || f.size() < 22) return false;
    // The end-of-central-directory record (PK\5\6) sits in the last 22 + comment (<= 64 KiB) bytes.
    const qint64 tail = std::min<qint64>(f.size(), 22 + 65535);
    f.seek(f.size() - tail);
    return f.read(tail).lastIndexOf(QByteArray("PK\x05\x06", 4)) >= 0;
}

SnapshotLoader::SnapshotLoader(const QString& runDir, qint64 beforeStep, std::function<void()> ready) {
    m_thread = std::thread([this, runDir, beforeStep, ready = std::move(ready)] {
        QString configError;
        std::vector<SnapshotPtr> snaps;
        QStringList problems;
        auto store = RunStore::openForViewing(runDir, &configError);
        if (!store) {
            problems << store.error();
        } else if (auto r = store.value()->readSnapshots(&problems, -1, beforeStep, &m_cancel); r) {
            snaps = std::move(r.value());
        } else {
            problems << r.error();
        }
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_snapshots = std::move(snaps);
            m_problems = std::move(problems);
        }
        m_done = true;
        if (!m_cancel && ready) ready();
    });
}

SnapshotLoader::~SnapshotLoader() {
    m_cancel = true;
    wait();
}

void SnapshotLoader::wait() {
    if (m_thread.joinable()) m_thread.join();
}

std::pair<std::vector<SnapshotPtr>, QStringList> SnapshotLoader::take() {
    std::lock_guard<std::mutex> lock(m_mutex);
    return {std::exchange(m_snapshots, {}), std::exchange(m_problems, {})};
}

Result<std::unique_ptr<RunReader>> RunReader::open(const QString& dirIn, Snapshots load) {
    if (!QFileInfo(dirIn).isDir()) return Error{dirIn + ": no such run folder"};
    std::unique_ptr<RunReader> r(new RunReader);
    r->m_dir = QDir(dirIn).absolutePath();
    QString configError;
    auto store = RunStore::openForViewing(r->m_dir, &configError);
    if (!configError.isEmpty()) r->m_problems << configError;
    if (!store) {
        if (!configError.isEmpty()) return Error{configError + "; " + store.error()};
        return Error{store.error()};
    }
    r->m_store = std::move(store.value());
    r->m_configOk = configError.isEmpty();
    r->m_cfg = r->m_store->config();
    auto rows = r->m_store->readMetrics();
    if (rows) r->m_metrics = std::move(rows.value());
    else r->m_problems << rows.error();
    auto steps = r->m_store->snapshotSteps();
    if (steps) r->m_snapshotSteps = std::move(steps.value());
    else r->m_problems << steps.error();
    if (load == Snapshots::All) {
        auto snaps = r->m_store->readSnapshots(&r->m_problems);
        if (snaps) r->m_snapshots = std::move(snaps.value());
        else r->m_problems << snaps.error();
    } else {
        // The newest stored snapshot that decodes (a damaged one is reported and the one before tried).
        for (auto it = r->m_snapshotSteps.rbegin(); it != r->m_snapshotSteps.rend() && r->m_snapshots.empty(); ++it) {
            auto s = r->m_store->readSnapshot(*it);
            if (s) r->m_snapshots.push_back(s.value());
            else r->m_problems << s.error();
        }
    }
    // Without config.json the views still work: they take every shape from the snapshots.
    if (!r->m_configOk && !r->m_metrics.empty()) r->m_cfg.train.steps = r->m_metrics.back().step;
    for (const CheckpointFile& c : r->m_store->checkpoints()) {
        if (checkpointLooksComplete(c.path)) r->m_checkpoints.push_back(c);
        else r->m_problems << c.path + ": truncated or damaged checkpoint (no zip end record); ignored";
    }
    return r;
}

Status RunReader::readUpdates(std::vector<StepMetrics>* newRows, std::vector<SnapshotPtr>* newSnapshots) {
    const qint64 lastRow = m_metrics.empty() ? -1 : m_metrics.back().step;
    const qint64 lastSnap = std::max(m_snapshots.empty() ? qint64(-1) : m_snapshots.back()->step,
                                     m_snapshotSteps.empty() ? qint64(-1) : m_snapshotSteps.back());
    auto rows = m_store->readMetrics(lastRow);
    if (!rows) return Error{rows.error()};
    QStringList problems;
    auto snaps = m_store->readSnapshots(&problems, lastSnap);
    if (!snaps) return Error{snaps.error()};
    m_problems << problems;
    m_metrics.insert(m_metrics.end(), rows->begin(), rows->end());
    m_snapshots.insert(m_snapshots.end(), snaps->begin(), snaps->end());
    for (const SnapshotPtr& p : snaps.value()) m_snapshotSteps.push_back(p->step);
    if (newRows) *newRows = std::move(rows.value());
    if (newSnapshots) *newSnapshots = std::move(snaps.value());
    return Status::success();
}

}  // namespace plateau
