// Analysis results in a run folder: round trip, what makes a stored result stale, damaged files
// named in the error, a failed write leaving the previous result in place; the analyses' parameters
// and the nuclear-norm baseline on the version-1 fixture run (a tiny model on its copying plateau).
#include "analysis/analysis.h"
#include "analysis/analysis_store.h"
#include "experiments/matrix_completion/mc_config.h"
#include "run/run_store.h"
#include "test_files.h"
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

    void parametersAreValidatedByName() {
        const AnalysisInfo* a = findAnalysis("nuclear_norm");
        QVERIFY(a);
        QCOMPARE(int(analysesFor("matrix_completion").size()), 9);  // the analyses 1-9 (10 is `train --from`)
        // An empty list where empty means something (every layer), and not where it does not.
        QVERIFY(analysisParams(*findAnalysis("activation_patching"), {"layers=[]"}, "test"));
        QVERIFY(analysisParams(*a, {"p_masks=[]"}, "test").error().contains("nuclear_norm.p_masks"));
        QVERIFY(analysesFor("factor_toy").empty());
        const auto p = analysisParams(*a, {"matrices=64", "p_masks=[0.2, 0.4]"}, "test");
        QVERIFY2(p, qPrintable(p.error()));
        QCOMPARE(p->i("matrices"), 64);
        QCOMPARE(p->list("p_masks"), (std::vector<double>{0.2, 0.4}));
        QCOMPARE(p->list("lambdas").size(), std::size_t(7));  // the paper's list by default
        QVERIFY(analysisParams(*a, {"matrices=0"}, "test").error().contains("nuclear_norm.matrices"));
        QVERIFY(analysisParams(*a, {"p_masks=[0.2, 1.5]"}, "test").error().contains("p_masks"));
        QVERIFY(analysisParams(*a, {"nope=1"}, "test").error().contains("no such parameter"));
        QVERIFY(analysisParams(*a, {"matrices"}, "test").error().contains("key=value"));
    }

    void copyTestOnThePlateau() {
        // Step 40 of the fixture run sits on the copying plateau: with a constant's token at the masked
        // positions the model outputs about that constant there (replace loss far below L_mask), as the
        // paper's pre-drop checkpoints do.
        QTemporaryDir tmp;
        const QString dir = tmp.filePath("run");
        test::copyDir(PLATEAU_SOURCE_DIR "/tests/fixtures/v1_run", dir);
        const AnalysisInfo& a = *findAnalysis("copy_test");
        AnalysisRequest q;
        q.runDir = dir;
        q.config = RunStore::open(dir, true).value()->config();
        q.steps = {40};
        q.params = analysisParams(a, {"matrices=64"}, "test").value();
        auto r = runAnalysis(a, q);
        QVERIFY2(r, qPrintable(r.error()));
        const AnalysisTable* t = r->table("copying");
        QCOMPARE(int(t->rows.size()), 3);  // -0.24, 0.44, MASK
        for (const auto& row : t->rows) {
            QVERIFY2(row[5] < 0.15 * row[4], qPrintable(QString("c %1: replace %2, L_mask %3").arg(row[1]).arg(row[5]).arg(row[4])));
            QVERIFY(row[3] < row[4]);  // observed entries fitted better than masked ones
        }
        QVERIFY(std::isnan(t->rows[2][1]) && t->rows[2][2] == 1.0);
        // Full-rank inputs: other matrices, the same shape of result.
        q.params = analysisParams(a, {"matrices=32", "full_rank=true", "mask_token=false", "constants=[0.44]"}, "test").value();
        auto full = runAnalysis(a, q);
        QVERIFY2(full, qPrintable(full.error()));
        QCOMPARE(int(full->table("copying")->rows.size()), 1);
        QVERIFY(analysisParams(a, {"constants=[]"}, "test").error().contains("copy_test.constants"));
    }

    void nuclearNormBaselineOnTheFixtureRun() {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath("run");
        test::copyDir(PLATEAU_SOURCE_DIR "/tests/fixtures/v1_run", dir);
        auto store = RunStore::open(dir, true);
        QVERIFY2(store, qPrintable(store.error()));
        const AnalysisInfo& a = *findAnalysis("nuclear_norm");
        AnalysisRequest q;
        q.runDir = dir;
        q.config = store.value()->config();
        q.steps = {40};
        q.params = analysisParams(a, {"matrices=96", "p_masks=[0.1, 0.2, 0.6]", "regularised_matrices=48",
                                      "lambdas=[0.0005, 0.01]"}, "test").value();
        std::vector<double> progress;
        q.progress = [&](double f) { progress.push_back(f); };
        auto r = runAnalysis(a, q);
        QVERIFY2(r, qPrintable(r.error()));
        QVERIFY(!progress.empty() && progress.back() == 1.0);
        QCOMPARE(r->inputs, checkpointFingerprints(dir, {40}).value());
        const AnalysisTable* sweep = r->table("sweep");
        QVERIFY(sweep);
        QCOMPARE(int(sweep->rows.size()), 3);
        const double ex2 = mc::expectedSquare(mc::taskOf(q.config));
        const int modelMask = int(sweep->columns.indexOf("model_mse_mask")), nuc = int(sweep->columns.indexOf("nuclear_mse"));
        const int nucMask = int(sweep->columns.indexOf("nuclear_mse_mask"));
        for (const auto& row : sweep->rows) {
            // Step 40 is on the copying plateau: at masked entries the model is near E[X^2], far above
            // the nuclear-norm minimiser, which (rank-1 5x5, observed entries fixed) completes well.
            QVERIFY2(row[modelMask] > 0.5 * ex2 && row[modelMask] < 2 * ex2, qPrintable(QString::number(row[modelMask])));
            QVERIFY(row[nucMask] < (row[1] <= 0.2 ? 0.5 : 1.0) * row[modelMask]);
            QCOMPARE(row[sweep->columns.indexOf("capped_solves")], 0.0);
        }
        QVERIFY(sweep->rows[0][nuc] < sweep->rows[2][nuc]);  // more masked, worse completion
        const AnalysisTable* reg = r->table("regularised");
        QCOMPARE(int(reg->rows.size()), 2);
        QVERIFY(reg->rows[0][1] < reg->rows[1][1]);  // larger lambda fits the observed entries less
        QVERIFY(reg->rows[0][4] > reg->rows[1][4]);  // and has a smaller nuclear norm
        QCOMPARE(r->summary.value("p_mask").toDouble(), 0.2);  // the run's own p_mask is in the sweep
        // Written, read back, current for the same request and stale for another.
        QVERIFY(writeAnalysisResult(dir, r.value()));
        const AnalysisResult back = readAnalysisResult(dir, "nuclear_norm").value();
        QCOMPARE(staleReason(back, q.params.json(), r->inputs), QString());
        ParamSet other = q.params;
        other.setRaw("matrices", 97);
        QVERIFY(!staleReason(back, other.json(), r->inputs).isEmpty());
        // Cancelled before it starts: an error that says so, nothing half-made.
        std::atomic<bool> cancel{true};
        q.cancel = &cancel;
        auto c = runAnalysis(a, q);
        QVERIFY(!c);
        QVERIFY(c.error().contains("cancelled"));
        // Another experiment's run: refused by name.
        AnalysisRequest wrong = q;
        wrong.cancel = nullptr;
        wrong.config = loadPreset("factor-toy").value();
        QVERIFY(runAnalysis(a, wrong).error().contains("applies to matrix_completion"));
        // A missing checkpoint: named.
        AnalysisRequest missing = q;
        missing.cancel = nullptr;
        missing.steps = {80};
        QVERIFY(runAnalysis(a, missing).error().contains("step_000000080.pt"));
    }
};

PLATEAU_TEST_MAIN(TestAnalyses)
#include "tst_analyses.moc"
