// ExportDialog: where and how to export one view (format from PDF / SVG / PNG / CSV, size,
// DPI) or the figure set of the run (folder, formats, steps). Inputs are checked as typed; the
// dialog only collects them (MainWindow exports). GUI thread only.
#pragma once

#include "figure_export.h"

#include <QDialog>
#include <vector>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace plateau {

class ExportDialog : public QDialog {
    Q_OBJECT
public:
    enum Mode { OneView, FigureSet };
    ExportDialog(Mode mode, const QString& defaultPath, QSize screenSize, QWidget* parent = nullptr);

    QString path() const;                 // file (OneView) or folder (FigureSet)
    bool csv() const;                     // OneView: the data instead of a figure
    QList<FigureFormat> formats() const;  // OneView: one; FigureSet: the ticked ones
    FigureOptions figureOptions() const;
    std::vector<qint64> steps() const;    // FigureSet: empty = the default five
    QString error() const;                // why OK is disabled ("" when it is not)

private:
    void validate();

    Mode m_mode;
    QLineEdit* m_path;
    QComboBox* m_format = nullptr;
    QCheckBox *m_pdf = nullptr, *m_png = nullptr, *m_svg = nullptr;
    QLineEdit* m_steps = nullptr;
    QSpinBox *m_width, *m_height, *m_dpi;
    QLabel* m_error;
    QDialogButtonBox* m_buttons;
};

}  // namespace plateau
