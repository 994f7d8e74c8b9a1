#include "main_window.h"

#include "loss_plot.h"
#include "training_controller.h"

#include <QCloseEvent>
#include <QDockWidget>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QSettings>
#include <QStatusBar>
#include <QToolBar>

#include <cmath>

namespace plateau {

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), m_controller(new TrainingController(this)), m_loss(new LossPlot) {
    setWindowTitle("Plateau");
    setDockNestingEnabled(true);
    auto* lossDock = new QDockWidget("Loss", this);
    lossDock->setObjectName("dock.loss");
    lossDock->setWidget(m_loss);
    setCentralWidget(nullptr);
    addDockWidget(Qt::TopDockWidgetArea, lossDock);

    auto* bar = addToolBar("Training");
    bar->setObjectName("toolbar.training");
    m_pause = bar->addAction("Pause");
    m_pause->setShortcut(Qt::Key_Space);
    m_step = bar->addAction("Step");
    m_stop = bar->addAction("Stop");
    connect(m_pause, &QAction::triggered, this, [this] {
        if (m_controller->isPaused()) m_controller->resume();
        else m_controller->pause();
        updateActions();
    });
    connect(m_step, &QAction::triggered, m_controller, &TrainingController::stepOnce);
    connect(m_step, &QAction::triggered, this, &MainWindow::updateActions);
    connect(m_stop, &QAction::triggered, m_controller, &TrainingController::stop);

    auto* view = menuBar()->addMenu("&View");
    view->addAction(lossDock->toggleViewAction());
    menuBar()->addMenu("&Run")->addActions({m_pause, m_step, m_stop});

    m_status = new QLabel("idle");
    m_progress = new QProgressBar;
    m_progress->setMaximumWidth(240);
    m_progress->setFormat("%p%");
    statusBar()->addWidget(m_status, 1);
    statusBar()->addPermanentWidget(m_progress);

    connect(m_controller, &TrainingController::started, this,
            [this](const QString& dir, const QString& runtime, const QStringList& warnings, const RunConfig& cfg) {
                m_cfg = cfg;
                m_progress->setRange(0, 1000);
                setWindowTitle("Plateau — " + dir);
                m_loss->setReferenceLevel(cfg.task.pMask * expectedSquare(cfg.task), "copying level p·E[X²]");
                statusBar()->showMessage("runtime: " + runtime, 8000);
                if (!warnings.isEmpty()) QMessageBox::warning(this, "Plateau: slow runtime", warnings.join("\n"));
                updateActions();
            });
    connect(m_controller, &TrainingController::metricsArrived, this,
            [this](const std::vector<StepMetrics>& rows) {
                if (rows.empty()) return;
                m_loss->append(rows);
                const StepMetrics& m = rows.back();
                double ms = 0;
                for (const auto& r : rows) ms += r.stepMs;
                const double sps = rows.size() / std::max(1e-9, ms / 1000.0);
                const double eta = double(m_cfg.train.steps - m.step) / std::max(1e-9, sps);
                m_status->setText(QString("step %1 / %2   L %3   L_obs %4   L_mask %5   %6 steps/s   ETA %7 s")
                                      .arg(m.step).arg(m_cfg.train.steps)
                                      .arg(m.loss, 0, 'e', 2).arg(m.lossObs, 0, 'e', 2).arg(m.lossMask, 0, 'e', 2)
                                      .arg(sps, 0, 'f', 1).arg(eta, 0, 'f', 0));
                m_progress->setValue(int(1000.0 * double(m.step) / double(std::max<qint64>(1, m_cfg.train.steps))));
            });
    connect(m_controller, &TrainingController::finished, this, [this](qint64 steps, const QString& error) {
        m_status->setText(error.isEmpty() ? QString("stopped at step %1").arg(steps) : error);
        if (!error.isEmpty()) QMessageBox::critical(this, "Plateau", error);
        updateActions();
    });

    QSettings settings;
    restoreGeometry(settings.value("window/geometry").toByteArray());
    restoreState(settings.value("window/state").toByteArray());
    if (!settings.contains("window/geometry")) resize(1100, 700);
    updateActions();
}

MainWindow::~MainWindow() = default;

void MainWindow::startRun(const RunConfig& cfg, const QString& outDir) {
    m_cfg = cfg;
    m_loss->clear();
    m_controller->start(cfg, outDir);
    updateActions();
}

void MainWindow::resumeRun(const QString& runDir) {
    m_loss->clear();
    m_controller->resumeRun(runDir);
    updateActions();
}

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
