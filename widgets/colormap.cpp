#include "colormap.h"

#include <algorithm>
#include <cmath>

namespace plateau {

namespace {
struct Stop { double r, g, b; };
// Viridis sampled at 9 points (published values), interpolated linearly in RGB.
constexpr Stop kSequential[] = {{68, 1, 84},    {71, 44, 122},  {59, 81, 139},  {44, 113, 142}, {33, 144, 141},
                                {39, 173, 129}, {92, 200, 99},  {170, 220, 50}, {253, 231, 37}};
// ColorBrewer RdBu (reversed: negative blue, positive red), 9 classes.
constexpr Stop kDiverging[] = {{33, 102, 172},  {67, 147, 195},  {146, 197, 222}, {209, 229, 240}, {247, 247, 247},
                               {253, 219, 199}, {244, 165, 130}, {214, 96, 77},   {178, 24, 43}};

template <std::size_t N>
QRgb interpolate(const Stop (&stops)[N], double t) {
    if (!std::isfinite(t)) return qRgb(160, 160, 160);
    t = std::clamp(t, 0.0, 1.0) * double(N - 1);
    const std::size_t i = std::min<std::size_t>(N - 2, std::size_t(t));
    const double f = t - double(i);
    const Stop& a = stops[i];
    const Stop& b = stops[i + 1];
    return qRgb(int(std::lround(a.r + f * (b.r - a.r))), int(std::lround(a.g + f * (b.g - a.g))),
                int(std::lround(a.b + f * (b.b - a.b))));
}
}  // namespace

QRgb sequentialColor(double t) { return interpolate(kSequential, t); }
QRgb divergingColor(double t) { return interpolate(kDiverging, std::isfinite(t) ? 0.5 * (t + 1.0) : t); }

QRgb mapColor(ColorMapKind kind, double v, double lo, double hi) {
    if (kind == ColorMapKind::Diverging) return divergingColor(hi > 0 ? v / hi : 0.0);
    return sequentialColor(hi > lo ? (v - lo) / (hi - lo) : 0.0);
}

QImage colorBarImage(ColorMapKind kind, int w, int h) {
    QImage img(std::max(1, w), std::max(1, h), QImage::Format_RGB32);
    for (int y = 0; y < img.height(); ++y) {
        const double t = img.height() > 1 ? 1.0 - double(y) / double(img.height() - 1) : 1.0;
        const QRgb c = kind == ColorMapKind::Diverging ? divergingColor(2 * t - 1) : sequentialColor(t);
        for (int x = 0; x < img.width(); ++x) img.setPixel(x, y, c);
    }
    return img;
}

}  // namespace plateau
