#include "main_window.h"

#include "analyses_dock.h"
#include "analysis_view.h"

#include "attention_view.h"
#include "matrix_view.h"
#include "metrics_view.h"
#include "new_run_dialog.h"
#include "session_model.h"
#include "view_registry.h"
#include "analysis/drop_detector.h"
#include "export_dialog.h"
#include "figure_set.h"
#include "run/run_reader.h"
#include "spectra_view.h"
#include "sweep/sweep_data.h"
#include "sweep_view.h"
#include "timeline_view.h"
#include "training_controller.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMimeData>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTimer>
#include <QToolBar>

#include <cmath>

namespace plateau {

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), m_session(new SessionModel(this)), m_controller(new TrainingController(this)) {
    setWindowTitle("Plateau");
    setDockNestingEnabled(true);
    setDockOptions(AnimatedDocks | AllowNestedDocks | AllowTabbedDocks);
    m_timeline = new TimelineView(m_session);
    m_timeline->setMaximumHeight(110);  // a scrub bar: the views get the height
    m_timelineDock = addView("Timeline", "dock.timeline", m_timeline, Qt::BottomDockWidgetArea);
    m_analyses = new AnalysesDock(m_session);
    m_analysesDock = addView("Analyses", "dock.analyses", m_analyses, Qt::RightDockWidgetArea);
    m_analysesDock->hide();  // shown from the View menu: the live views get the room
    m_followTimer = new QTimer(this);
    m_followTimer->setInterval(1000);
    connect(m_followTimer, &QTimer::timeout, this, &MainWindow::followTick);
    setAcceptDrops(true);

    auto* bar = addToolBar("Training");
    bar->setObjectName("toolbar.training");
    auto* newRun = new QAction("New run…", this);
    newRun->setShortcut(QKeySequence::New);
    m_pause = new QAction("Pause", this);
    m_pause->setShortcut(Qt::Key_Space);
    m_step = new QAction("Step", this);
    m_step->setToolTip("pause and run exactly one training step");
    m_stop = new QAction("Stop", this);
    m_stop->setToolTip("stop training (metrics and a final checkpoint are written)");
    bar->addActions({newRun, m_pause, m_step, m_stop});
    connect(newRun, &QAction::triggered, this, &MainWindow::newRunDialog);
    connect(m_pause, &QAction::triggered, this, [this] {
        if (m_controller->isPaused()) m_controller->resume();
        else m_controller->pause();
        updateActions();
    });
    connect(m_step, &QAction::triggered, this, [this] {
        m_controller->stepOnce();
        updateActions();
    });
    connect(m_stop, &QAction::triggered, m_controller, &TrainingController::stop);

    auto* file = menuBar()->addMenu("&File");
    file->addAction(newRun);
    file->addAction("&Open run…", QKeySequence::Open, this, &MainWindow::openRunDialog);
    m_recentMenu = file->addMenu("Recent runs");
    connect(m_recentMenu, &QMenu::aboutToShow, this, &MainWindow::fillRecentMenu);
    m_resume = file->addAction("Resume training", this, [this] {
        if (m_reader) resumeRun(m_reader->dir());
    });
    m_resume->setToolTip("continue training the opened run from its newest checkpoint");
    file->addSeparator();
    m_exportMenu = file->addMenu("Export view");
    file->addAction("Export figure set…", QKeySequence("Ctrl+E"), this, &MainWindow::exportFigureSetDialog);
    file->addSeparator();
    file->addAction("&Quit", QKeySequence::Quit, this, &QWidget::close);
    menuBar()->addMenu("&Run")->addActions({m_pause, m_step, m_stop});
    auto* view = menuBar()->addMenu("&View");
    m_viewMenu = view;
    view->addAction(m_timelineDock->toggleViewAction());
    view->addAction(m_analysesDock->toggleViewAction());
    m_viewMenuSeparator = view->addSeparator();
    // Scrubbing keys, window-wide (text fields keep their own arrow keys).
    view->addAction("Previous snapshot", QKeySequence(Qt::Key_Left), m_timeline, &TimelineView::previous);
    view->addAction("Next snapshot", QKeySequence(Qt::Key_Right), m_timeline, &TimelineView::next);
    view->addAction("First snapshot", QKeySequence(Qt::Key_Home), m_timeline, &TimelineView::first);
    view->addAction("Newest snapshot (follow live)", QKeySequence(Qt::Key_End), m_timeline, &TimelineView::last);
    view->addSeparator();
    view->addAction("Reset layout", this, &MainWindow::resetLayout);

    m_status = new QLabel("idle");
    m_progress = new QProgressBar;
    m_progress->setMaximumWidth(260);
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    statusBar()->addWidget(m_status, 1);
    statusBar()->addPermanentWidget(m_progress);

    connect(m_controller, &TrainingController::started, this,
            [this](const QString& dir, const QString& runtime, const QStringList& warnings, const RunConfig& cfg,
                   const std::vector<StepMetrics>& earlier) {
                m_snapshotLoader.reset();
                m_reader.reset();
                m_followTimer->stop();
                buildViews(cfg);
                m_session->reset(cfg, dir, earlier);
                m_analyses->setTrainingActive(true);
                m_analyses->setRun(dir, cfg);
                setWindowTitle("Plateau — " + dir);
                addRecent(dir);
                statusBar()->showMessage("runtime: " + runtime, 8000);
                if (!warnings.isEmpty()) notify("Plateau: slow runtime", warnings.join("\n"), false);
                updateActions();
            });
    connect(m_controller, &TrainingController::snapshotReady, m_session, &SessionModel::appendSnapshot);
    connect(m_controller, &TrainingController::detectionChanged, m_session, &SessionModel::setDetection);
    // The status bar is refreshed with each batch of rows (every 0.25 s), in the same wake-up.
    connect(m_controller, &TrainingController::metricsArrived, this, [this](const std::vector<StepMetrics>& rows) {
        if (rows.empty()) return;
        m_session->appendMetrics(rows);
        double ms = 0;
        for (const auto& r : rows) ms += r.stepMs;
        const double sps = double(rows.size()) / std::max(1e-9, ms / 1000.0);
        m_stepsPerSec = m_stepsPerSec == 0 ? sps : 0.8 * m_stepsPerSec + 0.2 * sps;
        updateStatus();
    });
    connect(m_controller, &TrainingController::finished, this, [this](qint64 steps, const QString& error) {
        m_analyses->setTrainingActive(false);
        updateStatus();
        m_status->setText(error.isEmpty() ? QString("stopped at step %1 (run folder %2)").arg(steps).arg(m_session->runDir())
                                          : error);
        m_progress->setFormat("%p%");
        if (!error.isEmpty()) notify("Plateau", error, true);
        updateActions();
    });

    resize(1500, 950);
    QSettings settings;
    restoreGeometry(settings.value("window/geometry").toByteArray());
    buildViews(RunConfig{});  // the default experiment's views until a run is started or opened
    updateActions();
}

MainWindow::~MainWindow() = default;

void MainWindow::saveLayout() {
    if (m_viewsExperiment.isEmpty()) return;
    QSettings().setValue("window/state/" + m_viewsExperiment, saveState());
}

// One dock per view of the experiment. The default layout (also what "Reset layout" returns to):
// the views alternate between a left and a right column (matrix completion: loss over spectra on
// the left, attention over predictions on the right), the right column a little wider; views
// beyond four are tabbed onto the last ones. The user's layout of each experiment is kept.
void MainWindow::buildViews(const RunConfig& cfg) {
    const ExperimentInfo& info = cfg.info();
    if (info.id == m_viewsExperiment) return;
    saveLayout();
    for (QDockWidget* d : m_viewDocks) {
        removeDockWidget(d);
        m_viewMenu->removeAction(d->toggleViewAction());
        delete d;  // deletes its view
    }
    m_viewDocks.clear();
    m_views.clear();
    m_exportMenu->clear();
    m_viewsExperiment = info.id;
    QStringList unknown;
    for (const ViewSpec& spec : info.views) {
        ThrottledView* v = createView(spec, m_session);
        if (!v) {
            unknown << spec.kind;
            continue;
        }
        const int i = int(m_views.size());
        QDockWidget* d = addView(spec.title, "dock." + spec.name, v, i % 2 == 0 ? Qt::LeftDockWidgetArea : Qt::RightDockWidgetArea);
        if (i >= 4) tabifyDockWidget(m_viewDocks[i - 2], d);
        m_views << v;
        m_viewDocks << d;
        m_viewMenu->insertAction(m_viewMenuSeparator, d->toggleViewAction());
        m_exportMenu->addAction(spec.title + "…", this, [this, v] { exportViewDialog(v); });
        if (auto* att = qobject_cast<AttentionView*>(v))
            connect(att, &AttentionView::maskRequested, m_controller, &TrainingController::setProbeSpec);
    }
    m_exportMenu->addSeparator();
    m_exportMenu->addAction("Analysis figure…", this, [this] { exportViewDialog(m_analyses->view()); });
    if (!unknown.isEmpty()) notify("Plateau", info.id + ": views of unknown kind skipped: " + unknown.join(", "), false);
    if (m_viewDocks.size() >= 2) resizeDocks({m_viewDocks[0], m_viewDocks[1]}, {640, 860}, Qt::Horizontal);
    if (m_viewDocks.size() >= 3) resizeDocks({m_viewDocks[0], m_viewDocks[2]}, {520, 300}, Qt::Vertical);
    if (m_viewDocks.size() >= 4) resizeDocks({m_viewDocks[1], m_viewDocks[3]}, {500, 320}, Qt::Vertical);
    resizeDocks({m_timelineDock}, {56}, Qt::Vertical);
    m_defaultState = saveState();
    QSettings settings;
    QByteArray state = settings.value("window/state/" + info.id).toByteArray();
    if (state.isEmpty() && info.id == defaultExperimentId()) state = settings.value("window/state").toByteArray();  // before experiments
    if (!state.isEmpty()) restoreState(state);
}

ThrottledView* MainWindow::view(const QString& name) const {
    for (ThrottledView* v : m_views)
        if (v->figureName() == name) return v;
    return nullptr;
}

template <class V>
V* MainWindow::firstView() const {
    for (ThrottledView* v : m_views)
        if (auto* x = qobject_cast<V*>(v)) return x;
    return nullptr;
}
MetricsView* MainWindow::metricsView() const { return firstView<MetricsView>(); }
AttentionView* MainWindow::attentionView() const { return firstView<AttentionView>(); }
MatrixView* MainWindow::matrixView() const { return firstView<MatrixView>(); }
SpectraView* MainWindow::spectraView() const { return firstView<SpectraView>(); }

void MainWindow::updateStatus() {
    const auto& rows = m_session->metrics();
    if (rows.empty()) return;
    const RunConfig& cfg = m_session->config();
    const StepMetrics& m = rows.back();
    const double eta = double(cfg.train.steps - m.step) / std::max(1e-9, m_stepsPerSec);
    // The experiment's headline columns (the newest finite value of each: some are evaluated on a
    // cadence of their own).
    QString text = QString("step %1 / %2").arg(m.step).arg(cfg.train.steps);
    for (const QString& key : m_session->info().headline) {
        const int c = m_session->columnIndex(key);
        if (c < 0) continue;
        double v = NAN;
        for (std::size_t j = rows.size(); j-- > 0 && rows.size() - j <= 1000;)
            if (std::isfinite(rows[j].value(c))) {
                v = rows[j].value(c);
                break;
            }
        const MetricColumn& col = m_session->columns()[std::size_t(c)];
        text += QString("   %1 %2").arg(col.label).arg(v, 0, col.logAxis ? 'e' : 'f', col.logAxis ? 2 : 3);
    }
    m_status->setText(text + QString("   %1 steps/s").arg(m_stepsPerSec, 0, 'f', 1));
    m_progress->setValue(int(1000.0 * double(m.step) / double(std::max<qint64>(1, cfg.train.steps))));
    const int etaS = int(std::lround(eta));
    m_progress->setFormat(QString("%p%  ETA %1:%2").arg(etaS / 60).arg(etaS % 60, 2, 10, QChar('0')));
}

QDockWidget* MainWindow::addView(const QString& title, const QString& name, QWidget* view, Qt::DockWidgetArea area) {
    auto* dock = new QDockWidget(title, this);
    dock->setObjectName(name);
    dock->setWidget(view);
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable | QDockWidget::DockWidgetClosable);
    addDockWidget(area, dock);
    return dock;
}

QList<QDockWidget*> MainWindow::docks() const { return m_viewDocks; }

void MainWindow::resetLayout() {
    for (QDockWidget* d : docks() + QList<QDockWidget*>{m_timelineDock}) {
        d->setFloating(false);
        d->show();
    }
    restoreState(m_defaultState);
}

QString MainWindow::defaultRunsFolder() const {
    return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + "/runs";
}

void MainWindow::startRun(const RunConfig& cfg, const QString& outDir) {
    m_stepsPerSec = 0;
    m_controller->start(cfg, outDir);
    m_status->setText("starting " + outDir);
    updateActions();
}

void MainWindow::resumeRun(const QString& runDir) {
    if (runBeingWritten(runDir)) {
        notify("Plateau", runDir + ": being trained by another process; opened to follow it instead", false);
        openRun(runDir);
        return;
    }
    m_snapshotLoader.reset();
    m_reader.reset();
    m_followTimer->stop();
    m_stepsPerSec = 0;
    m_controller->resumeRun(runDir);
    m_status->setText("resuming " + runDir);
    updateActions();
}

void MainWindow::newRunDialog() {
    NewRunDialog dialog(defaultRunsFolder(), this);
    if (dialog.exec() != QDialog::Accepted) return;
    startRun(dialog.config(), dialog.outDir());
}

QString MainWindow::statusText() const { return m_status->text(); }

void MainWindow::notify(const QString& title, const QString& text, bool error) {
    m_lastMessage = text;
    if (!isVisible()) return;
    // Not modal-blocking: training and following go on while the message is up.
    auto* box = new QMessageBox(error ? QMessageBox::Critical : QMessageBox::Warning, title, text, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setWindowModality(Qt::NonModal);
    box->show();
}

QStringList MainWindow::recentRuns() const { return QSettings().value("recentRuns").toStringList(); }

void MainWindow::addRecent(const QString& dir) {
    QStringList list = recentRuns();
    const QString abs = QFileInfo(dir).absoluteFilePath();
    list.removeAll(abs);
    list.prepend(abs);
    while (list.size() > 10) list.removeLast();
    QSettings().setValue("recentRuns", list);
}

void MainWindow::fillRecentMenu() {
    m_recentMenu->clear();
    const QStringList list = recentRuns();
    if (list.isEmpty()) m_recentMenu->addAction("(none yet)")->setEnabled(false);
    for (const QString& dir : list) {
        QAction* a = m_recentMenu->addAction(dir, this, [this, dir] { openRun(dir); });
        a->setEnabled(QFileInfo(dir).isDir());
    }
}

bool MainWindow::snapshotsLoading() const { return m_snapshotLoader != nullptr; }

void MainWindow::finishSnapshotLoading() {
    if (!m_snapshotLoader) return;
    m_snapshotLoader->wait();
    applyLoadedSnapshots();
}

void MainWindow::applyLoadedSnapshots() {
    if (!m_snapshotLoader || !m_snapshotLoader->done()) return;  // a stale notice, or not yet
    auto [snaps, problems] = m_snapshotLoader->take();
    m_snapshotLoader.reset();
    m_session->insertSnapshots(snaps);
    statusBar()->showMessage(QString("read %1 older snapshots").arg(snaps.size()), 4000);
    if (!problems.isEmpty()) notify("Plateau: parts of the run could not be read", problems.join("\n"), false);
}

void MainWindow::openRunDialog() {
    const QString dir = QFileDialog::getExistingDirectory(this, "Open a Plateau run folder", defaultRunsFolder());
    if (!dir.isEmpty()) openRun(dir);
}

bool MainWindow::openSweep(const QString& sweepDir) {
    auto data = SweepData::open(sweepDir);
    if (!data) {
        notify("Plateau: cannot open sweep", data.error(), true);
        return false;
    }
    const QString dir = data.value()->sweep().dir;
    auto* win = new QMainWindow(this, Qt::Window);
    win->setAttribute(Qt::WA_DeleteOnClose);
    win->setWindowTitle("Plateau sweep — " + dir);
    auto* view = new SweepView(std::move(data.value()), win);
    win->setCentralWidget(view);
    QMenu* file = win->menuBar()->addMenu("&File");
    file->addAction("Export figures…", win, [this, view, dir] {
        const QString path = QFileDialog::getSaveFileName(view, "Export the sweep's figures", dir + "/sweep.pdf",
                                                          "PDF (*.pdf);;SVG (*.svg);;PNG (*.png)");
        if (path.isEmpty()) return;
        const QString suffix = QFileInfo(path).suffix().toLower();
        const FigureFormat f = suffix == "png" ? FigureFormat::Png : suffix == "svg" ? FigureFormat::Svg : FigureFormat::Pdf;
        const QString stem = path.left(path.size() - suffix.size() - 1);
        auto files = exportSweepView(*view, stem, {f}, {});
        if (!files) return notify("Plateau: export failed", files.error(), true);
        statusBar()->showMessage(QString("wrote %1 files: %2").arg(files->size()).arg(files->join(", ")), 8000);
    });
    file->addAction("Close", QKeySequence::Close, win, &QWidget::close);
    connect(view, &SweepView::openRunRequested, this, [this](const QString& run) {
        if (openRun(run)) {
            raise();
            activateWindow();
        }
    });
    win->resize(1400, 900);
    win->show();
    m_sweeps << view;
    addRecent(dir);
    m_status->setText("sweep " + dir + ": " + QString::number(view->data().runs().size()) + " points (in its own window)");
    return true;
}

QList<SweepView*> MainWindow::sweepViews() const {
    QList<SweepView*> out;
    for (const QPointer<SweepView>& v : m_sweeps)
        if (v) out << v.data();
    return out;
}

bool MainWindow::openRun(const QString& runDir) {
    if (isSweepDir(runDir)) return openSweep(runDir);
    if (m_controller->isRunning()) {
        if (isVisible() &&
            QMessageBox::question(this, "Plateau", "Training is running. Stop it (its run stays on disk) and open " + runDir + "?") !=
                QMessageBox::Yes)
            return false;
        m_controller->stopAndWait();
    }
    m_snapshotLoader.reset();
    auto reader = RunReader::open(runDir, RunReader::Snapshots::NewestOnly);
    if (!reader) {
        notify("Plateau: cannot open run", reader.error(), true);
        return false;
    }
    m_reader = std::move(reader.value());
    m_followTimer->stop();
    const std::vector<StepMetrics>& rows = m_reader->metrics();
    buildViews(m_reader->config());
    m_session->reset(m_reader->config(), m_reader->dir(), rows, m_reader->columns());
    m_analyses->setRun(m_reader->dir(), m_reader->config());
    for (const SnapshotPtr& s : m_reader->snapshots()) m_session->appendSnapshot(s);
    const std::size_t stored = m_reader->snapshotSteps().size();
    if (!m_reader->snapshots().empty() && stored > m_reader->snapshots().size()) {
        m_snapshotLoader = std::make_unique<SnapshotLoader>(m_reader->dir(), m_reader->snapshots().front()->step, [this] {
            QMetaObject::invokeMethod(this, &MainWindow::applyLoadedSnapshots, Qt::QueuedConnection);
        });
        statusBar()->showMessage(QString("reading %1 older snapshots…").arg(stored - m_reader->snapshots().size()));
    }
    if (!rows.empty()) detectOnViewedRun();
    setWindowTitle("Plateau — " + m_reader->dir());
    addRecent(m_reader->dir());
    m_stepsPerSec = 0;
    updateStatus();
    const bool following = m_reader->beingWritten();
    if (following) m_followTimer->start();
    QString state = following ? "following (being trained by another process)"
                    : m_reader->finished() ? "finished" : "stopped";
    m_status->setText(QString("%1: %2 steps, %3 snapshots, %4").arg(m_reader->dir()).arg(rows.empty() ? 0 : rows.back().step)
                          .arg(stored).arg(state));
    if (stored == 0 && m_reader->problems().isEmpty())
        statusBar()->showMessage("this run has no stored snapshots (written before they existed?): only its curves are shown", 10000);
    if (!m_reader->problems().isEmpty())
        notify("Plateau: parts of the run could not be read", m_reader->problems().join("\n"), false);
    updateActions();
    return true;
}

// The offline detector over the viewed run's whole curve, with the window a run of its planned
// length gets (as the live detector uses).
void MainWindow::detectOnViewedRun() {
    m_session->setDetection(detectOnRows(m_reader->metrics(), m_reader->columns(), m_reader->config().info().detector,
                                         m_reader->config().train.steps));
}

bool MainWindow::isFollowing() const { return m_followTimer->isActive(); }

void MainWindow::followTick() {
    if (!m_reader) return m_followTimer->stop();
    const bool writing = m_reader->beingWritten();
    std::vector<StepMetrics> rows;
    std::vector<SnapshotPtr> snaps;
    if (Status st = m_reader->readUpdates(&rows, &snaps); !st) {
        m_followTimer->stop();
        notify("Plateau", st.error(), true);
        return;
    }
    if (!rows.empty()) {
        m_session->appendMetrics(rows);
        double ms = 0;
        for (const auto& r : rows) ms += r.stepMs;
        m_stepsPerSec = double(rows.size()) / std::max(1e-9, ms / 1000.0);
    }
    for (const SnapshotPtr& s : snaps) m_session->appendSnapshot(s);
    // The detector over the whole curve: every 5 s while following, and once at the end.
    static constexpr int kDetectEveryTicks = 5;
    if (!rows.empty() && (++m_followTicks % kDetectEveryTicks == 0 || !writing)) detectOnViewedRun();
    updateStatus();
    if (!writing) {
        m_followTimer->stop();
        m_status->setText(m_reader->dir() + ": the training process has ended");
        updateActions();
    }
}

Status MainWindow::exportView(ThrottledView* view, const QString& path, const QList<FigureFormat>& formats, bool csv,
                              const FigureOptions& options) {
    if (!m_session->hasRun()) return Error{"no run to export"};
    view->redrawNow();
    if (csv) {
        auto files = view->exportCsv(path);
        if (!files) return Error{files.error()};
        statusBar()->showMessage("wrote " + files->join(", "), 8000);
        return Status::success();
    }
    FigureOptions o = options;
    const SnapshotPtr cur = m_session->current();
    if (o.caption.isEmpty())
        o.caption = QFileInfo(m_session->runDir()).fileName() +
                    (cur && !qobject_cast<MetricsView*>(view) ? QString(": step %1").arg(cur->step) : QString());
    for (FigureFormat f : formats)
        if (Status st = exportFigure(view, view->figureParts(), path, f, o); !st) return st;
    statusBar()->showMessage("wrote " + path, 8000);
    return Status::success();
}

void MainWindow::exportViewDialog(ThrottledView* view) {
    if (!m_session->hasRun()) return notify("Plateau", "no run to export yet", true);
    QRect bounds;
    for (QWidget* p : view->figureParts()) bounds |= QRect(p->mapTo(view, QPoint(0, 0)), p->size());
    const QString base = QDir(QFileInfo(m_session->runDir()).absolutePath()).filePath(QFileInfo(m_session->runDir()).fileName() + "-" + view->figureName() + ".pdf");
    ExportDialog d(ExportDialog::OneView, base, bounds.size(), this);
    if (d.exec() != QDialog::Accepted) return;
    if (Status st = exportView(view, d.path(), d.formats(), d.csv(), d.figureOptions()); !st) notify("Plateau: export failed", st.error(), true);
}

void MainWindow::exportFigureSetDialog() {
    if (!m_session->hasRun()) return notify("Plateau", "no run to export yet", true);
    ExportDialog d(ExportDialog::FigureSet, m_session->runDir() + "/figures", QSize(), this);
    if (d.exec() != QDialog::Accepted) return;
    FigureSetOptions o;
    o.formats = d.formats();
    o.steps = d.steps();
    o.figure = d.figureOptions();
    auto files = exportFigureSet(*this, d.path(), o);
    if (!files) return notify("Plateau: export failed", files.error(), true);
    statusBar()->showMessage(QString("wrote %1 files into %2").arg(files->size()).arg(d.path()), 10000);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* e) {
    const auto urls = e->mimeData()->urls();
    if (!urls.isEmpty() && urls.first().isLocalFile() && QFileInfo(urls.first().toLocalFile()).isDir())
        e->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* e) {
    const auto urls = e->mimeData()->urls();
    if (urls.isEmpty() || !urls.first().isLocalFile()) return;
    e->acceptProposedAction();
    openRun(urls.first().toLocalFile());
}

void MainWindow::updateActions() {
    const bool running = m_controller->isRunning();
    m_resume->setEnabled(!running && m_reader && !isFollowing() && !m_reader->finished() && !m_reader->checkpoints().empty() &&
                         m_reader->configOk());
    m_pause->setEnabled(running);
    m_step->setEnabled(running);
    m_stop->setEnabled(running);
    m_pause->setText(m_controller->isPaused() ? "Resume" : "Pause");
}

void MainWindow::closeEvent(QCloseEvent* event) {
    m_controller->stopAndWait();  // final metrics and checkpoint written before we go
    QSettings settings;
    settings.setValue("window/geometry", saveGeometry());
    saveLayout();
    event->accept();
}

}  // namespace plateau
