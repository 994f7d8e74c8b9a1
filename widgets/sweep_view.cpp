#include "sweep_view.h"

#include "colormap.h"
#include "figure_export.h"
#include "plot_style.h"
#include "sweep/sweep_data.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace plateau {

namespace {
const QColor kPalette[] = {QColor(0, 114, 178), QColor(213, 94, 0), QColor(0, 158, 115), QColor(204, 121, 167),
                           QColor(230, 159, 0),  QColor(86, 180, 233), QColor(120, 120, 120), QColor(240, 228, 66)};

// A table cell that sorts by number when it holds one.
class NumberItem : public QTableWidgetItem {
public:
    explicit NumberItem(const QString& text) : QTableWidgetItem(text) {}
    bool operator<(const QTableWidgetItem& other) const override {
        bool a = false, b = false;
        const double x = text().toDouble(&a), y = other.text().toDouble(&b);
        if (a && b) return x < y;
        if (a != b) return a;  // numbers before blanks
        return text() < other.text();
    }
};

double median(std::vector<double> v) {
    if (v.empty()) return NAN;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

QString cellText(double v, bool integer = false) {
    if (!std::isfinite(v)) return {};
    return integer ? QString::number(qint64(std::llround(v))) : QString::number(v, 'g', 4);
}
}  // namespace

SweepView::SweepView(std::unique_ptr<SweepData> data, QWidget* parent) : ThrottledView(300, parent), m_data(std::move(data)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    auto* controls = new QHBoxLayout;
    m_column = new QComboBox;
    m_colourBy = new QComboBox;
    m_align = new QComboBox;
    m_align->addItems({"by step", "by training time", "by drop onset"});
    m_logX = new QCheckBox("log x");
    m_smooth = new QDoubleSpinBox;
    m_smooth->setRange(0, 0.999);
    m_smooth->setDecimals(3);
    m_smooth->setSingleStep(0.01);
    m_smooth->setValue(0.98);
    m_smooth->setToolTip("EMA smoothing of the curves (debiased; of log10 on log axes); 0 = raw values");
    m_status = new QLabel;
    controls->addWidget(new QLabel("curve"));
    controls->addWidget(m_column);
    controls->addWidget(new QLabel("colour by"));
    controls->addWidget(m_colourBy);
    controls->addWidget(new QLabel("align"));
    controls->addWidget(m_align);
    controls->addWidget(new QLabel("smoothing"));
    controls->addWidget(m_smooth);
    controls->addWidget(m_logX);
    controls->addStretch(1);
    controls->addWidget(m_status);
    layout->addLayout(controls);

    auto* split = new QSplitter(Qt::Vertical);
    m_overlay = new QCustomPlot;
    liveRendering(m_overlay);
    m_overlay->setMinimumHeight(220);
    m_overlay->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    legendBelow(m_overlay, font());
    connect(m_overlay, &QCustomPlot::afterLayout, this, &SweepView::refreshDecimation);
    split->addWidget(m_overlay);

    auto* bottom = new QSplitter(Qt::Horizontal);
    m_table = new QTableWidget;
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->setVisible(false);
    m_table->setToolTip("double-click a point to open its run with every view");
    bottom->addWidget(m_table);
    auto* phaseBox = new QWidget;
    auto* pl = new QVBoxLayout(phaseBox);
    pl->setContentsMargins(0, 0, 0, 0);
    auto* pc = new QHBoxLayout;
    m_phaseX = new QComboBox;
    m_phaseY = new QComboBox;
    m_cell = new QComboBox;
    pc->addWidget(new QLabel("phase x"));
    pc->addWidget(m_phaseX);
    pc->addWidget(new QLabel("y"));
    pc->addWidget(m_phaseY);
    pc->addWidget(m_cell);
    pc->addStretch(1);
    pl->addLayout(pc);
    m_phase = new QCustomPlot;
    liveRendering(m_phase);
    m_phase->setMinimumSize(260, 220);
    pl->addWidget(m_phase, 1);
    bottom->addWidget(phaseBox);
    split->addWidget(bottom);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    layout->addWidget(split, 1);

    m_map = new QCPColorMap(m_phase->xAxis, m_phase->yAxis);
    m_scale = new QCPColorScale(m_phase);
    m_phase->plotLayout()->addElement(0, 1, m_scale);
    m_map->setColorScale(m_scale);
    QCPColorGradient g;  // the views' sequential map
    g.clearColorStops();
    for (int i = 0; i <= 10; ++i) g.setColorStopAt(i / 10.0, QColor(sequentialColor(i / 10.0)));
    g.setNanHandling(QCPColorGradient::nhTransparent);
    m_map->setGradient(g);
    m_map->setInterpolate(false);

    fillControls();
    connect(m_column, &QComboBox::currentIndexChanged, this, [this] { rebuildCurves(); });
    connect(m_colourBy, &QComboBox::currentIndexChanged, this, [this] { rebuildCurves(); });
    connect(m_align, &QComboBox::currentIndexChanged, this, [this] { rebuildCurves(); });
    connect(m_smooth, &QDoubleSpinBox::valueChanged, this, [this] { rebuildCurves(); });
    connect(m_logX, &QCheckBox::toggled, this, [this](bool on) {
        m_overlay->xAxis->setScaleType(on ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
        if (on) m_overlay->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
        else m_overlay->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
        rebuildCurves();
    });
    for (QComboBox* c : {m_phaseX, m_phaseY, m_cell}) connect(c, &QComboBox::currentIndexChanged, this, [this] { drawPhase(); });
    connect(m_table, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
        const int point = m_table->item(row, 0)->data(Qt::UserRole).toInt();
        emit openRunRequested(m_data->sweep().runDir(m_data->sweep().points[std::size_t(point)]));
    });
    connect(m_table, &QTableWidget::itemSelectionChanged, this, [this] {
        const auto sel = m_table->selectedItems();
        m_highlight = sel.isEmpty() ? -1 : m_table->item(sel.first()->row(), 0)->data(Qt::UserRole).toInt();
        rebuildCurves();
    });
    m_follow = new QTimer(this);
    connect(m_follow, &QTimer::timeout, this, &SweepView::refresh);
    m_follow->start(2000);
    fillTable();
    rebuildCurves();
    drawPhase();
}

SweepView::~SweepView() = default;

void SweepView::fillControls() {
    const QStringList cols = m_data->columnKeys(), keys = m_data->sweep().keys();
    for (const QString& c : cols) m_column->addItem(m_data->columnLabel(c), c);
    const int det = m_column->findData(m_data->detectorColumn());
    if (det >= 0) m_column->setCurrentIndex(det);
    for (const QString& k : keys) {
        m_colourBy->addItem(k, k);
        m_phaseX->addItem(k, k);
        m_phaseY->addItem(k, k);
    }
    m_phaseY->addItem("(none)", QString());
    if (keys.size() > 1) m_phaseY->setCurrentIndex(1);
    else m_phaseY->setCurrentIndex(m_phaseY->count() - 1);
    m_cell->addItem("median drop onset (step)", int(Cell::MedianOnset));
    m_cell->addItem("share of points that dropped", int(Cell::ShareDropped));
    m_cell->addItem("median final value of the curve", int(Cell::MedianFinal));
}

void SweepView::setColumn(const QString& key) { m_column->setCurrentIndex(std::max(0, m_column->findData(key))); }
void SweepView::setColourBy(const QString& key) { m_colourBy->setCurrentIndex(std::max(0, m_colourBy->findData(key))); }
void SweepView::setAlign(Align a) { m_align->setCurrentIndex(int(a)); }
void SweepView::setSmoothing(double beta) { m_smooth->setValue(beta); }
void SweepView::setPhase(const QString& xKey, const QString& yKey, Cell cell) {
    m_phaseX->setCurrentIndex(std::max(0, m_phaseX->findData(xKey)));
    m_phaseY->setCurrentIndex(std::max(0, m_phaseY->findData(yKey)));
    m_cell->setCurrentIndex(std::max(0, m_cell->findData(int(cell))));
    drawPhase();
}

void SweepView::refresh() {
    if (!m_data->refresh()) return;
    fillTable();
    rebuildCurves();
    drawPhase();
}

void SweepView::fillTable() {
    const Sweep& s = m_data->sweep();
    const QString col = m_column->currentData().toString();
    QStringList header = s.keys();
    header << "state" << "steps" << "plateau" << "onset" << "end" << "onset s" << "factor" << "final " + m_data->columnLabel(col);
    const bool sorting = m_table->isSortingEnabled();
    m_table->setSortingEnabled(false);
    m_table->clear();
    m_table->setColumnCount(int(header.size()));
    m_table->setHorizontalHeaderLabels(header);
    m_table->setRowCount(int(m_data->runs().size()));
    int row = 0;
    int done = 0, running = 0, dropped = 0;
    for (const SweepRun& r : m_data->runs()) {
        QStringList cells;
        for (const QString& k : s.keys()) cells << s.param(*r.point, k);
        const DropEvent* d = r.drop();
        dropped += d ? 1 : 0;
        done += r.progress.folder == PointProgress::Folder::Finished ? 1 : 0;
        running += r.progress.folder == PointProgress::Folder::Running ? 1 : 0;
        auto timeAt = [&](qint64 step) {
            auto it = std::lower_bound(r.rows.begin(), r.rows.end(), step, [](const StepMetrics& m, qint64 v) { return m.step < v; });
            return it == r.rows.end() ? NAN : it->timeS;
        };
        cells << (r.problem.isEmpty() ? folderName(r.progress.folder) : "unreadable")
              << QString("%1/%2").arg(r.progress.stepsDone).arg(r.progress.stepsPlanned)
              << (d ? QString::number(d->plateau.startStep) : QString()) << (d ? QString::number(d->onsetStep) : QString())
              << (d ? QString::number(d->endStep) : QString()) << (d ? cellText(timeAt(d->onsetStep)) : QString())
              << (d ? cellText(d->factor) : QString()) << cellText(r.finalValue(col));
        for (int c = 0; c < cells.size(); ++c) {
            auto* item = new NumberItem(cells[c]);
            if (c == 0) item->setData(Qt::UserRole, r.point->index);
            if (!r.problem.isEmpty()) item->setToolTip(r.problem);
            m_table->setItem(row, c, item);
        }
        ++row;
    }
    m_table->setSortingEnabled(true);
    (void)sorting;
    m_table->resizeColumnsToContents();
    m_status->setText(QString("%1 points: %2 finished, %3 training, %4 dropped").arg(m_data->runs().size()).arg(done).arg(running).arg(dropped));
}

QColor SweepView::colourOf(int point) const {
    const QString key = m_colourBy->currentData().toString();
    const QStringList values = m_data->valuesOf(key);
    const int i = int(values.indexOf(m_data->sweep().param(m_data->sweep().points[std::size_t(point)], key)));
    bool numeric = values.size() > 8;
    for (const QString& v : values) {
        bool ok = false;
        v.toDouble(&ok);
        numeric = numeric && ok;
    }
    if (numeric) return QColor(sequentialColor(values.size() > 1 ? double(i) / double(values.size() - 1) : 0.5));
    return kPalette[std::max(0, i) % 8];
}

void SweepView::rebuildCurves() {
    const QString col = m_column->currentData().toString();
    if (!m_data->wanted().contains(col)) {
        m_data->want(col);
        fillTable();  // its final values are of this column
    }
    const Align align = Align(std::max(0, m_align->currentIndex()));
    const bool logY = m_data->columnLog(col);
    m_overlay->clearGraphs();
    m_curves.clear();
    m_curves.resize(m_data->runs().size());
    const QString key = m_colourBy->currentData().toString();
    QStringList legendDone;
    const bool logX = m_overlay->xAxis->scaleType() == QCPAxis::stLogarithmic;
    for (const SweepRun& r : m_data->runs()) {
        const int i = r.point->index;
        Curve& c = m_curves[std::size_t(i)];
        const int column = r.column(col);
        const DropEvent* d = r.drop();
        if (column < 0 || (align == Align::Onset && !d)) continue;
        const double beta = m_smooth->value();
        double num = 0, den = 0;
        qint64 last = -1;
        for (const StepMetrics& m : r.rows) {
            const double v = m.value(column);
            if (!std::isfinite(v) || (logY && v <= 0)) continue;
            // Debiased EMA, beta per step since the previous value (columns on a cadence alike).
            const double b = last < 0 || m.step - last <= 1 ? beta : std::pow(beta, double(m.step - last));
            last = m.step;
            num = b * num + (1 - b) * (logY ? std::log10(v) : v);
            den = b * den + (1 - b);
            const double sm = beta <= 0 ? v : logY ? std::pow(10.0, num / den) : num / den;
            const double x = align == Align::Time ? m.timeS : align == Align::Onset ? double(m.step - d->onsetStep) : double(m.step);
            if (logX && x <= 0) continue;
            c.points.append(x, logY ? std::log10(sm) : sm);  // log axes: log10 values on a linear axis
        }
        c.graph = m_overlay->addGraph();
        QColor colour = colourOf(i);
        c.graph->setPen(QPen(colour, i == m_highlight ? 2.5 : 1));
        c.graph->setAdaptiveSampling(false);
        const QString value = m_data->sweep().param(*r.point, key);
        if (!legendDone.contains(value)) {
            legendDone << value;
            c.graph->setName(key.section('.', -1) + " " + value);
        } else {
            c.graph->removeFromLegend();
        }
    }
    if (m_highlight >= 0 && std::size_t(m_highlight) < m_curves.size() && m_curves[std::size_t(m_highlight)].graph)
        m_curves[std::size_t(m_highlight)].graph->setLayer("overlay");
    if (logY) setLog10ValuesY(m_overlay);
    else {
        m_overlay->yAxis->setScaleType(QCPAxis::stLinear);
        m_overlay->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
        m_overlay->yAxis->setNumberFormat("gb");
    }
    m_overlay->xAxis->setLabel(align == Align::Time ? "training time (s)" : align == Align::Onset ? "steps from the drop onset" : "step");
    m_overlay->yAxis->setLabel(m_data->columnLabel(col));
    // Ranges: every curve's extent.
    double xlo = 1e300, xhi = -1e300, ylo = 1e300, yhi = -1e300;
    for (const Curve& c : m_curves) {
        if (!c.graph || c.points.empty()) continue;
        xlo = std::min(xlo, c.points.x(0));
        xhi = std::max(xhi, c.points.x(c.points.size() - 1));
        double a, b;
        if (c.points.valueRange(&a, &b)) ylo = std::min(ylo, a), yhi = std::max(yhi, b);
    }
    if (xhi >= xlo) m_overlay->xAxis->setRange(xlo, std::max(xhi, xlo + 1));
    if (yhi >= ylo) {
        if (logY) m_overlay->yAxis->setRange(ylo - 0.15, yhi + 0.15);
        else m_overlay->yAxis->setRange(ylo - 0.05 * (yhi - ylo + 1e-9), yhi + 0.05 * (yhi - ylo + 1e-9));
    }
    ++m_version;
    scheduleRedraw();
    m_overlay->replot(QCustomPlot::rpQueuedReplot);
}

void SweepView::refreshDecimation() {
    const QCPAxis* x = m_overlay->xAxis;
    const QRect r = m_overlay->axisRect()->rect();
    if (m_drawnVersion == m_version && m_drawnLo == x->range().lower && m_drawnHi == x->range().upper && m_drawnWidth == r.width())
        return;
    m_drawnVersion = m_version;
    m_drawnLo = x->range().lower;
    m_drawnHi = x->range().upper;
    m_drawnWidth = r.width();
    std::vector<CurvePoint> pts;
    QVector<QCPGraphData> data;
    for (Curve& c : m_curves) {
        if (!c.graph) continue;
        c.points.decimate(r.left(), r.right() + 1, [x](double p) { return x->pixelToCoord(p); }, &pts);
        data.resize(qsizetype(pts.size()));
        for (std::size_t i = 0; i < pts.size(); ++i) data[qsizetype(i)] = QCPGraphData(pts[i].x, pts[i].y);
        c.graph->data()->set(data, true);
    }
}

SweepView::PhaseCells SweepView::phaseCells() const {
    PhaseCells out;
    const QString xk = m_phaseX->currentData().toString(), yk = m_phaseY->currentData().toString();
    const Cell cell = Cell(m_cell->currentData().toInt());
    const QString col = m_column->currentData().toString();
    out.xs = m_data->valuesOf(xk);
    out.ys = yk.isEmpty() ? QStringList{QString()} : m_data->valuesOf(yk);
    const int nx = int(out.xs.size()), ny = int(out.ys.size());
    out.values.assign(std::size_t(nx * ny), NAN);
    out.counts.assign(std::size_t(nx * ny), 0);
    std::vector<std::vector<double>> samples(std::size_t(nx * ny));
    std::vector<int> finished(std::size_t(nx * ny), 0), dropped(std::size_t(nx * ny), 0);
    const Sweep& s = m_data->sweep();
    for (const SweepRun& r : m_data->runs()) {
        const int xi = int(out.xs.indexOf(s.param(*r.point, xk)));
        const int yi = yk.isEmpty() ? 0 : int(out.ys.indexOf(s.param(*r.point, yk)));
        if (xi < 0 || yi < 0) continue;
        const std::size_t k = std::size_t(yi * nx + xi);
        ++out.counts[k];
        const DropEvent* d = r.drop();
        finished[k] += r.progress.folder == PointProgress::Folder::Finished ? 1 : 0;
        dropped[k] += d ? 1 : 0;
        if (cell == Cell::MedianOnset && d) samples[k].push_back(double(d->onsetStep));
        if (cell == Cell::MedianFinal && std::isfinite(r.finalValue(col))) samples[k].push_back(r.finalValue(col));
    }
    for (std::size_t k = 0; k < out.values.size(); ++k) {
        if (cell == Cell::ShareDropped) {
            const int base = std::max(finished[k], dropped[k]);
            out.values[k] = base > 0 ? double(dropped[k]) / double(base) : NAN;
        } else {
            out.values[k] = median(samples[k]);
        }
    }
    return out;
}

void SweepView::drawPhase() {
    const PhaseCells c = phaseCells();
    const int nx = int(c.xs.size()), ny = int(c.ys.size());
    m_map->data()->setSize(nx, ny);
    m_map->data()->setRange(QCPRange(0, nx - 1), QCPRange(0, ny - 1));
    double lo = 1e300, hi = -1e300;
    for (int y = 0; y < ny; ++y)
        for (int x = 0; x < nx; ++x) {
            const double v = c.values[std::size_t(y * nx + x)];
            m_map->data()->setCell(x, y, v);
            if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
        }
    if (hi >= lo) m_map->setDataRange(QCPRange(lo, hi > lo ? hi : lo + 1));
    m_phase->clearItems();
    const Cell cell = Cell(m_cell->currentData().toInt());
    for (int y = 0; y < ny && nx * ny <= 144; ++y)
        for (int x = 0; x < nx; ++x) {
            const double v = c.values[std::size_t(y * nx + x)];
            auto* t = new QCPItemText(m_phase);
            t->position->setCoords(x, y);
            t->setText(std::isfinite(v) ? cellText(v, cell == Cell::MedianOnset) : (c.counts[std::size_t(y * nx + x)] ? "no drop" : ""));
            t->setColor(std::isfinite(v) && hi > lo && (v - lo) / (hi - lo) > 0.6 ? Qt::black : Qt::white);
            if (!std::isfinite(v)) t->setColor(Qt::darkGray);
        }
    auto ticks = [](const QStringList& labels) {
        QSharedPointer<QCPAxisTickerText> t(new QCPAxisTickerText);
        for (int i = 0; i < labels.size(); ++i) t->addTick(i, labels[i]);
        return t;
    };
    m_phase->xAxis->setTicker(ticks(c.xs));
    m_phase->yAxis->setTicker(ticks(c.ys));
    m_phase->xAxis->setLabel(m_phaseX->currentData().toString());
    m_phase->yAxis->setLabel(m_phaseY->currentData().toString());
    m_phase->xAxis->setRange(-0.5, nx - 0.5);
    m_phase->yAxis->setRange(-0.5, ny - 0.5);
    m_scale->axis()->setLabel(m_cell->currentText());
    m_phase->replot(QCustomPlot::rpQueuedReplot);
}

void SweepView::redraw() { m_overlay->replot(QCustomPlot::rpQueuedReplot); }

int SweepView::curveCount() const {
    int n = 0;
    for (const Curve& c : m_curves) n += c.graph ? 1 : 0;
    return n;
}

double SweepView::curveStartX(int point) const {
    if (point < 0 || std::size_t(point) >= m_curves.size()) return NAN;  // x: never log-transformed
    const Curve& c = m_curves[std::size_t(point)];
    return c.graph && !c.points.empty() ? c.points.x(0) : NAN;
}

int SweepView::curvePoints(int point) const {
    if (point < 0 || std::size_t(point) >= m_curves.size() || !m_curves[std::size_t(point)].graph) return 0;
    return int(m_curves[std::size_t(point)].points.size());
}

QList<QWidget*> SweepView::figureParts() const { return {m_overlay, m_phase}; }

Result<QStringList> SweepView::exportCsv(const QString& path) const {
    QStringList header;
    for (int c = 0; c < m_table->columnCount(); ++c) header << m_table->horizontalHeaderItem(c)->text().replace(' ', '_');
    QList<QStringList> rows;
    for (int r = 0; r < m_table->rowCount(); ++r) {
        QStringList row;
        for (int c = 0; c < m_table->columnCount(); ++c) row << (m_table->item(r, c) ? m_table->item(r, c)->text() : QString());
        rows << row;
    }
    if (Status st = writeCsv(path, header, rows); !st) return Error{st.error()};
    const PhaseCells cells = phaseCells();
    QList<QStringList> phase;
    for (int y = 0; y < cells.ys.size(); ++y)
        for (int x = 0; x < cells.xs.size(); ++x) {
            const std::size_t k = std::size_t(y * cells.xs.size() + x);
            phase << QStringList{cells.xs[x], cells.ys[y], QString::number(cells.counts[k]), csvNumber(cells.values[k])};
        }
    const QString phasePath = siblingPath(path, "phase");
    if (Status st = writeCsv(phasePath, {m_phaseX->currentData().toString(), m_phaseY->currentData().toString(), "points",
                                         m_cell->currentText().replace(' ', '_')}, phase); !st)
        return Error{st.error()};
    QList<QStringList> curves;
    for (const Curve& c : m_curves) {
        if (!c.graph) continue;
        const QString name = m_data->sweep().points[std::size_t(&c - m_curves.data())].name;
        const bool logY = m_data->columnLog(m_column->currentData().toString());
        for (std::size_t i = 0; i < c.points.size(); ++i)
            curves << QStringList{name, csvNumber(c.points.x(i)), csvNumber(logY ? std::pow(10.0, c.points.y(i)) : c.points.y(i))};
    }
    const QString overlayPath = siblingPath(path, "overlay");
    if (Status st = writeCsv(overlayPath, {"point", m_overlay->xAxis->label().replace(' ', '_'), m_column->currentData().toString()}, curves); !st)
        return Error{st.error()};
    return QStringList{path, phasePath, overlayPath};
}

}  // namespace plateau
