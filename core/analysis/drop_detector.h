// Finds the loss plateau and the sudden drop in a metric stream: plateau start, drop onset, drop
// end and the levels before and after. Works on the full-resolution curve (rolling median of
// log10 L, no sampling), offline on a finished run or online as steps arrive. Plain data, no
// torch; an OnlineDropDetector belongs to one thread.
#pragma once

#include "experiment_info.h"
#include "metrics.h"

#include <QJsonObject>
#include <QtGlobal>
#include <vector>

namespace plateau {

struct DetectorParams {
    int smoothWindow = 101;          // rolling-median window in points (odd); see forLength()
    double minDropFactor = 3.0;      // the smoothed loss must fall at least this factor
    double plateauBand = 0.15;       // decades: a plateau stays within +-band (range <= 2 band)
    double onsetBand = 0.05;         // decades below the plateau level where the drop begins
    double endTolerance = 0.05;      // decades per 10% of the plateau length: ended once the fall
                                     // over the next endHorizon stretch is slower than this
    double endHorizon = 0.2;         // x the plateau length (at least one window)
    int minPlateauPoints = 0;        // shortest plateau; 0 = 5 smoothing windows
    double maxDropToPlateau = 0.5;   // onset -> minDropFactor within this x the plateau length
    // Defaults scaled to a curve of n points (short runs get a shorter window).
    static DetectorParams forLength(std::size_t n);
};

struct PlateauSpan {
    qint64 startStep = 0, endStep = 0;
    double level = 0;  // median loss on the plateau
};

struct DropEvent {
    PlateauSpan plateau;       // the plateau the loss dropped from
    qint64 onsetStep = 0;      // last step still at the plateau level
    qint64 endStep = 0;        // first step where the fall has levelled off
    double levelBefore = 0;    // median loss on the plateau
    double levelAfter = 0;     // median loss just after the end
    double factor = 0;         // levelBefore / levelAfter
    bool complete = false;     // enough data after the end to know it has levelled off
};

struct DropDetection {
    std::vector<DropEvent> drops;
    bool hasCurrentPlateau = false;
    PlateauSpan currentPlateau;  // the plateau the curve is on at its last point, if any
    int smoothWindow = 0;
    QJsonObject toJson() const;
};

// steps and losses of equal length, steps increasing; non-finite or non-positive losses are
// skipped. Offline entry point.
DropDetection detectDrops(const std::vector<qint64>& steps, const std::vector<double>& losses,
                          const DetectorParams& params);
DropDetection detectDrops(const std::vector<qint64>& steps, const std::vector<double>& losses);

// The log10 rolling median the detector works on (same length as the valid points).
std::vector<double> smoothedLog10(const std::vector<double>& losses, int window);

// What the detector sees of a metric value: the value of a falling column, ceiling - value of a
// rising one (an accuracy becomes an error rate), so that both kinds of jump read as drops.
inline double detectorValue(const DetectorTarget& t, double v) { return t.rising ? t.ceiling - v : v; }
// And back: a level of the watched series as a value of the column.
inline double columnValue(const DetectorTarget& t, double level) { return t.rising ? t.ceiling - level : level; }

// The steps and watched values of `rows` for the experiment's detector target (rows missing the
// column, NaN, are skipped by the detector).
struct DetectorSeries {
    std::vector<qint64> steps;
    std::vector<double> values;
};
DetectorSeries detectorSeries(const std::vector<StepMetrics>& rows, const std::vector<MetricColumn>& columns,
                              const DetectorTarget& target);
// detectDrops on that series with the window a run of `plannedSteps` gets.
DropDetection detectOnRows(const std::vector<StepMetrics>& rows, const std::vector<MetricColumn>& columns,
                           const DetectorTarget& target, qint64 plannedSteps);

// Streaming use: append points as they arrive; result() re-runs the detection at most once per
// `every` new points (the detection is O(n * window)).
class OnlineDropDetector {
public:
    explicit OnlineDropDetector(DetectorParams params = {}, int every = 50);
    void append(qint64 step, double loss);
    const DropDetection& result();
    std::size_t size() const { return m_steps.size(); }

private:
    DetectorParams m_params;
    int m_every;
    std::size_t m_lastRun = 0;
    std::vector<qint64> m_steps;
    std::vector<double> m_losses;
    DropDetection m_result;
};

}  // namespace plateau
