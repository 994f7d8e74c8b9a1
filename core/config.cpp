// Field table driven JSON parsing, so parsing, --set overrides, key listing and serialisation
// share one definition of every field and its valid range. The common sections (optim, train)
// are typed structs behind the table below; task and model come from the experiment's own table.
#include "config.h"

#include "experiment_info.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <cmath>
#include <functional>

namespace plateau {
namespace {

struct CommonField {
    FieldSpec spec;   // spec.key is the dotted key here ("optim.lr")
    std::function<QJsonValue(const RunConfig&)> get;
    std::function<void(RunConfig&, const QJsonValue&)> set;
};

#define PL_INT(KEY, MEMBER, LO, HI)                                                          \
    CommonField{intField(KEY, 0, LO, HI, {}),                                                \
                [](const RunConfig& c) { return QJsonValue(double(c.MEMBER)); },             \
                [](RunConfig& c, const QJsonValue& v) { c.MEMBER = decltype(c.MEMBER)(v.toDouble()); }}
#define PL_DBL(KEY, MEMBER, LO, HI)                                                          \
    CommonField{doubleField(KEY, 0, LO, HI, {}), [](const RunConfig& c) { return QJsonValue(c.MEMBER); }, \
                [](RunConfig& c, const QJsonValue& v) { c.MEMBER = v.toDouble(); }}
#define PL_STR(KEY, MEMBER, CHOICES)                                                         \
    CommonField{stringField(KEY, {}, CHOICES, {}), [](const RunConfig& c) { return QJsonValue(c.MEMBER); }, \
                [](RunConfig& c, const QJsonValue& v) { c.MEMBER = v.toString(); }}
#define PL_STEPS(KEY, MEMBER)                                                                \
    CommonField{listField(KEY, {}, 1, 1e12, 4096, {}),                                               \
                [](const RunConfig& c) {                                                              \
                    QJsonArray a;                                                                     \
                    for (qint64 s : c.MEMBER) a.append(double(s));                                    \
                    return QJsonValue(a);                                                             \
                },                                                                                    \
                [](RunConfig& c, const QJsonValue& v) {                                               \
                    c.MEMBER.clear();                                                                 \
                    for (const QJsonValue& x : v.toArray()) c.MEMBER.push_back(qint64(x.toDouble())); \
                }}
#define PL_BOOL(KEY, MEMBER)                                                                 \
    CommonField{boolField(KEY, false, {}), [](const RunConfig& c) { return QJsonValue(c.MEMBER); }, \
                [](RunConfig& c, const QJsonValue& v) { c.MEMBER = v.toBool(); }}

// Top-level keys, then optim and train. task.* and model.* belong to the experiment.
const std::vector<CommonField>& commonFields() {
    static const std::vector<CommonField> table = {
        PL_STR("preset", preset, QStringList{}),
        PL_STR("description", description, QStringList{}),
        PL_STR("optim.name", optim.name, (QStringList{"adam", "adamw", "sgd"})),
        PL_DBL("optim.lr", optim.lr, 0.0, 10.0),
        PL_DBL("optim.beta1", optim.beta1, 0.0, 0.999999),
        PL_DBL("optim.beta2", optim.beta2, 0.0, 0.99999999),
        PL_DBL("optim.eps", optim.eps, 0.0, 1.0),
        PL_DBL("optim.momentum", optim.momentum, 0.0, 0.999999),
        PL_DBL("optim.weight_decay", optim.weightDecay, 0.0, 100.0),
        PL_DBL("optim.attn_weight_decay", optim.attnWeightDecay, 0.0, 100.0),
        PL_DBL("optim.mlp_weight_decay", optim.mlpWeightDecay, -1.0, 100.0),
        PL_DBL("optim.embedding_weight_decay", optim.embeddingWeightDecay, -1.0, 100.0),
        PL_DBL("optim.readout_weight_decay", optim.readoutWeightDecay, -1.0, 100.0),
        PL_DBL("optim.norm_weight_decay", optim.normWeightDecay, -1.0, 100.0),
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
        PL_STR("train.precision", train.precision, (QStringList{"fp32", "bf16", "auto"})),
        PL_INT("train.eval_every", train.evalEvery, 0, 1e9),
        PL_INT("train.checkpoint_every", train.checkpointEvery, 0, 1e9),
        PL_STEPS("train.checkpoint_steps", train.checkpointSteps),
        PL_INT("train.keep_checkpoints", train.keepCheckpoints, 0, 1e9),
        PL_INT("train.print_every", train.printEvery, 1, 1e9),
        PL_INT("train.snapshot_every", train.snapshotEvery, 0, 1e9),
        PL_INT("train.probe_size", train.probeSize, 1, 4096),
        PL_INT("train.snapshot_save_every", train.snapshotSaveEvery, 0, 1e9),
        PL_STR("train.from", train.from, QStringList{}),
        PL_STR("train.train_only", train.trainOnly, trainComponents()),
        PL_BOOL("train.reinit", train.reinit),
    };
    return table;
}

const CommonField* findCommon(const QString& key) {
    for (const CommonField& f : commonFields())
        if (f.spec.key == key) return &f;
    return nullptr;
}

// The experiment's field of "task.x" / "model.x", or null.
const FieldSpec* findExperimentField(const ExperimentInfo& info, const QString& key, ParamSet** into, RunConfig* cfg) {
    const int dot = key.indexOf('.');
    if (dot <= 0) return nullptr;
    const QString section = key.left(dot), name = key.mid(dot + 1);
    if (section == "task") {
        if (into) *into = &cfg->task;
        return findFieldSpec(info.taskFields, name);
    }
    if (section == "model") {
        if (into) *into = &cfg->model;
        return findFieldSpec(info.modelFields, name);
    }
    return nullptr;
}

Status setAny(RunConfig& cfg, const QString& key, const QJsonValue& v, const QString& source) {
    if (const CommonField* f = findCommon(key)) {
        if (Status s = checkFieldValue(f->spec, v, source + ": " + key); !s) return s;
        f->set(cfg, v);
        return Status::success();
    }
    ParamSet* into = nullptr;
    if (const FieldSpec* f = findExperimentField(cfg.info(), key, &into, &cfg)) {
        if (Status s = checkFieldValue(*f, v, source + ": " + key); !s) return s;
        into->setRaw(f->key, v);
        return Status::success();
    }
    return Error{source + ": " + key + ": unknown key" +
                 (key.startsWith("task.") || key.startsWith("model.") ? " for experiment " + cfg.experiment : QString())};
}

// Picks the experiment named in obj (or keeps base's); a different one resets task and model.
Status chooseExperiment(RunConfig& cfg, const QJsonObject& obj, const QString& source) {
    if (!obj.contains("experiment")) return Status::success();
    const QJsonValue v = obj.value("experiment");
    if (!v.isString()) return Error{source + ": experiment: expected a string, got " + shownValue(v)};
    const ExperimentInfo* info = findExperiment(v.toString());
    if (!info)
        return Error{source + ": experiment: unknown experiment \"" + v.toString() + "\" (known: " +
                     experimentIds().join(", ") + ")"};
    if (info->id != cfg.experiment) {
        cfg.experiment = info->id;
        cfg.task = ParamSet::defaults(info->taskFields);
        cfg.model = ParamSet::defaults(info->modelFields);
    }
    return Status::success();
}

}  // namespace

RunConfig::RunConfig()
    : experiment(defaultExperimentId()),
      task(ParamSet::defaults(findExperiment(experiment)->taskFields)),
      model(ParamSet::defaults(findExperiment(experiment)->modelFields)) {}

const ExperimentInfo& RunConfig::info() const {
    const ExperimentInfo* i = findExperiment(experiment);
    return i ? *i : *findExperiment(defaultExperimentId());
}

Result<RunConfig> defaultConfig(const QString& experiment) {
    RunConfig cfg;
    if (Status s = chooseExperiment(cfg, QJsonObject{{"experiment", experiment}}, "defaults"); !s) return Error{s.error()};
    return cfg;
}

QStringList configKeys(const RunConfig& cfg) {
    QStringList keys{"experiment"};
    for (const CommonField& f : commonFields())
        if (!f.spec.key.contains('.')) keys << f.spec.key;
    for (const FieldSpec& f : cfg.info().taskFields) keys << "task." + f.key;
    for (const FieldSpec& f : cfg.info().modelFields) keys << "model." + f.key;
    for (const CommonField& f : commonFields())
        if (f.spec.key.contains('.')) keys << f.spec.key;
    return keys;
}

QJsonObject RunConfig::toJson() const {
    QJsonObject root{{"experiment", experiment}, {"task", task.json()}, {"model", model.json()}};
    QHash<QString, QJsonObject> sections;
    for (const CommonField& f : commonFields()) {
        const int dot = f.spec.key.indexOf('.');
        if (dot < 0) root[f.spec.key] = f.get(*this);
        else sections[f.spec.key.left(dot)][f.spec.key.mid(dot + 1)] = f.get(*this);
    }
    for (auto it = sections.begin(); it != sections.end(); ++it) root[it.key()] = it.value();
    return root;
}

Status RunConfig::set(const QString& key, const QJsonValue& value) {
    if (key == "experiment") return chooseExperiment(*this, QJsonObject{{"experiment", value}}, "set");
    return setAny(*this, key, value, "set");
}

Result<RunConfig> configFromJson(const QJsonObject& obj, const QString& source, const RunConfig& base) {
    RunConfig cfg = base;
    if (Status s = chooseExperiment(cfg, obj, source); !s) return Error{s.error()};
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        const QString& key = it.key();
        if (key == "experiment" || key == "versions" || key == "resolved") continue;  // versions: written by Plateau
        if (key == "task" || key == "model" || key == "optim" || key == "train") {
            if (!it.value().isObject())
                return Error{source + ": " + key + ": expected an object, got " + shownValue(it.value())};
            const QJsonObject sub = it.value().toObject();
            for (auto jt = sub.begin(); jt != sub.end(); ++jt)
                if (Status s = setAny(cfg, key + "." + jt.key(), jt.value(), source); !s) return Error{s.error()};
        } else if (Status s = setAny(cfg, key, it.value(), source); !s) {
            return Error{s.error()};
        }
    }
    if (Status s = validateConfig(cfg, source); !s) return Error{s.error()};
    return cfg;
}

const QStringList& trainComponents() {
    static const QStringList c{"", "embeddings", "tokens", "positions", "attention", "mlp", "readout"};
    return c;
}

Result<QString> sourceCheckpoint(const TrainConfig& t, const QString& source) {
    const QString where = source + ": train.from: ";
    QString dir = t.from;
    qint64 step = -1;
    const int colon = t.from.lastIndexOf(':');
    if (colon > 0) {
        bool ok = false;
        const qint64 s = t.from.mid(colon + 1).toLongLong(&ok);
        if (ok && s >= 0) dir = t.from.left(colon), step = s;
    }
    const QDir d(dir + "/checkpoints");
    if (!d.exists()) return Error{where + dir + " is not a run folder (it has no checkpoints/)"};
    if (step < 0) {
        const QStringList files = d.entryList({"step_*.pt"}, QDir::Files, QDir::Name);
        if (files.isEmpty()) return Error{where + dir + ": no checkpoints"};
        return d.filePath(files.last());
    }
    const QString path = d.filePath(QString("step_%1.pt").arg(step, 9, 10, QChar('0')));
    if (!QFileInfo::exists(path)) return Error{where + path + " does not exist"};
    return path;
}

Status validateConfig(const RunConfig& c, const QString& source) {
    const QString p = source + ": ";
    if (c.optim.warmupSteps > 0 && c.train.steps > 0 && c.optim.warmupSteps > c.train.steps)
        return Error{p + "optim.warmup_steps: " + QString::number(c.optim.warmupSteps) +
                     " exceeds train.steps = " + QString::number(c.train.steps)};
    if (c.optim.schedule == "cosine" && c.train.steps > 0 && c.optim.decayStart >= c.train.steps)
        return Error{p + "optim.decay_start: " + QString::number(c.optim.decayStart) +
                     " is not before train.steps = " + QString::number(c.train.steps) + " (no decay would happen)"};
    if (c.optim.momentum > 0 && c.optim.name != "sgd")
        return Error{p + "optim.momentum: only used by optim.name = sgd (got " + c.optim.name + ")"};
    if (c.train.reinit && c.train.trainOnly.isEmpty())
        return Error{p + "train.reinit: reinitialises the component of train.train_only, which is empty"};
    const ExperimentInfo& info = c.info();
    if (info.validate)
        if (Status s = info.validate(c, source); !s) return s;
    return Status::success();
}

Result<RunConfig> loadConfigFile(const QString& path) {
    QFile file(path);
    if (!file.exists()) return Error{path + ": file not found"};
    if (!file.open(QIODevice::ReadOnly)) return Error{path + ": cannot read: " + file.errorString()};
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &err);
    if (err.error != QJsonParseError::NoError)
        return Error{path + ": invalid JSON at offset " + QString::number(err.offset) + ": " + err.errorString()};
    if (!doc.isObject()) return Error{path + ": expected a JSON object at the top level"};
    const QJsonObject obj = doc.object();
    // A file may start from a preset ("preset": "quick") and override fields.
    RunConfig base;
    if (obj.contains("preset") && obj.value("preset").isString() && !obj.value("preset").toString().isEmpty()) {
        auto preset = loadPreset(obj.value("preset").toString());
        if (!preset) return Error{path + ": preset: " + preset.error()};
        base = preset.value();
    }
    return configFromJson(obj, path, base);
}

QStringList presetNames() {
    QStringList names;
    for (const QString& f : QDir(":/presets").entryList({"*.json"}, QDir::Files, QDir::Name)) names << f.chopped(5);
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
    if (key == "experiment")
        return Error{"--set experiment: choose the experiment with a preset or a config file (its task and model "
                     "sections differ)"};
    const FieldSpec* spec = nullptr;
    if (const CommonField* f = findCommon(key)) spec = &f->spec;
    else spec = findExperimentField(cfg.info(), key, nullptr, &cfg);
    if (!spec)
        return Error{"--set " + key + ": unknown key for experiment " + cfg.experiment + " (known: " +
                     configKeys(cfg).join(", ") + ")"};
    auto value = parseFieldText(*spec, text, "--set " + key);
    if (!value) return Error{value.error()};
    return setAny(cfg, key, value.value(), "--set");
}

}  // namespace plateau
