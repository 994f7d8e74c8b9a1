// Scrubbing and opening runs, driven as a user would (offscreen): a finished run made by
// plateau-cli opens with its stored snapshots; the timeline (keys, clicks, follow live) moves
// every view to the snapshot at the chosen step without recomputing anything; damaged runs open
// as far as they are readable, with messages naming the files; a run another process is
// training is followed as it grows.
#include "attention_view.h"
#include "export_dialog.h"
#include "figure_export.h"
#include "heatmap_widget.h"
#include "main_window.h"
#include "matrix_view.h"
#include "metrics_view.h"
#include "run/run_reader.h"
#include "run/run_store.h"
#include "runtime_env.h"
#include "session_model.h"
#include "gui_test_main.h"
#include "spectra_view.h"
#include "timeline_view.h"
#include "training_controller.h"

#include <QApplication>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFile>
#include <QLineEdit>
#include <QMimeData>
#include <QUrl>
#include <QPushButton>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSvgRenderer>
#include <QXmlStreamReader>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QToolButton>
#include <QtTest>

#include <cmath>

using namespace plateau;

namespace {
// Trains `tiny` headless with plateau-cli (as a user would) into dir.
bool cliTrain(const QString& dir, int steps, QStringList extra = {}) {
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(PLATEAU_CLI, QStringList{"train", "--preset", "tiny", "--out", dir, "--steps", QString::number(steps),
                                     "--set", "train.snapshot_save_every=10", "--set", "train.probe_size=8"} + extra);
    if (!p.waitForFinished(300000) || p.exitCode() != 0) {
        qWarning("%s", p.readAll().constData());
        return false;
    }
    return true;
}
// A PDF that parses: header, trailer, and a startxref offset that points at its xref table,
// whose object offsets each point at "N 0 obj".
bool pdfParses(const QString& path, QString* why) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return *why = "cannot open", false;
    const QByteArray d = f.readAll();
    if (!d.startsWith("%PDF-")) return *why = "no %PDF header", false;
    if (!d.trimmed().endsWith("%%EOF")) return *why = "no %%EOF trailer", false;
    const int sx = d.lastIndexOf("startxref");
    if (sx < 0) return *why = "no startxref", false;
    const qint64 xref = d.mid(sx + 9).trimmed().split('\n').first().trimmed().toLongLong();
    if (d.mid(xref, 4) != "xref") return *why = "startxref does not point at xref", false;
    QList<QByteArray> lines = d.mid(xref).split('\n');
    const QList<QByteArray> head = lines.value(1).trimmed().split(' ');
    const int count = head.value(1).toInt();
    if (count < 3) return *why = "too few objects", false;
    for (int i = 1; i < count; ++i) {
        const QList<QByteArray> e = lines.value(2 + i).trimmed().split(' ');
        if (e.value(2) != "n") continue;
        const qint64 off = e.value(0).toLongLong();
        if (!d.mid(off, 20).startsWith(QByteArray::number(i) + " 0 obj")) return *why = "xref entry " + QString::number(i) + " is wrong", false;
    }
    return true;
}
bool svgParses(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return false;
    QXmlStreamReader xml(&f);
    while (!xml.atEnd()) xml.readNext();
    return !xml.hasError() && QSvgRenderer(path).isValid();
}
qint64 currentStep(const MainWindow& w) { return w.session()->current() ? w.session()->current()->step : -1; }
}  // namespace

class TestScrub : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    QString m_run;

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        m_run = m_tmp.filePath("finished");
        QVERIFY(cliTrain(m_run, 40));
    }

    void openFinishedRunAndScrub() {
        MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.openRun(m_run));
        QVERIFY2(w.lastMessage().isEmpty(), qPrintable(w.lastMessage()));
        SessionModel* m = w.session();
        QCOMPARE(int(m->metrics().size()), 40);
        // The window shows the newest snapshot at once; the older ones arrive from a thread.
        std::vector<qint64> steps;
        if (w.snapshotsLoading()) {
            QCOMPARE(int(m->snapshots().size()), 1);
            QCOMPARE(m->snapshots().front()->step, qint64(40));
        }
        QTRY_VERIFY_WITH_TIMEOUT(!w.snapshotsLoading(), 10000);
        for (const auto& s : m->snapshots()) steps.push_back(s->step);
        QCOMPARE(steps, (std::vector<qint64>{0, 1, 2, 5, 10, 20, 30, 40}));
        QCOMPARE(currentStep(w), qint64(40));
        QVERIFY(w.recentRuns().contains(QFileInfo(m_run).absoluteFilePath()));
        QVERIFY(!w.isFollowing());

        // ← twice: step 20; every view shows that snapshot, the loss view draws its cursor there.
        QTest::keyClick(&w, Qt::Key_Left);
        QTest::keyClick(&w, Qt::Key_Left);
        QCOMPARE(currentStep(w), qint64(20));
        QVERIFY(!m->followLive());
        QTRY_COMPARE_WITH_TIMEOUT(w.attentionView()->shownStep(), qint64(20), 2000);
        QTRY_COMPARE_WITH_TIMEOUT(w.matrixView()->shownStep(), qint64(20), 2000);
        QTRY_COMPARE_WITH_TIMEOUT(w.spectraView()->shownStep(), qint64(20), 2000);
        QTRY_COMPARE_WITH_TIMEOUT(w.metricsView()->currentLineX(), 20.0, 2000);
        // The views hold the stored values (the snapshot read back from the run folder).
        auto store = RunStore::open(m_run, true);
        QVERIFY(store.ok());
        const SnapshotPtr stored = store.value()->readSnapshot(20).value();
        w.attentionView()->selectHead(1, 2);
        QTRY_COMPARE_WITH_TIMEOUT(w.attentionView()->focusView()->value(3, 4), stored->attn(1, 2, 3, 4), 2000);
        QCOMPARE(w.attentionView()->cell(0, 1)->value(7, 0), stored->attn(0, 1, 7, 0));
        const int T = stored->seqLen(), n = stored->layout.n;
        HeatmapWidget* pred = w.matrixView()->panel(1);
        QCOMPARE(pred->rows(), n);
        for (int k = 0; k < T; ++k) QCOMPARE(pred->value(k / n, k % n), stored->f32("matrices.prediction")[k]);

        // Home, →, End; a click on the timeline bar picks the nearest snapshot.
        QTest::keyClick(&w, Qt::Key_Home);
        QCOMPARE(currentStep(w), qint64(0));
        QTest::keyClick(&w, Qt::Key_Right);
        QCOMPARE(currentStep(w), qint64(1));
        TimelineBar* bar = w.timeline()->bar();
        QTest::mouseClick(bar, Qt::LeftButton, {}, QPoint(bar->xOfStep(29), bar->height() / 2));
        QCOMPARE(currentStep(w), qint64(30));
        QVERIFY(!w.timeline()->followButton()->isChecked());
        QTest::keyClick(&w, Qt::Key_End);
        QCOMPARE(currentStep(w), qint64(40));
        QVERIFY(m->followLive());
        QVERIFY(w.timeline()->followButton()->isChecked());
        QTRY_VERIFY_WITH_TIMEOUT(std::isnan(w.metricsView()->currentLineX()), 2000);
    }

    void dropAFolderOnTheWindow() {
        MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(m_run)});
        QDragEnterEvent enter(QPoint(50, 50), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&w, &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(QPointF(50, 50), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&w, &drop);
        QCOMPARE(w.session()->runDir(), QFileInfo(m_run).absoluteFilePath());
        QCOMPARE(int(w.session()->metrics().size()), 40);
        // A file (not a folder) is refused at drag-enter.
        QMimeData file;
        file.setUrls({QUrl::fromLocalFile(m_run + "/config.json")});
        QDragEnterEvent enterFile(QPoint(50, 50), Qt::CopyAction, &file, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&w, &enterFile);
        QVERIFY(!enterFile.isAccepted());
    }

    void scrubbingALiveRunKeepsItTraining() {
        QTemporaryDir tmp;
        RunConfig c = loadPreset("tiny").value();
        c.train.steps = 3000;
        c.train.snapshotEvery = 20;
        c.train.probeSize = 8;
        c.train.checkpointEvery = 0;
        MainWindow w;
        w.show();
        w.startRun(c, tmp.filePath("live"));
        SessionModel* m = w.session();
        QTRY_VERIFY_WITH_TIMEOUT(m->snapshots().size() >= 5, 60000);
        QTest::keyClick(&w, Qt::Key_Home);  // back to step 0 while training goes on
        QCOMPARE(currentStep(w), qint64(0));
        QVERIFY(!m->followLive());
        const qint64 rowsThen = m->metrics().empty() ? 0 : m->metrics().back().step;
        const std::size_t snapsThen = m->snapshots().size();
        QTRY_VERIFY_WITH_TIMEOUT(!m->metrics().empty() && m->metrics().back().step > rowsThen + 100, 30000);
        QVERIFY(m->snapshots().size() > snapsThen);  // new snapshots keep arriving
        QCOMPARE(currentStep(w), qint64(0));         // but the views stay where the user put them
        QVERIFY(!w.controller()->isPaused());
        QTRY_COMPARE_WITH_TIMEOUT(w.attentionView()->shownStep(), qint64(0), 2000);
        QTest::keyClick(&w, Qt::Key_End);  // follow live again
        QVERIFY(m->followLive());
        QCOMPARE(currentStep(w), m->snapshots().back()->step);
        w.controller()->stopAndWait();
    }

    void exportEveryViewInEveryFormat() {
        MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.openRun(m_run));
        QTRY_VERIFY_WITH_TIMEOUT(!w.snapshotsLoading(), 10000);
        w.session()->setCurrentIndex(5);  // step 20
        QTemporaryDir out;
        const QList<ThrottledView*> views = w.views();
        QCOMPARE(views.size(), 4);
        for (ThrottledView* v : views) {
            for (FigureFormat f : {FigureFormat::Pdf, FigureFormat::Svg, FigureFormat::Png}) {
                const QString path = out.filePath(v->figureName() + "." + figureSuffix(f));
                FigureOptions o;
                o.size = QSize(900, 600);
                o.dpi = 150;
                Status st = w.exportView(v, path, {f}, false, o);
                QVERIFY2(st.ok(), qPrintable(st.error()));
                QVERIFY2(QFileInfo(path).size() > 2000, qPrintable(path));
                QString why;
                if (f == FigureFormat::Pdf) QVERIFY2(pdfParses(path, &why), qPrintable(path + ": " + why));
                if (f == FigureFormat::Svg) QVERIFY2(svgParses(path), qPrintable(path));
                if (f == FigureFormat::Png) {
                    QImage img(path);
                    QVERIFY(!img.isNull());
                    // 900 x 600 logical at most (aspect kept), at 150 dpi
                    QVERIFY(img.width() <= 900 * 150 / 96 + 1 && img.height() <= 600 * 150 / 96 + 1);
                    QVERIFY(img.width() >= 900 * 150 / 96 - 1 || img.height() >= 600 * 150 / 96 - 1);
                    QCOMPARE(qRound(img.dotsPerMeterX() * 0.0254), 150);
                    // not blank: many distinct colours
                    QSet<QRgb> colours;
                    for (int y = 0; y < img.height(); y += 7)
                        for (int x = 0; x < img.width(); x += 7) colours.insert(img.pixel(x, y));
                    QVERIFY2(colours.size() > 20, qPrintable(path));
                }
            }
            const QString csv = out.filePath(v->figureName() + ".csv");
            Status st = w.exportView(v, csv, {}, true, {});
            QVERIFY2(st.ok(), qPrintable(st.error()));
            QFile f(csv);
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
            QVERIFY(lines.size() > 10);
            const int columns = int(lines.first().count(',')) + 1;
            for (const QByteArray& l : lines) QCOMPARE(int(l.count(',')) + 1, columns);
        }
        // CSV values are the snapshot's: attention row of (layer 1, head 2, query 3, key 4) at step 20.
        QFile att(out.filePath("attention.csv"));
        QVERIFY(att.open(QIODevice::ReadOnly));
        const SnapshotPtr s20 = w.session()->current();
        const int n = s20->layout.n;
        const QByteArray want = QString("20,1,2,3,4,r%1c%2,r%3c%4,").arg(3 / n).arg(3 % n).arg(4 / n).arg(4 % n).toUtf8();
        bool found = false;
        for (const QByteArray& l : att.readAll().split('\n'))
            if (l.startsWith(want)) {
                QCOMPARE(l.split(',').at(7).toDouble(), double(s20->attn(1, 2, 3, 4)));
                found = true;
            }
        QVERIFY(found);
        // The metrics CSV: every column of the experiment, then lr and grad norm, then smoothed ones.
        QFile loss(out.filePath("loss.csv"));
        QVERIFY(loss.open(QIODevice::ReadOnly));
        QCOMPARE(loss.readLine().trimmed(),
                 QByteArray("step,time_s,loss,loss_obs,loss_mask,mean_abs_mask_out,eval_loss,lr,grad_norm,loss_smoothed,"
                            "loss_obs_smoothed,loss_mask_smoothed,mean_abs_mask_out_smoothed,eval_loss_smoothed"));
        // An unwritable target gives a message naming it.
        Status bad = w.exportView(w.metricsView(), "/proc/plateau-nope/loss.png", {FigureFormat::Png}, false, {});
        QVERIFY(!bad.ok());
        QVERIFY2(bad.error().contains("/proc/plateau-nope/loss.png"), qPrintable(bad.error()));
    }

    void cliExportsTheFigureSetOffscreen() {
        QTemporaryDir out;
        QProcess p;
        p.setProcessChannelMode(QProcess::MergedChannels);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove("DISPLAY");
        env.remove("QT_QPA_PLATFORM");
        p.setProcessEnvironment(env);
        p.start(PLATEAU_CLI, {"export", m_run, "--out", out.filePath("figs"), "--format", "pdf,svg,png", "--steps", "0,19,40"});
        QVERIFY(p.waitForFinished(120000));
        const QByteArray log = p.readAll();
        QVERIFY2(p.exitCode() == 0, log.constData());
        QFile idx(out.filePath("figs/figures.json"));
        QVERIFY(idx.open(QIODevice::ReadOnly));
        const QJsonObject o = QJsonDocument::fromJson(idx.readAll()).object();
        QStringList figures;
        for (const QJsonValue& v : o["figures"].toArray()) figures << v.toObject()["figure"].toString();
        QVERIFY2(figures.contains("loss"), qPrintable(figures.join(",")));
        for (const char* name : {"attention_step_0", "attention_step_20", "attention_step_40"})
            QVERIFY2(figures.contains(name), qPrintable(figures.join(",")));
        int pdfs = 0;
        for (const QFileInfo& fi : QDir(out.filePath("figs")).entryInfoList(QDir::Files)) {
            QVERIFY2(fi.size() > 200, qPrintable(fi.filePath()));
            QString why;
            if (fi.suffix() == "pdf") {
                ++pdfs;
                QVERIFY2(pdfParses(fi.filePath(), &why), qPrintable(fi.filePath() + ": " + why));
            }
            if (fi.suffix() == "svg") QVERIFY2(svgParses(fi.filePath()), qPrintable(fi.filePath()));
        }
        QVERIFY(pdfs >= 6);  // loss, 3 attention, predictions and spectra x 2
        QVERIFY(QFile::exists(out.filePath("figs/loss.csv")));
        // Bad input: a clear message, exit code 2.
        QProcess bad;
        bad.setProcessChannelMode(QProcess::MergedChannels);
        bad.start(PLATEAU_CLI, {"export", m_run, "--out", out.filePath("x"), "--format", "pdf,tiff"});
        QVERIFY(bad.waitForFinished(60000));
        QCOMPARE(bad.exitCode(), 2);
        QVERIFY(bad.readAll().contains("unknown figure format 'tiff'"));
    }

    void exportDialogValidatesAsTyped() {
        QTemporaryDir tmp;
        ExportDialog one(ExportDialog::OneView, tmp.filePath("loss.pdf"), QSize(640, 480));
        auto* ok = one.findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
        QVERIFY(ok->isEnabled());
        QCOMPARE(one.formats(), QList<FigureFormat>{FigureFormat::Pdf});
        QCOMPARE(one.figureOptions().size, QSize(640, 480));
        auto* format = one.findChild<QComboBox*>();
        format->setCurrentIndex(3);  // CSV
        QVERIFY(one.csv());
        QVERIFY2(one.path().endsWith("loss.csv"), qPrintable(one.path()));  // the suffix follows the format
        auto* path = one.findChildren<QLineEdit*>().first();
        path->setText(tmp.filePath("no/such/dir/loss.csv"));
        QVERIFY(!ok->isEnabled());
        QVERIFY2(one.error().contains("no such folder"), qPrintable(one.error()));
        path->setText(tmp.path());
        QVERIFY(!ok->isEnabled());
        QVERIFY(one.error().contains("is a folder"));

        ExportDialog set(ExportDialog::FigureSet, tmp.filePath("figs"), QSize());
        auto* okSet = set.findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
        QVERIFY(okSet->isEnabled());
        QCOMPARE(set.formats(), (QList<FigureFormat>{FigureFormat::Pdf, FigureFormat::Png}));
        QVERIFY(!set.figureOptions().size.isValid());  // as on screen
        QLineEdit* steps = nullptr;
        for (QLineEdit* e : set.findChildren<QLineEdit*>())
            if (!e->placeholderText().isEmpty()) steps = e;
        QVERIFY(steps);
        steps->setText("100, 2x0");
        QVERIFY(!okSet->isEnabled());
        QVERIFY2(set.error().contains("'2x0' is not a step number"), qPrintable(set.error()));
        steps->setText("100, 2500");
        QVERIFY(okSet->isEnabled());
        QCOMPARE(set.steps(), (std::vector<qint64>{100, 2500}));
    }

    void liveOnlySnapshotsAreBounded() {
        SessionModel m;
        RunConfig c = loadPreset("tiny").value();
        m.reset(c, "x");
        for (int i = 0; i < 1000; ++i) {
            auto s = std::make_shared<Snapshot>();
            s->step = i;
            s->saved = i % 100 == 0;
            m.appendSnapshot(s);
        }
        int saved = 0;
        for (const auto& s : m.snapshots()) saved += s->saved;
        QCOMPARE(saved, 10);  // every stored one stays
        QCOMPARE(int(m.snapshots().size()), 10 + int(SessionModel::kMaxLive));  // + the newest live-only ones
        QCOMPARE(m.current()->step, qint64(999));
        m.setCurrentIndex(0);
        QCOMPARE(m.current()->step, qint64(0));
    }

    void openDamagedRuns() {
        QTemporaryDir tmp;
        const QString run = tmp.filePath("damaged");
        QVERIFY(cliTrain(run, 20));
        QVERIFY(QFile::remove(run + "/config.json"));
        {
            MainWindow w;
            QVERIFY(w.openRun(run));  // metrics and snapshots still open
            QVERIFY2(w.lastMessage().contains(run + "/config.json: missing"), qPrintable(w.lastMessage()));
            QCOMPARE(int(w.session()->metrics().size()), 20);
            QVERIFY(!w.session()->snapshots().empty());
        }
        {
            QFile f(run + "/metrics.sqlite");
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write(QByteArray(2048, 'z'));
        }
        QFile::remove(run + "/metrics.sqlite-wal");
        QFile::remove(run + "/metrics.sqlite-shm");
        MainWindow w;
        QVERIFY(!w.openRun(run));
        QVERIFY2(w.lastMessage().contains("metrics.sqlite"), qPrintable(w.lastMessage()));
        QVERIFY(!w.openRun(tmp.filePath("no-such-run")));
        QVERIFY2(w.lastMessage().contains("no such run folder"), qPrintable(w.lastMessage()));
    }

    void followARunBeingTrained() {
        QTemporaryDir tmp;
        const QString run = tmp.filePath("live");
        QProcess p;
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(PLATEAU_CLI, {"train", "--preset", "tiny", "--out", run, "--steps", "1500", "--threads", "1",
                              "--set", "train.snapshot_save_every=100", "--set", "train.probe_size=8"});
        QVERIFY(p.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(runBeingWritten(run) && QFile::exists(run + "/metrics.sqlite"), 60000);
        MainWindow w;
        QTRY_VERIFY_WITH_TIMEOUT(w.openRun(run), 20000);
        QVERIFY(w.isFollowing());
        const qint64 first = w.session()->metrics().empty() ? 0 : w.session()->metrics().back().step;
        QTRY_VERIFY_WITH_TIMEOUT(!w.session()->metrics().empty() && w.session()->metrics().back().step > first, 30000);
        QVERIFY(p.waitForFinished(300000));
        QCOMPARE(p.exitCode(), 0);
        QTRY_VERIFY_WITH_TIMEOUT(!w.isFollowing(), 5000);
        QCOMPARE(int(w.session()->metrics().size()), 1500);
        QCOMPARE(w.session()->snapshots().back()->step, qint64(1500));
        QCOMPARE(currentStep(w), qint64(1500));  // followed live to the end
    }
};

PLATEAU_GUI_TEST_MAIN(TestScrub)
#include "tst_scrub.moc"
