// Associative recall (Kobayashi, Akram & von Oswald, NeurIPS 2024, toy 2): K key-value pairs then
// a query key; the target is its value; a 2-layer attention-only decoder trained with AdamW where
// only the attention weights' decay varies. Description and typed settings, no torch.
#pragma once

#include "config.h"
#include "experiment_info.h"
#include "model/decoder_dims.h"

namespace plateau::assoc {

struct Settings {
    int pairs = 20;         // K: the sequence is x1 y1 ... xK yK x_query (2K + 1 tokens)
    int keys = 64;          // key vocabulary (ids 0 .. keys-1); the K keys of a sequence are distinct
    int values = 64;        // value vocabulary (ids keys .. keys+values-1)
    double labelNoise = 0.05;  // share of training targets replaced by a uniformly random value
    int batchSize = 128, evalBatchSize = 256;
    int seqLen() const { return 2 * pairs + 1; }
    int vocab() const { return keys + values; }
};
Settings settingsOf(const RunConfig& cfg);
DecoderDims dimsOf(const RunConfig& cfg);

const ExperimentInfo& info();

}  // namespace plateau::assoc
