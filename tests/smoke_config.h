// The smoke configuration of a registered experiment (its ExperimentInfo::smokePreset and
// smokeOverrides): what registry-driven tests train. A bad smoke configuration fails at once.
#pragma once

#include "config.h"
#include "experiment_info.h"

#include <QtTest>

inline plateau::RunConfig smokeConfig(const plateau::ExperimentInfo& e, qint64 steps) {
    using namespace plateau;
    auto c = loadPreset(e.smokePreset);
    if (!c) qFatal("%s: smoke preset: %s", qPrintable(e.id), qPrintable(c.error()));
    RunConfig cfg = c.value();
    for (const QString& o : e.smokeOverrides)
        if (Status s = applyOverride(cfg, o); !s) qFatal("%s: %s", qPrintable(e.id), qPrintable(s.error()));
    cfg.train.steps = steps;
    cfg.train.threads = 2;
    cfg.train.checkpointEvery = 0;
    cfg.train.snapshotSaveEvery = 5;
    if (Status s = validateConfig(cfg, e.id); !s) qFatal("%s", qPrintable(s.error()));
    if (cfg.experiment != e.id) qFatal("%s: smoke preset is of %s", qPrintable(e.id), qPrintable(cfg.experiment));
    return cfg;
}
