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

Result<std::unique_ptr<RunReader>> RunReader::open(const QString& dirIn) {
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
    auto snaps = r->m_store->readSnapshots(&r->m_problems);
    if (snaps) r->m_snapshots = std::move(snaps.value());
    else r->m_problems << snaps.error();
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
    const qint64 lastSnap = m_snapshots.empty() ? -1 : m_snapshots.back()->step;
    auto rows = m_store->readMetrics(lastRow);
    if (!rows) return Error{rows.error()};
    QStringList problems;
    auto snaps = m_store->readSnapshots(&problems, lastSnap);
    if (!snaps) return Error{snaps.error()};
    m_problems << problems;
    m_metrics.insert(m_metrics.end(), rows->begin(), rows->end());
    m_snapshots.insert(m_snapshots.end(), snaps->begin(), snaps->end());
    if (newRows) *newRows = std::move(rows.value());
    if (newSnapshots) *newSnapshots = std::move(snaps.value());
    return Status::success();
}

}  // namespace plateau
