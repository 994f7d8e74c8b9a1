// Colour maps shared by the heatmap views: a perceptually uniform sequential map (viridis-like,
// for probabilities) and a diverging blue-white-red map (for signed values, white at 0).
// Pure functions, any thread.
#pragma once

#include <QColor>
#include <QImage>
#include <QRgb>

namespace plateau {

enum class ColorMapKind { Sequential, Diverging };

// t in [0, 1] (clamped); NaN gives mid grey.
QRgb sequentialColor(double t);
// t in [-1, 1] (clamped), 0 = white.
QRgb divergingColor(double t);

// Maps value v to a colour with the range [lo, hi] (Sequential) or [-hi, hi] (Diverging).
QRgb mapColor(ColorMapKind kind, double v, double lo, double hi);

// A vertical colour bar image (top = hi), w x h pixels.
QImage colorBarImage(ColorMapKind kind, int w, int h);

}  // namespace plateau
