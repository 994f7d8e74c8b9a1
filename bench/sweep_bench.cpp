// Sweep scale: a sweep folder of N points (default 100: width x depth x seed) whose runs hold S
// metric rows each (default 20k, every column of `quick`, a plateau and a drop whose step depends
// on the point), written once; then, in one run: opening it (SweepData::open: the manifest, every
// run's rows, its drop detection), `plateau-cli sweep-summary` on it, the sweep window's first
// show, and full redraws of the overlay of every run's curve (whole range, zoomed, by drop onset).
// Goals: open and summarise <= 2 s, overlay redraw <= 50 ms.
//   plateau-bench-sweep [--points N] [--steps S] [--redraws R] [--keep DIR]   (Xvfb for a real X server)
#include "bench_timing.h"
#include "config.h"
#include "run/run_store.h"
#include "runtime_env.h"
#include "sweep/sweep.h"
#include "sweep/sweep_data.h"
#include "sweep_view.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

using namespace plateau;
using plateau::bench::percentile;

namespace {

bool makeSweep(const QString& dir, int points, qint64 steps) {
    RunConfig base = loadPreset("quick").value();
    base.train.steps = steps;
    std::vector<SweepAxis> axes;
    const int seeds = std::max(1, points / 20);
    QStringList widths{"32", "48", "64", "96", "128"}, depths{"1", "2", "3", "4"};
    QStringList seedList;
    for (int i = 1; i <= seeds; ++i) seedList << QString::number(i);
    for (const QString& a : {"model.width=" + widths.join(','), "model.layers=" + depths.join(','), "train.seed=" + seedList.join(',')})
        axes.push_back(parseSweepAxis(a, false, "--grid").value());
    auto s = defineSweep(dir, base, "quick", {}, {}, axes, 0);
    if (!s) return std::fprintf(stderr, "%s\n", qPrintable(s.error())), false;
    if (Status st = writeSweep(s.value()); !st) return std::fprintf(stderr, "%s\n", qPrintable(st.error())), false;
    std::mt19937 rng(5);
    std::normal_distribution<double> noise(0, 0.08);
    for (const SweepPoint& p : s->points) {
        if (p.index >= points) break;
        auto cfg = s->pointConfig(p);
        auto store = RunStore::create(s->runDir(p), cfg.value());
        if (!store) return std::fprintf(stderr, "%s\n", qPrintable(store.error())), false;
        // Wider and deeper: earlier drops; seeds scatter them.
        const double w = s->param(p, "model.width").toDouble(), d = s->param(p, "model.layers").toDouble();
        const double drop = double(steps) * std::clamp(0.55 - 0.002 * w - 0.05 * d + 0.03 * noise(rng) / 0.08, 0.1, 0.9);
        std::vector<StepMetrics> rows;
        rows.reserve(std::size_t(steps));
        const std::size_t nc = store.value()->columns().size();
        for (qint64 k = 1; k <= steps; ++k) {
            StepMetrics m;
            m.step = k;
            m.timeS = double(k) * 0.03;
            m.stepMs = 30;
            const double level = double(k) < drop ? 0.022 : 0.002 + 0.02 * std::exp(-(double(k) - drop) / (0.02 * double(steps)));
            for (std::size_t c = 0; c < nc; ++c) m.values.push_back(level * (1 + 0.3 * double(c)) * std::exp(noise(rng)));
            rows.push_back(std::move(m));
        }
        if (Status st = store.value()->append(rows); !st) return std::fprintf(stderr, "%s\n", qPrintable(st.error())), false;
    }
    return true;
}
}  // namespace

int main(int argc, char** argv) {
    prepareProcess(argc, argv);
    QApplication app(argc, argv);
    QCommandLineParser p;
    p.addHelpOption();
    p.addOption({"points", "points in the sweep (default 100; multiples of 20)", "n", "100"});
    p.addOption({"steps", "metric rows per run (default 20000)", "s", "20000"});
    p.addOption({"redraws", "redraws per kind (default 20)", "r", "20"});
    p.addOption({"keep", "write the sweep into DIR and keep it (to look at it in the GUI)", "dir"});
    p.process(app);
    const int points = std::max(20, p.value("points").toInt() / 20 * 20);
    const qint64 steps = std::max<qint64>(100, p.value("steps").toLongLong());
    const int redraws = std::max(1, p.value("redraws").toInt());
    QTemporaryDir tmp;
    const QString dir = p.isSet("keep") ? QDir(p.value("keep")).absolutePath() : tmp.filePath("sweep");
    QElapsedTimer t;
    t.start();
    if (!makeSweep(dir, points, steps)) return 2;
    std::printf("platform %s; sweep of %d points x %lld rows written in %.1f s (%s)\n", qPrintable(QGuiApplication::platformName()),
                points, steps, t.elapsed() / 1000.0, qPrintable(dir));

    t.restart();
    auto data = SweepData::open(dir);
    if (!data) return std::fprintf(stderr, "%s\n", qPrintable(data.error())), 2;
    const double openMs = double(t.nsecsElapsed()) / 1e6;
    int dropped = 0;
    for (const SweepRun& r : data.value()->runs()) dropped += r.drop() ? 1 : 0;
    t.restart();
    QProcess summary;
    summary.start(QCoreApplication::applicationDirPath() + "/../app/plateau-cli", {"sweep-summary", dir, "--by", "model.width"});
    summary.waitForFinished(120000);
    const double summaryMs = double(t.nsecsElapsed()) / 1e6;
    std::printf("SweepData::open (manifest, %d runs' rows, detection): %.0f ms; %d of %d runs dropped\n", points, openMs, dropped, points);
    std::printf("plateau-cli sweep-summary --by model.width (a process of its own): %.0f ms (exit %d)\n", summaryMs, summary.exitCode());
    std::printf("open + summarise: %.0f ms (goal <= 2000 ms)\n", openMs + summaryMs);

    t.restart();
    SweepView v(std::move(data.value()));
    v.resize(1400, 900);
    v.show();
    for (int i = 0; i < 20; ++i) QApplication::processEvents();
    const double showMs = double(t.nsecsElapsed()) / 1e6;
    std::printf("sweep window built and shown: %.0f ms; %d curves\n", showMs, v.curveCount());
    QCustomPlot* o = v.overlay();
    std::vector<double> whole, zoomed, onset;
    auto time = [&](std::vector<double>& into) {
        QElapsedTimer r;
        r.start();
        o->replot(QCustomPlot::rpImmediateRefresh);
        into.push_back(double(r.nsecsElapsed()) / 1e6);
    };
    const QCPRange full = o->xAxis->range();
    for (int i = 0; i < redraws; ++i) {
        o->xAxis->setRange(full);
        time(whole);
    }
    for (int i = 0; i < redraws; ++i) {
        const double lo = full.lower + full.size() * 0.1 * (i % 9);
        o->xAxis->setRange(lo, lo + full.size() / 10);
        time(zoomed);
    }
    v.setAlign(SweepView::Align::Onset);
    for (int i = 0; i < redraws; ++i) time(onset);
    std::vector<double> all;
    for (const auto& [name, vals] : {std::pair<const char*, std::vector<double>&>{"whole range", whole},
                                     {"zoomed to a tenth", zoomed}, {"aligned by drop onset", onset}}) {
        std::printf("overlay redraw, %-22s p50 %6.1f ms   p95 %6.1f ms   max %6.1f ms\n", name, percentile(vals, 0.5),
                    percentile(vals, 0.95), percentile(vals, 1.0));
        all.insert(all.end(), vals.begin(), vals.end());
    }
    std::printf("all overlay redraws: p95 %.1f ms (goal <= 50 ms)\n", percentile(all, 0.95));
    return 0;
}
