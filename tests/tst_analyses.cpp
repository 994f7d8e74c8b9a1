// Analysis results in a run folder: round trip, what makes a stored result stale, damaged files
// named in the error, a failed write leaving the previous result in place.
#include "analysis/analysis_store.h"
#include "run/run_store.h"
#include "test_main.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>

#include <cmath>
#include <limits>

using namespace plateau;

namespace {
void writeFile(const QString& path, const QByteArray& bytes) {
    QDir().mkpath(QFileInfo(path).path());
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(bytes);
}
AnalysisResult sample(const QString& runDir) {
    AnalysisResult r;
    r.analysis = "nuclear_norm";
    r.params = QJsonObject{{"matrices", 512}, {"p_masks", QJsonArray{0.1, 0.3}}};
    r.steps = {40, 80};
    r.inputs = checkpointFingerprints(runDir, r.steps).value();
    r.seconds = 1.5;
    r.summary = QJsonObject{{"mse_model", 0.004}};
    AnalysisTable t;
    t.name = "sweep";
    t.columns = QStringList{"p_mask", "mse, model", "mse \"nuclear\""};
    t.rows = {{0.1, 1e-3, 2e-4}, {0.3, std::numeric_limits<double>::quiet_NaN(), 5.5e-3}};
    r.tables.push_back(t);
    AnalysisTable empty;
    empty.name = "none";
    empty.columns = QStringList{"a"};
    r.tables.push_back(empty);
    return r;
}
}  // namespace

class TestAnalyses : public QObject {
    Q_OBJECT
private slots:
    void resultRoundTrips() {
        QTemporaryDir run;
        writeFile(checkpointPathIn(run.path(), 40), "abc");
        writeFile(checkpointPathIn(run.path(), 80), "defg");
        const AnalysisResult r = sample(run.path());
        QVERIFY(writeAnalysisResult(run.path(), r));
        const auto back = readAnalysisResult(run.path(), "nuclear_norm");
        QVERIFY2(back, qPrintable(back.error()));
        const AnalysisResult& b = back.value();
        QCOMPARE(b.params, r.params);
        QCOMPARE(b.steps, r.steps);
        QCOMPARE(b.inputs, r.inputs);
        QCOMPARE(b.summary, r.summary);
        QVERIFY(!b.plateauVersion.isEmpty());
        QCOMPARE(int(b.tables.size()), 2);
        const AnalysisTable* t = b.table("sweep");
        QVERIFY(t);
        QCOMPARE(t->columns, r.tables[0].columns);
        QCOMPARE(t->rows[0], r.tables[0].rows[0]);
        QVERIFY(std::isnan(t->rows[1][1]));
        QCOMPARE(t->rows[1][2], 5.5e-3);
        QVERIFY(b.table("none")->rows.empty());
        QCOMPARE(staleReason(b, r.params, r.inputs), QString());
    }

    void staleWhenParametersOrCheckpointsChange() {
        QTemporaryDir run;
        writeFile(checkpointPathIn(run.path(), 40), "abc");
        writeFile(checkpointPathIn(run.path(), 80), "defg");
        const AnalysisResult r = sample(run.path());
        QJsonObject params = r.params;
        params["matrices"] = 256;
        QVERIFY(staleReason(r, params, r.inputs).contains("matrices"));
        // A checkpoint rewritten (resumed from an earlier step and saved again).
        writeFile(checkpointPathIn(run.path(), 80), "a longer file");
        const QJsonObject now = checkpointFingerprints(run.path(), r.steps).value();
        QVERIFY(staleReason(r, r.params, now).contains("step 80 changed"));
        // Other steps asked for.
        const QJsonObject fewer = checkpointFingerprints(run.path(), {40}).value();
        QVERIFY(staleReason(r, r.params, fewer).contains("80"));
        const auto missing = checkpointFingerprints(run.path(), {40, 120});
        QVERIFY(!missing);
        QVERIFY(missing.error().contains("step_000000120.pt"));
    }

    void damagedFilesAreNamed() {
        QTemporaryDir run;
        writeFile(checkpointPathIn(run.path(), 40), "abc");
        writeFile(checkpointPathIn(run.path(), 80), "defg");
        QVERIFY(writeAnalysisResult(run.path(), sample(run.path())));
        const QString dir = analysisDir(run.path(), "nuclear_norm");
        // A table cut short: fewer rows than result.json says.
        QFile csv(dir + "/sweep.csv");
        QVERIFY(csv.open(QIODevice::ReadOnly));
        const QByteArray whole = csv.readAll();
        csv.close();
        writeFile(dir + "/sweep.csv", whole.left(whole.indexOf('\n', whole.indexOf('\n') + 1) + 1));
        auto cut = readAnalysisResult(run.path(), "nuclear_norm");
        QVERIFY(!cut);
        QVERIFY2(cut.error().contains("sweep.csv") && cut.error().contains("rows"), qPrintable(cut.error()));
        // A cell that is not a number.
        QList<QByteArray> lines = whole.split('\n');
        lines[2] = "0.3,abc,1";
        writeFile(dir + "/sweep.csv", lines.join('\n'));
        auto bad = readAnalysisResult(run.path(), "nuclear_norm");
        QVERIFY(!bad);
        QVERIFY2(bad.error().contains("sweep.csv: line 3"), qPrintable(bad.error()));
        // result.json not JSON, or from a newer Plateau.
        writeFile(dir + "/result.json", "{\"version\": 1, \"analysis\": ");
        QVERIFY(readAnalysisResult(run.path(), "nuclear_norm").error().contains("result.json"));
        writeFile(dir + "/result.json", "{\"version\": 99, \"analysis\": \"nuclear_norm\"}");
        QVERIFY(readAnalysisResult(run.path(), "nuclear_norm").error().contains("version: 99"));
        QVERIFY(!readAnalysisResult(run.path(), "other"));
    }

    void failedWriteKeepsThePreviousResult() {
        QTemporaryDir run;
        writeFile(checkpointPathIn(run.path(), 40), "abc");
        writeFile(checkpointPathIn(run.path(), 80), "defg");
        AnalysisResult r = sample(run.path());
        QVERIFY(writeAnalysisResult(run.path(), r));
        AnalysisResult broken = r;
        broken.summary = QJsonObject{{"mse_model", 1.0}};
        broken.tables[0].rows.push_back({1.0});  // wrong length
        const Status st = writeAnalysisResult(run.path(), broken);
        QVERIFY(!st);
        QVERIFY(st.error().contains("sweep.csv: row 2"));
        const auto kept = readAnalysisResult(run.path(), "nuclear_norm");
        QVERIFY(kept);
        QCOMPARE(kept.value().summary, r.summary);
        // A second good write replaces it.
        r.summary = QJsonObject{{"mse_model", 0.002}};
        QVERIFY(writeAnalysisResult(run.path(), r));
        QCOMPARE(readAnalysisResult(run.path(), "nuclear_norm").value().summary, r.summary);
        QVERIFY(!QFileInfo::exists(analysisDir(run.path(), "nuclear_norm") + ".old"));
    }
};

PLATEAU_TEST_MAIN(TestAnalyses)
#include "tst_analyses.moc"
