// Sweeps: axis parsing and expansion (grid, range, joint random draws), the manifest round trip,
// the local runner (all points, a failing point, Ctrl+C and resume), the Slurm script, status and
// the summary against run folders with known drops.
#include "cli_run.h"
#include "config.h"
#include "run/run_store.h"
#include "sweep/sweep.h"
#include "sweep_fixture.h"
#include "test_main.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>

#include <cmath>

using namespace plateau;

namespace {
SweepAxis axis(const QString& text, bool random = false) {
    auto a = parseSweepAxis(text, random, random ? "--random" : "--grid");
    if (!a) qFatal("%s", qPrintable(a.error()));
    return a.value();
}
RunConfig tiny() { return loadPreset("tiny").value(); }

QStringList csvColumn(const QString& csv, const QString& column) {
    const QStringList lines = csv.split('\n', Qt::SkipEmptyParts);
    const int c = int(lines.value(0).split(',').indexOf(column));
    QStringList out;
    for (int i = 1; i < lines.size() && c >= 0; ++i) out << lines[i].split(',').value(c);
    return out;
}

}  // namespace

class TestSweep : public QObject {
    Q_OBJECT
private slots:
    void axesParse() {
        QCOMPARE(axis("model.width=16,32, 64").values, (QStringList{"16", "32", "64"}));
        QCOMPARE(axis("train.seed=1..4").values, (QStringList{"1", "2", "3", "4"}));
        QCOMPARE(axis("train.seed=0..10:5").values, (QStringList{"0", "5", "10"}));
        QCOMPARE(axis("optim.lr=0.001..0.003:0.001").values, (QStringList{"0.001", "0.002", "0.003"}));
        QCOMPARE(axis("model.width=16,32").kind, SweepAxis::Kind::Grid);
        QCOMPARE(axis("train.seed=1..2").kind, SweepAxis::Kind::Range);
        QCOMPARE(axis("optim.lr=1e-4:1e-2:5:log", true).kind, SweepAxis::Kind::Random);
        for (const auto& [text, random, expect] :
             {std::tuple{"model.width", false, "expected key="}, std::tuple{"model.width=", false, "expected key="},
              std::tuple{"a=1,,2", false, "empty value"}, std::tuple{"a=1,1", false, "given twice"},
              std::tuple{"a=5..1", false, "empty"}, std::tuple{"a=1..5:0", false, "above 0"},
              std::tuple{"a=x..5", false, "not a number"}, std::tuple{"a=1..100000000", false, "more than"},
              std::tuple{"a=1:2", true, "lo:hi:N"}, std::tuple{"a=2:1:3", true, "above hi"},
              std::tuple{"a=0:1:3:log", true, "lo > 0"}, std::tuple{"a=0:1:0", true, "N must be"},
              std::tuple{"a=0:1:3:cubic", true, "lo:hi:N"}}) {
            auto r = parseSweepAxis(text, random, random ? "--random" : "--grid");
            QVERIFY2(!r && r.error().contains(expect), qPrintable(QString(text) + " -> " + (r ? QString("ok") : r.error())));
        }
    }

    void expandGridRangeAndJointRandomDraws() {
        auto s = defineSweep("/tmp/x-sweep", tiny(), "tiny", {}, {},
                             {axis("model.width=16,32"), axis("train.seed=1..3"), axis("optim.lr=1e-4:1e-2:4:log", true),
                              axis("task.batch_size=8:12:4", true)},
                             7);
        QVERIFY2(s, qPrintable(s.error()));
        QCOMPARE(int(s->points.size()), 2 * 3 * 4);  // grid x range x 4 joint random samples
        QSet<QString> names;
        QSet<QString> combos;
        for (const SweepPoint& p : s->points) {
            names.insert(p.name);
            QCOMPARE(int(p.params.size()), 4);
            const double lr = s->param(p, "optim.lr").toDouble();
            QVERIFY(lr >= 1e-4 && lr <= 1e-2);
            const QString b = s->param(p, "task.batch_size");
            QVERIFY2(b.toInt() >= 8 && b.toInt() <= 12 && !b.contains('.'), qPrintable(b));
            combos.insert(s->param(p, "model.width") + "/" + s->param(p, "train.seed") + "/" + s->param(p, "optim.lr"));
        }
        QCOMPARE(names.size(), 24);       // folder names are unique
        QCOMPARE(combos.size(), 24);      // every grid point meets every sample
        QCOMPARE(s->points[0].params[0], (std::pair<QString, QString>{"model.width", "16"}));  // first axis slowest
        QCOMPARE(s->points[23].params[0], (std::pair<QString, QString>{"model.width", "32"}));
        QVERIFY2(s->points[0].name.startsWith("width-16_seed-1_lr-"), qPrintable(s->points[0].name));
        // Jointly drawn: a sample's lr and batch size travel together across the grid.
        QCOMPARE(s->param(s->points[0], "optim.lr"), s->param(s->points[4], "optim.lr"));
        QCOMPARE(s->param(s->points[1], "task.batch_size"), s->param(s->points[5], "task.batch_size"));
        // The seed decides the draws: same seed, same values; another seed, others.
        const std::vector<SweepAxis> random{axis("optim.lr=1e-4:1e-2:4:log", true), axis("task.batch_size=8:12:4", true)};
        auto again = defineSweep("/tmp/x-sweep", tiny(), "tiny", {}, {}, random, 7);
        auto other = defineSweep("/tmp/x-sweep", tiny(), "tiny", {}, {}, random, 8);
        QCOMPARE(again->axes[0].values, s->axes[2].values);
        QCOMPARE(again->axes[1].values, s->axes[3].values);
        QVERIFY(other->axes[0].values != s->axes[2].values);
        // Errors name the key.
        for (const auto& [axes, expect] :
             {std::pair{std::vector<SweepAxis>{axis("model.widht=16,32")}, "\"model.widht\" is not a config key"},
              std::pair{std::vector<SweepAxis>{axis("model.width=16"), axis("model.width=32")}, "swept twice"},
              std::pair{std::vector<SweepAxis>{axis("optim.lr=0.1:0.2:3", true), axis("optim.eps=1e-9:1e-8:4", true)}, "must agree on N"},
              std::pair{std::vector<SweepAxis>{axis("model.width=16,-3")}, "model.width"},
              std::pair{std::vector<SweepAxis>{}, "at least one"}}) {
            auto bad = defineSweep("/tmp/x-sweep", tiny(), "tiny", {}, {}, axes, 0);
            QVERIFY2(!bad && bad.error().contains(expect), qPrintable(bad ? QString("ok") : bad.error()));
        }
    }

    void linkedKeysMoveTogether() {
        const SweepAxis wf = axis("model.width,model.ffn=16/64, 24/96");
        QCOMPARE(wf.keys(), (QStringList{"model.width", "model.ffn"}));
        QCOMPARE(wf.values, (QStringList{"16/64", "24/96"}));
        auto s = defineSweep("/tmp/x-sweep", tiny(), "tiny", {}, {}, {wf, axis("train.seed=1..2")}, 0);
        QVERIFY2(s, qPrintable(s.error()));
        QCOMPARE(int(s->points.size()), 4);  // 2 linked values x 2 seeds, not 2 x 2 x 2
        QCOMPARE(s->keys(), (QStringList{"model.width", "model.ffn", "train.seed"}));
        QCOMPARE(s->points[2].name, QString("width-24_ffn-96_seed-1"));
        QCOMPARE(s->values("model.ffn"), (QStringList{"64", "96"}));
        auto c = s->pointConfig(s->points[3]);
        QVERIFY2(c, qPrintable(c.error()));
        QCOMPARE(c->model.i("width"), 24);
        QCOMPARE(c->model.i("ffn"), 96);
        // Survives the manifest; errors name the key and the value.
        QTemporaryDir tmp;
        auto w = defineSweep(tmp.filePath("sw"), tiny(), "tiny", {}, {}, {wf}, 0);
        QVERIFY(w && writeSweep(w.value()));
        auto r = readSweep(tmp.filePath("sw"));
        QVERIFY2(r, qPrintable(r.error()));
        QCOMPARE(r->keys(), (QStringList{"model.width", "model.ffn"}));
        QCOMPARE(r->points[1].params, w->points[1].params);
        for (const auto& [text, expect] : {std::pair{"model.width,model.ffn=16/64,24", "gives 1 values for 2 linked keys"},
                                           std::pair{"model.width,model.ffn=16/64/3", "gives 3 values"},
                                           std::pair{"model.width,=16/64", "an empty key"},
                                           std::pair{"model.width,model.ffn=1..3", "not a range"}}) {
            auto bad = parseSweepAxis(text, false, "--grid");
            QVERIFY2(!bad && bad.error().contains(expect), qPrintable(QString(text) + " -> " + (bad ? QString("ok") : bad.error())));
        }
        auto twice = defineSweep("/tmp/x-sweep", tiny(), "tiny", {}, {}, {wf, axis("model.ffn=32")}, 0);
        QVERIFY(!twice && twice.error().contains("model.ffn is swept twice"));
        auto unknown = defineSweep("/tmp/x-sweep", tiny(), "tiny", {}, {}, {axis("model.width,model.fnn=16/1")}, 0);
        QVERIFY(!unknown && unknown.error().contains("\"model.fnn\" is not a config key"));
        auto range = parseSweepAxis("model.width,model.ffn=16/64", true, "--random");
        QVERIFY(!range && range.error().contains("not a range or a random draw"));
        // A sweep file may give each linked value as an array.
        QFile f(tmp.filePath("study.json"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"preset": "tiny", "grid": {"model.width,model.ffn": [[16, 64], [24, 96]]}})");
        f.close();
        auto req = loadSweepFile(tmp.filePath("study.json"));
        QVERIFY2(req, qPrintable(req.error()));
        QCOMPARE(req->grids, (QStringList{"model.width,model.ffn=16/64,24/96"}));
    }

    void manifestRoundTrip() {
        QTemporaryDir tmp;
        RunConfig base = tiny();
        QVERIFY(applyOverride(base, "train.steps=50"));
        auto s = defineSweep(tmp.filePath("sw"), base, "tiny", {}, {"train.steps=50"},
                             {axis("model.width=16,32"), axis("train.seed=1..2")}, 3);
        QVERIFY(s);
        s->points[1].state = SweepPoint::State::Failed;
        s->points[1].message = "disk full";
        s->slurm.append(QJsonObject{{"job_id", "42"}, {"array", "0-3"}});
        QVERIFY(writeSweep(s.value()));
        QVERIFY(isSweepDir(tmp.filePath("sw")));
        auto r = readSweep(tmp.filePath("sw"));
        QVERIFY2(r, qPrintable(r.error()));
        QCOMPARE(r->base, s->base);
        QCOMPARE(r->sets, s->sets);
        QCOMPARE(r->preset, QString("tiny"));
        QCOMPARE(int(r->points.size()), 4);
        for (std::size_t i = 0; i < 4; ++i) {
            QCOMPARE(r->points[i].name, s->points[i].name);
            QCOMPARE(r->points[i].params, s->points[i].params);
            QCOMPARE(r->points[i].state, s->points[i].state);
            QCOMPARE(r->points[i].message, s->points[i].message);
        }
        QCOMPARE(r->slurm, s->slurm);
        QCOMPARE(r->axes[1].values, (QStringList{"1", "2"}));
        auto cfg = r->pointConfig(r->points[3]);
        QVERIFY(cfg);
        QCOMPARE(cfg->model.i("width"), 32);
        QCOMPARE(cfg->train.seed, qint64(2));
        QCOMPARE(cfg->train.steps, qint64(50));
        // Damage: each names the file and the field.
        QFile f(r->manifestPath());
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray good = f.readAll();
        f.close();
        auto damage = [&](const QByteArray& text, const QString& expect) {
            QFile w(r->manifestPath());
            QVERIFY(w.open(QIODevice::WriteOnly | QIODevice::Truncate));
            w.write(text);
            w.close();
            auto bad = readSweep(tmp.filePath("sw"));
            QVERIFY2(!bad && bad.error().contains(r->manifestPath()) && bad.error().contains(expect),
                     qPrintable(bad ? QString("ok") : bad.error()));
        };
        damage(good.left(good.size() / 2), "damaged");
        damage(QByteArray(good).replace("\"plateau_sweep\": 1", "\"plateau_sweep\": 9"), "newer");
        damage(QByteArray(good).replace("\"failed\"", "\"exploded\""), "points[1].state");
        damage(QByteArray(good).replace("\"index\": 2", "\"index\": 5"), "points[2].index");
        QVERIFY(!readSweep(tmp.filePath("nowhere")).ok());
    }

    void sweepFileAndCli() {
        QTemporaryDir tmp;
        QFile f(tmp.filePath("study.json"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"preset": "tiny", "set": ["train.steps=40", "train.checkpoint_every=0"],
                    "grid": {"model.width": [16, 24]}, "random": {"optim.lr": "1e-4:1e-3:2:log"}, "random_seed": 5})");
        f.close();
        CliRun r = runCli({"sweep", "--file", tmp.filePath("study.json"), "--out", tmp.filePath("sw"), "--slurm", "--dry-run"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        auto s = readSweep(tmp.filePath("sw"));
        QVERIFY2(s, qPrintable(s.error()));
        QCOMPARE(int(s->points.size()), 4);
        QCOMPARE(s->randomSeed, quint64(5));
        QCOMPARE(s->sets, (QStringList{"train.steps=40", "train.checkpoint_every=0"}));
        // Bad input: a clear message naming what is wrong, nothing written.
        for (const auto& [args, expect] :
             {std::pair{QStringList{"sweep", "--preset", "tiny", "--grid", "model.width=16", "--out", ""}, "--out"},
              std::pair{QStringList{"sweep", "--preset", "tiny", "--out", tmp.filePath("a")}, "at least one"},
              std::pair{QStringList{"sweep", "--preset", "nope", "--grid", "model.width=16", "--out", tmp.filePath("b")}, "nope"},
              std::pair{QStringList{"sweep", "--preset", "tiny", "--grid", "model.width=16", "--out", tmp.filePath("c"), "--partition", "x"}, "--slurm"},
              std::pair{QStringList{"sweep", "--preset", "tiny", "--grid", "model.width=16", "--out", tmp.filePath("sw")}, "different sweep"},
              std::pair{QStringList{"sweep", "--preset", "tiny", "--grid", "model.width=16", "--out", tmp.filePath("d"), "--jobs", "0"}, "--jobs"},
              std::pair{QStringList{"sweep", "--resume", tmp.filePath("sw"), "--grid", "model.width=16"}, "not allowed"},
              std::pair{QStringList{"sweep-summary", tmp.filePath("sw"), "--by", "train.seed"}, "not a swept key"},
              std::pair{QStringList{"sweep-point", tmp.filePath("sw"), "9"}, "no point"}}) {
            const CliRun b = runCli(args);
            QVERIFY2(b.code == 2 && b.err.contains(expect), qPrintable(args.join(' ') + " -> " + b.err));
        }
        QVERIFY(!QFileInfo::exists(tmp.filePath("a")) && !QFileInfo::exists(tmp.filePath("b")));
    }

    void slurmScript() {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath("sw");
        CliRun r = runCli({"sweep", "--preset", "tiny", "--out", dir, "--grid", "model.width=16,24", "--grid", "train.seed=1..2",
                           "--set", "train.steps=30", "--slurm", "--dry-run", "--partition", "short", "--time", "0:30:00",
                           "--cpus-per-task", "2", "--mem", "4G", "--account", "lab"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QFile f(dir + "/sweep.sbatch");
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QString script = QString::fromUtf8(f.readAll());
        for (const QString& line : {QString("#SBATCH --array=0-3"), QString("#SBATCH --cpus-per-task=2"), QString("#SBATCH --time=0:30:00"),
                                    QString("#SBATCH --mem=4G"), QString("#SBATCH --partition=short"), QString("#SBATCH --account=lab"),
                                    QString("#SBATCH --output=") + QDir(dir).absolutePath() + "/logs/slurm-%A_%a.out",
                                    QString("#   2  width-24_seed-1  model.width=24 train.seed=1"),
                                    QString(" sweep-point '") + QDir(dir).absolutePath() + "' \"$SLURM_ARRAY_TASK_ID\" --threads \"${SLURM_CPUS_PER_TASK:-1}\""})
            QVERIFY2(script.contains(line), qPrintable(line + "\nnot in\n" + script));
        QVERIFY(script.startsWith("#!/bin/bash\n"));
        QVERIFY(QFileInfo(dir + "/sweep.sbatch").isExecutable());
        // A point run (as its array task would) and the script again: only the others remain.
        r = runCli({"sweep-point", dir, "2", "--threads", "1"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        r = runCli({"sweep", "--resume", dir, "--slurm", "--dry-run"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QFile g(dir + "/sweep.sbatch");
        QVERIFY(g.open(QIODevice::ReadOnly));
        QVERIFY(QString::fromUtf8(g.readAll()).contains("#SBATCH --array=0-1,3\n"));
        QVERIFY2(runCli({"sweep", "--resume", dir, "--slurm", "--time", "soon", "--dry-run"}).err.contains("--time"), "bad --time");
        // sweep-point on a finished point does nothing.
        r = runCli({"sweep-point", dir, "width-24_seed-1"});
        QVERIFY2(r.code == 0 && r.out.contains("already finished"), qPrintable(r.out + r.err));
    }

    void localRunnerFailingPointAndResume() {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath("sw");
        // Define without running, then make one point's run folder impossible to create.
        CliRun r = runCli({"sweep", "--preset", "tiny", "--out", dir, "--grid", "model.width=16,24", "--grid", "train.seed=1..2",
                           "--set", "train.steps=240", "--set", "train.checkpoint_every=40", "--set", "train.snapshot_save_every=0",
                           "--slurm", "--dry-run"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        auto s = readSweep(dir);
        QVERIFY(s);
        {
            QFile blocker(s->runDir(s->points[1]));
            QVERIFY(blocker.open(QIODevice::WriteOnly));
            blocker.write("not a folder");
        }
        // Run with one job; stop it (SIGTERM, as Ctrl+C would) once point 0 has finished and point 2
        // has a checkpoint.
        QProcess p;
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(PLATEAU_CLI, {"sweep", "--resume", dir, "--jobs", "1", "--threads-per-job", "1"});
        QVERIFY(p.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(!checkpointsIn(s->runDir(s->points[2])).empty(), 240000);
        p.terminate();
        QVERIFY(p.waitForFinished(120000));
        const QString log1 = QString::fromUtf8(p.readAll());
        QCOMPARE(p.exitCode(), 130);
        QVERIFY2(log1.contains("stopping"), qPrintable(log1));
        auto mid = readSweep(dir);
        QVERIFY(mid);
        QCOMPARE(mid->points[0].state, SweepPoint::State::Done);
        QCOMPARE(mid->points[1].state, SweepPoint::State::Failed);
        QVERIFY2(mid->points[1].message.contains(s->runDir(s->points[1])), qPrintable(mid->points[1].message));
        QCOMPARE(mid->points[2].state, SweepPoint::State::Interrupted);
        QCOMPARE(mid->points[3].state, SweepPoint::State::Pending);
        const PointProgress half = pointProgress(mid.value(), mid->points[2]);
        QVERIFY(half.resumable && half.stepsDone < 240);
        auto rows0 = RunStore::open(s->runDir(s->points[0]), true).value()->lastStep().value();
        QCOMPARE(rows0, qint64(240));
        // Unblock the failing point and go on: 0 is skipped, 2 resumed from its checkpoint.
        QVERIFY(QFile::remove(s->runDir(s->points[1])));
        r = runCli({"sweep", "--resume", dir, "--jobs", "2"});
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains("1 finished, 3 to run"), qPrintable(r.out));
        QFile log2(s->logPath(s->points[2]));
        QVERIFY(log2.open(QIODevice::ReadOnly));
        QVERIFY(QString::fromUtf8(log2.readAll()).contains("resumed from"));
        auto end = readSweep(dir);
        for (const SweepPoint& pt : end->points) {
            QCOMPARE(pt.state, SweepPoint::State::Done);
            QCOMPARE(pointProgress(end.value(), pt).stepsDone, qint64(240));
        }
        r = runCli({"sweep-status", dir, "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const QJsonArray pts = QJsonDocument::fromJson(r.out.toUtf8()).object()["points"].toArray();
        QCOMPARE(pts.size(), 4);
        for (const QJsonValue& v : pts) QCOMPARE(v.toObject()["state"].toString(), QString("done"));
    }

    void stopAfterDropCountsAsFinished() {
        // --stop-after-drop K is kept in the manifest and handed to each point's training; a run
        // stopped that way (its marker at its last step) is finished, a stale marker is not.
        QTemporaryDir tmp;
        const QString dir = tmp.filePath("sw");
        CliRun r = runCli({"sweep", "--preset", "tiny", "--out", dir, "--grid", "train.seed=1..2", "--stop-after-drop", "500",
                           "--slurm", "--dry-run"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        auto s = readSweep(dir);
        QVERIFY2(s, qPrintable(s.error()));
        QCOMPARE(s->stopAfterDrop, qint64(500));
        // --dry-run without --slurm: the manifest and the list of points, nothing run.
        r = runCli({"sweep", "--preset", "tiny", "--out", tmp.filePath("dry"), "--grid", "model.width=16,24", "--dry-run"});
        QVERIFY2(r.code == 0 && r.out.contains("2 points (not run") && r.out.contains("width-24"), qPrintable(r.out + r.err));
        QVERIFY(isSweepDir(tmp.filePath("dry")) && !QFileInfo::exists(tmp.filePath("dry/runs/width-16")));
        for (const SweepPoint& p : s->points) test::fakeRun(s.value(), p, 1500, 600);
        // fakeRun plans exactly the steps it writes; plan more, as a run stopped early has.
        for (const SweepPoint& p : s->points) {
            QFile cf(s->runDir(p) + "/config.json");
            QVERIFY(cf.open(QIODevice::ReadOnly));
            QJsonObject root = QJsonDocument::fromJson(cf.readAll()).object();
            cf.close();
            QJsonObject train = root["train"].toObject();
            QVERIFY2(!train.isEmpty(), "config.json has no train");
            train["steps"] = 5000;
            root["train"] = train;
            QVERIFY(cf.open(QIODevice::WriteOnly | QIODevice::Truncate));
            cf.write(QJsonDocument(root).toJson());
        }
        QCOMPARE(pointProgress(s.value(), s->points[0]).folder, PointProgress::Folder::Stopped);
        QVERIFY(writeStoppedAfterDrop(s->runDir(s->points[0]), 1500, 640, 500));
        QVERIFY(writeStoppedAfterDrop(s->runDir(s->points[1]), 1200, 640, 500));  // stale: the run went on
        const PointProgress done = pointProgress(s.value(), s->points[0]);
        QCOMPARE(done.folder, PointProgress::Folder::Finished);
        QVERIFY(done.stoppedAfterDrop);
        QCOMPARE(done.stepsDone, qint64(1500));
        QCOMPARE(pointProgress(s.value(), s->points[1]).folder, PointProgress::Folder::Stopped);
        r = runCli({"sweep-point", dir, "0"});
        QVERIFY2(r.code == 0 && r.out.contains("stopped after the drop"), qPrintable(r.out + r.err));
        r = runCli({"sweep-status", dir, "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const QJsonArray pts = QJsonDocument::fromJson(r.out.toUtf8()).object()["points"].toArray();
        QCOMPARE(pts[0].toObject()["state"].toString(), QString("done"));
        QVERIFY(pts[1].toObject()["state"].toString() != "done");
        clearStoppedAfterDrop(s->runDir(s->points[0]));
        QCOMPARE(pointProgress(s.value(), s->points[0]).folder, PointProgress::Folder::Stopped);
        // Bad values are refused by name; --resume keeps the sweep's own value.
        r = runCli({"sweep", "--preset", "tiny", "--out", tmp.filePath("b"), "--grid", "train.seed=1", "--stop-after-drop", "-3"});
        QVERIFY2(r.code == 2 && r.err.contains("--stop-after-drop"), qPrintable(r.err));
        r = runCli({"sweep", "--resume", dir, "--stop-after-drop", "10"});
        QVERIFY2(r.code == 2 && r.err.contains("stop-after-drop"), qPrintable(r.err));
    }

    void summaryOfKnownDrops() {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath("sw");
        CliRun r = runCli({"sweep", "--preset", "tiny", "--out", dir, "--grid", "model.width=16,24", "--grid", "train.seed=1..3",
                           "--slurm", "--dry-run"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        auto s = readSweep(dir);
        QVERIFY(s);
        // Width 16 drops at 600, 700, 800; width 24 at 1000 and 1100, and seed 3 never.
        const std::map<QString, qint64> drops{{"width-16_seed-1", 600}, {"width-16_seed-2", 700}, {"width-16_seed-3", 800},
                                              {"width-24_seed-1", 1000}, {"width-24_seed-2", 1100}, {"width-24_seed-3", -1}};
        for (const SweepPoint& p : s->points) test::fakeRun(s.value(), p, 2000, drops.at(p.name));
        r = runCli({"sweep-summary", dir, "--csv"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const QStringList onset = csvColumn(r.out, "onset_step"), names = csvColumn(r.out, "model.width");
        QCOMPARE(onset.size(), 6);
        for (int i = 0; i < 6; ++i) {
            const qint64 want = drops.at(s->points[std::size_t(i)].name);
            if (want < 0) {
                QVERIFY2(onset[i].isEmpty(), qPrintable(onset[i]));
            } else {
                QVERIFY2(std::abs(onset[i].toLongLong() - want) <= 30, qPrintable(QString("%1 vs %2").arg(onset[i]).arg(want)));
            }
        }
        QVERIFY(csvColumn(r.out, "factor")[0].toDouble() > 30);
        r = runCli({"sweep-summary", dir, "--by", "model.width", "--csv"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(csvColumn(r.out, "model.width"), (QStringList{"16", "24"}));
        QCOMPARE(csvColumn(r.out, "dropped"), (QStringList{"3", "2"}));
        QVERIFY(std::abs(csvColumn(r.out, "share_dropped")[1].toDouble() - 2.0 / 3.0) < 1e-5);
        const QStringList med = csvColumn(r.out, "onset_median");
        QVERIFY2(std::abs(med[0].toDouble() - 700) <= 30 && std::abs(med[1].toDouble() - 1050) <= 30, qPrintable(med.join(' ')));
        const QStringList lo = csvColumn(r.out, "onset_min"), hi = csvColumn(r.out, "onset_max");
        QVERIFY(std::abs(lo[0].toDouble() - 600) <= 30 && std::abs(hi[0].toDouble() - 800) <= 30);
        QCOMPARE(csvColumn(r.out, "falling_at_end"), (QStringList{"0", "0"}));
        // A drop still under way when the run ends: its onset is shown, flagged, and not counted
        // as dropped.
        const QString late = s->runDir(s->points[5]);
        QVERIFY(QDir(late).removeRecursively());
        test::fakeRun(s.value(), s->points[5], 2000, 1960);
        r = runCli({"sweep-summary", dir, "--csv"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(csvColumn(r.out, "drop").value(0), QString("complete"));
        QCOMPARE(csvColumn(r.out, "drop").value(5), QString("falling at end"));
        QVERIFY2(std::abs(csvColumn(r.out, "onset_step").value(5).toDouble() - 1960) <= 30, qPrintable(r.out));
        r = runCli({"sweep-summary", dir, "--by", "model.width", "--csv"});
        QCOMPARE(csvColumn(r.out, "dropped"), (QStringList{"3", "2"}));
        QCOMPARE(csvColumn(r.out, "falling_at_end"), (QStringList{"0", "1"}));
    }
};

PLATEAU_TEST_MAIN(TestSweep)
#include "tst_sweep.moc"
