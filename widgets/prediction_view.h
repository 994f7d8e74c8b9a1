// PredictionView: for one probe matrix of the current snapshot, heatmaps of the input (masked
// cells crossed), the prediction, the truth (diverging colour map, white at 0) and the absolute
// error; below, over the snapshot timeline, the probe batch's copying score (MSE of masked outputs
// to 0, what copying the MASK token gives) against completion (MSE to the truth). GUI thread.
#pragma once

#include "throttled_view.h"

class QCPGraph;
class QCPItemStraightLine;
class QCustomPlot;
class QLabel;
class QSpinBox;
class QTimer;

namespace plateau {

class HeatmapWidget;
class SessionModel;

class PredictionView : public ThrottledView {
    Q_OBJECT
public:
    explicit PredictionView(SessionModel* model, QWidget* parent = nullptr);

    void setProbeIndex(int i);
    int probeIndex() const;
    enum Panel { Input = 0, Prediction, Truth, Error, PanelCount };
    HeatmapWidget* panel(Panel p) const { return m_panels[p]; }
    QCustomPlot* scorePlot() const { return m_plot; }
    qint64 shownStep() const { return m_shownStep; }

    QString figureName() const override;
    QList<QWidget*> figureParts() const override;
    Result<QStringList> exportCsv(const QString& path) const override;

protected:
    void redraw() override;

private:

    SessionModel* m_model;
    QSpinBox* m_index;
    QLabel *m_info, *m_hover;
    HeatmapWidget* m_panels[PanelCount];
    QCustomPlot* m_plot;
    QCPGraph *m_copy, *m_complete, *m_observed;
    QCPItemStraightLine* m_line;
    qint64 m_shownStep = -1;
    std::size_t m_plottedSnapshots = 0;
};

}  // namespace plateau
