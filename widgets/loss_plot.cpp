#include "loss_plot.h"

#include <QTimer>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <cmath>

namespace plateau {

LossPlot::LossPlot(QWidget* parent) : QWidget(parent), m_plot(new QCustomPlot(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);
    auto makeGraph = [this](const QString& name, QColor color, Qt::PenStyle style = Qt::SolidLine) {
        QCPGraph* g = m_plot->addGraph();
        g->setName(name);
        g->setPen(QPen(color, 1.4, style));
        g->setAdaptiveSampling(true);  // per-pixel min/max thinning
        return g;
    };
    // Okabe-Ito colours: colour-blind safe.
    m_loss = makeGraph("L", QColor(0, 0, 0));
    m_obs = makeGraph("L_obs", QColor(0, 114, 178));
    m_mask = makeGraph("L_mask", QColor(213, 94, 0));
    m_eval = makeGraph("eval L", QColor(0, 158, 115), Qt::DotLine);
    m_ref = makeGraph("copying level", QColor(120, 120, 120), Qt::DashLine);
    m_plot->yAxis->setScaleType(QCPAxis::stLogarithmic);
    m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    m_plot->yAxis->setNumberFormat("eb");
    m_plot->yAxis->setNumberPrecision(0);
    m_plot->xAxis->setLabel("step");
    m_plot->yAxis->setLabel("MSE");
    m_plot->legend->setVisible(true);
    m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_plot->yAxis->setRange(1e-4, 1);
    // Throttled redraw: at most every 100 ms however fast rows arrive.
    auto* timer = new QTimer(this);
    timer->setInterval(100);
    connect(timer, &QTimer::timeout, this, [this] {
        if (m_dirty) redraw();
    });
    timer->start();
}

void LossPlot::append(const std::vector<StepMetrics>& rows) {
    for (const StepMetrics& m : rows) {
        const double x = double(m.step);
        if (m.step <= m_lastStep) continue;  // never draw a step twice
        m_lastStep = m.step;
        if (std::isfinite(m.loss)) m_loss->addData(x, m.loss);
        if (std::isfinite(m.lossObs)) m_obs->addData(x, m.lossObs);
        if (std::isfinite(m.lossMask)) m_mask->addData(x, m.lossMask);
        if (std::isfinite(m.evalLoss)) m_eval->addData(x, m.evalLoss);
    }
    m_dirty = true;
}

void LossPlot::clear() {
    for (QCPGraph* g : {m_loss, m_obs, m_mask, m_eval}) g->data()->clear();
    m_lastStep = 0;
    m_dirty = true;
}

int LossPlot::pointCount() const { return m_loss->dataCount(); }

void LossPlot::setReferenceLevel(double value, const QString& label) {
    m_ref->setName(label);
    m_ref->data()->clear();
    m_ref->addData(0, value);
    m_ref->addData(std::max<double>(1, double(m_lastStep)), value);
    m_dirty = true;
}

void LossPlot::redraw() {
    m_dirty = false;
    if (!m_ref->data()->isEmpty()) {
        const double level = m_ref->data()->begin()->value;
        m_ref->data()->clear();
        m_ref->addData(0, level);
        m_ref->addData(std::max<double>(1, double(m_lastStep)), level);
    }
    m_plot->xAxis->setRange(0, std::max<double>(10, double(m_lastStep)));
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace plateau
