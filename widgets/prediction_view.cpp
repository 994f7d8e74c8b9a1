#include "prediction_view.h"

#include "heatmap_widget.h"
#include "figure_export.h"
#include "session_model.h"

#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QSpinBox>
#include <QTimer>
#include <QVBoxLayout>
#include "plot_style.h"

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace plateau {

PredictionView::PredictionView(SessionModel* model, QWidget* parent) : ThrottledView(400, parent), m_model(model) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    auto* controls = new QHBoxLayout;
    m_index = new QSpinBox;
    m_index->setRange(0, 0);
    m_index->setToolTip("which matrix of the fixed probe batch");
    controls->addWidget(new QLabel("probe matrix"));
    controls->addWidget(m_index);
    m_info = new QLabel;
    controls->addWidget(m_info, 1);
    layout->addLayout(controls);

    auto* grid = new QGridLayout;
    const char* titles[] = {"input (× = masked)", "prediction", "truth X", "|error|"};
    for (int p = 0; p < PanelCount; ++p) {
        m_panels[p] = new HeatmapWidget;
        m_panels[p]->setTitle(titles[p]);
        m_panels[p]->setMinimumCellSize(6);
        m_panels[p]->setMinimumSize(80, 80);
        grid->addWidget(m_panels[p], 0, p);
        connect(m_panels[p], &HeatmapWidget::cellHovered, this, [this, p, titles](int r, int c, double v) {
            m_hover->setText(r < 0 ? QString(" ") : QString("%1 (%2,%3) = %4").arg(titles[p]).arg(r).arg(c).arg(v, 0, 'f', 3));
        });
    }
    layout->addLayout(grid, 2);
    m_hover = new QLabel(" ");
    layout->addWidget(m_hover);

    m_plot = new QCustomPlot;
    m_plot->setMinimumHeight(110);
    m_complete = m_plot->addGraph();
    m_complete->setName("completion: masked MSE to X");
    m_complete->setPen(QPen(QColor(213, 94, 0), 1.6));
    m_copy = m_plot->addGraph();
    m_copy->setName("copying: masked MSE to 0");
    m_copy->setPen(QPen(QColor(0, 114, 178), 1.6));
    m_observed = m_plot->addGraph();
    m_observed->setName("observed MSE to X");
    m_observed->setPen(QPen(QColor(120, 120, 120), 1, Qt::DashLine));
    setLogY(m_plot);
    liveRendering(m_plot);
    m_plot->xAxis->setLabel("step (probe batch)");
    legendBelow(m_plot, font());
    m_line = new QCPItemStraightLine(m_plot);
    m_line->setPen(QPen(QColor(204, 121, 167), 1, Qt::DotLine));
    layout->addWidget(m_plot, 2);

    connect(m_index, &QSpinBox::valueChanged, this, [this] {
        m_shownStep = -1;
        redrawSoon();
    });
    connect(model, &SessionModel::runReset, this, [this] {
        for (QCPGraph* g : {m_copy, m_complete, m_observed}) g->data()->clear();
        m_plottedSnapshots = 0;
        m_shownStep = -1;
        scheduleRedraw();
    });
    connect(model, &SessionModel::currentChanged, this, [this, model] { currentMoved(model); });
    connect(model, &SessionModel::snapshotsChanged, this, &PredictionView::scheduleRedraw);
}

void PredictionView::setProbeIndex(int i) { m_index->setValue(i); }
int PredictionView::probeIndex() const { return m_index->value(); }

void PredictionView::redraw() {
    const auto& snaps = m_model->snapshots();
    // The score curves: one point per snapshot (a re-probed last snapshot replaces its point).
    if (m_plottedSnapshots > snaps.size()) m_plottedSnapshots = 0;
    if (m_plottedSnapshots == 0)
        for (QCPGraph* g : {m_copy, m_complete, m_observed}) g->data()->clear();
    else
        for (QCPGraph* g : {m_copy, m_complete, m_observed}) g->data()->removeAfter(double(snaps[m_plottedSnapshots - 1]->step) - 0.5);
    for (std::size_t i = m_plottedSnapshots ? m_plottedSnapshots - 1 : 0; i < snaps.size(); ++i) {
        const Snapshot& s = *snaps[i];
        if (std::isfinite(s.copyMse) && s.copyMse > 0) m_copy->addData(double(s.step), s.copyMse);
        if (std::isfinite(s.completionMse) && s.completionMse > 0) m_complete->addData(double(s.step), s.completionMse);
        if (std::isfinite(s.observedMse) && s.observedMse > 0) m_observed->addData(double(s.step), s.observedMse);
    }
    m_plottedSnapshots = snaps.size();

    const SnapshotPtr s = m_model->current();
    if (s) {
        m_line->point1->setCoords(double(s->step), 1e-12);
        m_line->point2->setCoords(double(s->step), 1e12);
    }
    if (!snaps.empty()) {
        m_plot->xAxis->setRange(0, std::max<double>(1, double(snaps.back()->step)));
        bool f1 = false, f2 = false;
        const QCPRange a = m_copy->data()->valueRange(f1), b = m_complete->data()->valueRange(f2);
        double lo = 1e300, hi = 0;
        if (f1) { lo = std::min(lo, a.lower); hi = std::max(hi, a.upper); }
        if (f2) { lo = std::min(lo, b.lower); hi = std::max(hi, b.upper); }
        if (hi > 0) m_plot->yAxis->setRange(std::max(lo / 2, 1e-9), hi * 2);
    }
    // A decade label needs ~28 px of axis height: a short dock gets fewer (every second or
    // third decade) instead of overlapping ones.
    m_plot->yAxis->ticker()->setTickCount(std::clamp(m_plot->axisRect()->height() / 28, 1, 4));
    m_plot->replot(QCustomPlot::rpQueuedReplot);
    if (!s) return;

    m_index->setRange(0, std::max(0, s->probeCount - 1));
    const int n = s->n, T = s->seqLen(), b = std::clamp(m_index->value(), 0, s->probeCount - 1);
    const std::size_t off = std::size_t(b) * std::size_t(T);
    std::vector<float> in(s->input.begin() + std::ptrdiff_t(off), s->input.begin() + std::ptrdiff_t(off + std::size_t(T)));
    std::vector<float> pred(s->prediction.begin() + std::ptrdiff_t(off), s->prediction.begin() + std::ptrdiff_t(off + std::size_t(T)));
    std::vector<float> truth(s->target.begin() + std::ptrdiff_t(off), s->target.begin() + std::ptrdiff_t(off + std::size_t(T)));
    std::vector<std::uint8_t> masked(s->masked.begin() + std::ptrdiff_t(off), s->masked.begin() + std::ptrdiff_t(off + std::size_t(T)));
    std::vector<float> err(static_cast<std::size_t>(T));
    double scale = 1e-6, sqMask = 0;
    int nMask = 0;
    for (int i = 0; i < T; ++i) {
        err[std::size_t(i)] = std::abs(pred[std::size_t(i)] - truth[std::size_t(i)]);
        scale = std::max({scale, double(std::abs(truth[std::size_t(i)])), double(std::abs(pred[std::size_t(i)]))});
        if (masked[std::size_t(i)]) {
            sqMask += double(err[std::size_t(i)]) * err[std::size_t(i)];
            ++nMask;
        }
    }
    m_panels[Input]->setData(n, n, in, ColorMapKind::Diverging, 0, scale);
    m_panels[Input]->setMarked(masked);
    m_panels[Prediction]->setData(n, n, pred, ColorMapKind::Diverging, 0, scale);
    m_panels[Prediction]->setMarked(masked);
    m_panels[Truth]->setData(n, n, truth, ColorMapKind::Diverging, 0, scale);
    m_panels[Error]->setData(n, n, err, ColorMapKind::Sequential, 0, scale);
    m_panels[Error]->setMarked(masked);
    m_info->setText(QString("step %1 · colour range ±%2 · masked MSE of this matrix %3 · batch: completion %4, copying %5")
                        .arg(s->step).arg(scale, 0, 'f', 2).arg(nMask ? sqMask / nMask : NAN, 0, 'e', 2)
                        .arg(s->completionMse, 0, 'e', 2).arg(s->copyMse, 0, 'e', 2));
    m_shownStep = s->step;
}


QString PredictionView::figureName() const { return "predictions"; }
QList<QWidget*> PredictionView::figureParts() const {
    return {m_panels[Input], m_panels[Prediction], m_panels[Truth], m_panels[Panel::Error], m_plot};
}

Result<QStringList> PredictionView::exportCsv(const QString& path) const {
    const SnapshotPtr s = m_model->current();
    if (!s) return plateau::Error{path + ": no snapshot to export yet"};
    const int T = s->seqLen(), n = s->n, b = std::clamp(probeIndex(), 0, s->probeCount - 1);
    QList<QStringList> rows;
    for (int k = 0; k < T; ++k) {
        const std::size_t i = std::size_t(b) * std::size_t(T) + std::size_t(k);
        rows << QStringList{QString::number(s->step), QString::number(b), QString::number(k / n), QString::number(k % n),
                            s->masked[i] ? "1" : "0", s->masked[i] ? QString() : csvNumber(s->input[i]),
                            csvNumber(s->prediction[i]), csvNumber(s->target[i]),
                            csvNumber(std::abs(double(s->prediction[i]) - double(s->target[i])))};
    }
    if (Status st = writeCsv(path, {"step", "probe", "row", "col", "masked", "input", "prediction", "truth", "abs_error"}, rows); !st)
        return plateau::Error{st.error()};
    QList<QStringList> series;
    for (const SnapshotPtr& x : m_model->snapshots())
        series << QStringList{QString::number(x->step), csvNumber(x->copyMse), csvNumber(x->completionMse), csvNumber(x->observedMse),
                              maskSourceName(x->probe.source)};
    const QString over = siblingPath(path, "over_time");
    if (Status st = writeCsv(over, {"step", "copy_mse", "completion_mse", "observed_mse", "probe_masks"}, series); !st)
        return plateau::Error{st.error()};
    return QStringList{path, over};
}

}  // namespace plateau
