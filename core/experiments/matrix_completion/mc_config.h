// The matrix-completion experiment's task and model settings as typed structs, read from a
// RunConfig's task / model sections (whose fields mc_info.cpp declares). No torch: any thread.
#pragma once

#include "config.h"

namespace plateau::mc {

struct TaskConfig {
    int n = 7;                       // matrix side; sequence length T = n*n
    int rank = 2;                    // r: X = U V^T with U, V (n, r)
    double pMask = 0.3;              // per-entry mask probability
    QString distribution = "uniform";  // uniform U[-1,1] | gaussian N(0, 0.5^2) | laplace(0, 0.25)
    int batchSize = 256;
    int evalBatchSize = 64;          // fresh batch for the eval loss
    int seqLen() const { return n * n; }
};

struct ModelConfig {
    int layers = 4;
    int heads = 8;
    int width = 768;                 // d_model; head dim = width / heads
    int ffn = 3072;                  // intermediate size
    int maxPositions = 512;          // learned absolute position embeddings
    int vocabSize = 2002;            // fixed by the token scheme: MASK + 2001 values
    double initStd = 0.02;           // std of the N(0, s) initialisation (HF initializer_range)
    int headDim() const { return width / heads; }
};

TaskConfig taskOf(const RunConfig& cfg);
ModelConfig modelOf(const RunConfig& cfg);

// E[X_ij^2] of the task's (unrounded) distribution: the loss of predicting 0 everywhere. The
// copying plateau sits at p_mask times this.
double expectedSquare(const TaskConfig& task);
double expectedSquare(const QString& distribution, int rank);

// Parameter count of the BERT of a configuration without building it (HF BertModel + readout).
std::int64_t bertParameterCount(const ModelConfig& m);

}  // namespace plateau::mc
