// SnapshotBuilder: turns the model at the current step into an immutable Snapshot (attention
// maps, predictions, spectra) on a fixed probe batch, so frames are comparable over time. Runs on
// the training thread (it calls the model and caches the probe batch: one thread); the Snapshot
// it returns is plain data.
#pragma once

#include "config.h"
#include "result.h"
#include "snapshot.h"

#include <memory>

namespace plateau {

class BertEncoderImpl;

class SnapshotBuilder {
public:
    // probeCount matrices from the run's probe stream (DataStream::Probe, counter 0).
    SnapshotBuilder(const RunConfig& cfg, int probeCount);
    ~SnapshotBuilder();

    // Checks a probe spec against the task (mask size, row mask defined for n >= 7).
    Status validate(const ProbeSpec& spec) const;
    // saved: marks the snapshot as one stored in the run (Snapshot::saved).
    std::shared_ptr<const Snapshot> build(BertEncoderImpl& model, qint64 step, double timeS,
                                          const ProbeSpec& spec, bool saved = false) const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

// Decides when the training loop builds a snapshot: every `every` steps if given (> 0), else
// automatically about `perSecond` times per second of training, never spending more than
// `maxShare` of the training time on snapshots. Steps between snapshots are kept to 1, 2, 5 x 10^k
// so that frames fall on round steps. Plain data, one thread.
class SnapshotSchedule {
public:
    explicit SnapshotSchedule(int every = 0, double perSecond = 5.0, double maxShare = 0.03);
    // After step `step` took stepMs: is a snapshot due?
    bool due(qint64 step, double stepMs);
    // Reports what the last snapshot cost (auto mode adapts to it).
    void snapshotCost(double ms);
    int interval() const { return m_interval; }

private:
    int m_fixed;
    double m_perSecond, m_maxShare;
    int m_interval = 1;
    double m_stepMsEma = 0, m_snapMsEma = 0;
    int m_seen = 0;
};

int roundUpToNiceStep(double k);  // 1, 2, 5, 10, 20, 50, ...

// Which steps' snapshots are stored in the run directory (so that scrubbing a finished run never
// recomputes anything): every `every` steps, or with every = 0 about `perRun` over totalSteps
// (rounded up to 1, 2, 5 x 10^k) but never more often than every `minInterval` steps, so that
// short runs do not spend more than ~1 % of their time on it (a snapshot costs a few steps'
// forward passes; headless runs store them too); plus the round steps 1, 2, 5, 10, 20, ... below that interval,
// because the copying phase is learnt in the first hundreds of steps. The run's last step is
// stored too (TrainingSession does that when it ends).
class SnapshotSaveSchedule {
public:
    SnapshotSaveSchedule(int every, qint64 totalSteps, int perRun = 250, int minInterval = 50);
    bool due(qint64 step) const;
    int interval() const { return m_interval; }

private:
    int m_interval;
};

}  // namespace plateau
