// RunConfig: every setting of a run, parsed from JSON (a preset or a user file), overridable
// field by field (`--set model.width=128`), validated with messages that name file and field.
// Plain data; copy freely between threads.
#pragma once

#include "result.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <cstdint>

namespace plateau {

struct TaskConfig {
    QString name = "matrix_completion";
    int n = 7;                       // matrix side; sequence length T = n*n
    int rank = 2;                    // r: X = U V^T with U, V (n, r)
    double pMask = 0.3;              // per-entry mask probability
    QString distribution = "uniform";  // uniform U[-1,1] | gaussian N(0, 0.5^2) | laplace(0, 0.25)
    int batchSize = 256;
    int evalBatchSize = 64;          // fresh batch for the eval loss
};

struct ModelConfig {
    int layers = 4;
    int heads = 8;
    int width = 768;                 // d_model; head dim = width / heads
    int ffn = 3072;                  // intermediate size
    int maxPositions = 512;          // learned absolute position embeddings
    int vocabSize = 2002;            // fixed by the token scheme: MASK + 2001 values
    double initStd = 0.02;           // std of the N(0, s) initialisation (HF initializer_range)
};

struct OptimConfig {
    QString name = "adam";           // adam (L2 decay in the gradient) | adamw (decoupled)
    double lr = 1e-4;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weightDecay = 0.0;        // weight matrices outside attention (embeddings, FFN, readout)
    double attnWeightDecay = 0.0;    // Q, K, V and attention-output weight matrices
    bool decayBiasesAndNorms = false;  // if false biases and LayerNorm parameters get no decay
    int warmupSteps = 0;             // linear warm-up from 0 to lr
    QString schedule = "constant";   // constant | cosine (after warm-up, down to minLrRatio*lr)
    double minLrRatio = 0.0;
    qint64 decayStart = 0;           // cosine: constant lr until this step, then the cosine to the end
                                     // (0 = decay from the end of warm-up)
    double gradClip = 0.0;           // max global gradient L2 norm; 0 = off
};

struct TrainConfig {
    qint64 steps = 50000;
    qint64 seed = 1;                 // initialisation (and, unless dataSeed is set, the data)
    qint64 dataSeed = -1;            // seed of the training/eval/probe data; -1 = the same as seed
    int threads = 0;                 // 0 = all cores (resolved and recorded at run start)
    int evalEvery = 1;               // eval loss on a fresh batch every k steps (1 = every step)
    int checkpointEvery = 1000;      // full checkpoint every k steps (plus the last one)
    int keepCheckpoints = 0;         // keep only the newest k checkpoints; 0 = keep all
    int printEvery = 100;            // CLI progress line every k steps
    int snapshotEvery = 0;           // GUI snapshot every k steps; 0 = about 5 per second
    int probeSize = 64;              // matrices in the fixed probe batch of the snapshots
    int snapshotSaveEvery = 0;       // snapshot stored in the run (for scrubbing) every k steps; 0 = ~250 per run
};

struct RunConfig {
    QString preset;                  // name of the preset it started from ("" if none)
    QString description;
    TaskConfig task;
    ModelConfig model;
    OptimConfig optim;
    TrainConfig train;

    int seqLen() const { return task.n * task.n; }
    int headDim() const { return model.width / model.heads; }
    // The seed the data streams are drawn from (train.data_seed, or train.seed when it is -1).
    qint64 dataSeed() const { return train.dataSeed >= 0 ? train.dataSeed : train.seed; }

    // Full config as JSON (all fields, nested by section).
    QJsonObject toJson() const;
};

// E[X_ij^2] of the task's (unrounded) distribution: the loss of predicting 0 everywhere. The
// copying plateau sits at p_mask times this.
double expectedSquare(const TaskConfig& task);

// Parses a JSON object over `base`; unknown keys and bad values are errors naming
// `source` (a file name or "preset X") and the dotted field path.
Result<RunConfig> configFromJson(const QJsonObject& obj, const QString& source,
                                 const RunConfig& base = RunConfig{});
// Reads and parses a JSON config file.
Result<RunConfig> loadConfigFile(const QString& path);
// Loads a built-in preset from resources/presets (compiled in).
Result<RunConfig> loadPreset(const QString& name);
QStringList presetNames();
// Applies "section.key=value" (value parsed as JSON if it can be, else as a string). Cross-field
// checks are left to validateConfig() so several overrides can be applied in any order.
Status applyOverride(RunConfig& cfg, const QString& assignment);
// Cross-field checks (width divisible by heads, n*n <= positions, ...).
Status validateConfig(const RunConfig& cfg, const QString& source);
// Every dotted key a config accepts, in order.
QStringList configKeys();

}  // namespace plateau
