// Scrub latency: from moving the current step (a timeline key press or click) until all four
// views have redrawn and painted the snapshot at that step, at the paper's model size (4 layers x
// 8 heads, 49 tokens, width 768, probe 64) with a 50k-step loss curve, through the same code a
// user's run takes (a run folder opened with File → Open). Prints p50 / p95 / max over many
// scrubs: sequential (← / →, one snapshot at a time) and random jumps. Goal: p95 <= 100 ms.
//   plateau-bench-scrub [--scrubs N] [--snapshots K]     (use Xvfb for a real X server)
#include <torch/torch.h>  // before Qt

#include "experiments/matrix_completion/mc_experiment.h"
#include "attention_view.h"
#include "bench_timing.h"
#include "config.h"
#include "metrics_view.h"
#include "main_window.h"
#include "model/bert_encoder.h"
#include "matrix_view.h"
#include "run/run_store.h"
#include "runtime_env.h"
#include "session_model.h"
#include "spectra_view.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

using namespace plateau;
using plateau::bench::percentile;

namespace {

// A run folder at the paper size: 50k metric rows shaped like the paper's curve (plateau, drop
// at ~15k) and K stored snapshots built from the real model (weights perturbed between builds so
// that frames differ).
bool makeRun(const QString& dir, int snapshots) {
    RunConfig cfg = loadPreset("paper").value();
    cfg.train.probeSize = 64;
    auto store = RunStore::create(dir, cfg);
    if (!store) return std::fprintf(stderr, "%s\n", qPrintable(store.error())), false;
    std::mt19937 rng(1);
    std::normal_distribution<double> noise(0, 0.08);
    std::vector<StepMetrics> rows;
    for (qint64 s = 1; s <= cfg.train.steps; ++s) {
        StepMetrics m;
        m.step = s;
        m.timeS = double(s) * 7.5;
        const double level = s < 15000 ? 0.067 : 0.004 + 0.063 * std::exp(-double(s - 15000) / 600.0);
        const double loss = level * std::exp(noise(rng));
        m.values = {loss, 1e-4 * std::exp(noise(rng)), loss / 0.3, kNoValue, loss * std::exp(noise(rng))};
        m.stepMs = 7500;
        rows.push_back(m);
    }
    if (Status st = store.value()->append(rows); !st) return std::fprintf(stderr, "%s\n", qPrintable(st.error())), false;
    McExperiment exp(cfg);
    const int distinct = 6;
    std::vector<SnapshotPtr> built;
    for (int i = 0; i < distinct; ++i) {
        {
            torch::NoGradGuard g;
            for (auto& p : exp.model()->parameters()) p.add_(torch::randn_like(p) * 0.02);
        }
        built.push_back(exp.snapshot(0, 0, ProbeSpec{}, true));
    }
    for (int k = 0; k < snapshots; ++k) {
        Snapshot s = *built[std::size_t(k % distinct)];
        s.step = qint64(k) * cfg.train.steps / std::max(1, snapshots - 1);
        s.timeS = double(s.step) * 7.5;
        if (Status st = store.value()->appendSnapshot(s); !st) return std::fprintf(stderr, "%s\n", qPrintable(st.error())), false;
    }
    return true;
}
}  // namespace

int main(int argc, char** argv) {
    prepareProcess(argc, argv);
    QApplication app(argc, argv);
    QApplication::setApplicationName("plateau-bench");
    QStandardPaths::setTestModeEnabled(true);
    QCommandLineParser p;
    p.addHelpOption();
    p.addOption({"scrubs", "scrubs per kind (default 150)", "n", "150"});
    p.addOption({"snapshots", "stored snapshots in the run (default 250, the paper preset's save schedule)", "k", "250"});
    p.process(app);
    configureRuntime(0);
    QTemporaryDir tmp;
    const QString run = tmp.filePath("paper-run");
    QElapsedTimer prep;
    prep.start();
    if (!makeRun(run, p.value("snapshots").toInt())) return 2;
    std::printf("platform %s; run at the paper size written in %.1f s\n", qPrintable(QGuiApplication::platformName()),
                prep.elapsed() / 1000.0);

    {
        // Where opening goes, read outside the window: rows, the snapshot list, decoding every snapshot.
        QElapsedTimer t;
        t.start();
        QString configError;
        auto store = RunStore::openForViewing(run, &configError);
        if (!store) return std::fprintf(stderr, "%s\n", qPrintable(store.error())), 2;
        const double openS = double(t.nsecsElapsed()) / 1e6;
        t.restart();
        auto rows = store.value()->readMetrics();
        const double rowsMs = double(t.nsecsElapsed()) / 1e6;
        t.restart();
        auto steps = store.value()->snapshotSteps();
        const double stepsMs = double(t.nsecsElapsed()) / 1e6;
        t.restart();
        auto snaps = store.value()->readSnapshots(nullptr);
        const double snapsMs = double(t.nsecsElapsed()) / 1e6;
        if (!rows || !steps || !snaps) return std::fprintf(stderr, "cannot read the run back\n"), 2;
        std::printf("reading: open %.0f ms, %zu rows %.0f ms, snapshot list %.1f ms, decoding %zu snapshots %.0f ms\n", openS,
                    rows->size(), rowsMs, stepsMs, snaps->size(), snapsMs);
    }
    MainWindow w;
    w.resize(1500, 950);
    w.show();
    QElapsedTimer openClock;
    openClock.start();
    if (!w.openRun(run)) return std::fprintf(stderr, "%s\n", qPrintable(w.lastMessage())), 2;
    const double openMs = double(openClock.nsecsElapsed()) / 1e6;
    // Until the window has painted once with every dock drawn: what the user waits for.
    for (int i = 0; i < 50; ++i) QApplication::processEvents();
    const double shownMs = double(openClock.nsecsElapsed()) / 1e6;
    while (w.snapshotsLoading()) QApplication::processEvents(QEventLoop::AllEvents, 5);
    const double allMs = double(openClock.nsecsElapsed()) / 1e6;
    SessionModel* m = w.session();
    const int count = int(m->snapshots().size());
    std::printf("opened %zu metric rows and the newest snapshot in %.0f ms, shown after %.0f ms (goal <= 500 ms); "
                "all %d snapshots in the timeline after %.0f ms\n",
                m->metrics().size(), openMs, shownMs, count, allMs);

    auto scrubTo = [&](int index) {
        QElapsedTimer t;
        t.start();
        m->setCurrentIndex(index);
        const qint64 step = m->snapshots()[std::size_t(index)]->step;
        auto drawn = [&] {
            return w.attentionView()->shownStep() == step && w.matrixView()->shownStep() == step &&
                   w.spectraView()->shownStep() == step && w.metricsView()->currentLineX() == double(step);
        };
        while (!drawn()) {
            QApplication::processEvents(QEventLoop::AllEvents, 5);
            if (t.elapsed() > 10000) {
                std::fprintf(stderr, "views did not reach step %lld\n", step);
                std::exit(2);
            }
        }
        QApplication::sendPostedEvents();
        QApplication::processEvents();  // the paints the redraws asked for
        return double(t.nsecsElapsed()) / 1e6;
    };
    const int n = p.value("scrubs").toInt();
    std::vector<double> seq, jump;
    m->setCurrentIndex(count / 2);
    for (int i = 0; i < 20; ++i) QApplication::processEvents();
    int at = count / 2;
    for (int i = 0; i < n; ++i) {
        at = (i / 40) % 2 ? std::max(0, at - 1) : std::min(count - 1, at + 1);
        seq.push_back(scrubTo(at));
    }
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> pick(0, count - 1);
    for (int i = 0; i < n; ++i) jump.push_back(scrubTo(pick(rng)));
    for (const auto& [name, v] : {std::pair<const char*, std::vector<double>&>{"one snapshot at a time (← / →)", seq},
                                  {"random jumps (click on the timeline)", jump}})
        std::printf("%-38s p50 %6.1f ms   p95 %6.1f ms   max %6.1f ms   (%zu scrubs)\n", name, percentile(v, 0.5),
                    percentile(v, 0.95), percentile(v, 1.0), v.size());
    std::vector<double> all = seq;
    all.insert(all.end(), jump.begin(), jump.end());
    std::printf("all scrubs: p95 %.1f ms (goal <= 100 ms)\n", percentile(all, 0.95));
    return 0;
}
