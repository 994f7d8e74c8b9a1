// The contract every registered experiment keeps, driven by the registry (each experiment's smoke
// configuration): same seed and threads give identical metrics; a run stopped and resumed continues
// bit for bit; checkpoints round-trip and Python's torch.load reads them with the experiment's
// names; snapshots round-trip through the codec and hold what the experiment's views read; a bad
// task or model field is rejected with its name. Adding an experiment adds it here by itself.
#include <torch/torch.h>

#include "config.h"
#include "experiment_info.h"
#include "run/checkpoint.h"
#include "run/run_store.h"
#include "run/snapshot_codec.h"
#include "smoke_config.h"
#include "test_main.h"
#include "train/trainer.h"
#include "train/training_session.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <cmath>

using namespace plateau;

namespace {
bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }
QString sameRows(const std::vector<StepMetrics>& a, const std::vector<StepMetrics>& b) {
    if (a.size() != b.size()) return QString("%1 rows vs %2").arg(a.size()).arg(b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].step != b[i].step || !same(a[i].lr, b[i].lr) || !same(a[i].gradNorm, b[i].gradNorm) ||
            a[i].values.size() != b[i].values.size())
            return QString("row %1 differs").arg(i);
        for (std::size_t c = 0; c < a[i].values.size(); ++c)
            if (!same(a[i].values[c], b[i].values[c]))
                return QString("step %1 column %2: %3 vs %4").arg(a[i].step).arg(c).arg(a[i].values[c], 0, 'g', 17)
                    .arg(b[i].values[c], 0, 'g', 17);
    }
    return {};
}
bool sameTensors(Trainer& a, Trainer& b) {
    for (std::size_t i = 0; i < a.parameters().size(); ++i)
        if (!torch::equal(a.parameters()[i].tensor, b.parameters()[i].tensor)) return false;
    return true;
}
std::vector<StepMetrics> trainSession(const RunConfig& c, const QString& dir, std::optional<qint64> stopAt = {}) {
    auto s = TrainingSession::create(c, dir);
    if (!s) qFatal("%s", qPrintable(s.error()));
    TrainControl control;
    SessionCallbacks cb;
    cb.afterStep = [&](Trainer& t) {
        if (stopAt && t.stepsDone() >= *stopAt) control.stop();
    };
    if (Status st = s.value()->run(control, cb); !st) qFatal("%s", qPrintable(st.error()));
    return s.value()->store().readMetrics().value();
}
// An invalid value of each kind (wrong type; out of range; not a choice; a bad list entry).
std::vector<QJsonValue> badValues(const FieldSpec& f) {
    std::vector<QJsonValue> out;
    switch (f.kind) {
    case FieldKind::Int:
        out = {QJsonValue("abc"), QJsonValue(1.5)};
        if (std::isfinite(f.min)) out.push_back(f.min - 1);
        if (std::isfinite(f.max)) out.push_back(f.max + 1);
        break;
    case FieldKind::Double:
        out = {QJsonValue("abc")};
        if (std::isfinite(f.min)) out.push_back(f.min - 1);
        if (std::isfinite(f.max)) out.push_back(f.max * 2 + 1);
        break;
    case FieldKind::String:
        out = {QJsonValue(3)};
        if (!f.choices.isEmpty()) out.push_back("no-such-choice");
        break;
    case FieldKind::Bool: out = {QJsonValue(3)}; break;
    case FieldKind::DoubleList:
        out = {QJsonValue(3), QJsonValue(QJsonArray{}), QJsonValue(QJsonArray{"x"})};
        if (std::isfinite(f.min)) out.push_back(QJsonArray{f.min - 1});
        break;
    }
    return out;
}
}  // namespace

class TestExperiments : public QObject {
    Q_OBJECT
private slots:
    void registry() {
        QVERIFY(experimentRegistry().size() >= 2);
        QStringList ids;
        for (const ExperimentInfo* e : experimentRegistry()) {
            QVERIFY2(!ids.contains(e->id), qPrintable(e->id));
            ids << e->id;
            QVERIFY2(!e->title.isEmpty() && !e->summary.isEmpty(), qPrintable(e->id));
            QVERIFY2(!e->columns.empty(), qPrintable(e->id));
            QVERIFY2(e->columnIndex(e->detector.column) >= 0, qPrintable(e->id + ": detector column"));
            QVERIFY2(!e->views.empty() && e->views.front().kind == "metrics", qPrintable(e->id));
            for (const QString& k : e->headline) QVERIFY2(e->columnIndex(k) >= 0, qPrintable(e->id + ": headline " + k));
            for (const QString& k : e->dialogKeys) QVERIFY2(configKeys(defaultConfig(e->id).value()).contains(k), qPrintable(k));
            QVERIFY2(loadPreset(e->smokePreset).ok(), qPrintable(e->id + ": smoke preset"));
            // Default config of the experiment is valid and builds.
            auto d = defaultConfig(e->id);
            QVERIFY2(d.ok(), qPrintable(d.ok() ? QString() : d.error()));
            QCOMPARE(d->experiment, e->id);
        }
    }
    void contract_data() {
        QTest::addColumn<QString>("id");
        for (const ExperimentInfo* e : experimentRegistry()) QTest::newRow(qPrintable(e->id)) << e->id;
    }
    void contract() {
        QFETCH(QString, id);
        const ExperimentInfo& e = *findExperiment(id);
        const RunConfig c = smokeConfig(e, 12);
        configureRuntime(2);

        // Determinism: same seed and threads, identical metrics and weights.
        Trainer a(c), b(c);
        std::vector<StepMetrics> ra, rb;
        for (int i = 0; i < 6; ++i) {
            ra.push_back(a.step());
            rb.push_back(b.step());
        }
        QVERIFY2(sameRows(ra, rb).isEmpty(), qPrintable(sameRows(ra, rb)));
        QVERIFY(sameTensors(a, b));
        QCOMPARE(ra.front().values.size(), e.columnsOf(c).size());
        bool anyFinite = false;
        for (double v : ra.back().values) anyFinite = anyFinite || std::isfinite(v);
        QVERIFY(anyFinite);
        // Another seed: other weights.
        RunConfig other = c;
        other.train.seed = c.train.seed + 1;
        Trainer o(other);
        QVERIFY(!sameTensors(a, o) || a.parameters().empty());

        // Checkpoint round trip: a fresh trainer loaded from it is the same trainer.
        QTemporaryDir tmp;
        const QString ckpt = tmp.filePath("c.pt");
        QVERIFY(saveCheckpoint(a, ckpt).ok());
        Trainer fresh(c);
        auto info = loadCheckpoint(fresh, ckpt);
        QVERIFY2(info.ok(), qPrintable(info.ok() ? QString() : info.error()));
        QCOMPARE(fresh.stepsDone(), qint64(6));
        QVERIFY(sameTensors(a, fresh));
        const StepMetrics na = a.step(), nf = fresh.step();
        QVERIFY2(sameRows({na}, {nf}).isEmpty(), qPrintable(sameRows({na}, {nf})));
        // A checkpoint of another experiment is refused with a message naming the field.
        for (const ExperimentInfo* x : experimentRegistry()) {
            if (x->id == id) continue;
            Trainer stranger(smokeConfig(*x, 5));
            const QString p = tmp.filePath(x->id + ".pt");
            QVERIFY(saveCheckpoint(stranger, p).ok());
            auto refused = loadCheckpoint(fresh, p);
            QVERIFY(!refused.ok());
            QVERIFY2(refused.error().contains("experiment"), qPrintable(refused.error()));
        }

        // Python reads the checkpoint with the experiment's names and shapes.
        QJsonObject shapes;
        for (const NamedParameter& p : a.parameters()) {
            QJsonArray s;
            for (auto d : p.tensor.sizes()) s.append(double(d));
            shapes[QString::fromStdString(p.name)] = s;
        }
        QJsonArray states;
        for (const std::string& s : a.optimizer().stateNames()) states.append(QString::fromStdString(s));
        const QJsonObject want{{"experiment", id}, {"shapes", shapes}, {"optimizer", c.optim.name}, {"step", 6}, {"states", states}};
        QFile wf(tmp.filePath("want.json"));
        QVERIFY(wf.open(QIODevice::WriteOnly));
        wf.write(QJsonDocument(want).toJson());
        wf.close();
        QProcess py;
        py.start("/usr/bin/python3", {PLATEAU_SOURCE_DIR "/tests/python/check_any_checkpoint.py", ckpt, wf.fileName()});
        QVERIFY2(py.waitForFinished(120000), "python did not finish");
        const QString pyOut = QString::fromUtf8(py.readAllStandardOutput() + py.readAllStandardError());
        QVERIFY2(py.exitCode() == 0 && pyOut.startsWith("OK"), qPrintable(pyOut));

        // Bit-exact resume: stopped at step 5, resumed to 12, the same rows as a straight run.
        const auto straight = trainSession(c, tmp.filePath("straight"));
        QCOMPARE(straight.size(), std::size_t(12));
        trainSession(c, tmp.filePath("split"), 5);
        {
            auto resumed = TrainingSession::resume(tmp.filePath("split"));
            QVERIFY2(resumed.ok(), qPrintable(resumed.ok() ? QString() : resumed.error()));
            QCOMPARE(resumed.value()->trainer().stepsDone(), qint64(5));
            TrainControl control;
            QVERIFY(resumed.value()->run(control).ok());
            const auto rows = resumed.value()->store().readMetrics().value();
            QVERIFY2(sameRows(rows, straight).isEmpty(), qPrintable(sameRows(rows, straight)));
        }

        // Snapshots: the codec round-trips them; they hold every array and scalar the views read;
        // arrays have consistent shapes.
        const SnapshotPtr s = fresh.experiment().snapshot(fresh.stepsDone(), 1.5, ProbeSpec{}, false);
        QVERIFY(s);
        QCOMPARE(s->step, fresh.stepsDone());
        for (const auto& [name, arr] : s->arrays) QVERIFY2(arr.stored() == arr.count(), qPrintable(name));
        auto back = decodeSnapshot(encodeSnapshot(*s), id);
        QVERIFY2(back.ok(), qPrintable(back.ok() ? QString() : back.error()));
        QCOMPARE(back->arrays.size(), s->arrays.size());
        for (const auto& [name, arr] : s->arrays) {
            const NamedArray* bk = back->array(name);
            QVERIFY2(bk && bk->shape == arr.shape && bk->f32 == arr.f32 && bk->u8 == arr.u8 && bk->i32 == arr.i32,
                     qPrintable(name));
        }
        QCOMPARE(back->scalars.size(), s->scalars.size());
        for (const auto& [name, v] : s->scalars) QVERIFY2(same(back->scalar(name), v), qPrintable(name));
        QVERIFY(back->layout == s->layout);
        for (const ViewSpec& v : e.views) {
            for (const QString& name : snapshotArraysFor(v))
                QVERIFY2(s->has(name), qPrintable(id + ": view " + v.name + " reads " + name + ", not in the snapshot"));
            for (const QString& name : snapshotScalarsFor(v))
                QVERIFY2(s->scalars.count(name), qPrintable(id + ": view " + v.name + " reads scalar " + name));
        }
        if (const NamedArray* att = s->array("attention")) {
            QCOMPARE(att->shape.size(), std::size_t(4));
            if (s->layout.length() > 0) QCOMPARE(s->layout.length(), att->dim(2));
        }
        configureRuntime(0);
    }
    void factorToyMatchesTheory() {
        // The paper's toy 1: singular values of A B^T settle at max(d - lambda/2, 0) and the
        // imbalance decays like exp(-2 lambda t), t = steps x lr (gradient flow's prediction).
        RunConfig c = loadPreset("factor-toy").value();
        Trainer t(c);
        const int lam0 = 0, lam04 = 4, lam10 = 10;  // lambdas 0, 0.4, 1.0 of the preset
        QCOMPARE(c.task.list("lambdas")[std::size_t(lam04)], 0.4);
        std::vector<double> imb0, imb04;
        for (int i = 0; i < int(c.train.steps); ++i) {
            const StepMetrics m = t.step();
            imb0.push_back(m.values[std::size_t(2 + lam0)]);
            imb04.push_back(m.values[std::size_t(2 + lam04)]);
        }
        const SnapshotPtr s = t.experiment().snapshot(t.stepsDone(), 0, ProbeSpec{}, false);
        const NamedArray* sv = s->array("factor.sv");
        const NamedArray* pred = s->array("factor.predicted_sv");
        QCOMPARE(sv->shape, (std::vector<int>{21, 5}));
        double worst = 0;
        for (std::size_t k = 0; k < sv->f32.size(); ++k) worst = std::max(worst, double(std::abs(sv->f32[k] - pred->f32[k])));
        QVERIFY2(worst < 0.02, qPrintable(QString("largest distance to max(d - lambda/2, 0): %1").arg(worst)));
        // lambda = 1: singular values 0.5, 0.3, 0.1, 0, 0.
        QVERIFY(std::abs(sv->f32[lam10 * 5 + 0] - 0.5f) < 0.01f && sv->f32[lam10 * 5 + 4] < 0.01f);
        // Without decay the imbalance is conserved (to discretisation), with lambda = 0.4 it falls
        // at rate 2 lambda per unit t: ln(I(t1)/I(t0)) / (t1 - t0) over the first 1000 steps.
        QVERIFY2(std::abs(imb0.back() / imb0.front() - 1) < 0.02, qPrintable(QString::number(imb0.back() / imb0.front())));
        const double rate = std::log(imb04[1000] / imb04[0]) / (1000 * c.optim.lr);
        QVERIFY2(std::abs(rate / -0.8 - 1) < 0.03, qPrintable(QString("rate %1, predicted -0.8").arg(rate)));
    }
    void badFieldsAreRejectedByName_data() {
        QTest::addColumn<QString>("id");
        for (const ExperimentInfo* e : experimentRegistry()) QTest::newRow(qPrintable(e->id)) << e->id;
    }
    void badFieldsAreRejectedByName() {
        QFETCH(QString, id);
        const ExperimentInfo& e = *findExperiment(id);
        for (const auto& [section, fields] : {std::pair{QString("task"), &e.taskFields}, std::pair{QString("model"), &e.modelFields}})
            for (const FieldSpec& f : *fields)
                for (const QJsonValue& bad : badValues(f)) {
                    const QString key = section + "." + f.key;
                    QJsonObject obj{{"experiment", id}, {section, QJsonObject{{f.key, bad}}}};
                    auto r = configFromJson(obj, "bad.json");
                    QVERIFY2(!r.ok(), qPrintable(key + " accepted " + shownValue(bad)));
                    QVERIFY2(r.error().startsWith("bad.json") && r.error().contains(key), qPrintable(r.error()));
                }
        // A field of another experiment is unknown here, and says for which experiment.
        auto wrong = configFromJson(QJsonObject{{"experiment", id}, {"task", QJsonObject{{"no_such_field", 1}}}}, "x.json");
        QVERIFY(!wrong.ok());
        QVERIFY2(wrong.error().contains("task.no_such_field") && wrong.error().contains(id), qPrintable(wrong.error()));
    }
};

PLATEAU_TEST_MAIN(TestExperiments)
#include "tst_experiments.moc"
