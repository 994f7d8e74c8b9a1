#include "curve_decimator.h"

#include <algorithm>
#include <cmath>

namespace plateau {

void CurveDecimator::clear() {
    m_x.clear();
    m_y.clear();
    m_levels.clear();
    m_lo = m_hi = 0;
}

void CurveDecimator::reserve(std::size_t n) {
    m_x.reserve(n);
    m_y.reserve(n);
}

void CurveDecimator::keep(Extremes& into, const Extremes& e) const {
    if (m_y[e.lo] < m_y[into.lo]) into.lo = e.lo;
    if (m_y[e.hi] > m_y[into.hi]) into.hi = e.hi;
}

bool CurveDecimator::append(double x, double y) {
    if (!m_x.empty() && !(x >= m_x.back())) return false;
    if (m_x.size() >= std::size_t(UINT32_MAX)) return false;
    if (m_x.empty()) m_lo = m_hi = y;
    m_lo = std::min(m_lo, y);
    m_hi = std::max(m_hi, y);
    m_x.push_back(x);
    m_y.push_back(y);
    // Close every block this point completes, level by level.
    std::size_t n = m_x.size(), size = kFan;
    for (std::size_t k = 0; n % size == 0; ++k, size *= kFan) {
        if (m_levels.size() <= k) m_levels.emplace_back();
        const std::size_t first = n - size;
        Extremes e{std::uint32_t(first), std::uint32_t(first)};
        if (k == 0) {
            for (std::size_t i = first + 1; i < n; ++i) keep(e, {std::uint32_t(i), std::uint32_t(i)});
        } else {
            const std::vector<Extremes>& below = m_levels[k - 1];
            for (std::size_t b = below.size() - kFan; b < below.size(); ++b) keep(e, below[b]);
        }
        m_levels[k].push_back(e);
    }
    return true;
}

CurveDecimator::Extremes CurveDecimator::extremes(std::size_t first, std::size_t last) const {
    Extremes e{std::uint32_t(first), std::uint32_t(first)};
    std::size_t i = first;
    while (i < last) {
        // The largest complete block that starts at i and ends by `last`.
        int k = -1;
        std::size_t size = 1;
        while (k + 1 < int(m_levels.size())) {
            const std::size_t next = size * kFan;
            if (i % next != 0 || i + next > last || i / next >= m_levels[std::size_t(k + 1)].size()) break;
            ++k;
            size = next;
        }
        if (k < 0) keep(e, {std::uint32_t(i), std::uint32_t(i)});
        else keep(e, m_levels[std::size_t(k)][i / size]);
        i += size;
    }
    return e;
}

bool CurveDecimator::valueRange(double* lo, double* hi) const {
    if (m_x.empty()) return false;
    *lo = m_lo;
    *hi = m_hi;
    return true;
}

bool CurveDecimator::valueRange(double xLo, double xHi, double* lo, double* hi) const {
    const std::size_t first = std::size_t(std::lower_bound(m_x.begin(), m_x.end(), xLo) - m_x.begin());
    const std::size_t last = std::size_t(std::upper_bound(m_x.begin(), m_x.end(), xHi) - m_x.begin());
    if (first >= last) return false;
    const Extremes e = extremes(first, last);
    *lo = m_y[e.lo];
    *hi = m_y[e.hi];
    return true;
}

void CurveDecimator::decimate(int pixelLo, int pixelHi, const std::function<double(double)>& toX,
                              std::vector<CurvePoint>* out) const {
    out->clear();
    const std::size_t n = m_x.size();
    if (n == 0 || pixelHi <= pixelLo) return;
    auto add = [&](std::size_t i) { out->push_back({m_x[i], m_y[i]}); };
    std::size_t i = std::size_t(std::lower_bound(m_x.begin(), m_x.end(), toX(double(pixelLo))) - m_x.begin());
    if (i > 0) add(i - 1);  // the line comes in from the left edge
    for (int p = pixelLo; p < pixelHi && i < n; ++p) {
        const double xb = toX(double(p + 1));
        if (!(m_x[i] < xb)) continue;  // an empty column
        const std::size_t j = std::size_t(std::lower_bound(m_x.begin() + std::ptrdiff_t(i), m_x.end(), xb) - m_x.begin());
        if (j - i <= 2) {
            for (std::size_t k = i; k < j; ++k) add(k);
        } else {
            const Extremes e = extremes(i, j);
            add(std::min<std::size_t>(e.lo, e.hi));
            if (e.lo != e.hi) add(std::max<std::size_t>(e.lo, e.hi));
        }
        i = j;
    }
    if (i < n) add(i);  // and goes on past the right edge
}

}  // namespace plateau
