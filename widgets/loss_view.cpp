#include "loss_view.h"

#include "figure_export.h"
#include "session_model.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QTimer>
#include <QVBoxLayout>
#include "plot_style.h"

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace plateau {

namespace {
const QColor kColors[] = {QColor(0, 0, 0), QColor(0, 114, 178), QColor(213, 94, 0), QColor(0, 158, 115)};  // Okabe-Ito
const char* kNames[] = {"L", "L_obs", "L_mask", "eval L"};

double seriesValue(const StepMetrics& m, int s) {
    switch (s) {
    case LossView::Loss: return m.loss;
    case LossView::Obs: return m.lossObs;
    case LossView::Mask: return m.lossMask;
    default: return m.evalLoss;
    }
}
}  // namespace

LossView::LossView(SessionModel* model, QWidget* parent)
    : ThrottledView(400, parent), m_model(model), m_plot(new QCustomPlot(this)) {
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
    m_smoothSlider->setToolTip("EMA smoothing of log L at full resolution (debiased); raw curve stays faint behind");
    m_smoothLabel = new QLabel;
    m_cursor = new QLabel;
    m_cursor->setTextInteractionFlags(Qt::TextSelectableByMouse);
    controls->addWidget(new QLabel("smoothing"));
    controls->addWidget(m_smoothSlider);
    controls->addWidget(m_smoothLabel);
    controls->addSpacing(12);
    controls->addWidget(m_logX);
    controls->addWidget(m_time);
    controls->addStretch(1);
    layout->addLayout(controls);
    layout->addWidget(m_plot, 1);
    layout->addWidget(m_cursor);

    for (int s = 0; s < SeriesCount; ++s) {
        QColor faint = kColors[s];
        faint.setAlpha(55);
        m_raw[s] = m_plot->addGraph();
        m_raw[s]->setPen(QPen(faint, 1));
        m_raw[s]->setAdaptiveSampling(true);  // per pixel column min/max
        m_raw[s]->removeFromLegend();
        m_ema[s] = m_plot->addGraph();
        m_ema[s]->setName(kNames[s]);
        m_ema[s]->setPen(QPen(kColors[s], 1.6, s == Eval ? Qt::DotLine : Qt::SolidLine));
        m_ema[s]->setAdaptiveSampling(true);
    }
    m_ref = m_plot->addGraph();
    m_ref->setName("copying level p·E[X²]");
    m_ref->setPen(QPen(QColor(120, 120, 120), 1, Qt::DashLine));
    m_currentLine = new QCPItemStraightLine(m_plot);
    m_currentLine->setPen(QPen(QColor(204, 121, 167), 1, Qt::DotLine));
    m_currentLine->setVisible(false);

    setLogY(m_plot);
    liveRendering(m_plot);
    m_plot->xAxis->setLabel("step");
    m_plot->yAxis->setLabel("MSE");
    legendBelow(m_plot, font());
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_plot->yAxis->setRange(1e-4, 1);
    m_plot->setMinimumSize(200, 120);


    connect(m_smoothSlider, &QSlider::valueChanged, this, [this](int v) { setSmoothing(v / 1000.0); });
    connect(m_logX, &QCheckBox::toggled, this, &LossView::setLogX);
    connect(m_time, &QCheckBox::toggled, this, &LossView::setTimeAxis);
    connect(m_plot, &QCustomPlot::mouseMove, this, [this](QMouseEvent* e) {
        showCursorAt(m_plot->xAxis->pixelToCoord(e->position().x()));
    });
    connect(model, &SessionModel::runReset, this, &LossView::rebuild);
    connect(model, &SessionModel::metricsAppended, this, [this](std::size_t first) {
        if (first == 0 || first != m_rowsDrawn) rebuild();
        else appendFrom(first);
    });
    connect(model, &SessionModel::detectionChanged, this, [this] {
        updateMarkers();
        scheduleRedraw();
    });
    connect(model, &SessionModel::currentChanged, this, [this, model] { currentMoved(model); });
    setSmoothing(0.9);
}

double LossView::xOf(std::size_t row) const {
    const StepMetrics& m = m_model->metrics()[row];
    return m_timeAxis ? m.timeS : double(m.step);
}

void LossView::setSmoothing(double beta) {
    beta = std::clamp(beta, 0.0, 0.999);
    m_beta = beta;
    const QSignalBlocker block(m_smoothSlider);
    m_smoothSlider->setValue(int(std::lround(beta * 1000)));
    m_smoothLabel->setText(QString::number(beta, 'f', 3));
    for (int s = 0; s < SeriesCount; ++s) m_raw[s]->setVisible(beta > 0);
    rebuild();
}

void LossView::setLogX(bool on) {
    const QSignalBlocker block(m_logX);
    m_logX->setChecked(on);
    if (on) {
        m_plot->xAxis->setScaleType(QCPAxis::stLogarithmic);
        m_plot->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    } else {
        m_plot->xAxis->setScaleType(QCPAxis::stLinear);
        m_plot->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    }
    scheduleRedraw();
}

void LossView::setTimeAxis(bool on) {
    const QSignalBlocker block(m_time);
    m_time->setChecked(on);
    m_timeAxis = on;
    m_plot->xAxis->setLabel(on ? "training time (s)" : "step");
    rebuild();
    updateMarkers();
}

void LossView::rebuild() {
    for (int s = 0; s < SeriesCount; ++s) {
        m_raw[s]->data()->clear();
        m_ema[s]->data()->clear();
        m_smooth[s].clear();
        m_emaNum[s] = m_emaDen[s] = 0;
    }
    m_rowsDrawn = 0;
    appendFrom(0);
    updateMarkers();
}

void LossView::appendFrom(std::size_t first) {
    const auto& rows = m_model->metrics();
    for (std::size_t i = first; i < rows.size(); ++i) {
        const double x = xOf(i);
        for (int s = 0; s < SeriesCount; ++s) {
            const double v = seriesValue(rows[i], s);
            if (!std::isfinite(v) || v <= 0) continue;
            // Debiased EMA of log10 L: a geometric mean, so one spike cannot lift the curve for long.
            m_emaNum[s] = m_beta * m_emaNum[s] + (1 - m_beta) * std::log10(v);
            m_emaDen[s] = m_beta * m_emaDen[s] + (1 - m_beta);
            const double sm = std::pow(10.0, m_emaNum[s] / m_emaDen[s]);
            m_smooth[s].push_back(sm);
            if (m_beta > 0) m_raw[s]->addData(x, v);
            m_ema[s]->addData(x, sm);
        }
    }
    m_rowsDrawn = rows.size();
    scheduleRedraw();
}

int LossView::pointCount(Series s) const { return m_ema[s]->dataCount(); }

std::vector<double> LossView::markerSteps() const {
    std::vector<double> out;
    for (const DropEvent& d : m_model->detection().drops) {
        out.push_back(double(d.plateau.startStep));
        out.push_back(double(d.onsetStep));
        if (d.complete) out.push_back(double(d.endStep));
    }
    return out;
}

void LossView::updateMarkers() {
    for (auto* m : m_markers) m_plot->removeItem(m);
    for (auto* t : m_markerLabels) m_plot->removeItem(t);
    m_markers.clear();
    m_markerLabels.clear();
    const auto& rows = m_model->metrics();
    auto xAtStep = [&](qint64 step) {
        if (!m_timeAxis || rows.empty()) return double(step);
        auto it = std::lower_bound(rows.begin(), rows.end(), step, [](const StepMetrics& m, qint64 s) { return m.step < s; });
        if (it == rows.end()) --it;
        return it->timeS;
    };
    // Each marker's label on its own row (they collide when a drop is short), the drop end's to
    // the left of its line (it is usually the rightmost, and was clipped at the plot's edge).
    auto add = [&](qint64 step, const QString& label, QColor color, int row, Qt::Alignment side) {
        auto* line = new QCPItemStraightLine(m_plot);
        line->point1->setCoords(xAtStep(step), 1e-12);
        line->point2->setCoords(xAtStep(step), 1e12);
        line->setPen(QPen(color, 1, Qt::DashLine));
        m_markers.push_back(line);
        auto* text = new QCPItemText(m_plot);
        text->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
        text->position->setCoords(xAtStep(step), 0.02 + 0.06 * row);
        text->setPositionAlignment(Qt::AlignTop | side);
        text->setText(label);
        text->setColor(color);
        text->setFont(font());
        m_markerLabels.push_back(text);
    };
    for (const DropEvent& d : m_model->detection().drops) {
        add(d.plateau.startStep, "plateau", QColor(86, 180, 233), 0, Qt::AlignLeft);
        add(d.onsetStep, QString("drop onset %1").arg(d.onsetStep), QColor(213, 94, 0), 1, Qt::AlignLeft);
        if (d.complete)
            add(d.endStep, QString("end %1 (%2x)").arg(d.endStep).arg(d.factor, 0, 'f', 1), QColor(0, 158, 115), 2,
                Qt::AlignRight);
    }
}

double LossView::currentLineX() const {
    return m_currentLine->visible() ? m_currentLine->point1->coords().x() : std::nan("");
}

void LossView::redraw() {
    const auto& rows = m_model->metrics();
    const double copy = m_model->copyingLevel();
    const double xMax = rows.empty() ? 10.0 : std::max(10.0, xOf(rows.size() - 1));
    const double xMin = m_plot->xAxis->scaleType() == QCPAxis::stLogarithmic
                            ? (rows.empty() ? 1.0 : std::max(1e-3, xOf(0)))
                            : 0.0;
    m_ref->data()->clear();
    if (copy > 0) {
        m_ref->addData(xMin, copy);
        m_ref->addData(xMax, copy);
    }
    const SnapshotPtr cur = m_model->current();
    m_currentLine->setVisible(cur && !m_model->followLive());
    if (cur) {
        const double x = m_timeAxis ? cur->timeS : double(cur->step);
        m_currentLine->point1->setCoords(x, 1e-12);
        m_currentLine->point2->setCoords(x, 1e12);
    }
    m_plot->xAxis->setRange(xMin, xMax);
    // y: the finite range of everything shown, padded; a new run starts at [1e-4, 1].
    double lo = 1e300, hi = 0;
    for (int s = 0; s < SeriesCount; ++s) {
        bool found = false;
        const QCPRange r = m_raw[s]->visible() ? m_raw[s]->data()->valueRange(found) : m_ema[s]->data()->valueRange(found);
        if (found) {
            lo = std::min(lo, r.lower);
            hi = std::max(hi, r.upper);
        }
    }
    if (hi > 0 && lo < 1e300) m_plot->yAxis->setRange(std::max(lo / 1.5, 1e-9), std::max(hi, copy) * 1.5);
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void LossView::showCursorAt(double x) {
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
        auto it = std::lower_bound(rows.begin(), rows.end(), qint64(std::llround(x)), [](const StepMetrics& m, qint64 s) { return m.step < s; });
        i = std::size_t(std::min<std::ptrdiff_t>(it - rows.begin(), std::ptrdiff_t(rows.size()) - 1));
    }
    const StepMetrics& m = rows[i];
    // The nearest eval value at or before this step (evaluated every train.eval_every steps).
    double eval = NAN;
    for (std::size_t j = i + 1; j-- > 0 && i - j < 1000;)
        if (std::isfinite(rows[j].evalLoss)) { eval = rows[j].evalLoss; break; }
    m_cursor->setText(QString("step %1   t %2 s   L %3   L_obs %4   L_mask %5   eval L %6   lr %7")
                          .arg(m.step).arg(m.timeS, 0, 'f', 1).arg(m.loss, 0, 'e', 3).arg(m.lossObs, 0, 'e', 3)
                          .arg(m.lossMask, 0, 'e', 3).arg(eval, 0, 'e', 3).arg(m.lr, 0, 'e', 2));
}

QString LossView::cursorText() const { return m_cursor->text(); }

QString LossView::figureName() const { return "loss"; }
QList<QWidget*> LossView::figureParts() const { return {m_plot}; }

Result<QStringList> LossView::exportCsv(const QString& path) const {
    QList<QStringList> rows;
    double num[SeriesCount] = {}, den[SeriesCount] = {};
    for (const StepMetrics& m : m_model->metrics()) {
        QStringList r{QString::number(m.step), csvNumber(m.timeS), csvNumber(m.loss), csvNumber(m.lossObs),
                      csvNumber(m.lossMask), csvNumber(m.evalLoss), csvNumber(m.lr), csvNumber(m.gradNorm)};
        for (int s = 0; s < SeriesCount; ++s) {
            const double v = seriesValue(m, s);
            if (std::isfinite(v) && v > 0) {
                num[s] = m_beta * num[s] + (1 - m_beta) * std::log10(v);
                den[s] = m_beta * den[s] + (1 - m_beta);
            }
            r << (den[s] > 0 && std::isfinite(v) && v > 0 ? csvNumber(std::pow(10.0, num[s] / den[s])) : QString());
        }
        rows << r;
    }
    const QStringList header{"step", "time_s", "loss", "loss_obs", "loss_mask", "eval_loss", "lr", "grad_norm",
                             "loss_smoothed", "loss_obs_smoothed", "loss_mask_smoothed", "eval_loss_smoothed"};
    if (Status st = writeCsv(path, header, rows); !st) return Error{st.error()};
    return QStringList{path};
}

}  // namespace plateau
