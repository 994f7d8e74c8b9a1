// CurveDecimator: one curve's points (x non-decreasing, y finite) kept in full, with min / max
// summaries over blocks of 32, 32², 32³ … points, so that what a plot draws for an x range at a
// given pixel width (per pixel column: its lowest and highest point, in x order) costs
// O(width · log n) instead of O(n). The drawn line has the same envelope as drawing every
// point (each column's extremes are kept) at any zoom, on linear or log axes alike, so the loss
// view stays fast at millions of steps and a sweep's overlay at hundreds of curves. Appending is
// amortised O(1). No Qt widgets; GUI thread in practice (not thread-safe).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace plateau {

struct CurvePoint {
    double x, y;
};

class CurveDecimator {
public:
    void clear();
    void reserve(std::size_t n);
    // x must not be below the previous point's x; points breaking that are ignored (false).
    bool append(double x, double y);
    std::size_t size() const { return m_x.size(); }
    bool empty() const { return m_x.empty(); }
    double x(std::size_t i) const { return m_x[i]; }
    double y(std::size_t i) const { return m_y[i]; }
    // Lowest and highest y over all points (false when empty).
    bool valueRange(double* lo, double* hi) const;
    // Lowest and highest y with x in [xLo, xHi] (false when no point lies there).
    bool valueRange(double xLo, double xHi, double* lo, double* hi) const;

    // The points to draw between pixel columns [pixelLo, pixelHi) when column p covers the x values
    // [toX(p), toX(p + 1)) (toX increasing: an axis's pixel-to-coordinate map, linear or log):
    // a column holding at most 2 points gives them, a fuller one its lowest and highest point in x
    // order (the line's vertical extent in that column, which is all a 1-pixel column shows); plus the nearest point outside the range on either side, so
    // that the line runs on to the plot's edges. Replaces `out`.
    void decimate(int pixelLo, int pixelHi, const std::function<double(double)>& toX,
                  std::vector<CurvePoint>* out) const;

private:
    static constexpr std::size_t kFan = 32;  // points per block at level 1, blocks per block above
    struct Extremes {
        std::uint32_t lo, hi;  // indices of the lowest and highest point
    };
    // Indices of the lowest and highest point in [first, last).
    Extremes extremes(std::size_t first, std::size_t last) const;
    void keep(Extremes& into, const Extremes& e) const;

    std::vector<double> m_x, m_y;
    std::vector<std::vector<Extremes>> m_levels;  // m_levels[k]: complete blocks of kFan^(k+1) points
    double m_lo = 0, m_hi = 0;
};

}  // namespace plateau
