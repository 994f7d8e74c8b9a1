// Plateau / drop detection on log10 of the loss. Why this shape: drops are multiplicative, so
// log space; a rolling median rejects single-step spikes without blurring a real drop; and
// "abrupt" is judged against the plateau's own length, which is what separates a plateau-then-
// drop from a slow exponential or power-law decay (whose flat stretches are always shorter
// than their falls).
#include "analysis/drop_detector.h"

#include <QJsonArray>

#include <algorithm>
#include <cmath>
#include <limits>
#include <deque>

namespace plateau {

DetectorParams DetectorParams::forLength(std::size_t n) {
    DetectorParams p;
    // About n/100 points per window, between 11 and 101, odd.
    int w = int(std::clamp<std::size_t>(n / 100, 11, 101));
    p.smoothWindow = w | 1;
    return p;
}

std::vector<double> smoothedLog10(const std::vector<double>& losses, int window) {
    const std::size_t n = losses.size();
    const std::size_t half = std::size_t(std::max(1, window) / 2);
    std::vector<double> logs(n), out(n);
    for (std::size_t i = 0; i < n; ++i) {
        logs[i] = std::log10(losses[i]);
        if (std::isnan(logs[i])) logs[i] = -std::numeric_limits<double>::infinity();  // keeps the window ordered
    }
    // The window [i - half, i + half] (clipped) kept sorted as it slides: one insertion and one
    // removal per step (binary search + a short move) instead of a selection over the whole
    // window, same medians (the element at size / 2 of the sorted window).
    std::vector<double> sorted;
    std::size_t lo = 0, hi = 0;  // logs[lo, hi) are in the window
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t a = i >= half ? i - half : 0, b = std::min(n - 1, i + half) + 1;
        for (; hi < b; ++hi) sorted.insert(std::upper_bound(sorted.begin(), sorted.end(), logs[hi]), logs[hi]);
        for (; lo < a; ++lo) sorted.erase(std::lower_bound(sorted.begin(), sorted.end(), logs[lo]));
        out[i] = sorted[sorted.size() / 2];
    }
    return out;
}

namespace {

double medianOf(std::vector<double> v) {
    if (v.empty()) return NAN;
    auto mid = v.begin() + std::ptrdiff_t(v.size() / 2);
    std::nth_element(v.begin(), mid, v.end());
    return *mid;
}

double medianRange(const std::vector<double>& s, std::size_t a, std::size_t b) {
    return medianOf(std::vector<double>(s.begin() + std::ptrdiff_t(a), s.begin() + std::ptrdiff_t(b) + 1));
}

// Mean of y over any index range in O(1), from prefix sums.
class PrefixMean {
public:
    explicit PrefixMean(const std::vector<double>& y) : m_sum(y.size() + 1) {
        for (std::size_t i = 0; i < y.size(); ++i) m_sum[i + 1] = m_sum[i] + y[i];
    }
    double mean(std::size_t a, std::size_t b) const { return (m_sum[b + 1] - m_sum[a]) / double(b - a + 1); }

private:
    std::vector<double> m_sum;
};

}  // namespace

DropDetection detectDrops(const std::vector<qint64>& stepsIn, const std::vector<double>& lossesIn,
                          const DetectorParams& p) {
    DropDetection result;
    std::vector<qint64> steps;
    std::vector<double> losses;
    for (std::size_t i = 0; i < std::min(stepsIn.size(), lossesIn.size()); ++i)
        if (std::isfinite(lossesIn[i]) && lossesIn[i] > 0) {
            steps.push_back(stepsIn[i]);
            losses.push_back(lossesIn[i]);
        }
    const std::size_t n = steps.size();
    const std::size_t w = std::size_t(std::max(3, p.smoothWindow | 1));
    result.smoothWindow = int(w);
    const std::size_t minPlateau = p.minPlateauPoints > 0 ? std::size_t(p.minPlateauPoints) : 5 * w;
    if (n < minPlateau + w) return result;
    const std::vector<double> s = smoothedLog10(losses, int(w));
    const double dropDecades = std::log10(p.minDropFactor);
    const PrefixMean sMean(s);

    std::size_t a = 0;  // start of the flat window ending at b
    std::deque<std::size_t> maxQ, minQ;
    for (std::size_t b = 0; b < n; ++b) {
        while (!maxQ.empty() && s[maxQ.back()] <= s[b]) maxQ.pop_back();
        while (!minQ.empty() && s[minQ.back()] >= s[b]) minQ.pop_back();
        maxQ.push_back(b);
        minQ.push_back(b);
        while (s[maxQ.front()] - s[minQ.front()] > 2 * p.plateauBand) {
            ++a;
            while (maxQ.front() < a) maxQ.pop_front();
            while (minQ.front() < a) minQ.pop_front();
        }
        // A candidate: a long enough flat window whose next point leaves it downwards.
        const bool last = b + 1 == n;
        if (b - a + 1 < minPlateau) continue;
        if (last) {
            result.hasCurrentPlateau = true;
            result.currentPlateau = {steps[a], steps[b], std::pow(10.0, medianRange(s, a, b))};
            break;
        }
        if (s[b + 1] >= s[minQ.front()]) continue;  // still inside (or leaving upwards)
        // Scan with the window's mid-range (O(1)); the median is taken for what is reported.
        const double mid = 0.5 * (s[maxQ.front()] + s[minQ.front()]);
        const double plateauLen = double(steps[b] - steps[a]);
        std::size_t onset = b;
        while (onset > a && s[onset] < mid - p.onsetBand) --onset;
        // Does it fall by the factor below the plateau, soon enough after the onset?
        const double maxDuration = p.maxDropToPlateau * plateauLen;
        std::size_t k = b + 1;
        while (k < n && s[k] > mid - dropDecades && double(steps[k] - steps[onset]) <= maxDuration) ++k;
        if (k >= n || s[k] > mid - dropDecades) continue;
        const double level = medianRange(s, a, onset);
        // Onset: last point at the plateau level.
        while (onset < k && s[onset + 1] >= level - p.onsetBand) ++onset;  // refine on the median
        // End: first point from which the curve falls slower than endTolerance per 10% of the
        // plateau length, judged from that point to the mean of the last window of a horizon of
        // endHorizon x the plateau length (at least a window), so neither a short shoulder in a
        // multi-stage fall nor a noise dip of the median on a steady decline ends the drop (over
        // 10% of a plateau of a few thousand steps, one in seven such declines ended early).
        std::size_t horizon = w;
        while (horizon < n && double(steps[std::min(n - 1, b + horizon)] - steps[b]) < p.endHorizon * plateauLen) ++horizon;
        const double maxFallRate = p.endTolerance / std::max(1.0, 0.1 * plateauLen);  // decades per step
        const auto fallAhead = [&](std::size_t i) {  // horizon >= w, so the last window fits
            return s[i] - sMean.mean(i + horizon + 1 - w, i + horizon);
        };
        std::size_t e = k;
        while (e + horizon < n &&
               fallAhead(e) > maxFallRate * double(steps[e + horizon] - steps[e])) ++e;
        const bool complete = e + horizon < n;
        const std::size_t afterEnd = std::min(n - 1, e + w);
        DropEvent d;
        d.plateau = {steps[a], steps[onset], std::pow(10.0, level)};
        d.onsetStep = steps[onset];
        d.endStep = steps[e];
        d.levelBefore = std::pow(10.0, level);
        d.levelAfter = std::pow(10.0, medianRange(s, e, afterEnd));
        d.factor = d.levelBefore / d.levelAfter;
        d.complete = complete;
        // The reported (median) levels decide, so a reported drop always meets the factor.
        if (d.factor < p.minDropFactor) continue;
        result.drops.push_back(d);
        if (!complete) break;
        // Look for the next plateau from the end of this drop.
        b = e;
        a = e;
        maxQ.clear();
        minQ.clear();
        maxQ.push_back(e);
        minQ.push_back(e);
    }
    return result;
}

DropDetection detectDrops(const std::vector<qint64>& steps, const std::vector<double>& losses) {
    std::size_t valid = 0;
    for (double l : losses) valid += std::isfinite(l) && l > 0;
    return detectDrops(steps, losses, DetectorParams::forLength(valid));
}

DetectorSeries detectorSeries(const std::vector<StepMetrics>& rows, const std::vector<MetricColumn>& columns,
                              const DetectorTarget& target) {
    int col = -1;
    for (std::size_t i = 0; i < columns.size(); ++i)
        if (columns[i].key == target.column) col = int(i);
    DetectorSeries s;
    if (col < 0) return s;
    s.steps.reserve(rows.size());
    s.values.reserve(rows.size());
    for (const StepMetrics& m : rows) {
        const double v = m.value(col);
        if (!std::isfinite(v)) continue;
        s.steps.push_back(m.step);
        s.values.push_back(detectorValue(target, v));
    }
    return s;
}

DropDetection detectOnRows(const std::vector<StepMetrics>& rows, const std::vector<MetricColumn>& columns,
                           const DetectorTarget& target, qint64 plannedSteps) {
    const DetectorSeries s = detectorSeries(rows, columns, target);
    return detectDrops(s.steps, s.values, DetectorParams::forLength(std::size_t(std::max<qint64>(1, plannedSteps))));
}

QJsonObject DropDetection::toJson() const {
    QJsonArray arr;
    for (const DropEvent& d : drops)
        arr.append(QJsonObject{{"plateau_start_step", double(d.plateau.startStep)},
                               {"onset_step", double(d.onsetStep)},
                               {"end_step", double(d.endStep)},
                               {"level_before", d.levelBefore},
                               {"level_after", d.levelAfter},
                               {"factor", d.factor},
                               {"complete", d.complete}});
    QJsonObject obj{{"drops", arr}, {"smooth_window", smoothWindow}};
    if (hasCurrentPlateau)
        obj["current_plateau"] = QJsonObject{{"start_step", double(currentPlateau.startStep)},
                                             {"end_step", double(currentPlateau.endStep)},
                                             {"level", currentPlateau.level}};
    return obj;
}

OnlineDropDetector::OnlineDropDetector(DetectorParams params, int every)
    : m_params(params), m_every(std::max(1, every)) {}

void OnlineDropDetector::append(qint64 step, double loss) {
    m_steps.push_back(step);
    m_losses.push_back(loss);
}

const DropDetection& OnlineDropDetector::result() {
    if (m_steps.size() >= m_lastRun + std::size_t(m_every) || (m_lastRun == 0 && !m_steps.empty())) {
        m_result = detectDrops(m_steps, m_losses, m_params);
        m_lastRun = m_steps.size();
    }
    return m_result;
}

}  // namespace plateau
