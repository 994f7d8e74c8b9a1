// In-context modular arithmetic (He, Doshi, Das & Gromov, NeurIPS 2024): description and typed
// settings, no torch. The data is ma_task.h; the training half ma_experiment.h.
#pragma once

#include "config.h"
#include "experiment_info.h"
#include "experiments/modular_arithmetic/ma_task.h"
#include "model/decoder_dims.h"

namespace plateau::ma {

struct Settings {
    TaskSpec spec;
    int batchSize = 256;          // sequences per step, the same number of each i.d. task
    int evalSequencesPerTask = 1; // per task and set at each evaluation
    int seqLen() const { return inputLength(spec.examples); }
    int vocab() const { return spec.p; }
    int idTasks() const { return 4 * spec.baseTasks; }
};
Settings settingsOf(const RunConfig& cfg);
DecoderDims dimsOf(const RunConfig& cfg);

const ExperimentInfo& info();

// Sequences per set behind a snapshot's k-shot curves (rounded up to a multiple of the set's tasks).
inline constexpr int kKShotSequences = 128;

// The evaluation's four sets, in column order.
enum class EvalSet { IdTrain = 0, IdTest, OodTrain, OodTest };

}  // namespace plateau::ma
