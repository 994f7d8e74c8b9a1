// plateau-cli as a script would use it: describe, train, metrics --csv, resume, bad input.
#include <torch/torch.h>

#include "cli_run.h"
#include "experiment.h"
#include "run/checkpoint.h"
#include "run/run_store.h"
#include "test_files.h"
#include "test_main.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QFileInfo>
#include <QProcess>
#include <QProcessEnvironment>
#include <QTemporaryDir>

class TestCli : public QObject {
    Q_OBJECT
private slots:
    void describePaper() {
        const CliRun r = runCli({"describe", "--preset", "paper"});
        QCOMPARE(r.code, 0);
        const QJsonObject obj = QJsonDocument::fromJson(r.out.toUtf8()).object();
        QCOMPARE(obj["parameter_count"].toDouble(), 30284545.0);
        QCOMPARE(obj["config"].toObject()["model"].toObject()["width"].toInt(), 768);
        QCOMPARE(obj["sequence_length"].toInt(), 49);
        QCOMPARE(obj["experiment"].toString(), QString("matrix_completion"));
        QCOMPARE(obj["config"].toObject()["experiment"].toString(), QString("matrix_completion"));
    }
    void analyzeWritesReusesAndRecomputes() {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath("run");
        plateau::test::copyDir(PLATEAU_SOURCE_DIR "/tests/fixtures/v1_run", dir);
        const QStringList base{"analyze", dir, "--analysis", "nuclear_norm", "--set", "matrices=16", "--set",
                               "p_masks=[0.2, 0.4]", "--set", "regularised_matrices=8", "--json"};
        CliRun r = runCli(base);
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QJsonObject o = QJsonDocument::fromJson(r.out.toUtf8()).object();
        QCOMPARE(o["stored_result_reused"].toBool(), false);
        QCOMPARE(o["steps"].toArray().first().toInt(), 40);  // the last (only) checkpoint
        QCOMPARE(o["tables"].toArray().first().toObject()["rows"].toArray().size(), 2);
        QVERIFY(QFileInfo::exists(dir + "/analyses/nuclear_norm/sweep.csv"));
        // The same request again: the stored result, current. Other parameters or --force: computed.
        r = runCli(base);
        QCOMPARE(QJsonDocument::fromJson(r.out.toUtf8()).object()["stored_result_reused"].toBool(), true);
        r = runCli(QStringList(base) << "--force");
        QCOMPARE(QJsonDocument::fromJson(r.out.toUtf8()).object()["stored_result_reused"].toBool(), false);
        r = runCli(QStringList(base) << "--set" << "matrices=17");
        QCOMPARE(QJsonDocument::fromJson(r.out.toUtf8()).object()["stored_result_reused"].toBool(), false);
        // Bad input, named.
        r = runCli({"analyze", dir, "--analysis", "nuclear_norm", "--steps", "41"});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("--steps") && r.err.contains("(40)"), qPrintable(r.err));
        r = runCli({"analyze", dir, "--analysis", "nuclear_norm", "--set", "p_masks=[2]"});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("nuclear_norm.p_masks"), qPrintable(r.err));
        r = runCli({"analyze", dir, "--analysis", "nope"});
        QVERIFY(r.code == 2 && r.err.contains("plateau-cli analyses"));
        r = runCli({"analyses", "--json"});
        QCOMPARE(r.code, 0);
        QCOMPARE(QJsonDocument::fromJson(r.out.toUtf8()).array().first().toObject()["id"].toString(), QString("nuclear_norm"));
    }
    void componentWiseTrainingFromARun() {
        // The paper's Fig 8 set-up: a trained model, one component reinitialised and trained, the
        // rest frozen. Here: the fixture run's step 40, positions only.
        QTemporaryDir tmp;
        const QString src = tmp.filePath("src"), dir = tmp.filePath("pos");
        plateau::test::copyDir(PLATEAU_SOURCE_DIR "/tests/fixtures/v1_run", src);
        CliRun r = runCli({"train", "--from", src + ":40", "--train-only", "positions", "--reinit", "--out", dir, "--steps", "6",
                           "--set", "train.print_every=3"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        auto store = plateau::RunStore::open(dir, true);
        QVERIFY2(store, qPrintable(store.error()));
        const plateau::RunConfig cfg = store.value()->config();
        QCOMPARE(cfg.train.from, src + ":40");  // where it came from
        QCOMPARE(cfg.train.trainOnly, QString("positions"));
        QVERIFY(cfg.train.reinit);
        auto before = plateau::makeExperiment(cfg), after = plateau::makeExperiment(cfg);
        QVERIFY(before && after);
        QVERIFY(plateau::loadModelWeights(*before.value(), plateau::checkpointPathIn(src, 40)));
        QVERIFY(plateau::loadModelWeights(*after.value(), plateau::checkpointPathIn(dir, 6)));
        const auto a = before.value()->parameters(), b = after.value()->parameters();
        int changed = 0;
        for (std::size_t i = 0; i < a.size(); ++i) {
            const bool same = torch::equal(a[i].tensor, b[i].tensor);
            if (a[i].name.find("position_embeddings") != std::string::npos) {
                QVERIFY(!same);
                ++changed;
            } else {
                QVERIFY2(same, a[i].name.c_str());  // frozen
            }
        }
        QCOMPARE(changed, 1);
        // It resumes like any run (the source is not read again).
        r = runCli({"train", "--resume", dir, "--steps", "8"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        // Bad input, named; nothing created.
        r = runCli({"train", "--from", src + ":41", "--out", tmp.filePath("x")});
        QVERIFY2(r.code == 2 && r.err.contains("train.from"), qPrintable(r.err));
        QVERIFY(!QFileInfo::exists(tmp.filePath("x")));
        r = runCli({"train", "--from", src, "--train-only", "bias", "--out", tmp.filePath("y")});
        QVERIFY2(r.code == 2 && r.err.contains("--train-only"), qPrintable(r.err));
        r = runCli({"train", "--from", src, "--reinit", "--out", tmp.filePath("z")});
        QVERIFY2(r.code == 2 && r.err.contains("train.reinit"), qPrintable(r.err));
        r = runCli({"train", "--preset", "tiny", "--train-only", "mlp", "--out", tmp.filePath("w")});
        QVERIFY2(r.code == 2 && r.err.contains("--from"), qPrintable(r.err));
    }
    void experimentsListsTheRegistry() {
        CliRun r = runCli({"experiments", "--json"});
        QCOMPARE(r.code, 0);
        const QJsonArray all = QJsonDocument::fromJson(r.out.toUtf8()).array();
        QVERIFY(!all.isEmpty());
        QJsonObject mc;
        for (const QJsonValue& v : all)
            if (v.toObject()["id"].toString() == "matrix_completion") mc = v.toObject();
        QVERIFY2(!mc.isEmpty(), qPrintable(r.out));
        QStringList cols, views, presets, task;
        for (const QJsonValue& c : mc["columns"].toArray()) cols << c.toObject()["key"].toString();
        for (const QJsonValue& v : mc["views"].toArray()) views << v.toObject()["kind"].toString();
        for (const QJsonValue& p : mc["presets"].toArray()) presets << p.toString();
        for (const QJsonValue& f : mc["task"].toArray()) task << f.toObject()["key"].toString();
        QCOMPARE(cols, (QStringList{"loss", "loss_obs", "loss_mask", "mean_abs_mask_out", "eval_loss"}));
        QCOMPARE(views, (QStringList{"metrics", "attention", "spectra", "matrices"}));
        QVERIFY(presets.contains("quick") && presets.contains("paper") && presets.contains("tiny"));
        QVERIFY(task.contains("p_mask"));
        QCOMPARE(mc["detector"].toObject()["column"].toString(), QString("loss"));
        r = runCli({"experiments"});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("matrix_completion") && r.out.contains("task.p_mask = 0.3"));
    }
    void describeWithOverrides() {
        const CliRun r = runCli({"describe", "--preset", "quick", "--set", "model.width=128", "--seed", "9"});
        QCOMPARE(r.code, 0);
        const QJsonObject cfg = QJsonDocument::fromJson(r.out.toUtf8()).object()["config"].toObject();
        QCOMPARE(cfg["model"].toObject()["width"].toInt(), 128);
        QCOMPARE(cfg["train"].toObject()["seed"].toInt(), 9);
    }
    void badInput_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("unknown preset") << QStringList{"describe", "--preset", "huge"} << "huge";
        QTest::newRow("bad set") << QStringList{"describe", "--preset", "quick", "--set", "model.width=abc"} << "model.width";
        QTest::newRow("unknown key") << QStringList{"describe", "--preset", "quick", "--set", "task.m=3"} << "task.m";
        QTest::newRow("heads") << QStringList{"describe", "--preset", "quick", "--set", "model.heads=5"} << "model.width";
        QTest::newRow("missing config") << QStringList{"describe", "--config", "/no/such.json"} << "/no/such.json";
        QTest::newRow("both") << QStringList{"describe", "--preset", "quick", "--config", "x.json"} << "exactly one";
        QTest::newRow("bad seed") << QStringList{"train", "--preset", "tiny", "--out", "/tmp/x", "--seed", "-3"} << "--seed";
        QTest::newRow("no out") << QStringList{"train", "--preset", "tiny"} << "--out";
        QTest::newRow("unknown option") << QStringList{"train", "--presett", "tiny"} << "--presett";
        QTest::newRow("resume nothing") << QStringList{"train", "--resume", "/no/run"} << "/no/run";
        QTest::newRow("metrics nothing") << QStringList{"metrics", "/no/run", "--csv"} << "/no/run";
        QTest::newRow("unknown command") << QStringList{"fly"} << "fly";
    }
    void badInput() {
        QFETCH(QStringList, args);
        QFETCH(QString, mentions);
        const CliRun r = runCli(args);
        QVERIFY(r.code != 0 && r.code != -1);
        const QString last = r.err.trimmed().section('\n', -1);
        QVERIFY2(last.startsWith("plateau-cli: ") && last.contains(mentions), qPrintable(r.err));
    }
    void sameSeedSameMetricsAcrossProcesses() {
        // Same seed and threads in two separate processes: identical metrics, bit for bit
        // (all columns but the timings). Another seed differs.
        QTemporaryDir tmp;
        auto columns = [&](const QString& dir, const QString& seed) {
            const CliRun r = runCli({"train", "--preset", "tiny", "--out", dir, "--steps", "30", "--seed", seed,
                                     "--threads", "2", "--set", "train.eval_every=3"});
            if (r.code != 0) qWarning("%s", qPrintable(r.err));
            QStringList rows;
            for (const QString& line : runCli({"metrics", dir, "--csv"}).out.trimmed().split('\n')) {
                const QStringList c = line.split(',');
                rows << (QStringList{c[0]} + c.mid(2, 7)).join(',');  // drop time_s, step_ms, steps_per_s
            }
            return rows;
        };
        const QStringList a = columns(tmp.filePath("a"), "5"), b = columns(tmp.filePath("b"), "5");
        const QStringList c = columns(tmp.filePath("c"), "6");
        QCOMPARE(a.size(), 31);
        QCOMPARE(a, b);
        QVERIFY(a.mid(1) != c.mid(1));
    }
    void warnsAboutTheReferenceBlas() {
        // Force the Netlib reference BLAS first in the search path and skip Plateau's own
        // environment fix: the program must say so at start-up.
        const QString ref = "/usr/lib/x86_64-linux-gnu/blas";
        if (!QFileInfo::exists(ref + "/libblas.so.3")) QSKIP("reference BLAS (libblas3) not installed");
        QTemporaryDir tmp;
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("PLATEAU_RUNTIME_APPLIED", "1");
        env.insert("LD_LIBRARY_PATH", ref);
        p.setProcessEnvironment(env);
        p.start(PLATEAU_CLI, {"train", "--preset", "tiny", "--out", tmp.filePath("r"), "--steps", "2"});
        QVERIFY(p.waitForFinished(120000));
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QVERIFY2(err.contains("warning: slow BLAS") && err.contains("reference BLAS"), qPrintable(err));
        // With Plateau's own set-up, no BLAS warning.
        const CliRun normal = runCli({"train", "--preset", "tiny", "--out", tmp.filePath("n"), "--steps", "2"});
        QCOMPARE(normal.code, 0);
        QVERIFY2(!normal.err.contains("BLAS"), qPrintable(normal.err));
        QVERIFY(normal.out.contains("openmp"));
    }
    void stopAfterDropRejectsBadValues() {
        QTemporaryDir tmp;
        for (const char* v : {"-5", "abc"}) {
            const CliRun r = runCli({"train", "--preset", "tiny", "--out", tmp.filePath("r"), "--stop-after-drop", v});
            QVERIFY(r.code != 0);
            QVERIFY2(r.err.contains("--stop-after-drop"), qPrintable(r.err));
            QVERIFY(!QFileInfo::exists(tmp.filePath("r")));  // refused before anything is written
        }
    }

    void trainMetricsResume() {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath("run");
        CliRun r = runCli({"train", "--preset", "tiny", "--out", dir, "--steps", "40", "--seed", "3", "--set",
                           "train.print_every=20", "--set", "train.checkpoint_every=20"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("step 20/40") && r.out.contains("step 40/40") && r.out.contains("steps/s"),
                 qPrintable(r.out));
        QVERIFY(r.out.contains("L_mask"));
        r = runCli({"metrics", dir, "--csv"});
        QCOMPARE(r.code, 0);
        QStringList lines = r.out.trimmed().split('\n');
        QCOMPARE(lines.size(), 41);
        QVERIFY(lines[0].startsWith("step,"));
        for (const char* col : {"step", "loss", "loss_obs", "loss_mask", "eval_loss"})
            QVERIFY(lines[0].split(',').contains(col));
        QVERIFY(lines[1].startsWith("1,"));
        QVERIFY(lines[40].startsWith("40,"));
        // Same run twice into the same folder is refused; nothing is lost.
        r = runCli({"train", "--preset", "tiny", "--out", dir, "--steps", "5"});
        QVERIFY(r.code != 0 && r.err.contains("already holds a run"));
        // Resume to 60 steps: the first 40 rows are unchanged.
        r = runCli({"train", "--resume", dir, "--steps", "60"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(r.out.contains("resumed from"));
        const CliRun again = runCli({"metrics", dir, "--csv"});
        const QStringList after = again.out.trimmed().split('\n');
        QCOMPARE(after.size(), 61);
        QCOMPARE(after.mid(0, 41), lines);  // rows before the resume point untouched
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
