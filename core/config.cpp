// Field table driven JSON parsing, so parsing, --set overrides, key listing and serialisation
// share one definition of every field and its valid range.
#include "config.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QDir>
#include <cmath>
#include <functional>
#include <limits>

namespace plateau {
namespace {

enum class Kind { Int, Double, String, Bool };

struct Field {
    QString key;  // "section.name"
    Kind kind;
    double min = -std::numeric_limits<double>::infinity();
    double max = std::numeric_limits<double>::infinity();
    QStringList choices;  // for strings; empty = free text
    std::function<QJsonValue(const RunConfig&)> get;
    std::function<void(RunConfig&, const QJsonValue&)> set;
};

#define PL_INT(KEY, MEMBER, LO, HI)                                                   \
    Field{KEY, Kind::Int, LO, HI, {},                                                 \
          [](const RunConfig& c) { return QJsonValue(double(c.MEMBER)); },           \
          [](RunConfig& c, const QJsonValue& v) { c.MEMBER = decltype(c.MEMBER)(v.toDouble()); }}
#define PL_DBL(KEY, MEMBER, LO, HI)                                                   \
    Field{KEY, Kind::Double, LO, HI, {},                                              \
          [](const RunConfig& c) { return QJsonValue(c.MEMBER); },                   \
          [](RunConfig& c, const QJsonValue& v) { c.MEMBER = v.toDouble(); }}
#define PL_STR(KEY, MEMBER, CHOICES)                                                  \
    Field{KEY, Kind::String, 0, 0, CHOICES,                                           \
          [](const RunConfig& c) { return QJsonValue(c.MEMBER); },                   \
          [](RunConfig& c, const QJsonValue& v) { c.MEMBER = v.toString(); }}
#define PL_BOOL(KEY, MEMBER)                                                          \
    Field{KEY, Kind::Bool, 0, 0, {},                                                  \
          [](const RunConfig& c) { return QJsonValue(c.MEMBER); },                   \
          [](RunConfig& c, const QJsonValue& v) { c.MEMBER = v.toBool(); }}

const std::vector<Field>& fields() {
    static const std::vector<Field> table = {
        PL_STR("preset", preset, QStringList{}),
        PL_STR("description", description, QStringList{}),
        PL_STR("task.name", task.name, QStringList{"matrix_completion"}),
        PL_INT("task.n", task.n, 2, 22),
        PL_INT("task.rank", task.rank, 1, 22),
        PL_DBL("task.p_mask", task.pMask, 0.0, 1.0),
        PL_STR("task.distribution", task.distribution,
               (QStringList{"uniform", "gaussian", "laplace"})),
        PL_INT("task.batch_size", task.batchSize, 1, 1 << 16),
        PL_INT("task.eval_batch_size", task.evalBatchSize, 1, 1 << 16),
        PL_INT("model.layers", model.layers, 1, 64),
        PL_INT("model.heads", model.heads, 1, 256),
        PL_INT("model.width", model.width, 1, 16384),
        PL_INT("model.ffn", model.ffn, 1, 65536),
        PL_INT("model.max_positions", model.maxPositions, 1, 8192),
        PL_INT("model.vocab_size", model.vocabSize, 2002, 2002),
        PL_DBL("model.init_std", model.initStd, 1e-6, 1.0),
        PL_STR("optim.name", optim.name, (QStringList{"adam", "adamw"})),
        PL_DBL("optim.lr", optim.lr, 0.0, 10.0),
        PL_DBL("optim.beta1", optim.beta1, 0.0, 0.999999),
        PL_DBL("optim.beta2", optim.beta2, 0.0, 0.99999999),
        PL_DBL("optim.eps", optim.eps, 0.0, 1.0),
        PL_DBL("optim.weight_decay", optim.weightDecay, 0.0, 100.0),
        PL_DBL("optim.attn_weight_decay", optim.attnWeightDecay, 0.0, 100.0),
        PL_BOOL("optim.decay_biases_and_norms", optim.decayBiasesAndNorms),
        PL_INT("optim.warmup_steps", optim.warmupSteps, 0, 1e9),
        PL_STR("optim.schedule", optim.schedule, (QStringList{"constant", "cosine"})),
        PL_DBL("optim.min_lr_ratio", optim.minLrRatio, 0.0, 1.0),
        PL_INT("optim.decay_start", optim.decayStart, 0, 1e12),
        PL_DBL("optim.grad_clip", optim.gradClip, 0.0, 1e9),
        PL_INT("train.steps", train.steps, 0, 1e12),
        PL_INT("train.seed", train.seed, 0, 9007199254740991.0),
        PL_INT("train.data_seed", train.dataSeed, -1, 9007199254740991.0),
        PL_INT("train.threads", train.threads, 0, 1024),
        PL_INT("train.eval_every", train.evalEvery, 0, 1e9),
        PL_INT("train.checkpoint_every", train.checkpointEvery, 0, 1e9),
        PL_INT("train.keep_checkpoints", train.keepCheckpoints, 0, 1e9),
        PL_INT("train.print_every", train.printEvery, 1, 1e9),
        PL_INT("train.snapshot_every", train.snapshotEvery, 0, 1e9),
        PL_INT("train.probe_size", train.probeSize, 1, 4096),
        PL_INT("train.snapshot_save_every", train.snapshotSaveEvery, 0, 1e9),
    };
    return table;
}

QString kindName(Kind k) {
    switch (k) {
    case Kind::Int: return "an integer";
    case Kind::Double: return "a number";
    case Kind::String: return "a string";
    case Kind::Bool: return "true or false";
    }
    return {};
}

QString shown(const QJsonValue& v) {
    if (v.isString()) return "\"" + v.toString() + "\"";
    if (v.isDouble()) return QString::number(v.toDouble(), 'g', 17);
    if (v.isBool()) return v.toBool() ? "true" : "false";
    if (v.isNull()) return "null";
    if (v.isArray()) return "an array";
    if (v.isObject()) return "an object";
    return "nothing";
}

Status setField(RunConfig& cfg, const Field& f, const QJsonValue& v, const QString& source) {
    const QString where = source + ": " + f.key + ": ";
    switch (f.kind) {
    case Kind::Int: {
        if (!v.isDouble() || std::floor(v.toDouble()) != v.toDouble())
            return Error{where + "expected " + kindName(f.kind) + ", got " + shown(v)};
        break;
    }
    case Kind::Double:
        if (!v.isDouble() || !std::isfinite(v.toDouble()))
            return Error{where + "expected " + kindName(f.kind) + ", got " + shown(v)};
        break;
    case Kind::String:
        if (!v.isString())
            return Error{where + "expected " + kindName(f.kind) + ", got " + shown(v)};
        if (!f.choices.isEmpty() && !f.choices.contains(v.toString()))
            return Error{where + "must be one of " + f.choices.join(", ") + ", got " + shown(v)};
        break;
    case Kind::Bool:
        if (!v.isBool())
            return Error{where + "expected " + kindName(f.kind) + ", got " + shown(v)};
        break;
    }
    if (f.kind == Kind::Int || f.kind == Kind::Double) {
        const double d = v.toDouble();
        if (d < f.min || d > f.max)
            return Error{where + "must be in [" + QString::number(f.min, 'g', 17) + ", " +
                         QString::number(f.max, 'g', 17) + "], got " + shown(v)};
    }
    f.set(cfg, v);
    return Status::success();
}

const Field* findField(const QString& key) {
    for (const Field& f : fields())
        if (f.key == key) return &f;
    return nullptr;
}

QStringList sectionNames() {
    QStringList out;
    for (const Field& f : fields()) {
        const int dot = f.key.indexOf('.');
        if (dot > 0 && !out.contains(f.key.left(dot))) out << f.key.left(dot);
    }
    return out;
}

}  // namespace

double expectedSquare(const TaskConfig& t) {
    // E[X_ij^2] = r * E[u^2] * E[v^2] for independent zero-mean factors.
    double m2 = 1.0 / 3.0;                                // U[-1, 1]
    if (t.distribution == "gaussian") m2 = 0.25;          // N(0, 0.5^2)
    if (t.distribution == "laplace") m2 = 2 * 0.25 * 0.25;  // Laplace(0, b): 2 b^2
    return t.rank * m2 * m2;
}

QStringList configKeys() {
    QStringList keys;
    for (const Field& f : fields()) keys << f.key;
    return keys;
}

QJsonObject RunConfig::toJson() const {
    QJsonObject root;
    QHash<QString, QJsonObject> sections;
    for (const Field& f : fields()) {
        const int dot = f.key.indexOf('.');
        if (dot < 0) {
            root[f.key] = f.get(*this);
        } else {
            sections[f.key.left(dot)][f.key.mid(dot + 1)] = f.get(*this);
        }
    }
    for (auto it = sections.begin(); it != sections.end(); ++it) root[it.key()] = it.value();
    return root;
}

Result<RunConfig> configFromJson(const QJsonObject& obj, const QString& source,
                                 const RunConfig& base) {
    RunConfig cfg = base;
    const QStringList sections = sectionNames();
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        const QString& key = it.key();
        if (sections.contains(key)) {
            if (!it.value().isObject())
                return Error{source + ": " + key + ": expected an object, got " + shown(it.value())};
            const QJsonObject sub = it.value().toObject();
            for (auto jt = sub.begin(); jt != sub.end(); ++jt) {
                const Field* f = findField(key + "." + jt.key());
                if (!f) return Error{source + ": " + key + "." + jt.key() + ": unknown key"};
                if (Status s = setField(cfg, *f, jt.value(), source); !s) return Error{s.error()};
            }
        } else if (key == "versions" || key == "resolved") {
            continue;  // written by Plateau into a run's config.json; informational only
        } else {
            const Field* f = findField(key);
            if (!f) return Error{source + ": " + key + ": unknown key"};
            if (Status s = setField(cfg, *f, it.value(), source); !s) return Error{s.error()};
        }
    }
    if (Status s = validateConfig(cfg, source); !s) return Error{s.error()};
    return cfg;
}

Status validateConfig(const RunConfig& c, const QString& source) {
    const QString p = source + ": ";
    if (c.model.width % c.model.heads != 0)
        return Error{p + "model.width: " + QString::number(c.model.width) +
                     " is not divisible by model.heads = " + QString::number(c.model.heads)};
    if (c.task.n * c.task.n > c.model.maxPositions)
        return Error{p + "task.n: n*n = " + QString::number(c.task.n * c.task.n) +
                     " tokens exceed model.max_positions = " + QString::number(c.model.maxPositions)};
    if (c.task.rank > c.task.n)
        return Error{p + "task.rank: " + QString::number(c.task.rank) + " exceeds task.n = " +
                     QString::number(c.task.n)};
    if (c.optim.warmupSteps > 0 && c.train.steps > 0 && c.optim.warmupSteps > c.train.steps)
        return Error{p + "optim.warmup_steps: " + QString::number(c.optim.warmupSteps) +
                     " exceeds train.steps = " + QString::number(c.train.steps)};
    if (c.optim.schedule == "cosine" && c.train.steps > 0 && c.optim.decayStart >= c.train.steps)
        return Error{p + "optim.decay_start: " + QString::number(c.optim.decayStart) +
                     " is not before train.steps = " + QString::number(c.train.steps) + " (no decay would happen)"};
    return Status::success();
}

Result<RunConfig> loadConfigFile(const QString& path) {
    QFile file(path);
    if (!file.exists()) return Error{path + ": file not found"};
    if (!file.open(QIODevice::ReadOnly)) return Error{path + ": cannot read: " + file.errorString()};
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &err);
    if (err.error != QJsonParseError::NoError)
        return Error{path + ": invalid JSON at offset " + QString::number(err.offset) + ": " +
                     err.errorString()};
    if (!doc.isObject()) return Error{path + ": expected a JSON object at the top level"};
    const QJsonObject obj = doc.object();
    // A file may start from a preset ("preset": "quick") and override fields.
    RunConfig base;
    if (obj.contains("preset") && obj.value("preset").isString() &&
        !obj.value("preset").toString().isEmpty()) {
        auto preset = loadPreset(obj.value("preset").toString());
        if (!preset) return Error{path + ": preset: " + preset.error()};
        base = preset.value();
    }
    return configFromJson(obj, path, base);
}

QStringList presetNames() {
    QStringList names;
    for (const QString& f : QDir(":/presets").entryList({"*.json"}, QDir::Files, QDir::Name))
        names << f.chopped(5);
    return names;
}

Result<RunConfig> loadPreset(const QString& name) {
    const QString path = ":/presets/" + name + ".json";
    if (!QFile::exists(path))
        return Error{"unknown preset \"" + name + "\" (available: " + presetNames().join(", ") + ")"};
    QFile file(path);
    file.open(QIODevice::ReadOnly);
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject())
        return Error{"preset " + name + ": invalid JSON: " + err.errorString()};
    auto cfg = configFromJson(doc.object(), "preset " + name);
    if (cfg) cfg->preset = name;
    return cfg;
}

Status applyOverride(RunConfig& cfg, const QString& assignment) {
    const int eq = assignment.indexOf('=');
    if (eq <= 0) return Error{"--set " + assignment + ": expected key=value"};
    const QString key = assignment.left(eq).trimmed();
    const QString text = assignment.mid(eq + 1).trimmed();
    const Field* f = findField(key);
    if (!f)
        return Error{"--set " + key + ": unknown key (known: " + configKeys().join(", ") + ")"};
    QJsonValue value;
    if (f->kind == Kind::String) {
        value = text;
    } else {
        // Parse the scalar as JSON by wrapping it in an array.
        QJsonParseError err{};
        const QJsonDocument doc = QJsonDocument::fromJson(("[" + text + "]").toUtf8(), &err);
        if (err.error != QJsonParseError::NoError || doc.array().size() != 1)
            return Error{"--set " + key + ": expected " + kindName(f->kind) + ", got \"" + text + "\""};
        value = doc.array().at(0);
    }
    return setField(cfg, *f, value, "--set");
}

}  // namespace plateau
