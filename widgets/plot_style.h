// Shared QCustomPlot styling of the views: log axes, a legend in one row under the axis rect (so
// it never hides a curve), integer ticks. GUI thread only.
#pragma once

class QCustomPlot;
class QFont;

namespace plateau {

// Cheap live redraws: no antialiasing of curves, items and grid (text stays smooth), one
// polyline per graph, cached labels. Exports switch antialiasing back on.
void liveRendering(QCustomPlot* plot);
// Log10 y axis with 10^k labels (one decimal more while the range spans under ~1.5 decades).
void setLogY(QCustomPlot* plot);
// A linear y axis for data already in log10 units, labelled as a log axis (10^k ticks, 2..9 x
// 10^k sub-ticks): the same picture as setLogY for a graph holding log10(y), without two log
// calls per point per redraw (what a hundred overlaid curves spend most of their redraw on).
void setLog10ValuesY(QCustomPlot* plot);
// Moves the legend out of the axis rect into a row below it, laid out left to right.
void legendBelow(QCustomPlot* plot, const QFont& font);
// A fixed y range [lo, hi] with 2 % of it as margin on either side (accuracies: 0 to 1).
void setFixedRangeY(QCustomPlot* plot, double lo, double hi);
// Ticks at whole numbers only (indices, ranks).
void integerTicksX(QCustomPlot* plot);
void integerTicksY(QCustomPlot* plot);

}  // namespace plateau
