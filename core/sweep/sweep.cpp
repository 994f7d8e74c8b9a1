#include "sweep/sweep.h"

#include "run/run_reader.h"
#include "run/run_store.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSaveFile>
#include <QSet>

#include <cmath>
#include <random>

namespace plateau {

namespace {
constexpr int kManifestFormat = 1;
constexpr int kMaxPoints = 10000;

bool looksInteger(const QString& s) {
    static const QRegularExpression re("^[+-]?[0-9]+$");
    return re.match(s.trimmed()).hasMatch();
}

Result<double> number(const QString& s, const QString& what) {
    bool ok = false;
    const double v = s.trimmed().toDouble(&ok);
    if (!ok || !std::isfinite(v)) return Error{what + ": \"" + s + "\" is not a number"};
    return v;
}

QString formatNumber(double v, bool integer) {
    return integer ? QString::number(qint64(std::llround(v))) : QString::number(v, 'g', 6);
}

// A uniform double in [0, 1) from the generator's 53 high bits (the same on every platform).
double unit(std::mt19937_64& rng) { return double(rng() >> 11) * (1.0 / 9007199254740992.0); }

// The short name of a key for folder names: its last component, unless another key shares it.
QString shortKey(const QString& key, const QStringList& keys) {
    const QString last = key.section('.', -1);
    int same = 0;
    for (const QString& k : keys) same += k.section('.', -1) == last ? 1 : 0;
    return same > 1 ? QString(key).replace('.', '-') : last;
}

QString safe(const QString& v) {
    QString out;
    for (QChar c : v) out += c.isLetterOrNumber() || c == '.' || c == '+' || c == '-' ? c : QChar('-');
    return out.isEmpty() ? QString("-") : out;
}

Status writeAtomically(const QString& path, const QByteArray& data) {
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly)) return Error{path + ": cannot write (" + f.errorString() + ")"};
    if (f.write(data) != data.size() || !f.commit()) return Error{path + ": cannot write (" + f.errorString() + ")"};
    return Status::success();
}
}  // namespace

QStringList SweepAxis::keys() const {
    QStringList out;
    for (const QString& k : key.split(',')) out << k.trimmed();
    return out;
}

std::vector<std::pair<QString, QString>> SweepAxis::assignments(const QString& v) const {
    const QStringList ks = keys();
    if (ks.size() == 1) return {{ks[0], v}};
    const QStringList parts = v.split('/');
    std::vector<std::pair<QString, QString>> out;
    for (int i = 0; i < ks.size(); ++i) out.emplace_back(ks[i], i < parts.size() ? parts[i].trimmed() : QString());
    return out;
}

QString SweepAxis::kindName(Kind k) {
    return k == Kind::Grid ? "grid" : k == Kind::Range ? "range" : "random";
}

Result<SweepAxis> parseSweepAxis(const QString& text, bool random, const QString& where) {
    const int eq = text.indexOf('=');
    SweepAxis a;
    a.key = eq > 0 ? text.left(eq).trimmed() : QString();
    a.spec = eq > 0 ? text.mid(eq + 1).trimmed() : QString();
    const QString form = random ? "key=lo:hi:N[:log]" : "key=v1,v2,... or key=a..b[:step]";
    if (a.key.isEmpty() || a.spec.isEmpty()) return Error{where + ": expected " + form + ", got \"" + text + "\""};
    const QString what = where + " " + a.key;
    const QStringList linked = a.keys();
    if (linked.size() > 1) {
        // A linked grid: several keys, one tuple "v1/v2/..." per value.
        for (const QString& k : linked)
            if (k.isEmpty()) return Error{what + ": an empty key in the linked keys \"" + a.key + "\""};
        if (random || a.spec.contains(".."))
            return Error{what + ": linked keys take a grid of value tuples (" + a.key + "=a1/b1,a2/b2,...), not a range or a random draw"};
    }
    if (random) {
        a.kind = SweepAxis::Kind::Random;
        const QStringList parts = a.spec.split(':');
        if (parts.size() < 3 || parts.size() > 4 || (parts.size() == 4 && parts[3] != "log"))
            return Error{what + ": expected lo:hi:N or lo:hi:N:log, got \"" + a.spec + "\""};
        auto lo = number(parts[0], what + " (lo)"), hi = number(parts[1], what + " (hi)");
        if (!lo) return Error{lo.error()};
        if (!hi) return Error{hi.error()};
        if (!(lo.value() <= hi.value())) return Error{what + ": lo " + parts[0] + " is above hi " + parts[1]};
        if (parts.size() == 4 && !(lo.value() > 0)) return Error{what + ": a log-uniform range needs lo > 0"};
        bool ok = false;
        const int n = parts[2].toInt(&ok);
        if (!ok || n < 1 || n > kMaxPoints)
            return Error{what + ": N must be an integer in 1.." + QString::number(kMaxPoints) + ", got \"" + parts[2] + "\""};
        return a;
    }
    const int dots = a.spec.indexOf("..");
    if (dots > 0 && !a.spec.contains(',')) {
        a.kind = SweepAxis::Kind::Range;
        const QString from = a.spec.left(dots), rest = a.spec.mid(dots + 2);
        const QString to = rest.section(':', 0, 0), stepText = rest.contains(':') ? rest.section(':', 1) : QString("1");
        auto lo = number(from, what + " (start)"), hi = number(to, what + " (end)"), step = number(stepText, what + " (step)");
        if (!lo) return Error{lo.error()};
        if (!hi) return Error{hi.error()};
        if (!step) return Error{step.error()};
        if (!(step.value() > 0)) return Error{what + ": the step must be above 0, got " + stepText};
        if (hi.value() < lo.value()) return Error{what + ": the range " + a.spec + " is empty (end below start)"};
        const bool integer = looksInteger(from) && looksInteger(to) && looksInteger(stepText);
        const double count = std::floor((hi.value() - lo.value()) / step.value() + 1e-9) + 1;
        if (count > kMaxPoints) return Error{what + ": " + a.spec + " gives more than " + QString::number(kMaxPoints) + " values"};
        for (int i = 0; i < int(count); ++i) a.values << formatNumber(lo.value() + i * step.value(), integer);
        return a;
    }
    a.kind = SweepAxis::Kind::Grid;
    QSet<QString> seen;
    for (const QString& v : a.spec.split(',')) {
        const QString t = v.trimmed();
        if (t.isEmpty()) return Error{what + ": an empty value in \"" + a.spec + "\""};
        if (seen.contains(t)) return Error{what + ": \"" + t + "\" is given twice"};
        if (linked.size() > 1 && t.split('/').size() != linked.size())
            return Error{what + ": \"" + t + "\" gives " + QString::number(t.split('/').size()) + " values for " +
                         QString::number(linked.size()) + " linked keys (write them as v1/v2/...)"};
        seen.insert(t);
        a.values << t;
    }
    return a;
}

QString SweepPoint::stateName(State s) {
    switch (s) {
    case State::Pending: return "pending";
    case State::Running: return "running";
    case State::Done: return "done";
    case State::Failed: return "failed";
    case State::Interrupted: return "interrupted";
    }
    return "pending";
}

Result<SweepPoint::State> SweepPoint::stateFromName(const QString& s) {
    for (State st : {State::Pending, State::Running, State::Done, State::Failed, State::Interrupted})
        if (stateName(st) == s) return st;
    return Error{"\"" + s + "\" is not a point state (pending, running, done, failed, interrupted)"};
}

QStringList SweepPoint::sets() const {
    QStringList out;
    for (const auto& [k, v] : params) out << k + "=" + v;
    return out;
}

Result<RunConfig> Sweep::pointConfig(const SweepPoint& p) const {
    auto cfg = configFromJson(base, basePath());
    if (!cfg) return Error{cfg.error()};
    RunConfig c = cfg.value();
    for (const QString& s : p.sets())
        if (Status st = applyOverride(c, s); !st) return Error{"sweep point " + p.name + ": " + st.error()};
    if (Status st = validateConfig(c, "sweep point " + p.name); !st) return Error{st.error()};
    return c;
}

int Sweep::find(const QString& nameOrIndex) const {
    bool ok = false;
    const int i = nameOrIndex.toInt(&ok);
    if (ok) return i >= 0 && i < int(points.size()) ? i : -1;
    for (const SweepPoint& p : points)
        if (p.name == nameOrIndex) return p.index;
    return -1;
}

QString Sweep::param(const SweepPoint& p, const QString& key) const {
    for (const auto& [k, v] : p.params)
        if (k == key) return v;
    return {};
}

QStringList Sweep::keys() const {
    QStringList out;
    for (const SweepAxis& a : axes) out << a.keys();
    return out;
}

QStringList Sweep::values(const QString& key) const {
    QStringList out;
    for (const SweepPoint& p : points) {
        const QString v = param(p, key);
        if (!v.isEmpty() && !out.contains(v)) out << v;
    }
    return out;
}

Result<Sweep> defineSweep(const QString& dir, const RunConfig& base, const QString& preset, const QString& configFile,
                          const QStringList& sets, std::vector<SweepAxis> axes, quint64 randomSeed) {
    if (dir.trimmed().isEmpty()) return Error{"sweep: --out DIR is empty"};
    Sweep s;
    s.dir = QDir(dir).absolutePath();
    s.preset = preset;
    s.configFile = configFile;
    s.sets = sets;
    s.base = base.toJson();
    s.randomSeed = randomSeed;
    if (axes.empty()) return Error{"sweep: give at least one --grid or --random axis"};
    const QStringList known = configKeys(base);
    QStringList keys;
    int samples = -1;
    for (const SweepAxis& a : axes) {
        for (const QString& k : a.keys()) {
            if (!known.contains(k))
                return Error{"sweep: \"" + k + "\" is not a config key of " + base.experiment + " (plateau-cli describe lists them)"};
            if (keys.contains(k)) return Error{"sweep: " + k + " is swept twice"};
            keys << k;
        }
        if (a.kind == SweepAxis::Kind::Random) {
            const int n = a.spec.section(':', 2, 2).toInt();
            if (samples >= 0 && n != samples)
                return Error{"sweep: the random axes draw " + QString::number(samples) + " and " + QString::number(n) +
                             " samples (" + a.key + "); they are drawn jointly and must agree on N"};
            samples = n;
        }
    }
    // Draw the random samples (jointly, in axis order within a sample) from the sweep's seed.
    std::mt19937_64 rng(randomSeed);
    for (int i = 0; i < std::max(samples, 0); ++i)
        for (SweepAxis& a : axes) {
            if (a.kind != SweepAxis::Kind::Random) continue;
            const QStringList parts = a.spec.split(':');
            const double lo = parts[0].toDouble(), hi = parts[1].toDouble(), u = unit(rng);
            const bool log = parts.size() == 4;
            if (log) a.values << formatNumber(std::exp(std::log(lo) + u * (std::log(hi) - std::log(lo))), false);
            else if (looksInteger(parts[0]) && looksInteger(parts[1]))
                a.values << formatNumber(std::min(hi, std::floor(lo + u * (hi - lo + 1))), true);
            else a.values << formatNumber(lo + u * (hi - lo), false);
        }
    s.axes = axes;
    // The grid (first axis slowest) crossed with the random samples.
    std::vector<int> gridAxes;
    double total = std::max(samples, 1);
    for (int i = 0; i < int(axes.size()); ++i)
        if (axes[std::size_t(i)].kind != SweepAxis::Kind::Random) {
            gridAxes.push_back(i);
            total *= double(axes[std::size_t(i)].values.size());
        }
    if (total > kMaxPoints) return Error{"sweep: " + QString::number(total, 'f', 0) + " points; at most " + QString::number(kMaxPoints)};
    std::vector<int> at(gridAxes.size(), 0);
    QSet<QString> names;
    for (int n = 0; n < int(total); ++n) {
        SweepPoint p;
        p.index = n;
        const int sample = samples > 0 ? n % samples : -1;
        int rest = samples > 0 ? n / samples : n;
        for (int g = int(gridAxes.size()) - 1; g >= 0; --g) {
            const int size = int(axes[std::size_t(gridAxes[std::size_t(g)])].values.size());
            at[std::size_t(g)] = rest % size;
            rest /= size;
        }
        int g = 0;
        for (int i = 0; i < int(axes.size()); ++i) {
            const SweepAxis& a = axes[std::size_t(i)];
            const QString v = a.kind == SweepAxis::Kind::Random ? a.values[sample] : a.values[at[std::size_t(g++)]];
            for (auto& kv : a.assignments(v)) p.params.push_back(std::move(kv));
        }
        QStringList parts;
        for (const auto& [k, v] : p.params) parts << shortKey(k, keys) + "-" + safe(v);
        p.name = parts.join('_');
        if (samples > 0) p.name += QString("_r%1").arg(sample);
        if (names.contains(p.name)) p.name += QString("_%1").arg(n);
        names.insert(p.name);
        s.points.push_back(p);
    }
    for (const SweepPoint& p : s.points)
        if (auto c = s.pointConfig(p); !c) return Error{c.error()};
    return s;
}

Result<SweepRequest> loadSweepFile(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return Error{path + ": cannot read (" + f.errorString() + ")"};
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        return Error{path + ": not a JSON object (" + pe.errorString() + " at offset " + QString::number(pe.offset) + ")"};
    const QJsonObject o = doc.object();
    SweepRequest r;
    for (auto it = o.begin(); it != o.end(); ++it) {
        const QString k = it.key();
        const QString field = path + ": " + k;
        if (k == "preset" || k == "config") {
            if (!it.value().isString()) return Error{field + ": expected a string"};
            QString v = it.value().toString();
            if (k == "config" && QFileInfo(v).isRelative()) v = QFileInfo(path).absoluteDir().filePath(v);
            (k == "preset" ? r.preset : r.configFile) = v;
        } else if (k == "set") {
            if (!it.value().isArray()) return Error{field + ": expected an array of \"key=value\" strings"};
            for (const QJsonValue& v : it.value().toArray()) {
                if (!v.isString()) return Error{field + ": expected an array of \"key=value\" strings"};
                r.sets << v.toString();
            }
        } else if (k == "grid" || k == "random") {
            if (!it.value().isObject()) return Error{field + ": expected an object of key: values"};
            const QJsonObject axes = it.value().toObject();
            for (auto a = axes.begin(); a != axes.end(); ++a) {
                QString spec;
                if (a.value().isArray() && k == "grid") {
                    // One scalar per value; a linked grid ("k1,k2") may give each value as an array.
                    auto scalar = [](const QJsonValue& v, QString* out) {
                        if (v.isString()) *out = v.toString();
                        else if (v.isBool()) *out = v.toBool() ? "true" : "false";
                        else if (v.isDouble())
                            *out = v.toDouble() == std::floor(v.toDouble()) && std::abs(v.toDouble()) < 1e15
                                       ? QString::number(qint64(v.toDouble()))
                                       : QString::number(v.toDouble(), 'g', 17);
                        else return false;
                        return true;
                    };
                    QStringList vals;
                    for (const QJsonValue& v : a.value().toArray()) {
                        QString one;
                        if (v.isArray() && a.key().contains(',')) {
                            QStringList tuple;
                            for (const QJsonValue& e : v.toArray()) {
                                if (!scalar(e, &one)) return Error{field + "." + a.key() + ": tuple values must be numbers, strings or booleans"};
                                tuple << one;
                            }
                            vals << tuple.join('/');
                        } else if (scalar(v, &one)) {
                            vals << one;
                        } else {
                            return Error{field + "." + a.key() + ": values must be numbers, strings or booleans" +
                                         (a.key().contains(',') ? QString(" (or arrays of them, one per linked key)") : QString())};
                        }
                    }
                    spec = vals.join(',');
                } else if (a.value().isString()) {
                    spec = a.value().toString();
                } else {
                    return Error{field + "." + a.key() + ": expected " + (k == "grid" ? "an array of values or \"a..b[:step]\"" : "\"lo:hi:N[:log]\"")};
                }
                (k == "grid" ? r.grids : r.randoms) << a.key() + "=" + spec;
            }
        } else if (k == "random_seed") {
            if (!it.value().isDouble() || it.value().toDouble() < 0 || it.value().toDouble() != std::floor(it.value().toDouble()))
                return Error{field + ": expected an integer >= 0"};
            r.randomSeed = quint64(it.value().toDouble());
        } else {
            return Error{field + ": unknown key (preset, config, set, grid, random, random_seed)"};
        }
    }
    if (!r.preset.isEmpty() && !r.configFile.isEmpty()) return Error{path + ": give \"preset\" or \"config\", not both"};
    if (r.preset.isEmpty() && r.configFile.isEmpty()) return Error{path + ": give \"preset\" or \"config\""};
    return r;
}

Status writeSweep(const Sweep& s) {
    for (const QString& d : {s.dir, s.dir + "/runs", s.dir + "/logs"})
        if (!QDir().mkpath(d)) return Error{d + ": cannot create the folder"};
    if (Status st = writeAtomically(s.basePath(), QJsonDocument(s.base).toJson(QJsonDocument::Indented)); !st) return st;
    QJsonArray axes, points;
    for (const SweepAxis& a : s.axes)
        axes.append(QJsonObject{{"key", a.key}, {"kind", SweepAxis::kindName(a.kind)}, {"spec", a.spec},
                                {"values", QJsonArray::fromStringList(a.values)}});
    for (const SweepPoint& p : s.points) {
        QJsonArray params;
        for (const auto& [k, v] : p.params) params.append(QJsonArray{k, v});
        QJsonObject o{{"index", p.index}, {"name", p.name}, {"params", params}, {"state", SweepPoint::stateName(p.state)}};
        if (!p.message.isEmpty()) o["message"] = p.message;
        points.append(o);
    }
    QJsonObject root{{"plateau_sweep", kManifestFormat}, {"preset", s.preset}, {"config_file", s.configFile},
                     {"set", QJsonArray::fromStringList(s.sets)}, {"random_seed", double(s.randomSeed)},
                     {"axes", axes}, {"points", points}, {"slurm", s.slurm}};
    if (s.stopAfterDrop >= 0) root["stop_after_drop"] = double(s.stopAfterDrop);
    return writeAtomically(s.manifestPath(), QJsonDocument(root).toJson(QJsonDocument::Indented));
}

bool isSweepDir(const QString& dir) { return QFileInfo(dir + "/sweep.json").isFile(); }

Result<Sweep> readSweep(const QString& dirIn) {
    Sweep s;
    s.dir = QDir(dirIn).absolutePath();
    const QString path = s.manifestPath();
    QFile f(path);
    if (!f.exists()) return Error{dirIn + ": not a sweep folder (no sweep.json)"};
    if (!f.open(QIODevice::ReadOnly)) return Error{path + ": cannot read (" + f.errorString() + ")"};
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        return Error{path + ": damaged (" + pe.errorString() + " at offset " + QString::number(pe.offset) + ")"};
    const QJsonObject o = doc.object();
    const int format = o.value("plateau_sweep").toInt(-1);
    if (format < 1) return Error{path + ": plateau_sweep: missing or not a format number"};
    if (format > kManifestFormat)
        return Error{path + ": sweep format " + QString::number(format) + " is newer than this Plateau reads (" +
                     QString::number(kManifestFormat) + ")"};
    s.preset = o.value("preset").toString();
    s.configFile = o.value("config_file").toString();
    for (const QJsonValue& v : o.value("set").toArray()) s.sets << v.toString();
    s.randomSeed = quint64(o.value("random_seed").toDouble());
    s.slurm = o.value("slurm").toArray();
    if (o.contains("stop_after_drop")) {
        const double k = o.value("stop_after_drop").toDouble(-1);
        if (!(k >= 0) || k != std::floor(k)) return Error{path + ": stop_after_drop: expected a step count >= 0"};
        s.stopAfterDrop = qint64(k);
    }
    const QJsonArray axes = o.value("axes").toArray();
    if (axes.isEmpty()) return Error{path + ": axes: missing or empty"};
    for (int i = 0; i < axes.size(); ++i) {
        const QJsonObject a = axes[i].toObject();
        SweepAxis ax;
        ax.key = a.value("key").toString();
        ax.spec = a.value("spec").toString();
        const QString kind = a.value("kind").toString();
        ax.kind = kind == "range" ? SweepAxis::Kind::Range : kind == "random" ? SweepAxis::Kind::Random : SweepAxis::Kind::Grid;
        if (ax.key.isEmpty() || (kind != "grid" && kind != "range" && kind != "random"))
            return Error{path + ": axes[" + QString::number(i) + "]: needs a key and a kind (grid, range, random)"};
        for (const QJsonValue& v : a.value("values").toArray()) ax.values << v.toString();
        s.axes.push_back(ax);
    }
    const QJsonArray points = o.value("points").toArray();
    if (points.isEmpty()) return Error{path + ": points: missing or empty"};
    for (int i = 0; i < points.size(); ++i) {
        const QJsonObject po = points[i].toObject();
        const QString where = path + ": points[" + QString::number(i) + "]";
        SweepPoint p;
        p.index = i;
        p.name = po.value("name").toString();
        if (p.name.isEmpty() || p.name.contains('/') || p.name.startsWith('.')) return Error{where + ".name: missing or not a folder name"};
        if (po.value("index").toInt(-1) != i) return Error{where + ".index: expected " + QString::number(i)};
        for (const QJsonValue& kv : po.value("params").toArray()) {
            const QJsonArray pair = kv.toArray();
            if (pair.size() != 2 || !pair[0].isString() || !pair[1].isString()) return Error{where + ".params: expected [key, value] pairs"};
            p.params.emplace_back(pair[0].toString(), pair[1].toString());
        }
        auto st = SweepPoint::stateFromName(po.value("state").toString("pending"));
        if (!st) return Error{where + ".state: " + st.error()};
        p.state = st.value();
        p.message = po.value("message").toString();
        s.points.push_back(p);
    }
    QFile b(s.basePath());
    if (!b.open(QIODevice::ReadOnly)) return Error{s.basePath() + ": cannot read the sweep's base config (" + b.errorString() + ")"};
    const QJsonDocument bd = QJsonDocument::fromJson(b.readAll(), &pe);
    if (pe.error != QJsonParseError::NoError || !bd.isObject()) return Error{s.basePath() + ": damaged (" + pe.errorString() + ")"};
    s.base = bd.object();
    if (auto c = configFromJson(s.base, s.basePath()); !c) return Error{c.error()};
    return s;
}

QString folderName(PointProgress::Folder f) {
    switch (f) {
    case PointProgress::Folder::Missing: return "not started";
    case PointProgress::Folder::Running: return "training";
    case PointProgress::Folder::Finished: return "finished";
    case PointProgress::Folder::Stopped: return "stopped";
    case PointProgress::Folder::Unreadable: return "unreadable";
    }
    return "?";
}

PointProgress pointProgress(const Sweep& s, const SweepPoint& p) {
    PointProgress out;
    const QString dir = s.runDir(p);
    if (!QFileInfo(dir).isDir()) return out;
    if (!QFileInfo::exists(dir + "/config.json")) {
        // Killed while the folder was being made: nothing to resume; the runner moves it aside.
        if (!QDir(dir).isEmpty()) out.folder = PointProgress::Folder::Stopped;
        return out;
    }
    for (const CheckpointFile& c : checkpointsIn(dir))
        if (checkpointLooksComplete(c.path)) out.resumable = true;
    auto store = RunStore::open(dir, true);
    if (!store) {
        out.folder = PointProgress::Folder::Unreadable;
        out.problem = store.error();
        return out;
    }
    out.stepsPlanned = store.value()->config().train.steps;
    auto last = store.value()->lastStep();
    if (!last) {
        out.folder = PointProgress::Folder::Unreadable;
        out.problem = last.error();
        return out;
    }
    out.stepsDone = last.value();
    if (runBeingWritten(dir)) out.folder = PointProgress::Folder::Running;
    else if (out.stepsDone >= out.stepsPlanned) out.folder = PointProgress::Folder::Finished;
    else if (stoppedAfterDropStep(dir) == out.stepsDone) {
        out.folder = PointProgress::Folder::Finished;  // stopped by request, K steps after its drop
        out.stoppedAfterDrop = true;
    }
    else out.folder = PointProgress::Folder::Stopped;
    return out;
}

}  // namespace plateau
