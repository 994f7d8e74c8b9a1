#include "new_run_dialog.h"

#include <QComboBox>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace plateau {

namespace {
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
}  // namespace

QStringList NewRunDialog::editedKeys() {
    return {"task.n",       "task.rank",    "task.p_mask", "task.batch_size", "model.layers", "model.heads",
            "model.width",  "model.ffn",    "optim.lr",    "train.steps",     "train.seed",   "train.snapshot_every"};
}

NewRunDialog::NewRunDialog(const QString& defaultParent, QWidget* parent)
    : QDialog(parent), m_defaultParent(defaultParent) {
    setWindowTitle("New run");
    auto* layout = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    m_preset = new QComboBox;
    m_preset->addItems(presetNames());
    form->addRow("preset", m_preset);
    m_summary = new QLabel;
    m_summary->setWordWrap(true);
    m_summary->setMaximumWidth(520);
    form->addRow("", m_summary);
    for (const QString& key : editedKeys()) {
        auto* edit = new QLineEdit;
        edit->setObjectName(key);
        auto* err = errorLabel();
        auto* box = new QWidget;
        auto* bl = new QVBoxLayout(box);
        bl->setContentsMargins(0, 0, 0, 0);
        bl->setSpacing(1);
        bl->addWidget(edit);
        bl->addWidget(err);
        form->addRow(key, box);
        m_fields[key] = edit;
        m_errors[key] = err;
        connect(edit, &QLineEdit::textChanged, this, &NewRunDialog::revalidate);
    }
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
    form->addRow("output folder", outBox);
    layout->addLayout(form);
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
        if (!dir.isEmpty()) m_out->setText(QDir(dir).filePath(m_preset->currentText() + "-" +
                                                              QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss")));
    });
    connect(m_preset, &QComboBox::currentTextChanged, this, &NewRunDialog::loadPresetFields);
    setPreset("quick");
    loadPresetFields();
}

void NewRunDialog::setPreset(const QString& name) { m_preset->setCurrentText(name); }
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

void NewRunDialog::loadPresetFields() {
    auto preset = loadPreset(m_preset->currentText());
    if (!preset) {
        showError(m_overall, preset.error());
        return;
    }
    m_summary->setText(preset->description);
    const QJsonObject json = preset->toJson();
    for (const QString& key : editedKeys()) {
        const QJsonValue v = json[key.section('.', 0, 0)].toObject()[key.section('.', 1)];
        const QSignalBlocker block(m_fields[key]);
        m_fields[key]->setText(v.isDouble() ? QString::number(v.toDouble(), 'g', 10) : v.toVariant().toString());
    }
    m_out->setText(QDir(m_defaultParent).filePath(m_preset->currentText() + "-" +
                                                  QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss")));
    revalidate();
}

void NewRunDialog::revalidate() {
    bool ok = true;
    auto preset = loadPreset(m_preset->currentText());
    if (!preset) return;
    RunConfig cfg = preset.value();
    for (const QString& key : editedKeys()) {
        const QString text = m_fields[key]->text().trimmed();
        QString err;
        if (text.isEmpty()) err = key + ": a value is needed";
        else if (Status st = applyOverride(cfg, key + "=" + text); !st) err = st.error();
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
