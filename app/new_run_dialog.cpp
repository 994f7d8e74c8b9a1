#include "new_run_dialog.h"

#include "experiment_info.h"
#include "precision.h"

#include <QComboBox>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace plateau {

namespace {
const char* kDefaults = "(defaults)";
QLabel* errorLabel() {
    auto* l = new QLabel;
    l->setStyleSheet("color: #c0392b;");
    l->setWordWrap(true);
    l->hide();
    return l;
}
void showError(QLabel* l, const QString& text) {
    l->setText(text);
    l->setVisible(!text.isEmpty());
}
QString fieldText(const QJsonValue& v) {
    if (v.isDouble()) return QString::number(v.toDouble(), 'g', 10);
    if (v.isArray()) return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
    if (v.isBool()) return v.toBool() ? "true" : "false";
    return v.toString();
}
}  // namespace

NewRunDialog::NewRunDialog(const QString& defaultParent, QWidget* parent)
    : QDialog(parent), m_defaultParent(defaultParent) {
    setWindowTitle("New run");
    auto* layout = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    m_experiment = new QComboBox;
    for (const ExperimentInfo* e : experimentRegistry()) m_experiment->addItem(e->title, e->id);
    form->addRow("experiment", m_experiment);
    m_preset = new QComboBox;
    form->addRow("preset", m_preset);
    m_summary = new QLabel;
    m_summary->setWordWrap(true);
    m_summary->setMaximumWidth(560);
    form->addRow("", m_summary);
    layout->addLayout(form);
    m_fieldForm = new QFormLayout;
    layout->addLayout(m_fieldForm);
    auto* outForm = new QFormLayout;
    m_out = new QLineEdit;
    auto* browse = new QPushButton("Browse…");
    auto* outRow = new QHBoxLayout;
    outRow->addWidget(m_out, 1);
    outRow->addWidget(browse);
    auto* outBox = new QWidget;
    auto* ol = new QVBoxLayout(outBox);
    ol->setContentsMargins(0, 0, 0, 0);
    ol->addLayout(outRow);
    m_outError = errorLabel();
    ol->addWidget(m_outError);
    outForm->addRow("output folder", outBox);
    layout->addLayout(outForm);
    m_overall = errorLabel();
    layout->addWidget(m_overall);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    m_buttons->button(QDialogButtonBox::Ok)->setText("Start training");
    layout->addWidget(m_buttons);

    connect(m_buttons, &QDialogButtonBox::accepted, this, [this] {
        if (m_valid) accept();
    });
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_out, &QLineEdit::textChanged, this, &NewRunDialog::revalidate);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, "Parent folder for the run", m_defaultParent);
        if (!dir.isEmpty())
            m_out->setText(QDir(dir).filePath(m_preset->currentText().remove('(').remove(')') + "-" +
                                              QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss")));
    });
    connect(m_experiment, &QComboBox::currentIndexChanged, this, [this] {
        fillPresets();
        rebuildFields();
        loadPresetFields();
    });
    connect(m_preset, &QComboBox::currentTextChanged, this, &NewRunDialog::loadPresetFields);
    setExperiment(defaultExperimentId());
    fillPresets();
    rebuildFields();
    setPreset("quick");
    loadPresetFields();
}

QString NewRunDialog::experiment() const { return m_experiment->currentData().toString(); }

void NewRunDialog::setExperiment(const QString& id) {
    const int i = m_experiment->findData(id);
    if (i >= 0) m_experiment->setCurrentIndex(i);
}

QStringList NewRunDialog::presets() const {
    QStringList out;
    for (int i = 0; i < m_preset->count(); ++i) out << m_preset->itemText(i);
    return out;
}

void NewRunDialog::fillPresets() {
    const QSignalBlocker block(m_preset);
    m_preset->clear();
    for (const QString& p : presetNames())
        if (auto c = loadPreset(p); c && c->experiment == experiment()) m_preset->addItem(p);
    m_preset->addItem(kDefaults);
}

// One line edit per key the experiment offers, with its error label under it.
void NewRunDialog::rebuildFields() {
    while (m_fieldForm->rowCount() > 0) m_fieldForm->removeRow(0);
    m_fields.clear();
    m_errors.clear();
    const ExperimentInfo* info = findExperiment(experiment());
    if (!info) return;
    // Every experiment's own keys, then component-wise training (the paper's Fig 8): start from a
    // trained run's checkpoint, train one component with the rest frozen (empty = a fresh model).
    QStringList keys = info->dialogKeys;
    keys << "train.precision" << "train.from" << "train.train_only" << "train.reinit";
    for (const QString& key : keys) {
        auto* edit = new QLineEdit;
        if (key == "train.from") edit->setPlaceholderText("empty = a fresh model; RUN_DIR or RUN_DIR:STEP to start from its checkpoint");
        if (key == "train.train_only") edit->setPlaceholderText("empty = everything; " + trainComponents().mid(1).join(", "));
        edit->setObjectName(key);
        const QString section = key.section('.', 0, 0), name = key.section('.', 1);
        const std::vector<FieldSpec>& fields = section == "task" ? info->taskFields : info->modelFields;
        if (const FieldSpec* f = findFieldSpec(fields, name)) edit->setToolTip(f->help);
        if (section == "train") edit->setToolTip("component-wise training (docs/analyses.md, section 10)");
        if (key == "train.precision")
            edit->setToolTip("fp32, bf16 (bf16 linears, fp32 accumulation; needs AVX512-BF16 or AMX-BF16, faster than fp32 only with AMX) or auto (bf16 with AMX, else fp32); this machine: " +
                             bf16Support().describe());
        auto* err = errorLabel();
        auto* box = new QWidget;
        auto* bl = new QVBoxLayout(box);
        bl->setContentsMargins(0, 0, 0, 0);
        bl->setSpacing(1);
        bl->addWidget(edit);
        bl->addWidget(err);
        m_fieldForm->addRow(key, box);
        m_fields[key] = edit;
        m_errors[key] = err;
        connect(edit, &QLineEdit::textChanged, this, &NewRunDialog::revalidate);
    }
}

void NewRunDialog::setPreset(const QString& name) {
    const int i = m_preset->findText(name);
    if (i >= 0) m_preset->setCurrentIndex(i);
}
void NewRunDialog::setField(const QString& key, const QString& text) {
    if (m_fields.contains(key)) m_fields[key]->setText(text);
}
void NewRunDialog::setOutDir(const QString& dir) { m_out->setText(dir); }
QString NewRunDialog::outDir() const { return m_out->text().trimmed(); }
QString NewRunDialog::errorFor(const QString& key) const {
    if (key == "out") return m_outError->text();
    return m_errors.contains(key) && !m_errors[key]->text().isEmpty() ? m_errors[key]->text() : QString();
}
QString NewRunDialog::overallError() const { return m_overall->text(); }

Result<RunConfig> NewRunDialog::baseConfig() const {
    if (m_preset->currentText() == kDefaults || m_preset->currentText().isEmpty()) return defaultConfig(experiment());
    return loadPreset(m_preset->currentText());
}

void NewRunDialog::loadPresetFields() {
    auto base = baseConfig();
    if (!base) {
        showError(m_overall, base.error());
        return;
    }
    const ExperimentInfo& info = base->info();
    m_summary->setText(m_preset->currentText() == kDefaults ? info.summary : base->description);
    const QJsonObject json = base->toJson();
    for (const QString& key : m_fields.keys()) {
        const QJsonValue v = json[key.section('.', 0, 0)].toObject()[key.section('.', 1)];
        const QSignalBlocker block(m_fields[key]);
        m_fields[key]->setText(fieldText(v));
    }
    const QString name = m_preset->currentText() == kDefaults ? experiment() : m_preset->currentText();
    m_out->setText(QDir(m_defaultParent).filePath(name + "-" + QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss")));
    revalidate();
}

void NewRunDialog::revalidate() {
    bool ok = true;
    auto base = baseConfig();
    if (!base) return;
    RunConfig cfg = base.value();
    for (const QString& key : m_fields.keys()) {
        const QString text = m_fields[key]->text().trimmed();
        QString err;
        const bool mayBeEmpty = key == "train.from" || key == "train.train_only";
        if (text.isEmpty() && !mayBeEmpty) err = key + ": a value is needed";
        else if (!text.isEmpty())
            if (Status st = applyOverride(cfg, key + "=" + text); !st) err = st.error();
        if (err.isEmpty() && key == "train.precision")
            if (auto p = resolvePrecision(text, bf16Support(), "new run"); !p) err = p.error();
        if (err.isEmpty() && key == "train.from" && !text.isEmpty())
            if (auto src = sourceCheckpoint(cfg.train, "new run"); !src) err = src.error();
        showError(m_errors[key], err);
        ok = ok && err.isEmpty();
    }
    QString overall;
    if (ok)
        if (Status st = validateConfig(cfg, "new run"); !st) overall = st.error();
    showError(m_overall, overall);
    ok = ok && overall.isEmpty();

    QString outErr;
    const QString out = outDir();
    const QFileInfo info(out);
    if (out.isEmpty()) outErr = "output folder: give a folder for the run";
    else if (info.exists() && !info.isDir()) outErr = "output folder: " + out + " is a file";
    else if (info.isDir() && !QDir(out).isEmpty()) outErr = "output folder: " + out + " exists and is not empty";
    else {
        QDir parent = info.absoluteDir();
        while (!parent.exists() && !parent.isRoot()) parent = QDir(QFileInfo(parent.absolutePath()).absolutePath());
        if (!QFileInfo(parent.absolutePath()).isWritable()) outErr = "output folder: " + parent.absolutePath() + " is not writable";
    }
    showError(m_outError, outErr);
    ok = ok && outErr.isEmpty();
    m_cfg = cfg;
    m_valid = ok;
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(ok);
}

}  // namespace plateau
