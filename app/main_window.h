// MainWindow: wires the TrainingController to the SessionModel and the four docks (loss,
// attention, predictions, spectra). Thin: it connects and displays; it does not compute. Layout
// and geometry persist in QSettings. GUI thread only.
#pragma once

#include "config.h"
#include "figure_export.h"

#include <QMainWindow>
#include <memory>

class QAction;
class QDockWidget;
class QMenu;
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
class TimelineView;
class ThrottledView;
class RunReader;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    void startRun(const RunConfig& cfg, const QString& outDir);
    void resumeRun(const QString& runDir);
    // Opens a run folder for viewing and scrubbing (stored metrics and snapshots; nothing is
    // recomputed). A run another process is training is followed as it grows. Problems (a
    // missing config.json, a damaged snapshot, a truncated checkpoint) are shown, naming the
    // file; whatever is readable still opens. False if nothing could be opened.
    bool openRun(const QString& runDir);
    bool isFollowing() const;
    // Export one view (figure in a format, or its CSV) / the run's figure set; messages via notify.
    Status exportView(ThrottledView* view, const QString& path, const QList<FigureFormat>& formats, bool csv,
                      const FigureOptions& options);
    QStringList recentRuns() const;
    void resetLayout();
    QString defaultRunsFolder() const;

    SessionModel* session() const { return m_session; }
    TrainingController* controller() const { return m_controller; }
    LossView* lossView() const { return m_loss; }
    AttentionView* attentionView() const { return m_attention; }
    PredictionView* predictionView() const { return m_predictions; }
    SpectraView* spectraView() const { return m_spectra; }
    TimelineView* timeline() const { return m_timeline; }
    // The last message shown to the user (error or warning), for tests.
    QString lastMessage() const { return m_lastMessage; }
    QList<QDockWidget*> docks() const;
    QAction* pauseAction() const { return m_pause; }
    QAction* stepAction() const { return m_step; }
    QAction* stopAction() const { return m_stop; }
    QString statusText() const;

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* e) override;
    void dropEvent(QDropEvent* e) override;

private:
    QDockWidget* addView(const QString& title, const QString& name, QWidget* view, Qt::DockWidgetArea area);
    void updateActions();
    void newRunDialog();
    void updateStatus();
    void notify(const QString& title, const QString& text, bool error);
    void addRecent(const QString& dir);
    void fillRecentMenu();
    void followTick();
    void detectOnViewedRun();
    void openRunDialog();
    void exportViewDialog(ThrottledView* view);
    void exportFigureSetDialog();

    SessionModel* m_session;
    TrainingController* m_controller;
    LossView* m_loss;
    AttentionView* m_attention;
    PredictionView* m_predictions;
    SpectraView* m_spectra;
    TimelineView* m_timeline;
    QDockWidget *m_lossDock, *m_attentionDock, *m_predictionDock, *m_spectraDock, *m_timelineDock;
    QAction *m_pause, *m_step, *m_stop, *m_resume;
    QMenu* m_recentMenu;
    std::unique_ptr<RunReader> m_reader;  // the run being viewed (not trained here), if any
    QTimer* m_followTimer;
    QString m_lastMessage;
    int m_followTicks = 0;
    QLabel* m_status;
    QProgressBar* m_progress;
    QByteArray m_defaultState;
    double m_stepsPerSec = 0;
};

}  // namespace plateau
