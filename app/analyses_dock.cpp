#include "analyses_dock.h"

#include "analysis_view.h"
#include "run/run_store.h"
#include "session_model.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QThread>
#include <QTimer>
#include <QVBoxLayout>

namespace plateau {

namespace {
// The text a field's value is edited as ("0.3", "[0.1, 0.2]", "mean", "true").
QString editText(const QJsonValue& v) {
    if (v.isString()) return v.toString();
    if (v.isBool()) return v.toBool() ? "true" : "false";
    if (v.isArray()) {
        QStringList parts;
        for (const QJsonValue& x : v.toArray()) parts << QString::number(x.toDouble(), 'g', 12);
        return "[" + parts.join(", ") + "]";
    }
    return QString::number(v.toDouble(), 'g', 12);
}
}  // namespace

AnalysesDock::AnalysesDock(SessionModel* model, QWidget* parent)
    : QWidget(parent), m_model(model), m_cancel(std::make_shared<std::atomic<bool>>(false)),
      m_progressPermille(std::make_shared<std::atomic<int>>(0)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* top = new QHBoxLayout;
    m_analysis = new QComboBox;
    m_analysis->setToolTip("the analyses of this run's experiment");
    top->addWidget(m_analysis, 2);
    top->addWidget(new QLabel("checkpoints"));
    m_steps = new QLineEdit("last");
    m_steps->setToolTip("last, all, or checkpoint steps separated by commas (e.g. 1000,5500)");
    m_steps->setMaximumWidth(160);
    top->addWidget(m_steps, 1);
    m_checkpoints = new QLabel;
    top->addWidget(m_checkpoints);
    layout->addLayout(top);
    m_form = new QWidget;
    m_formLayout = new QFormLayout(m_form);
    m_formLayout->setContentsMargins(0, 0, 0, 0);
    auto* scroll = new QScrollArea;
    scroll->setWidget(m_form);
    scroll->setWidgetResizable(true);
    scroll->setMaximumHeight(150);
    layout->addWidget(scroll);
    auto* actions = new QHBoxLayout;
    m_run = new QPushButton("Run");
    m_cancelButton = new QPushButton("Cancel");
    m_cancelButton->setEnabled(false);
    m_bar = new QProgressBar;
    m_bar->setRange(0, 1000);
    m_bar->setValue(0);
    actions->addWidget(m_run);
    actions->addWidget(m_cancelButton);
    actions->addWidget(m_bar, 1);
    layout->addLayout(actions);
    m_message = new QLabel;
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_message);
    m_view = new AnalysisView(model);
    layout->addWidget(m_view, 1);
    connect(m_analysis, &QComboBox::currentIndexChanged, this, &AnalysesDock::analysisChanged);
    connect(m_run, &QPushButton::clicked, this, [this] { run(); });
    connect(m_cancelButton, &QPushButton::clicked, this, &AnalysesDock::cancel);
    auto* poll = new QTimer(this);  // the worker's progress, read 10 times a second
    poll->setInterval(100);
    connect(poll, &QTimer::timeout, this, [this] {
        if (m_thread) m_bar->setValue(m_progressPermille->load());
    });
    poll->start();
    setEnabled(false);
    setMessage("open or start a run to analyse its checkpoints", false);
}

AnalysesDock::~AnalysesDock() {
    cancel();
    waitForFinished();
}

void AnalysesDock::setRun(const QString& runDir, const RunConfig& cfg) {
    if (isRunning()) {
        cancel();
        waitForFinished();
    }
    m_runDir = runDir;
    m_cfg = cfg;
    m_haveRun = true;
    const QString previous = m_analysis->currentData().toString();
    {
        const QSignalBlocker b(m_analysis);
        m_analysis->clear();
        for (const AnalysisInfo* a : analysesFor(cfg.experiment)) {
            m_analysis->addItem(a->title + " (" + a->paper + ")", a->id);
            m_analysis->setItemData(m_analysis->count() - 1, a->summary, Qt::ToolTipRole);
        }
        const int keep = m_analysis->findData(previous);
        if (m_analysis->count()) m_analysis->setCurrentIndex(keep >= 0 ? keep : 0);
    }
    setEnabled(m_analysis->count() > 0);
    if (m_analysis->count() == 0) {
        m_view->clear("no analyses apply to " + cfg.experiment + " runs yet");
        setMessage("no analyses apply to " + cfg.experiment + " runs yet", false);
        return;
    }
    analysisChanged();
}

bool AnalysesDock::selectAnalysis(const QString& id) {
    const int i = m_analysis->findData(id);
    if (i < 0) return false;
    m_analysis->setCurrentIndex(i);
    return true;
}

void AnalysesDock::setSteps(const QString& text) { m_steps->setText(text); }

bool AnalysesDock::setParam(const QString& key, const QString& text) {
    for (auto& [k, edit] : m_fields)
        if (k == key) {
            edit->setText(text);
            return true;
        }
    return false;
}

void AnalysesDock::analysisChanged() {
    while (m_formLayout->rowCount() > 0) m_formLayout->removeRow(0);
    m_fields.clear();
    const AnalysisInfo* a = findAnalysis(m_analysis->currentData().toString());
    if (!a) return;
    for (const FieldSpec& f : a->params) {
        auto* edit = new QLineEdit(editText(f.defaultValue));
        edit->setToolTip(f.help);
        edit->setPlaceholderText(f.help);
        m_formLayout->addRow(f.key, edit);
        m_fields.push_back({f.key, edit});
    }
    showStored();
}

QStringList AnalysesDock::formSets() const {
    QStringList sets;
    for (const auto& [k, edit] : m_fields) sets << k + "=" + edit->text().trimmed();
    return sets;
}

Result<std::vector<qint64>> AnalysesDock::chosenSteps() const {
    std::vector<qint64> available;
    for (const CheckpointFile& c : checkpointsIn(m_runDir)) available.push_back(c.step);
    return chooseSteps(m_steps->text(), available, m_runDir, "checkpoints");
}

void AnalysesDock::showStored() {
    std::vector<qint64> available;
    for (const CheckpointFile& c : checkpointsIn(m_runDir)) available.push_back(c.step);
    m_checkpoints->setText(QString("(%1 stored)").arg(available.size()));
    const QString id = m_analysis->currentData().toString();
    auto stored = readAnalysisResult(m_runDir, id);
    if (!stored) {
        m_bar->setValue(0);
        const bool none = !QFileInfo::exists(analysisDir(m_runDir, id));
        m_view->clear(none ? "not run on this run yet" : stored.error());
        setMessage(none ? "" : stored.error(), !none);
        return;
    }
    // Current only with the same parameters and unchanged checkpoints.
    const AnalysisInfo* a = findAnalysis(id);
    QString reason;
    if (auto check = analysisParams(*a, {}, "analysis parameters"); !check) reason = check.error();
    auto prints = checkpointFingerprints(m_runDir, stored->steps);
    if (!prints) reason = prints.error();
    else if (reason.isEmpty()) reason = staleReason(stored.value(), stored->params, prints.value());
    m_bar->setValue(reason.isEmpty() ? 1000 : 0);
    m_view->setResult(stored.value(), reason.isEmpty() ? "stored result, current"
                                                       : "STALE, shown for reference (" + reason + "): Run recomputes it");
    // The stored steps and parameters into the form, so that Run asks for the same thing again.
    if (stored->steps == available) m_steps->setText("all");
    else if (stored->steps.size() == 1 && stored->steps.front() == available.back()) m_steps->setText("last");
    else {
        QStringList list;
        for (qint64 st : stored->steps) list << QString::number(st);
        m_steps->setText(list.join(","));
    }
    for (auto& [k, edit] : m_fields)
        if (stored->params.contains(k)) edit->setText(editText(stored->params.value(k)));
    setMessage(reason.isEmpty() ? "" : "stored result is stale: " + reason, false);
}

bool AnalysesDock::run() {
    if (!m_haveRun) return false;
    if (isRunning()) {
        setMessage("an analysis is running: cancel it first", true);
        return false;
    }
    const AnalysisInfo* a = findAnalysis(m_analysis->currentData().toString());
    if (!a) return false;
    auto params = analysisParams(*a, formSets(), "analysis parameters");
    if (!params) {
        setMessage(params.error(), true);
        return false;
    }
    auto steps = chosenSteps();
    if (!steps) {
        setMessage(steps.error(), true);
        return false;
    }
    AnalysisRequest q;
    q.runDir = m_runDir;
    q.config = m_cfg;
    q.steps = steps.value();
    q.params = params.value();
    q.threads = m_trainingActive ? 1 : 0;
    m_cancel->store(false);
    m_progressPermille->store(0);
    auto cancelFlag = m_cancel;
    auto permille = m_progressPermille;
    auto outcome = std::make_shared<Result<AnalysisResult>>(Error{"not run"});
    const AnalysisInfo info = *a;
    m_thread = QThread::create([q, info, cancelFlag, permille, outcome]() mutable {
        q.cancel = cancelFlag.get();
        q.progress = [permille](double f) { permille->store(int(1000 * f)); };
        Result<AnalysisResult> r = runAnalysis(info, q);
        if (r) {
            if (Status st = writeAnalysisResult(q.runDir, r.value()); !st) r = Error{st.error()};
        }
        *outcome = std::move(r);
    });
    m_thread->setObjectName("analysis");
    connect(m_thread, &QThread::finished, this, [this, outcome, id = info.id] {
        m_thread->deleteLater();
        m_thread = nullptr;
        m_run->setEnabled(true);
        m_cancelButton->setEnabled(false);
        m_analysis->setEnabled(true);
        if (*outcome) {
            m_bar->setValue(1000);
            m_view->setResult(outcome->value(), "written to " + analysisDir(m_runDir, id));
            setMessage(QString("%1 done in %2 s").arg(id).arg(outcome->value().seconds, 0, 'f', 1), false);
            emit analysisFinished(id, {});
        } else {
            m_bar->setValue(0);
            setMessage(outcome->error(), true);
            emit analysisFinished(id, outcome->error());
        }
    });
    m_run->setEnabled(false);
    m_cancelButton->setEnabled(true);
    m_analysis->setEnabled(false);
    setMessage(QString("running %1 on %2 checkpoint(s)%3…").arg(info.id).arg(q.steps.size()).arg(q.threads == 1 ? " with one thread (training runs)" : ""),
               false);
    m_thread->start(QThread::LowPriority);
    return true;
}

void AnalysesDock::cancel() {
    if (m_thread) m_cancel->store(true);
}

void AnalysesDock::waitForFinished() {
    if (!m_thread) return;
    m_thread->wait();
    QCoreApplication::sendPostedEvents(this);  // the finished handler, queued to this thread
    QCoreApplication::processEvents();
}

QString AnalysesDock::message() const { return m_message->text(); }
double AnalysesDock::progress() const { return m_bar->value() / 1000.0; }

void AnalysesDock::setMessage(const QString& text, bool error) {
    m_message->setText(text);
    m_message->setStyleSheet(error ? "color: #b00020" : "");
}

}  // namespace plateau
