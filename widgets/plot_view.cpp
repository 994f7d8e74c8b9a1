#include "plot_view.h"

#include "colormap.h"
#include "figure_export.h"
#include "plot_style.h"
#include "session_model.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSpinBox>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace plateau {

QString itemValuesText(const Snapshot& s, const QJsonArray& itemValues, int b) {
    QString out;
    for (const QJsonValue& v : itemValues) {
        const QJsonObject o = v.toObject();
        const NamedArray* a = s.array(o.value("array").toString());
        if (!a || b < 0 || std::size_t(b) >= a->count()) continue;
        out += QString("%1 = %2 · ").arg(o.value("name").toString("value")).arg(a->at(std::size_t(b)), 0, 'g', 4);
    }
    return out;
}

namespace {
// Colour classes of a scatter: each distinct value when all are whole numbers and there are at
// most 257 of them (residues mod p), otherwise 32 equal bins over the range.
struct Classes {
    std::vector<int> of;          // class of each point
    std::vector<double> centre;   // value of each class (its bin's centre)
    double lo = 0, hi = 1;
};
Classes classesOf(const std::vector<double>& v) {
    Classes c;
    c.of.assign(v.size(), 0);
    if (v.empty()) return c;
    c.lo = *std::min_element(v.begin(), v.end());
    c.hi = *std::max_element(v.begin(), v.end());
    std::map<double, int> distinct;
    bool whole = true;
    for (double x : v) {
        whole = whole && std::isfinite(x) && x == std::floor(x);
        if (whole && distinct.size() <= 257) distinct.emplace(x, 0);
    }
    if (whole && distinct.size() <= 257) {
        int k = 0;
        for (auto& [x, i] : distinct) {
            i = k++;
            c.centre.push_back(x);
        }
        for (std::size_t i = 0; i < v.size(); ++i) c.of[i] = distinct[v[i]];
        return c;
    }
    const int bins = 32;
    const double w = c.hi > c.lo ? (c.hi - c.lo) / bins : 1;
    for (int k = 0; k < bins; ++k) c.centre.push_back(c.lo + (k + 0.5) * w);
    for (std::size_t i = 0; i < v.size(); ++i)
        c.of[i] = std::isfinite(v[i]) ? std::clamp(int((v[i] - c.lo) / w), 0, bins - 1) : 0;
    return c;
}
}  // namespace

PlotView::PlotView(SessionModel* model, const QString& name, const QJsonObject& params, QWidget* parent)
    : ThrottledView(400, parent), m_model(model), m_name(name), m_params(params) {
    m_scatter = params.value("mode").toString() == "scatter";
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    auto* controls = new QHBoxLayout;
    if (m_scatter) {
        m_item = new QSpinBox;
        m_item->setRange(0, 0);
        controls->addWidget(new QLabel(params.value("item_label").toString("item")));
        controls->addWidget(m_item);
        m_colour = new QComboBox;
        for (const QJsonValue& v : params.value("colour_by").toArray())
            m_colour->addItem(v.toObject().value("label").toString(v.toObject().value("array").toString()));
        controls->addWidget(new QLabel("colour by"));
        controls->addWidget(m_colour);
        connect(m_item, &QSpinBox::valueChanged, this, [this] { redrawSoon(); });
        connect(m_colour, &QComboBox::currentIndexChanged, this, [this] { redrawSoon(); });
    }
    m_info = new QLabel;
    m_info->setWordWrap(true);
    controls->addWidget(m_info, 1);
    layout->addLayout(controls);

    m_plot = new QCustomPlot;
    m_plot->setMinimumSize(200, 160);
    liveRendering(m_plot);
    m_plot->xAxis->setLabel(params.value("x_label").toString());
    m_plot->yAxis->setLabel(params.value("y_label").toString());
    if (!m_scatter) {
        for (const QJsonValue& v : params.value("lines").toArray()) {
            const QJsonObject o = v.toObject();
            m_lines.push_back({o.value("array").toString(), o.value("label").toString(o.value("array").toString()),
                               o.value("row").toInt(-1)});
            QCPGraph* g = m_plot->addGraph();
            g->setName(m_lines.back().label);
            const QColor c(o.value("color").toString("#000000"));
            g->setPen(o.value("dashed").toBool() ? QPen(c, 1.4, Qt::DashLine) : QPen(c, 1.6));
            g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, c, c, 4));
            m_lineGraphs.push_back(g);
        }
        if (params.contains("hline_scalar")) {
            m_hline = m_plot->addGraph();
            m_hline->setName(params.value("hline_label").toString(params.value("hline_scalar").toString()));
            m_hline->setPen(QPen(QColor(120, 120, 120), 1, Qt::DotLine));
        }
        integerTicksX(m_plot);
        legendBelow(m_plot, font());
    }
    layout->addWidget(m_plot, 1);

    connect(model, &SessionModel::runReset, this, [this] {
        m_shownStep = -1;
        scheduleRedraw();
    });
    connect(model, &SessionModel::currentChanged, this, [this, model] { currentMoved(model); });
    connect(model, &SessionModel::snapshotsChanged, this, &PlotView::scheduleRedraw);
}

void PlotView::setItem(int i) {
    // Kept until a snapshot holds that many items (the spin box's range follows the snapshot).
    m_requestedItem = i;
    if (m_item) m_item->setValue(i);
}
int PlotView::item() const { return m_item ? m_item->value() : 0; }
void PlotView::setColourBy(int i) {
    if (m_colour) m_colour->setCurrentIndex(i);
}
QString PlotView::infoText() const { return m_info->text(); }

int PlotView::plottedPoints() const {
    int n = 0;
    for (QCPGraph* g : m_lineGraphs) n += g->dataCount();
    for (QCPGraph* g : m_scatterGraphs) n += g->dataCount();
    return n;
}

std::vector<double> PlotView::lineValues(const Snapshot& s, const Line& l) const {
    const NamedArray* a = s.array(l.array);
    if (!a) return {};
    if (l.row < 0) {
        if (a->shape.size() != 1) return {};
        std::vector<double> out(a->count());
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = a->at(i);
        return out;
    }
    if (a->shape.size() != 2 || l.row >= a->dim(0)) return {};
    const std::size_t n = std::size_t(a->dim(1)), at = std::size_t(l.row) * n;
    std::vector<double> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = a->at(at + i);
    return out;
}

std::vector<double> PlotView::xValues(const Snapshot& s, std::size_t n) const {
    std::vector<double> x(n);
    const NamedArray* a = s.array(m_params.value("x_array").toString());
    for (std::size_t i = 0; i < n; ++i) x[i] = a && a->count() == n ? a->at(i) : double(i);
    return x;
}

void PlotView::drawLines(const Snapshot& s) {
    double xlo = 1e300, xhi = -1e300, ylo = 1e300, yhi = -1e300;
    for (std::size_t k = 0; k < m_lines.size(); ++k) {
        const std::vector<double> y = lineValues(s, m_lines[k]);
        const std::vector<double> x = xValues(s, y.size());
        QVector<double> kx, ky;
        for (std::size_t i = 0; i < y.size(); ++i)
            if (std::isfinite(y[i])) {
                kx << x[i];
                ky << y[i];
                xlo = std::min(xlo, x[i]);
                xhi = std::max(xhi, x[i]);
                ylo = std::min(ylo, y[i]);
                yhi = std::max(yhi, y[i]);
            }
        m_lineGraphs[k]->setData(kx, ky, true);
    }
    if (xhi < xlo) {
        xlo = 0;
        xhi = 1;
    }
    const double pad = std::max(0.5, 0.02 * (xhi - xlo));
    m_plot->xAxis->setRange(xlo - pad, xhi + pad);
    if (m_hline) {
        const double v = s.scalar(m_params.value("hline_scalar").toString());
        m_hline->data()->clear();
        if (std::isfinite(v)) {
            m_hline->addData(xlo - pad, v);
            m_hline->addData(xhi + pad, v);
            ylo = std::min(ylo, v);
            yhi = std::max(yhi, v);
        }
    }
    const QJsonArray range = m_params.value("y_range").toArray();
    if (range.size() == 2 && range[1].toDouble() > range[0].toDouble()) {
        setFixedRangeY(m_plot, range[0].toDouble(), range[1].toDouble());
    } else if (yhi >= ylo) {
        const double h = std::max(1e-9, yhi - ylo);
        m_plot->yAxis->setRange(ylo - 0.05 * h, yhi + 0.05 * h);
    }
    m_info->setText(QString("step %1").arg(s.step));
}

void PlotView::drawScatter(const Snapshot& s) {
    const NamedArray* pts = s.array(m_params.value("points").toString());
    for (QCPGraph* g : m_scatterGraphs) m_plot->removeGraph(g);
    m_scatterGraphs.clear();
    if (!pts || pts->shape.size() != 3 || pts->dim(2) != 2 || pts->dim(0) < 1) {
        m_info->setText(QString("step %1 · this snapshot holds no %2").arg(s.step).arg(m_params.value("points").toString()));
        return;
    }
    const int items = pts->dim(0), n = pts->dim(1);
    m_item->setRange(0, items - 1);
    if (m_requestedItem >= 0 && m_requestedItem < items) {
        m_item->setValue(m_requestedItem);
        m_requestedItem = -1;
    }
    const int b = std::clamp(m_item->value(), 0, items - 1);
    // The colour values of the chosen array ((n) values; missing: one class).
    std::vector<double> cv(std::size_t(n), 0.0);
    const QJsonArray colourBy = m_params.value("colour_by").toArray();
    QString colourName;
    if (m_colour->currentIndex() >= 0 && m_colour->currentIndex() < colourBy.size()) {
        const QJsonObject o = colourBy[m_colour->currentIndex()].toObject();
        colourName = o.value("label").toString();
        if (const NamedArray* c = s.array(o.value("array").toString()); c && c->count() == std::size_t(n))
            for (int i = 0; i < n; ++i) cv[std::size_t(i)] = c->at(std::size_t(i));
    }
    const Classes cls = classesOf(cv);
    const bool cyclic = m_params.value("cyclic").toBool(false);
    std::vector<QVector<double>> xs(cls.centre.size()), ys(cls.centre.size());
    double xlo = 1e300, xhi = -1e300, ylo = 1e300, yhi = -1e300;
    const std::size_t at = std::size_t(b) * std::size_t(n) * 2;
    for (int i = 0; i < n; ++i) {
        const double x = pts->at(at + std::size_t(i) * 2), y = pts->at(at + std::size_t(i) * 2 + 1);
        if (!std::isfinite(x) || !std::isfinite(y)) continue;
        xs[std::size_t(cls.of[std::size_t(i)])] << x;
        ys[std::size_t(cls.of[std::size_t(i)])] << y;
        xlo = std::min(xlo, x);
        xhi = std::max(xhi, x);
        ylo = std::min(ylo, y);
        yhi = std::max(yhi, y);
    }
    const double span = cls.hi - cls.lo + (cyclic ? 1 : 0);
    for (std::size_t k = 0; k < cls.centre.size(); ++k) {
        if (xs[k].isEmpty()) continue;
        const double t = span > 0 ? (cls.centre[k] - cls.lo) / span : 0;
        const QColor c = cyclic ? QColor::fromHsvF(std::fmod(t, 1.0), 0.85, 0.85) : QColor(sequentialColor(t));
        QCPGraph* g = m_plot->addGraph();
        g->setLineStyle(QCPGraph::lsNone);
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, c, c, 5));
        g->setData(xs[k], ys[k]);  // sorted by x; a scatter does not mind
        m_scatterGraphs.push_back(g);
    }
    if (xhi >= xlo) {
        const double px = std::max(1e-9, 0.05 * (xhi - xlo)), py = std::max(1e-9, 0.05 * (yhi - ylo));
        m_plot->xAxis->setRange(xlo - px, xhi + px);
        m_plot->yAxis->setRange(ylo - py, yhi + py);
    }
    QString xl = m_params.value("x_label").toString("PC 1"), yl = m_params.value("y_label").toString("PC 2");
    if (const NamedArray* e = s.array(m_params.value("explained").toString()); e && e->count() >= std::size_t(2 * (b + 1))) {
        xl += QString(" (%1 % of variance)").arg(100 * e->at(std::size_t(2 * b)), 0, 'f', 0);
        yl += QString(" (%1 %)").arg(100 * e->at(std::size_t(2 * b + 1)), 0, 'f', 0);
    }
    m_plot->xAxis->setLabel(xl);
    m_plot->yAxis->setLabel(yl);
    m_info->setText(QString("step %1 · %2%3 points · colour: %4 %5 … %6%7")
                        .arg(s.step)
                        .arg(itemValuesText(s, m_params.value("item_values").toArray(), b))
                        .arg(n)
                        .arg(colourName)
                        .arg(cls.lo)
                        .arg(cls.hi)
                        .arg(cyclic ? " (hue cycles)" : ""));
}

void PlotView::redraw() {
    const SnapshotPtr s = m_model->current();
    if (!s) {
        for (QCPGraph* g : m_lineGraphs) g->data()->clear();
        m_plot->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    if (m_scatter)
        drawScatter(*s);
    else
        drawLines(*s);
    m_shownStep = s->step;
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

QList<QWidget*> PlotView::figureParts() const { return {m_plot}; }

Result<QStringList> PlotView::exportCsv(const QString& path) const {
    const SnapshotPtr s = m_model->current();
    if (!s) return Error{path + ": no snapshot to export yet"};
    QStringList header{"step"};
    QList<QStringList> rows;
    if (!m_scatter) {
        // One row per x, one column per line.
        header << (m_params.value("x_array").toString().isEmpty() ? QString("index") : m_params.value("x_array").toString().section('.', -1));
        std::vector<std::vector<double>> ys;
        std::size_t n = 0;
        for (const Line& l : m_lines) {
            ys.push_back(lineValues(*s, l));
            n = std::max(n, ys.back().size());
            header << (l.row < 0 ? l.array : QString("%1[%2]").arg(l.array).arg(l.row));
        }
        const std::vector<double> x = xValues(*s, n);
        for (std::size_t i = 0; i < n; ++i) {
            QStringList r{QString::number(s->step), csvNumber(x[i])};
            for (const auto& y : ys) r << (i < y.size() ? csvNumber(y[i]) : QString());
            rows << r;
        }
    } else {
        // One row per point of the shown item, its two coordinates and every colour array.
        const NamedArray* pts = s->array(m_params.value("points").toString());
        if (!pts || pts->shape.size() != 3 || pts->dim(2) != 2) return Error{path + ": the snapshot holds no points to export"};
        const int b = std::clamp(item(), 0, pts->dim(0) - 1), n = pts->dim(1);
        header << "item" << "point" << "c1" << "c2";
        std::vector<const NamedArray*> colours;
        for (const QJsonValue& v : m_params.value("colour_by").toArray()) {
            colours.push_back(s->array(v.toObject().value("array").toString()));
            header << v.toObject().value("array").toString().section('.', -1);
        }
        const std::size_t at = std::size_t(b) * std::size_t(n) * 2;
        for (int i = 0; i < n; ++i) {
            QStringList r{QString::number(s->step), QString::number(b), QString::number(i), csvNumber(pts->at(at + std::size_t(i) * 2)),
                          csvNumber(pts->at(at + std::size_t(i) * 2 + 1))};
            for (const NamedArray* c : colours) r << (c && std::size_t(i) < c->count() ? csvNumber(c->at(std::size_t(i))) : QString());
            rows << r;
        }
    }
    if (Status st = writeCsv(path, header, rows); !st) return Error{st.error()};
    return QStringList{path};
}

}  // namespace plateau
