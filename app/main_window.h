// MainWindow: wires the TrainingController to the SessionModel and the docks of the experiment
// being shown: its ExperimentInfo lists the views (view_registry.h), and the window builds one dock
// per view when a run of another experiment starts or opens. Thin: it connects and displays; it
// does not compute. Geometry persists in QSettings, the dock layout per experiment. GUI thread only.
#pragma once

#include "config.h"
#include "figure_export.h"

#include <QMainWindow>
#include <QPointer>
#include <memory>

class QAction;
class QDockWidget;
class QMenu;
class QLabel;
class QProgressBar;
class QTimer;

namespace plateau {

class AnalysesDock;
class AttentionView;
class MatrixView;
class MetricsView;
class SessionModel;
class SpectraView;
class TrainingController;
class TimelineView;
class ThrottledView;
class RunReader;
class SnapshotLoader;
class SweepView;

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
    // The window shows the newest stored snapshot at once; the older ones are decoded on a thread
    // and merged into the timeline when ready (snapshotsLoading() until then).
    // A sweep folder (sweep.json) opens in a window of its own (SweepView); double-clicking a point
    // there opens its run here.
    bool openRun(const QString& runDir);
    bool openSweep(const QString& sweepDir);
    // The sweep views of the open sweep windows, newest last.
    QList<SweepView*> sweepViews() const;
    bool snapshotsLoading() const;
    // Waits for the older snapshots of an opened run and merges them (exports need them all).
    void finishSnapshotLoading();
    bool isFollowing() const;
    // Export one view (figure in a format, or its CSV) / the run's figure set; messages via notify.
    Status exportView(ThrottledView* view, const QString& path, const QList<FigureFormat>& formats, bool csv,
                      const FigureOptions& options);
    QStringList recentRuns() const;
    void resetLayout();
    QString defaultRunsFolder() const;

    SessionModel* session() const { return m_session; }
    TrainingController* controller() const { return m_controller; }
    // The views of the experiment shown, in its ViewSpec order, and their docks.
    const QList<ThrottledView*>& views() const { return m_views; }
    ThrottledView* view(const QString& name) const;
    QString viewsExperiment() const { return m_viewsExperiment; }
    // The first view of a kind (null if the experiment shows none).
    MetricsView* metricsView() const;
    AttentionView* attentionView() const;
    MatrixView* matrixView() const;
    SpectraView* spectraView() const;
    TimelineView* timeline() const { return m_timeline; }
    AnalysesDock* analyses() const { return m_analyses; }
    QDockWidget* analysesDock() const { return m_analysesDock; }
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
    // Builds the docks of an experiment's views (no-op if they are shown already).
    void buildViews(const RunConfig& cfg);
    void saveLayout();
    template <class V> V* firstView() const;
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
    QList<ThrottledView*> m_views;
    QList<QDockWidget*> m_viewDocks;
    QString m_viewsExperiment;
    TimelineView* m_timeline;
    QDockWidget* m_timelineDock;
    AnalysesDock* m_analyses;
    QDockWidget* m_analysesDock;
    QMenu* m_exportMenu;
    QMenu* m_viewMenu;
    QAction* m_viewMenuSeparator;
    QAction *m_pause, *m_step, *m_stop, *m_resume;
    QMenu* m_recentMenu;
    std::unique_ptr<RunReader> m_reader;  // the run being viewed (not trained here), if any
    std::unique_ptr<SnapshotLoader> m_snapshotLoader;  // its older snapshots, while they are read
    QList<QPointer<SweepView>> m_sweeps;
    void applyLoadedSnapshots();
    QTimer* m_followTimer;
    QString m_lastMessage;
    int m_followTicks = 0;
    QLabel* m_status;
    QProgressBar* m_progress;
    QByteArray m_defaultState;
    double m_stepsPerSec = 0;
};

}  // namespace plateau
