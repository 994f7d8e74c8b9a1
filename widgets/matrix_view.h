// MatrixView: small matrix panels of one probe item of the current snapshot, chosen by the
// experiment's view parameters: each panel shows a `matrices.<name>` array (B, rows, cols) of the
// snapshot (diverging colour map, white at 0, for signed values; sequential otherwise), or the
// absolute difference of two of them, with cells marked (×) from a u8 array; all share one colour
// range. Below, over the snapshot timeline, the snapshot scalars the parameters list (matrix
// completion: copying vs completion of the probe batch). GUI thread.
//
// Parameters: {"item_label": "probe matrix",
//              "panels": [{"array": "matrices.input", "title": "...", "signed": true, "marks": "matrices.masked"},
//                         {"abs_diff": ["matrices.prediction", "matrices.truth"], "title": "|error|", ...}],
//              "error_of": [prediction, truth, marks]   (optional: per-item masked MSE in the info line)
//              "series": [{"scalar": "copy_mse", "label": "...", "color": "#0072b2", "dashed": false}],
//              "series_log": true, "series_x_label": "...",
//              "series_range": [0, 1]   (optional: a fixed y range for the series, e.g. accuracies),
//              "info": "text with %scalar_name placeholders",
//              "item_values": [{"array": "factor.lambdas", "name": "λ"}, ...]   (optional: names each item)}
// A panel may fix its own colour range ("range": [lo, hi], e.g. [0, 1] for right / wrong); the
// others share one: the largest |value| of the signed panels, or where there are none, the largest
// value of the unsigned ones (sequential from 0).
#pragma once

#include "snapshot.h"
#include "throttled_view.h"

#include <QJsonObject>
#include <vector>

class QCPGraph;
class QCPItemStraightLine;
class QCustomPlot;
class QLabel;
class QSpinBox;

namespace plateau {

class HeatmapWidget;
class SessionModel;

class MatrixView : public ThrottledView {
    Q_OBJECT
public:
    MatrixView(SessionModel* model, const QString& name, const QJsonObject& params, QWidget* parent = nullptr);

    void setProbeIndex(int i);
    int probeIndex() const;
    int panelCount() const { return int(m_panels.size()); }
    HeatmapWidget* panel(int i) const { return i >= 0 && i < panelCount() ? m_panels[std::size_t(i)] : nullptr; }
    QCustomPlot* scorePlot() const { return m_plot; }
    qint64 shownStep() const { return m_shownStep; }

    QString figureName() const override { return m_name; }
    QList<QWidget*> figureParts() const override;
    Result<QStringList> exportCsv(const QString& path) const override;

protected:
    void redraw() override;

private:
    struct PanelSpec {
        QString array, diffA, diffB, marks, title;
        bool isSigned = true;
        bool fixedRange = false;  // "range": [lo, hi] — this panel's own colour range
        double lo = 0, hi = 1;
    };
    // Values of panel p for item b (rows x cols), or empty if the snapshot lacks its arrays.
    std::vector<float> panelValues(const Snapshot& s, const PanelSpec& p, int b, int* rows, int* cols) const;
    int itemCount(const Snapshot& s) const;
    std::vector<std::uint8_t> marksOf(const Snapshot& s, const QString& name, int b) const;

    SessionModel* m_model;
    QString m_name;
    QJsonObject m_params;
    std::vector<PanelSpec> m_specs;
    std::vector<HeatmapWidget*> m_panels;
    struct SeriesSpec {
        QString scalar, label;
    };
    std::vector<SeriesSpec> m_seriesSpecs;
    std::vector<QCPGraph*> m_series;
    QSpinBox* m_index;
    QLabel *m_info, *m_hover;
    QCustomPlot* m_plot = nullptr;
    QCPItemStraightLine* m_line = nullptr;
    bool m_seriesLog = true;
    double m_seriesLo = 0, m_seriesHi = -1;  // a fixed y range of the series when lo < hi
    qint64 m_shownStep = -1;
    std::size_t m_plottedSnapshots = 0;
};

}  // namespace plateau
