#include "run/run_store.h"

#include "run/snapshot_codec.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMutex>
#include <QSaveFile>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>
#include <QVariant>

#include <cmath>

#ifndef PLATEAU_VERSION
#define PLATEAU_VERSION "unknown"
#endif
#ifndef PLATEAU_TORCH_VERSION
#define PLATEAU_TORCH_VERSION "unknown"
#endif

namespace plateau {

namespace {

QVariant opt(double v) { return std::isnan(v) ? QVariant(QMetaType(QMetaType::Double)) : QVariant(v); }
double val(const QVariant& v) { return v.isNull() ? kNoValue : v.toDouble(); }

// Adding and removing connections, one thread at a time. Stores are opened and closed on worker
// threads (sweep-summary, SweepData); without this lock about 1 in 150 `sweep-summary` processes
// hung at exit, in QtSql's clean-up of its connections (qt_call_post_routines), and CI's
// tst_sweep timed out on one.
QMutex& connectionsLock() {
    static QMutex m;
    return m;
}

Status writeJsonAtomically(const QString& path, const QJsonObject& obj) {
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly)) return Error{path + ": cannot write: " + f.errorString()};
    f.write(QJsonDocument(obj).toJson(QJsonDocument::Indented));
    if (!f.commit()) return Error{path + ": cannot write: " + f.errorString()};
    return Status::success();
}
}  // namespace

QJsonObject versionInfo(int runFormat) {
    return QJsonObject{{"plateau", PLATEAU_VERSION},
                       {"libtorch", PLATEAU_TORCH_VERSION},
                       {"qt", qVersion()},
                       {"run_format", runFormat}};
}

RunStore::~RunStore() {
    if (!m_connection.isEmpty()) {
        { QSqlDatabase::database(m_connection, false).close(); }
        QMutexLocker lock(&connectionsLock());
        QSqlDatabase::removeDatabase(m_connection);
    }
}

QString RunStore::configPath() const { return m_dir + "/config.json"; }
QString RunStore::metricsPath() const { return m_dir + "/metrics.sqlite"; }
QString RunStore::checkpointDir() const { return m_dir + "/checkpoints"; }
QString checkpointPathIn(const QString& runDir, qint64 step) {
    return runDir + QString("/checkpoints/step_%1.pt").arg(step, 9, 10, QChar('0'));
}
QString RunStore::checkpointPath(qint64 step) const { return checkpointPathIn(m_dir, step); }

QString stoppedAfterDropPath(const QString& runDir) { return runDir + "/stopped_after_drop.json"; }

Status writeStoppedAfterDrop(const QString& runDir, qint64 step, qint64 dropEndStep, qint64 after) {
    const QString path = stoppedAfterDropPath(runDir);
    const QJsonObject o{{"step", double(step)}, {"drop_end_step", double(dropEndStep)}, {"after", double(after)}};
    QSaveFile f(path);
    const QByteArray data = QJsonDocument(o).toJson();
    if (!f.open(QIODevice::WriteOnly) || f.write(data) != data.size() || !f.commit())
        return Error{path + ": cannot write (" + f.errorString() + ")"};
    return Status::success();
}

void clearStoppedAfterDrop(const QString& runDir) { QFile::remove(stoppedAfterDropPath(runDir)); }

qint64 stoppedAfterDropStep(const QString& runDir) {
    QFile f(stoppedAfterDropPath(runDir));
    if (!f.open(QIODevice::ReadOnly)) return -1;
    const QJsonValue v = QJsonDocument::fromJson(f.read(4096)).object().value("step");
    return v.isDouble() && v.toDouble() >= 0 ? qint64(v.toDouble()) : -1;
}

Status RunStore::writeConfig(const RunConfig& cfg) {
    QJsonObject obj = cfg.toJson();
    obj["versions"] = versionInfo(m_format > 0 ? m_format : kRunFormatVersion);  // a resumed v1 run stays v1
    if (Status s = writeJsonAtomically(configPath(), obj); !s) return s;
    m_cfg = cfg;
    return Status::success();
}

namespace {
// Column names go into SQL text: the experiment declares them, but check anyway.
bool safeKey(const QString& k) {
    if (k.isEmpty() || k.size() > 64) return false;
    for (QChar c : k)
        if (!(c.isLower() || c.isDigit() || c == '_')) return false;
    return !k.front().isDigit();
}
}  // namespace

Result<std::unique_ptr<RunStore>> RunStore::create(const QString& dir, const RunConfig& cfg) {
    QDir d(dir);
    if (QFileInfo::exists(dir + "/config.json"))
        return Error{dir + ": already holds a run (config.json exists); use --resume " + dir +
                     " to continue it or choose another --out"};
    if (!d.mkpath(".")) return Error{dir + ": cannot create the run folder"};
    if (!d.mkpath("checkpoints")) return Error{dir + "/checkpoints: cannot create the folder"};
    std::unique_ptr<RunStore> store(new RunStore);
    store->m_dir = QDir(dir).absolutePath();
    store->m_columns = cfg.info().columnsOf(cfg);
    store->m_format = kRunFormatVersion;
    for (const MetricColumn& c : store->m_columns)
        if (!safeKey(c.key) || commonMetricKeys().contains(c.key))
            return Error{cfg.experiment + ": metric column \"" + c.key + "\" is not a valid column name"};
    if (Status s = store->writeConfig(cfg); !s) return Error{s.error()};
    if (Status s = store->openDatabase(true); !s) return Error{s.error()};
    return store;
}

Status RunStore::readConfig() {
    QFile f(configPath());
    if (!f.exists()) return Error{configPath() + ": missing (not a Plateau run folder?)"};
    if (!f.open(QIODevice::ReadOnly)) return Error{configPath() + ": " + f.errorString()};
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject())
        return Error{configPath() + ": invalid JSON: " + err.errorString()};
    const QJsonObject obj = doc.object();
    const int format = obj.value("versions").toObject().value("run_format").toInt(1);
    m_format = format;
    if (format > kRunFormatVersion)
        return Error{configPath() + ": versions.run_format " + QString::number(format) +
                     " is newer than this Plateau reads (" + QString::number(kRunFormatVersion) + ")"};
    auto cfg = configFromJson(obj, configPath());
    if (!cfg) return Error{cfg.error()};
    m_cfg = cfg.value();
    return Status::success();
}

Result<std::unique_ptr<RunStore>> RunStore::open(const QString& dir, bool readOnly) {
    if (!QFileInfo(dir).isDir()) return Error{dir + ": no such run folder"};
    std::unique_ptr<RunStore> store(new RunStore);
    store->m_dir = QDir(dir).absolutePath();
    store->m_readOnly = readOnly;
    if (Status s = store->readConfig(); !s) return Error{s.error()};
    if (Status s = store->openDatabase(!readOnly); !s) return Error{s.error()};
    return store;
}

Result<std::unique_ptr<RunStore>> RunStore::openForViewing(const QString& dir, QString* configError) {
    if (!QFileInfo(dir).isDir()) return Error{dir + ": no such run folder"};
    std::unique_ptr<RunStore> store(new RunStore);
    store->m_dir = QDir(dir).absolutePath();
    store->m_readOnly = true;
    if (Status s = store->readConfig(); !s && configError) *configError = s.error();
    if (Status s = store->openDatabase(false); !s) return Error{s.error()};
    return store;
}

Status RunStore::openDatabase(bool create) {
    const QString path = metricsPath();
    if (!create && !QFileInfo::exists(path)) return Error{path + ": missing"};
    m_connection = "plateau-run-" + QUuid::createUuid().toString(QUuid::WithoutBraces);
    QSqlDatabase db = [&] {
        QMutexLocker lock(&connectionsLock());
        return QSqlDatabase::addDatabase("QSQLITE", m_connection);
    }();
    db.setDatabaseName(path);
    if (m_readOnly) db.setConnectOptions("QSQLITE_OPEN_READONLY");
    if (!db.open()) return Error{path + ": cannot open: " + db.lastError().text()};
    QSqlQuery q(db);
    if (!m_readOnly) {
        // WAL: readers (the GUI, `metrics`) never block the writer and a kill loses nothing
        // that was committed.
        if (!q.exec("PRAGMA journal_mode=WAL") || !q.exec("PRAGMA synchronous=NORMAL"))
            return Error{path + ": " + q.lastError().text()};
        if (create && !hasTable("metrics")) {
            // Run format 2: the common columns, then the experiment's, described in `columns`.
            QString sql = "CREATE TABLE metrics (step INTEGER PRIMARY KEY, time_s REAL, lr REAL, grad_norm REAL, "
                          "step_ms REAL";
            for (const MetricColumn& c : m_columns) sql += ", " + c.key + " REAL";
            if (!q.exec(sql + ")")) return Error{path + ": cannot create the metrics table: " + q.lastError().text()};
            if (!q.exec("CREATE TABLE columns (position INTEGER PRIMARY KEY, key TEXT, label TEXT, unit TEXT, "
                        "log_axis INTEGER, better TEXT, shown INTEGER)"))
                return Error{path + ": cannot create the columns table: " + q.lastError().text()};
            for (std::size_t i = 0; i < m_columns.size(); ++i) {
                const MetricColumn& c = m_columns[i];
                q.prepare("INSERT INTO columns VALUES (?, ?, ?, ?, ?, ?, ?)");
                for (const QVariant& v : {QVariant(qint64(i)), QVariant(c.key), QVariant(c.label), QVariant(c.unit),
                                          QVariant(int(c.logAxis)), QVariant(betterName(c.better)), QVariant(int(c.shown))})
                    q.addBindValue(v);
                if (!q.exec()) return Error{path + ": cannot write the columns table: " + q.lastError().text()};
            }
        }
        if (!q.exec("CREATE TABLE IF NOT EXISTS snapshots (step INTEGER PRIMARY KEY, time_s REAL, data BLOB)"))
            return Error{path + ": cannot create the snapshots table: " + q.lastError().text()};
    }
    if (!q.exec("SELECT count(*) FROM metrics"))
        return Error{path + ": not a readable metrics database: " + q.lastError().text()};
    return readColumns();
}

bool RunStore::hasTable(const QString& name) const {
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    q.addBindValue(name);
    return q.exec() && q.next();
}

// Format 2 describes its columns; a version-1 run is matrix completion with its five fixed ones
// (the same keys, so the same SELECT reads both).
Status RunStore::readColumns() {
    if (!hasTable("columns")) {
        const ExperimentInfo* mc = findExperiment("matrix_completion");
        if (m_cfg.experiment != mc->id)
            return Error{metricsPath() + ": has no columns table, which every " + m_cfg.experiment + " run has"};
        m_columns = mc->columns;
        if (m_format == 0) m_format = 1;
        return Status::success();
    }
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    if (!q.exec("SELECT key, label, unit, log_axis, better, shown FROM columns ORDER BY position"))
        return Error{metricsPath() + ": columns table: " + q.lastError().text()};
    std::vector<MetricColumn> cols;
    while (q.next()) {
        MetricColumn c;
        c.key = q.value(0).toString();
        c.label = q.value(1).toString();
        c.unit = q.value(2).toString();
        c.logAxis = q.value(3).toInt() != 0;
        c.better = betterFromName(q.value(4).toString());
        c.shown = q.value(5).toInt() != 0;
        if (!safeKey(c.key) || commonMetricKeys().contains(c.key))
            return Error{metricsPath() + ": columns table: \"" + c.key + "\" is not a valid column name"};
        // Help texts are not stored: take them from the experiment where it has the column.
        const ExperimentInfo& info = m_cfg.info();
        if (info.id == m_cfg.experiment)
            for (const MetricColumn& known : info.columnsOf(m_cfg))
                if (known.key == c.key) c.help = known.help;
        cols.push_back(c);
    }
    m_columns = std::move(cols);
    return Status::success();
}

Status RunStore::append(const std::vector<StepMetrics>& rows) {
    if (rows.empty()) return Status::success();
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    if (!db.transaction()) return Error{metricsPath() + ": " + db.lastError().text()};
    QSqlQuery q(db);
    QString names = "step, time_s, lr, grad_norm, step_ms", marks = "?, ?, ?, ?, ?";
    for (const MetricColumn& c : m_columns) {
        names += ", " + c.key;
        marks += ", ?";
    }
    q.prepare("INSERT OR REPLACE INTO metrics (" + names + ") VALUES (" + marks + ")");
    for (const StepMetrics& m : rows) {
        if (m.values.size() != m_columns.size()) {
            db.rollback();
            return Error{metricsPath() + ": step " + QString::number(m.step) + " has " + QString::number(m.values.size()) +
                         " metric values for " + QString::number(m_columns.size()) + " columns"};
        }
        q.addBindValue(m.step);
        for (double v : {m.timeS, m.lr, m.gradNorm, m.stepMs}) q.addBindValue(opt(v));
        for (double v : m.values) q.addBindValue(opt(v));
        if (!q.exec()) {
            const QString e = q.lastError().text();
            db.rollback();
            return Error{metricsPath() + ": cannot write step " + QString::number(m.step) + ": " + e};
        }
    }
    if (!db.commit()) return Error{metricsPath() + ": commit failed: " + db.lastError().text()};
    return Status::success();
}

Result<qint64> RunStore::lastStep() const {
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    if (!q.exec("SELECT MAX(step) FROM metrics")) return Error{metricsPath() + ": " + q.lastError().text()};
    return q.next() && !q.value(0).isNull() ? q.value(0).toLongLong() : qint64(0);
}

Result<std::vector<StepMetrics>> RunStore::readMetrics(qint64 afterStep) const { return readMetrics(afterStep, nullptr); }

Result<std::vector<StepMetrics>> RunStore::readMetrics(qint64 afterStep, const QStringList* only) const {
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.setForwardOnly(true);
    const bool all = only == nullptr;
    // The fixed columns: all of them, or those named in `only` ("step_ms" etc.; step and time always).
    const bool lr = all || only->contains("lr"), gradNorm = all || only->contains("grad_norm"), stepMs = all || only->contains("step_ms");
    QString names = "step, time_s";
    for (const auto& [want, name] : {std::pair{lr, "lr"}, std::pair{gradNorm, "grad_norm"}, std::pair{stepMs, "step_ms"}})
        if (want) names += QString(", ") + name;
    std::vector<int> read;  // the columns fetched, in query order
    for (int c = 0; c < int(m_columns.size()); ++c)
        if (all || only->contains(m_columns[std::size_t(c)].key)) {
            names += ", " + m_columns[std::size_t(c)].key;
            read.push_back(c);
        }
    q.prepare("SELECT " + names + " FROM metrics WHERE step > ? ORDER BY step");
    q.addBindValue(afterStep);
    if (!q.exec())
        return Error{metricsPath() + ": " + q.lastError().text()};
    std::vector<StepMetrics> out;
    const int first = 2 + int(lr) + int(gradNorm) + int(stepMs);
    while (q.next()) {
        StepMetrics m;
        m.step = q.value(0).toLongLong();
        m.timeS = val(q.value(1));
        int at = 2;
        if (lr) m.lr = val(q.value(at++));
        if (gradNorm) m.gradNorm = val(q.value(at++));
        if (stepMs) m.stepMs = val(q.value(at++));
        m.values.assign(m_columns.size(), kNoValue);
        for (std::size_t i = 0; i < read.size(); ++i) m.values[std::size_t(read[i])] = val(q.value(first + int(i)));
        out.push_back(std::move(m));
    }
    return out;
}

Status RunStore::truncateAfter(qint64 last) {
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    for (const char* table : {"metrics", "snapshots"}) {
        if (QString(table) == "snapshots" && !hasSnapshotTable()) continue;
        q.prepare(QString("DELETE FROM %1 WHERE step > ?").arg(table));
        q.addBindValue(last);
        if (!q.exec()) return Error{metricsPath() + ": " + q.lastError().text()};
    }
    return Status::success();
}

bool RunStore::hasSnapshotTable() const { return hasTable("snapshots"); }

Status RunStore::appendSnapshot(const Snapshot& s) {
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare("INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?)");
    q.addBindValue(s.step);
    q.addBindValue(s.timeS);
    q.addBindValue(encodeSnapshot(s));
    if (!q.exec())
        return Error{metricsPath() + ": cannot write the snapshot at step " + QString::number(s.step) + ": " +
                     q.lastError().text()};
    return Status::success();
}

Result<std::vector<qint64>> RunStore::snapshotSteps() const {
    std::vector<qint64> out;
    if (!hasSnapshotTable()) return out;
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.setForwardOnly(true);
    if (!q.exec("SELECT step FROM snapshots ORDER BY step")) return Error{metricsPath() + ": " + q.lastError().text()};
    while (q.next()) out.push_back(q.value(0).toLongLong());
    return out;
}

Result<SnapshotPtr> RunStore::readSnapshot(qint64 step) const {
    const QString where = metricsPath() + ", snapshot at step " + QString::number(step);
    if (!hasSnapshotTable()) return Error{where + ": this run has no stored snapshots"};
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare("SELECT data FROM snapshots WHERE step = ?");
    q.addBindValue(step);
    if (!q.exec()) return Error{where + ": " + q.lastError().text()};
    if (!q.next()) return Error{where + ": not stored"};
    auto s = decodeSnapshot(q.value(0).toByteArray(), where);
    if (!s) return Error{s.error()};
    return SnapshotPtr(std::make_shared<const Snapshot>(std::move(s.value())));
}

Result<std::vector<SnapshotPtr>> RunStore::readSnapshots(QStringList* problems, qint64 afterStep, qint64 beforeStep,
                                                         const std::atomic<bool>* cancel) const {
    std::vector<SnapshotPtr> out;
    if (!hasSnapshotTable()) return out;
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.setForwardOnly(true);
    q.prepare("SELECT step, data FROM snapshots WHERE step > ? AND (? < 0 OR step < ?) ORDER BY step");
    q.addBindValue(afterStep);
    q.addBindValue(beforeStep);
    q.addBindValue(beforeStep);
    if (!q.exec()) return Error{metricsPath() + ": " + q.lastError().text()};
    while (q.next()) {
        if (cancel && cancel->load()) break;
        const qint64 step = q.value(0).toLongLong();
        auto s = decodeSnapshot(q.value(1).toByteArray(), metricsPath() + ", snapshot at step " + QString::number(step));
        if (s) out.push_back(std::make_shared<const Snapshot>(std::move(s.value())));
        else if (problems) *problems << s.error();
    }
    return out;
}

std::vector<CheckpointFile> checkpointsIn(const QString& runDir) {
    std::vector<CheckpointFile> out;
    const QString dir = runDir + "/checkpoints";
    const QStringList files = QDir(dir).entryList({"step_*.pt"}, QDir::Files, QDir::Name);
    for (const QString& f : files) {
        bool ok = false;
        const qint64 step = f.mid(5, f.size() - 8).toLongLong(&ok);
        if (ok) out.push_back({step, dir + "/" + f});
    }
    return out;
}

std::vector<CheckpointFile> RunStore::checkpoints() const { return checkpointsIn(m_dir); }

}  // namespace plateau
