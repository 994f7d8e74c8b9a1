// When snapshots are built: SnapshotSchedule for the GUI's live frames (about 5 per second,
// capped at a share of training time), SnapshotSaveSchedule for the ones stored in the run (for
// scrubbing). Plain data, no torch; one thread each.
#pragma once

#include <QtGlobal>

namespace plateau {

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
