// FactorView: the factor toy's own view (factor_toy experiment). Three plots: the singular values of
// A Bᵀ of every pair against its lambda at the current snapshot, with the soft-thresholded
// prediction max(d - lambda / (2 w), 0) dashed; the singular values of the chosen pair over the
// snapshot timeline, its predicted values dashed; and the chosen pair's imbalance ||AᵀA - BᵀB||
// over every logged step on a log axis, with gradient flow's prediction
// imbalance(0) exp(-2 lambda t), t = the sum of the learning rates, dashed beside it. Reads the
// snapshot's factor.* arrays and the metric columns imbalance_<j>. GUI thread only.
#pragma once

#include "throttled_view.h"

#include <QJsonObject>
#include <vector>

class QComboBox;
class QCustomPlot;
class QCPItemStraightLine;
class QLabel;

namespace plateau {

class SessionModel;

class FactorView : public ThrottledView {
    Q_OBJECT
public:
    FactorView(SessionModel* model, const QString& name, const QJsonObject& params, QWidget* parent = nullptr);

    void setPair(int index);  // which lambda's pair the two time plots show
    int pair() const;
    QCustomPlot* sweepPlot() const { return m_sweep; }
    QCustomPlot* valuesPlot() const { return m_values; }
    QCustomPlot* imbalancePlot() const { return m_imbalance; }
    qint64 shownStep() const { return m_shownStep; }
    // The fitted slope of log(imbalance) against t over the chosen pair's logged steps (until it
    // reaches rounding level), and the predicted -2 lambda; NaN when there is too little data.
    double fittedRate() const { return m_fittedRate; }
    double predictedRate() const { return m_predictedRate; }

    QString figureName() const override { return m_name; }
    QList<QWidget*> figureParts() const override;
    Result<QStringList> exportCsv(const QString& path) const override;

protected:
    void redraw() override;

private:
    void rebuild(int pairs, int n, const std::vector<float>& lambdas);

    SessionModel* m_model;
    QString m_name;
    QComboBox* m_pair;
    QLabel* m_info;
    QCustomPlot *m_sweep, *m_values, *m_imbalance;
    QCPItemStraightLine* m_line;
    int m_pairs = 0, m_n = 0;
    qint64 m_shownStep = -1;
    double m_fittedRate = 0, m_predictedRate = 0;
};

}  // namespace plateau
