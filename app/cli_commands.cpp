#include <torch/torch.h>

#include "cli_commands.h"

#include "cli_common.h"
#include "sweep_commands.h"

#include "analysis/analysis.h"
#include "analysis/drop_detector.h"
#include "config.h"
#include "experiment_info.h"
#include "run/run_store.h"
#include "run/run_summary.h"
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
    "      a sweep folder: the overlay and the phase diagram, with [--column C] [--colour-by KEY]\n"
    "      [--align step|time|onset] [--smoothing B] [--phase X[,Y|none]] [--cell onset|dropped|final]\n"
    "  plateau-cli presets\n"
    "  plateau-cli experiments [--json]\n"
    "      every experiment with its metric columns, views, task and model fields\n"
    "  plateau-cli analyses [--json]\n"
    "      every analysis with the experiments it applies to and its parameters\n"
    "  plateau-cli analyze DIR --analysis ID [--steps a,b,...|all|last] [--set param=value ...] [--json] [--force]\n"
    "      runs an analysis on the run's checkpoints (default: the last), writes DIR/analyses/ID/ and\n"
    "      prints the result; a stored result that is still current is printed unless --force\n"
    "  plateau-cli sweep (--preset NAME | --config FILE | --file SWEEP.json) --out DIR\n"
    "                    [--grid key=v1,v2,...] [--grid key=a..b[:step]] [--random key=lo:hi:N[:log]]\n"
    "                    [--grid k1,k2=a1/b1,a2/b2,...  (keys that move together)]\n"
    "                    [--set key=value ...] [--random-seed S] [--jobs N] [--threads-per-job T]\n"
    "                    [--stop-after-drop K  (each point stops K steps after its drop ends)]\n"
    "                    [--slurm [--partition P] [--time HH:MM:SS] [--cpus-per-task N] [--mem M]\n"
    "                     [--account A]] [--dry-run  (write the manifest / job script only)]\n"
    "  plateau-cli sweep --resume DIR [--jobs N] [--threads-per-job T] [--slurm ...]\n"
    "      runs every point of a sweep (one run folder each under DIR/runs/) on this machine, or as\n"
    "      one Slurm job array; finished points are skipped, stopped ones resumed\n"
    "  plateau-cli sweep-status DIR [--json]    points, their run folders and Slurm's view of them\n"
    "  plateau-cli sweep-summary DIR [--csv] [--by key]\n"
    "      per point: parameters, plateau, drop onset and end (steps, seconds), factor, final\n"
    "      metrics; --by key: median and spread of the drop step per value, share that dropped\n";

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
    clearStoppedAfterDrop(session->store().dir());  // training goes on: no longer stopped after a drop
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
    if (stoppedAfterDrop && !g_interrupted)
        if (Status m = writeStoppedAfterDrop(session->store().dir(), trainer.stepsDone(), dropEnd, *stopAfterDrop); !m)
            std::fprintf(stderr, "warning: %s (a sweep will resume this run)\n", m.error().toLocal8Bit().constData());
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

int info(const QStringList& args) {
    auto o = parse(args, {}, {});
    if (!o) return fail(o.error());
    if (o->positional.size() != 1) return fail("info: expected one run folder");
    auto summary = runSummary(o->positional.first());
    if (!summary) return fail(summary.error());
    out() << QJsonDocument(summary.value()).toJson(QJsonDocument::Indented);
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

int trainCommand(const QStringList& args) { return train(args); }

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
    if (cmd == "sweep") return sweep(rest);
    if (cmd == "sweep-point") return sweepPoint(rest);
    if (cmd == "sweep-status") return sweepStatus(rest);
    if (cmd == "sweep-summary") return sweepSummary(rest);
    std::fputs(kUsage, stderr);
    return fail("unknown command \"" + cmd + "\"");
}

}  // namespace plateau::cli
