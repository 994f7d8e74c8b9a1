// Figure export: a view's figure parts (plots, heatmaps, colour bars; never its controls) laid
// out as on screen, written as PNG (raster at a chosen DPI), SVG or PDF (vector: QCustomPlot
// plots are drawn through their own painter path, not their screen buffer). While exporting,
// plots are drawn antialiased and with every point (no per-pixel thinning). Plus CSV helpers for
// the data behind a view. GUI thread only.
#pragma once

#include "result.h"
#include "run/csv_file.h"  // writeCsv, csvNumber: the data beside every figure

#include <QList>
#include <QSize>
#include <QString>
#include <QStringList>

class QWidget;

namespace plateau {

enum class FigureFormat { Png, Svg, Pdf };

struct FigureOptions {
    QSize size;           // logical size (1/96 inch units); empty = as on screen. Aspect is kept.
    double dpi = 200;     // PNG only: pixels per inch of the written image
    QString caption;      // a line above the figure (run, step); empty = none
};

// Formats named like "pdf,png,svg"; an unknown name is an error naming it.
Result<QList<FigureFormat>> parseFigureFormats(const QString& list);
QString figureSuffix(FigureFormat f);

// Renders `parts` (descendants of `root`, at their positions inside it) into `path`.
Status exportFigure(QWidget* root, const QList<QWidget*>& parts, const QString& path, FigureFormat format,
                    const FigureOptions& options);

// "dir/name.csv" + "over_time" -> "dir/name_over_time.csv" (a second CSV beside the first).
QString siblingPath(const QString& path, const QString& tag);

}  // namespace plateau
