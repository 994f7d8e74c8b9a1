// SpectraView: for the selected layer, the singular values of W_K,h^T W_Q,h and of P_h W_V,h per
// head (log-y, one curve per head) at the current snapshot, and each head's pseudo-rank (smallest
// k whose top-k singular values hold 95 % of the sum) over the snapshot timeline. GUI thread.
#pragma once

#include "throttled_view.h"
#include <vector>

class QComboBox;
class QCustomPlot;
class QCPItemStraightLine;
class QLabel;
class QTimer;

namespace plateau {

class SessionModel;

class SpectraView : public ThrottledView {
    Q_OBJECT
public:
    explicit SpectraView(SessionModel* model, QWidget* parent = nullptr);

    void setLayer(int layer);
    int layer() const;
    QCustomPlot* qkPlot() const { return m_qk; }
    QCustomPlot* ovPlot() const { return m_ov; }
    QCustomPlot* rankPlot() const { return m_rank; }
    qint64 shownStep() const { return m_shownStep; }

    QString figureName() const override;
    QList<QWidget*> figureParts() const override;
    Result<QStringList> exportCsv(const QString& path) const override;

protected:
    void redraw() override;

private:
    void rebuild();

    SessionModel* m_model;
    QComboBox* m_layer;
    QLabel* m_info;
    QCustomPlot *m_qk, *m_ov, *m_rank;
    QCPItemStraightLine* m_line;
    qint64 m_shownStep = -1;
};

}  // namespace plateau
