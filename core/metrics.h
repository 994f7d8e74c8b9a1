// StepMetrics: what the trainer logs for every step: the common columns (time, learning rate,
// gradient norm, step time) and the experiment's own columns, in the order its ExperimentInfo
// declares them (NaN = not computed at that step). Plain data, copied freely across threads and
// stored one row per step in the run's SQLite metrics table.
#pragma once

#include <QtGlobal>
#include <cmath>
#include <limits>
#include <vector>

namespace plateau {

constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

struct StepMetrics {
    qint64 step = 0;                // 1-based: metrics after `step` optimiser updates
    double timeS = 0.0;             // cumulative training seconds (pauses excluded)
    double lr = kNoValue;           // learning rate used for this update
    double gradNorm = kNoValue;     // global gradient L2 norm before clipping
    double stepMs = kNoValue;       // wall time of this step in milliseconds
    std::vector<double> values;     // the experiment's columns

    double value(int column) const {
        return column >= 0 && std::size_t(column) < values.size() ? values[std::size_t(column)] : kNoValue;
    }
    double stepsPerSec() const { return stepMs > 0 ? 1000.0 / stepMs : kNoValue; }
};

}  // namespace plateau
