// The GPT variant of matrix completion (Gopalani, Lubana & Hu, NeurIPS 2024, Fig 11-12; the authors'
// src/gpt/): its description and typed settings, no torch. The token scheme: value x (2 decimals,
// |x| <= 2) -> 1 + round(100 x) + 200 (1 ... 401), MASK = 0, SEP = 404, vocabulary 405; a sequence
// is the n^2 masked-matrix tokens row-major, SEP, the n^2 full-matrix tokens (99 for n = 7).
#pragma once

#include "config.h"
#include "experiment_info.h"
#include "model/decoder_dims.h"

namespace plateau::gptmc {

constexpr int kMask = 0;
constexpr int kSep = 404;
constexpr int kVocab = 405;
constexpr double kMaxAbs = 2.0;  // values beyond +-2 (other distributions) are clamped to it

// Value (rounded to 2 decimals, clamped to +-2) -> token id 1..401.
int valueToken(double x);
double tokenValue(int id);  // 1..401 -> value; other ids -> NaN

struct Settings {
    int n = 7, rank = 2;
    double pMask = 0.3;
    QString distribution = "uniform";
    int batchSize = 256, evalBatchSize = 64;
    int generateItems = 8;     // probe items the snapshots generate greedily (49 forward passes each)
    int seqLen() const { return 2 * n * n + 1; }  // tokens of a full sequence; the model sees seqLen - 1
};
Settings settingsOf(const RunConfig& cfg);
DecoderDims dimsOf(const RunConfig& cfg);

const ExperimentInfo& info();

}  // namespace plateau::gptmc
