#include "analysis/analysis_store.h"

#include <algorithm>

#include "run/csv_file.h"
#include "run/run_store.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSaveFile>

#include <cmath>
#include <limits>

#ifndef PLATEAU_VERSION
#define PLATEAU_VERSION "unknown"
#endif

namespace plateau {

namespace {
bool goodName(const QString& s) {
    static const QRegularExpression re("^[A-Za-z0-9_-]{1,64}$");
    return re.match(s).hasMatch();
}
}  // namespace

const AnalysisTable* AnalysisResult::table(const QString& name) const {
    for (const AnalysisTable& t : tables)
        if (t.name == name) return &t;
    return nullptr;
}

QString analysisDir(const QString& runDir, const QString& id) { return runDir + "/analyses/" + id; }

Status writeAnalysisResult(const QString& runDir, const AnalysisResult& r) {
    if (!goodName(r.analysis)) return Error{runDir + ": analysis id \"" + r.analysis + "\" is not a folder name"};
    const QString final = analysisDir(runDir, r.analysis);
    const QString fresh = final + ".writing", old = final + ".old";
    QDir(fresh).removeRecursively();
    if (!QDir().mkpath(fresh)) return Error{fresh + ": cannot create the folder"};
    QJsonArray steps, tables;
    for (qint64 s : r.steps) steps.append(double(s));
    for (const AnalysisTable& t : r.tables) {
        if (!goodName(t.name)) return Error{fresh + ": table name \"" + t.name + "\" is not a file name"};
        QList<QStringList> rows;
        for (std::size_t i = 0; i < t.rows.size(); ++i) {
            if (t.rows[i].size() != std::size_t(t.columns.size()))
                return Error{fresh + "/" + t.name + ".csv: row " + QString::number(i) + " has " +
                             QString::number(t.rows[i].size()) + " cells for " + QString::number(t.columns.size()) + " columns"};
            QStringList cells;
            for (double v : t.rows[i]) cells << csvNumber(v);
            rows << cells;
        }
        if (Status st = writeCsv(fresh + "/" + t.name + ".csv", t.columns, rows); !st) return st;
        tables.append(QJsonObject{{"name", t.name}, {"columns", QJsonArray::fromStringList(t.columns)},
                                  {"rows", double(t.rows.size())}});
    }
    const QJsonObject doc{{"version", kAnalysisResultVersion},
                          {"analysis", r.analysis},
                          {"params", r.params},
                          {"steps", steps},
                          {"inputs", r.inputs},
                          {"plateau", QString(PLATEAU_VERSION)},
                          {"created_utc", r.createdUtc.isEmpty() ? QDateTime::currentDateTimeUtc().toString(Qt::ISODate) : r.createdUtc},
                          {"seconds", r.seconds},
                          {"summary", r.summary},
                          {"tables", tables}};
    QSaveFile f(fresh + "/result.json");
    if (!f.open(QIODevice::WriteOnly) || f.write(QJsonDocument(doc).toJson()) < 0 || !f.commit())
        return Error{fresh + "/result.json: cannot write: " + f.errorString()};
    // Swap: the old result stays in place until the new one is complete.
    QDir(old).removeRecursively();
    if (QFileInfo::exists(final) && !QDir().rename(final, old)) return Error{final + ": cannot move the previous result aside"};
    if (!QDir().rename(fresh, final)) {
        QDir().rename(old, final);
        return Error{final + ": cannot move the new result into place"};
    }
    QDir(old).removeRecursively();
    return Status::success();
}

Result<AnalysisResult> readAnalysisResult(const QString& runDir, const QString& id) {
    const QString dir = analysisDir(runDir, id), path = dir + "/result.json";
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return Error{path + ": cannot read: " + f.errorString()};
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) return Error{path + ": not a JSON object: " + pe.errorString()};
    const QJsonObject o = doc.object();
    const int version = o.value("version").toInt(-1);
    if (version < 1 || version > kAnalysisResultVersion)
        return Error{path + ": version: " + QString::number(version) + " is not one this Plateau reads (1.." +
                     QString::number(kAnalysisResultVersion) + ")"};
    AnalysisResult r;
    r.analysis = o.value("analysis").toString();
    if (r.analysis != id) return Error{path + ": analysis: \"" + r.analysis + "\" in the folder of \"" + id + "\""};
    if (!o.value("params").isObject()) return Error{path + ": params: missing or not an object"};
    r.params = o.value("params").toObject();
    if (!o.value("steps").isArray()) return Error{path + ": steps: missing or not an array"};
    for (const QJsonValue& v : o.value("steps").toArray()) r.steps.push_back(qint64(v.toDouble()));
    r.inputs = o.value("inputs").toObject();
    r.plateauVersion = o.value("plateau").toString();
    r.createdUtc = o.value("created_utc").toString();
    r.seconds = o.value("seconds").toDouble();
    r.summary = o.value("summary").toObject();
    for (const QJsonValue& tv : o.value("tables").toArray()) {
        const QJsonObject t = tv.toObject();
        AnalysisTable table;
        table.name = t.value("name").toString();
        if (!goodName(table.name)) return Error{path + ": tables: a table without a valid name"};
        for (const QJsonValue& c : t.value("columns").toArray()) table.columns << c.toString();
        const QString csv = dir + "/" + table.name + ".csv";
        Result<QList<QStringList>> rows = readCsv(csv);
        if (!rows) return Error{rows.error()};
        const QList<QStringList>& cells = rows.value();
        if (cells.isEmpty() || cells.front() != table.columns)
            return Error{csv + ": line 1: the header does not match result.json's columns"};
        for (qsizetype i = 1; i < cells.size(); ++i) {
            if (cells[i].size() != table.columns.size())
                return Error{csv + ": line " + QString::number(i + 1) + ": " + QString::number(cells[i].size()) + " cells for " +
                             QString::number(table.columns.size()) + " columns"};
            std::vector<double> row;
            for (const QString& c : cells[i]) {
                bool ok = true;
                row.push_back(c.isEmpty() ? std::numeric_limits<double>::quiet_NaN() : c.toDouble(&ok));
                if (!ok) return Error{csv + ": line " + QString::number(i + 1) + ": \"" + c + "\" is not a number"};
            }
            table.rows.push_back(std::move(row));
        }
        if (qint64(table.rows.size()) != qint64(t.value("rows").toDouble(-1)))
            return Error{csv + ": " + QString::number(table.rows.size()) + " rows where result.json says " +
                         QString::number(t.value("rows").toDouble(-1)) + " (file cut short?)"};
        r.tables.push_back(std::move(table));
    }
    return r;
}

Result<QJsonObject> checkpointFingerprints(const QString& runDir, const std::vector<qint64>& steps) {
    QJsonObject out;
    for (qint64 s : steps) {
        const QFileInfo fi(checkpointPathIn(runDir, s));
        if (!fi.isFile()) return Error{fi.filePath() + ": no checkpoint of step " + QString::number(s)};
        out[QString::number(s)] = QString("%1:%2").arg(fi.size()).arg(fi.lastModified().toMSecsSinceEpoch());
    }
    return out;
}

QString staleReason(const AnalysisResult& stored, const QJsonObject& params, const QJsonObject& fingerprints) {
    for (auto it = params.begin(); it != params.end(); ++it)
        if (stored.params.value(it.key()) != it.value())
            return "parameter " + it.key() + " was " + QString::fromUtf8(QJsonDocument(QJsonArray{stored.params.value(it.key())}).toJson(QJsonDocument::Compact)).mid(1).chopped(1) +
                   " when it was computed";
    for (auto it = fingerprints.begin(); it != fingerprints.end(); ++it) {
        if (!stored.inputs.contains(it.key())) return "it did not read the checkpoint of step " + it.key();
        if (stored.inputs.value(it.key()) != it.value()) return "the checkpoint of step " + it.key() + " changed since";
    }
    for (auto it = stored.inputs.begin(); it != stored.inputs.end(); ++it)
        if (!fingerprints.contains(it.key())) return "it read the checkpoint of step " + it.key() + ", not asked for now";
    return {};
}

Result<std::vector<qint64>> chooseSteps(const QString& which, const std::vector<qint64>& available, const QString& runDir,
                                        const QString& where) {
    if (available.empty()) return Error{runDir + ": no checkpoints to analyse (train.checkpoint_every)"};
    std::vector<qint64> steps;
    const QString w = which.trimmed();
    if (w.isEmpty() || w == "last") steps = {available.back()};
    else if (w == "all") steps = available;
    else
        for (const QString& t : w.split(',', Qt::SkipEmptyParts)) {
            bool ok = false;
            const qint64 s = t.trimmed().toLongLong(&ok);
            if (!ok || std::find(available.begin(), available.end(), s) == available.end()) {
                QStringList have;
                for (qint64 x : available) have << QString::number(x);
                return Error{where + ": \"" + t.trimmed() + "\" is not a checkpoint step of " + runDir + " (" + have.join(", ") + ")"};
            }
            steps.push_back(s);
        }
    std::sort(steps.begin(), steps.end());
    steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
    if (steps.empty()) return Error{where + ": no step given (last, all, or steps separated by commas)"};
    return steps;
}

}  // namespace plateau
