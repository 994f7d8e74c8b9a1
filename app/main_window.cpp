#include "main_window.h"

#include "attention_view.h"
#include "loss_view.h"
#include "new_run_dialog.h"
#include "prediction_view.h"
#include "session_model.h"
#include "spectra_view.h"
#include "training_controller.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QLabel>
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
    m_loss = new LossView(m_session);
    m_attention = new AttentionView(m_session);
    m_predictions = new PredictionView(m_session);
    m_spectra = new SpectraView(m_session);
    m_lossDock = addView("Loss", "dock.loss", m_loss, Qt::LeftDockWidgetArea);
    m_attentionDock = addView("Attention", "dock.attention", m_attention, Qt::RightDockWidgetArea);
    m_spectraDock = addView("Spectra", "dock.spectra", m_spectra, Qt::LeftDockWidgetArea);
    m_predictionDock = addView("Predictions", "dock.predictions", m_predictions, Qt::RightDockWidgetArea);

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
    file->addSeparator();
    file->addAction("&Quit", QKeySequence::Quit, this, &QWidget::close);
    menuBar()->addMenu("&Run")->addActions({m_pause, m_step, m_stop});
    auto* view = menuBar()->addMenu("&View");
    for (QDockWidget* d : docks()) view->addAction(d->toggleViewAction());
    view->addSeparator();
    view->addAction("Reset layout", this, &MainWindow::resetLayout);

    m_status = new QLabel("idle");
    m_progress = new QProgressBar;
    m_progress->setMaximumWidth(260);
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    statusBar()->addWidget(m_status, 1);
    statusBar()->addPermanentWidget(m_progress);

    connect(m_attention, &AttentionView::maskRequested, m_controller, &TrainingController::setProbeSpec);
    connect(m_controller, &TrainingController::started, this,
            [this](const QString& dir, const QString& runtime, const QStringList& warnings, const RunConfig& cfg,
                   const std::vector<StepMetrics>& earlier) {
                m_session->reset(cfg, dir, earlier);
                setWindowTitle("Plateau — " + dir);
                statusBar()->showMessage("runtime: " + runtime, 8000);
                if (!warnings.isEmpty()) QMessageBox::warning(this, "Plateau: slow runtime", warnings.join("\n"));
                updateActions();
            });
    connect(m_controller, &TrainingController::snapshotReady, m_session, &SessionModel::appendSnapshot);
    connect(m_controller, &TrainingController::detectionChanged, m_session, &SessionModel::setDetection);
    // The status bar is refreshed at most 4 times a second (rows arrive every 0.1 s).
    m_statusTimer = new QTimer(this);
    m_statusTimer->setSingleShot(true);
    m_statusTimer->setInterval(250);
    connect(m_statusTimer, &QTimer::timeout, this, &MainWindow::updateStatus);
    connect(m_controller, &TrainingController::metricsArrived, this, [this](const std::vector<StepMetrics>& rows) {
        if (rows.empty()) return;
        m_session->appendMetrics(rows);
        double ms = 0;
        for (const auto& r : rows) ms += r.stepMs;
        const double sps = double(rows.size()) / std::max(1e-9, ms / 1000.0);
        m_stepsPerSec = m_stepsPerSec == 0 ? sps : 0.8 * m_stepsPerSec + 0.2 * sps;
        if (!m_statusTimer->isActive()) m_statusTimer->start();
    });
    connect(m_controller, &TrainingController::finished, this, [this](qint64 steps, const QString& error) {
        m_statusTimer->stop();
        updateStatus();
        m_status->setText(error.isEmpty() ? QString("stopped at step %1 (run folder %2)").arg(steps).arg(m_session->runDir())
                                          : error);
        m_progress->setFormat("%p%");
        if (!error.isEmpty() && isVisible()) QMessageBox::critical(this, "Plateau", error);
        updateActions();
    });

    // The default layout (also what "Reset layout" returns to): loss over spectra on the left,
    // attention over predictions on the right, the right column a little wider.
    resize(1500, 950);
    resizeDocks({m_lossDock, m_attentionDock}, {640, 860}, Qt::Horizontal);
    resizeDocks({m_lossDock, m_spectraDock}, {520, 300}, Qt::Vertical);
    resizeDocks({m_attentionDock, m_predictionDock}, {500, 320}, Qt::Vertical);
    m_defaultState = saveState();
    QSettings settings;
    restoreGeometry(settings.value("window/geometry").toByteArray());
    restoreState(settings.value("window/state").toByteArray());
    updateActions();
}

MainWindow::~MainWindow() = default;

void MainWindow::updateStatus() {
    const auto& rows = m_session->metrics();
    if (rows.empty()) return;
    const RunConfig& cfg = m_session->config();
    const StepMetrics& m = rows.back();
    const double eta = double(cfg.train.steps - m.step) / std::max(1e-9, m_stepsPerSec);
    m_status->setText(QString("step %1 / %2   L %3   L_obs %4   L_mask %5   %6 steps/s")
                          .arg(m.step).arg(cfg.train.steps).arg(m.loss, 0, 'e', 2).arg(m.lossObs, 0, 'e', 2)
                          .arg(m.lossMask, 0, 'e', 2).arg(m_stepsPerSec, 0, 'f', 1));
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

QList<QDockWidget*> MainWindow::docks() const { return {m_lossDock, m_attentionDock, m_predictionDock, m_spectraDock}; }

void MainWindow::resetLayout() {
    for (QDockWidget* d : docks()) {
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

void MainWindow::updateActions() {
    const bool running = m_controller->isRunning();
    m_pause->setEnabled(running);
    m_step->setEnabled(running);
    m_stop->setEnabled(running);
    m_pause->setText(m_controller->isPaused() ? "Resume" : "Pause");
}

void MainWindow::closeEvent(QCloseEvent* event) {
    m_controller->stopAndWait();  // final metrics and checkpoint written before we go
    QSettings settings;
    settings.setValue("window/geometry", saveGeometry());
    settings.setValue("window/state", saveState());
    event->accept();
}

}  // namespace plateau
