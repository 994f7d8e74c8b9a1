#include "run/run_store.h"

#include "run/snapshot_codec.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
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
constexpr int kRunFormatVersion = 1;

QVariant opt(double v) { return std::isnan(v) ? QVariant(QMetaType(QMetaType::Double)) : QVariant(v); }
double val(const QVariant& v) { return v.isNull() ? kNoValue : v.toDouble(); }

Status writeJsonAtomically(const QString& path, const QJsonObject& obj) {
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly)) return Error{path + ": cannot write: " + f.errorString()};
    f.write(QJsonDocument(obj).toJson(QJsonDocument::Indented));
    if (!f.commit()) return Error{path + ": cannot write: " + f.errorString()};
    return Status::success();
}
}  // namespace

QJsonObject versionInfo() {
    return QJsonObject{{"plateau", PLATEAU_VERSION},
                       {"libtorch", PLATEAU_TORCH_VERSION},
                       {"qt", qVersion()},
                       {"run_format", kRunFormatVersion}};
}

RunStore::~RunStore() {
    if (!m_connection.isEmpty()) {
        { QSqlDatabase::database(m_connection, false).close(); }
        QSqlDatabase::removeDatabase(m_connection);
    }
}

QString RunStore::configPath() const { return m_dir + "/config.json"; }
QString RunStore::metricsPath() const { return m_dir + "/metrics.sqlite"; }
QString RunStore::checkpointDir() const { return m_dir + "/checkpoints"; }
QString RunStore::checkpointPath(qint64 step) const {
    return checkpointDir() + QString("/step_%1.pt").arg(step, 9, 10, QChar('0'));
}

Status RunStore::writeConfig(const RunConfig& cfg) {
    QJsonObject obj = cfg.toJson();
    obj["versions"] = versionInfo();
    if (Status s = writeJsonAtomically(configPath(), obj); !s) return s;
    m_cfg = cfg;
    return Status::success();
}

Result<std::unique_ptr<RunStore>> RunStore::create(const QString& dir, const RunConfig& cfg) {
    QDir d(dir);
    if (QFileInfo::exists(dir + "/config.json"))
        return Error{dir + ": already holds a run (config.json exists); use --resume " + dir +
                     " to continue it or choose another --out"};
    if (!d.mkpath(".")) return Error{dir + ": cannot create the run folder"};
    if (!d.mkpath("checkpoints")) return Error{dir + "/checkpoints: cannot create the folder"};
    std::unique_ptr<RunStore> store(new RunStore);
    store->m_dir = QDir(dir).absolutePath();
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
    const int format = obj.value("versions").toObject().value("run_format").toInt(0);
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
    QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", m_connection);
    db.setDatabaseName(path);
    if (m_readOnly) db.setConnectOptions("QSQLITE_OPEN_READONLY");
    if (!db.open()) return Error{path + ": cannot open: " + db.lastError().text()};
    QSqlQuery q(db);
    if (!m_readOnly) {
        // WAL: readers (the GUI, `metrics`) never block the writer and a kill loses nothing
        // that was committed.
        if (!q.exec("PRAGMA journal_mode=WAL") || !q.exec("PRAGMA synchronous=NORMAL"))
            return Error{path + ": " + q.lastError().text()};
        if (!q.exec("CREATE TABLE IF NOT EXISTS metrics (step INTEGER PRIMARY KEY, time_s REAL, "
                    "loss REAL, loss_obs REAL, loss_mask REAL, mean_abs_mask_out REAL, "
                    "eval_loss REAL, lr REAL, grad_norm REAL, step_ms REAL)"))
            return Error{path + ": cannot create the metrics table: " + q.lastError().text()};
        if (!q.exec("CREATE TABLE IF NOT EXISTS snapshots (step INTEGER PRIMARY KEY, time_s REAL, data BLOB)"))
            return Error{path + ": cannot create the snapshots table: " + q.lastError().text()};
    }
    if (!q.exec("SELECT count(*) FROM metrics"))
        return Error{path + ": not a readable metrics database: " + q.lastError().text()};
    return Status::success();
}

Status RunStore::append(const std::vector<StepMetrics>& rows) {
    if (rows.empty()) return Status::success();
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    if (!db.transaction()) return Error{metricsPath() + ": " + db.lastError().text()};
    QSqlQuery q(db);
    q.prepare("INSERT OR REPLACE INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (const StepMetrics& m : rows) {
        q.addBindValue(m.step);
        for (double v : {m.timeS, m.loss, m.lossObs, m.lossMask, m.meanAbsMaskOut, m.evalLoss,
                         m.lr, m.gradNorm, m.stepMs})
            q.addBindValue(opt(v));
        if (!q.exec()) {
            const QString e = q.lastError().text();
            db.rollback();
            return Error{metricsPath() + ": cannot write step " + QString::number(m.step) + ": " + e};
        }
    }
    if (!db.commit()) return Error{metricsPath() + ": commit failed: " + db.lastError().text()};
    return Status::success();
}

Result<std::vector<StepMetrics>> RunStore::readMetrics(qint64 afterStep) const {
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.setForwardOnly(true);
    q.prepare("SELECT step, time_s, loss, loss_obs, loss_mask, mean_abs_mask_out, eval_loss, lr, "
              "grad_norm, step_ms FROM metrics WHERE step > ? ORDER BY step");
    q.addBindValue(afterStep);
    if (!q.exec())
        return Error{metricsPath() + ": " + q.lastError().text()};
    std::vector<StepMetrics> out;
    while (q.next()) {
        StepMetrics m;
        m.step = q.value(0).toLongLong();
        m.timeS = val(q.value(1));
        m.loss = val(q.value(2));
        m.lossObs = val(q.value(3));
        m.lossMask = val(q.value(4));
        m.meanAbsMaskOut = val(q.value(5));
        m.evalLoss = val(q.value(6));
        m.lr = val(q.value(7));
        m.gradNorm = val(q.value(8));
        m.stepMs = val(q.value(9));
        out.push_back(m);
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

bool RunStore::hasSnapshotTable() const {
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    return q.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'snapshots'") && q.next();
}

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

Result<std::vector<SnapshotPtr>> RunStore::readSnapshots(QStringList* problems, qint64 afterStep) const {
    std::vector<SnapshotPtr> out;
    if (!hasSnapshotTable()) return out;
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.setForwardOnly(true);
    q.prepare("SELECT step, data FROM snapshots WHERE step > ? ORDER BY step");
    q.addBindValue(afterStep);
    if (!q.exec()) return Error{metricsPath() + ": " + q.lastError().text()};
    while (q.next()) {
        const qint64 step = q.value(0).toLongLong();
        auto s = decodeSnapshot(q.value(1).toByteArray(), metricsPath() + ", snapshot at step " + QString::number(step));
        if (s) out.push_back(std::make_shared<const Snapshot>(std::move(s.value())));
        else if (problems) *problems << s.error();
    }
    return out;
}

std::vector<CheckpointFile> RunStore::checkpoints() const {
    std::vector<CheckpointFile> out;
    const QStringList files = QDir(checkpointDir()).entryList({"step_*.pt"}, QDir::Files, QDir::Name);
    for (const QString& f : files) {
        bool ok = false;
        const qint64 step = f.mid(5, f.size() - 8).toLongLong(&ok);
        if (ok) out.push_back({step, checkpointDir() + "/" + f});
    }
    return out;
}

}  // namespace plateau
