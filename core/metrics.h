// StepMetrics: what the trainer logs for every step. Plain data, copied freely across threads
// and stored one row per step in the run's SQLite metrics table.
#pragma once

#include <QtGlobal>
#include <cmath>
#include <limits>

namespace plateau {

constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

struct StepMetrics {
    qint64 step = 0;                // 1-based: metrics after `step` optimiser updates
    double timeS = 0.0;             // cumulative training seconds (pauses excluded)
    double loss = kNoValue;         // L: MSE over all n^2 entries of the training batch
    double lossObs = kNoValue;      // L_obs: MSE over observed entries
    double lossMask = kNoValue;     // L_mask: MSE over masked entries
    double meanAbsMaskOut = kNoValue;  // mean |output| at masked entries (~0 while copying)
    double evalLoss = kNoValue;     // L on a fresh batch (NaN when not evaluated this step)
    double lr = kNoValue;           // learning rate used for this update
    double gradNorm = kNoValue;     // global gradient L2 norm before clipping
    double stepMs = kNoValue;       // wall time of this step in milliseconds
    double stepsPerSec() const { return stepMs > 0 ? 1000.0 / stepMs : kNoValue; }
};

}  // namespace plateau
