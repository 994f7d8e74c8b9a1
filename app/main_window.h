// MainWindow: wires the TrainingController to the SessionModel and the four docks (loss,
// attention, predictions, spectra). Thin: it connects and displays; it does not compute. Layout
// and geometry persist in QSettings. GUI thread only.
#pragma once

#include "config.h"

#include <QMainWindow>

class QAction;
class QDockWidget;
class QLabel;
class QProgressBar;
class QTimer;

namespace plateau {

class AttentionView;
class LossView;
class PredictionView;
class SessionModel;
class SpectraView;
class TrainingController;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    void startRun(const RunConfig& cfg, const QString& outDir);
    void resumeRun(const QString& runDir);
    void resetLayout();
    QString defaultRunsFolder() const;

    SessionModel* session() const { return m_session; }
    TrainingController* controller() const { return m_controller; }
    LossView* lossView() const { return m_loss; }
    AttentionView* attentionView() const { return m_attention; }
    PredictionView* predictionView() const { return m_predictions; }
    SpectraView* spectraView() const { return m_spectra; }
    QList<QDockWidget*> docks() const;
    QAction* pauseAction() const { return m_pause; }
    QAction* stepAction() const { return m_step; }
    QAction* stopAction() const { return m_stop; }
    QString statusText() const;

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    QDockWidget* addView(const QString& title, const QString& name, QWidget* view, Qt::DockWidgetArea area);
    void updateActions();
    void newRunDialog();
    void updateStatus();

    SessionModel* m_session;
    TrainingController* m_controller;
    LossView* m_loss;
    AttentionView* m_attention;
    PredictionView* m_predictions;
    SpectraView* m_spectra;
    QDockWidget *m_lossDock, *m_attentionDock, *m_predictionDock, *m_spectraDock;
    QAction *m_pause, *m_step, *m_stop;
    QLabel* m_status;
    QProgressBar* m_progress;
    QTimer* m_statusTimer;
    QByteArray m_defaultState;
    double m_stepsPerSec = 0;
};

}  // namespace plateau
