// A sweep with known drops for tests: point run folders written directly (no training), each a
// curve that sits at 0.1 and drops 100x at a chosen step over 40 steps (or never: drop < 0).
#pragma once

#include "config.h"
#include "run/run_store.h"
#include "sweep/sweep.h"

#include <QtTest>
#include <algorithm>
#include <cmath>

namespace plateau::test {

// A point's run folder with a curve that sits at 0.1 and drops 100x at `drop` over 40 steps.
inline void fakeRun(const Sweep& s, const SweepPoint& p, qint64 steps, qint64 drop) {
    auto cfg = s.pointConfig(p);
    QVERIFY2(cfg, qPrintable(cfg.error()));
    RunConfig c = cfg.value();
    c.train.steps = steps;
    auto store = RunStore::create(s.runDir(p), c);
    QVERIFY2(store, qPrintable(store.error()));
    std::vector<StepMetrics> rows;
    for (qint64 k = 1; k <= steps; ++k) {
        StepMetrics m;
        m.step = k;
        m.timeS = double(k) * 0.01;
        const double f = std::clamp(double(k - drop) / 40.0, 0.0, 1.0);
        const double v = drop < 0 ? 0.1 : 0.1 * std::pow(0.01, f);
        m.values.assign(store.value()->columns().size(), v * (1 + 0.01 * std::sin(double(k))));
        rows.push_back(m);
    }
    QVERIFY(store.value()->append(rows));
}

}  // namespace plateau::test
