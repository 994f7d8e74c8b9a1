// LossPlot: live L, L_obs, L_mask and eval L against step on a log-y QCustomPlot. Keeps every
// point (QCustomPlot's own per-pixel thinning draws them). GUI thread only; knows no torch.
#pragma once

#include "metrics.h"

#include <QWidget>
#include <vector>

class QCustomPlot;
class QCPGraph;

namespace plateau {

class LossPlot : public QWidget {
    Q_OBJECT
public:
    explicit LossPlot(QWidget* parent = nullptr);
    // Appends rows (in step order) and schedules a throttled redraw.
    void append(const std::vector<StepMetrics>& rows);
    void clear();
    int pointCount() const;
    // Draws a dashed horizontal reference line (the copying loss p_mask * E[X^2]).
    void setReferenceLevel(double value, const QString& label);
    QCustomPlot* plot() const { return m_plot; }

private:
    void redraw();

    QCustomPlot* m_plot;
    QCPGraph *m_loss, *m_obs, *m_mask, *m_eval, *m_ref;
    bool m_dirty = false;
    qint64 m_lastStep = 0;
};

}  // namespace plateau
