// plateau-bench-gui: training speed with the GUI showing all four views against the same run
// headless (same preset, seed, steps, threads), interleaved rounds in one process, and the longest
// stall of the GUI thread's event loop while training streams to the views.
// With --analysis ID: the GUI training alone against the GUI training while the Analyses dock runs
// that analysis again and again on the live run's checkpoints (every --checkpoint-every steps):
// what the analysis costs training, and the GUI thread's longest stall meanwhile.
// usage: plateau-bench-gui [--preset NAME] [--steps N] [--rounds R] [--set k=v ...] [--analysis ID [--checkpoint-every N]
//                          [--analysis-set k=v ...]]
#include <torch/torch.h>  // before Qt

#include "analyses_dock.h"
#include "attention_view.h"
#include "config.h"
#include "main_window.h"
#include "run/run_store.h"
#include "runtime_env.h"
#include "session_model.h"
#include "train/training_session.h"
#include "training_controller.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <functional>
#include <chrono>
#include <ctime>
#include <random>
#include <unistd.h>
#include <cstdio>

using namespace plateau;

namespace {
double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

// Mean time inside training steps (the trainer's own stepMs) of the run stored in `dir`: with
// the wall time it tells whether the GUI slows the steps themselves (CPU contention) or adds
// time between them (snapshots, signals, the detector).
double meanStepMs(const QString& dir) {
    auto store = RunStore::open(dir, true);
    if (!store) return 0;
    auto rows = store.value()->readMetrics();
    if (!rows || rows->empty()) return 0;
    double sum = 0;
    for (const StepMetrics& m : rows.value()) sum += m.stepMs;
    return sum / double(rows->size());
}

// Steps per second of a headless TrainingSession (what plateau-cli runs), wall clock.
double headless(const RunConfig& cfg, const QString& dir) {
    auto session = TrainingSession::create(cfg, dir);
    if (!session) {
        std::fprintf(stderr, "%s\n", qPrintable(session.error()));
        std::exit(2);
    }
    TrainControl control;
    const auto t0 = std::chrono::steady_clock::now();
    if (Status st = session.value()->run(control, {}, 0.25); !st) {  // as plateau-cli train
        std::fprintf(stderr, "%s\n", qPrintable(st.error()));
        std::exit(2);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return double(cfg.train.steps) / s;
}

struct GuiResult {
    double stepsPerSec = 0, maxStallMs = 0, p99StallMs = 0;
    std::size_t snapshots = 0;
    double snapshotMs = 0;  // median build time on the worker
    double guiCpuShare = 0; // CPU time of the GUI thread / wall time of the run
    double xCpuShare = -1;  // CPU time of the X server (Xvfb/Xorg) / wall time, -1 when not found
    qint64 lastInterval = 0;
    int analyses = 0;       // analyses completed during the run (--analysis)
};

struct AnalysisLoad {
    QString id;
    QStringList sets;
    bool on() const { return !id.isEmpty(); }
};

// The GUI thread is blocked exactly while it dispatches an event (input, timers, queued
// signals, paints all go through notify()), so the longest top-level dispatch is the longest
// event-loop stall. Measured without adding wake-ups (a probe timer would itself compete with
// the training threads for the two cores).
class BenchApp : public QApplication {
public:
    using QApplication::QApplication;
    bool notify(QObject* receiver, QEvent* event) override {
        if (!recording || depth > 0) return QApplication::notify(receiver, event);
        ++depth;
        const auto t0 = std::chrono::steady_clock::now();
        const bool r = QApplication::notify(receiver, event);
        dispatchMs.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        --depth;
        return r;
    }
    bool recording = false;
    int depth = 0;
    std::vector<double> dispatchMs;
};
BenchApp* app = nullptr;

// CPU seconds the X server has used (it draws what the GUI sends: its time competes with
// training too), or -1 when there is none to be found (offscreen, Wayland).
double xServerCpu() {
    const QDir proc("/proc");
    for (const QString& pid : proc.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile comm(proc.filePath(pid + "/comm"));
        if (!comm.open(QIODevice::ReadOnly)) continue;
        const QByteArray name = comm.readAll().trimmed();
        if (name != "Xvfb" && name != "Xorg" && name != "X") continue;
        QFile stat(proc.filePath(pid + "/stat"));
        if (!stat.open(QIODevice::ReadOnly)) continue;
        const QByteArray line = stat.readAll();
        const QList<QByteArray> f = line.mid(line.lastIndexOf(')') + 2).split(' ');
        if (f.size() < 13) continue;
        return (f[11].toDouble() + f[12].toDouble()) / double(sysconf(_SC_CLK_TCK));  // utime + stime
    }
    return -1;
}

GuiResult withGui(const RunConfig& cfg, const QString& dir, const QString& only, int scrubEveryMs, const AnalysisLoad& load = {}) {
    MainWindow w;
    int analysesDone = 0;
    bool training = false;
    std::function<void()> again;  // lives as long as the window: the connections call it
    if (load.on()) {
        // The dock analyses another run (the live run's folder changes under it), again and again
        // while training lasts, with one thread as it does beside live training.
        w.analysesDock()->show();
        AnalysesDock* d = w.analyses();
        // The analysis reads the live run's own checkpoints ("all": more each time), as a user
        // analysing the run being trained would; retried until the first checkpoint exists.
        again = [&, d] {
            if (!training) return;
            d->setTrainingActive(true);
            if (d->isRunning()) return;
            if (!d->selectAnalysis(load.id)) return;
            for (const QString& kv : load.sets) d->setParam(kv.section('=', 0, 0), kv.section('=', 1));
            d->setSteps("all");
            if (!d->run()) QTimer::singleShot(500, &w, again);
        };
        QObject::connect(d, &AnalysesDock::analysisFinished, &w, [&](const QString&, const QString& err) {
            if (!err.isEmpty() && !err.contains("cancelled")) std::fprintf(stderr, "analysis: %s\n", qPrintable(err));
            else if (err.isEmpty()) ++analysesDone;
            QTimer::singleShot(0, &w, again);
        });
        QObject::connect(w.controller(), &TrainingController::started, &w, [&] {
            training = true;
            QTimer::singleShot(0, &w, again);
        });
    }
    w.resize(1500, 950);
    w.show();
    for (QDockWidget* d : w.docks()) d->setVisible(only.isEmpty() || d->windowTitle().compare(only, Qt::CaseInsensitive) == 0);
    QElapsedTimer clock;
    qint64 t0 = -1, t1 = -1;
    QObject::connect(w.controller(), &TrainingController::started, &w, [&] { t0 = clock.nsecsElapsed(); });
    QEventLoop loop;
    QObject::connect(w.controller(), &TrainingController::finished, &w, [&](qint64, const QString& err) {
        t1 = clock.nsecsElapsed();
        training = false;
        if (!err.isEmpty()) std::fprintf(stderr, "%s\n", qPrintable(err));
        loop.quit();
    });
    auto threadCpu = [] {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return double(ts.tv_sec) + ts.tv_nsec / 1e9;
    };
    double cpu0 = 0, cpu1 = 0;
    QObject::connect(w.controller(), &TrainingController::started, &w, [&] { cpu0 = threadCpu(); });
    QObject::connect(w.controller(), &TrainingController::finished, &w, [&] { cpu1 = threadCpu(); });
    double xCpu0 = 0, xCpu1 = 0;
    QObject::connect(w.controller(), &TrainingController::started, &w, [&] { app->recording = true; xCpu0 = xServerCpu(); });
    QObject::connect(w.controller(), &TrainingController::finished, &w, [&] { app->recording = false; xCpu1 = xServerCpu(); });
    app->dispatchMs.clear();
    // Optional: a user scrubbing back and forth through the live run the whole time.
    QTimer scrub;
    std::mt19937 rng(3);
    QObject::connect(&scrub, &QTimer::timeout, &w, [&] {
        const int n = int(w.session()->snapshots().size());
        if (n > 1) w.session()->setCurrentIndex(std::uniform_int_distribution<int>(0, n - 1)(rng));
    });
    if (scrubEveryMs > 0) scrub.start(scrubEveryMs);
    clock.start();
    w.startRun(cfg, dir);
    loop.exec();
    std::vector<double> gaps = app->dispatchMs;
    GuiResult r;
    r.stepsPerSec = double(cfg.train.steps) / ((t1 - t0) / 1e9);
    r.guiCpuShare = (cpu1 - cpu0) / ((t1 - t0) / 1e9);
    r.xCpuShare = xCpu1 >= 0 && xCpu0 >= 0 ? (xCpu1 - xCpu0) / ((t1 - t0) / 1e9) : -1;
    std::sort(gaps.begin(), gaps.end());
    r.maxStallMs = gaps.empty() ? 0 : gaps.back();
    r.p99StallMs = gaps.empty() ? 0 : gaps[std::size_t(0.99 * double(gaps.size() - 1))];
    const auto& snaps = w.session()->snapshots();
    r.snapshots = snaps.size();
    std::vector<double> build;
    for (const auto& s : snaps) build.push_back(s->buildMs);
    r.snapshotMs = median(build);
    r.lastInterval = snaps.size() >= 2 ? snaps.back()->step - snaps[snaps.size() - 2]->step : 0;
    w.analyses()->cancel();
    w.analyses()->waitForFinished();
    r.analyses = analysesDone;
    w.close();
    return r;
}
}  // namespace

int main(int argc, char** argv) {
    prepareProcess(argc, argv);
    BenchApp benchApp(argc, argv);
    app = &benchApp;
    QApplication::setApplicationName("plateau-bench");
    QStandardPaths::setTestModeEnabled(true);
    QCommandLineParser p;
    p.addHelpOption();
    p.addOption({"preset", "preset (default quick)", "name", "quick"});
    p.addOption({"steps", "steps per measurement (default 600)", "n", "600"});
    p.addOption({"rounds", "interleaved rounds (default 10)", "r", "10"});
    p.addOption({"set", "config override", "k=v"});
    p.addOption({"scrub-every", "while the GUI trains, jump to a random snapshot every MS milliseconds (a user scrubbing)", "ms", "0"});
    p.addOption({"only", "show only this dock (Loss, Attention, Predictions, Spectra): where the GUI's time goes", "dock"});
    p.addOption({"analysis", "compare the GUI training alone with the GUI training while the Analyses dock runs ID", "id"});
    p.addOption({"checkpoint-every", "with --analysis: checkpoints of the live run every N steps (default 100)", "n", "100"});
    p.addOption({"analysis-set", "analysis parameter", "k=v"});
    p.process(benchApp);
    auto cfg = loadPreset(p.value("preset"));
    if (!cfg) {
        std::fprintf(stderr, "%s\n", qPrintable(cfg.error()));
        return 2;
    }
    cfg->train.steps = p.value("steps").toLongLong();
    cfg->train.checkpointEvery = 0;
    for (const QString& s : p.values("set"))
        if (Status st = applyOverride(cfg.value(), s); !st) {
            std::fprintf(stderr, "%s\n", qPrintable(st.error()));
            return 2;
        }
    const RuntimeReport rt = configureRuntime(cfg->train.threads);
    std::printf("runtime: %s\nplatform: %s\npreset %s, %lld steps per measurement, docks shown: %s\n",
                qPrintable(rt.summary()), qPrintable(QGuiApplication::platformName()), qPrintable(p.value("preset")),
                cfg->train.steps, p.isSet("only") ? qPrintable(p.value("only")) : "all four");
    QTemporaryDir tmp;
    if (p.isSet("analysis")) {
        AnalysisLoad load{p.value("analysis"), p.values("analysis-set")};
        cfg->train.checkpointEvery = p.value("checkpoint-every").toInt();  // checkpoints to analyse
        const int rounds = p.value("rounds").toInt();
        std::vector<double> alone, beside, stallA, stallB;
        int done = 0;
        for (int r = 0; r < rounds; ++r) {
            const GuiResult a = withGui(cfg.value(), tmp.filePath(QString("a%1").arg(r)), {}, 0);
            const GuiResult b = withGui(cfg.value(), tmp.filePath(QString("b%1").arg(r)), {}, 0, load);
            alone.push_back(a.stepsPerSec), beside.push_back(b.stepsPerSec);
            stallA.push_back(a.maxStallMs), stallB.push_back(b.maxStallMs);
            done += b.analyses;
            std::printf("round %d: GUI training %.1f steps/s alone, %.1f beside %s (%.3f; %d analyses done), longest "
                        "GUI-thread stall %.1f ms alone, %.1f ms beside (p99 %.1f ms)\n",
                        r + 1, a.stepsPerSec, b.stepsPerSec, qPrintable(load.id), b.stepsPerSec / a.stepsPerSec, b.analyses,
                        a.maxStallMs, b.maxStallMs, b.p99StallMs);
            std::fflush(stdout);
        }
        const int threads = cfg->train.threads > 0 ? cfg->train.threads : coreCount();
        std::printf("median: training keeps %.1f %% of its speed beside %s (%d analyses in all); one thread's share of %d "
                    "would leave >= %.1f %%\n",
                    100 * median(beside) / median(alone), qPrintable(load.id), done, threads, 100.0 * (threads - 1) / threads);
        std::printf("longest GUI-thread stall beside the analysis: %.1f ms (goal <= 50 ms); alone %.1f ms\n",
                    *std::max_element(stallB.begin(), stallB.end()), *std::max_element(stallA.begin(), stallA.end()));
        return 0;
    }
    std::vector<double> h, g, stall, p99, hIn, gIn, hOut, gOut;
    std::size_t snaps = 0;
    const int rounds = p.value("rounds").toInt();
    for (int r = 0; r < rounds; ++r) {
        h.push_back(headless(cfg.value(), tmp.filePath(QString("h%1").arg(r))));
        const GuiResult gr = withGui(cfg.value(), tmp.filePath(QString("g%1").arg(r)), p.value("only"), p.value("scrub-every").toInt());
        g.push_back(gr.stepsPerSec);
        const double hStep = meanStepMs(tmp.filePath(QString("h%1").arg(r)));
        const double gStep = meanStepMs(tmp.filePath(QString("g%1").arg(r)));
        hIn.push_back(hStep);
        gIn.push_back(gStep);
        hOut.push_back(1000.0 / h.back() - hStep);
        gOut.push_back(1000.0 / g.back() - gStep);
        stall.push_back(gr.maxStallMs);
        p99.push_back(gr.p99StallMs);
        snaps = gr.snapshots;
        std::printf("round %d: headless %.1f steps/s, GUI %.1f steps/s (%.3f), longest GUI-thread stall %.1f ms (p99 %.1f ms), "
                    "%zu snapshots (%.1f ms each on the worker, last interval %lld steps), GUI thread busy %.1f %% of a core, X server %.1f %%\n",
                    r + 1, h.back(), g.back(), g.back() / h.back(), gr.maxStallMs, gr.p99StallMs, gr.snapshots,
                    gr.snapshotMs, gr.lastInterval, 100 * gr.guiCpuShare, 100 * gr.xCpuShare);
        std::printf("         per step: headless %.2f ms in the step + %.2f ms around it; GUI %.2f ms + %.2f ms\n",
                    hStep, hOut.back(), gStep, gOut.back());
        std::fflush(stdout);
    }
    const double ratio = median(g) / median(h);
    std::vector<double> ratios;
    for (std::size_t i = 0; i < g.size(); ++i) ratios.push_back(g[i] / h[i]);
    const double worstStall = *std::max_element(stall.begin(), stall.end());
    std::printf("median: headless %.1f steps/s, GUI %.1f steps/s: GUI keeps %.1f %% of headless speed (goal >= 95 %%)\n",
                median(h), median(g), 100 * ratio);
    std::printf("median of the per-round ratios: %.1f %%\n", 100 * median(ratios));
    std::printf("median per step: headless %.2f ms in steps + %.2f ms around them, GUI %.2f ms + %.2f ms\n",
                median(hIn), median(hOut), median(gIn), median(gOut));
    std::printf("longest GUI-thread stall over all rounds: %.1f ms (goal <= 50 ms); median p99 %.1f ms\n", worstStall, median(p99));
    return 0;
}
