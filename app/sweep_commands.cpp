#include "sweep_commands.h"

#include "parallel_indices.h"

#include "cli_commands.h"
#include "cli_common.h"
#include "run/run_summary.h"
#include "sweep/sweep.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QSaveFile>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <thread>

namespace plateau::cli {

namespace {

std::atomic<bool> g_stop{false};
extern "C" void onSweepSignal(int) { g_stop = true; }

const QStringList kSlurmOptions = {"partition", "time", "cpus-per-task", "mem", "account"};

// "0-3,7,9-10" for Slurm's --array.
QString compressIndices(const std::vector<int>& idx) {
    QStringList parts;
    for (std::size_t i = 0; i < idx.size();) {
        std::size_t j = i;
        while (j + 1 < idx.size() && idx[j + 1] == idx[j] + 1) ++j;
        parts << (j == i ? QString::number(idx[i]) : QString("%1-%2").arg(idx[i]).arg(idx[j]));
        i = j + 1;
    }
    return parts.join(',');
}

// Expands "3", "0-3", "[1-3,5]", "1-7%2" (Slurm's array notation; the %limit is dropped).
std::vector<int> expandIndices(QString s) {
    s.remove('[').remove(']');
    s = s.section('%', 0, 0);
    std::vector<int> out;
    for (const QString& part : s.split(',', Qt::SkipEmptyParts)) {
        const QString range = part.section(':', 0, 0);
        const int step = part.contains(':') ? std::max(1, part.section(':', 1).toInt()) : 1;
        bool ok1 = false, ok2 = false;
        const int a = range.section('-', 0, 0).toInt(&ok1);
        const int b = range.contains('-') ? range.section('-', 1).toInt(&ok2) : a;
        if (!ok1 || (range.contains('-') && !ok2)) continue;
        for (int i = a; i <= b && out.size() < 100000; i += step) out.push_back(i);
    }
    return out;
}

QString shellQuote(const QString& s) { return "'" + QString(s).replace("'", "'\\''") + "'"; }

// The line a failed `plateau-cli` printed ("plateau-cli: ..."), last one in the text.
QString lastError(const QByteArray& text) {
    const QList<QByteArray> lines = text.split('\n');
    for (auto it = lines.rbegin(); it != lines.rend(); ++it)
        if (it->startsWith("plateau-cli: ")) return QString::fromLocal8Bit(it->mid(13)).trimmed();
    for (auto it = lines.rbegin(); it != lines.rend(); ++it)
        if (!it->trimmed().isEmpty()) return QString::fromLocal8Bit(it->trimmed());
    return {};
}

QByteArray tailOf(const QString& path, qint64 bytes = 16384) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    if (f.size() > bytes) f.seek(f.size() - bytes);
    return f.readAll();
}

Result<Sweep> defineFromOptions(const Options& o) {
    QString preset = o.values.value("preset"), config = o.values.value("config");
    QStringList sets = o.sets, grids = o.repeated.value("grid"), randoms = o.repeated.value("random");
    quint64 seed = 0;
    if (o.values.contains("file")) {
        if (!preset.isEmpty() || !config.isEmpty()) return Error{"--file SWEEP.json names its own base; drop --preset / --config"};
        auto r = loadSweepFile(o.values["file"]);
        if (!r) return Error{r.error()};
        preset = r->preset;
        config = r->configFile;
        sets = r->sets + sets;  // command-line --set after the file's
        grids = r->grids + grids;
        randoms = r->randoms + randoms;
        seed = r->randomSeed;
    }
    if (o.values.contains("random-seed")) {
        auto v = integerOption(o, "random-seed", 0);
        if (!v) return Error{v.error()};
        seed = quint64(v.value());
    }
    Options base;
    if (!preset.isEmpty()) base.values["preset"] = preset;
    if (!config.isEmpty()) base.values["config"] = config;
    base.sets = sets;
    auto cfg = resolveConfig(base);
    if (!cfg) return Error{cfg.error()};
    std::vector<SweepAxis> axes;
    for (const QString& g : grids) {
        auto a = parseSweepAxis(g, false, "--grid");
        if (!a) return Error{a.error()};
        axes.push_back(a.value());
    }
    for (const QString& r : randoms) {
        auto a = parseSweepAxis(r, true, "--random");
        if (!a) return Error{a.error()};
        axes.push_back(a.value());
    }
    return defineSweep(o.values.value("out"), cfg.value(), preset, config.isEmpty() ? QString() : QFileInfo(config).absoluteFilePath(),
                       sets, axes, seed);
}

// Same definition (base config, axes, points)? Then the folder's sweep is continued.
bool sameDefinition(const Sweep& a, const Sweep& b) {
    if (a.base != b.base || a.points.size() != b.points.size() || a.axes.size() != b.axes.size()) return false;
    for (std::size_t i = 0; i < a.points.size(); ++i)
        if (a.points[i].name != b.points[i].name || a.points[i].params != b.points[i].params) return false;
    return true;
}

struct Tally {
    int done = 0, running = 0, failed = 0, pending = 0, elsewhere = 0;
};

// Refreshes each point's state from its run folder (the truth; the manifest's state is a cache).
Tally refreshStates(Sweep& s) {
    Tally t;
    for (SweepPoint& p : s.points) {
        const PointProgress pr = pointProgress(s, p);
        if (pr.folder == PointProgress::Folder::Finished) {
            p.state = SweepPoint::State::Done;
            p.message.clear();
        } else if (pr.folder == PointProgress::Folder::Running) {
            p.state = SweepPoint::State::Running;
        } else if (p.state == SweepPoint::State::Done || p.state == SweepPoint::State::Running) {
            p.state = pr.folder == PointProgress::Folder::Missing ? SweepPoint::State::Pending : SweepPoint::State::Interrupted;
        }
        switch (p.state) {
        case SweepPoint::State::Done: ++t.done; break;
        case SweepPoint::State::Running: ++t.elsewhere; break;
        case SweepPoint::State::Failed: ++t.failed; break;
        default: ++t.pending; break;
        }
    }
    return t;
}

// --- the local runner ----------------------------------------------------------------------

struct Job {
    int point = -1;
    std::unique_ptr<QProcess> proc;
    std::unique_ptr<QFile> log;
    QByteArray output;   // kept for the error message (tail)
    double fraction = 0; // steps done / planned, from its "step a/b" lines
};

int runLocally(Sweep& s, int jobs, int threadsPerJob) {
    static const QRegularExpression stepLine("^step (\\d+)/(\\d+)");
    std::vector<int> queue;
    refreshStates(s);
    for (const SweepPoint& p : s.points)
        if (p.state != SweepPoint::State::Done && p.state != SweepPoint::State::Running) queue.push_back(p.index);
    int elsewhere = 0;
    for (const SweepPoint& p : s.points) elsewhere += p.state == SweepPoint::State::Running ? 1 : 0;
    const int total = int(s.points.size()), already = total - int(queue.size()) - elsewhere;
    out() << "sweep " << s.dir << ": " << total << " points; " << already << " finished, " << queue.size() << " to run"
          << (elsewhere ? QString(", %1 being trained by another process (left alone)").arg(elsewhere) : QString()) << "; "
          << jobs << " at a time, " << threadsPerJob << " thread" << (threadsPerJob == 1 ? "" : "s") << " each\n";
    out().flush();
    if (queue.empty()) return 0;
    if (Status st = writeSweep(s); !st) return fail(st.error());

    g_stop = false;
    std::signal(SIGINT, onSweepSignal);
    std::signal(SIGTERM, onSweepSignal);
    std::map<int, Job> running;
    std::size_t next = 0;
    int finishedNow = 0, failedNow = 0;
    double doneWork = 0;  // fractions of points completed this session
    QElapsedTimer clock;
    clock.start();
    QEventLoop loop;
    bool stopping = false;
    const QString self = QCoreApplication::applicationFilePath();

    auto save = [&] {
        if (Status st = writeSweep(s); !st) std::fprintf(stderr, "plateau-cli: %s\n", qPrintable(st.error()));
    };
    std::function<void()> startMore;
    auto finish = [&](int point, int exitCode, QProcess::ExitStatus status) {
        Job& j = running[point];
        if (j.proc->bytesAvailable()) {
            const QByteArray rest = j.proc->readAll();
            j.output += rest;
            if (j.log) j.log->write(rest);
        }
        SweepPoint& p = s.points[std::size_t(point)];
        const PointProgress pr = pointProgress(s, p);
        if (exitCode == 0 && status == QProcess::NormalExit && pr.folder == PointProgress::Folder::Finished) {
            p.state = SweepPoint::State::Done;
            p.message.clear();
            ++finishedNow;
            doneWork += 1;
        } else if (stopping || exitCode == 130) {
            p.state = SweepPoint::State::Interrupted;
            p.message = QString("stopped at step %1 of %2").arg(pr.stepsDone).arg(pr.stepsPlanned);
        } else {
            p.state = SweepPoint::State::Failed;
            p.message = status == QProcess::CrashExit ? "plateau-cli crashed (see " + s.logPath(p) + ")" : lastError(j.output);
            if (p.message.isEmpty()) p.message = QString("exit code %1").arg(exitCode);
            ++failedNow;
            std::fprintf(stderr, "sweep: point %s failed: %s\n", qPrintable(p.name), qPrintable(p.message));
        }
        if (j.log) j.log->close();
        running.erase(point);
        save();
        startMore();
        if (running.empty() && (stopping || next >= queue.size())) loop.quit();
    };
    startMore = [&] {
        while (!stopping && !g_stop && int(running.size()) < jobs && next < queue.size()) {
            const int point = queue[next++];
            SweepPoint& p = s.points[std::size_t(point)];
            Job& j = running[point];
            j.point = point;
            j.log = std::make_unique<QFile>(s.logPath(p));
            if (!j.log->open(QIODevice::Append)) {
                std::fprintf(stderr, "plateau-cli: %s: cannot write the point's log (%s)\n", qPrintable(s.logPath(p)),
                             qPrintable(j.log->errorString()));
                j.log.reset();
            } else {
                j.log->write(QString("=== %1 plateau-cli sweep-point %2 %3\n").arg(QDateTime::currentDateTime().toString(Qt::ISODate), s.dir)
                                 .arg(point).toUtf8());
            }
            j.proc = std::make_unique<QProcess>();
            j.proc->setProcessChannelMode(QProcess::MergedChannels);
            QProcess* proc = j.proc.get();
            QObject::connect(proc, &QProcess::readyRead, proc, [&, point] {
                Job& jj = running[point];
                const QByteArray chunk = jj.proc->readAll();
                if (jj.log) jj.log->write(chunk);
                jj.output += chunk;
                if (jj.output.size() > 65536) jj.output = jj.output.right(32768);
                for (const QByteArray& line : chunk.split('\n')) {
                    const auto m = stepLine.match(QString::fromLatin1(line));
                    if (m.hasMatch() && m.captured(2).toDouble() > 0) jj.fraction = m.captured(1).toDouble() / m.captured(2).toDouble();
                }
            });
            QObject::connect(proc, &QProcess::finished, proc, [&, point](int code, QProcess::ExitStatus st) {
                QTimer::singleShot(0, &loop, [&, point, code, st] { finish(point, code, st); });
            });
            p.state = SweepPoint::State::Running;
            p.message.clear();
            proc->start(self, {"sweep-point", s.dir, QString::number(point), "--threads", QString::number(threadsPerJob)});
            if (!proc->waitForStarted(10000)) {
                p.state = SweepPoint::State::Failed;
                p.message = "could not start " + self + ": " + proc->errorString();
                ++failedNow;
                running.erase(point);
            }
            save();
        }
    };
    auto progress = [&](bool final) {
        double inFlight = 0;
        for (const auto& [k, j] : running) inFlight += j.fraction;
        const double work = doneWork + inFlight;
        const int remaining = int(queue.size() - next) + int(running.size());
        const double secs = double(clock.elapsed()) / 1000.0;
        const double eta = work > 0.05 ? secs / work * (double(remaining) - inFlight) : NAN;
        out() << "sweep: " << already + finishedNow << "/" << total << " done, " << running.size() << " running, "
              << failedNow << " failed, " << queue.size() - next << " waiting; " << duration(secs) << " elapsed"
              << (final ? QString() : ", ETA " + duration(eta)) << "\n";
        out().flush();
    };
    QTimer tick;
    int ticks = 0;
    QObject::connect(&tick, &QTimer::timeout, &loop, [&] {
        if (g_stop && !stopping) {
            stopping = true;
            out() << "sweep: stopping (each running point checkpoints and stops; run the same command again to go on)\n";
            out().flush();
            for (auto& [k, j] : running) j.proc->terminate();  // SIGTERM: plateau-cli stops cleanly
        }
        if (++ticks % 50 == 0 && !stopping) progress(false);  // every 10 s
    });
    tick.start(200);
    startMore();
    if (!running.empty()) loop.exec();
    tick.stop();
    refreshStates(s);
    save();
    progress(true);
    if (stopping) return 130;
    int failed = 0;
    for (const SweepPoint& p : s.points) failed += p.state == SweepPoint::State::Failed ? 1 : 0;
    return failed ? 1 : 0;
}

// --- Slurm -------------------------------------------------------------------------------

QString sbatchScript(const Sweep& s, const std::vector<int>& indices, const Options& o, const QString& cli) {
    QString t;
    t += "#!/bin/bash\n";
    t += "# Plateau sweep " + s.dir + "\n";
    t += "# One Slurm array task per point; written by `plateau-cli sweep --slurm`. Each task runs\n";
    t += "# `plateau-cli sweep-point DIR INDEX`: `train` into runs/NAME, or `train --resume` when the\n";
    t += "# folder holds a checkpoint. Resubmit the unfinished points: plateau-cli sweep --resume DIR --slurm\n";
    t += "#SBATCH --job-name=plateau-" + QFileInfo(s.dir).fileName() + "\n";
    t += "#SBATCH --array=" + compressIndices(indices) + "\n";
    t += "#SBATCH --cpus-per-task=" + o.values.value("cpus-per-task", "1") + "\n";
    t += "#SBATCH --output=" + s.dir + "/logs/slurm-%A_%a.out\n";
    for (const QString& k : {QString("time"), QString("mem"), QString("partition"), QString("account")})
        if (o.values.contains(k)) t += "#SBATCH --" + k + "=" + o.values[k] + "\n";
    t += "#\n# index  run folder (DIR/runs/...)  parameters\n";
    for (int i : indices) {
        const SweepPoint& p = s.points[std::size_t(i)];
        t += QString("#   %1  %2  %3\n").arg(i).arg(p.name).arg(p.sets().join(' '));
    }
    t += "set -eu\n";
    t += "exec " + shellQuote(cli) + " sweep-point " + shellQuote(s.dir) +
         " \"$SLURM_ARRAY_TASK_ID\" --threads \"${SLURM_CPUS_PER_TASK:-1}\"\n";
    return t;
}

Result<QByteArray> runTool(const QString& program, const QStringList& args, int timeoutMs = 60000) {
    QProcess p;
    p.start(program, args);
    if (!p.waitForStarted(10000))
        return Error{program + " could not be started (" + p.errorString() + "): is Slurm installed here, and on PATH?"};
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        return Error{program + " did not answer within " + QString::number(timeoutMs / 1000) + " s"};
    }
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
        return Error{program + " " + args.join(' ') + ": " + QString::fromLocal8Bit(p.readAllStandardError()).trimmed()};
    return p.readAllStandardOutput();
}

int submitSlurm(Sweep& s, const Options& o) {
    for (const QString& k : {QString("cpus-per-task")})
        if (o.values.contains(k)) {
            auto v = integerOption(o, k, 1);
            if (!v) return fail(v.error());
        }
    if (o.values.contains("time")) {
        static const QRegularExpression re("^(\\d+-)?\\d+(:\\d{2}){0,2}$");
        if (!re.match(o.values["time"]).hasMatch())
            return fail("--time: expected minutes, MM:SS, HH:MM:SS or D-HH:MM:SS, got \"" + o.values["time"] + "\"");
    }
    refreshStates(s);
    std::vector<int> indices;
    for (const SweepPoint& p : s.points)
        if (p.state != SweepPoint::State::Done) indices.push_back(p.index);
    if (indices.empty()) {
        out() << "sweep " << s.dir << ": every point has finished; nothing to submit\n";
        return 0;
    }
    if (Status st = writeSweep(s); !st) return fail(st.error());  // makes the folders
    const QString script = s.dir + "/sweep.sbatch";
    {
        QSaveFile f(script);
        if (!f.open(QIODevice::WriteOnly)) return fail(script + ": cannot write (" + f.errorString() + ")");
        f.write(sbatchScript(s, indices, o, QCoreApplication::applicationFilePath()).toUtf8());
        if (!f.commit()) return fail(script + ": cannot write (" + f.errorString() + ")");
        QFile::setPermissions(script, QFile::permissions(script) | QFile::ExeOwner | QFile::ExeGroup);
    }
    if (Status st = writeSweep(s); !st) return fail(st.error());
    if (o.flags.contains("dry-run")) {
        out() << "wrote " << script << " (" << indices.size() << " array tasks); not submitted (--dry-run)\n";
        return 0;
    }
    auto r = runTool("sbatch", {"--parsable", script});
    if (!r) return fail(r.error());
    const QString jobId = QString::fromLocal8Bit(r.value()).trimmed().section(';', 0, 0);
    if (jobId.isEmpty() || !jobId.at(0).isDigit()) return fail("sbatch answered \"" + QString::fromLocal8Bit(r.value()).trimmed() + "\", not a job id");
    QJsonObject sub{{"job_id", jobId}, {"submitted", QDateTime::currentDateTime().toString(Qt::ISODate)},
                    {"array", compressIndices(indices)}, {"script", script}};
    for (const QString& k : kSlurmOptions)
        if (o.values.contains(k)) sub[k] = o.values[k];
    s.slurm.append(sub);
    for (int i : indices) {
        s.points[std::size_t(i)].state = SweepPoint::State::Pending;
        s.points[std::size_t(i)].message = "submitted as " + jobId + "_" + QString::number(i);
    }
    if (Status st = writeSweep(s); !st) return fail(st.error());
    out() << "submitted job array " << jobId << " (" << indices.size() << " points: " << compressIndices(indices) << "); follow it with: plateau-cli sweep-status " << s.dir << "\n";
    return 0;
}

struct SlurmView {
    QString state, exitCode, jobId;
};

// Slurm's view of each point from the sweep's submissions: squeue for what is queued or running,
// sacct for what has ended (the newest submission holding the index wins). Problems (no sacct,
// accounting off) go to *notes.
std::map<int, SlurmView> slurmStates(const Sweep& s, QStringList* notes) {
    std::map<int, SlurmView> view;
    QStringList ids;
    for (const QJsonValue& v : s.slurm) ids << v.toObject().value("job_id").toString();
    if (ids.isEmpty()) return view;
    auto put = [&](const QString& jobField, const QString& state, const QString& exitCode) {
        const QString job = jobField.section('_', 0, 0), idx = jobField.section('_', 1);
        if (idx.isEmpty() || jobField.contains('.')) return;  // a job step, or not an array task
        const int rank = int(ids.indexOf(job));
        for (int i : expandIndices(idx)) {
            auto it = view.find(i);
            if (it != view.end() && int(ids.indexOf(it->second.jobId)) > rank) continue;
            view[i] = {state, exitCode, job};
        }
    };
    auto acct = runTool("sacct", {"-j", ids.join(','), "--format=JobID,State,ExitCode", "--parsable2", "--noheader"});
    if (acct) {
        for (const QByteArray& line : acct.value().split('\n')) {
            const QStringList f = QString::fromLocal8Bit(line).trimmed().split('|');
            if (f.size() >= 3) put(f[0], f[1].section(' ', 0, 0), f[2]);
        }
    } else {
        *notes << "sacct: " + acct.error();
    }
    auto queue = runTool("squeue", {"-h", "-r", "-j", ids.join(','), "-o", "%i|%T"});
    if (queue) {
        for (const QByteArray& line : queue.value().split('\n')) {
            const QStringList f = QString::fromLocal8Bit(line).trimmed().split('|');
            if (f.size() >= 2) put(f[0], f[1], QString());
        }
    } else if (!queue.error().contains("Invalid job id")) {
        *notes << "squeue: " + queue.error();
    }
    return view;
}

QString pad(const QString& s, int w) { return s.leftJustified(w); }

// Prints a table as CSV (quoted where needed) or as aligned columns ("-" for empty cells).
void printTable(const QStringList& header, const QList<QStringList>& table, bool csv) {
    if (csv) {
        out() << header.join(',') << "\n";
        for (const QStringList& c : table) {
            QStringList q;
            for (const QString& v : c) q << (v.contains(',') || v.contains('"') ? "\"" + QString(v).replace("\"", "\"\"") + "\"" : v);
            out() << q.join(',') << "\n";
        }
        return;
    }
    std::vector<int> w(std::size_t(header.size()));
    for (int i = 0; i < header.size(); ++i) w[std::size_t(i)] = int(header[i].size());
    for (const QStringList& c : table)
        for (int i = 0; i < c.size() && i < header.size(); ++i) w[std::size_t(i)] = std::max(w[std::size_t(i)], int(c[i].size()));
    for (int i = 0; i < header.size(); ++i) out() << pad(header[i], w[std::size_t(i)] + 2);
    out() << "\n";
    for (const QStringList& c : table) {
        for (int i = 0; i < c.size() && i < header.size(); ++i) out() << pad(c[i].isEmpty() ? "-" : c[i], w[std::size_t(i)] + 2);
        out() << "\n";
    }
}

double median(std::vector<double> v) {
    if (v.empty()) return NAN;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
double quantile(std::vector<double> v, double q) {
    if (v.empty()) return NAN;
    std::sort(v.begin(), v.end());
    const double at = q * double(v.size() - 1);
    const std::size_t lo = std::size_t(std::floor(at)), hi = std::size_t(std::ceil(at));
    return v[lo] + (v[hi] - v[lo]) * (at - double(lo));
}

}  // namespace

int sweep(const QStringList& args) {
    auto o = parse(args, {"preset", "config", "file", "out", "resume", "jobs", "threads-per-job", "random-seed", "partition",
                          "time", "cpus-per-task", "mem", "account", "stop-after-drop"},
                   {"slurm", "dry-run"}, {"grid", "random"});
    if (!o) return fail(o.error());
    if (!o->positional.isEmpty()) return fail("sweep: unexpected argument \"" + o->positional.first() + "\"");
    const bool slurm = o->flags.contains("slurm");
    if (!slurm)
        for (const QString& k : kSlurmOptions)
            if (o->values.contains(k) || o->flags.contains(k)) return fail("--" + k + " is a Slurm option: give --slurm with it");
    Sweep s;
    if (o->values.contains("resume")) {
        for (const char* bad : {"preset", "config", "file", "out", "random-seed", "stop-after-drop"})
            if (o->values.contains(bad)) return fail(QString("--resume continues a sweep as it was defined; --") + bad + " is not allowed with it");
        if (!o->sets.isEmpty() || !o->repeated.isEmpty())
            return fail("--resume continues a sweep as it was defined; --set, --grid and --random are not allowed with it");
        auto r = readSweep(o->values["resume"]);
        if (!r) return fail(r.error());
        s = std::move(r.value());
    } else {
        if (!o->values.contains("out")) return fail("sweep: --out DIR is required");
        auto defined = defineFromOptions(o.value());
        if (!defined) return fail(defined.error());
        s = std::move(defined.value());
        if (o->values.contains("stop-after-drop")) {
            auto k = integerOption(o.value(), "stop-after-drop", 0);
            if (!k) return fail(k.error());
            s.stopAfterDrop = k.value();
        }
        if (isSweepDir(s.dir)) {
            auto existing = readSweep(s.dir);
            if (!existing) return fail(existing.error());
            if (!sameDefinition(existing.value(), s))
                return fail(s.dir + " already holds a different sweep (another base config or other points); choose another "
                            "--out, or continue that one with: plateau-cli sweep --resume " + s.dir);
            s = std::move(existing.value());
            out() << "continuing the sweep already in " << s.dir << "\n";
        } else if (QFileInfo(s.dir).exists() && !QDir(s.dir).isEmpty()) {
            return fail(s.dir + ": not empty and not a sweep folder; choose another --out");
        }
    }
    if (slurm) return submitSlurm(s, o.value());
    if (o->flags.contains("dry-run")) {
        // Defined and written, nothing run: the points, for a look (or to place finished runs in).
        refreshStates(s);
        if (Status st = writeSweep(s); !st) return fail(st.error());
        out() << "sweep " << s.dir << ": " << s.points.size() << " points (not run: --dry-run)\n";
        for (const SweepPoint& p : s.points)
            out() << "  " << p.index << "  " << p.name << "  " << SweepPoint::stateName(p.state) << "  " << p.sets().join(' ') << "\n";
        return 0;
    }
    const int cores = std::max(1, QThread::idealThreadCount());
    int tpj = 0, jobs = 0;
    if (o->values.contains("threads-per-job")) {
        auto v = integerOption(o.value(), "threads-per-job", 1);
        if (!v) return fail(v.error());
        tpj = int(v.value());
    }
    if (o->values.contains("jobs")) {
        auto v = integerOption(o.value(), "jobs", 1);
        if (!v) return fail(v.error());
        jobs = int(v.value());
    }
    // Defaults: one single-threaded point per core (small models scale poorly across threads,
    // and points are independent).
    if (tpj == 0) tpj = jobs > 0 ? std::max(1, cores / jobs) : 1;
    if (jobs == 0) jobs = std::max(1, cores / tpj);
    if (jobs * tpj > 4 * cores)
        std::fprintf(stderr, "warning: --jobs %d x --threads-per-job %d = %d threads on %d cores\n", jobs, tpj, jobs * tpj, cores);
    return runLocally(s, jobs, tpj);
}

int sweepPoint(const QStringList& args) {
    auto o = parse(args, {"threads"}, {});
    if (!o) return fail(o.error());
    if (o->positional.size() != 2) return fail("sweep-point: expected SWEEP_DIR INDEX");
    auto r = readSweep(o->positional[0]);
    if (!r) return fail(r.error());
    const Sweep& s = r.value();
    const int i = s.find(o->positional[1]);
    if (i < 0)
        return fail(s.manifestPath() + ": no point \"" + o->positional[1] + "\" (indices 0.." + QString::number(s.points.size() - 1) + ")");
    const SweepPoint& p = s.points[std::size_t(i)];
    const QString dir = s.runDir(p);
    const PointProgress pr = pointProgress(s, p);
    const QStringList stopArgs = s.stopAfterDrop >= 0 ? QStringList{"--stop-after-drop", QString::number(s.stopAfterDrop)} : QStringList{};
    out() << "sweep point " << i << " " << p.name << ": " << p.sets().join(' ') << "\n";
    out().flush();
    switch (pr.folder) {
    case PointProgress::Folder::Finished:
        out() << dir << ": already finished (" << pr.stepsDone << " steps" << (pr.stoppedAfterDrop ? ", stopped after the drop" : "") << ")\n";
        return 0;
    case PointProgress::Folder::Running: return fail(dir + ": being trained by another process");
    case PointProgress::Folder::Unreadable:
        if (!pr.resumable) return fail(dir + ": " + pr.problem);
        break;
    case PointProgress::Folder::Stopped:
        if (pr.resumable) return trainCommand(QStringList{"--resume", dir} + stopArgs);
        {
            // Stopped before its first checkpoint: kept beside, and the point starts over.
            QString aside;
            for (int k = 1; aside.isEmpty() || QFileInfo::exists(aside); ++k) aside = s.dir + "/runs/." + p.name + ".attempt-" + QString::number(k);
            if (!QDir().rename(dir, aside)) return fail(dir + ": stopped before its first checkpoint, and cannot be moved aside to " + aside);
            out() << dir << ": stopped before its first checkpoint; kept as " << aside << ", starting over\n";
        }
        break;
    case PointProgress::Folder::Missing: break;
    }
    if (pr.folder == PointProgress::Folder::Unreadable && pr.resumable) return trainCommand(QStringList{"--resume", dir} + stopArgs);
    QStringList trainArgs = QStringList{"--config", s.basePath(), "--out", dir} + stopArgs;
    for (const QString& set : p.sets()) trainArgs << "--set" << set;
    if (o->values.contains("threads")) trainArgs << "--threads" << o->values["threads"];
    return trainCommand(trainArgs);
}

int sweepStatus(const QStringList& args) {
    auto o = parse(args, {}, {"json"});
    if (!o) return fail(o.error());
    if (o->positional.size() != 1) return fail("sweep-status: expected one sweep folder");
    auto r = readSweep(o->positional.first());
    if (!r) return fail(r.error());
    Sweep& s = r.value();
    QStringList notes;
    const std::map<int, SlurmView> slurm = slurmStates(s, &notes);
    QJsonArray rows;
    int counts[5] = {0, 0, 0, 0, 0};
    for (const SweepPoint& p : s.points) {
        const PointProgress pr = pointProgress(s, p);
        QJsonObject row{{"index", p.index}, {"name", p.name}, {"folder", folderName(pr.folder)},
                        {"steps_done", double(pr.stepsDone)}, {"steps_planned", double(pr.stepsPlanned)},
                        {"resumable", pr.resumable}};
        QJsonObject params;
        for (const auto& [k, v] : p.params) params[k] = v;
        row["params"] = params;
        QString state = pr.folder == PointProgress::Folder::Finished ? "done" : pr.folder == PointProgress::Folder::Running ? "running"
                        : SweepPoint::stateName(p.state);
        if (auto it = slurm.find(p.index); it != slurm.end()) {
            row["slurm_job"] = it->second.jobId + "_" + QString::number(p.index);
            row["slurm_state"] = it->second.state;
            if (!it->second.exitCode.isEmpty()) row["slurm_exit"] = it->second.exitCode;
            const QString st = it->second.state;
            if (pr.folder != PointProgress::Folder::Finished) {
                if (st == "PENDING") state = "queued";
                else if (st == "RUNNING" || st == "COMPLETING") state = "running";
                else if (st != "COMPLETED") state = "failed";
            }
            if (state == "failed" && p.message.isEmpty()) {
                const QString log = s.dir + "/logs/slurm-" + it->second.jobId + "_" + QString::number(p.index) + ".out";
                const QString e = lastError(tailOf(log));
                if (!e.isEmpty()) row["message"] = e;
            }
        }
        if (!p.message.isEmpty() && state != "done") row["message"] = p.message;
        row["state"] = state;
        const QStringList order{"done", "running", "queued", "failed"};
        counts[order.contains(state) ? order.indexOf(state) : 4]++;
        rows.append(row);
    }
    if (o->flags.contains("json")) {
        QJsonObject root{{"sweep", s.dir}, {"points", rows}, {"notes", QJsonArray::fromStringList(notes)}, {"slurm", s.slurm}};
        out() << QJsonDocument(root).toJson(QJsonDocument::Indented);
        return 0;
    }
    out() << "sweep " << s.dir << ": " << s.points.size() << " points: " << counts[0] << " done, " << counts[1] << " running, "
          << counts[2] << " queued, " << counts[3] << " failed, " << counts[4] << " not started or stopped\n";
    int w = 4;
    for (const SweepPoint& p : s.points) w = std::max(w, int(p.name.size()));
    out() << pad("idx", 5) << pad("point", w + 2) << pad("state", 12) << pad("steps", 16) << pad("slurm", 22) << "message\n";
    for (const QJsonValue& v : rows) {
        const QJsonObject row = v.toObject();
        const QString steps = QString("%1/%2").arg(qint64(row["steps_done"].toDouble())).arg(qint64(row["steps_planned"].toDouble()));
        const QString sl = row.contains("slurm_job") ? row["slurm_job"].toString() + " " + row["slurm_state"].toString() : QString("-");
        out() << pad(QString::number(row["index"].toInt()), 5) << pad(row["name"].toString(), w + 2) << pad(row["state"].toString(), 12)
              << pad(steps, 16) << pad(sl, 22) << row["message"].toString() << "\n";
    }
    for (const QString& n : notes) out() << "note: " << n << "\n";
    return 0;
}

int sweepSummary(const QStringList& args) {
    auto o = parse(args, {"by"}, {"csv", "json"});
    if (!o) return fail(o.error());
    if (o->positional.size() != 1) return fail("sweep-summary: expected one sweep folder");
    auto r = readSweep(o->positional.first());
    if (!r) return fail(r.error());
    const Sweep& s = r.value();
    const QString by = o->values.value("by");
    if (!by.isEmpty() && !s.keys().contains(by))
        return fail("--by: \"" + by + "\" is not a swept key (" + s.keys().join(", ") + ")");
    // Per point: its run's summary (missing folders are listed as not started).
    QStringList finalKeys;
    struct Row {
        const SweepPoint* p;
        QString state;
        QJsonObject summary, drop;
        bool dropped = false;   // a complete drop (levelled off after it)
        bool falling = false;   // no complete drop, but one still under way where the run ends
    };
    // Each run's summary on its own thread (a store, and its SQLite connection, per call).
    std::vector<Row> rowsOut(s.points.size());
    std::vector<Result<QJsonObject>> sums(s.points.size(), Error{QString()});
    std::vector<PointProgress> progress(s.points.size());
    forEachIndexInParallel(s.points.size(), 8, [&](std::size_t i) {
        progress[i] = pointProgress(s, s.points[i]);
        if (QFileInfo::exists(s.runDir(s.points[i]) + "/config.json")) sums[i] = runSummary(s.runDir(s.points[i]));
    });
    for (std::size_t i = 0; i < s.points.size(); ++i) {
        const SweepPoint& p = s.points[i];
        Row row{&p, folderName(progress[i].folder), {}, {}, false};
        if (QFileInfo::exists(s.runDir(p) + "/config.json")) {
            const auto& sum = sums[i];
            if (sum) {
                row.summary = sum->value("summary").toObject();
                for (const QJsonValue& d : sum->value("detection").toObject().value("drops").toArray()) {
                    if (d.toObject().value("complete").toBool()) {
                        row.drop = d.toObject();
                        row.dropped = true;
                        row.falling = false;
                        break;
                    }
                    if (!row.falling) {  // the first incomplete one, unless a complete one follows
                        row.drop = d.toObject();
                        row.falling = true;
                    }
                }
                for (auto it = row.summary.begin(); it != row.summary.end(); ++it)
                    if (it.key().startsWith("final_") && !finalKeys.contains(it.key())) finalKeys << it.key();
            } else {
                row.state = "unreadable: " + sum.error();
            }
        }
        rowsOut[i] = row;
    }
    auto field = [](const QJsonObject& o, const QString& k) { return o.contains(k) && !o.value(k).isNull() ? o.value(k).toDouble() : NAN; };
    auto cell = [](double v, bool integer = false) {
        if (!std::isfinite(v)) return QString();
        return integer ? QString::number(qint64(std::llround(v))) : QString::number(v, 'g', 6);
    };
    if (by.isEmpty()) {
        QStringList header = s.keys();
        header << "state" << "steps_done" << "drop" << "plateau_start_step" << "onset_step" << "end_step" << "onset_s" << "end_s"
               << "factor" << finalKeys;
        QList<QStringList> table;
        for (const Row& row : rowsOut) {
            QStringList c;
            for (const QString& k : s.keys()) c << s.param(*row.p, k);
            c << row.state << cell(field(row.summary, "steps_done"), true)
              << (row.dropped ? "complete" : row.falling ? "falling at end" : "");
            const QJsonObject& d = row.drop;
            c << cell(field(d, "plateau_start_step"), true) << cell(field(d, "onset_step"), true)
              << cell(field(d, "end_step"), true) << cell(field(d, "onset_time_s")) << cell(field(d, "end_time_s"))
              << cell(field(d, "factor"));
            for (const QString& k : finalKeys) c << cell(field(row.summary, k));
            table << c;
        }
        printTable(header, table, o->flags.contains("csv"));
        return 0;
    }
    // Grouped by one parameter: the points that dropped, the drop step's median and spread.
    const QStringList values = s.values(by);
    const QStringList header{by, "points", "finished", "dropped", "share_dropped", "onset_median", "onset_q25", "onset_q75",
                             "onset_min", "onset_max", "end_median", "onset_s_median", "factor_median", "falling_at_end",
                             "falling_onsets"};
    QList<QStringList> table;
    for (const QString& v : values) {
        int n = 0, finished = 0, dropped = 0, falling = 0;
        std::vector<double> onset, end, onsetS, factor;
        QStringList fallingOnsets;
        for (const Row& row : rowsOut) {
            if (s.param(*row.p, by) != v) continue;
            ++n;
            finished += row.state == "finished" ? 1 : 0;
            if (row.falling) {
                ++falling;
                fallingOnsets << cell(field(row.drop, "onset_step"), true);
            }
            if (!row.dropped) continue;
            ++dropped;
            onset.push_back(field(row.drop, "onset_step"));
            end.push_back(field(row.drop, "end_step"));
            if (std::isfinite(field(row.drop, "onset_time_s"))) onsetS.push_back(field(row.drop, "onset_time_s"));
            factor.push_back(field(row.drop, "factor"));
        }
        const double share = finished > 0 ? double(dropped) / double(std::max(finished, dropped)) : NAN;
        table << QStringList{v, QString::number(n), QString::number(finished), QString::number(dropped), cell(share),
                             cell(median(onset), true), cell(quantile(onset, 0.25), true), cell(quantile(onset, 0.75), true),
                             cell(onset.empty() ? NAN : *std::min_element(onset.begin(), onset.end()), true),
                             cell(onset.empty() ? NAN : *std::max_element(onset.begin(), onset.end()), true),
                             cell(median(end), true), cell(median(onsetS)), cell(median(factor)), QString::number(falling),
                             fallingOnsets.join(' ')};
    }
    printTable(header, table, o->flags.contains("csv"));
    if (o->flags.contains("csv")) return 0;
    out() << "share_dropped: of the finished points (a drop seen in an unfinished one counts too); onset quantiles over "
             "the points that dropped; falling_at_end: points whose drop began but had not levelled off when the run "
             "ended (not counted as dropped; their onsets listed)\n";
    return 0;
}

}  // namespace plateau::cli
