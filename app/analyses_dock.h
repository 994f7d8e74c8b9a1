// AnalysesDock: runs the analyses (core/analysis/analysis.h) on the run shown, on a thread of its
// own (never the GUI thread, never the training thread's model): choose the analysis, the
// checkpoints (last, all, or a list of steps) and its parameters (validated like config fields,
// errors naming the field), run with a progress bar and cancel; the result goes to the run folder
// (analyses/<id>/) and into the AnalysisView below. A stored result is shown when the run is
// opened, marked stale (and why) when a checkpoint or the parameters changed. While training runs
// in this process the analysis uses one thread (its share), and its progress reaches the GUI at
// most 20 times a second. GUI thread; the worker only computes and writes its result.
#pragma once

#include "analysis/analysis.h"
#include "config.h"

#include <QWidget>

#include <atomic>
#include <memory>

class QComboBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QThread;

namespace plateau {

class AnalysisView;
class SessionModel;

class AnalysesDock : public QWidget {
    Q_OBJECT
public:
    AnalysesDock(SessionModel* model, QWidget* parent = nullptr);
    ~AnalysesDock() override;

    // The run shown (its folder and config): lists its experiment's analyses and shows the stored
    // result of the chosen one.
    void setRun(const QString& runDir, const RunConfig& cfg);
    // Training in this process: analyses then use one thread.
    void setTrainingActive(bool on) { m_trainingActive = on; }

    bool selectAnalysis(const QString& id);
    // "last", "all" or "a,b,c"; parameters as key=value texts (what the form holds).
    void setSteps(const QString& text);
    bool setParam(const QString& key, const QString& text);
    // Starts the analysis; false (and the message shown) when the request is invalid or one runs.
    bool run();
    void cancel();
    bool isRunning() const { return m_thread != nullptr; }
    // Blocks until the running analysis (if any) has finished (tests, closing).
    void waitForFinished();

    AnalysisView* view() const { return m_view; }
    QString message() const;
    double progress() const;

signals:
    void analysisFinished(const QString& id, const QString& error);

private:
    void analysisChanged();
    void showStored();
    void setMessage(const QString& text, bool error);
    Result<std::vector<qint64>> chosenSteps() const;
    QStringList formSets() const;

    SessionModel* m_model;
    QString m_runDir;
    RunConfig m_cfg;
    bool m_haveRun = false;
    bool m_trainingActive = false;
    QComboBox* m_analysis;
    QLineEdit* m_steps;
    QLabel* m_checkpoints;
    QWidget* m_form;
    QFormLayout* m_formLayout;
    std::vector<std::pair<QString, QLineEdit*>> m_fields;
    QPushButton* m_run;
    QPushButton* m_cancelButton;
    QProgressBar* m_bar;
    QLabel* m_message;
    AnalysisView* m_view;
    QThread* m_thread = nullptr;
    std::shared_ptr<std::atomic<bool>> m_cancel;
    std::shared_ptr<std::atomic<int>> m_progressPermille;
};

}  // namespace plateau
