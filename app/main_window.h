// MainWindow: wires the TrainingController to the views (docks). Thin: it connects and
// displays; it does not compute. GUI thread only.
#pragma once

#include "config.h"

#include <QMainWindow>

class QAction;
class QLabel;
class QProgressBar;

namespace plateau {

class LossPlot;
class TrainingController;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    void startRun(const RunConfig& cfg, const QString& outDir);
    void resumeRun(const QString& runDir);
    LossPlot* lossPlot() const { return m_loss; }
    TrainingController* controller() const { return m_controller; }

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void updateActions();

    TrainingController* m_controller;
    LossPlot* m_loss;
    QAction *m_pause, *m_step, *m_stop;
    QLabel* m_status;
    QProgressBar* m_progress;
    RunConfig m_cfg;
};

}  // namespace plateau
