// The matrix-completion experiment's ExperimentInfo (no torch).
#pragma once

#include "experiment_info.h"

namespace plateau::mc {
const ExperimentInfo& info();
}  // namespace plateau::mc
