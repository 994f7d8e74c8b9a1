#include <torch/torch.h>

#include "cli_commands.h"

#include "analysis/analysis.h"
#include "analysis/drop_detector.h"
#include "config.h"
#include "experiment_info.h"
#include "run/run_store.h"
#include "precision.h"
#include "runtime_env.h"
#include "train/trainer.h"
#include "train/training_session.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTextStream>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>

namespace plateau::cli {

namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void onSignal(int) { g_interrupted = true; }

QTextStream& out() {
    static QTextStream s(stdout);
    return s;
}
int fail(const QString& message) {
    std::fprintf(stderr, "plateau-cli: %s\n", message.toLocal8Bit().constData());
    return 2;
}

const char* kUsage =
    "usage:\n"
    "  plateau-cli train (--preset NAME | --config FILE) --out DIR [--steps N] [--seed S]\n"
    "                    [--threads N] [--set key=value ...] [--stop-after-drop K]\n"
    "  plateau-cli train --resume DIR [--steps N] [--stop-after-drop K]\n"
    "  plateau-cli train --from RUN[:STEP] [--train-only embeddings|tokens|positions|attention|mlp|readout] [--reinit]\n"
    "                    --out DIR [--preset NAME | --config FILE] [--steps N] [--set key=value ...]\n"
    "      --stop-after-drop K: stop K steps after the drop detector sees the first drop end\n"
    "  plateau-cli describe (--preset NAME | --config FILE) [--set key=value ...]\n"
    "  plateau-cli metrics DIR --csv\n"
    "  plateau-cli info DIR\n"
    "  plateau-cli export DIR --out FIGDIR [--steps a,b,...] [--format pdf,png,svg] [--size WxH] [--dpi N]\n"
    "      the figure set of a run (loss, attention at chosen steps, predictions and spectra before /\n"
    "      after the drop, CSVs), drawn offscreen; default steps: early, plateau, before/after drop, final\n"
    "  plateau-cli presets\n"
    "  plateau-cli experiments [--json]\n"
    "      every experiment with its metric columns, views, task and model fields\n"
    "  plateau-cli analyses [--json]\n"
    "      every analysis with the experiments it applies to and its parameters\n"
    "  plateau-cli analyze DIR --analysis ID [--steps a,b,...|all|last] [--set param=value ...] [--json] [--force]\n"
    "      runs an analysis on the run's checkpoints (default: the last), writes DIR/analyses/ID/ and\n"
    "      prints the result; a stored result that is still current is printed unless --force\n";

// Minimal option reader: --name value pairs and repeated --set.
struct Options {
    QMap<QString, QString> values;
    QStringList sets;
    QStringList positional;
    QStringList flags;
};

Result<Options> parse(const QStringList& args, const QStringList& valued, const QStringList& flags) {
    Options o;
    for (int i = 0; i < args.size(); ++i) {
        const QString& a = args[i];
        if (a.startsWith("--")) {
            QString name = a.mid(2), value;
            const int eq = name.indexOf('=');
            const bool inlineValue = eq > 0;
            if (inlineValue) {
                value = name.mid(eq + 1);
                name = name.left(eq);
            }
            if (flags.contains(name) && !inlineValue) {
                o.flags << name;
                continue;
            }
            if (!valued.contains(name) && name != "set") return Error{"unknown option --" + name};
            if (!inlineValue) {
                if (i + 1 >= args.size()) return Error{"--" + name + ": missing value"};
                value = args[++i];
            }
            if (name == "set") o.sets << value;
            else o.values[name] = value;
        } else {
            o.positional << a;
        }
    }
    return o;
}

Result<qint64> integerOption(const Options& o, const QString& name, qint64 min) {
    bool ok = false;
    const qint64 v = o.values.value(name).toLongLong(&ok);
    if (!ok || v < min)
        return Error{"--" + name + ": expected an integer >= " + QString::number(min) + ", got \"" +
                     o.values.value(name) + "\""};
    return v;
}

// --preset / --config, then --seed / --steps / --threads / --set, then cross-field checks.
Result<RunConfig> resolveConfig(const Options& o) {
    const bool from = o.values.contains("from");
    if (o.values.contains("preset") && o.values.contains("config"))
        return Error{"give exactly one of --preset NAME or --config FILE, not both"};
    if (!from && !o.values.contains("preset") && !o.values.contains("config"))
        return Error{"give exactly one of --preset NAME or --config FILE"};
    // --from RUN[:STEP] alone: the source run's own configuration.
    QString fromDir = o.values.value("from");
    if (const int colon = fromDir.lastIndexOf(':'); colon > 0) {
        bool ok = false;
        fromDir.mid(colon + 1).toLongLong(&ok);
        if (ok) fromDir = fromDir.left(colon);
    }
    Result<RunConfig> cfg = Error{""};
    if (o.values.contains("preset")) cfg = loadPreset(o.values["preset"]);
    else if (o.values.contains("config")) cfg = loadConfigFile(o.values["config"]);
    else if (auto source = RunStore::open(fromDir, true); source) cfg = source.value()->config();
    else return Error{"--from: " + source.error()};
    if (!cfg) return cfg;
    RunConfig c = cfg.value();
    if (from) {
        c.train.from = o.values["from"];
        c.train.trainOnly = o.values.value("train-only");
        c.train.reinit = o.flags.contains("reinit");
        if (!trainComponents().contains(c.train.trainOnly))
            return Error{"--train-only: \"" + c.train.trainOnly + "\" is not one of " + trainComponents().mid(1).join(", ")};
    } else if (o.values.contains("train-only") || o.flags.contains("reinit")) {
        return Error{"--train-only and --reinit need --from RUN[:STEP] (the trained model to start from)"};
    }
    for (const QString& s : o.sets)
        if (Status st = applyOverride(c, s); !st) return Error{st.error()};
    for (const auto& [opt, key, min] : {std::tuple{"seed", "train.seed", 0}, std::tuple{"steps", "train.steps", 0},
                                        std::tuple{"threads", "train.threads", 0}}) {
        if (!o.values.contains(opt)) continue;
        auto v = integerOption(o, opt, min);
        if (!v) return Error{v.error()};
        if (Status st = applyOverride(c, QString(key) + "=" + QString::number(v.value())); !st)
            return Error{st.error()};
    }
    if (Status st = validateConfig(c, "config"); !st) return Error{st.error()};
    return c;
}

QString num(double v, int prec = 3) {
    return std::isnan(v) ? QString("-") : QString::number(v, 'e', prec - 1);
}

QString duration(double secs) {
    if (!std::isfinite(secs) || secs < 0) return "-";
    const qint64 s = qint64(secs + 0.5);
    return s >= 3600 ? QString("%1:%2:%3").arg(s / 3600).arg(s / 60 % 60, 2, 10, QChar('0')).arg(s % 60, 2, 10, QChar('0'))
                     : QString("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QChar('0'));
}

int train(const QStringList& args) {
    auto o = parse(args, {"preset", "config", "out", "steps", "seed", "threads", "resume", "stop-after-drop", "from", "train-only"},
                   {"reinit"});
    if (!o) return fail(o.error());
    std::optional<qint64> stopAfterDrop;
    if (o->values.contains("stop-after-drop")) {
        auto v = integerOption(o.value(), "stop-after-drop", 0);
        if (!v) return fail(v.error());
        stopAfterDrop = v.value();
    }
    std::unique_ptr<TrainingSession> session;
    if (o->values.contains("resume")) {
        for (const char* bad : {"preset", "config", "out", "seed", "threads", "from", "train-only", "reinit"})
            if (o->values.contains(bad)) return fail(QString("--resume continues a run as it was configured; --") + bad + " is not allowed with it");
        if (!o->sets.isEmpty()) return fail("--resume continues a run as it was configured; --set is not allowed with it");
        std::optional<qint64> steps;
        if (o->values.contains("steps")) {
            auto v = integerOption(o.value(), "steps", 1);
            if (!v) return fail(v.error());
            steps = v.value();
        }
        auto s = TrainingSession::resume(o->values["resume"], steps);
        if (!s) return fail(s.error());
        session = std::move(s.value());
    } else {
        if (!o->values.contains("out")) return fail("train: --out DIR is required");
        auto cfg = resolveConfig(o.value());
        if (!cfg) return fail(cfg.error());
        auto s = TrainingSession::create(cfg.value(), o->values["out"]);
        if (!s) return fail(s.error());
        session = std::move(s.value());
    }
    Trainer& trainer = session->trainer();
    const RunConfig& cfg = trainer.config();
    const RuntimeReport rt = configureRuntime(cfg.train.threads);
    for (const QString& w : rt.warnings) std::fprintf(stderr, "warning: %s\n", w.toLocal8Bit().constData());
    if (cfg.train.precision == "bf16" && !bf16Support().slowWarning().isEmpty())
        std::fprintf(stderr, "warning: %s\n", bf16Support().slowWarning().toLocal8Bit().constData());
    const ExperimentInfo& info = cfg.info();
    out() << "run " << session->store().dir() << "\n"
          << "runtime: " << rt.summary() << "\n"
          << "precision: " << cfg.train.precision << " (" << bf16Support().describe() << ")\n"
          << "experiment: " << info.id << " (" << info.title << "), " << trainer.experiment().parameterCount()
          << " parameters\n"
          << "task: " << QJsonDocument(cfg.task.json()).toJson(QJsonDocument::Compact) << "\n"
          << "model: " << QJsonDocument(cfg.model.json()).toJson(QJsonDocument::Compact) << "\n";
    if (info.quantities)
        out() << "quantities: " << QJsonDocument(info.quantities(cfg)).toJson(QJsonDocument::Compact) << "\n";
    if (!session->resumedFrom().isEmpty())
        out() << "resumed from " << session->resumedFrom() << " at step " << trainer.stepsDone() << "\n";
    out().flush();

    // The online detector sees the whole curve (earlier rows too when resuming), with the window
    // the offline detector would use on a run of the planned length.
    auto detectorOrError = session->dropDetector(100);
    if (!detectorOrError) return fail(detectorOrError.error());
    OnlineDropDetector detector = std::move(detectorOrError.value());
    qint64 dropEnd = -1;
    bool stoppedAfterDrop = false;

    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    TrainControl control;
    auto windowStart = std::chrono::steady_clock::now();
    qint64 windowSteps = 0;
    const std::vector<MetricColumn>& columns = session->store().columns();
    std::vector<double> lastSeen(columns.size(), kNoValue);  // columns computed on their own cadence
    const DetectorTarget target = info.detector;
    SessionCallbacks cb;
    cb.afterStep = [&](Trainer& t) {
        if (g_interrupted) control.stop();
        (void)t;
    };
    cb.onMetrics = [&](const std::vector<StepMetrics>& rows) {
        for (const StepMetrics& m : rows) {
            ++windowSteps;
            for (std::size_t c = 0; c < columns.size(); ++c)
                if (std::isfinite(m.value(int(c)))) lastSeen[c] = m.value(int(c));
            if (m.step % cfg.train.printEvery != 0 && m.step != cfg.train.steps) continue;
            const auto now = std::chrono::steady_clock::now();
            const double secs = std::chrono::duration<double>(now - windowStart).count();
            const double sps = secs > 0 ? double(windowSteps) / secs : 0.0;
            windowStart = now;
            windowSteps = 0;
            out() << "step " << m.step << "/" << cfg.train.steps;
            // The experiment's fixed columns (not the per-configuration ones: a sweep's dozens).
            for (std::size_t c = 0; c < columns.size() && c < info.columns.size(); ++c)
                out() << "  " << columns[c].label << " " << num(lastSeen[c]);
            out() << "  lr " << num(m.lr, 2) << "  " << QString::number(sps, 'f', 1) << " steps/s  ETA "
                  << duration(sps > 0 ? double(cfg.train.steps - m.step) / sps : NAN) << "\n";
        }
        if (stopAfterDrop && !rows.empty()) {
            const DetectorSeries series = detectorSeries(rows, columns, target);
            for (std::size_t i = 0; i < series.steps.size(); ++i) detector.append(series.steps[i], series.values[i]);
            if (dropEnd < 0) {
                for (const DropEvent& d : detector.result().drops) {
                    if (!d.complete) continue;
                    dropEnd = d.endStep;
                    out() << (target.rising ? "jump" : "drop") << ": plateau from step " << d.plateau.startStep
                          << " at " << target.column << " " << num(columnValue(target, d.levelBefore))
                          << ", onset at step " << d.onsetStep << ", end at step " << d.endStep << ", "
                          << target.column << " " << num(columnValue(target, d.levelAfter)) << " ("
                          << QString::number(d.factor, 'f', 1) << "x)\n";
                    break;
                }
            }
            if (dropEnd >= 0 && rows.back().step >= dropEnd + *stopAfterDrop && !stoppedAfterDrop) {
                stoppedAfterDrop = true;
                control.stop();
            }
        }
        out().flush();
    };
    const Status st = session->run(control, cb, 0.25);
    if (!st) return fail(st.error());
    out() << (g_interrupted ? "interrupted" : stoppedAfterDrop ? "stopped after the drop" : "done") << " at step " << trainer.stepsDone() << ", "
          << QString::number(trainer.trainSeconds(), 'f', 1) << " s of training\n";
    out().flush();
    return g_interrupted ? 130 : 0;
}

int describe(const QStringList& args) {
    auto o = parse(args, {"preset", "config", "steps", "seed", "threads"}, {});
    if (!o) return fail(o.error());
    auto cfg = resolveConfig(o.value());
    if (!cfg) return fail(cfg.error());
    const ExperimentInfo& info = cfg->info();
    QJsonObject obj;
    obj["experiment"] = info.id;
    obj["experiment_title"] = info.title;
    obj["config"] = cfg->toJson();
    if (info.quantities) {
        const QJsonObject q = info.quantities(cfg.value());
        for (auto it = q.begin(); it != q.end(); ++it) obj[it.key()] = it.value();
    }
    out() << QJsonDocument(obj).toJson(QJsonDocument::Indented);
    return 0;
}

int metrics(const QStringList& args) {
    auto o = parse(args, {}, {"csv"});
    if (!o) return fail(o.error());
    if (o->positional.size() != 1) return fail("metrics: expected one run folder");
    if (!o->flags.contains("csv")) return fail("metrics: only --csv output exists; pass --csv");
    auto store = RunStore::open(o->positional.first(), true);
    if (!store) return fail(store.error());
    auto rows = store.value()->readMetrics();
    if (!rows) return fail(rows.error());
    auto f = [](double v) { return std::isnan(v) ? QString() : QString::number(v, 'g', 9); };
    // step, time, the experiment's columns, then lr, grad norm, step time (matrix completion: the
    // same header as before experiments existed).
    out() << "step,time_s";
    for (const MetricColumn& c : store.value()->columns()) out() << ',' << c.key;
    out() << ",lr,grad_norm,step_ms,steps_per_s\n";
    for (const StepMetrics& m : rows.value()) {
        out() << m.step << ',' << f(m.timeS);
        for (double v : m.values) out() << ',' << f(v);
        out() << ',' << f(m.lr) << ',' << f(m.gradNorm) << ',' << f(m.stepMs) << ',' << f(m.stepsPerSec()) << '\n';
    }
    out().flush();
    return 0;
}

// Median of the last `count` finite values of a column.
template <class Get>
double tailMedian(const std::vector<StepMetrics>& rows, Get get, std::size_t count) {
    std::vector<double> v;
    for (auto it = rows.rbegin(); it != rows.rend() && v.size() < count; ++it)
        if (std::isfinite(get(*it))) v.push_back(get(*it));
    if (v.empty()) return NAN;
    std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(v.size() / 2), v.end());
    return v[v.size() / 2];
}

int info(const QStringList& args) {
    auto o = parse(args, {}, {});
    if (!o) return fail(o.error());
    if (o->positional.size() != 1) return fail("info: expected one run folder");
    auto store = RunStore::open(o->positional.first(), true);
    if (!store) return fail(store.error());
    auto rowsR = store.value()->readMetrics();
    if (!rowsR) return fail(rowsR.error());
    const std::vector<StepMetrics>& rows = rowsR.value();
    const RunConfig& cfg = store.value()->config();
    const ExperimentInfo& einfo = cfg.info();
    const std::vector<MetricColumn>& columns = store.value()->columns();
    const DetectorSeries series = detectorSeries(rows, columns, einfo.detector);
    const DropDetection det = detectDrops(series.steps, series.values);
    auto timeAt = [&](qint64 step) {
        auto it = std::lower_bound(rows.begin(), rows.end(), step,
                                   [](const StepMetrics& m, qint64 s) { return m.step < s; });
        return it == rows.end() ? NAN : it->timeS;
    };
    QJsonObject detection = det.toJson();
    detection["column"] = einfo.detector.column;
    detection["direction"] = einfo.detector.rising ? "rising" : "falling";
    if (einfo.detector.rising)
        detection["watched"] = QString::number(einfo.detector.ceiling) + " - " + einfo.detector.column +
                               " (levels below are of the column itself)";
    QJsonArray drops;
    for (int i = 0; i < int(det.drops.size()); ++i) {
        QJsonObject d = detection["drops"].toArray()[i].toObject();
        d["level_before"] = columnValue(einfo.detector, det.drops[std::size_t(i)].levelBefore);
        d["level_after"] = columnValue(einfo.detector, det.drops[std::size_t(i)].levelAfter);
        d["onset_time_s"] = timeAt(det.drops[std::size_t(i)].onsetStep);
        d["end_time_s"] = timeAt(det.drops[std::size_t(i)].endStep);
        d["plateau_start_time_s"] = timeAt(det.drops[std::size_t(i)].plateau.startStep);
        drops.append(d);
    }
    detection["drops"] = drops;
    const std::size_t tail = std::max<std::size_t>(1, std::min<std::size_t>(200, rows.size() / 20));
    auto num = [](double v) { return std::isfinite(v) ? QJsonValue(v) : QJsonValue(); };
    QJsonObject summary{
        {"run", store.value()->dir()},
        {"experiment", cfg.experiment},
        {"run_format", store.value()->formatVersion()},
        {"preset", cfg.preset},
        {"steps_done", rows.empty() ? 0.0 : double(rows.back().step)},
        {"steps_planned", double(cfg.train.steps)},
        {"train_seconds", rows.empty() ? 0.0 : rows.back().timeS},
        {"median_step_ms", num(tailMedian(rows, [](const StepMetrics& m) { return m.stepMs; }, rows.size()))},
        {"checkpoints", int(store.value()->checkpoints().size())}};
    // The experiment's own quantities (matrix completion: E[X^2], the copying level, ...).
    if (einfo.quantities) {
        const QJsonObject q = einfo.quantities(cfg);
        for (auto it = q.begin(); it != q.end(); ++it) summary[it.key()] = it.value();
    }
    // Final value of every column: the median over the last 5 % of rows (at most 200 rows; columns
    // computed on a cadence use their last 200 values at most).
    for (std::size_t c = 0; c < columns.size(); ++c)
        summary["final_" + columns[c].key] = num(tailMedian(rows, [c](const StepMetrics& m) { return m.value(int(c)); }, tail));
    QJsonObject root{{"summary", summary}, {"detection", detection}, {"config", cfg.toJson()}};
    out() << QJsonDocument(root).toJson(QJsonDocument::Indented);
    return 0;
}

QJsonArray fieldsJson(const std::vector<FieldSpec>& fields) {
    QJsonArray a;
    for (const FieldSpec& f : fields) {
        QJsonObject o{{"key", f.key}, {"kind", fieldKindName(f.kind)}, {"default", f.defaultValue}, {"help", f.help}};
        if (f.kind == FieldKind::Int || f.kind == FieldKind::Double || f.kind == FieldKind::DoubleList) {
            o["min"] = f.min;
            o["max"] = f.max;
        }
        if (!f.choices.isEmpty()) o["choices"] = QJsonArray::fromStringList(f.choices);
        a.append(o);
    }
    return a;
}

int experiments(const QStringList& args) {
    auto o = parse(args, {}, {"json"});
    if (!o) return fail(o.error());
    QJsonArray all;
    for (const ExperimentInfo* e : experimentRegistry()) {
        QJsonArray cols, views, presets;
        for (const MetricColumn& c : e->columns)
            cols.append(QJsonObject{{"key", c.key}, {"label", c.label}, {"unit", c.unit}, {"log_axis", c.logAxis},
                                    {"better", betterName(c.better)}, {"help", c.help}});
        for (const ViewSpec& v : e->views) views.append(QJsonObject{{"kind", v.kind}, {"name", v.name}, {"title", v.title}});
        for (const QString& p : presetNames())
            if (auto c = loadPreset(p); c && c->experiment == e->id) presets.append(p);
        all.append(QJsonObject{{"id", e->id}, {"title", e->title}, {"summary", e->summary}, {"paper", e->paper},
                               {"columns", cols}, {"views", views}, {"presets", presets},
                               {"detector", QJsonObject{{"column", e->detector.column},
                                                        {"direction", e->detector.rising ? "rising" : "falling"}}},
                               {"task", fieldsJson(e->taskFields)}, {"model", fieldsJson(e->modelFields)}});
    }
    if (o->flags.contains("json")) {
        out() << QJsonDocument(all).toJson(QJsonDocument::Indented);
        return 0;
    }
    for (const QJsonValue& v : all) {
        const QJsonObject e = v.toObject();
        out() << e["id"].toString() << "\t" << e["title"].toString() << "\n  " << e["summary"].toString() << "\n";
        if (!e["paper"].toString().isEmpty()) out() << "  paper: " << e["paper"].toString() << "\n";
        QStringList cols, views, presets;
        for (const QJsonValue& c : e["columns"].toArray())
            cols << c.toObject()["key"].toString() + " (" + c.toObject()["unit"].toString() + ", " +
                        c.toObject()["better"].toString() + ")";
        for (const QJsonValue& w : e["views"].toArray()) views << w.toObject()["kind"].toString();
        for (const QJsonValue& p : e["presets"].toArray()) presets << p.toString();
        out() << "  columns: " << cols.join(", ") << "\n  views: " << views.join(", ") << "\n  detector: "
              << e["detector"].toObject()["column"].toString() << " " << e["detector"].toObject()["direction"].toString()
              << "\n  presets: " << presets.join(", ") << "\n";
        for (const char* section : {"task", "model"}) {
            out() << "  " << section << ":\n";
            for (const QJsonValue& f : e[section].toArray()) {
                const QJsonObject fo = f.toObject();
                out() << "    " << section << "." << fo["key"].toString() << " = "
                      << QJsonDocument(QJsonArray{fo["default"]}).toJson(QJsonDocument::Compact).mid(1).chopped(1)
                      << "  " << fo["help"].toString() << "\n";
            }
        }
    }
    return 0;
}

int analyses(const QStringList& args) {
    auto o = parse(args, {}, {"json"});
    if (!o) return fail(o.error());
    QJsonArray all;
    for (const AnalysisInfo& a : analysisRegistry())
        all.append(QJsonObject{{"id", a.id}, {"title", a.title}, {"summary", a.summary}, {"paper", a.paper},
                               {"experiments", QJsonArray::fromStringList(a.experiments)}, {"params", fieldsJson(a.params)}});
    if (o->flags.contains("json")) {
        out() << QJsonDocument(all).toJson(QJsonDocument::Indented);
        return 0;
    }
    for (const QJsonValue& v : all) {
        const QJsonObject a = v.toObject();
        out() << a["id"].toString() << "\t" << a["title"].toString() << " (" << a["paper"].toString() << ")\n  "
              << a["summary"].toString() << "\n  experiments: " << a["experiments"].toVariant().toStringList().join(", ")
              << "\n";
        for (const QJsonValue& f : a["params"].toArray()) {
            const QJsonObject fo = f.toObject();
            out() << "    " << fo["key"].toString() << " = "
                  << QJsonDocument(QJsonArray{fo["default"]}).toJson(QJsonDocument::Compact).mid(1).chopped(1) << "  "
                  << fo["help"].toString() << "\n";
        }
    }
    return 0;
}

QJsonObject resultJson(const AnalysisResult& r, bool current) {
    QJsonArray steps, tables;
    for (qint64 s : r.steps) steps.append(double(s));
    for (const AnalysisTable& t : r.tables) {
        QJsonArray rows;
        for (const auto& row : t.rows) {
            QJsonArray cells;
            for (double v : row) cells.append(std::isfinite(v) ? QJsonValue(v) : QJsonValue());
            rows.append(cells);
        }
        tables.append(QJsonObject{{"name", t.name}, {"columns", QJsonArray::fromStringList(t.columns)}, {"rows", rows}});
    }
    return QJsonObject{{"analysis", r.analysis}, {"params", r.params}, {"steps", steps}, {"summary", r.summary},
                       {"seconds", r.seconds}, {"plateau", r.plateauVersion}, {"stored_result_reused", current},
                       {"tables", tables}};
}

int analyze(const QStringList& args) {
    auto o = parse(args, {"analysis", "steps"}, {"json", "force"});
    if (!o) return fail(o.error());
    if (o->positional.size() != 1) return fail("analyze: expected one run folder");
    const QString dir = o->positional.first();
    if (!o->values.contains("analysis")) return fail("analyze: --analysis ID is required (plateau-cli analyses lists them)");
    const AnalysisInfo* a = findAnalysis(o->values["analysis"]);
    if (!a) return fail("analyze: --analysis: no analysis \"" + o->values["analysis"] + "\" (plateau-cli analyses lists them)");
    auto store = RunStore::open(dir, true);
    if (!store) return fail(store.error());
    const RunConfig cfg = store.value()->config();
    auto params = analysisParams(*a, o->sets, "--set");
    if (!params) return fail(params.error());
    std::vector<qint64> available;
    for (const CheckpointFile& c : store.value()->checkpoints()) available.push_back(c.step);
    auto chosen = chooseSteps(o->values.value("steps", "last"), available, dir, "analyze: --steps");
    if (!chosen) return fail(chosen.error());
    const std::vector<qint64> steps = chosen.value();
    AnalysisResult result;
    bool reused = false;
    if (!o->flags.contains("force"))
        if (auto stored = readAnalysisResult(dir, a->id); stored) {
            auto prints = checkpointFingerprints(dir, steps);
            if (prints && staleReason(stored.value(), params->json(), prints.value()).isEmpty()) {
                result = stored.value();
                reused = true;
            }
        }
    if (!reused) {
        std::signal(SIGINT, onSignal);
        AnalysisRequest q;
        q.runDir = dir;
        q.config = cfg;
        q.steps = steps;
        q.params = params.value();
        q.cancel = &g_interrupted;
        auto r = runAnalysis(*a, q);
        if (!r) return fail(r.error());
        result = r.value();
        if (Status st = writeAnalysisResult(dir, result); !st) return fail(st.error());
    }
    if (o->flags.contains("json")) {
        out() << QJsonDocument(resultJson(result, reused)).toJson(QJsonDocument::Indented);
        return 0;
    }
    out() << a->id << " on " << dir << " (steps";
    for (qint64 s : result.steps) out() << " " << s;
    out() << (reused ? "; stored result, still current" : QString("; %1 s").arg(result.seconds, 0, 'f', 1)) << ")\n";
    for (const AnalysisTable& t : result.tables) {
        out() << "\n" << t.name << ":\n  " << t.columns.join("  ") << "\n";
        for (const auto& row : t.rows) {
            QStringList cells;
            for (double v : row) cells << (std::isnan(v) ? QString("-") : QString::number(v, 'g', 4));
            out() << "  " << cells.join("  ") << "\n";
        }
    }
    out() << "\nsummary: " << QJsonDocument(result.summary).toJson(QJsonDocument::Compact) << "\n"
          << "written to " << analysisDir(dir, a->id) << "\n";
    return 0;
}

}  // namespace

int dispatch(const QStringList& args) {
    if (args.isEmpty() || args.first() == "--help" || args.first() == "-h" || args.first() == "help") {
        std::fputs(kUsage, args.isEmpty() ? stderr : stdout);
        return args.isEmpty() ? 2 : 0;
    }
    const QString cmd = args.first();
    const QStringList rest = args.mid(1);
    if (cmd == "train") return train(rest);
    if (cmd == "describe") return describe(rest);
    if (cmd == "metrics") return metrics(rest);
    if (cmd == "info") return info(rest);
    if (cmd == "presets") {
        for (const QString& p : presetNames()) {
            auto c = loadPreset(p);
            out() << p << "\t" << (c ? c->experiment + "\t" + c->description : c.error()) << "\n";
        }
        return 0;
    }
    if (cmd == "experiments") return experiments(rest);
    if (cmd == "analyses") return analyses(rest);
    if (cmd == "analyze") return analyze(rest);
    std::fputs(kUsage, stderr);
    return fail("unknown command \"" + cmd + "\"");
}

}  // namespace plateau::cli
