// Loss-view redraw with long curves: the experiment's metrics view (the one a run's window shows,
// built from its ViewSpec) holding N rows of every column of the `quick` preset, shaped like a
// plateau and a drop with noise, drawn at 1500 x 700. Prints the time to take the rows in, and
// p50 / p95 / max of full redraws (QCustomPlot::replot, immediate) over the whole curve, zoomed to
// a tenth, on a log-x axis and with the cursor moved, for N = 10k, 100k and 1M (or --points).
// Goal: a redraw <= 16 ms at 1M points per curve.
//   plateau-bench-plot [--points N] [--redraws R]     (use Xvfb for a real X server)
#include "bench_timing.h"
#include "config.h"
#include "metrics.h"
#include "metrics_view.h"
#include "plot_style.h"
#include <qcustomplot.h>
#include "runtime_env.h"
#include "session_model.h"
#include "view_registry.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

using namespace plateau;
using plateau::bench::percentile;

namespace {

std::vector<StepMetrics> curve(qint64 n, std::size_t columns) {
    std::mt19937 rng(3);
    std::normal_distribution<double> noise(0, 0.1);
    std::vector<StepMetrics> rows;
    rows.reserve(std::size_t(n));
    const double drop = double(n) * 0.3;
    for (qint64 s = 1; s <= n; ++s) {
        StepMetrics m;
        m.step = s;
        m.timeS = double(s) * 0.03;
        m.stepMs = 30;
        m.lr = 1e-4;
        const double level = double(s) < drop ? 0.067 : 0.004 + 0.063 * std::exp(-(double(s) - drop) / (0.01 * double(n)));
        for (std::size_t c = 0; c < columns; ++c) m.values.push_back(level * (1 + 0.2 * double(c)) * std::exp(noise(rng)));
        rows.push_back(std::move(m));
    }
    return rows;
}
}  // namespace

int main(int argc, char** argv) {
    prepareProcess(argc, argv);
    QApplication app(argc, argv);
    QCommandLineParser p;
    p.addHelpOption();
    p.addOption({"points", "rows per curve (default: 10000, 100000 and 1000000 in turn)", "n"});
    p.addOption({"redraws", "redraws per kind (default 30)", "r", "30"});
    p.process(app);
    const int redraws = std::max(1, p.value("redraws").toInt());
    std::vector<qint64> sizes = {10000, 100000, 1000000};
    if (p.isSet("points")) sizes = {std::max<qint64>(10, p.value("points").toLongLong())};

    RunConfig cfg = loadPreset("quick").value();
    const ExperimentInfo& info = cfg.info();
    const ViewSpec* spec = nullptr;
    for (const ViewSpec& v : info.views)
        if (v.kind == "metrics") spec = &v;
    if (!spec) return std::fprintf(stderr, "the quick preset's experiment has no metrics view\n"), 2;
    std::printf("platform %s; %s view of %s, 1500 x 700\n", qPrintable(QGuiApplication::platformName()),
                qPrintable(spec->name), qPrintable(info.id));
    bool met = true;
    for (qint64 n : sizes) {
        cfg.train.steps = n;
        SessionModel model;
        auto* view = qobject_cast<MetricsView*>(createView(*spec, &model));
        if (!view) return std::fprintf(stderr, "the metrics view did not build\n"), 2;
        model.reset(cfg, "/nonexistent/bench-run");  // the view builds its plots on the reset
        if (view->groupCount() == 0) return std::fprintf(stderr, "the metrics view built no plot\n"), 2;
        view->resize(1500, 700);
        view->show();
        for (int i = 0; i < 20; ++i) QApplication::processEvents();
        const std::vector<StepMetrics> rows = curve(n, model.columns().size());
        QElapsedTimer t;
        t.start();
        model.appendMetrics(rows);
        view->redrawNow();
        const double ingestMs = double(t.nsecsElapsed()) / 1e6;
        std::vector<double> full, zoomed, logx, cursor, emaOnly;
        auto redraw = [&](std::vector<double>& into) {
            QElapsedTimer r;
            r.start();
            for (int g = 0; g < view->groupCount(); ++g) view->plot(g)->replot(QCustomPlot::rpImmediateRefresh);
            into.push_back(double(r.nsecsElapsed()) / 1e6);
        };
        for (int i = 0; i < redraws; ++i) {
            for (int g = 0; g < view->groupCount(); ++g) view->plot(g)->xAxis->setRange(1, double(n));
            redraw(full);
        }
        const int firstDrawn = view->drawnPoints(model.columns().front().key);
        for (int i = 0; i < redraws; ++i) {
            const double lo = double(n) * 0.1 * double(i % 9);
            for (int g = 0; g < view->groupCount(); ++g) view->plot(g)->xAxis->setRange(lo + 1, lo + double(n) / 10);
            redraw(zoomed);
        }
        view->setLogX(true);
        for (int i = 0; i < redraws; ++i) redraw(logx);
        view->setLogX(false);
        for (int g = 0; g < view->groupCount(); ++g) view->plot(g)->xAxis->setRange(1, double(n));
        for (int i = 0; i < redraws; ++i) {
            view->showCursorAt(double(n) * (0.05 + 0.9 * double(i) / redraws));
            redraw(cursor);
        }
        view->setSmoothing(0);  // smoothing off: the raw curves only, drawn strong
        for (int i = 0; i < redraws; ++i) redraw(emaOnly);
        view->setSmoothing(0.9);
        std::size_t curves = 0;
        for (int g = 0; g < view->groupCount(); ++g) curves += std::size_t(view->plot(g)->graphCount());
        std::printf("\n%lld rows x %zu columns (%zu graphs in %d plots, %d points drawn of the first): taken in and "
                    "drawn in %.0f ms\n",
                    n, model.columns().size(), curves, view->groupCount(), firstDrawn, ingestMs);
        std::vector<double> all;
        for (const auto& [name, v] : {std::pair<const char*, std::vector<double>&>{"whole curve", full},
                                      {"zoomed to a tenth", zoomed},
                                      {"log x", logx},
                                      {"cursor moved", cursor},
                                      {"smoothing off", emaOnly}}) {
            std::printf("  %-20s p50 %6.1f ms   p95 %6.1f ms   max %6.1f ms\n", name, percentile(v, 0.5),
                        percentile(v, 0.95), percentile(v, 1.0));
            all.insert(all.end(), v.begin(), v.end());
        }
        // The same number of graphs holding every point, drawn by QCustomPlot's own adaptive sampling
        // (how the view drew before it decimated itself), same size, pens and axes, in this run.
        std::vector<double> reference;
        {
            QWidget box;
            auto* lay = new QVBoxLayout(&box);
            std::vector<QCustomPlot*> plots;
            for (int g = 0; g < view->groupCount(); ++g) {
                auto* rp = new QCustomPlot;
                liveRendering(rp);
                setLogY(rp);
                lay->addWidget(rp);
                plots.push_back(rp);
                for (int k = 0; k < view->plot(g)->graphCount(); ++k) {
                    QCPGraph* src = view->plot(g)->graph(k);
                    QCPGraph* gr = rp->addGraph();
                    gr->setPen(src->pen());
                    gr->setVisible(src->visible());
                    gr->setAdaptiveSampling(true);
                    if (k >= 2 * int(model.columns().size())) {  // a reference line (added after every curve)
                        gr->setData(src->data());
                        continue;
                    }
                    QVector<QCPGraphData> d;
                    d.reserve(qsizetype(rows.size()));
                    const std::size_t c = std::size_t(k / 2) % model.columns().size();
                    for (const StepMetrics& m : rows) d.push_back(QCPGraphData(double(m.step), m.values[c]));
                    gr->data()->set(d, true);
                }
                rp->xAxis->setRange(1, double(n));
                rp->yAxis->setRange(view->plot(g)->yAxis->range());
            }
            box.resize(1500, 700);
            box.show();
            for (int i = 0; i < 20; ++i) QApplication::processEvents();
            for (int i = 0; i < redraws; ++i) {
                QElapsedTimer r;
                r.start();
                for (QCustomPlot* rp : plots) rp->replot(QCustomPlot::rpImmediateRefresh);
                reference.push_back(double(r.nsecsElapsed()) / 1e6);
            }
        }
        std::printf("  %-20s p50 %6.1f ms   p95 %6.1f ms   max %6.1f ms   (every point in the graphs, QCustomPlot's "
                    "adaptive sampling: %.1fx the view's whole-curve p50)\n",
                    "reference", percentile(reference, 0.5), percentile(reference, 0.95), percentile(reference, 1.0),
                    percentile(reference, 0.5) / std::max(1e-9, percentile(full, 0.5)));
        const double p95 = percentile(all, 0.95);
        std::printf("  all redraws: p95 %.1f ms%s\n", p95, n >= 1000000 ? " (goal <= 16 ms)" : "");
        if (n >= 1000000) met = met && p95 <= 16;
        delete view;
    }
    return met ? 0 : 1;
}
