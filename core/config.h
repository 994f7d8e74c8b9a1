// RunConfig: every setting of a run, parsed from JSON (a preset or a user file), overridable
// field by field (`--set model.width=128`), validated with messages that name file and field.
// The `experiment` key chooses the experiment (absent = matrix_completion, so every run written
// before experiments existed reads as before); its `task` and `model` sections are the fields that
// experiment declares (experiment_info.h); `optim` and `train` are common to all. Plain data; copy
// freely between threads.
#pragma once

#include "params.h"
#include "result.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <cstdint>

namespace plateau {

struct ExperimentInfo;

struct OptimConfig {
    QString name = "adam";           // adam (L2 decay in the gradient) | adamw (decoupled) | sgd
    double lr = 1e-4;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double momentum = 0.0;           // sgd: heavy-ball momentum (PyTorch's SGD, no dampening); 0 = plain
    // Weight decay per parameter role (the experiment gives each parameter its role). -1 = inherit.
    double weightDecay = 0.0;        // matrices outside attention, unless their role's own field is set
    double attnWeightDecay = 0.0;    // attention matrices (Q, K, V and the attention output)
    double mlpWeightDecay = -1;      // MLP matrices; -1 = weight_decay
    double embeddingWeightDecay = -1;  // token / position embeddings; -1 = weight_decay
    double readoutWeightDecay = -1;  // the output head; -1 = weight_decay
    double normWeightDecay = -1;     // biases and norm parameters; -1 = 0, or their group's decay if
                                     // decay_biases_and_norms
    bool decayBiasesAndNorms = false;  // see norm_weight_decay
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
    QString precision = "fp32";      // fp32 | bf16 | auto (resolved and recorded at run start; precision.h)
    int evalEvery = 1;               // the experiment's evaluation every k steps (1 = every step)
    int checkpointEvery = 1000;      // full checkpoint every k steps (plus the last one)
    std::vector<qint64> checkpointSteps;  // also these steps (an analysis's chosen checkpoints, e.g. the paper's)
    int keepCheckpoints = 0;         // keep only the newest k checkpoints; 0 = keep all
    int printEvery = 100;            // CLI progress line every k steps
    int snapshotEvery = 0;           // GUI snapshot every k steps; 0 = about 5 per second
    int probeSize = 64;              // sequences / matrices in the fixed probe batch of the snapshots
    int snapshotSaveEvery = 0;       // snapshot stored in the run (for scrubbing) every k steps; 0 = ~250 per run
    // Component-wise training (the paper's Fig 8): start from another run's checkpoint
    // ("RUN_DIR" = its last, or "RUN_DIR:STEP"), train only one component with every other
    // parameter frozen, that component reinitialised first if `reinit`.
    QString from;                    // "" = a fresh model
    QString trainOnly;               // "" = everything; embeddings | tokens | positions | attention | mlp | readout
    bool reinit = false;
};

// The components train.train_only may name.
const QStringList& trainComponents();
// The checkpoint train.from names (its file), checked to exist; errors name `source` and the field.
Result<QString> sourceCheckpoint(const TrainConfig& t, const QString& source);

struct RunConfig {
    RunConfig();  // the default experiment (matrix_completion) with its defaults
    QString experiment;              // the experiment's id (experiment_info.h)
    QString preset;                  // name of the preset it started from ("" if none)
    QString description;
    ParamSet task;                   // the experiment's task fields
    ParamSet model;                  // the experiment's model fields
    OptimConfig optim;
    TrainConfig train;

    // The seed the data streams are drawn from (train.data_seed, or train.seed when it is -1).
    qint64 dataSeed() const { return train.dataSeed >= 0 ? train.dataSeed : train.seed; }
    // The experiment's description (never null for a config that parsed).
    const ExperimentInfo& info() const;

    // Full config as JSON (all fields, nested by section).
    QJsonObject toJson() const;
    // Sets one field ("section.key") to a JSON value, checked as a config file's would be.
    Status set(const QString& key, const QJsonValue& value);
};

// The experiment's defaults (its task and model fields) with the common optim/train defaults.
Result<RunConfig> defaultConfig(const QString& experiment);

// Parses a JSON object over `base`; unknown keys and bad values are errors naming
// `source` (a file name or "preset X") and the dotted field path. An "experiment" different from
// base's starts the task and model sections from that experiment's defaults.
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
// Cross-field checks: the common ones and the experiment's own.
Status validateConfig(const RunConfig& cfg, const QString& source);
// Every dotted key a config of this experiment accepts, in order.
QStringList configKeys(const RunConfig& cfg);

}  // namespace plateau
