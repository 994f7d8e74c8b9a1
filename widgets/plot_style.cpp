#include "plot_style.h"

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace plateau {

void liveRendering(QCustomPlot* p) {
    p->setNotAntialiasedElements(QCP::aePlottables | QCP::aeItems | QCP::aeGrid | QCP::aeAxes | QCP::aeLegendItems |
                                 QCP::aeScatters | QCP::aeFills | QCP::aeZeroLine | QCP::aeOther);
    // Without phFastPolylines: QCustomPlot's "fast" path draws each segment with its own drawLine;
    // one drawPolyline per graph costs a third fewer instructions for the 1-pixel (cosmetic) pens
    // the views use (callgrind on bench/plot_bench.cpp).
    p->setPlottingHints(QCP::phCacheLabels);
}

namespace {
class Log10ValuesTicker : public QCPAxisTicker {
protected:
    // Whole decades; within less than ~2.5 decades also 2 and 5 (and within one, every k) x 10^m,
    // so that a short range still has labelled ticks.
    QVector<double> createTickVector(double, const QCPRange& range) override {
        QVector<double> out;
        const double span = range.size();
        const std::vector<int> ks = span < 1.2 ? std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9}
                                    : span < 2.5 ? std::vector<int>{1, 2, 5} : std::vector<int>{1};
        const int step = span > 12 ? int(std::ceil(span / 8)) : 1;
        for (int m = int(std::floor(range.lower)) - 1; m <= int(std::ceil(range.upper)); ++m) {
            if (step > 1 && m % step != 0) continue;
            for (int k : ks) {
                const double t = m + std::log10(double(k));
                if (t >= range.lower && t <= range.upper) out << t;
            }
        }
        return out;
    }
    QString getTickLabel(double tick, const QLocale& locale, QChar formatChar, int precision) override {
        return QCPAxisTicker::getTickLabel(std::pow(10.0, tick), locale, formatChar, precision);
    }
    // 2..9 x 10^m between whole-decade ticks.
    QVector<double> createSubTickVector(int, const QVector<double>& ticks) override {
        QVector<double> out;
        for (int i = 0; i + 1 < ticks.size(); ++i)
            if (ticks[i + 1] - ticks[i] > 0.99 && ticks[i + 1] - ticks[i] < 1.01)
                for (int k = 2; k <= 9; ++k) out << ticks[i] + std::log10(double(k));
        return out;
    }
};
}  // namespace

void setLog10ValuesY(QCustomPlot* p) {
    p->yAxis->setScaleType(QCPAxis::stLinear);
    p->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new Log10ValuesTicker));
    p->yAxis->setNumberFormat("eb");
    p->yAxis->setNumberPrecision(0);
}

void setLogY(QCustomPlot* p) {
    p->yAxis->setScaleType(QCPAxis::stLogarithmic);
    p->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    p->yAxis->setNumberFormat("eb");
    p->yAxis->setNumberPrecision(0);
    // Within less than about a decade the ticks fall between powers of ten (2, 3): one digit
    // more, or "3·10⁰" would label two of them, and fewer of them (short plots).
    QCPAxis* axis = p->yAxis;
    QObject::connect(axis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), axis, [axis](const QCPRange& r) {
        const bool narrow = r.lower > 0 && r.upper / r.lower < 30;
        axis->setNumberPrecision(narrow ? 1 : 0);
        axis->ticker()->setTickCount(narrow ? 3 : 5);  // 5: QCPAxisTicker's default
    });
}

void setFixedRangeY(QCustomPlot* p, double lo, double hi) {
    const double pad = 0.02 * (hi - lo);
    p->yAxis->setRange(lo - pad, hi + pad);
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
