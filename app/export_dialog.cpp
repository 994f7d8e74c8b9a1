#include "export_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>

namespace plateau {

ExportDialog::ExportDialog(Mode mode, const QString& defaultPath, QSize screenSize, QWidget* parent)
    : QDialog(parent), m_mode(mode), m_path(new QLineEdit(defaultPath)), m_width(new QSpinBox), m_height(new QSpinBox),
      m_dpi(new QSpinBox), m_error(new QLabel), m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel)) {
    setWindowTitle(mode == OneView ? "Export view" : "Export figure set");
    auto* form = new QFormLayout(this);
    auto* pathRow = new QHBoxLayout;
    pathRow->addWidget(m_path, 1);
    auto* browse = new QPushButton("Browse…");
    pathRow->addWidget(browse);
    form->addRow(mode == OneView ? "File" : "Folder", pathRow);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString p = m_mode == OneView ? QFileDialog::getSaveFileName(this, "Export to", m_path->text())
                                            : QFileDialog::getExistingDirectory(this, "Export into", m_path->text());
        if (!p.isEmpty()) m_path->setText(p);
    });
    if (mode == OneView) {
        m_format = new QComboBox;
        m_format->addItem("PDF (vector)", "pdf");
        m_format->addItem("SVG (vector)", "svg");
        m_format->addItem("PNG", "png");
        m_format->addItem("CSV (the data behind the view)", "csv");
        form->addRow("Format", m_format);
        connect(m_format, &QComboBox::currentIndexChanged, this, [this] {
            // Keep the file name's suffix in step with the format.
            const QString suffix = m_format->currentData().toString();
            QString p = m_path->text();
            const int dot = p.lastIndexOf('.');
            if (dot > p.lastIndexOf('/')) p = p.left(dot);
            m_path->setText(p + "." + suffix);
        });
    } else {
        auto* row = new QHBoxLayout;
        m_pdf = new QCheckBox("PDF");
        m_png = new QCheckBox("PNG");
        m_svg = new QCheckBox("SVG");
        m_pdf->setChecked(true);
        m_png->setChecked(true);
        for (QCheckBox* c : {m_pdf, m_png, m_svg}) {
            row->addWidget(c);
            connect(c, &QCheckBox::toggled, this, &ExportDialog::validate);
        }
        row->addStretch(1);
        form->addRow("Formats", row);
        m_steps = new QLineEdit;
        m_steps->setPlaceholderText("default: early, plateau, before / after the drop, final");
        m_steps->setToolTip("steps separated by commas; each snaps to the nearest stored snapshot");
        form->addRow("Steps", m_steps);
        connect(m_steps, &QLineEdit::textChanged, this, &ExportDialog::validate);
    }
    for (QSpinBox* s : {m_width, m_height}) {
        s->setRange(99, 20000);
        s->setSpecialValueText("as on screen");  // 99: the view's own size
    }
    m_width->setValue(screenSize.width() >= 100 ? screenSize.width() : 99);
    m_height->setValue(screenSize.height() >= 100 ? screenSize.height() : 99);
    auto* sizeRow = new QHBoxLayout;
    sizeRow->addWidget(m_width);
    sizeRow->addWidget(new QLabel("×"));
    sizeRow->addWidget(m_height);
    sizeRow->addWidget(new QLabel("(1/96 inch; the aspect of the view is kept)"));
    form->addRow("Size", sizeRow);
    m_dpi->setRange(30, 1200);
    m_dpi->setValue(200);
    m_dpi->setSuffix(" dpi");
    form->addRow("PNG resolution", m_dpi);
    m_error->setStyleSheet("color: #b00020");
    m_error->setWordWrap(true);
    form->addRow(m_error);
    form->addRow(m_buttons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_path, &QLineEdit::textChanged, this, &ExportDialog::validate);
    validate();
}

QString ExportDialog::path() const { return m_path->text().trimmed(); }
bool ExportDialog::csv() const { return m_format && m_format->currentData().toString() == "csv"; }

QList<FigureFormat> ExportDialog::formats() const {
    if (m_mode == OneView) {
        if (csv()) return {};
        return parseFigureFormats(m_format->currentData().toString()).value();
    }
    QList<FigureFormat> out;
    if (m_pdf->isChecked()) out << FigureFormat::Pdf;
    if (m_png->isChecked()) out << FigureFormat::Png;
    if (m_svg->isChecked()) out << FigureFormat::Svg;
    return out;
}

FigureOptions ExportDialog::figureOptions() const {
    FigureOptions o;
    if (m_width->value() >= 100 && m_height->value() >= 100) o.size = QSize(m_width->value(), m_height->value());
    o.dpi = m_dpi->value();
    return o;
}

std::vector<qint64> ExportDialog::steps() const {
    std::vector<qint64> out;
    if (!m_steps) return out;
    for (const QString& s : m_steps->text().split(',', Qt::SkipEmptyParts)) out.push_back(s.trimmed().toLongLong());
    return out;
}

QString ExportDialog::error() const { return m_error->text(); }

void ExportDialog::validate() {
    QString err;
    const QString p = path();
    if (p.isEmpty()) err = "choose where to write";
    else if (m_mode == OneView && QFileInfo(p).isDir()) err = p + " is a folder; give a file name";
    else if (m_mode == OneView && !QFileInfo(QFileInfo(p).absolutePath()).isDir())
        err = QFileInfo(p).absolutePath() + ": no such folder";
    if (err.isEmpty() && m_mode == FigureSet) {
        if (formats().isEmpty()) err = "tick at least one format";
        for (const QString& s : m_steps->text().split(',', Qt::SkipEmptyParts)) {
            bool ok = false;
            const qint64 v = s.trimmed().toLongLong(&ok);
            if (!ok || v < 0) {
                err = "Steps: '" + s.trimmed() + "' is not a step number";
                break;
            }
        }
    }
    m_error->setText(err);
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(err.isEmpty());
}

}  // namespace plateau
