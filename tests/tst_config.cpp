// Config parsing and validation: presets, overrides, and errors that name file and field.
#include "config.h"
#include "experiment_info.h"
#include "precision.h"
#include "test_main.h"

#include <QJsonDocument>
#include <QTemporaryDir>

using namespace plateau;

class TestConfig : public QObject {
    Q_OBJECT
private slots:
    void precisionResolves() {
        Bf16Support none, native, amx, emulated;
        none.cpu = "Some CPU";
        native.native = true;  // AVX512-BF16 without AMX: allowed, slower than fp32, so auto is fp32
        amx.native = amx.matrixUnits = true;
        emulated.emulated = true;
        QCOMPARE(resolvePrecision("fp32", native, "x").value(), QString("fp32"));
        QCOMPARE(resolvePrecision("auto", none, "x").value(), QString("fp32"));
        QCOMPARE(resolvePrecision("auto", native, "x").value(), QString("fp32"));
        QCOMPARE(resolvePrecision("auto", amx, "x").value(), QString("bf16"));
        QVERIFY(!native.slowWarning().isEmpty() && !emulated.slowWarning().isEmpty() && amx.slowWarning().isEmpty());
        QCOMPARE(resolvePrecision("auto", emulated, "x").value(), QString("fp32"));  // auto never emulates
        QCOMPARE(resolvePrecision("bf16", native, "x").value(), QString("bf16"));
        QCOMPARE(resolvePrecision("bf16", emulated, "x").value(), QString("bf16"));
        const auto refused = resolvePrecision("bf16", none, "run/config.json");
        QVERIFY(!refused);
        QVERIFY2(refused.error().contains("run/config.json: train.precision") && refused.error().contains("Some CPU"),
                 qPrintable(refused.error()));
        RunConfig c = loadPreset("quick").value();
        QCOMPARE(c.train.precision, QString("fp32"));  // old configs and presets: fp32
        const Status bad = applyOverride(c, "train.precision=half");
        QVERIFY(!bad && bad.error().contains("train.precision"));
        QVERIFY(applyOverride(c, "train.precision=auto"));
        QCOMPARE(c.toJson()["train"].toObject()["precision"].toString(), QString("auto"));
    }
    void presetsLoad() {
        const QStringList names = presetNames();
        QVERIFY(names.contains("paper"));
        QVERIFY(names.contains("quick"));
        QVERIFY(names.contains("tiny"));
        for (const QString& n : names) {
            auto c = loadPreset(n);
            QVERIFY2(c.ok(), qPrintable(c.error()));
            QCOMPARE(c->preset, n);
        }
    }
    void paperPresetIsThePaper() {
        auto c = loadPreset("paper");
        QVERIFY(c.ok());
        QCOMPARE(c->experiment, QString("matrix_completion"));  // the preset predates "experiment"
        QCOMPARE(c->task.i("n"), 7);
        QCOMPARE(c->task.i("rank"), 2);
        QCOMPARE(c->task.d("p_mask"), 0.3);
        QCOMPARE(c->task.i("batch_size"), 256);
        QCOMPARE(c->task.i("eval_batch_size"), 64);
        QCOMPARE(c->model.i("layers"), 4);
        QCOMPARE(c->model.i("heads"), 8);
        QCOMPARE(c->model.i("width"), 768);
        QCOMPARE(c->model.i("ffn"), 3072);
        QCOMPARE(c->model.i("max_positions"), 512);
        QCOMPARE(c->optim.name, QString("adam"));
        QCOMPARE(c->optim.lr, 1e-4);
        QCOMPARE(c->optim.beta2, 0.999);
        QCOMPARE(c->optim.eps, 1e-8);
        QCOMPARE(c->optim.weightDecay, 0.0);
        QCOMPARE(c->optim.warmupSteps, 0);
        QCOMPARE(c->optim.gradClip, 0.0);
        QCOMPARE(c->train.steps, qint64(50000));
    }
    void jsonRoundTrip() {
        auto c = loadPreset("quick");
        QVERIFY(c.ok());
        RunConfig changed = c.value();
        changed.optim.lr = 3e-3;
        QVERIFY(changed.set("task.distribution", "laplace").ok());
        auto back = configFromJson(changed.toJson(), "roundtrip");
        QVERIFY2(back.ok(), qPrintable(back.error()));
        QCOMPARE(back->toJson(), changed.toJson());
    }
    void overrides() {
        RunConfig c = loadPreset("quick").value();
        QVERIFY(applyOverride(c, "model.width=128").ok());
        QVERIFY(applyOverride(c, "optim.lr=3e-3").ok());
        QVERIFY(applyOverride(c, "task.distribution=gaussian").ok());
        QVERIFY(applyOverride(c, "optim.decay_biases_and_norms=true").ok());
        QVERIFY(applyOverride(c, "model.init_std=0.08").ok());
        QCOMPARE(c.dataSeed(), c.train.seed);  // -1: the data follow train.seed
        QVERIFY(applyOverride(c, "train.data_seed=5").ok());
        QCOMPARE(c.dataSeed(), qint64(5));
        QCOMPARE(c.model.d("init_std"), 0.08);
        QCOMPARE(c.model.i("width"), 128);
        QCOMPARE(c.optim.lr, 3e-3);
        QCOMPARE(c.task.s("distribution"), QString("gaussian"));
        QVERIFY(c.optim.decayBiasesAndNorms);
    }
    void badOverrides_data() {
        QTest::addColumn<QString>("assignment");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("unknown key") << "model.depth=3" << "model.depth";
        QTest::newRow("not a number") << "optim.lr=fast" << "optim.lr";
        QTest::newRow("fraction for int") << "model.layers=2.5" << "model.layers";
        QTest::newRow("out of range") << "task.p_mask=1.5" << "task.p_mask";
        QTest::newRow("negative") << "model.width=-64" << "model.width";
        QTest::newRow("bad choice") << "task.distribution=cauchy" << "task.distribution";
        QTest::newRow("no equals") << "model.width" << "model.width";
        QTest::newRow("vocab fixed") << "model.vocab_size=100" << "model.vocab_size";
        QTest::newRow("zero init std") << "model.init_std=0" << "model.init_std";
        QTest::newRow("data seed below -1") << "train.data_seed=-2" << "train.data_seed";
        QTest::newRow("unknown optimiser") << "optim.name=lion" << "optim.name";
        QTest::newRow("role decay below -1") << "optim.mlp_weight_decay=-2" << "optim.mlp_weight_decay";
        QTest::newRow("experiment by --set") << "experiment=factor_toy" << "experiment";
    }
    void badOverrides() {
        QFETCH(QString, assignment);
        QFETCH(QString, mentions);
        RunConfig c = loadPreset("quick").value();
        const QJsonObject before = c.toJson();
        const Status s = applyOverride(c, assignment);
        QVERIFY(!s.ok());
        QVERIFY2(s.error().contains(mentions), qPrintable(s.error()));
        QCOMPARE(c.toJson(), before);  // nothing changed
    }
    void crossFieldChecks_data() {
        QTest::addColumn<QString>("assignment");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("width/heads") << "model.heads=5" << "model.width";
        QTest::newRow("positions") << "task.n=9" << "task.n";  // quick has 512 positions; 9*9 fits
        QTest::newRow("rank>n") << "task.rank=6" << "task.rank";
        QTest::newRow("decay never starts") << "optim.schedule=cosine;optim.decay_start=20000" << "optim.decay_start";
        QTest::newRow("momentum without sgd") << "optim.momentum=0.9" << "optim.momentum";
    }
    void crossFieldChecks() {
        QFETCH(QString, assignment);
        QFETCH(QString, mentions);
        RunConfig c = loadPreset("quick").value();
        QVERIFY(c.set("model.max_positions", 64).ok());
        for (const QString& a : assignment.split(';')) QVERIFY(applyOverride(c, a).ok());
        const Status s = validateConfig(c, "x.json");
        QVERIFY(!s.ok());
        QVERIFY2(s.error().contains(mentions) && s.error().startsWith("x.json"), qPrintable(s.error()));
    }
    void fileErrors_data() {
        QTest::addColumn<QString>("content");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("invalid json") << "{\"model\": {\"width\": 64,}" << "invalid JSON";
        QTest::newRow("not object") << "[1,2]" << "JSON object";
        QTest::newRow("unknown section key") << "{\"model\": {\"widht\": 64}}" << "model.widht: unknown key";
        QTest::newRow("unknown top key") << "{\"modle\": {}}" << "modle: unknown key";
        QTest::newRow("section not object") << "{\"model\": 3}" << "model: expected an object";
        QTest::newRow("string for number") << "{\"optim\": {\"lr\": \"1e-3\"}}" << "optim.lr: expected a number";
        QTest::newRow("unknown preset") << "{\"preset\": \"huge\"}" << "unknown preset";
        QTest::newRow("out of range") << "{\"task\": {\"n\": 1}}" << "task.n: must be in";
        QTest::newRow("unknown experiment") << "{\"experiment\": \"grokking\"}" << "experiment: unknown experiment";
        QTest::newRow("experiment not a string") << "{\"experiment\": 3}" << "experiment: expected a string";
    }
    void fileErrors() {
        QFETCH(QString, content);
        QFETCH(QString, mentions);
        QTemporaryDir dir;
        const QString path = dir.filePath("cfg.json");
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(content.toUtf8());
        f.close();
        auto c = loadConfigFile(path);
        QVERIFY(!c.ok());
        QVERIFY2(c.error().contains(path), qPrintable(c.error()));
        QVERIFY2(c.error().contains(mentions), qPrintable(c.error()));
    }
    void fileStartsFromPreset() {
        QTemporaryDir dir;
        const QString path = dir.filePath("cfg.json");
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"preset": "quick", "model": {"width": 96, "heads": 3}})");
        f.close();
        auto c = loadConfigFile(path);
        QVERIFY2(c.ok(), qPrintable(c.error()));
        QCOMPARE(c->model.i("width"), 96);
        QCOMPARE(c->model.i("heads"), 3);
        QCOMPARE(c->task.i("n"), loadPreset("quick")->task.i("n"));
    }
    void versionOneConfigReads() {
        // A config.json written before experiments existed: no "experiment", task.name set.
        QFile f(PLATEAU_SOURCE_DIR "/tests/fixtures/v1_run/config.json");
        QVERIFY(f.open(QIODevice::ReadOnly));
        auto c = configFromJson(QJsonDocument::fromJson(f.readAll()).object(), "v1");
        QVERIFY2(c.ok(), qPrintable(c.ok() ? QString() : c.error()));
        QCOMPARE(c->experiment, QString("matrix_completion"));
        QCOMPARE(c->task.i("n"), 4);
        QCOMPARE(c->model.i("width"), 8);
        QCOMPARE(c->optim.mlpWeightDecay, -1.0);  // fields added later take their defaults
    }
    void keysFollowTheExperiment() {
        const QStringList keys = configKeys(RunConfig{});
        QVERIFY(keys.contains("task.p_mask"));
        QVERIFY(keys.contains("model.width"));
        QVERIFY(keys.contains("optim.momentum"));
        QVERIFY(keys.contains("train.probe_size"));
        QVERIFY(!keys.contains("task.lambdas"));
    }
    void missingFile() {
        auto c = loadConfigFile("/nonexistent/plateau.json");
        QVERIFY(!c.ok());
        QVERIFY(c.error().contains("/nonexistent/plateau.json"));
    }
};

PLATEAU_TEST_MAIN(TestConfig)
#include "tst_config.moc"
