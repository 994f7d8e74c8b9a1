#include "session_model.h"

#include <algorithm>

namespace plateau {

SessionModel::SessionModel(QObject* parent) : QObject(parent) {}

void SessionModel::reset(const RunConfig& cfg, const QString& runDir, const std::vector<StepMetrics>& earlier,
                         const std::vector<MetricColumn>& columns) {
    m_cfg = cfg;
    m_runDir = runDir;
    m_hasRun = true;
    m_columns = columns.empty() ? cfg.info().columnsOf(cfg) : columns;
    m_references = cfg.info().references ? cfg.info().references(cfg) : std::vector<ReferenceLine>{};
    m_watched = columnIndex(cfg.info().detector.column);
    m_metrics = earlier;
    m_snapshots.clear();
    m_detection = {};
    m_current = -1;
    m_follow = true;
    emit runReset();
    emit metricsAppended(0);
    emit snapshotsChanged();
    emit currentChanged();
    emit detectionChanged();
}

int SessionModel::columnIndex(const QString& key) const {
    for (std::size_t i = 0; i < m_columns.size(); ++i)
        if (m_columns[i].key == key) return int(i);
    return -1;
}

double SessionModel::watchedValue(std::size_t row) const {
    if (row >= m_metrics.size() || m_watched < 0) return kNoValue;
    return detectorValue(m_cfg.info().detector, m_metrics[row].value(m_watched));
}

void SessionModel::appendMetrics(const std::vector<StepMetrics>& rows) {
    const std::size_t first = m_metrics.size();
    for (const StepMetrics& m : rows)
        if (m_metrics.empty() || m.step > m_metrics.back().step) m_metrics.push_back(m);
    if (m_metrics.size() > first) emit metricsAppended(first);
}

void SessionModel::appendSnapshot(const SnapshotPtr& s) {
    if (!s) return;
    if (!m_snapshots.empty() && m_snapshots.back()->step == s->step) m_snapshots.back() = s;
    else if (!m_snapshots.empty() && s->step < m_snapshots.back()->step) return;  // stale
    else m_snapshots.push_back(s);
    dropOldLiveSnapshots();
    emit snapshotsChanged();
    if (m_follow) {
        m_current = int(m_snapshots.size()) - 1;
        emit currentChanged();
    }
}

void SessionModel::insertSnapshots(const std::vector<SnapshotPtr>& snaps) {
    const SnapshotPtr cur = current();
    const std::size_t before = m_snapshots.size();
    auto byStep = [](const SnapshotPtr& a, const SnapshotPtr& b) { return a->step < b->step; };
    for (const SnapshotPtr& s : snaps) {
        if (!s) continue;
        auto it = std::lower_bound(m_snapshots.begin(), m_snapshots.end(), s, byStep);
        if (it == m_snapshots.end() || (*it)->step != s->step) m_snapshots.insert(it, s);
    }
    if (m_snapshots.size() == before) return;
    if (cur) m_current = int(std::find(m_snapshots.begin(), m_snapshots.end(), cur) - m_snapshots.begin());
    emit snapshotsChanged();
    emit currentChanged();  // same snapshot, new index
}

// Live snapshots that the run does not store are kept for the most recent kMaxLive only:
// memory stays bounded on long runs while every stored snapshot stays scrubbable.
void SessionModel::dropOldLiveSnapshots() {
    std::size_t live = 0;
    for (const SnapshotPtr& p : m_snapshots) live += p->saved ? 0 : 1;
    for (std::size_t i = 0; live > kMaxLive && i + 1 < m_snapshots.size();) {
        if (m_snapshots[i]->saved || int(i) == m_current) { ++i; continue; }
        m_snapshots.erase(m_snapshots.begin() + std::ptrdiff_t(i));
        if (int(i) < m_current) --m_current;
        --live;
    }
}

void SessionModel::setDetection(const DropDetection& d) {
    m_detection = d;
    emit detectionChanged();
}

SnapshotPtr SessionModel::current() const {
    if (m_current < 0 || m_current >= int(m_snapshots.size())) return nullptr;
    return m_snapshots[std::size_t(m_current)];
}

void SessionModel::setCurrentIndex(int index) {
    if (m_snapshots.empty()) return;
    index = std::clamp(index, 0, int(m_snapshots.size()) - 1);
    m_follow = index == int(m_snapshots.size()) - 1 && m_follow;
    if (index == m_current) return;
    m_current = index;
    emit currentChanged();
}

void SessionModel::setFollowLive(bool on) {
    m_follow = on;
    if (on && !m_snapshots.empty() && m_current != int(m_snapshots.size()) - 1) {
        m_current = int(m_snapshots.size()) - 1;
        emit currentChanged();
    }
}

}  // namespace plateau
