#include "figure_set.h"

#include "analyses_dock.h"
#include "analysis_view.h"
#include "attention_view.h"
#include "main_window.h"
#include "metrics_view.h"
#include "session_model.h"
#include "sweep/sweep_data.h"
#include "sweep_view.h"

#include <qcustomplot.h>

#include <QApplication>
#include <QDir>
#include <QDockWidget>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace plateau {

namespace {
int nearestSnapshot(const SessionModel& m, double step) {
    const auto& s = m.snapshots();
    int best = -1;
    double bestD = 1e300;
    for (int i = 0; i < int(s.size()); ++i) {
        const double d = std::abs(double(s[std::size_t(i)]->step) - step);
        if (d < bestD) {
            bestD = d;
            best = i;
        }
    }
    return best;
}
}  // namespace

std::vector<FigureStep> chooseFigureSteps(const SessionModel& m, const std::vector<qint64>& requested) {
    std::vector<FigureStep> out;
    const auto& snaps = m.snapshots();
    if (snaps.empty()) return out;
    auto add = [&](int index, const QString& label) {
        if (index < 0) return;
        const qint64 step = snaps[std::size_t(index)]->step;
        for (const FigureStep& f : out)
            if (f.step == step) return;
        out.push_back({step, label});
    };
    if (!requested.empty()) {
        for (qint64 s : requested) {
            const int i = nearestSnapshot(m, double(s));
            add(i, QString("step_%1").arg(snaps[std::size_t(i)]->step));
        }
        return out;
    }
    const qint64 last = snaps.back()->step;
    const auto& drops = m.detection().drops;
    if (!drops.empty()) {
        const DropEvent& d = drops.front();
        // Early: where the copying plateau has formed; mid-plateau; the last snapshot at or before
        // the onset; the first at or after the drop's end; the final one.
        add(nearestSnapshot(m, std::max<double>(double(d.plateau.startStep), 0.02 * double(last))), "early");
        add(nearestSnapshot(m, 0.5 * double(d.plateau.startStep + d.onsetStep)), "plateau");
        int before = 0, after = int(snaps.size()) - 1;
        for (int i = 0; i < int(snaps.size()); ++i) {
            if (snaps[std::size_t(i)]->step <= d.onsetStep) before = i;
        }
        for (int i = int(snaps.size()) - 1; i >= 0; --i)
            if (snaps[std::size_t(i)]->step >= d.endStep) after = i;
        add(before, "before_drop");
        add(after, "after_drop");
        add(int(snaps.size()) - 1, "final");
    } else {
        for (double f : {0.02, 0.25, 0.5, 0.75}) {
            const int i = nearestSnapshot(m, f * double(last));
            add(i, QString("step_%1").arg(snaps[std::size_t(i)]->step));
        }
        add(int(snaps.size()) - 1, "final");
    }
    std::sort(out.begin(), out.end(), [](const FigureStep& a, const FigureStep& b) { return a.step < b.step; });
    return out;
}

Result<QStringList> exportFigureSet(MainWindow& w, const QString& outDir, const FigureSetOptions& opt) {
    w.finishSnapshotLoading();  // every stored snapshot, not only the newest
    SessionModel& m = *w.session();
    if (!m.hasRun()) return Error{"no run to export"};
    if (!QDir().mkpath(outDir)) return Error{outDir + ": cannot create the folder"};
    const QString dir = QDir(outDir).absolutePath();
    const std::vector<FigureStep> steps = chooseFigureSteps(m, opt.steps);
    QStringList files;
    QJsonArray index;
    const QString runName = QFileInfo(m.runDir()).fileName();
    const bool followed = m.followLive();
    const int current = m.currentIndex();

    auto figure = [&](ThrottledView* view, const QString& base, const QString& caption, const QString& what, qint64 step) -> Status {
        view->redrawNow();
        QApplication::processEvents();  // let the heatmaps and plots settle into their layouts
        FigureOptions fo = opt.figure;
        fo.caption = caption;
        QJsonArray written;
        for (FigureFormat f : opt.formats) {
            const QString path = dir + "/" + base + "." + figureSuffix(f);
            if (Status st = exportFigure(view, view->figureParts(), path, f, fo); !st) return st;
            files << path;
            written << QFileInfo(path).fileName();
        }
        auto csv = view->exportCsv(dir + "/" + base + ".csv");
        if (!csv) return Error{csv.error()};
        for (const QString& c : csv.value()) {
            files << c;
            written << QFileInfo(c).fileName();
        }
        index << QJsonObject{{"figure", base}, {"shows", what}, {"step", step < 0 ? QJsonValue() : QJsonValue(double(step))},
                             {"files", written}};
        return Status::success();
    };

    // What each kind of view shows, for figures.json.
    auto shows = [&](ThrottledView* v) -> QString {
        if (qobject_cast<MetricsView*>(v)) {
            QStringList labels;
            for (const MetricColumn& c : m.columns())
                if (c.shown) labels << c.label;
            return labels.join(", ") + " against step; plateau start / " + (m.info().detector.rising ? "jump" : "drop") +
                   " onset / end marked";
        }
        if (qobject_cast<AttentionView*>(v)) return "attention of every layer and head (probe-batch mean), and the selected head";
        for (const ViewSpec& spec : m.info().views)
            if (spec.name == v->figureName()) return spec.title + " (" + spec.kind + " view)";
        return v->figureName();
    };
    // Curves once, with the detector's markers (no scrub cursor); attention at every chosen step;
    // the other snapshot views before / after the drop (or the middle and the end).
    m.setFollowLive(true);
    const QList<ThrottledView*> views = w.views();
    for (ThrottledView* v : views)
        if (qobject_cast<MetricsView*>(v))
            if (Status st = figure(v, v->figureName(), runName + ": " + v->figureName(), shows(v), -1); !st)
                return Error{st.error()};
    const auto stepIndex = [&](qint64 step) { return nearestSnapshot(m, double(step)); };
    for (const FigureStep& fs : steps) {
        m.setCurrentIndex(stepIndex(fs.step));
        const QString caption = QString("%1: step %2 (%3)").arg(runName).arg(fs.step).arg(fs.label);
        for (ThrottledView* v : views)
            if (qobject_cast<AttentionView*>(v))
                if (Status st = figure(v, v->figureName() + "_" + fs.label, caption, shows(v), fs.step); !st)
                    return Error{st.error()};
    }
    std::vector<FigureStep> pair;
    for (const FigureStep& fs : steps)
        if (fs.label == "before_drop" || fs.label == "after_drop") pair.push_back(fs);
    if (pair.size() < 2 && !steps.empty()) pair = {steps[steps.size() / 2], steps.back()};
    for (const FigureStep& fs : pair) {
        m.setCurrentIndex(stepIndex(fs.step));
        const QString caption = QString("%1: step %2 (%3)").arg(runName).arg(fs.step).arg(fs.label);
        for (ThrottledView* v : views)
            if (!qobject_cast<MetricsView*>(v) && !qobject_cast<AttentionView*>(v))
                if (Status st = figure(v, v->figureName() + "_" + fs.label, caption, shows(v), fs.step); !st)
                    return Error{st.error()};
    }
    if (followed) m.setFollowLive(true);
    else m.setCurrentIndex(current);

    // Every analysis stored in the run folder, each of its figures (a stale one is marked so).
    QJsonArray analysesIndex;
    {
        AnalysisView* av = w.analyses()->view();
        QDockWidget* dock = w.analysesDock();
        const bool wasVisible = dock->isVisible();
        dock->show();
        // Figures of a set are drawn alike: no table under them, a floating dock of a fixed size.
        const bool wasFloating = dock->isFloating();
        const QRect wasGeometry = dock->geometry();
        dock->setFloating(true);
        dock->resize(1000, 640);
        av->setTableVisible(false);
        for (const AnalysisInfo* a : analysesFor(m.config().experiment)) {
            auto stored = readAnalysisResult(m.runDir(), a->id);
            if (!stored) continue;
            auto prints = checkpointFingerprints(m.runDir(), stored->steps);
            const QString stale = prints ? staleReason(stored.value(), stored->params, prints.value()) : prints.error();
            av->setResult(stored.value(), stale.isEmpty() ? QString() : "STALE: " + stale);
            for (int k = 0; k < av->figureCount(); ++k) {
                av->setFigure(k);
                const AnalysisFigure& fig = av->figures()[std::size_t(k)];
                const QString base = "analysis_" + a->id + "_" + fig.id;
                QString caption = runName + ": " + fig.title;
                if (!stale.isEmpty()) caption += " [stale: " + stale + "]";
                if (Status st = figure(av, base, caption, a->title + ": " + fig.title, -1); !st) return Error{st.error()};
                index.last() = [&] {
                    QJsonObject o = index.last().toObject();
                    o["analysis"] = a->id;
                    o["steps"] = double(stored->steps.size());
                    if (!stale.isEmpty()) o["stale"] = stale;
                    return o;
                }();
            }
            analysesIndex << a->id;
        }
        av->setTableVisible(true);
        dock->setFloating(wasFloating);
        if (wasFloating) dock->setGeometry(wasGeometry);
        if (!wasVisible) dock->hide();
    }

    QJsonObject summary{{"run", m.runDir()}, {"experiment", m.config().experiment}, {"figures", index},
                        {"detection", m.detection().toJson()}, {"analyses", analysesIndex}};
    QSaveFile f(dir + "/figures.json");
    if (!f.open(QIODevice::WriteOnly) || f.write(QJsonDocument(summary).toJson()) < 0 || !f.commit())
        return Error{dir + "/figures.json: cannot write"};
    files << dir + "/figures.json";
    return files;
}

Result<QStringList> exportSweepFigures(const QString& dir, const QString& outDir, const QList<FigureFormat>& formats,
                                       const FigureOptions& options, const SweepFigureChoice& choice) {
    auto data = SweepData::open(dir);
    if (!data) return Error{data.error()};
    const QStringList keys = data.value()->sweep().keys(), columns = data.value()->columnKeys();
    auto checkKey = [&](const QString& option, const QString& key, bool noneAllowed) -> Status {
        if (key.isEmpty() || keys.contains(key) || (noneAllowed && key == "none")) return Status::success();
        return Error{option + ": \"" + key + "\" is not a swept key (" + keys.join(", ") + (noneAllowed ? ", none" : "") + ")"};
    };
    for (const Status& st : {checkKey("--colour-by", choice.colourBy, false), checkKey("--phase (x)", choice.phaseX, false),
                             checkKey("--phase (y)", choice.phaseY, true)})
        if (!st) return Error{st.error()};
    if (!choice.column.isEmpty() && !columns.contains(choice.column))
        return Error{"--column: \"" + choice.column + "\" is not a metrics column of the sweep's runs (" + columns.join(", ") + ")"};
    const std::map<QString, SweepView::Align> aligns{{"step", SweepView::Align::Step}, {"time", SweepView::Align::Time},
                                                     {"onset", SweepView::Align::Onset}};
    const std::map<QString, SweepView::Cell> cells{{"onset", SweepView::Cell::MedianOnset}, {"dropped", SweepView::Cell::ShareDropped},
                                                   {"final", SweepView::Cell::MedianFinal}};
    if (!choice.align.isEmpty() && !aligns.count(choice.align)) return Error{"--align: \"" + choice.align + "\" is not step, time or onset"};
    if (!choice.cell.isEmpty() && !cells.count(choice.cell)) return Error{"--cell: \"" + choice.cell + "\" is not onset, dropped or final"};
    if (choice.smoothing >= 1.0) return Error{"--smoothing: must be in [0, 1)"};
    if (!QDir().mkpath(outDir)) return Error{outDir + ": cannot create the folder"};
    SweepView v(std::move(data.value()));
    v.resize(1400, 900);
    if (!choice.column.isEmpty()) v.setColumn(choice.column);
    if (!choice.colourBy.isEmpty()) v.setColourBy(choice.colourBy);
    if (!choice.align.isEmpty()) v.setAlign(aligns.at(choice.align));
    if (choice.smoothing >= 0) v.setSmoothing(choice.smoothing);
    if (!choice.phaseX.isEmpty() || !choice.phaseY.isEmpty() || !choice.cell.isEmpty()) {
        const QString x = choice.phaseX.isEmpty() ? keys.value(0) : choice.phaseX;
        const QString y = choice.phaseY == "none" ? QString() : choice.phaseY.isEmpty() ? keys.value(1) : choice.phaseY;
        v.setPhase(x, y, choice.cell.isEmpty() ? SweepView::Cell::MedianOnset : cells.at(choice.cell));
    }
    v.show();
    QApplication::processEvents();
    return exportSweepView(v, QDir(outDir).filePath("sweep"), formats, options);
}

Result<QStringList> exportSweepView(SweepView& v, const QString& stem, const QList<FigureFormat>& formats,
                                    const FigureOptions& options) {
    QStringList files;
    for (FigureFormat f : formats)
        for (const auto& [part, name] : {std::pair<QWidget*, QString>{v.overlay(), "_overlay."}, {v.phasePlot(), "_phase."}}) {
            const QString path = stem + name + figureSuffix(f);
            if (Status st = exportFigure(&v, QList<QWidget*>{part}, path, f, options); !st) return Error{st.error()};
            files << path;
        }
    auto csv = v.exportCsv(stem + "_points.csv");
    if (!csv) return Error{csv.error()};
    return files + csv.value();
}

int exportCommand(const QStringList& args) {
    auto fail = [](const QString& msg) {
        std::fprintf(stderr, "plateau-cli export: %s\n", msg.toLocal8Bit().constData());
        return 2;
    };
    QString run, out, steps, formats = "pdf,png", size, dpi, phase, smoothing;
    SweepFigureChoice sweepChoice;
    bool sweepOption = false;
    for (int i = 0; i < args.size(); ++i) {
        const QString a = args[i];
        auto value = [&](QString* into) {
            if (i + 1 >= args.size()) return false;
            *into = args[++i];
            return true;
        };
        if (a == "--out") { if (!value(&out)) return fail("--out needs a folder"); }
        else if (a == "--steps") { if (!value(&steps)) return fail("--steps needs a list like 1000,8000"); }
        else if (a == "--format") { if (!value(&formats)) return fail("--format needs a list like pdf,png,svg"); }
        else if (a == "--size") { if (!value(&size)) return fail("--size needs WIDTHxHEIGHT"); }
        else if (a == "--dpi") { if (!value(&dpi)) return fail("--dpi needs a number"); }
        else if (a == "--colour-by" || a == "--color-by") { sweepOption = true; if (!value(&sweepChoice.colourBy)) return fail(a + " needs a swept key"); }
        else if (a == "--align") { sweepOption = true; if (!value(&sweepChoice.align)) return fail("--align needs step, time or onset"); }
        else if (a == "--phase") { sweepOption = true; if (!value(&phase)) return fail("--phase needs XKEY[,YKEY|none]"); }
        else if (a == "--cell") { sweepOption = true; if (!value(&sweepChoice.cell)) return fail("--cell needs onset, dropped or final"); }
        else if (a == "--column") { sweepOption = true; if (!value(&sweepChoice.column)) return fail("--column needs a metrics column"); }
        else if (a == "--smoothing") { sweepOption = true; if (!value(&smoothing)) return fail("--smoothing needs a number in [0, 1)"); }
        else if (a.startsWith("--")) return fail("unknown option " + a);
        else if (run.isEmpty()) run = a;
        else return fail("one run folder only (got " + run + " and " + a + ")");
    }
    if (run.isEmpty() || out.isEmpty()) return fail("usage: plateau-cli export RUN_DIR|SWEEP_DIR --out DIR [--steps a,b,...] [--format pdf,png,svg] [--size WxH] [--dpi N]\n"
                    "         sweeps: [--column C] [--colour-by KEY] [--align step|time|onset] [--smoothing B] [--phase X[,Y|none]] [--cell onset|dropped|final]");
    FigureSetOptions opt;
    auto fmts = parseFigureFormats(formats);
    if (!fmts) return fail(fmts.error());
    opt.formats = fmts.value();
    for (const QString& s : steps.split(',', Qt::SkipEmptyParts)) {
        bool ok = false;
        const qint64 v = s.trimmed().toLongLong(&ok);
        if (!ok || v < 0) return fail("--steps: '" + s + "' is not a step number");
        opt.steps.push_back(v);
    }
    if (!size.isEmpty()) {
        const QStringList wh = size.toLower().split('x');
        bool okW = false, okH = false;
        const int wv = wh.size() == 2 ? wh[0].toInt(&okW) : 0, hv = wh.size() == 2 ? wh[1].toInt(&okH) : 0;
        if (!okW || !okH || wv < 100 || hv < 100 || wv > 20000 || hv > 20000)
            return fail("--size: '" + size + "' is not WIDTHxHEIGHT with each between 100 and 20000");
        opt.figure.size = QSize(wv, hv);
    }
    if (!dpi.isEmpty()) {
        bool ok = false;
        opt.figure.dpi = dpi.toDouble(&ok);
        if (!ok || opt.figure.dpi < 30 || opt.figure.dpi > 1200) return fail("--dpi: '" + dpi + "' is not a number between 30 and 1200");
    }
    if (!smoothing.isEmpty()) {
        bool ok = false;
        sweepChoice.smoothing = smoothing.toDouble(&ok);
        if (!ok || !(sweepChoice.smoothing >= 0) || sweepChoice.smoothing >= 1) return fail("--smoothing: '" + smoothing + "' is not a number in [0, 1)");
    }
    if (!phase.isEmpty()) {
        const QStringList xy = phase.split(',');
        if (xy.size() > 2 || xy[0].trimmed().isEmpty()) return fail("--phase: '" + phase + "' is not XKEY[,YKEY|none]");
        sweepChoice.phaseX = xy[0].trimmed();
        sweepChoice.phaseY = xy.size() == 2 ? xy[1].trimmed() : QString("none");
    }
    if (isSweepDir(run)) {
        if (!opt.steps.empty()) return fail("--steps: a sweep's figures are not per step");
        auto files = exportSweepFigures(run, out, opt.formats, opt.figure, sweepChoice);
        if (!files) return fail(files.error());
        for (const QString& f : files.value()) std::printf("%s\n", f.toLocal8Bit().constData());
        return 0;
    }
    if (sweepOption) return fail("--colour-by, --align, --phase, --cell, --column and --smoothing are for a sweep folder; " + run + " is a run");
    MainWindow w;
    w.resize(1500, 950);
    w.show();
    QApplication::processEvents();
    if (!w.openRun(run)) return fail(w.lastMessage());
    if (!w.lastMessage().isEmpty()) std::fprintf(stderr, "plateau-cli export: warning: %s\n", w.lastMessage().toLocal8Bit().constData());
    QApplication::processEvents();
    auto files = exportFigureSet(w, out, opt);
    if (!files) return fail(files.error());
    for (const QString& f : files.value()) std::printf("%s\n", f.toLocal8Bit().constData());
    return 0;
}

}  // namespace plateau
