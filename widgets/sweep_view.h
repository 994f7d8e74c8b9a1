// SweepView: a sweep as one study. A sortable table of the points (parameters, state, steps,
// plateau / drop onset / end, factor, final value); every run's curve of a chosen column overlaid,
// coloured by a chosen parameter and aligned by step, by training time or by drop onset (x = step
// - onset, so that the shapes of the drops line up; runs without a drop are left out there); and
// a phase diagram over two chosen parameters whose cells hold the median drop step, the share
// of points that dropped, or the median final value. Double-clicking a point asks for its run to
// be opened (openRunRequested). Points still training are followed (refresh every 2 s). Each
// overlay curve keeps every point in a CurveDecimator, so a hundred 20k-step runs redraw fast.
// GUI thread.
#pragma once

#include "curve_decimator.h"
#include "throttled_view.h"

#include <memory>
#include <vector>

class QCheckBox;
class QDoubleSpinBox;
class QComboBox;
class QCPColorMap;
class QCPColorScale;
class QCPGraph;
class QCustomPlot;
class QLabel;
class QTableWidget;
class QTimer;

namespace plateau {

class SweepData;

class SweepView : public ThrottledView {
    Q_OBJECT
public:
    enum class Align { Step, Time, Onset };
    enum class Cell { MedianOnset, ShareDropped, MedianFinal };
    // Takes the data (SweepData::open).
    explicit SweepView(std::unique_ptr<SweepData> data, QWidget* parent = nullptr);
    ~SweepView() override;

    const SweepData& data() const { return *m_data; }
    void setColumn(const QString& key);
    void setColourBy(const QString& key);
    void setAlign(Align a);
    // EMA of the overlay's curves (debiased, of log10 on log axes; 0 = raw), 0.98 at first: a
    // hundred raw noisy curves on top of each other hide the shapes they are there to compare.
    void setSmoothing(double beta);
    void setPhase(const QString& xKey, const QString& yKey, Cell cell);
    // Reads what the runs wrote since; redraws if anything changed.
    void refresh();

    // For tests and exports.
    int curveCount() const;                  // overlay curves drawn (visible graphs)
    QCustomPlot* overlay() const { return m_overlay; }
    QCustomPlot* phasePlot() const { return m_phase; }
    QTableWidget* table() const { return m_table; }
    // The phase diagram's cells: x values, y values, value per (x, y) (NaN: no point there).
    struct PhaseCells {
        QStringList xs, ys;
        std::vector<double> values;  // y-major: values[y * xs.size() + x]
        std::vector<int> counts;
    };
    PhaseCells phaseCells() const;
    // x of curve i's first point under the current alignment (NaN if not drawn); its points.
    double curveStartX(int point) const;
    int curvePoints(int point) const;

    QString figureName() const override { return "sweep"; }
    QList<QWidget*> figureParts() const override;
    // The points table; beside it "_phase.csv" (the cells) and "_overlay.csv" (every curve).
    Result<QStringList> exportCsv(const QString& path) const override;

signals:
    void openRunRequested(const QString& runDir);

protected:
    void redraw() override;

private:
    void fillControls();
    void fillTable();
    void rebuildCurves();
    void refreshDecimation();
    void drawPhase();
    QColor colourOf(int point) const;

    std::unique_ptr<SweepData> m_data;
    QComboBox *m_column, *m_colourBy, *m_align, *m_phaseX, *m_phaseY, *m_cell;
    QCheckBox* m_logX;
    QDoubleSpinBox* m_smooth;
    QLabel* m_status;
    QTableWidget* m_table;
    QCustomPlot* m_overlay;
    QCustomPlot* m_phase;
    QCPColorMap* m_map = nullptr;
    QCPColorScale* m_scale = nullptr;
    QTimer* m_follow;
    struct Curve {
        QCPGraph* graph = nullptr;
        CurveDecimator points;
    };
    std::vector<Curve> m_curves;  // one per point
    quint64 m_version = 1, m_drawnVersion = 0;
    double m_drawnLo = 0, m_drawnHi = 0;
    int m_drawnWidth = 0;
    int m_highlight = -1;
};

}  // namespace plateau
