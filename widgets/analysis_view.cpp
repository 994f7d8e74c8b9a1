#include "analysis_view.h"

#include "colormap.h"
#include "figure_export.h"
#include "plot_style.h"
#include "session_model.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QAbstractTableModel>
#include <QTableView>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace plateau {

namespace {
QColor curveColor(int i) {
    static const QColor kOkabeIto[] = {QColor(0, 114, 178), QColor(213, 94, 0), QColor(0, 158, 115), QColor(204, 121, 167),
                                       QColor(230, 159, 0), QColor(86, 180, 233), QColor(120, 120, 120), QColor(0, 0, 0)};
    if (i < 8) return kOkabeIto[i];
    return QColor::fromHsv((i * 47) % 360, 200, 190);
}

QCPColorGradient gradientOf(bool diverging) {
    QCPColorGradient g;
    g.clearColorStops();
    for (int i = 0; i <= 10; ++i) {
        const double t = i / 10.0;
        g.setColorStopAt(t, QColor(diverging ? divergingColor(2 * t - 1) : sequentialColor(t)));
    }
    return g;
}

QString numberText(double v) {
    if (std::isnan(v)) return "—";
    if (v == std::round(v) && std::abs(v) < 1e9) return QString::number(qint64(v));
    return QString::number(v, 'g', 5);
}

// "rank=2, n=5": the series key of a row ("step 250" for one column; NaN as the figure names it).
QString seriesKey(const AnalysisFigure& f, const AnalysisTable& t, const std::vector<double>& row) {
    QStringList parts;
    for (const QString& c : f.series) {
        const int k = int(t.columns.indexOf(c));
        if (k < 0) continue;
        const double v = row[std::size_t(k)];
        QString named;
        for (const auto& [code, name] : f.valueNames)
            if (code == v) named = name;
        if (!named.isEmpty()) {
            parts << named;
            continue;
        }
        const QString value = std::isnan(v) && !f.nanLabel.isEmpty() ? f.nanLabel : numberText(v);
        parts << (f.series.size() == 1 ? c + " " + value : c + "=" + value);
    }
    return parts.join(", ");
}
}  // namespace

// The shown table, read in place (no item per cell: a table of thousands of rows costs nothing
// until it is scrolled to).
class AnalysisTableModel : public QAbstractTableModel {
public:
    using QAbstractTableModel::QAbstractTableModel;
    void setTable(const AnalysisTable* t) {
        beginResetModel();
        m_t = t;
        endResetModel();
    }
    int rowCount(const QModelIndex& parent = {}) const override { return parent.isValid() || !m_t ? 0 : int(m_t->rows.size()); }
    int columnCount(const QModelIndex& parent = {}) const override { return parent.isValid() || !m_t ? 0 : int(m_t->columns.size()); }
    QVariant data(const QModelIndex& i, int role) const override {
        if (!m_t || role != Qt::DisplayRole) return {};
        return numberText(m_t->rows[std::size_t(i.row())][std::size_t(i.column())]);
    }
    QVariant headerData(int section, Qt::Orientation o, int role) const override {
        if (!m_t || role != Qt::DisplayRole || o != Qt::Horizontal) return {};
        return m_t->columns.value(section);
    }

private:
    const AnalysisTable* m_t = nullptr;
};

AnalysisView::AnalysisView(SessionModel* model, QWidget* parent) : ThrottledView(250, parent), m_model(model) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    auto* controls = new QHBoxLayout;
    m_figureBox = new QComboBox;
    m_figureBox->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_figureBox->setMinimumContentsLength(24);
    controls->addWidget(new QLabel("figure"));
    controls->addWidget(m_figureBox, 1);
    layout->addLayout(controls);
    m_title = new QLabel;
    m_title->setWordWrap(true);
    layout->addWidget(m_title);
    m_plotArea = new QWidget;
    m_plotLayout = new QHBoxLayout(m_plotArea);
    m_plotLayout->setContentsMargins(0, 0, 0, 0);
    m_note = new QLabel;
    m_note->setWordWrap(true);
    layout->addWidget(m_note);
    // Figure above, the result's tables below, the split the user's.
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(m_plotArea);
    m_tablePane = new QWidget;
    auto* tableLayout = new QVBoxLayout(m_tablePane);
    tableLayout->setContentsMargins(0, 0, 0, 0);
    auto* tableRow = new QHBoxLayout;
    m_tableBox = new QComboBox;
    tableRow->addWidget(new QLabel("table"));
    tableRow->addWidget(m_tableBox, 1);
    tableLayout->addLayout(tableRow);
    m_table = new QTableView;
    m_tableModel = new AnalysisTableModel(m_table);
    m_table->setModel(m_tableModel);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->setVisible(false);
    m_table->horizontalHeader()->setResizeContentsPrecision(40);  // widths from the first rows only
    tableLayout->addWidget(m_table);
    split->addWidget(m_tablePane);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    layout->addWidget(split, 1);
    connect(m_figureBox, &QComboBox::currentIndexChanged, this, [this] { redrawSoon(); });
    connect(m_tableBox, &QComboBox::currentIndexChanged, this, [this] { fillTable(); });
    if (m_model)
        connect(m_model, &SessionModel::detectionChanged, this, [this] {
            if (m_result) scheduleRedraw();
        });
    clear("no analysis result yet: choose an analysis and run it");
}

void AnalysisView::setResult(const AnalysisResult& r, const QString& note) {
    m_result = r;
    m_figures = analysisFigures(r);
    {
        const QSignalBlocker b(m_figureBox), t(m_tableBox);
        const QString previous = m_figureBox->currentData().toString();
        m_figureBox->clear();
        for (const AnalysisFigure& f : m_figures) m_figureBox->addItem(f.title, f.id);
        const int keep = m_figureBox->findData(previous);
        m_figureBox->setCurrentIndex(keep >= 0 ? keep : 0);
        m_tableBox->clear();
        for (const AnalysisTable& tab : r.tables) m_tableBox->addItem(tab.name);
    }
    QStringList steps;
    for (qint64 s : r.steps) steps << QString::number(s);
    QString text = QString("%1 on %2 checkpoint%3 (%4), %5 s").arg(r.analysis).arg(r.steps.size()).arg(r.steps.size() == 1 ? "" : "s")
                       .arg(steps.size() > 8 ? steps.mid(0, 3).join(", ") + ", …, " + steps.back() : steps.join(", "))
                       .arg(r.seconds, 0, 'f', 1);
    if (!note.isEmpty()) text += " — " + note;
    m_note->setText(text);
    fillTable();
    redrawSoon();
}

void AnalysisView::clear(const QString& note) {
    m_result.reset();
    m_figures.clear();
    {
        const QSignalBlocker b(m_figureBox), t(m_tableBox);
        m_figureBox->clear();
        m_tableBox->clear();
    }
    m_tableModel->setTable(nullptr);
    m_note->setText(note);
    m_title->clear();
    redrawSoon();
}

void AnalysisView::setDetection(const DropDetection& d) {
    m_detection = d;
    m_ownDetection = true;
    if (m_result) redrawSoon();
}

void AnalysisView::setFigure(int index) { m_figureBox->setCurrentIndex(index); }
void AnalysisView::setTableVisible(bool on) { m_tablePane->setVisible(on); }
int AnalysisView::figureIndex() const { return m_figureBox->currentIndex(); }

QString AnalysisView::figureName() const {
    const int i = figureIndex();
    if (!m_result) return "analysis";
    return m_result->analysis + (i >= 0 && i < int(m_figures.size()) ? "_" + m_figures[std::size_t(i)].id : QString());
}

QList<QWidget*> AnalysisView::figureParts() const { return {m_plotArea}; }

int AnalysisView::plottedPoints() const { return m_points; }

void AnalysisView::fillTable() {
    m_tableModel->setTable(m_result ? m_result->table(m_tableBox->currentText()) : nullptr);
    m_table->resizeColumnsToContents();
}

QCustomPlot* AnalysisView::newPlot() {
    auto* p = new QCustomPlot;
    p->setMinimumSize(260, 220);
    liveRendering(p);
    m_plotLayout->addWidget(p);
    p->show();  // now, not at the layout's queued show: an export drawn in the same turn sees it
    m_plots << p;
    return p;
}

void AnalysisView::markDrop(QCustomPlot* plot, bool logY) {
    const DropDetection& d = m_ownDetection || !m_model ? m_detection : m_model->detection();
    auto add = [&](double x, const QString& label, QColor color, Qt::Alignment side, double y) {
        auto* line = new QCPItemStraightLine(plot);
        line->point1->setCoords(x, logY ? 1e-12 : -1e12);
        line->point2->setCoords(x, 1e12);
        line->setPen(QPen(color, 1.2, Qt::DashLine));
        auto* text = new QCPItemText(plot);
        text->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
        text->position->setCoords(x, y);
        text->setPositionAlignment(Qt::AlignTop | side);
        text->setText(label);
        text->setColor(color);
        m_markerXs.push_back(x);
    };
    for (const DropEvent& e : d.drops) {
        add(double(e.onsetStep), QString("drop onset %1").arg(e.onsetStep), QColor(213, 94, 0), Qt::AlignRight, 0.02);
        if (e.complete) add(double(e.endStep), QString("end %1").arg(e.endStep), QColor(0, 158, 115), Qt::AlignLeft, 0.08);
    }
}

void AnalysisView::drawLines(const AnalysisFigure& f, const AnalysisTable& t) {
    QCustomPlot* p = newPlot();
    const int xc = int(t.columns.indexOf(f.x));
    const int cc = f.colour.isEmpty() ? -1 : int(t.columns.indexOf(f.colour));
    const auto rows = f.rows(t, m_result->steps);
    // Curves: one per y column and series key, in first-seen order.
    struct Curve {
        QString name;
        int yc;
        std::vector<const std::vector<double>*> rows;
    };
    std::vector<Curve> groups;
    const int stepCol = int(t.columns.indexOf("step"));
    for (const QString& y : f.ys) {
        const int yc = int(t.columns.indexOf(y));
        if (yc < 0 || xc < 0) continue;
        std::map<QString, std::size_t> at;
        const bool once = f.once.contains(y);
        for (const auto* row : rows) {
            if (once && stepCol >= 0 && !m_result->steps.empty() && qint64((*row)[std::size_t(stepCol)]) != m_result->steps.back())
                continue;
            const QString key = once ? QString() : seriesKey(f, t, *row);
            const QString name = key.isEmpty() ? y : (f.ys.size() > 1 ? y + ", " + key : key);
            auto it = at.find(name);
            if (it == at.end()) it = at.emplace(name, groups.size()).first, groups.push_back({name, yc, {}});
            groups[it->second].rows.push_back(row);
        }
    }
    double lo = INFINITY, hi = -INFINITY;
    int i = 0;
    for (const Curve& c : groups) {
        const int yc = c.yc;
        const QString& name = c.name;
        const auto& members = c.rows;
        QVector<double> xs, ys;
        for (const auto* row : members) {
            const double x = (*row)[std::size_t(xc)], y = (*row)[std::size_t(yc)];
            if (!std::isfinite(x) || !std::isfinite(y) || (f.logY && y <= 0) || (f.logX && x <= 0)) continue;
            xs << x, ys << y;
            lo = std::min(lo, y), hi = std::max(hi, y);
        }
        if (f.kind == AnalysisFigure::Kind::Scatter && cc >= 0) {
            // One graph per point colour: values binned into 8 colours of the map.
            double cLo = INFINITY, cHi = -INFINITY;
            for (const auto* row : members) cLo = std::min(cLo, (*row)[std::size_t(cc)]), cHi = std::max(cHi, (*row)[std::size_t(cc)]);
            // Few integer values (columns, layers): one colour each; otherwise 8 bins of the range.
            std::vector<double> distinct;
            for (const auto* row : members) {
                const double c = (*row)[std::size_t(cc)];
                if (std::find(distinct.begin(), distinct.end(), c) == distinct.end()) distinct.push_back(c);
            }
            const bool integral = distinct.size() <= 12 && std::all_of(distinct.begin(), distinct.end(), [](double c) { return c == std::round(c); });
            const int bins = integral ? int(distinct.size()) : 8;
            std::vector<QCPGraph*> byBin(std::size_t(bins), nullptr);
            for (const auto* row : members) {
                const double x = (*row)[std::size_t(xc)], y = (*row)[std::size_t(yc)], c = (*row)[std::size_t(cc)];
                if (!std::isfinite(x) || !std::isfinite(y)) continue;
                const double t01 = cHi > cLo ? (c - cLo) / (cHi - cLo) : 0.5;
                const int b = integral ? int(std::round(c - cLo)) * (bins - 1) / std::max(1, int(cHi - cLo)) : std::clamp(int(t01 * bins), 0, bins - 1);
                if (!byBin[std::size_t(b)]) {
                    QCPGraph* g = p->addGraph();
                    g->setLineStyle(QCPGraph::lsNone);
                    const double shade = integral ? (bins > 1 ? double(b) / (bins - 1) : 0.5) : (b + 0.5) / bins;
                    const QColor col(f.signedColour ? divergingColor(2 * shade - 1) : sequentialColor(0.9 * shade));
                    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, col, col, 6));
                    g->setName(integral ? QString("%1 %2").arg(f.colour).arg(numberText(c))
                                        : QString("%1 %2 … %3").arg(f.colour).arg(numberText(cLo + (cHi - cLo) * b / bins))
                                              .arg(numberText(cLo + (cHi - cLo) * (b + 1) / bins)));
                    byBin[std::size_t(b)] = g;
                }
                byBin[std::size_t(b)]->addData(x, y);
                ++m_points;
            }
        } else {
            QCPGraph* g = p->addGraph();
            g->setName(name);
            // Many curves (one per checkpoint): a ramp from early (dark) to late (light).
            const QColor col = groups.size() > 8 ? QColor(sequentialColor(0.9 * double(i) / double(groups.size() - 1))) : curveColor(i);
            g->setPen(QPen(col, 1.6));
            if (f.kind == AnalysisFigure::Kind::Scatter) {
                g->setLineStyle(QCPGraph::lsNone);
                g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, col, col, 4));
            } else if (xs.size() < 60) {
                g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, col, Qt::white, 5));
            }
            g->setData(xs, ys);  // not sorted: scatter panels and tables in any order
            m_points += int(xs.size());
        }
        ++i;
    }
    const bool logY = f.logY && std::isfinite(lo) && hi / lo > 20;  // less than ~1.3 decades reads better linear
    if (logY) setLogY(p);
    bool integerX = xc >= 0 && !rows.empty();
    double xLo = INFINITY, xHi = -INFINITY;
    for (const auto* row : rows) {
        const double x = (*row)[std::size_t(xc)];
        integerX = integerX && x == std::round(x);
        xLo = std::min(xLo, x), xHi = std::max(xHi, x);
    }
    if (integerX && xHi - xLo <= 16 && !f.logX) integerTicksX(p);
    if (f.logX) {
        p->xAxis->setScaleType(QCPAxis::stLogarithmic);
        p->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    }
    p->xAxis->setLabel(f.xLabel.isEmpty() ? f.x : f.xLabel);
    p->yAxis->setLabel(f.yLabel.isEmpty() ? f.ys.join(", ") : f.yLabel);
    p->rescaleAxes();
    if (std::isfinite(lo) && logY) p->yAxis->setRange(lo / 1.5, hi * 1.5);
    else if (std::isfinite(lo)) {
        const double pad = hi > lo ? 0.08 * (hi - lo) : std::max(1e-3, 0.1 * std::abs(hi));
        p->yAxis->setRange(lo - pad, hi + pad);
    }
    if (!f.logX) {
        const QCPRange r = p->xAxis->range();
        const double pad = r.size() > 0 ? 0.03 * r.size() : 0.5;
        p->xAxis->setRange(r.lower - pad, r.upper + pad);
    }
    if (f.overTraining) markDrop(p, logY);
    const int graphs = p->graphCount();
    if (graphs > 1 && graphs <= 24) {
        p->legend->setVisible(true);
        legendBelow(p, font());
        int longest = 0;
        for (int g = 0; g < graphs; ++g) longest = std::max(longest, int(p->graph(g)->name().size()));
        p->legend->setWrap(longest > 26 ? 2 : graphs > 8 ? 4 : 3);
        p->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst, true);  // re-lay the items out with the new wrap
    }
}

void AnalysisView::drawHeatmaps(const AnalysisFigure& f, const AnalysisTable& t) {
    const int xc = int(t.columns.indexOf(f.x)), yc = int(t.columns.indexOf(f.ys.value(0))), vc = int(t.columns.indexOf(f.colour));
    const int sc = int(t.columns.indexOf("step"));
    if (xc < 0 || yc < 0 || vc < 0) return;
    const auto rows = f.rows(t, m_result->steps);
    double xMin = INFINITY, xMax = -INFINITY, yMin = INFINITY, yMax = -INFINITY, vLo = INFINITY, vHi = -INFINITY;
    for (const auto* r : rows) {
        xMin = std::min(xMin, (*r)[std::size_t(xc)]), xMax = std::max(xMax, (*r)[std::size_t(xc)]);
        yMin = std::min(yMin, (*r)[std::size_t(yc)]), yMax = std::max(yMax, (*r)[std::size_t(yc)]);
        const double v = (*r)[std::size_t(vc)];
        if (std::isfinite(v)) vLo = std::min(vLo, v), vHi = std::max(vHi, v);
    }
    if (!std::isfinite(xMin) || !std::isfinite(vLo)) return;
    const double vAbs = std::max(std::abs(vLo), std::abs(vHi));
    const std::vector<qint64> steps = figureSteps(f, m_result->steps);
    for (std::size_t k = 0; k < steps.size(); ++k) {
        QCustomPlot* p = newPlot();
        const int nx = int(xMax - xMin) + 1, ny = int(yMax - yMin) + 1;
        auto* map = new QCPColorMap(p->xAxis, p->yAxis);
        map->data()->setSize(nx, ny);
        map->data()->setRange(QCPRange(xMin, xMax), QCPRange(yMin, yMax));
        for (int ix = 0; ix < nx; ++ix)
            for (int iy = 0; iy < ny; ++iy) map->data()->setCell(ix, iy, std::nan(""));
        for (const auto* r : rows) {
            if (sc >= 0 && qint64((*r)[std::size_t(sc)]) != steps[k]) continue;
            const double v = (*r)[std::size_t(vc)];
            map->data()->setCell(int((*r)[std::size_t(xc)] - xMin), int((*r)[std::size_t(yc)] - yMin), v);
            auto* label = new QCPItemText(p);
            label->position->setCoords((*r)[std::size_t(xc)], (*r)[std::size_t(yc)]);
            label->setText(QString::number(v, 'g', 2));
            const double t01 = f.signedColour ? std::abs(v) / std::max(1e-300, vAbs) : (v - vLo) / std::max(1e-300, vHi - vLo);
            label->setColor(f.signedColour ? (t01 > 0.6 ? Qt::white : Qt::black) : (t01 < 0.5 ? Qt::white : Qt::black));
            ++m_points;
        }
        map->setGradient(gradientOf(f.signedColour));
        map->setInterpolate(false);
        map->setDataRange(f.signedColour ? QCPRange(-vAbs, vAbs) : QCPRange(vLo, vHi > vLo ? vHi : vLo + 1e-12));
        map->setTightBoundary(false);
        p->xAxis->setLabel(f.xLabel);
        p->yAxis->setLabel(f.yLabel);
        p->yAxis->setRangeReversed(true);  // layer 0 at the top, as the attention view
        integerTicksX(p);
        integerTicksY(p);
        p->rescaleAxes();
        p->xAxis->setRange(xMin - 0.5, xMax + 0.5);
        p->yAxis->setRange(yMin - 0.5, yMax + 0.5);
        p->plotLayout()->insertRow(0);
        p->plotLayout()->addElement(0, 0, new QCPTextElement(p, QString("step %1").arg(steps[k])));
        if (k + 1 == steps.size()) {
            auto* scale = new QCPColorScale(p);
            p->plotLayout()->addElement(1, 1, scale);
            scale->setType(QCPAxis::atRight);
            const QCPRange range = map->dataRange();
            scale->setGradient(gradientOf(f.signedColour));
            scale->setDataRange(range);
            map->setColorScale(scale);  // the map takes the scale's range: set it first
            map->setDataRange(range);
            scale->axis()->setLabel(f.colour);
            scale->setBarWidth(10);
        }
    }
}

void AnalysisView::redraw() {
    for (QCustomPlot* p : m_plots) {
        m_plotLayout->removeWidget(p);
        p->hide();  // until it is deleted it is still a child: an export drawn now must not show it
        p->deleteLater();
    }
    m_plots.clear();
    m_markerXs.clear();
    m_points = 0;
    const int i = figureIndex();
    if (!m_result || i < 0 || i >= int(m_figures.size())) {
        m_title->setText(m_result ? "no figure for this analysis: see the table" : "");
        return;
    }
    const AnalysisFigure& f = m_figures[std::size_t(i)];
    m_title->setText("<b>" + f.title.toHtmlEscaped() + "</b>");
    const AnalysisTable* t = m_result->table(f.table);
    if (!t) {
        m_title->setText(m_title->text() + " — this result has no table \"" + f.table + "\"");
        return;
    }
    if (f.kind == AnalysisFigure::Kind::Heatmap) drawHeatmaps(f, *t);
    else drawLines(f, *t);
    for (QCustomPlot* p : m_plots) p->replot();  // now: an export drawn in the same turn sees the new content
}

Result<QStringList> AnalysisView::exportCsv(const QString& path) const {
    if (!m_result) return Error{"no analysis result to export"};
    QStringList written;
    const int i = figureIndex();
    const QString shown = i >= 0 && i < int(m_figures.size()) ? m_figures[std::size_t(i)].table : m_result->tables.front().name;
    for (std::size_t k = 0; k < m_result->tables.size(); ++k) {
        const AnalysisTable& t = m_result->tables[k];
        const QString file = t.name == shown ? path : siblingPath(path, t.name);
        QList<QStringList> rows;
        for (const auto& r : t.rows) {
            QStringList cells;
            for (double v : r) cells << csvNumber(v);
            rows << cells;
        }
        if (Status st = writeCsv(file, t.columns, rows); !st) return Error{st.error()};
        written << file;
    }
    return written;
}

}  // namespace plateau
