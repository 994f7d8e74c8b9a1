// SpectraView: for the selected layer, the singular values of W_K,h^T W_Q,h and of P_h W_V,h per
// head (log-y, one curve per head) at the current snapshot (its `spectra.qk` / `spectra.ov`
// (L, H, k) arrays), and each head's pseudo-rank (smallest k whose top-k singular values hold 95 %
// of the sum; `spectra.*_rank`) over the snapshot timeline. The layer list and curves follow the
// snapshots' shapes. GUI thread.
#pragma once

#include "throttled_view.h"

#include <QJsonObject>
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
    SpectraView(SessionModel* model, const QString& name, const QJsonObject& params, QWidget* parent = nullptr);

    void setLayer(int layer);
    int layer() const;
    QCustomPlot* qkPlot() const { return m_qk; }
    QCustomPlot* ovPlot() const { return m_ov; }
    QCustomPlot* rankPlot() const { return m_rank; }
    qint64 shownStep() const { return m_shownStep; }

    QString figureName() const override { return m_name; }
    QList<QWidget*> figureParts() const override;
    Result<QStringList> exportCsv(const QString& path) const override;

protected:
    void redraw() override;

private:
    void rebuild(int layers, int heads);

    SessionModel* m_model;
    QString m_name;
    int m_layers = 0, m_heads = 0;
    QComboBox* m_layer;
    QLabel* m_info;
    QCustomPlot *m_qk, *m_ov, *m_rank;
    QCPItemStraightLine* m_line;
    qint64 m_shownStep = -1;
};

}  // namespace plateau
