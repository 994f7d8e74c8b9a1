// A run's summary as `plateau-cli info` prints it and `sweep-summary` tabulates it: steps done and
// planned, training time, step time, checkpoints, the experiment's own quantities, the final value
// of every column (median of the last 5 % of rows, at most 200) and the drop detector's plateaus
// and drops (steps and seconds), plus the config. No torch; any thread.
#pragma once

#include "result.h"

#include <QJsonObject>
#include <QString>

namespace plateau {

// {"summary": {...}, "detection": {...}, "config": {...}}; fails when the run cannot be read.
Result<QJsonObject> runSummary(const QString& runDir);

}  // namespace plateau
