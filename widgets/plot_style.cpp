#include "plot_style.h"

#include <qcustomplot.h>

namespace plateau {

void liveRendering(QCustomPlot* p) {
    p->setNotAntialiasedElements(QCP::aePlottables | QCP::aeItems | QCP::aeGrid | QCP::aeAxes | QCP::aeLegendItems |
                                 QCP::aeScatters | QCP::aeFills | QCP::aeZeroLine | QCP::aeOther);
    // Without phFastPolylines: QCustomPlot's "fast" path draws each segment with its own drawLine;
    // one drawPolyline per graph costs a third fewer instructions for the 1-pixel (cosmetic) pens
    // the views use (callgrind on bench/plot_bench.cpp).
    p->setPlottingHints(QCP::phCacheLabels);
}

void setLogY(QCustomPlot* p) {
    p->yAxis->setScaleType(QCPAxis::stLogarithmic);
    p->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    p->yAxis->setNumberFormat("eb");
    p->yAxis->setNumberPrecision(0);
}

void legendBelow(QCustomPlot* p, const QFont& font) {
    p->legend->setVisible(true);
    p->legend->setFont(font);
    p->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    p->legend->setWrap(8);
    p->legend->setBorderPen(Qt::NoPen);
    p->legend->setRowSpacing(0);
    p->legend->setColumnSpacing(8);
    auto* row = new QCPLayoutGrid;
    p->plotLayout()->addElement(p->plotLayout()->rowCount(), 0, row);
    row->setMargins(QMargins(0, 0, 0, 2));
    row->addElement(0, 0, p->legend);  // takes it out of the axis rect's inset layout
    p->plotLayout()->setRowStretchFactor(p->plotLayout()->rowCount() - 1, 0.001);
}

static QSharedPointer<QCPAxisTicker> integerTicker() {
    QSharedPointer<QCPAxisTickerFixed> t(new QCPAxisTickerFixed);
    t->setTickStep(1.0);
    t->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    return t;
}
void integerTicksX(QCustomPlot* p) { p->xAxis->setTicker(integerTicker()); }
void integerTicksY(QCustomPlot* p) { p->yAxis->setTicker(integerTicker()); }

}  // namespace plateau
