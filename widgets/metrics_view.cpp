#include "metrics_view.h"

#include "figure_export.h"
#include "plot_style.h"
#include "session_model.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QScrollArea>
#include <QSlider>
#include <QToolButton>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace plateau {

namespace {
// Okabe-Ito, in the order the columns of a unit come.
const QColor kColors[] = {QColor(0, 0, 0),       QColor(0, 114, 178), QColor(213, 94, 0),  QColor(0, 158, 115),
                          QColor(204, 121, 167), QColor(230, 159, 0), QColor(86, 180, 233), QColor(240, 228, 66)};
// Columns evaluated on a cadence of their own ("eval_...") are drawn dotted.
bool dotted(const QString& key) { return key.startsWith("eval"); }
// Below this a plot's axis label and tick labels no longer fit; more plots than fit scroll.
constexpr int kMinPlotHeight = 140;
// One point's weight in the EMA: beta per step since the previous point, so a column evaluated
// every 50 steps is smoothed over the same number of steps as one written every step (with a
// per-point beta it lagged 50x further behind).
double emaDecay(double beta, qint64 step, qint64 lastStep) {
    const qint64 gap = step - lastStep;
    return lastStep < 0 || gap <= 1 ? beta : std::pow(beta, double(gap));
}
}  // namespace

MetricsView::MetricsView(SessionModel* model, const QString& name, const QJsonObject& params, QWidget* parent)
    : ThrottledView(400, parent), m_model(model), m_name(name), m_params(params) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    auto* controls = new QHBoxLayout;
    m_logX = new QCheckBox("log x");
    m_time = new QCheckBox("time axis");
    m_time->setToolTip("x = training seconds (pauses excluded) instead of step");
    m_smoothSlider = new QSlider(Qt::Horizontal);
    m_smoothSlider->setRange(0, 999);
    m_smoothSlider->setValue(900);
    m_smoothSlider->setMaximumWidth(180);
    m_smoothSlider->setToolTip("EMA smoothing at full resolution, beta per step (columns on a cadence alike; of log values on log axes; debiased); the raw "
                               "curve stays faint behind");
    m_smoothLabel = new QLabel;
    m_cursor = new QLabel;
    m_cursor->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_cursor->setWordWrap(true);
    m_columnsButton = new QToolButton;
    m_columnsButton->setText("columns");
    m_columnsButton->setPopupMode(QToolButton::InstantPopup);
    m_columnsButton->setToolTip("which metric columns are drawn");
    m_columnsButton->setMenu(new QMenu(m_columnsButton));
    controls->addWidget(new QLabel("smoothing"));
    controls->addWidget(m_smoothSlider);
    controls->addWidget(m_smoothLabel);
    controls->addSpacing(12);
    controls->addWidget(m_logX);
    controls->addWidget(m_time);
    controls->addWidget(m_columnsButton);
    controls->addStretch(1);
    layout->addLayout(controls);
    // The plots scroll when the dock is too short for all of them at a readable height.
    auto* scroll = new QScrollArea;
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto* plotsBox = new QWidget;
    m_plots = new QVBoxLayout(plotsBox);
    m_plots->setContentsMargins(0, 0, 0, 0);
    m_plots->setSpacing(2);
    scroll->setWidget(plotsBox);
    layout->addWidget(scroll, 1);
    layout->addWidget(m_cursor);

    connect(m_smoothSlider, &QSlider::valueChanged, this, [this](int v) { setSmoothing(v / 1000.0); });
    connect(m_logX, &QCheckBox::toggled, this, &MetricsView::setLogX);
    connect(m_time, &QCheckBox::toggled, this, &MetricsView::setTimeAxis);
    connect(model, &SessionModel::runReset, this, &MetricsView::rebuildPlots);
    connect(model, &SessionModel::metricsAppended, this, [this](std::size_t first) {
        // A run reset has already drawn every row (rebuildPlots): nothing to draw twice.
        if (first != m_rowsDrawn) rebuildData();
        else appendFrom(first);
    });
    connect(model, &SessionModel::detectionChanged, this, [this] {
        updateMarkers();
        scheduleRedraw();
    });
    connect(model, &SessionModel::currentChanged, this, [this, model] { currentMoved(model); });
    m_smoothLabel->setText(QString::number(m_beta, 'f', 3));
}

// One plot per unit, in the order the units first appear among the columns.
void MetricsView::rebuildPlots() {
    for (Group& g : m_groups) delete g.plot;
    m_groups.clear();
    const auto& cols = m_model->columns();
    m_shown.assign(cols.size(), false);
    for (std::size_t c = 0; c < cols.size(); ++c) m_shown[c] = cols[c].shown;
    QMenu* menu = m_columnsButton->menu();
    menu->clear();
    for (std::size_t c = 0; c < cols.size(); ++c) {
        QAction* a = menu->addAction(cols[c].label + " (" + cols[c].unit + ")");
        a->setCheckable(true);
        a->setChecked(m_shown[c]);
        a->setToolTip(cols[c].help);
        const QString key = cols[c].key;
        connect(a, &QAction::toggled, this, [this, key](bool on) { setColumnShown(key, on); });
    }
    for (std::size_t c = 0; c < cols.size(); ++c) {
        auto it = std::find_if(m_groups.begin(), m_groups.end(), [&](const Group& g) { return g.unit == cols[c].unit; });
        if (it == m_groups.end()) {
            Group g;
            g.unit = cols[c].unit;
            g.log = cols[c].logAxis;
            g.plot = new QCustomPlot(this);
            g.plot->setMinimumSize(200, kMinPlotHeight);
            if (g.log) setLogY(g.plot);
            liveRendering(g.plot);
            g.plot->xAxis->setLabel(m_timeAxis ? "training time (s)" : "step");
            g.plot->yAxis->setLabel(g.unit);
            legendBelow(g.plot, font());
            g.plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
            if (g.log) g.plot->yAxis->setRange(1e-4, 1);
            g.current = new QCPItemStraightLine(g.plot);
            g.current->setPen(QPen(QColor(204, 121, 167), 1, Qt::DotLine));
            g.current->setVisible(false);
            QCustomPlot* p = g.plot;
            connect(p, &QCustomPlot::afterLayout, this, [this, p] {
                for (Group& grp : m_groups)
                    if (grp.plot == p) refreshCurves(grp);
            });
            connect(p, &QCustomPlot::mouseMove, this, [this, p](QMouseEvent* e) {
                showCursorAt(p->xAxis->pixelToCoord(e->position().x()));
            });
            m_plots->addWidget(g.plot, 1);
            m_groups.push_back(g);
            it = m_groups.end() - 1;
        }
        Group& g = *it;
        // Colours in order among the columns shown at first, then the hidden ones (so the curves on
        // screen never share a colour).
        int shownBefore = 0, hiddenBefore = 0, shownInGroup = 0;
        for (std::size_t k = 0; k < cols.size(); ++k)
            if (cols[k].unit == g.unit) {
                if (k < c) (cols[k].shown ? shownBefore : hiddenBefore)++;
                if (cols[k].shown) ++shownInGroup;
            }
        const int rank = cols[c].shown ? shownBefore : shownInGroup + hiddenBefore;
        const QColor color = kColors[rank % 8];
        // The raw curve 22 % of its colour on the white background, opaque: it looks as a translucent
        // pen would, and the raster engine draws opaque 1-pixel lines without blending (about
        // twice as fast at a million points, bench/README.md).
        const double share = 0.22;
        const QColor faint = QColor::fromRgbF(float(1 - share + share * color.redF()), float(1 - share + share * color.greenF()),
                                              float(1 - share + share * color.blueF()));
        Series s;
        s.column = int(c);
        s.raw = g.plot->addGraph();
        s.raw->setPen(QPen(faint, 1));
        s.raw->setAdaptiveSampling(false);  // refreshCurves hands it a column's extremes already
        s.raw->removeFromLegend();
        s.ema = g.plot->addGraph();
        s.ema->setName(cols[c].label);
        s.ema->setPen(QPen(color, 1, dotted(cols[c].key) ? Qt::DotLine : Qt::SolidLine));
        s.ema->setAdaptiveSampling(false);
        g.series.push_back(std::move(s));
    }
    for (Group& g : m_groups)
        for (const ReferenceLine& r : m_model->references()) {
            if (r.unit != g.unit) continue;
            QCPGraph* ref = g.plot->addGraph();
            ref->setName(r.label);
            ref->setPen(QPen(QColor(120, 120, 120), 1, Qt::DashLine));
            g.refs.push_back(ref);
        }
    updateVisibility();
    rebuildData();
}

void MetricsView::updateVisibility() {
    for (Group& g : m_groups) {
        bool any = false;
        for (Series& s : g.series) {
            const bool on = m_shown[std::size_t(s.column)];
            s.ema->setVisible(on);
            s.raw->setVisible(on && m_beta > 0);
            if (on) s.ema->addToLegend();
            else s.ema->removeFromLegend();
            any = any || on;
        }
        g.on = any;
        g.plot->setVisible(any);
    }
    ++m_dataVersion;  // a curve shown again is decimated afresh
    updateMarkers();  // the labels go to the topmost plot shown
    scheduleRedraw();
}

void MetricsView::setColumnShown(const QString& key, bool shown) {
    const int c = m_model->columnIndex(key);
    if (c < 0 || std::size_t(c) >= m_shown.size()) return;
    m_shown[std::size_t(c)] = shown;
    const QList<QAction*> actions = m_columnsButton->menu()->actions();
    if (c < actions.size()) {
        const QSignalBlocker block(actions[c]);
        actions[c]->setChecked(shown);
    }
    updateVisibility();
}

bool MetricsView::columnShown(const QString& key) const {
    const int c = m_model->columnIndex(key);
    return c >= 0 && std::size_t(c) < m_shown.size() && m_shown[std::size_t(c)];
}

double MetricsView::xOf(std::size_t row) const {
    const StepMetrics& m = m_model->metrics()[row];
    return m_timeAxis ? m.timeS : double(m.step);
}

void MetricsView::setSmoothing(double beta) {
    beta = std::clamp(beta, 0.0, 0.999);
    m_beta = beta;
    const QSignalBlocker block(m_smoothSlider);
    m_smoothSlider->setValue(int(std::lround(beta * 1000)));
    m_smoothLabel->setText(QString::number(beta, 'f', 3));
    updateVisibility();
    rebuildData();
}

void MetricsView::setLogX(bool on) {
    const QSignalBlocker block(m_logX);
    m_logX->setChecked(on);
    for (Group& g : m_groups) {
        if (on) {
            g.plot->xAxis->setScaleType(QCPAxis::stLogarithmic);
            g.plot->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
        } else {
            g.plot->xAxis->setScaleType(QCPAxis::stLinear);
            g.plot->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
        }
    }
    scheduleRedraw();
}

void MetricsView::setTimeAxis(bool on) {
    const QSignalBlocker block(m_time);
    m_time->setChecked(on);
    m_timeAxis = on;
    for (Group& g : m_groups) g.plot->xAxis->setLabel(on ? "training time (s)" : "step");
    rebuildData();
}

void MetricsView::rebuildData() {
    for (Group& g : m_groups)
        for (Series& s : g.series) {
            s.raw->data()->clear();
            s.ema->data()->clear();
            s.rawCurve.clear();
            s.emaCurve.clear();
            s.num = s.den = 0;
            s.lastStep = -1;
        }
    m_rowsDrawn = 0;
    appendFrom(0);
    updateMarkers();
}

void MetricsView::appendFrom(std::size_t first) {
    const auto& rows = m_model->metrics();
    for (Group& g : m_groups)
        for (Series& s : g.series) {
            s.rawCurve.reserve(rows.size());
            s.emaCurve.reserve(rows.size());
            for (std::size_t i = first; i < rows.size(); ++i) {
                const double v = rows[i].value(s.column);
                if (!std::isfinite(v) || (g.log && v <= 0)) continue;
                // Debiased EMA; of log10 on log axes (a geometric mean, so one spike cannot lift the
                // curve for long).
                const double t = g.log ? std::log10(v) : v;
                const double b = emaDecay(m_beta, rows[i].step, s.lastStep);
                s.lastStep = rows[i].step;
                s.num = b * s.num + (1 - b) * t;
                s.den = b * s.den + (1 - b);
                const double sm = g.log ? std::pow(10.0, s.num / s.den) : s.num / s.den;
                const double x = xOf(i);
                if (m_beta > 0) s.rawCurve.append(x, v);
                s.emaCurve.append(x, sm);
            }
        }
    ++m_dataVersion;
    m_rowsDrawn = rows.size();
    scheduleRedraw();
}

const MetricsView::Series* MetricsView::findSeries(const QString& key) const {
    const int c = m_model->columnIndex(key);
    for (const Group& g : m_groups)
        for (const Series& s : g.series)
            if (s.column == c) return &s;
    return nullptr;
}

int MetricsView::pointCount(const QString& key) const {
    const Series* s = findSeries(key);
    return s ? int(s->emaCurve.size()) : -1;
}

std::vector<double> MetricsView::smoothed(const QString& key) const {
    const Series* s = findSeries(key);
    std::vector<double> out;
    if (s)
        for (std::size_t i = 0; i < s->emaCurve.size(); ++i) out.push_back(s->emaCurve.y(i));
    return out;
}

int MetricsView::drawnPoints(const QString& key) const {
    const Series* s = findSeries(key);
    return s ? s->ema->dataCount() : -1;
}

void MetricsView::refreshCurves(Group& g) {
    const QCPAxis* x = g.plot->xAxis;
    const QRect r = g.plot->axisRect()->rect();
    const int logX = x->scaleType() == QCPAxis::stLogarithmic ? 1 : 0;
    if (g.drawnVersion == m_dataVersion && g.drawnLo == x->range().lower && g.drawnHi == x->range().upper &&
        g.drawnLeft == r.left() && g.drawnRight == r.right() && g.drawnLogX == logX)
        return;
    g.drawnVersion = m_dataVersion;
    g.drawnLo = x->range().lower;
    g.drawnHi = x->range().upper;
    g.drawnLeft = r.left();
    g.drawnRight = r.right();
    g.drawnLogX = logX;
    const auto toX = [x](double pixel) { return x->pixelToCoord(pixel); };
    std::vector<CurvePoint> points;
    QVector<QCPGraphData> data;
    for (Series& s : g.series)
        for (auto [graph, curve] : {std::pair{s.raw, &s.rawCurve}, std::pair{s.ema, &s.emaCurve}}) {
            if (!graph->visible()) continue;
            curve->decimate(r.left(), r.right() + 1, toX, &points);
            data.resize(qsizetype(points.size()));
            for (std::size_t i = 0; i < points.size(); ++i) data[qsizetype(i)] = QCPGraphData(points[i].x, points[i].y);
            graph->data()->set(data, true);
        }
}

QCustomPlot* MetricsView::plot(int group) const {
    return group >= 0 && group < int(m_groups.size()) ? m_groups[std::size_t(group)].plot : nullptr;
}

QCustomPlot* MetricsView::plotOfUnit(const QString& unit) const {
    for (const Group& g : m_groups)
        if (g.unit == unit) return g.plot;
    return nullptr;
}

std::vector<double> MetricsView::markerSteps() const {
    std::vector<double> out;
    for (const DropEvent& d : m_model->detection().drops) {
        out.push_back(double(d.plateau.startStep));
        out.push_back(double(d.onsetStep));
        if (d.complete) out.push_back(double(d.endStep));
    }
    return out;
}

void MetricsView::updateMarkers() {
    const auto& rows = m_model->metrics();
    auto xAtStep = [&](qint64 step) {
        if (!m_timeAxis || rows.empty()) return double(step);
        auto it = std::lower_bound(rows.begin(), rows.end(), step, [](const StepMetrics& m, qint64 s) { return m.step < s; });
        if (it == rows.end()) --it;
        return it->timeS;
    };
    const bool rising = m_model->info().detector.rising;
    const Group* labelledGroup = m_groups.empty() ? nullptr : &m_groups.front();
    for (const Group& g : m_groups)
        if (g.on) {
            labelledGroup = &g;
            break;
        }
    for (Group& g : m_groups) {
        for (auto* m : g.markers) g.plot->removeItem(m);
        for (auto* t : g.labels) g.plot->removeItem(t);
        g.markers.clear();
        g.labels.clear();
        // Each marker's label on its own row (they collide when a drop is short), the drop end's to
        // the left of its line (it is usually the rightmost, and was clipped at the plot's edge).
        // Labels only in the topmost plot shown (the lines in every plot): in a stack of short plots
        // the same three labels in each covered the curves. Each label sits right under the one
        // before it (anchored to its bottom, in pixels), whatever the plot's height.
        const bool labelled = &g == labelledGroup;
        QCPItemText* above = nullptr;
        auto add = [&](qint64 step, const QString& label, QColor color, Qt::Alignment side) {
            auto* line = new QCPItemStraightLine(g.plot);
            line->point1->setCoords(xAtStep(step), g.log ? 1e-12 : -1e12);
            line->point2->setCoords(xAtStep(step), 1e12);
            line->setPen(QPen(color, 1, Qt::DashLine));
            g.markers.push_back(line);
            if (!labelled) return;
            auto* text = new QCPItemText(g.plot);
            if (above) {
                text->position->setParentAnchorY(above->bottom);
                text->position->setTypeY(QCPItemPosition::ptAbsolute);
                text->position->setCoords(xAtStep(step), 0.0);
            } else {
                text->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
                text->position->setCoords(xAtStep(step), 0.02);
            }
            text->setPositionAlignment(Qt::AlignTop | side);
            text->setText(label);
            text->setColor(color);
            text->setFont(font());
            g.labels.push_back(text);
            above = text;
        };
        for (const DropEvent& d : m_model->detection().drops) {
            above = nullptr;
            add(d.plateau.startStep, "plateau", QColor(86, 180, 233), Qt::AlignLeft);
            add(d.onsetStep, QString("%1 onset %2").arg(rising ? "jump" : "drop").arg(d.onsetStep), QColor(213, 94, 0),
                Qt::AlignLeft);
            if (d.complete)
                add(d.endStep, QString("end %1 (%2x)").arg(d.endStep).arg(d.factor, 0, 'f', 1), QColor(0, 158, 115),
                    Qt::AlignRight);
        }
    }
}

double MetricsView::currentLineX() const {
    for (const Group& g : m_groups)
        if (g.on || m_groups.size() == 1)
            return g.current->visible() ? g.current->point1->coords().x() : std::nan("");
    return std::nan("");
}

void MetricsView::redraw() {
    const auto& rows = m_model->metrics();
    const double xMax = rows.empty() ? 10.0 : std::max(10.0, xOf(rows.size() - 1));
    const bool logX = m_logX->isChecked();
    const double xMin = logX ? (rows.empty() ? 1.0 : std::max(1e-3, xOf(0))) : 0.0;
    const SnapshotPtr cur = m_model->current();
    for (Group& g : m_groups) {
        if (!g.on && m_groups.size() > 1) continue;
        std::size_t r = 0;
        for (const ReferenceLine& ref : m_model->references()) {
            if (ref.unit != g.unit || r >= g.refs.size()) continue;
            QCPGraph* line = g.refs[r++];
            line->data()->clear();
            if (!g.log || ref.value > 0) {
                line->addData(xMin, ref.value);
                line->addData(xMax, ref.value);
            }
        }
        g.current->setVisible(cur && !m_model->followLive());
        if (cur) {
            const double x = m_timeAxis ? cur->timeS : double(cur->step);
            g.current->point1->setCoords(x, g.log ? 1e-12 : -1e12);
            g.current->point2->setCoords(x, 1e12);
        }
        g.plot->xAxis->setRange(xMin, xMax);
        // y: the finite range of everything shown (and the reference lines), padded.
        double lo = 1e300, hi = -1e300;
        for (const Series& s : g.series) {
            if (!s.ema->visible()) continue;
            double cLo, cHi;
            if ((s.raw->visible() ? s.rawCurve : s.emaCurve).valueRange(&cLo, &cHi)) {
                lo = std::min(lo, cLo);
                hi = std::max(hi, cHi);
            }
        }
        for (const ReferenceLine& ref : m_model->references())
            if (ref.unit == g.unit && (!g.log || ref.value > 0)) {
                lo = std::min(lo, ref.value);
                hi = std::max(hi, ref.value);
            }
        if (g.log) {
            if (hi > 0 && lo < 1e300) g.plot->yAxis->setRange(std::max(lo / 1.5, 1e-9), hi * 1.5);
        } else if (g.unit == kAccuracyUnit) {
            // A fraction: the whole 0-1 axis, so chance and a rise read at their true size.
            setFixedRangeY(g.plot, 0, 1);
        } else if (hi >= lo) {
            const double pad = std::max(1e-9, 0.05 * (hi - lo));
            g.plot->yAxis->setRange(lo - pad, hi + pad);
        }
        g.plot->replot(QCustomPlot::rpQueuedReplot);
    }
}

void MetricsView::showCursorAt(double x) {
    const auto& rows = m_model->metrics();
    if (rows.empty()) {
        m_cursor->clear();
        return;
    }
    std::size_t i;
    if (m_timeAxis) {
        auto it = std::lower_bound(rows.begin(), rows.end(), x, [](const StepMetrics& m, double t) { return m.timeS < t; });
        i = std::size_t(std::min<std::ptrdiff_t>(it - rows.begin(), std::ptrdiff_t(rows.size()) - 1));
    } else {
        auto it = std::lower_bound(rows.begin(), rows.end(), qint64(std::llround(x)),
                                   [](const StepMetrics& m, qint64 s) { return m.step < s; });
        i = std::size_t(std::min<std::ptrdiff_t>(it - rows.begin(), std::ptrdiff_t(rows.size()) - 1));
    }
    const StepMetrics& m = rows[i];
    QString text = QString("step %1   t %2 s").arg(m.step).arg(m.timeS, 0, 'f', 1);
    const auto& cols = m_model->columns();
    for (std::size_t c = 0; c < cols.size(); ++c) {
        // Columns computed on a cadence: the nearest value at or before this step.
        double v = NAN;
        for (std::size_t j = i + 1; j-- > 0 && i - j < 1000;)
            if (std::isfinite(rows[j].value(int(c)))) {
                v = rows[j].value(int(c));
                break;
            }
        text += QString("   %1 %2").arg(cols[c].label).arg(v, 0, cols[c].logAxis ? 'e' : 'f', cols[c].logAxis ? 3 : 4);
    }
    text += QString("   lr %1").arg(m.lr, 0, 'e', 2);
    m_cursor->setText(text);
}

QString MetricsView::cursorText() const { return m_cursor->text(); }

QList<QWidget*> MetricsView::figureParts() const {
    QList<QWidget*> parts;
    for (const Group& g : m_groups)
        if (g.on || m_groups.size() == 1) parts << g.plot;
    return parts;
}

Result<QStringList> MetricsView::exportCsv(const QString& path) const {
    const auto& cols = m_model->columns();
    const std::size_t nc = cols.size();
    std::vector<double> num(nc, 0), den(nc, 0);
    std::vector<qint64> last(nc, -1);
    QList<QStringList> rows;
    for (const StepMetrics& m : m_model->metrics()) {
        QStringList r{QString::number(m.step), csvNumber(m.timeS)};
        for (std::size_t c = 0; c < nc; ++c) r << csvNumber(m.value(int(c)));
        r << csvNumber(m.lr) << csvNumber(m.gradNorm);
        for (std::size_t c = 0; c < nc; ++c) {
            const double v = m.value(int(c));
            const bool log = cols[c].logAxis;
            const bool ok = std::isfinite(v) && (!log || v > 0);
            if (ok) {
                const double b = emaDecay(m_beta, m.step, last[c]);
                last[c] = m.step;
                num[c] = b * num[c] + (1 - b) * (log ? std::log10(v) : v);
                den[c] = b * den[c] + (1 - b);
            }
            r << (ok && den[c] > 0 ? csvNumber(log ? std::pow(10.0, num[c] / den[c]) : num[c] / den[c]) : QString());
        }
        rows << r;
    }
    QStringList header{"step", "time_s"};
    for (const MetricColumn& c : cols) header << c.key;
    header << "lr" << "grad_norm";
    for (const MetricColumn& c : cols) header << c.key + "_smoothed";
    if (Status st = writeCsv(path, header, rows); !st) return Error{st.error()};
    return QStringList{path};
}

}  // namespace plateau
