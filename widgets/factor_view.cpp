#include "factor_view.h"

#include "figure_export.h"
#include "plot_style.h"
#include "session_model.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace plateau {

namespace {
const QColor kColors[] = {QColor(0, 114, 178), QColor(213, 94, 0), QColor(0, 158, 115), QColor(204, 121, 167),
                          QColor(230, 159, 0), QColor(86, 180, 233), QColor(0, 0, 0), QColor(240, 228, 66)};
QColor colorOf(int i) { return i < 8 ? kColors[i] : QColor::fromHsv((i * 47) % 360, 200, 200); }

void titled(QCustomPlot* p, const QString& title) {
    p->plotLayout()->insertRow(0);
    p->plotLayout()->addElement(0, 0, new QCPTextElement(p, title));
    p->setMinimumSize(180, 140);
    liveRendering(p);
}
// The values of a (P, n) array's row j, or empty.
std::vector<float> rowOf(const NamedArray* a, int j) {
    if (!a || a->shape.size() != 2 || j >= a->dim(0)) return {};
    const std::size_t n = std::size_t(a->dim(1));
    return std::vector<float>(a->f32.begin() + std::ptrdiff_t(std::size_t(j) * n), a->f32.begin() + std::ptrdiff_t(std::size_t(j + 1) * n));
}
}  // namespace

FactorView::FactorView(SessionModel* model, const QString& name, const QJsonObject&, QWidget* parent)
    : ThrottledView(400, parent), m_model(model), m_name(name) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    auto* controls = new QHBoxLayout;
    m_pair = new QComboBox;
    m_pair->setToolTip("the factor pair (its lambda) the two time plots show");
    controls->addWidget(new QLabel("pair"));
    controls->addWidget(m_pair);
    m_info = new QLabel;
    m_info->setWordWrap(true);
    controls->addWidget(m_info, 1);
    layout->addLayout(controls);
    auto* row = new QHBoxLayout;
    m_sweep = new QCustomPlot;
    titled(m_sweep, "σᵢ(A Bᵀ) against λ");
    m_sweep->setToolTip("singular values of every pair's product at the step shown; dashed: max(dᵢ − λ/2w, 0)");
    m_sweep->xAxis->setLabel("λ");
    m_sweep->yAxis->setLabel("singular value");
    m_values = new QCustomPlot;
    titled(m_values, "σᵢ(A Bᵀ) of the pair");
    m_values->setToolTip("the chosen pair's singular values over the snapshots; dashed: their predicted values");
    m_values->xAxis->setLabel("step");
    m_imbalance = new QCustomPlot;
    titled(m_imbalance, "‖AᵀA − BᵀB‖ of the pair");
    m_imbalance->setToolTip("the chosen pair's imbalance at every step; dashed: gradient flow's imbalance(0)·e^(−2λt), "
                            "t = the sum of learning rates");
    setLogY(m_imbalance);
    m_imbalance->xAxis->setLabel("step");
    m_line = new QCPItemStraightLine(m_values);
    m_line->setPen(QPen(QColor(204, 121, 167), 1, Qt::DotLine));
    row->addWidget(m_sweep, 1);
    row->addWidget(m_values, 1);
    row->addWidget(m_imbalance, 1);
    layout->addLayout(row, 1);

    connect(m_pair, &QComboBox::currentIndexChanged, this, [this] {
        m_shownStep = -1;
        redrawSoon();
    });
    connect(model, &SessionModel::runReset, this, [this] {
        rebuild(0, 0, {});
        scheduleRedraw();
    });
    connect(model, &SessionModel::currentChanged, this, [this, model] { currentMoved(model); });
    connect(model, &SessionModel::metricsAppended, this, &FactorView::scheduleRedraw);
}

void FactorView::setPair(int index) { m_pair->setCurrentIndex(index); }
int FactorView::pair() const { return std::max(0, m_pair->currentIndex()); }

void FactorView::rebuild(int pairs, int n, const std::vector<float>& lambdas) {
    const int keep = m_pair->currentIndex();
    m_pairs = pairs;
    m_n = n;
    {
        const QSignalBlocker block(m_pair);
        m_pair->clear();
        for (int j = 0; j < pairs; ++j) m_pair->addItem(QString("λ = %1").arg(double(lambdas[std::size_t(j)]), 0, 'g', 4));
        // Start on a pair with a clear decay (λ = 0.4 in the paper's figures) when there is one.
        int start = keep >= 0 && keep < pairs ? keep : 0;
        if (keep < 0)
            for (int j = 0; j < pairs; ++j)
                if (std::abs(lambdas[std::size_t(j)] - 0.4f) < 1e-6f) start = j;
        m_pair->setCurrentIndex(start);
    }
    for (QCustomPlot* p : {m_sweep, m_values, m_imbalance}) p->clearGraphs();
    for (int i = 0; i < n; ++i) {
        QCPGraph* g = m_sweep->addGraph();
        g->setPen(QPen(colorOf(i), 1.4));
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 4));
        QCPGraph* gp = m_sweep->addGraph();
        gp->setPen(QPen(colorOf(i), 1, Qt::DashLine));
        QCPGraph* v = m_values->addGraph();
        v->setPen(QPen(colorOf(i), 1.4));
        QCPGraph* vp = m_values->addGraph();
        vp->setPen(QPen(colorOf(i), 1, Qt::DashLine));
    }
    QCPGraph* imb = m_imbalance->addGraph();
    imb->setPen(QPen(QColor(0, 0, 0), 1.4));
    QCPGraph* imbPred = m_imbalance->addGraph();
    imbPred->setPen(QPen(QColor(213, 94, 0), 1.2, Qt::DashLine));
    m_shownStep = -1;
}

void FactorView::redraw() {
    const SnapshotPtr s = m_model->current();
    const NamedArray* sv = s ? s->array("factor.sv") : nullptr;
    const NamedArray* lam = s ? s->array("factor.lambdas") : nullptr;
    if (!sv || !lam || sv->shape.size() != 2) return;
    if (sv->dim(0) != m_pairs || sv->dim(1) != m_n) rebuild(sv->dim(0), sv->dim(1), lam->f32);
    const int P = m_pairs, n = m_n, j = std::min(pair(), P - 1);
    const NamedArray* pred = s->array("factor.predicted_sv");
    // Singular values against lambda at this step.
    double hi = 1e-9;
    for (int i = 0; i < n; ++i) {
        QVector<double> x, y, yp;
        for (int p = 0; p < P; ++p) {
            x << lam->f32[std::size_t(p)];
            y << sv->f32[std::size_t(p * n + i)];
            yp << (pred ? pred->f32[std::size_t(p * n + i)] : NAN);
            hi = std::max({hi, y.back(), std::isfinite(yp.back()) ? yp.back() : 0.0});
        }
        m_sweep->graph(2 * i)->setData(x, y, true);
        m_sweep->graph(2 * i + 1)->setData(x, yp, true);
    }
    m_sweep->xAxis->setRange(lam->f32.empty() ? 0 : lam->f32.front() - 0.05,
                             lam->f32.empty() ? 1 : lam->f32.back() + 0.05);
    m_sweep->yAxis->setRange(-0.02 * hi, 1.08 * hi);
    m_sweep->replot(QCustomPlot::rpQueuedReplot);

    // The chosen pair's singular values over the snapshots.
    const auto& snaps = m_model->snapshots();
    const std::vector<float> want = rowOf(pred, j);
    double last = 1;
    for (int i = 0; i < n; ++i) {
        QVector<double> x, y;
        for (const SnapshotPtr& t : snaps) {
            const std::vector<float> r = rowOf(t->array("factor.sv"), j);
            if (int(r.size()) != n) continue;
            x << double(t->step);
            y << r[std::size_t(i)];
        }
        m_values->graph(2 * i)->setData(x, y, true);
        last = snaps.empty() ? 1 : std::max(1.0, double(snaps.back()->step));
        QVector<double> px{0, last}, py(2, i < int(want.size()) ? double(want[std::size_t(i)]) : NAN);
        m_values->graph(2 * i + 1)->setData(px, py, true);
    }
    bool found = false;
    const QCPRange vr = m_values->graph(0) ? m_values->graph(0)->data()->valueRange(found) : QCPRange();
    m_values->xAxis->setRange(0, last);
    m_values->yAxis->setRange(-0.02 * hi, std::max(1.08 * hi, found ? vr.upper * 1.05 : 0.0));
    m_line->point1->setCoords(double(s->step), -1);
    m_line->point2->setCoords(double(s->step), 1);
    m_values->replot(QCustomPlot::rpQueuedReplot);

    // Imbalance over every logged step, with exp(-2 lambda t) from the first row.
    const int col = m_model->columnIndex(QString("imbalance_%1").arg(j));
    const auto& rows = m_model->metrics();
    const double lambda = double(lam->f32[std::size_t(j)]);
    QVector<double> x, y, yp;
    double t = 0, first = NAN;
    // Least-squares slope of ln(imbalance) on t while it is well above rounding level.
    double sT = 0, sY = 0, sTT = 0, sTY = 0;
    int count = 0;
    for (const StepMetrics& m : rows) {
        const double v = m.value(col);
        if (std::isfinite(v) && v > 0) {
            if (!std::isfinite(first)) first = v;
            x << double(m.step);
            y << v;
            yp << first * std::exp(-2 * lambda * t);
            if (v > first * 1e-9 && v > 1e-12) {
                sT += t;
                sY += std::log(v);
                sTT += t * t;
                sTY += t * std::log(v);
                ++count;
            }
        }
        if (std::isfinite(m.lr)) t += m.lr;  // the imbalance of row k is the state before update k
    }
    m_fittedRate = count > 10 && sTT * count - sT * sT > 0 ? (count * sTY - sT * sY) / (count * sTT - sT * sT) : NAN;
    m_predictedRate = -2 * lambda;
    m_imbalance->graph(0)->setData(x, y, true);
    m_imbalance->graph(1)->setData(x, yp, true);
    if (!y.isEmpty()) {
        const auto [lo, up] = std::minmax_element(y.begin(), y.end());
        m_imbalance->yAxis->setRange(std::max(*lo / 3, 1e-300), *up * 3);
        m_imbalance->xAxis->setRange(0, x.back());
    }
    m_imbalance->replot(QCustomPlot::rpQueuedReplot);

    QStringList values;
    for (int i = 0; i < n; ++i) values << QString::number(double(sv->f32[std::size_t(j * n + i)]), 'f', 3);
    m_info->setText(QString("step %1 · λ = %2: σ = %3 (predicted %4, dashed) · ln ‖AᵀA − BᵀB‖ falls %5 per unit t "
                            "(predicted −2λ = %6, dashed)")
                        .arg(s->step).arg(lambda, 0, 'g', 4).arg(values.join(" "))
                        .arg([&] {
                            QStringList p;
                            for (float v : want) p << QString::number(double(v), 'f', 3);
                            return p.join(" ");
                        }())
                        .arg(m_fittedRate, 0, 'f', 3).arg(m_predictedRate, 0, 'f', 3));
    m_shownStep = s->step;
}

QList<QWidget*> FactorView::figureParts() const { return {m_sweep, m_values, m_imbalance}; }

Result<QStringList> FactorView::exportCsv(const QString& path) const {
    const SnapshotPtr s = m_model->current();
    const NamedArray* sv = s ? s->array("factor.sv") : nullptr;
    const NamedArray* lam = s ? s->array("factor.lambdas") : nullptr;
    const NamedArray* pred = s ? s->array("factor.predicted_sv") : nullptr;
    if (!sv || !lam || !pred) return Error{path + ": no factor snapshot to export yet"};
    QList<QStringList> rows;
    for (int p = 0; p < sv->dim(0); ++p)
        for (int i = 0; i < sv->dim(1); ++i)
            rows << QStringList{QString::number(s->step), csvNumber(lam->f32[std::size_t(p)]), QString::number(i + 1),
                                csvNumber(sv->f32[std::size_t(p * sv->dim(1) + i)]),
                                csvNumber(pred->f32[std::size_t(p * sv->dim(1) + i)])};
    if (Status st = writeCsv(path, {"step", "lambda", "index", "singular_value", "predicted"}, rows); !st)
        return Error{st.error()};
    const int j = std::min(pair(), sv->dim(0) - 1);
    const int col = m_model->columnIndex(QString("imbalance_%1").arg(j));
    QList<QStringList> series;
    for (const StepMetrics& m : m_model->metrics())
        series << QStringList{QString::number(m.step), csvNumber(m.lr), csvNumber(m.value(col))};
    const QString over = siblingPath(path, QString("pair%1_imbalance").arg(j));
    if (Status st = writeCsv(over, {"step", "lr", "imbalance"}, series); !st) return Error{st.error()};
    return QStringList{path, over};
}

}  // namespace plateau
