#include "spectra_view.h"

#include "figure_export.h"
#include "session_model.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QTimer>
#include <QVBoxLayout>
#include "plot_style.h"

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace plateau {

namespace {
QColor headColor(int h, int heads) {
    static const QColor kOkabeIto[] = {QColor(0, 114, 178), QColor(213, 94, 0), QColor(0, 158, 115), QColor(204, 121, 167),
                                       QColor(230, 159, 0), QColor(86, 180, 233), QColor(240, 228, 66), QColor(0, 0, 0)};
    if (heads <= 8) return kOkabeIto[h];
    return QColor::fromHsv(int(360.0 * h / heads) % 360, 200, 200);
}

void setupLogPlot(QCustomPlot* p, const QString& title, const QString& xLabel) {
    setLogY(p);
    liveRendering(p);
    integerTicksX(p);
    p->xAxis->setLabel(xLabel);
    p->plotLayout()->insertRow(0);
    p->plotLayout()->addElement(0, 0, new QCPTextElement(p, title));
    p->setMinimumSize(160, 120);
}
}  // namespace

namespace {
// Singular values of head (l, h) from an (L, H, k) array, and a pseudo-rank from an (L, H) one.
std::vector<float> valuesOf(const NamedArray* a, int l, int h) {
    if (!a || a->shape.size() != 3 || l >= a->dim(0) || h >= a->dim(1)) return {};
    const std::size_t k = std::size_t(a->dim(2)), at = (std::size_t(l) * std::size_t(a->dim(1)) + std::size_t(h)) * k;
    return std::vector<float>(a->f32.begin() + std::ptrdiff_t(at), a->f32.begin() + std::ptrdiff_t(at + k));
}
int rankOf(const NamedArray* a, int l, int h) {
    if (!a || a->shape.size() != 2 || l >= a->dim(0) || h >= a->dim(1)) return 0;
    return int(a->at(std::size_t(l) * std::size_t(a->dim(1)) + std::size_t(h)));
}
}  // namespace

SpectraView::SpectraView(SessionModel* model, const QString& name, const QJsonObject&, QWidget* parent)
    : ThrottledView(500, parent), m_model(model), m_name(name) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    auto* controls = new QHBoxLayout;
    m_layer = new QComboBox;
    controls->addWidget(new QLabel("layer"));
    controls->addWidget(m_layer);
    m_info = new QLabel;
    controls->addWidget(m_info, 1);
    layout->addLayout(controls);
    auto* row = new QHBoxLayout;
    m_qk = new QCustomPlot;
    m_ov = new QCustomPlot;
    setupLogPlot(m_qk, "σ of W_Kᵀ W_Q per head", "index");
    setupLogPlot(m_ov, "σ of P W_V per head", "index");
    row->addWidget(m_qk);
    row->addWidget(m_ov);
    m_rank = new QCustomPlot;
    m_rank->xAxis->setLabel("step");
    m_rank->xAxis->ticker()->setTickCount(3);
    m_rank->yAxis->setLabel("pseudo-rank");
    m_rank->plotLayout()->insertRow(0);
    m_rank->plotLayout()->addElement(0, 0, new QCPTextElement(m_rank, "pseudo-rank (95 % of Σσ)\nsolid QK, dashed OV"));
    legendBelow(m_rank, font());
    m_rank->legend->setIconSize(16, 8);  // four entries must fit under a narrow plot
    m_rank->legend->setWrap(2);
    liveRendering(m_rank);
    integerTicksY(m_rank);
    m_rank->setMinimumSize(160, 110);
    m_line = new QCPItemStraightLine(m_rank);
    m_line->setPen(QPen(QColor(204, 121, 167), 1, Qt::DotLine));
    row->addWidget(m_rank, 1);
    layout->addLayout(row, 1);

    connect(m_layer, &QComboBox::currentIndexChanged, this, [this] {
        m_shownStep = -1;
        redrawSoon();
    });
    connect(model, &SessionModel::runReset, this, [this] {
        rebuild(0, 0);
        scheduleRedraw();
    });
    connect(model, &SessionModel::currentChanged, this, [this, model] { currentMoved(model); });
}

void SpectraView::setLayer(int layer) { m_layer->setCurrentIndex(layer); }
int SpectraView::layer() const { return std::max(0, m_layer->currentIndex()); }

void SpectraView::rebuild(int layers, int heads) {
    const int keep = layer();
    m_layers = layers;
    m_heads = heads;
    {
        const QSignalBlocker block(m_layer);
        m_layer->clear();
        for (int l = 0; l < layers; ++l) m_layer->addItem(QString::number(l));
        m_layer->setCurrentIndex(std::min(keep, std::max(0, layers - 1)));
    }
    const int H = heads;
    for (QCustomPlot* p : {m_qk, m_ov, m_rank}) p->clearGraphs();
    for (int h = 0; h < H; ++h) {
        for (QCustomPlot* p : {m_qk, m_ov}) {
            QCPGraph* g = p->addGraph();
            g->setPen(QPen(headColor(h, H), 1.4));
            g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 4));
            g->setName(QString("head %1").arg(h));
        }
        QCPGraph* q = m_rank->addGraph();
        q->setPen(QPen(headColor(h, H), 1.4));
        q->setName(QString("h%1").arg(h));
        q->setLineStyle(QCPGraph::lsStepLeft);
        QCPGraph* o = m_rank->addGraph();
        o->setPen(QPen(headColor(h, H), 1.2, Qt::DashLine));
        o->setLineStyle(QCPGraph::lsStepLeft);
        o->removeFromLegend();
    }
    m_shownStep = -1;
}

void SpectraView::redraw() {
    const SnapshotPtr s = m_model->current();
    const NamedArray* qkA = s ? s->array("spectra.qk") : nullptr;
    const NamedArray* ovA = s ? s->array("spectra.ov") : nullptr;
    if (!qkA || !ovA || qkA->shape.size() != 3) return;
    if (qkA->dim(0) != m_layers || qkA->dim(1) != m_heads) rebuild(qkA->dim(0), qkA->dim(1));
    const int l = std::min(layer(), m_layers - 1), H = m_heads;
    double lo = 1e300, hi = 0;
    int dh = 1;
    for (int h = 0; h < H; ++h) {
        const std::vector<float> qk = valuesOf(qkA, l, h), ov = valuesOf(ovA, l, h);
        for (auto [plot, values] : {std::pair{m_qk, &qk}, std::pair{m_ov, &ov}}) {
            QVector<double> x, y;
            for (std::size_t i = 0; i < values->size(); ++i) {
                const double v = std::max(1e-12, double((*values)[i]));
                x.push_back(double(i + 1));
                y.push_back(v);
                lo = std::min(lo, v);
                hi = std::max(hi, v);
            }
            plot->graph(h)->setData(x, y, true);
            dh = std::max(dh, int(values->size()));
        }
    }
    for (QCustomPlot* p : {m_qk, m_ov}) {
        p->xAxis->setRange(0.5, dh + 0.5);
        if (hi > 0) p->yAxis->setRange(std::max(lo / 2, hi * 1e-6), hi * 2);
        p->replot(QCustomPlot::rpQueuedReplot);
    }
    // Pseudo-rank over the timeline (rebuilt: a few hundred points per head at most).
    const auto& snaps = m_model->snapshots();
    for (int h = 0; h < H; ++h) {
        QVector<double> x, q, o;
        for (const SnapshotPtr& t : snaps) {
            const NamedArray* qr = t->array("spectra.qk_rank");
            const NamedArray* orr = t->array("spectra.ov_rank");
            if (!qr || !orr || qr->dim(0) <= l || qr->dim(1) != H) continue;
            x.push_back(double(t->step));
            q.push_back(rankOf(qr, l, h));
            o.push_back(rankOf(orr, l, h) + 0.08);  // a hair apart from QK where they agree
        }
        m_rank->graph(2 * h)->setData(x, q, true);
        m_rank->graph(2 * h + 1)->setData(x, o, true);
    }
    m_rank->xAxis->setRange(0, std::max<double>(1, snaps.empty() ? 1.0 : double(snaps.back()->step)));
    m_rank->yAxis->setRange(0, dh + 1);
    m_line->point1->setCoords(double(s->step), -1);
    m_line->point2->setCoords(double(s->step), 1);
    m_rank->replot(QCustomPlot::rpQueuedReplot);
    QStringList ranks;
    for (int h = 0; h < H; ++h)
        ranks << QString("h%1 %2/%3").arg(h).arg(rankOf(s->array("spectra.qk_rank"), l, h)).arg(rankOf(s->array("spectra.ov_rank"), l, h));
    m_info->setText(QString("step %1 · pseudo-rank QK/OV: %2").arg(s->step).arg(ranks.join(", ")));
    m_shownStep = s->step;
}


QList<QWidget*> SpectraView::figureParts() const { return {m_qk, m_ov, m_rank}; }

Result<QStringList> SpectraView::exportCsv(const QString& path) const {
    const SnapshotPtr s = m_model->current();
    const NamedArray* qkA = s ? s->array("spectra.qk") : nullptr;
    if (!qkA || qkA->shape.size() != 3) return Error{path + ": no snapshot with spectra to export yet"};
    QList<QStringList> rows;
    for (int l = 0; l < qkA->dim(0); ++l)
        for (int h = 0; h < qkA->dim(1); ++h) {
            const std::vector<float> qk = valuesOf(qkA, l, h), ov = valuesOf(s->array("spectra.ov"), l, h);
            for (const auto& [name, values] : {std::pair<QString, const std::vector<float>*>{"qk", &qk}, {"ov", &ov}})
                for (std::size_t i = 0; i < values->size(); ++i)
                    rows << QStringList{QString::number(s->step), QString::number(l), QString::number(h), name,
                                        QString::number(i + 1), csvNumber((*values)[i])};
        }
    if (Status st = writeCsv(path, {"step", "layer", "head", "circuit", "index", "singular_value"}, rows); !st)
        return Error{st.error()};
    QList<QStringList> series;
    for (const SnapshotPtr& x : m_model->snapshots()) {
        const NamedArray* qr = x->array("spectra.qk_rank");
        const NamedArray* orr = x->array("spectra.ov_rank");
        if (!qr || !orr || qr->shape.size() != 2) continue;
        for (int l = 0; l < qr->dim(0); ++l)
            for (int h = 0; h < qr->dim(1); ++h)
                series << QStringList{QString::number(x->step), QString::number(l), QString::number(h),
                                      QString::number(rankOf(qr, l, h)), QString::number(rankOf(orr, l, h))};
    }
    const QString over = siblingPath(path, "ranks_over_time");
    if (Status st = writeCsv(over, {"step", "layer", "head", "qk_pseudo_rank", "ov_pseudo_rank"}, series); !st)
        return Error{st.error()};
    return QStringList{path, over};
}

}  // namespace plateau
