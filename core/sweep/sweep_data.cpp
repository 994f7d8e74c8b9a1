#include "sweep/sweep_data.h"

#include "config.h"
#include "experiment_info.h"
#include "parallel_indices.h"
#include "run/run_store.h"

#include <QFileInfo>

#include <algorithm>
#include <cmath>

namespace plateau {

const DropEvent* SweepRun::drop() const {
    for (const DropEvent& d : detection.drops)
        if (d.complete) return &d;
    return nullptr;
}

int SweepRun::column(const QString& key) const {
    for (std::size_t c = 0; c < columns.size(); ++c)
        if (columns[c].key == key) return int(c);
    return -1;
}

double SweepRun::finalValue(const QString& key) const {
    const int c = column(key);
    if (c < 0) return NAN;
    std::vector<double> v;
    std::size_t finite = 0;
    for (const StepMetrics& m : rows) finite += std::isfinite(m.value(c)) ? 1 : 0;
    const std::size_t want = std::max<std::size_t>(1, std::min<std::size_t>(200, finite / 20));
    for (auto it = rows.rbegin(); it != rows.rend() && v.size() < want; ++it)
        if (std::isfinite(it->value(c))) v.push_back(it->value(c));
    if (v.empty()) return NAN;
    std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(v.size() / 2), v.end());
    return v[v.size() / 2];
}

SweepData::~SweepData() = default;

Result<std::unique_ptr<SweepData>> SweepData::open(const QString& dir) {
    auto s = readSweep(dir);
    if (!s) return Error{s.error()};
    std::unique_ptr<SweepData> d(new SweepData);
    d->m_sweep = std::move(s.value());
    d->m_wanted = QStringList{d->detectorColumn()};
    d->m_runs.resize(d->m_sweep.points.size());
    d->m_stores.resize(d->m_sweep.points.size());
    for (std::size_t i = 0; i < d->m_runs.size(); ++i) d->m_runs[i].point = &d->m_sweep.points[i];
    d->loadAll();
    return d;
}

void SweepData::loadAll() {
    for (auto& st : m_stores) st.reset();  // connections of this thread, closed here
    for (SweepRun& r : m_runs) r.rows.clear();
    // Each point is read and its store closed on the worker that takes it (a SQLite connection
    // is used only by the thread that opened it); load(i) touches only point i's state.
    forEachIndexInParallel(m_runs.size(), 8, [this](std::size_t i) {
        load(i);
        m_stores[i].reset();
    });
}

// Opens the point's run if it exists and reads its new rows; re-runs its detection when rows came.
bool SweepData::load(std::size_t i) {
    SweepRun& r = m_runs[i];
    const SweepPoint& p = *r.point;
    const PointProgress before = r.progress;
    r.progress = pointProgress(m_sweep, p);
    if (!m_stores[i]) {
        if (!QFileInfo::exists(m_sweep.runDir(p) + "/config.json")) return false;
        auto store = RunStore::open(m_sweep.runDir(p), true);
        if (!store) {
            r.problem = store.error();
            return true;
        }
        m_stores[i] = std::move(store.value());
        r.columns = m_stores[i]->columns();
        r.problem.clear();
    }
    auto rows = m_stores[i]->readMetrics(r.rows.empty() ? -1 : r.rows.back().step, &m_wanted);
    if (!rows) {
        r.problem = rows.error();
        return true;
    }
    if (rows->empty()) return before.folder != r.progress.folder;
    r.rows.insert(r.rows.end(), rows->begin(), rows->end());
    const RunConfig& cfg = m_stores[i]->config();
    r.detection = detectOnRows(r.rows, r.columns, cfg.info().detector, cfg.train.steps);
    return true;
}

void SweepData::want(const QString& key) {
    if (key.isEmpty() || m_wanted.contains(key)) return;
    m_wanted << key;
    loadAll();
}

bool SweepData::refresh() {
    bool changed = false;
    for (std::size_t i = 0; i < m_runs.size(); ++i)
        if (m_runs[i].progress.folder != PointProgress::Folder::Finished) changed = load(i) || changed;  // finished: read in full
    return changed;
}

QStringList SweepData::columnKeys() const {
    QStringList keys;
    for (const SweepRun& r : m_runs)
        for (const MetricColumn& c : r.columns)
            if (!keys.contains(c.key)) keys << c.key;
    return keys;
}

QString SweepData::detectorColumn() const {
    auto cfg = configFromJson(m_sweep.base, m_sweep.basePath());
    return cfg ? cfg->info().detector.column : QString();
}

QString SweepData::columnLabel(const QString& key) const {
    for (const SweepRun& r : m_runs)
        for (const MetricColumn& c : r.columns)
            if (c.key == key) return c.label;
    return key;
}

bool SweepData::columnLog(const QString& key) const {
    for (const SweepRun& r : m_runs)
        for (const MetricColumn& c : r.columns)
            if (c.key == key) return c.logAxis;
    return true;
}

bool SweepData::anyRunning() const {
    for (const SweepRun& r : m_runs)
        if (r.progress.folder != PointProgress::Folder::Finished) return true;
    return false;
}

QStringList SweepData::valuesOf(const QString& key) const {
    QStringList v;
    for (const SweepPoint& p : m_sweep.points) {
        const QString x = m_sweep.param(p, key);
        if (!v.contains(x)) v << x;
    }
    bool numeric = true;
    for (const QString& x : v) {
        bool ok = false;
        x.toDouble(&ok);
        numeric = numeric && ok;
    }
    if (numeric) std::sort(v.begin(), v.end(), [](const QString& a, const QString& b) { return a.toDouble() < b.toDouble(); });
    return v;
}

}  // namespace plateau
