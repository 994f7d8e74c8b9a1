#include "analysis/snapshot_schedule.h"

#include <algorithm>
#include <cmath>

namespace plateau {

int roundUpToNiceStep(double k) {
    if (!(k > 1)) return 1;
    double base = 1;
    while (true) {
        for (double m : {1.0, 2.0, 5.0})
            if (m * base >= k - 1e-9) return int(m * base);
        base *= 10;
        if (base > 1e8) return int(1e9);
    }
}

SnapshotSchedule::SnapshotSchedule(int every, double perSecond, double maxShare)
    : m_fixed(every), m_perSecond(perSecond), m_maxShare(maxShare), m_interval(every > 0 ? every : 1) {}

bool SnapshotSchedule::due(qint64 step, double stepMs) {
    if (m_fixed <= 0 && std::isfinite(stepMs) && stepMs > 0) {
        ++m_seen;
        const double a = m_seen < 20 ? 1.0 / m_seen : 0.05;  // mean of the first steps, then an EMA
        m_stepMsEma += a * (stepMs - m_stepMsEma);
        const double byRate = 1000.0 / (m_perSecond * m_stepMsEma);
        const double byCost = m_snapMsEma / (m_maxShare * m_stepMsEma);
        m_interval = roundUpToNiceStep(std::max(byRate, byCost));
    }
    return step % m_interval == 0;
}

void SnapshotSchedule::snapshotCost(double ms) {
    m_snapMsEma = m_snapMsEma == 0 ? ms : m_snapMsEma + 0.2 * (ms - m_snapMsEma);
}

SnapshotSaveSchedule::SnapshotSaveSchedule(int every, qint64 totalSteps, int perRun, int minInterval)
    : m_interval(every > 0 ? every
                           : std::max(minInterval, roundUpToNiceStep(std::max(1.0, double(totalSteps) / std::max(1, perRun))))) {}

bool SnapshotSaveSchedule::due(qint64 step) const {
    if (step <= 0) return false;
    if (step % m_interval == 0) return true;
    return step < m_interval && roundUpToNiceStep(double(step)) == step;
}

}  // namespace plateau
