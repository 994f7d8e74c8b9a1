// Analysis results in a run folder (issue 15): RUN/analyses/<id>/result.json (the analysis id,
// its validated parameters, the checkpoint steps it ran on with a fingerprint of each checkpoint
// file, the Plateau version, when, how long, headline numbers, the list of tables) and one
// <table>.csv per table. A result is shown as current only while its parameters and every
// checkpoint it read are unchanged; otherwise staleReason says why, and it is recomputed.
// Plain Qt, no torch: any thread.
#pragma once

#include "result.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <vector>

namespace plateau {

struct AnalysisTable {
    QString name;                           // file stem (letters, digits, '_', '-')
    QStringList columns;
    std::vector<std::vector<double>> rows;  // each columns.size() long; NaN = empty cell
};

struct AnalysisResult {
    QString analysis;                       // id
    QJsonObject params;                     // every parameter, validated
    std::vector<qint64> steps;              // checkpoints it ran on, ascending
    QJsonObject inputs;                     // checkpointFingerprints() of those steps
    QString plateauVersion;
    QString createdUtc;                     // ISO 8601
    double seconds = 0;                     // wall time of the computation
    QJsonObject summary;                    // headline numbers
    std::vector<AnalysisTable> tables;
    const AnalysisTable* table(const QString& name) const;
};

constexpr int kAnalysisResultVersion = 1;

QString analysisDir(const QString& runDir, const QString& id);
// Writes result.json and the tables into a fresh folder beside the old one, then swaps it in:
// a failed write leaves the previous result as it was.
Status writeAnalysisResult(const QString& runDir, const AnalysisResult& r);
// Errors name the file (and the field or CSV line) that is missing or malformed.
Result<AnalysisResult> readAnalysisResult(const QString& runDir, const QString& id);
// {"<step>": "<bytes>:<mtime ms>"} of RUN/checkpoints' files at those steps; a missing one is an error.
Result<QJsonObject> checkpointFingerprints(const QString& runDir, const std::vector<qint64>& steps);
// The checkpoint steps `which` names among `available` (ascending): "last", "all", or a comma-
// separated list of steps; an unknown step is an error naming `where`, the run and the steps it has.
Result<std::vector<qint64>> chooseSteps(const QString& which, const std::vector<qint64>& available, const QString& runDir,
                                        const QString& where);
// Empty when `stored` is current for these parameters and fingerprints, else why not (for the user).
QString staleReason(const AnalysisResult& stored, const QJsonObject& params, const QJsonObject& fingerprints);

}  // namespace plateau
