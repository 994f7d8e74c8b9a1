// LossView: L, L_obs, L_mask and eval L of the session against step (or training time), log-y by
// default, log-x toggle, EMA smoothing at full resolution (in log space, debiased) with the raw
// curve faint behind it, every point kept (QCustomPlot's adaptive sampling keeps each pixel
// column's min and max), a cursor read-out, the copying level, the detector's plateau start / drop
// onset / drop end, and the current snapshot's step. Redraws from a throttled timer. GUI thread.
#pragma once

#include "throttled_view.h"
#include <vector>

class QCheckBox;
class QComboBox;
class QCPGraph;
class QCPItemStraightLine;
class QCPItemText;
class QCustomPlot;
class QLabel;
class QSlider;
class QTimer;

namespace plateau {

class SessionModel;

class LossView : public ThrottledView {
    Q_OBJECT
public:
    explicit LossView(SessionModel* model, QWidget* parent = nullptr);

    enum Series { Loss = 0, Obs, Mask, Eval, SeriesCount };
    void setSmoothing(double beta);  // 0 = off, < 1
    double smoothing() const { return m_beta; }
    void setLogX(bool on);
    void setTimeAxis(bool on);       // x = training seconds instead of step
    bool timeAxis() const { return m_timeAxis; }

    // For tests and export: points drawn per series (raw), smoothed curve, marker steps.
    int pointCount(Series s = Loss) const;
    const std::vector<double>& smoothed(Series s) const { return m_smooth[s]; }
    std::vector<double> markerSteps() const;
    QCustomPlot* plot() const { return m_plot; }
    QString cursorText() const;
    // x of the current-snapshot line (step or seconds); NaN while hidden (following live).
    double currentLineX() const;
    void showCursorAt(double x);     // what hovering at x shows

    QString figureName() const override;
    QList<QWidget*> figureParts() const override;
    Result<QStringList> exportCsv(const QString& path) const override;

protected:
    void redraw() override;

private:
    void rebuild();
    void appendFrom(std::size_t first);
    void updateMarkers();
    double xOf(std::size_t row) const;

    SessionModel* m_model;
    QCustomPlot* m_plot;
    QCheckBox *m_logX, *m_time;
    QSlider* m_smoothSlider;
    QLabel *m_smoothLabel, *m_cursor;
    QCPGraph* m_raw[SeriesCount];
    QCPGraph* m_ema[SeriesCount];
    QCPGraph* m_ref;
    std::vector<QCPItemStraightLine*> m_markers;
    std::vector<QCPItemText*> m_markerLabels;
    QCPItemStraightLine* m_currentLine;
    std::vector<double> m_smooth[SeriesCount];
    double m_emaNum[SeriesCount] = {}, m_emaDen[SeriesCount] = {};
    double m_beta = 0.9;
    bool m_timeAxis = false;
    std::size_t m_rowsDrawn = 0;
};

}  // namespace plateau
