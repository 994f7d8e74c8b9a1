// PlotView: a snapshot's small vectors drawn as one plot, chosen by the experiment's view
// parameters; it follows the current (scrubbed) snapshot like every view. Two modes:
//
//  "lines": curves against an x array, each a row of a (rows, n) array (or a whole (n) array):
//     {"mode": "lines", "x_array": "kshot.shots", "x_label": "...", "y_label": "...",
//      "y_range": [0, 1]   (optional: a fixed linear axis; otherwise fitted),
//      "lines": [{"array": "kshot.acc", "row": 0, "label": "...", "color": "#0072b2", "dashed": false}],
//      "hline_scalar": "chance", "hline_label": "chance 1/p"   (optional: a dotted reference)}
//  "scatter": the points of one item of an (items, n, 2) array, coloured by one of several (n)
//     arrays the user picks; the colour map is cyclic ("cyclic": true: residues mod p) or sequential:
//     {"mode": "scatter", "points": "pca.points", "item_label": "head",
//      "item_values": [{"array": "pca.layer", "name": "layer"}, ...]  (name each item),
//      "colour_by": [{"array": "pca.x", "label": "x"}, ...], "cyclic": true,
//      "explained": "pca.explained"  (optional (items, 2): the axes' variance shares),
//      "x_label": "PC 1", "y_label": "PC 2"}
// GUI thread only; torch-free.
#pragma once

#include "snapshot.h"
#include "throttled_view.h"

#include <QJsonArray>
#include <QJsonObject>
#include <vector>

class QComboBox;
class QCPGraph;
class QCustomPlot;
class QLabel;
class QSpinBox;

namespace plateau {

class SessionModel;

// "layer = 1 · head = 2 · " for item b from a list of {"array", "name"} (i32/f32 arrays (items)).
QString itemValuesText(const Snapshot& s, const QJsonArray& itemValues, int b);

class PlotView : public ThrottledView {
    Q_OBJECT
public:
    PlotView(SessionModel* model, const QString& name, const QJsonObject& params, QWidget* parent = nullptr);

    bool scatter() const { return m_scatter; }
    void setItem(int i);
    int item() const;
    void setColourBy(int i);
    QCustomPlot* plot() const { return m_plot; }
    // Points drawn (tests): every line's points, or the scatter's.
    int plottedPoints() const;
    qint64 shownStep() const { return m_shownStep; }
    QString infoText() const;

    QString figureName() const override { return m_name; }
    QList<QWidget*> figureParts() const override;
    Result<QStringList> exportCsv(const QString& path) const override;

protected:
    void redraw() override;

private:
    struct Line {
        QString array, label;
        int row = -1;  // -1: the whole (n) array
    };
    // Values of line i in the snapshot (empty if absent or mis-shaped).
    std::vector<double> lineValues(const Snapshot& s, const Line& l) const;
    std::vector<double> xValues(const Snapshot& s, std::size_t n) const;
    void drawLines(const Snapshot& s);
    void drawScatter(const Snapshot& s);

    SessionModel* m_model;
    QString m_name;
    QJsonObject m_params;
    bool m_scatter = false;
    std::vector<Line> m_lines;
    std::vector<QCPGraph*> m_lineGraphs;
    QCPGraph* m_hline = nullptr;
    std::vector<QCPGraph*> m_scatterGraphs;  // one per colour class
    QCustomPlot* m_plot;
    QSpinBox* m_item = nullptr;
    QComboBox* m_colour = nullptr;
    QLabel* m_info;
    qint64 m_shownStep = -1;
    int m_requestedItem = -1;
};

}  // namespace plateau
