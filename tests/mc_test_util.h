// Helpers for the tests that train matrix completion through the generic Trainer: its experiment,
// its metric columns by name, and config fields set by key (a bad key fails the test at once).
#pragma once

#include <torch/torch.h>

#include "config.h"
#include "experiments/matrix_completion/mc_experiment.h"
#include "metrics.h"
#include "train/trainer.h"

#include <QtTest>

inline plateau::McExperiment& mcOf(plateau::Trainer& t) { return static_cast<plateau::McExperiment&>(t.experiment()); }
inline double lossOf(const plateau::StepMetrics& m) { return m.values[plateau::McExperiment::Loss]; }
inline double lossObsOf(const plateau::StepMetrics& m) { return m.values[plateau::McExperiment::LossObs]; }
inline double lossMaskOf(const plateau::StepMetrics& m) { return m.values[plateau::McExperiment::LossMask]; }
inline double evalLossOf(const plateau::StepMetrics& m) { return m.values[plateau::McExperiment::EvalLoss]; }

inline void setField(plateau::RunConfig& c, const QString& key, const QJsonValue& v) {
    const plateau::Status s = c.set(key, v);
    if (!s) qFatal("%s", qPrintable(s.error()));
}
