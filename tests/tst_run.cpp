// The run directory: config.json, SQLite metrics, checkpoints (round trip, resume continuity,
// damaged files, Python interop).
#include <torch/torch.h>

#include "config.h"
#include "analysis/snapshot_schedule.h"
#include "mc_test_util.h"
#include "run/checkpoint.h"
#include "run/run_reader.h"
#include "run/run_store.h"
#include "run/snapshot_codec.h"
#include "test_main.h"
#include "train/trainer.h"
#include "train/training_session.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QProcess>
#include <QTemporaryDir>

using namespace plateau;

namespace {
RunConfig smallConfig(qint64 steps) {
    RunConfig c = loadPreset("tiny").value();
    // Small and fast whatever the tiny preset becomes: 4x4 matrices, width 32, seed 1.
    setField(c, "task.n", 4);
    setField(c, "task.batch_size", 32);
    setField(c, "task.eval_batch_size", 32);
    setField(c, "model.width", 32);
    setField(c, "model.ffn", 128);
    c.train.steps = steps;
    c.train.evalEvery = 2;
    c.train.checkpointEvery = 10;
    c.train.threads = 2;
    c.train.seed = 1;
    return c;
}
bool sameParameters(Trainer& a, Trainer& b) {
    const auto& pa = a.parameters();
    const auto& pb = b.parameters();
    if (pa.size() != pb.size()) return false;
    for (std::size_t i = 0; i < pa.size(); ++i)
        if (pa[i].name != pb[i].name || !torch::equal(pa[i].tensor, pb[i].tensor)) return false;
    return true;
}
// A run of `steps` steps with snapshots stored every 10 steps from `probe` probe matrices.
RunConfig snapshotRun(qint64 steps, int probe) {
    RunConfig c = smallConfig(steps);
    c.train.snapshotSaveEvery = 10;
    c.train.probeSize = probe;
    return c;
}
std::vector<StepMetrics> trainAll(const QString& dir, const RunConfig& c) {
    auto s = TrainingSession::create(c, dir);
    if (!s) qFatal("%s", qPrintable(s.error()));
    TrainControl control;
    if (Status st = s.value()->run(control); !st) qFatal("%s", qPrintable(st.error()));
    return s.value()->store().readMetrics().value();
}
}  // namespace

class TestRun : public QObject {
    Q_OBJECT
private slots:
    void storeRoundTrip() {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath("run");
        auto store = RunStore::create(dir, smallConfig(5));
        QVERIFY2(store.ok(), qPrintable(store.error()));
        std::vector<StepMetrics> rows;
        for (int i = 1; i <= 5; ++i) {
            StepMetrics m;
            m.step = i;
            m.values = {1.0 / i, 0.5 / i, 2.0 / i, kNoValue, i % 2 ? kNoValue : 0.3};
            m.stepMs = 10;
            rows.push_back(m);
        }
        QVERIFY(store.value()->append(rows).ok());
        auto back = store.value()->readMetrics();
        QVERIFY(back.ok());
        QCOMPARE(int(back->size()), 5);
        QCOMPARE(lossOf(back->at(2)), 1.0 / 3);
        QVERIFY(std::isnan(evalLossOf(back->at(0))));
        QCOMPARE(evalLossOf(back->at(1)), 0.3);
        // A row with the wrong number of values is refused, naming the step.
        StepMetrics wrong;
        wrong.step = 9;
        wrong.values = {1.0};
        const Status refused = store.value()->append({wrong});
        QVERIFY(!refused.ok() && refused.error().contains("step 9"));
        QVERIFY(store.value()->truncateAfter(3).ok());
        QCOMPARE(int(store.value()->readMetrics()->size()), 3);
        // config.json is the full resolved config with versions.
        QFile f(dir + "/config.json");
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject obj = QJsonDocument::fromJson(f.readAll()).object();
        QVERIFY(obj.contains("versions"));
        QCOMPARE(obj["train"].toObject()["seed"].toInt(), 1);
        QCOMPARE(obj["model"].toObject()["width"].toInt(), 32);
        // WAL mode.
        store.value().reset();
        auto reopened = RunStore::open(dir, true);
        QVERIFY2(reopened.ok(), qPrintable(reopened.error()));
        QCOMPARE(reopened.value()->config().toJson(), smallConfig(5).toJson());
    }
    void refusesToOverwriteARun() {
        QTemporaryDir tmp;
        QVERIFY(RunStore::create(tmp.path(), smallConfig(5)).ok());
        auto again = RunStore::create(tmp.path(), smallConfig(5));
        QVERIFY(!again.ok());
        QVERIFY(again.error().contains("already holds a run"));
    }
    void badRunFolders() {
        QTemporaryDir tmp;
        auto missing = RunStore::open(tmp.filePath("nope"));
        QVERIFY(!missing.ok() && missing.error().contains("nope"));
        auto noConfig = RunStore::open(tmp.path());
        QVERIFY(!noConfig.ok() && noConfig.error().contains("config.json"));
        // Corrupt SQLite.
        const QString dir = tmp.filePath("run");
        RunStore::create(dir, smallConfig(5)).value().reset();
        QFile::remove(dir + "/metrics.sqlite-wal");
        QFile db(dir + "/metrics.sqlite");
        QVERIFY(db.open(QIODevice::WriteOnly | QIODevice::Truncate));
        db.write(QByteArray(4096, 'x'));
        db.close();
        auto corrupt = RunStore::open(dir, true);
        QVERIFY(!corrupt.ok());
        QVERIFY2(corrupt.error().contains("metrics.sqlite"), qPrintable(corrupt.error()));
        // Unwritable parent.
        auto unwritable = RunStore::create("/proc/plateau-run", smallConfig(5));
        QVERIFY(!unwritable.ok() && unwritable.error().contains("/proc/plateau-run"));
    }
    void checkpointRoundTrip() {
        QTemporaryDir tmp;
        const QString path = tmp.filePath("c.pt");
        RunConfig c = smallConfig(100);
        Trainer a(c);
        for (int i = 0; i < 7; ++i) a.step();
        QVERIFY(saveCheckpoint(a, path).ok());
        Trainer b(c);  // fresh init: the checkpoint must overwrite parameters, Adam state, counters
        QVERIFY(!sameParameters(a, b));
        auto info = loadCheckpoint(b, path);
        QVERIFY2(info.ok(), qPrintable(info.error()));
        QCOMPARE(info->step, qint64(7));
        QCOMPARE(b.stepsDone(), qint64(7));
        QVERIFY(sameParameters(a, b));
        QCOMPARE(b.optimizer().stepCount(), std::int64_t(7));
        for (int i = 0; i < 3; ++i) {
            const StepMetrics x = a.step(), y = b.step();
            QCOMPARE(x.step, y.step);
            QCOMPARE(lossOf(x), lossOf(y));
            QCOMPARE(x.gradNorm, y.gradNorm);
        }
        QVERIFY(sameParameters(a, b));
    }
    void damagedCheckpoints() {
        QTemporaryDir tmp;
        const QString path = tmp.filePath("c.pt");
        Trainer a(smallConfig(100));
        a.step();
        QVERIFY(saveCheckpoint(a, path).ok());
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray full = f.readAll();
        f.close();
        Trainer victim(smallConfig(100));
        const auto before = victim.parameters()[0].tensor.clone();
        for (double frac : {0.0, 0.1, 0.5, 0.9, 0.999}) {
            const QString cut = tmp.filePath(QString("cut%1.pt").arg(frac));
            QFile out(cut);
            QVERIFY(out.open(QIODevice::WriteOnly));
            out.write(full.left(int(full.size() * frac)));
            out.close();
            auto r = loadCheckpoint(victim, cut);
            QVERIFY2(!r.ok(), qPrintable(cut));
            QVERIFY2(r.error().contains(cut), qPrintable(r.error()));
        }
        // A checkpoint of another model shape names the mismatching field.
        RunConfig wide = smallConfig(100);
        setField(wide, "model.width", 64);
        Trainer w(wide);
        const QString widePath = tmp.filePath("wide.pt");
        QVERIFY(saveCheckpoint(w, widePath).ok());
        auto r = loadCheckpoint(victim, widePath);
        QVERIFY(!r.ok());
        QVERIFY2(r.error().contains("model.") && r.error().contains("shape"), qPrintable(r.error()));
        QVERIFY(torch::equal(victim.parameters()[0].tensor, before));  // untouched
        QCOMPARE(victim.stepsDone(), qint64(0));
        auto missing = loadCheckpoint(victim, tmp.filePath("none.pt"));
        QVERIFY(!missing.ok() && missing.error().contains("none.pt"));
    }
    void resumeContinuesTheTrajectory() {
        QTemporaryDir tmp;
        const RunConfig c = smallConfig(30);
        const auto straight = trainAll(tmp.filePath("straight"), c);
        QCOMPARE(int(straight.size()), 30);

        // Stop after 17 steps (checkpoint every 10 plus the final one at 17), then resume.
        {
            auto s = TrainingSession::create(c, tmp.filePath("split"));
            QVERIFY(s.ok());
            TrainControl control;
            SessionCallbacks cb;
            cb.afterStep = [&](Trainer& t) { if (t.stepsDone() == 17) control.stop(); };
            QVERIFY(s.value()->run(control, cb).ok());
            QCOMPARE(s.value()->trainer().stepsDone(), qint64(17));
        }
        auto files = RunStore::open(tmp.filePath("split"), true).value()->checkpoints();
        QCOMPARE(int(files.size()), 2);
        QCOMPARE(files.back().step, qint64(17));
        auto resumed = TrainingSession::resume(tmp.filePath("split"));
        QVERIFY2(resumed.ok(), qPrintable(resumed.error()));
        QCOMPARE(resumed.value()->trainer().stepsDone(), qint64(17));
        TrainControl control;
        QVERIFY(resumed.value()->run(control).ok());
        const auto split = resumed.value()->store().readMetrics().value();
        QCOMPARE(int(split.size()), 30);
        for (int i = 0; i < 30; ++i) {
            QCOMPARE(split[i].step, straight[i].step);
            QCOMPARE(lossOf(split[i]), lossOf(straight[i]));
            QCOMPARE(lossMaskOf(split[i]), lossMaskOf(straight[i]));
            QCOMPARE(std::isnan(evalLossOf(split[i])), std::isnan(evalLossOf(straight[i])));
            if (!std::isnan(evalLossOf(split[i]))) QCOMPARE(evalLossOf(split[i]), evalLossOf(straight[i]));
        }
        // Extending a finished run (once the first session has let go of it).
        resumed.value().reset();
        auto more = TrainingSession::resume(tmp.filePath("split"), 35);
        QVERIFY2(more.ok(), qPrintable(more.error()));
        QVERIFY(more.value()->run(control).ok());
        QCOMPARE(int(more.value()->store().readMetrics()->size()), 35);
        QCOMPARE(RunStore::open(tmp.filePath("split"), true).value()->config().train.steps, qint64(35));
    }
    void checkpointRetention() {
        QTemporaryDir tmp;
        RunConfig c = smallConfig(47);
        c.train.checkpointEvery = 10;
        c.train.keepCheckpoints = 2;
        trainAll(tmp.filePath("run"), c);
        const auto files = RunStore::open(tmp.filePath("run"), true).value()->checkpoints();
        QCOMPARE(int(files.size()), 2);
        QCOMPARE(files[0].step, qint64(40));
        QCOMPARE(files[1].step, qint64(47));  // the final one
        c.train.keepCheckpoints = 0;
        trainAll(tmp.filePath("all"), c);
        QCOMPARE(int(RunStore::open(tmp.filePath("all"), true).value()->checkpoints().size()), 5);
    }
    void resumeSkipsADamagedNewestCheckpoint() {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath("run");
        trainAll(dir, smallConfig(20));  // checkpoints at 10 and 20
        QFile last(RunStore::open(dir, true).value()->checkpointPath(20));
        QVERIFY(last.open(QIODevice::ReadWrite));
        last.resize(100);
        last.close();
        auto resumed = TrainingSession::resume(dir, 25);
        QVERIFY2(resumed.ok(), qPrintable(resumed.error()));
        QCOMPARE(resumed.value()->trainer().stepsDone(), qint64(10));
        QCOMPARE(int(resumed.value()->store().readMetrics()->size()), 10);  // later rows dropped
    }

    void snapshotSaveSchedule() {
        const SnapshotSaveSchedule every10(10, 1000);
        std::vector<qint64> due;
        for (qint64 s = 0; s <= 40; ++s)
            if (every10.due(s)) due.push_back(s);
        QCOMPARE(due, (std::vector<qint64>{1, 2, 5, 10, 20, 30, 40}));
        QCOMPARE(SnapshotSaveSchedule(0, 20000).interval(), 100);  // ~250 per run, rounded up to 1/2/5
        QCOMPARE(SnapshotSaveSchedule(0, 50000).interval(), 200);
        QCOMPARE(SnapshotSaveSchedule(0, 30).interval(), 50);    // short runs: at most every 50 steps
        QCOMPARE(SnapshotSaveSchedule(0, 2000).interval(), 50);
    }

    void sessionStoresSnapshotsThatRoundTrip() {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath("run");
        const RunConfig c = snapshotRun(33, 8);
        trainAll(dir, c);
        auto store = RunStore::open(dir, true);
        QVERIFY2(store.ok(), qPrintable(store.error()));
        auto steps = store.value()->snapshotSteps();
        QVERIFY(steps.ok());
        // step 0, the round steps below the interval, every 10, and the last step
        QCOMPARE(steps.value(), (std::vector<qint64>{0, 1, 2, 5, 10, 20, 30, 33}));
        auto s20 = store.value()->readSnapshot(20);
        QVERIFY2(s20.ok(), qPrintable(s20.error()));
        const Snapshot& s = *s20.value();
        QCOMPARE(s.step, qint64(20));
        QVERIFY(s.saved);
        QCOMPARE(s.probeCount, 8);
        const int L = c.model.i("layers"), H = c.model.i("heads"), n = c.task.i("n");
        QCOMPARE(s.array("attention")->shape, (std::vector<int>{L, H, n * n, n * n}));
        QCOMPARE(s.array("spectra.qk")->shape, (std::vector<int>{L, H, c.model.i("width") / H}));
        QVERIFY(s.scalar("completion_mse") > 0);
        // Encoding is lossless: every array (type, shape, data), scalar, the layout and the header.
        auto back = decodeSnapshot(encodeSnapshot(s), "test");
        QVERIFY(back.ok());
        QCOMPARE(back->arrays.size(), s.arrays.size());
        for (const auto& [name, a] : s.arrays) {
            const NamedArray* b = back->array(name);
            QVERIFY2(b, qPrintable(name));
            QCOMPARE(b->type, a.type);
            QCOMPARE(b->shape, a.shape);
            QCOMPARE(b->f32, a.f32);
            QCOMPARE(b->u8, a.u8);
            QCOMPARE(b->i32, a.i32);
        }
        QCOMPARE(back->scalars, s.scalars);
        QVERIFY(back->layout == s.layout);
        QCOMPARE(back->timeS, s.timeS);
        QCOMPARE(back->probeCount, s.probeCount);
        // A resumed run continues from its newest checkpoint (the final one, step 33) and stores
        // the snapshots of its new steps.
        store.value().reset();
        {
            auto resumed = TrainingSession::resume(dir, 36);
            QVERIFY2(resumed.ok(), qPrintable(resumed.error()));
            QCOMPARE(resumed.value()->store().snapshotSteps().value().back(), qint64(33));
            TrainControl control;
            QVERIFY(resumed.value()->run(control).ok());
            QCOMPARE(resumed.value()->store().snapshotSteps().value().back(), qint64(36));
        }
    }

    void damagedSnapshotBlobs() {
        QVERIFY(!decodeSnapshot(QByteArray(), "x").ok());
        QVERIFY(decodeSnapshot(QByteArray("garbage-garbage"), "blob 7").error().contains("blob 7"));
        Snapshot s;
        s.probeCount = 1;
        s.layout.kind = TokenLayout::Grid;
        s.layout.n = 2;
        s.addF32("matrices.input", {1, 2, 2});
        s.add("matrices.masked", ArrayType::U8, {1, 2, 2});
        float* att = s.addF32("attention", {1, 1, 4, 4});
        std::fill(att, att + 16, 0.25f);
        s.add("spectra.qk_rank", ArrayType::I32, {1, 1});
        s.scalars["copy_mse"] = 0.5;
        QVERIFY(decodeSnapshot(encodeSnapshot(s), "ok").ok());
        s.arrays["attention"].f32.resize(15);  // data that disagrees with its shape
        auto bad = decodeSnapshot(encodeSnapshot(s), "sizes");
        QVERIFY(!bad.ok());
        QVERIFY2(bad.error().contains("attention") && bad.error().contains("does not match"), qPrintable(bad.error()));
        s.arrays["attention"].f32.resize(16);
        s.layout.n = 3;  // a layout of 9 tokens for a 4 x 4 attention
        QVERIFY(decodeSnapshot(encodeSnapshot(s), "layout").error().contains("token layout"));
        s.layout.n = 2;
        // Cut short: the compressed blob no longer decompresses.
        const QByteArray full = encodeSnapshot(s);
        QVERIFY(!decodeSnapshot(full.left(full.size() / 2), "cut").ok());
    }

    void runReaderReportsWhatItCannotRead() {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath("run");
        const RunConfig c = snapshotRun(20, 4);
        trainAll(dir, c);
        {
            auto r = RunReader::open(dir);
            QVERIFY2(r.ok(), qPrintable(r.error()));
            QVERIFY2(r.value()->problems().isEmpty(), qPrintable(r.value()->problems().join("; ")));
            QVERIFY(r.value()->finished());
            QVERIFY(!r.value()->beingWritten());
            QCOMPARE(int(r.value()->metrics().size()), 20);
            QCOMPARE(int(r.value()->snapshots().size()), 6);  // 0 1 2 5 10 20
        }
        // One damaged snapshot: the others still open; the message names the file and step.
        {
            QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", "damage");
            db.setDatabaseName(dir + "/metrics.sqlite");
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY(q.exec("UPDATE snapshots SET data = x'0011223344' WHERE step = 10"));
            db.close();
        }
        QSqlDatabase::removeDatabase("damage");
        // A truncated checkpoint.
        const QString ckpt = dir + "/checkpoints/step_000000020.pt";
        {
            QFile f(ckpt);
            QVERIFY(f.open(QIODevice::ReadWrite));
            QVERIFY(checkpointLooksComplete(ckpt));
            QVERIFY(f.resize(f.size() / 2));
        }
        QVERIFY(!checkpointLooksComplete(ckpt));
        // A missing config.json: shapes come from the snapshots.
        QVERIFY(QFile::rename(dir + "/config.json", dir + "/config.json.bak"));
        {
            auto r = RunReader::open(dir);
            QVERIFY2(r.ok(), qPrintable(r.error()));
            const QString all = r.value()->problems().join("\n");
            QVERIFY2(all.contains("config.json: missing"), qPrintable(all));
            QVERIFY2(all.contains("metrics.sqlite, snapshot at step 10: damaged snapshot"), qPrintable(all));
            QVERIFY2(all.contains("step_000000020.pt: truncated"), qPrintable(all));
            QVERIFY(!r.value()->configOk());
            QCOMPARE(int(r.value()->snapshots().size()), 5);
            QCOMPARE(int(r.value()->metrics().size()), 20);
            // The views take their shapes from the snapshots.
            QCOMPARE(r.value()->snapshots().back()->layout.n, c.task.i("n"));
            QCOMPARE(r.value()->snapshots().back()->layers(), c.model.i("layers"));
            QCOMPARE(int(r.value()->checkpoints().size()), 1);  // step 10 only
        }
        // A run written by a newer Plateau.
        {
            QFile in(dir + "/config.json.bak");
            QVERIFY(in.open(QIODevice::ReadOnly));
            QJsonObject o = QJsonDocument::fromJson(in.readAll()).object();
            QJsonObject v = o["versions"].toObject();
            v["run_format"] = 99;
            o["versions"] = v;
            QFile out(dir + "/config.json");
            QVERIFY(out.open(QIODevice::WriteOnly));
            out.write(QJsonDocument(o).toJson());
        }
        {
            auto r = RunReader::open(dir);
            QVERIFY(r.ok());
            QVERIFY2(r.value()->problems().join("\n").contains("run_format 99 is newer"), qPrintable(r.value()->problems().join("\n")));
        }
        // A metrics database that is not one: nothing to show beyond the config; the error names it.
        {
            QFile f(dir + "/metrics.sqlite");
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write(QByteArray(4096, 'x'));
        }
        QFile::remove(dir + "/metrics.sqlite-wal");
        QFile::remove(dir + "/metrics.sqlite-shm");
        auto broken = RunReader::open(dir);
        QVERIFY(!broken.ok());
        QVERIFY2(broken.error().contains("metrics.sqlite"), qPrintable(broken.error()));
        QVERIFY(!RunReader::open(tmp.filePath("nowhere")).ok());
    }

    void lockMarksARunBeingWritten() {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath("run");
        RunConfig c = smallConfig(4);
        {
            auto s = TrainingSession::create(c, dir);
            QVERIFY(s.ok());
            QVERIFY(runBeingWritten(dir));
            auto second = TrainingSession::resume(dir);
            QVERIFY(!second.ok());
            QVERIFY2(second.error().contains("being trained by another process"), qPrintable(second.error()));
            TrainControl control;
            QVERIFY(s.value()->run(control).ok());
        }
        QVERIFY(!runBeingWritten(dir));
    }

    void pythonReadsCheckpoints() {
        QTemporaryDir tmp;
        RunConfig c = smallConfig(100);
        Trainer t(c);
        for (int i = 0; i < 5; ++i) t.step();
        const QString ckpt = tmp.filePath("c.pt"), probe = tmp.filePath("probe.pt");
        QVERIFY(saveCheckpoint(t, ckpt).ok());
        const Batch b = mcOf(t).task().sample(8, 3, DataStream::Probe, 0);
        torch::NoGradGuard g;
        c10::Dict<std::string, torch::Tensor> d;
        d.insert("tokens", b.tokens);
        d.insert("output", mcOf(t).model()->forward(b.tokens).output);
        const auto bytes = torch::pickle_save(c10::IValue(d));
        QFile pf(probe);
        QVERIFY(pf.open(QIODevice::WriteOnly));
        pf.write(bytes.data(), qint64(bytes.size()));
        pf.close();
        QProcess py;
        py.start("/usr/bin/python3", {PLATEAU_SOURCE_DIR "/tests/python/check_checkpoint.py", ckpt, probe});
        QVERIFY2(py.waitForFinished(120000), "python did not finish");
        const QString outText = QString::fromUtf8(py.readAllStandardOutput() + py.readAllStandardError());
        QVERIFY2(py.exitStatus() == QProcess::NormalExit && py.exitCode() == 0, qPrintable(outText));
        QVERIFY2(outText.startsWith("OK step=5"), qPrintable(outText));
    }
};

PLATEAU_TEST_MAIN(TestRun)
#include "tst_run.moc"
