// The GUI driven as a user would (offscreen): start a run, watch snapshots arrive in all four
// views, pause / single-step / resume / stop, pick a layer and head, draw a mask, close mid-run;
// the new-run dialog's inline validation; pixel-exact heatmaps.
#include "analyses_dock.h"
#include "analysis/analysis_store.h"
#include "analysis/drop_detector.h"
#include "analysis_view.h"
#include "test_files.h"
#include "attention_view.h"
#include "colormap.h"
#include "curve_decimator.h"
#include "figure_set.h"
#include "sweep_fixture.h"
#include "sweep_view.h"
#include "sweep/sweep_data.h"
#include "heatmap_widget.h"
#include "main_window.h"
#include "matrix_view.h"
#include "metrics_view.h"
#include "new_run_dialog.h"
#include "plot_view.h"
#include "redraw_pacer.h"
#include "run/checkpoint.h"
#include "run/run_store.h"
#include "runtime_env.h"
#include "session_model.h"
#include "smoke_config.h"
#include "experiment_info.h"
#include "figure_export.h"
#include "gui_test_main.h"
#include "precision.h"
#include "spectra_view.h"
#include "training_controller.h"

#include <QApplication>
#include <QDateTime>
#include <QFile>
#include <QDir>
#include <QDockWidget>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>
#include <qcustomplot.h>

#include <cmath>
#include <random>

using namespace plateau;

namespace {
RunConfig tinyRun(qint64 steps) {
    RunConfig c = loadPreset("tiny").value();
    c.train.steps = steps;
    c.train.snapshotEvery = 10;
    c.train.probeSize = 16;
    c.train.checkpointEvery = 0;
    if (!c.set("model.layers", 2) || !c.set("model.heads", 4)) qFatal("tinyRun: bad fields");
    return c;
}
qint64 lastStep(const MainWindow& w) {
    const auto& m = w.session()->metrics();
    return m.empty() ? 0 : m.back().step;
}
}  // namespace

class TestGui : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }  // QSettings away from the user's

    void liveRunDrivesAllViews() {
        QTemporaryDir tmp;
        MainWindow w;
        w.resize(1400, 900);
        w.show();
        const RunConfig cfg = tinyRun(100000);
        w.startRun(cfg, tmp.filePath("run"));
        QTRY_VERIFY_WITH_TIMEOUT(w.session()->snapshots().size() >= 4, 60000);
        QVERIFY(w.controller()->isRunning());
        QCOMPARE(w.docks().size(), 4);
        for (QDockWidget* d : w.docks()) QVERIFY(d->isVisible());

        // Pause: the step count stops moving.
        w.pauseAction()->trigger();
        QTRY_VERIFY(w.controller()->isPaused());
        // The step in flight lands (on a loaded machine it can take longer than a step): wait
        // until the count holds still for 300 ms.
        qint64 pausedAt = lastStep(w);
        for (int i = 0; i < 40; ++i) {
            QTest::qWait(300);
            const qint64 now = lastStep(w);
            if (now == pausedAt) break;
            pausedAt = now;
        }
        QTest::qWait(400);
        QCOMPARE(lastStep(w), pausedAt);
        QCOMPARE(w.pauseAction()->text(), QString("Resume"));

        // One step while paused, and a snapshot of exactly that step.
        w.stepAction()->trigger();
        QTRY_COMPARE(lastStep(w), pausedAt + 1);
        QTRY_COMPARE(w.session()->snapshots().back()->step, pausedAt + 1);
        const SnapshotPtr s = w.session()->current();
        QCOMPARE(s->step, pausedAt + 1);
        const int n = cfg.task.i("n"), T = n * n;

        // Metrics view: every metric row drawn, markers follow the detection.
        QVERIFY(w.metricsView());
        QTRY_COMPARE(w.metricsView()->pointCount("loss"), int(w.session()->metrics().size()));
        QVERIFY(w.metricsView()->smoothed("loss").back() > 0);
        QVERIFY(w.metricsView()->columnShown("loss_mask"));
        QVERIFY(!w.metricsView()->columnShown("mean_abs_mask_out"));  // the experiment hides it by default
        // Status bar: the experiment's headline columns.
        QTRY_VERIFY(w.statusText().contains("L_mask"));

        // Attention: the grid shows the current snapshot, shared scale, values as in the snapshot.
        AttentionView* att = w.attentionView();
        QTRY_COMPARE(att->shownStep(), s->step);
        QCOMPARE(att->cell(1, 3)->rows(), T);
        QCOMPARE(att->cell(1, 3)->cols(), T);
        QCOMPARE(att->cell(1, 3)->value(4, 7), s->attn(1, 3, 4, 7));
        double rowSum = 0;
        for (int k = 0; k < T; ++k) rowSum += att->cell(0, 2)->value(5, k);
        QVERIFY(std::abs(rowSum - 1.0) < 1e-4);
        // Change layer / head: the large view follows.
        att->selectHead(1, 2);
        QTRY_VERIFY(att->focusView()->title().contains("layer 1, head 2"));
        QCOMPARE(att->focusView()->value(3, 3), s->attn(1, 2, 3, 3));
        // A click on a grid cell selects its head.
        QTest::mouseClick(att->cell(0, 1), Qt::LeftButton, {}, att->cell(0, 1)->cellRect(1, 1).center());
        QCOMPARE(att->selectedLayer(), 0);
        QCOMPARE(att->selectedHead(), 1);

        // Predictions: n x n panels (input, prediction, truth, |error|) for the chosen probe matrix.
        MatrixView* pred = w.matrixView();
        QCOMPARE(pred->panelCount(), 4);
        pred->setProbeIndex(3);
        QTRY_COMPARE(pred->shownStep(), s->step);
        const float* prediction = s->f32("matrices.prediction");
        const float* truth = s->f32("matrices.truth");
        QTRY_COMPARE(pred->panel(2)->value(1, 2), truth[3 * T + 1 * n + 2]);
        QCOMPARE(pred->panel(1)->rows(), n);
        QCOMPARE(pred->panel(1)->value(0, 1), prediction[3 * T + 1]);
        QCOMPARE(pred->panel(3)->value(2, 2), std::abs(prediction[3 * T + 2 * n + 2] - truth[3 * T + 2 * n + 2]));

        // Spectra: one curve per head with d_head values; another layer.
        SpectraView* spec = w.spectraView();
        spec->setLayer(1);
        QTRY_COMPARE(spec->shownStep(), s->step);
        const int H = cfg.model.i("heads"), dh = cfg.model.i("width") / H;
        QCOMPARE(spec->qkPlot()->graphCount(), H);
        QCOMPARE(spec->qkPlot()->graph(2)->dataCount(), dh);
        QVERIFY(std::abs(spec->ovPlot()->graph(2)->data()->at(0)->value - double(s->f32("spectra.ov")[(1 * H + 2) * dh])) < 1e-6);

        // Draw a mask while paused: the worker re-probes at once with exactly that mask.
        HeatmapWidget* editor = att->maskEditor();
        QCOMPARE(editor->rows(), n);
        QTest::mouseClick(editor, Qt::LeftButton, {}, editor->cellRect(0, 1).center());
        QTest::mouseClick(editor, Qt::LeftButton, {}, editor->cellRect(2, 3).center());
        QCOMPARE(att->maskSource(), MaskSource::Custom);
        QCOMPARE(w.controller()->probeSpec().source, MaskSource::Custom);
        QTRY_VERIFY_WITH_TIMEOUT(w.session()->current()->probe.source == MaskSource::Custom &&
                                     w.session()->current()->probe.customMask == att->drawnMask(), 10000);
        const SnapshotPtr drawn = w.session()->current();
        QCOMPARE(drawn->step, pausedAt + 1);  // still paused: same step, re-probed
        const std::uint8_t* masked = drawn->array("matrices.masked")->u8.data();
        for (int b = 0; b < drawn->probeCount; ++b)
            for (int t = 0; t < T; ++t) QCOMPARE(int(masked[b * T + t]), (t == 1 || t == 2 * n + 3) ? 1 : 0);
        QTRY_COMPARE(pred->panel(0)->marked()[1], std::uint8_t(1));

        // Resume: steps move again; then stop leaves a readable run folder.
        w.pauseAction()->trigger();
        QTRY_VERIFY(!w.controller()->isPaused());
        QTRY_VERIFY(lastStep(w) > pausedAt + 20);
        w.stopAction()->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(!w.controller()->isRunning(), 20000);
        QVERIFY(w.statusText().startsWith("stopped at step"));
        auto store = RunStore::open(tmp.filePath("run"), true);
        QVERIFY2(store, qPrintable(store ? QString() : store.error()));
        auto rows = store.value()->readMetrics();
        QVERIFY(rows);
        QCOMPARE(rows.value().back().step, lastStep(w));
        QVERIFY(!QDir(tmp.filePath("run/checkpoints")).entryList({"*.pt"}).isEmpty());
    }

    void analysesDockRunsShowsAndExports() {
        // The fixture run (step 40): head ablation from the dock, off the GUI thread, with its grid
        // drawn; the result stored, shown again on reopening, stale once the checkpoint changes;
        // a bad parameter named; a cancelled run says so; export of the figure and the tables.
        QTemporaryDir tmp;
        const QString dir = tmp.filePath("run");
        test::copyDir(PLATEAU_SOURCE_DIR "/tests/fixtures/v1_run", dir);
        MainWindow w;
        w.resize(1400, 900);
        w.show();
        QVERIFY(w.openRun(dir));
        AnalysesDock* d = w.analyses();
        QVERIFY(d->isEnabled());
        QVERIFY(d->selectAnalysis("head_ablation"));
        QVERIFY(d->setParam("matrices", "24"));
        QVERIFY(d->setParam("kind", "half"));
        QVERIFY(!d->run());
        QVERIFY2(d->message().contains("head_ablation.kind"), qPrintable(d->message()));
        QVERIFY(d->setParam("kind", "mean"));
        d->setSteps("41");
        QVERIFY(!d->run());
        QVERIFY2(d->message().contains("checkpoints") && d->message().contains("(40)"), qPrintable(d->message()));
        d->setSteps("all");
        QVERIFY(d->run());
        QVERIFY(d->isRunning());
        QTRY_VERIFY_WITH_TIMEOUT(!d->isRunning(), 60000);
        QVERIFY2(d->message().contains("done"), qPrintable(d->message()));
        QVERIFY(QFileInfo::exists(dir + "/analyses/head_ablation/grid.csv"));
        AnalysisView* v = d->view();
        QVERIFY(v->result());
        v->setFigure(0);  // the layer x head grid
        v->redrawNow();
        QCOMPARE(v->plottedPoints(), 2 * 2);
        v->setFigure(1);  // over training: one point per head at the one step
        v->redrawNow();
        QCOMPARE(v->plottedPoints(), 4);
        // Export: figure and every table.
        const Status pdf = w.exportView(v, tmp.filePath("abl.pdf"), {FigureFormat::Pdf}, false, {});
        QVERIFY2(pdf, qPrintable(pdf.error()));
        QVERIFY(QFileInfo(tmp.filePath("abl.pdf")).size() > 1000);
        QVERIFY(w.exportView(v, tmp.filePath("abl.csv"), {}, true, {}));
        QFile csv(tmp.filePath("abl.csv"));  // the shown figure's table (the grid; no set of heads was given)
        QVERIFY(csv.open(QIODevice::ReadOnly));
        QVERIFY(csv.readLine().contains("delta_loss"));
        // Reopened: the stored result, current; touched checkpoint: stale.
        MainWindow w2;
        QVERIFY(w2.openRun(dir));
        QVERIFY(w2.analyses()->selectAnalysis("head_ablation"));
        QVERIFY(w2.analyses()->view()->result());
        QVERIFY2(w2.analyses()->message().isEmpty(), qPrintable(w2.analyses()->message()));
        QFile ck(checkpointPathIn(dir, 40));
        QVERIFY(ck.open(QIODevice::ReadWrite | QIODevice::Append));
        ck.setFileTime(QDateTime::currentDateTime().addSecs(5), QFileDevice::FileModificationTime);
        ck.close();
        MainWindow w3;
        QVERIFY(w3.openRun(dir));
        QVERIFY(w3.analyses()->selectAnalysis("head_ablation"));
        QVERIFY2(w3.analyses()->message().contains("stale"), qPrintable(w3.analyses()->message()));
        // Cancel: a long nuclear-norm sweep stopped at once.
        QVERIFY(w3.analyses()->selectAnalysis("nuclear_norm"));
        QVERIFY(w3.analyses()->setParam("matrices", "60000"));
        QVERIFY(w3.analyses()->run());
        QTest::qWait(200);
        w3.analyses()->cancel();
        QTRY_VERIFY_WITH_TIMEOUT(!w3.analyses()->isRunning(), 30000);
        QVERIFY2(w3.analyses()->message().contains("cancelled"), qPrintable(w3.analyses()->message()));
    }

    void everyExperimentShowsItsViews_data() {
        QTest::addColumn<QString>("id");
        for (const ExperimentInfo* e : experimentRegistry()) QTest::newRow(qPrintable(e->id)) << e->id;
    }
    void everyExperimentShowsItsViews() {
        // The window builds the docks the experiment lists, each view draws its snapshots and
        // metrics and exports a figure that is not blank and the CSV behind it.
        QFETCH(QString, id);
        const ExperimentInfo& e = *findExperiment(id);
        QTemporaryDir tmp;
        MainWindow w;
        w.resize(1400, 900);
        w.show();
        RunConfig c = smokeConfig(e, 40);
        c.train.snapshotEvery = 5;
        w.startRun(c, tmp.filePath("run"));
        QTRY_VERIFY_WITH_TIMEOUT(!w.controller()->isRunning() && w.session()->snapshots().size() >= 3, 120000);
        QCOMPARE(w.viewsExperiment(), id);
        QCOMPARE(w.docks().size(), int(e.views.size()));
        QCOMPARE(int(w.views().size()), int(e.views.size()));
        QCOMPARE(w.session()->columns().size(), e.columnsOf(c).size());
        QVERIFY2(w.lastMessage().isEmpty(), qPrintable(w.lastMessage()));
        for (int i = 0; i < int(e.views.size()); ++i) {
            QCOMPARE(w.docks()[i]->windowTitle(), e.views[std::size_t(i)].title);
            ThrottledView* v = w.views()[i];
            QCOMPARE(v->figureName(), e.views[std::size_t(i)].name);
            v->redrawNow();
            QVERIFY(!v->figureParts().isEmpty());
            const QString png = tmp.filePath(v->figureName() + ".png");
            FigureOptions o;
            o.size = QSize(800, 500);
            o.dpi = 96;
            Status st = w.exportView(v, png, {FigureFormat::Png}, false, o);
            QVERIFY2(st.ok(), qPrintable(st.error()));
            QImage img(png);
            QSet<QRgb> colours;
            for (int y = 0; y < img.height(); y += 5)
                for (int x = 0; x < img.width(); x += 5) colours.insert(img.pixel(x, y));
            QVERIFY2(colours.size() > 12, qPrintable(id + "/" + v->figureName() + ": a blank figure"));
            Status csv = w.exportView(v, tmp.filePath(v->figureName() + ".csv"), {}, true, {});
            QVERIFY2(csv.ok(), qPrintable(csv.error()));
        }
    }

    void closingMidTrainingLeavesAReadableRun() {
        QTemporaryDir tmp;
        qint64 steps = 0;
        {
            MainWindow w;
            w.show();
            w.startRun(tinyRun(100000), tmp.filePath("run"));
            QTRY_VERIFY_WITH_TIMEOUT(lastStep(w) > 30, 60000);
            w.close();  // stops the worker, which writes metrics and a final checkpoint
            QVERIFY(!w.controller()->isRunning());
            steps = lastStep(w);
        }
        auto store = RunStore::open(tmp.filePath("run"), true);
        QVERIFY(store);
        auto rows = store.value()->readMetrics();
        QVERIFY(rows);
        QVERIFY(rows.value().back().step >= steps);
        const QStringList cps = QDir(tmp.filePath("run/checkpoints")).entryList({"*.pt"});
        QCOMPARE(cps.size(), 1);
        auto info = readCheckpointInfo(tmp.filePath("run/checkpoints/" + cps.first()));
        QVERIFY(info);
        QCOMPARE(info.value().step, rows.value().back().step);
    }

    void layoutPersistsAndResets() {
        {
            MainWindow w;
            w.show();
            QDockWidget* spectra = w.docks()[3];
            spectra->close();
            QVERIFY(!spectra->isVisible());
            w.close();
        }
        MainWindow w2;
        w2.show();
        QVERIFY(!w2.docks()[3]->isVisible());  // restored from QSettings
        w2.resetLayout();
        for (QDockWidget* d : w2.docks()) QVERIFY(d->isVisible());
        w2.close();
    }

    void newRunDialogValidatesInline() {
        QTemporaryDir tmp;
        NewRunDialog d(tmp.path());
        d.setPreset("tiny");
        d.setOutDir(tmp.filePath("new-run"));
        QVERIFY2(d.isValid(), qPrintable(d.overallError()));
        d.setField("task.n", "abc");
        QVERIFY(!d.isValid());
        QVERIFY(d.errorFor("task.n").contains("task.n"));
        d.setField("task.n", "4");
        QVERIFY(d.isValid());
        d.setField("model.heads", "5");  // width 32 is not divisible by 5
        QVERIFY(!d.isValid());
        QVERIFY(d.overallError().contains("model.width"));
        d.setField("model.heads", "4");
        d.setField("optim.lr", "-1");
        QVERIFY(d.errorFor("optim.lr").contains("optim.lr"));
        d.setField("optim.lr", "0.002");
        QVERIFY(d.isValid());
        QCOMPARE(d.config().optim.lr, 0.002);
        QDir(tmp.path()).mkpath("full");
        QFile f(tmp.filePath("full/x"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        d.setOutDir(tmp.filePath("full"));
        QVERIFY(!d.isValid());
        QVERIFY(d.errorFor("out").contains("not empty"));
        d.setOutDir(tmp.filePath("fresh"));
        QVERIFY(d.isValid());
        QCOMPARE(d.config().task.i("n"), 4);
        QCOMPARE(d.config().preset, QString("tiny"));
        QCOMPARE(d.experiment(), QString("matrix_completion"));
        QVERIFY(d.presets().contains("quick") && d.presets().contains("paper"));
        QVERIFY(d.editedKeys().contains("task.p_mask"));
        // Component-wise training from the dialog: empty = a fresh model; a source is checked.
        QVERIFY(d.editedKeys().contains("train.from"));
        QVERIFY(d.config().train.from.isEmpty());
        d.setField("train.from", tmp.filePath("nowhere"));
        QVERIFY(!d.isValid());
        QVERIFY(d.errorFor("train.from").contains("train.from"));
        const QString src = tmp.filePath("src");
        test::copyDir(PLATEAU_SOURCE_DIR "/tests/fixtures/v1_run", src);
        d.setField("train.from", src + ":40");
        d.setField("train.train_only", "positions");
        d.setField("train.reinit", "true");
        QVERIFY2(d.isValid(), qPrintable(d.errorFor("train.from") + d.overallError()));
        QCOMPARE(d.config().train.trainOnly, QString("positions"));
        QVERIFY(d.config().train.reinit);
        d.setField("train.train_only", "");
        QVERIFY(!d.isValid());  // reinit of nothing
        QVERIFY(d.overallError().contains("train.reinit"));
        d.setField("train.reinit", "false");
        // Precision: the preset's fp32 shown; a bad value and (where unsupported) bf16 refused by name.
        QCOMPARE(d.config().train.precision, QString("fp32"));
        d.setField("train.precision", "half");
        QVERIFY(!d.isValid() && d.errorFor("train.precision").contains("train.precision"));
        d.setField("train.precision", "bf16");
        const bool bf16 = bf16Support().native || bf16Support().emulated;
        QCOMPARE(d.isValid(), bf16);
        if (!bf16) QVERIFY(d.errorFor("train.precision").contains("bf16 needs"));
        d.setField("train.precision", "auto");
        QVERIFY2(d.isValid(), qPrintable(d.errorFor("train.precision") + d.overallError()));
    }

    void heatmapIsPixelExact() {
        HeatmapWidget w;
        std::vector<float> v(25);
        for (int i = 0; i < 25; ++i) v[std::size_t(i)] = float(i) / 24.f;
        w.setData(5, 5, v, ColorMapKind::Sequential, 0, 1);
        w.resize(104, 104);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        const QImage img = w.grab().toImage();
        const QRect c00 = w.cellRect(0, 0), c44 = w.cellRect(4, 4);
        QCOMPARE(c00.width(), 20);  // floor(100 / 5): whole pixels per cell
        QCOMPARE(c00.size(), c44.size());
        const qreal dpr = img.devicePixelRatio();
        for (int r = 0; r < 5; ++r)
            for (int c = 0; c < 5; ++c) {
                const QRect cr = w.cellRect(r, c);
                const QRgb want = mapColor(ColorMapKind::Sequential, v[std::size_t(r * 5 + c)], 0, 1);
                // Every pixel of a cell has the cell's colour (no interpolation across cells).
                for (QPoint p : {cr.topLeft(), cr.bottomRight(), cr.center()})
                    QCOMPARE(img.pixel(int(p.x() * dpr), int(p.y() * dpr)) & 0xFFFFFF, want & 0xFFFFFF);
            }
    }

    void redrawPacerDrawsWithBatches() {
        // Live data draws on the next turn once the interval has passed; data that comes too soon
        // waits (for a later batch, or the fallback); the user's own action draws at once.
        int draws = 0;
        RedrawPacer pacer(400, [&] { ++draws; }, nullptr);
        pacer.request();
        QCOMPARE(draws, 0);  // not inside the caller: on the next turn of the event loop
        QTRY_COMPARE_WITH_TIMEOUT(draws, 1, 1000);
        pacer.request();  // a batch right after a draw: too soon
        pacer.request();
        QTest::qWait(60);
        QCOMPARE(draws, 1);
        QVERIFY(pacer.pending());
        // No later batch comes: the fallback draws it once, a little after the interval.
        QTRY_COMPARE_WITH_TIMEOUT(draws, 2, 3000);
        QTest::qWait(50);
        QCOMPARE(draws, 2);
        QVERIFY(!pacer.pending());
        pacer.soon();
        pacer.soon();
        QTRY_COMPARE_WITH_TIMEOUT(draws, 3, 1000);
        QTest::qWait(50);
        QCOMPARE(draws, 3);
    }

    void sparseColumnsAreSmoothedOverSteps() {
        // A column written every 50 steps is smoothed over as many steps as one written every step
        // (beta per step, not per point): after a fall both smoothed curves have arrived together.
        SessionModel m;
        MetricsView v(&m, "metrics", QJsonObject{});
        m.reset(tinyRun(1000), "/tmp/x");
        v.setSmoothing(0.9);
        const int loss = m.columnIndex("loss"), eval = m.columnIndex("eval_loss");
        std::vector<StepMetrics> rows;
        for (qint64 step = 1; step <= 1000; ++step) {
            StepMetrics r;
            r.step = step;
            r.values.assign(m.columns().size(), kNoValue);
            const double v = step <= 500 ? 1.0 : 0.01;
            r.values[std::size_t(loss)] = v;
            if (step % 50 == 0) r.values[std::size_t(eval)] = v;
            rows.push_back(r);
        }
        m.appendMetrics(rows);
        const auto dense = v.smoothed("loss"), sparse = v.smoothed("eval_loss");
        QCOMPARE(int(sparse.size()), 20);
        QVERIFY(std::abs(std::log10(dense.back()) + 2) < 0.01);
        QVERIFY2(std::abs(std::log10(sparse.back()) + 2) < 0.01, qPrintable(QString::number(sparse.back())));
        // 25 steps after the fall (the dense curve) against the first eval point after it, 50 steps on:
        // the sparse curve is no further behind than the dense one at the same step.
        QVERIFY(sparse[10] <= dense[549] * 1.001);
    }

    void accuracyPlotsSpanZeroToOne() {
        // Modular arithmetic's accuracies near chance (0.08-0.14): their plot still shows 0 to 1
        // (a rise reads at its true size), while the loss's plot follows its data.
        RunConfig c = loadPreset("icl-cpu").value();
        SessionModel m;
        MetricsView v(&m, "metrics", QJsonObject{});
        m.reset(c, "/tmp/x");
        std::vector<StepMetrics> rows;
        for (qint64 step = 1; step <= 400; ++step) {
            StepMetrics r;
            r.step = step;
            r.values.assign(m.columns().size(), kNoValue);
            r.values[std::size_t(m.columnIndex("loss"))] = 2.3 + 0.01 * std::sin(double(step));
            if (step % 50 == 0)
                for (const char* k : {"acc_id_train", "acc_ood_test", "acc_last_ood_test"})
                    r.values[std::size_t(m.columnIndex(k))] = 0.08 + 0.06 * double(step % 150) / 150.0;
            rows.push_back(r);
        }
        m.appendMetrics(rows);
        v.redrawNow();
        QCustomPlot* acc = v.plotOfUnit("accuracy");
        QCustomPlot* nats = v.plotOfUnit("nats");
        QVERIFY(acc && nats);
        QVERIFY2(acc->yAxis->range().lower <= 0 && acc->yAxis->range().upper >= 1,
                 qPrintable(QString("%1 %2").arg(acc->yAxis->range().lower).arg(acc->yAxis->range().upper)));
        QVERIFY2(nats->yAxis->range().upper < 4, qPrintable(QString::number(nats->yAxis->range().upper)));
        // The loss's log axis over less than a decade labels each tick differently.
        auto labels = [](QCustomPlot* p) {
            QVector<double> ticks;
            QVector<QString> text;
            p->yAxis->ticker()->generate(p->yAxis->range(), p->locale(), 'e', p->yAxis->numberPrecision(), ticks, nullptr, &text);
            return QStringList(text.begin(), text.end());
        };
        const QStringList narrow = labels(nats);
        QVERIFY2(narrow.size() >= 2 && QSet<QString>(narrow.begin(), narrow.end()).size() == narrow.size(), qPrintable(narrow.join(' ')));
        nats->yAxis->setRange(1e-4, 1);
        QVERIFY2(labels(nats).contains("1e-04") || labels(nats).contains("1e-4"), qPrintable(labels(nats).join(' ')));
        // A matrices view's series with "series_range" [0, 1] (the correctness maps' accuracies).
        for (qint64 step : {100, 200}) {
            auto snap = std::make_shared<Snapshot>();
            snap->step = step;
            snap->scalars["map_acc_id"] = 0.1 + 0.0001 * double(step);
            m.appendSnapshot(snap);
        }
        const QJsonObject series{{"scalar", "map_acc_id"}, {"label", "map"}};
        MatrixView fixed(&m, "maps", QJsonObject{{"series", QJsonArray{series}}, {"series_log", false}, {"series_range", QJsonArray{0, 1}}});
        MatrixView free(&m, "maps", QJsonObject{{"series", QJsonArray{series}}, {"series_log", false}});
        fixed.redrawNow();
        free.redrawNow();
        QVERIFY(fixed.scorePlot()->yAxis->range().lower <= 0 && fixed.scorePlot()->yAxis->range().upper >= 1);
        QVERIFY2(free.scorePlot()->yAxis->range().upper < 0.5, qPrintable(QString::number(free.scorePlot()->yAxis->range().upper)));
    }

    void curveDecimatorKeepsEveryColumnsExtremes() {
        // A noisy curve with a flat run, a spike and repeated x values, decimated at several
        // widths, zooms and a log-like pixel map: each pixel column's lowest and highest point
        // (brute force) are in the output in x order, nothing from outside the range but the one
        // neighbour on either side, and the range queries agree with brute force.
        std::mt19937 rng(11);
        std::normal_distribution<double> noise(0, 1);
        CurveDecimator c;
        std::vector<double> xs, ys;
        for (int i = 0; i < 70000; ++i) {
            const double x = i < 500 ? 0.0 : double(i / 2);  // repeated x: 0 (500 times), then pairs
            const double y = i == 40000 ? 50.0 : (i > 20000 && i < 21000 ? 1.0 : noise(rng));
            QVERIFY(c.append(x, y));
            xs.push_back(x);
            ys.push_back(y);
        }
        QVERIFY(!c.append(-1, 0));  // x stepping back is refused
        QCOMPARE(c.size(), xs.size());
        double lo = 0, hi = 0;
        QVERIFY(c.valueRange(&lo, &hi));
        QCOMPARE(hi, 50.0);
        QCOMPARE(lo, *std::min_element(ys.begin(), ys.end()));
        for (auto [a, b] : {std::pair{0.0, 0.0}, std::pair{100.0, 30000.0}, std::pair{19999.5, 20001.0}, std::pair{-5.0, 1e9}}) {
            double blo = 1e300, bhi = -1e300;
            for (std::size_t i = 0; i < xs.size(); ++i)
                if (xs[i] >= a && xs[i] <= b) blo = std::min(blo, ys[i]), bhi = std::max(bhi, ys[i]);
            QVERIFY(c.valueRange(a, b, &lo, &hi));
            QCOMPARE(lo, blo);
            QCOMPARE(hi, bhi);
        }
        QVERIFY(!c.valueRange(40000, 50000, &lo, &hi));  // no point there
        struct Case {
            int left, right;
            double x0, x1;
            bool log;
        };
        for (const Case& k : {Case{0, 1500, 0, 35000, false}, Case{40, 700, 5000, 6000, false}, Case{0, 300, 1, 35000, true},
                              Case{10, 1000, 17000.25, 17100.75, false}}) {
            auto toX = [&](double p) {
                const double f = (p - k.left) / double(k.right - k.left);
                return k.log ? k.x0 * std::pow(k.x1 / k.x0, f) : k.x0 + f * (k.x1 - k.x0);
            };
            std::vector<CurvePoint> out;
            c.decimate(k.left, k.right, toX, &out);
            QVERIFY(!out.empty());
            for (std::size_t i = 1; i < out.size(); ++i) QVERIFY(out[i].x >= out[i - 1].x);
            std::size_t inside = 0, at = 0;
            for (int p = k.left; p < k.right; ++p) {
                const double a = toX(p), b = toX(p + 1);
                double cmin = 1e300, cmax = -1e300;
                int count = 0;
                for (std::size_t i = 0; i < xs.size(); ++i)
                    if (xs[i] >= a && xs[i] < b) cmin = std::min(cmin, ys[i]), cmax = std::max(cmax, ys[i]), ++count;
                if (count == 0) continue;
                std::vector<double> got;
                for (const CurvePoint& q : out)
                    if (q.x >= a && q.x < b) got.push_back(q.y);
                QVERIFY2(!got.empty() && got.size() <= 2, qPrintable(QString("column %1: %2 points").arg(p).arg(got.size())));
                QCOMPARE(*std::min_element(got.begin(), got.end()), cmin);
                QCOMPARE(*std::max_element(got.begin(), got.end()), cmax);
                inside += got.size();
                ++at;
            }
            QVERIFY(at > 0);
            // Besides the columns' points, at most one neighbour on either side.
            QVERIFY2(out.size() - inside <= 2, qPrintable(QString::number(out.size() - inside)));
        }
        c.clear();
        QVERIFY(c.empty());
        std::vector<CurvePoint> none;
        c.decimate(0, 100, [](double p) { return p; }, &none);
        QVERIFY(none.empty());
    }

    void sweepViewOverlayAlignPhaseAndOpen() {
        // A 2 x 3 sweep with known drops (width 16 at 600 / 700 / 800, width 24 at 1000 / 1100 and
        // never), opened as a user would (MainWindow::openRun on the sweep folder).
        QTemporaryDir tmp;
        RunConfig base = loadPreset("tiny").value();
        std::vector<SweepAxis> axes{parseSweepAxis("model.width=16,24", false, "--grid").value(),
                                    parseSweepAxis("train.seed=1..3", false, "--grid").value()};
        auto s = defineSweep(tmp.filePath("sw"), base, "tiny", {}, {}, axes, 0);
        QVERIFY(s);
        QVERIFY(writeSweep(s.value()));
        const qint64 drops[] = {600, 700, 800, 1000, 1100, -1};
        for (const SweepPoint& p : s->points) test::fakeRun(s.value(), p, 2000, drops[p.index]);
        MainWindow w;
        QVERIFY(w.openRun(tmp.filePath("sw")));
        QCOMPARE(w.sweepViews().size(), 1);
        SweepView* v = w.sweepViews().first();
        QCOMPARE(v->table()->rowCount(), 6);
        QCOMPARE(v->curveCount(), 6);
        QCOMPARE(v->curveStartX(0), 1.0);
        // Aligned by drop onset: the run without a drop is left out, each curve starts at 1 - onset.
        v->setAlign(SweepView::Align::Onset);
        QCOMPARE(v->curveCount(), 5);
        for (int i = 0; i < 5; ++i)
            QVERIFY2(std::abs(v->curveStartX(i) - (1.0 - double(drops[i]))) <= 30, qPrintable(QString::number(v->curveStartX(i))));
        QVERIFY(std::isnan(v->curveStartX(5)));
        v->setAlign(SweepView::Align::Time);
        QVERIFY(std::abs(v->curveStartX(0) - 0.01) < 1e-9);  // the first row's training seconds
        // Phase diagram: width x seed cells; by width alone: median onset and share dropped.
        v->setPhase("model.width", "train.seed", SweepView::Cell::MedianOnset);
        SweepView::PhaseCells c = v->phaseCells();
        QCOMPARE(c.xs, (QStringList{"16", "24"}));
        QCOMPARE(c.ys, (QStringList{"1", "2", "3"}));
        QVERIFY(std::abs(c.values[0] - 600) <= 30 && std::abs(c.values[2 * 2 + 0] - 800) <= 30);
        QVERIFY(std::isnan(c.values[2 * 2 + 1]));  // width 24, seed 3: no drop
        v->setPhase("model.width", "", SweepView::Cell::ShareDropped);
        c = v->phaseCells();
        QCOMPARE(c.ys.size(), 1);
        QCOMPARE(c.values[0], 1.0);
        QVERIFY(std::abs(c.values[1] - 2.0 / 3.0) < 1e-9);
        v->setPhase("model.width", "", SweepView::Cell::MedianOnset);
        QVERIFY(std::abs(v->phaseCells().values[1] - 1050) <= 30);
        // The table sorts by number; double-clicking a point opens its run here with every view.
        v->table()->sortByColumn(5, Qt::DescendingOrder);  // onset (blank, no drop, first)
        QVERIFY2(std::abs(v->table()->item(1, 5)->text().toDouble() - 1100) <= 30, qPrintable(v->table()->item(1, 5)->text()));
        QSignalSpy open(v, &SweepView::openRunRequested);
        emit v->table()->cellDoubleClicked(0, 0);
        QCOMPARE(open.count(), 1);
        QCOMPARE(open.first().first().toString(), s->runDir(s->points[5]));  // width 24 seed 3: no drop
        QTRY_COMPARE_WITH_TIMEOUT(w.session()->runDir(), s->runDir(s->points[5]), 5000);
        // Exports: both figures and the three CSVs.
        QTemporaryDir out;
        auto files = exportSweepView(*v, out.filePath("sweep"), {FigureFormat::Pdf, FigureFormat::Png}, {});
        QVERIFY2(files, qPrintable(files.error()));
        QCOMPARE(files->size(), 7);
        for (const QString& f : files.value()) QVERIFY2(QFileInfo(f).size() > 30, qPrintable(f));
        QFile points(out.filePath("sweep_points.csv"));
        QVERIFY(points.open(QIODevice::ReadOnly));
        QCOMPARE(points.readAll().count('\n'), 7);
        // Offscreen (plateau-cli export SWEEP_DIR) with the view's choices: share dropped by width.
        SweepFigureChoice choice;
        choice.phaseX = "model.width";
        choice.phaseY = "none";
        choice.cell = "dropped";
        choice.colourBy = "train.seed";
        choice.align = "onset";
        auto chosen = exportSweepFigures(tmp.filePath("sw"), out.filePath("chosen"), {FigureFormat::Png}, {}, choice);
        QVERIFY2(chosen, qPrintable(chosen.error()));
        QFile phase(out.filePath("chosen/sweep_points_phase.csv"));
        QVERIFY(phase.open(QIODevice::ReadOnly));
        const QString phaseCsv = QString::fromUtf8(phase.readAll());
        QVERIFY2(phaseCsv.contains("0.666") && phaseCsv.count('\n') == 3, qPrintable(phaseCsv));  // header + 2 cells
        for (const auto& [bad, expect] : {std::pair{SweepFigureChoice{"", "model.depth"}, "--colour-by: \"model.depth\""},
                                          std::pair{SweepFigureChoice{"loss_x"}, "--column"},
                                          std::pair{SweepFigureChoice{"", "", "model.width", "", "median"}, "--cell"},
                                          std::pair{SweepFigureChoice{"", "", "", "", "", "sideways"}, "--align"}}) {
            auto r = exportSweepFigures(tmp.filePath("sw"), out.filePath("bad"), {FigureFormat::Png}, {}, bad);
            QVERIFY2(!r && r.error().contains(expect), qPrintable(r ? QString("ok") : r.error()));
        }
    }

    void sweepViewFollowsGrowingRuns() {
        // Two points: one finished, one written part-way; rows appended to it later (as its
        // training would) reach the table and the overlay on refresh; a point whose folder
        // appears later is picked up.
        QTemporaryDir tmp;
        auto s = defineSweep(tmp.filePath("sw"), loadPreset("tiny").value(), "tiny", {}, {},
                             {parseSweepAxis("model.width=16,24,32", false, "--grid").value()}, 0);
        QVERIFY(s);
        QVERIFY(writeSweep(s.value()));
        test::fakeRun(s.value(), s->points[0], 600, 300);
        RunConfig c = s->pointConfig(s->points[1]).value();
        c.train.steps = 600;
        auto store = RunStore::create(s->runDir(s->points[1]), c);
        QVERIFY(store);
        auto rows = [&](qint64 from, qint64 to) {
            std::vector<StepMetrics> out;
            for (qint64 k = from; k <= to; ++k) {
                StepMetrics m;
                m.step = k;
                m.timeS = double(k) * 0.01;
                m.values.assign(store.value()->columns().size(), 0.1);
                out.push_back(m);
            }
            return out;
        };
        QVERIFY(store.value()->append(rows(1, 200)));
        auto data = SweepData::open(tmp.filePath("sw"));
        QVERIFY2(data, qPrintable(data.error()));
        SweepView v(std::move(data.value()));
        QCOMPARE(v.curvePoints(0), 600);
        QCOMPARE(v.curvePoints(1), 200);
        QCOMPARE(v.curveCount(), 2);
        QCOMPARE(v.table()->item(1, 2)->text(), QString("200/600"));
        QVERIFY(store.value()->append(rows(201, 450)));
        test::fakeRun(s.value(), s->points[2], 600, -1);
        v.refresh();
        QCOMPARE(v.curvePoints(1), 450);
        QCOMPARE(v.curveCount(), 3);
        QCOMPARE(v.table()->item(1, 2)->text(), QString("450/600"));
        QCOMPARE(v.table()->item(2, 1)->text(), QString("finished"));
    }

    void plotViewLinesAndScatterFollowTheSnapshot() {
        // Lines: rows of a (rows, n) array against an x array, a fixed 0-1 axis, a reference line
        // from a scalar; the view follows a scrub. Scatter: the chosen item's points, one graph per
        // colour class (whole values: each its own), the chosen colour array, item names, CSVs.
        SessionModel m;
        m.reset(tinyRun(10), "/tmp/x");
        auto snap = [](qint64 step, float scale) {
            auto s = std::make_shared<Snapshot>();
            s->step = step;
            float* acc = s->addF32("kshot.acc", {2, 5});
            float* shots = s->addF32("kshot.shots", {5});
            for (int i = 0; i < 5; ++i) {
                shots[i] = float(i);
                acc[i] = scale * float(i) / 4;
                acc[5 + i] = i == 2 ? NAN : 0.5f;
            }
            s->scalars["chance"] = 0.2;
            float* pts = s->addF32("pca.points", {3, 6, 2});
            for (int i = 0; i < 36; ++i) pts[i] = scale * float(i);
            float* cx = s->addF32("pca.x", {6});
            float* cz = s->addF32("pca.z", {6});
            NamedArray& layer = s->add("pca.layer", ArrayType::I32, {3});
            for (int i = 0; i < 6; ++i) {
                cx[i] = float(i % 3);
                cz[i] = 0.1f * float(i);  // not whole: binned
            }
            for (int i = 0; i < 3; ++i) layer.i32[std::size_t(i)] = 7 + i;
            return s;
        };
        m.appendSnapshot(snap(10, 1.0f));
        m.appendSnapshot(snap(20, 0.5f));
        const QJsonObject lines{{"mode", "lines"},
                                {"x_array", "kshot.shots"},
                                {"y_range", QJsonArray{0, 1}},
                                {"lines", QJsonArray{QJsonObject{{"array", "kshot.acc"}, {"row", 0}, {"label", "a"}},
                                                     QJsonObject{{"array", "kshot.acc"}, {"row", 1}, {"label", "b"}},
                                                     QJsonObject{{"array", "absent"}, {"row", 0}, {"label", "c"}}}},
                                {"hline_scalar", "chance"}};
        PlotView lv(&m, "kshot", lines);
        lv.resize(500, 300);
        lv.redrawNow();
        QCOMPARE(lv.shownStep(), qint64(20));
        QCOMPARE(lv.plottedPoints(), 5 + 4);  // NaN left out, the absent array draws nothing
        QCOMPARE(lv.plot()->graph(0)->data()->at(4)->value, 0.5);
        QCOMPARE(lv.plot()->graph(3)->data()->at(0)->value, 0.2);  // the reference line
        QVERIFY(lv.plot()->yAxis->range().lower < 0 && lv.plot()->yAxis->range().upper > 1);
        m.setFollowLive(false);
        m.setCurrentIndex(0);
        lv.redrawNow();
        QCOMPARE(lv.shownStep(), qint64(10));
        QCOMPARE(lv.plot()->graph(0)->data()->at(4)->value, 1.0);
        QTemporaryDir tmp;
        auto csv = lv.exportCsv(tmp.filePath("k.csv"));
        QVERIFY2(csv.ok(), qPrintable(csv.error()));
        QFile f(tmp.filePath("k.csv"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QStringList rows = QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(rows.size(), 6);
        QCOMPARE(rows[0], QString("step,shots,kshot.acc[0],kshot.acc[1],absent[0]"));
        QVERIFY2(rows[5].startsWith("10,4,1,0.5,"), qPrintable(rows[5]));

        const QJsonObject scatter{{"mode", "scatter"},
                                  {"points", "pca.points"},
                                  {"item_values", QJsonArray{QJsonObject{{"array", "pca.layer"}, {"name", "layer"}}}},
                                  {"colour_by", QJsonArray{QJsonObject{{"array", "pca.x"}, {"label", "x"}},
                                                           QJsonObject{{"array", "pca.z"}, {"label", "z"}}}},
                                  {"cyclic", true}};
        PlotView sv(&m, "pca", scatter);
        sv.resize(500, 300);
        sv.setItem(2);
        sv.redrawNow();
        QCOMPARE(sv.plottedPoints(), 6);
        QCOMPARE(sv.plot()->graphCount(), 3);  // x in {0, 1, 2}
        QVERIFY2(sv.infoText().contains("layer = 9"), qPrintable(sv.infoText()));
        // Item 2's first point is (24, 25) at step 10 (scale 1).
        bool found = false;
        for (int g = 0; g < sv.plot()->graphCount(); ++g)
            for (auto it = sv.plot()->graph(g)->data()->begin(); it != sv.plot()->graph(g)->data()->end(); ++it)
                found = found || (it->key == 24 && it->value == 25);
        QVERIFY(found);
        sv.setColourBy(1);
        sv.redrawNow();
        QCOMPARE(sv.plottedPoints(), 6);
        QVERIFY(sv.plot()->graphCount() > 3);  // binned, each point its own bin here
        auto scsv = sv.exportCsv(tmp.filePath("p.csv"));
        QVERIFY2(scsv.ok(), qPrintable(scsv.error()));
        QFile g(tmp.filePath("p.csv"));
        QVERIFY(g.open(QIODevice::ReadOnly));
        const QStringList prow = QString::fromUtf8(g.readAll()).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(prow.size(), 7);
        QCOMPARE(prow[0], QString("step,item,point,c1,c2,x,z"));
        QCOMPARE(prow[1], QString("10,2,0,24,25,0,0"));
        // A snapshot without the points: a message, no stale points.
        m.setCurrentIndex(1);
        auto empty = std::make_shared<Snapshot>();
        empty->step = 30;
        m.appendSnapshot(empty);
        m.setFollowLive(true);
        sv.redrawNow();
        QCOMPARE(sv.plottedPoints(), 0);
        QVERIFY(sv.infoText().contains("holds no pca.points"));
    }

    void sessionModelFollowsLiveUntilScrubbed() {
        SessionModel m;
        m.reset(tinyRun(10), "/tmp/x");
        for (int s = 0; s < 3; ++s) {
            auto snap = std::make_shared<Snapshot>();
            snap->step = s * 10;
            m.appendSnapshot(snap);
        }
        QCOMPARE(m.current()->step, qint64(20));
        m.setFollowLive(false);
        m.setCurrentIndex(0);
        auto later = std::make_shared<Snapshot>();
        later->step = 30;
        m.appendSnapshot(later);
        QCOMPARE(m.current()->step, qint64(0));  // scrubbed: stays
        m.setFollowLive(true);
        QCOMPARE(m.current()->step, qint64(30));
        auto again = std::make_shared<Snapshot>();
        again->step = 30;  // re-probe of the same step replaces it
        m.appendSnapshot(again);
        QCOMPARE(int(m.snapshots().size()), 4);
        QCOMPARE(m.current().get(), again.get());
        // Older stored snapshots merged later (a run opened with the newest first): step order, a
        // step already held is not replaced, the current snapshot stays current at its new index.
        auto at = [](qint64 step) {
            auto s = std::make_shared<Snapshot>();
            s->step = step;
            return SnapshotPtr(s);
        };
        m.setCurrentIndex(2);  // step 20
        const SnapshotPtr cur = m.current();
        QSignalSpy changed(&m, &SessionModel::snapshotsChanged);
        m.insertSnapshots({at(25), at(5), at(10), at(-1)});
        std::vector<qint64> steps;
        for (const auto& s : m.snapshots()) steps.push_back(s->step);
        QCOMPARE(steps, (std::vector<qint64>{-1, 0, 5, 10, 20, 25, 30}));
        QCOMPARE(m.current().get(), cur.get());
        QCOMPARE(m.currentIndex(), 4);
        QCOMPARE(changed.count(), 1);
        m.insertSnapshots({at(10)});
        QCOMPARE(changed.count(), 1);  // nothing new
    }
};

PLATEAU_GUI_TEST_MAIN(TestGui)
#include "tst_gui.moc"
