// Checkpoints: the experiment's model state dict (its own names: HF BertModel + read_out.* for
// matrix completion, nanoGPT's for decoders), the optimiser's named state, counters and the
// experiment generator's state, pickled in PyTorch's zip format so Python's torch.load reads them. Written atomically
// (temporary file + rename). Called on the thread that drives the Trainer.
#pragma once

#include "result.h"

#include <QString>

namespace plateau {

class Experiment;
class Trainer;

struct CheckpointInfo {
    qint64 step = 0;            // optimiser updates done when it was written
    double trainSeconds = 0.0;  // cumulative training time at that point
    QString configJson;         // the run's resolved config (compact JSON)
};

// Writes trainer state to path atomically.
Status saveCheckpoint(Trainer& trainer, const QString& path);
// Validates every name and shape before touching the trainer; on error the trainer is unchanged.
Result<CheckpointInfo> loadCheckpoint(Trainer& trainer, const QString& path);
// Only the model's weights into `e` (an analysis's own copy of the experiment): no optimiser, no
// counters, no generator. Names, shapes and the experiment are checked before anything is copied.
Result<CheckpointInfo> loadModelWeights(Experiment& e, const QString& path);
// Reads only the header fields (step, time, config) of a checkpoint.
Result<CheckpointInfo> readCheckpointInfo(const QString& path);

}  // namespace plateau
