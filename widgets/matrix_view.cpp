#include "matrix_view.h"

#include "figure_export.h"
#include "heatmap_widget.h"
#include "plot_style.h"
#include "plot_view.h"  // itemValuesText
#include "session_model.h"

#include <QGridLayout>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLabel>
#include <QRegularExpression>
#include <QSpinBox>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace plateau {

MatrixView::MatrixView(SessionModel* model, const QString& name, const QJsonObject& params, QWidget* parent)
    : ThrottledView(400, parent), m_model(model), m_name(name), m_params(params) {
    for (const QJsonValue& v : params.value("panels").toArray()) {
        const QJsonObject o = v.toObject();
        PanelSpec p;
        p.array = o.value("array").toString();
        const QJsonArray diff = o.value("abs_diff").toArray();
        if (diff.size() == 2) {
            p.diffA = diff[0].toString();
            p.diffB = diff[1].toString();
        }
        p.marks = o.value("marks").toString();
        p.title = o.value("title").toString(p.array);
        p.isSigned = o.value("signed").toBool(true);
        const QJsonArray range = o.value("range").toArray();
        if (range.size() == 2 && range[1].toDouble() > range[0].toDouble()) {
            p.fixedRange = true;
            p.lo = range[0].toDouble();
            p.hi = range[1].toDouble();
        }
        m_specs.push_back(p);
    }
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    auto* controls = new QHBoxLayout;
    m_index = new QSpinBox;
    m_index->setRange(0, 0);
    m_index->setToolTip("which item of the fixed probe batch");
    controls->addWidget(new QLabel(params.value("item_label").toString("probe item")));
    controls->addWidget(m_index);
    m_info = new QLabel;
    m_info->setWordWrap(true);
    controls->addWidget(m_info, 1);
    layout->addLayout(controls);

    auto* grid = new QGridLayout;
    for (std::size_t i = 0; i < m_specs.size(); ++i) {
        auto* w = new HeatmapWidget;
        w->setTitle(m_specs[i].title);
        w->setMinimumCellSize(6);
        w->setMinimumSize(80, 80);
        grid->addWidget(w, 0, int(i));
        const QString title = m_specs[i].title;
        connect(w, &HeatmapWidget::cellHovered, this, [this, title](int r, int c, double v) {
            m_hover->setText(r < 0 ? QString(" ") : QString("%1 (%2,%3) = %4").arg(title).arg(r).arg(c).arg(v, 0, 'f', 3));
        });
        m_panels.push_back(w);
    }
    layout->addLayout(grid, 2);
    m_hover = new QLabel(" ");
    layout->addWidget(m_hover);

    const QJsonArray series = params.value("series").toArray();
    if (!series.isEmpty()) {
        m_seriesLog = params.value("series_log").toBool(true);
        const QJsonArray range = params.value("series_range").toArray();
        if (range.size() == 2 && range[0].toDouble() < range[1].toDouble()) {
            m_seriesLo = range[0].toDouble();
            m_seriesHi = range[1].toDouble();
        }
        m_plot = new QCustomPlot;
        m_plot->setMinimumHeight(150);  // the axis rect keeps ~80 px under a two-row legend
        for (const QJsonValue& v : series) {
            const QJsonObject o = v.toObject();
            m_seriesSpecs.push_back({o.value("scalar").toString(), o.value("label").toString()});
            QCPGraph* g = m_plot->addGraph();
            g->setName(o.value("label").toString(o.value("scalar").toString()));
            const QColor color(o.value("color").toString("#000000"));
            g->setPen(o.value("dashed").toBool() ? QPen(color, 1, Qt::DashLine) : QPen(color, 1.6));
            m_series.push_back(g);
        }
        if (m_seriesLog) setLogY(m_plot);
        liveRendering(m_plot);
        m_plot->xAxis->setLabel(params.value("series_x_label").toString("step (probe batch)"));
        legendBelow(m_plot, font());
        m_line = new QCPItemStraightLine(m_plot);
        m_line->setPen(QPen(QColor(204, 121, 167), 1, Qt::DotLine));
        layout->addWidget(m_plot, 2);
    }

    connect(m_index, &QSpinBox::valueChanged, this, [this] {
        m_shownStep = -1;
        redrawSoon();
    });
    connect(model, &SessionModel::runReset, this, [this] {
        for (QCPGraph* g : m_series) g->data()->clear();
        m_plottedSnapshots = 0;
        m_shownStep = -1;
        scheduleRedraw();
    });
    connect(model, &SessionModel::currentChanged, this, [this, model] { currentMoved(model); });
    connect(model, &SessionModel::snapshotsChanged, this, &MatrixView::scheduleRedraw);
}

void MatrixView::setProbeIndex(int i) { m_index->setValue(i); }
int MatrixView::probeIndex() const { return m_index->value(); }

std::vector<float> MatrixView::panelValues(const Snapshot& s, const PanelSpec& p, int b, int* rows, int* cols) const {
    auto slice = [&](const QString& name) -> std::vector<float> {
        const NamedArray* a = s.array(name);
        if (!a || a->shape.size() != 3 || b >= a->dim(0)) return {};
        *rows = a->dim(1);
        *cols = a->dim(2);
        const std::size_t n = std::size_t(*rows) * std::size_t(*cols), at = std::size_t(b) * n;
        std::vector<float> out(n);
        for (std::size_t i = 0; i < n; ++i) out[i] = float(a->at(at + i));
        return out;
    };
    if (!p.diffA.isEmpty()) {
        std::vector<float> x = slice(p.diffA), y = slice(p.diffB);
        if (x.size() != y.size() || x.empty()) return {};
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::abs(x[i] - y[i]);
        return x;
    }
    return slice(p.array);
}

int MatrixView::itemCount(const Snapshot& s) const {
    // Those the panels' arrays hold (an experiment's maps may have more or fewer than its probe batch).
    for (const PanelSpec& p : m_specs)
        if (const NamedArray* a = s.array(p.array.isEmpty() ? p.diffA : p.array); a && a->shape.size() == 3) return a->dim(0);
    return s.probeCount;
}

std::vector<std::uint8_t> MatrixView::marksOf(const Snapshot& s, const QString& name, int b) const {
    const NamedArray* a = name.isEmpty() ? nullptr : s.array(name);
    if (!a || a->shape.size() != 3 || b >= a->dim(0)) return {};
    const std::size_t n = std::size_t(a->dim(1)) * std::size_t(a->dim(2)), at = std::size_t(b) * n;
    std::vector<std::uint8_t> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = a->at(at + i) != 0 ? 1 : 0;
    return out;
}

void MatrixView::redraw() {
    const auto& snaps = m_model->snapshots();
    // The series: one point per snapshot (a re-probed last snapshot replaces its point).
    if (m_plot) {
        if (m_plottedSnapshots > snaps.size()) m_plottedSnapshots = 0;
        if (m_plottedSnapshots == 0)
            for (QCPGraph* g : m_series) g->data()->clear();
        else
            for (QCPGraph* g : m_series) g->data()->removeAfter(double(snaps[m_plottedSnapshots - 1]->step) - 0.5);
        for (std::size_t i = m_plottedSnapshots ? m_plottedSnapshots - 1 : 0; i < snaps.size(); ++i)
            for (std::size_t k = 0; k < m_series.size(); ++k) {
                const double v = snaps[i]->scalar(m_seriesSpecs[k].scalar);
                if (std::isfinite(v) && (!m_seriesLog || v > 0)) m_series[k]->addData(double(snaps[i]->step), v);
            }
        m_plottedSnapshots = snaps.size();
    }

    const SnapshotPtr s = m_model->current();
    if (m_plot) {
        if (s) {
            m_line->point1->setCoords(double(s->step), m_seriesLog ? 1e-12 : -1e12);
            m_line->point2->setCoords(double(s->step), 1e12);
        }
        if (!snaps.empty()) {
            m_plot->xAxis->setRange(0, std::max<double>(1, double(snaps.back()->step)));
            double lo = 1e300, hi = -1e300;
            for (QCPGraph* g : m_series) {
                bool found = false;
                const QCPRange r = g->data()->valueRange(found);
                if (found) {
                    lo = std::min(lo, r.lower);
                    hi = std::max(hi, r.upper);
                }
            }
            if (m_seriesLo < m_seriesHi) {
                setFixedRangeY(m_plot, m_seriesLo, m_seriesHi);
            } else if (m_seriesLog && hi > 0) {
                m_plot->yAxis->setRange(std::max(lo / 2, 1e-9), hi * 2);
            } else if (!m_seriesLog && hi >= lo) {
                m_plot->yAxis->setRange(lo - 0.05 * (hi - lo + 1e-9), hi + 0.05 * (hi - lo + 1e-9));
            }
        }
        // A decade label needs ~28 px of axis height: a short dock gets fewer (every second or
        // third decade) instead of overlapping ones.
        if (m_seriesLog) m_plot->yAxis->ticker()->setTickCount(std::clamp(m_plot->axisRect()->height() / 28, 1, 4));
        m_plot->replot(QCustomPlot::rpQueuedReplot);
    }
    if (!s) return;

    const int items = itemCount(*s);
    m_index->setRange(0, std::max(0, items - 1));
    const int b = std::clamp(m_index->value(), 0, std::max(0, items - 1));
    // One colour range for the panels without their own: the largest |value| of the signed panels
    // of this item, or where there are none, the largest value of the unsigned ones.
    std::vector<std::vector<float>> values(m_specs.size());
    std::vector<int> rows(m_specs.size(), 0), cols(m_specs.size(), 0);
    double scale = 1e-6, unsignedScale = 1e-6;
    bool anySigned = false;
    for (std::size_t p = 0; p < m_specs.size(); ++p) {
        values[p] = panelValues(*s, m_specs[p], b, &rows[p], &cols[p]);
        if (m_specs[p].fixedRange) continue;
        if (m_specs[p].isSigned && m_specs[p].diffA.isEmpty()) {
            anySigned = true;
            for (float v : values[p]) scale = std::max(scale, double(std::abs(v)));
        } else if (!m_specs[p].isSigned) {
            for (float v : values[p]) unsignedScale = std::max(unsignedScale, double(v));
        }
    }
    if (!anySigned) scale = unsignedScale;
    for (std::size_t p = 0; p < m_specs.size(); ++p) {
        if (values[p].empty()) continue;
        const auto kind = m_specs[p].isSigned ? ColorMapKind::Diverging : ColorMapKind::Sequential;
        if (m_specs[p].fixedRange)
            m_panels[p]->setData(rows[p], cols[p], values[p], kind, m_specs[p].lo, m_specs[p].hi);
        else
            m_panels[p]->setData(rows[p], cols[p], values[p], kind, 0, scale);
        m_panels[p]->setMarked(marksOf(*s, m_specs[p].marks, b));
    }
    // The info line: the item's masked MSE (if asked for) and the template's scalars.
    QString info = anySigned ? QString("step %1 · colour range ±%2").arg(s->step).arg(scale, 0, 'f', 2)
                             : QString("step %1 · colour range 0 – %2").arg(s->step).arg(scale, 0, 'g', 3);
    // Items named by values (the factor toy's pairs by their lambda; a map by its task and shots).
    info = itemValuesText(*s, m_params.value("item_values").toArray(), b) + info;
    const QJsonArray err = m_params.value("error_of").toArray();
    if (err.size() == 3) {
        int r = 0, c = 0;
        const std::vector<float> pred = panelValues(*s, PanelSpec{err[0].toString(), {}, {}, {}, {}, true}, b, &r, &c);
        const std::vector<float> truth = panelValues(*s, PanelSpec{err[1].toString(), {}, {}, {}, {}, true}, b, &r, &c);
        const std::vector<std::uint8_t> marks = marksOf(*s, err[2].toString(), b);
        double sq = 0;
        int count = 0;
        for (std::size_t i = 0; i < pred.size() && i < truth.size() && i < marks.size(); ++i)
            if (marks[i]) {
                sq += double(pred[i] - truth[i]) * double(pred[i] - truth[i]);
                ++count;
            }
        info += QString(" · masked MSE of this item %1").arg(count ? sq / count : NAN, 0, 'e', 2);
    }
    QString tmpl = m_params.value("info").toString();
    if (!tmpl.isEmpty()) {
        static const QRegularExpression placeholder("%([a-z0-9_.]+)");
        QString filled;
        qsizetype last = 0;
        for (auto it = placeholder.globalMatch(tmpl); it.hasNext();) {
            const auto m = it.next();
            filled += tmpl.mid(last, m.capturedStart() - last) + QString::number(s->scalar(m.captured(1)), 'e', 2);
            last = m.capturedEnd();
        }
        info += " · " + filled + tmpl.mid(last);
    }
    m_info->setText(info);
    m_shownStep = s->step;
}

QList<QWidget*> MatrixView::figureParts() const {
    QList<QWidget*> parts;
    for (HeatmapWidget* w : m_panels) parts << w;
    if (m_plot) parts << m_plot;
    return parts;
}

Result<QStringList> MatrixView::exportCsv(const QString& path) const {
    const SnapshotPtr s = m_model->current();
    if (!s) return Error{path + ": no snapshot to export yet"};
    const int b = std::clamp(probeIndex(), 0, std::max(0, itemCount(*s) - 1));
    // One row per cell of the item, one column per panel (and the marks of the first marked panel).
    std::vector<std::vector<float>> values(m_specs.size());
    int rows = 0, cols = 0;
    for (std::size_t p = 0; p < m_specs.size(); ++p) {
        int r = 0, c = 0;
        values[p] = panelValues(*s, m_specs[p], b, &r, &c);
        if (!values[p].empty()) {
            rows = r;
            cols = c;
        }
    }
    QString marksName;
    for (const PanelSpec& p : m_specs)
        if (!p.marks.isEmpty()) marksName = p.marks;
    const std::vector<std::uint8_t> marks = marksOf(*s, marksName, b);
    QStringList header{"step", "item", "row", "col"};
    if (!marksName.isEmpty()) header << "marked";
    for (const PanelSpec& p : m_specs) {
        QString key = p.diffA.isEmpty() ? p.array.section('.', -1) : "abs_" + p.diffA.section('.', -1) + "_minus_" + p.diffB.section('.', -1);
        header << key;
    }
    QList<QStringList> out;
    for (int k = 0; k < rows * cols; ++k) {
        QStringList r{QString::number(s->step), QString::number(b), QString::number(k / cols), QString::number(k % cols)};
        if (!marksName.isEmpty()) r << (std::size_t(k) < marks.size() && marks[std::size_t(k)] ? "1" : "0");
        for (std::size_t p = 0; p < m_specs.size(); ++p)
            r << (std::size_t(k) < values[p].size() ? csvNumber(values[p][std::size_t(k)]) : QString());
        out << r;
    }
    if (Status st = writeCsv(path, header, out); !st) return Error{st.error()};
    QStringList files{path};
    if (!m_seriesSpecs.empty()) {
        QList<QStringList> series;
        for (const SnapshotPtr& x : m_model->snapshots()) {
            QStringList r{QString::number(x->step)};
            for (const SeriesSpec& sp : m_seriesSpecs) r << csvNumber(x->scalar(sp.scalar));
            r << maskSourceName(x->probe.source);
            series << r;
        }
        QStringList h{"step"};
        for (const SeriesSpec& sp : m_seriesSpecs) h << sp.scalar;
        h << "probe_masks";
        const QString over = siblingPath(path, "over_time");
        if (Status st = writeCsv(over, h, series); !st) return Error{st.error()};
        files << over;
    }
    return files;
}

}  // namespace plateau
