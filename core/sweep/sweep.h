// A sweep: many runs of one base configuration as one study. Defined once (a base config, --set
// overrides, axes), expanded into points (one run folder each, named by its parameters), and
// recorded in SWEEP_DIR/sweep.json, the manifest that the local runner, the Slurm job array,
// `sweep-status`, `sweep-summary` and the GUI all read. No torch; any thread.
//
// Folder layout:
//   SWEEP_DIR/sweep.json      the manifest (format 1): base, axes, points and their states
//   SWEEP_DIR/base.json       the resolved base config (a config file: `train --config` reads it)
//   SWEEP_DIR/runs/NAME/      one run folder per point
//   SWEEP_DIR/logs/NAME.log   each point's plateau-cli output (local runner; Slurm: slurm-*.out)
//   SWEEP_DIR/sweep.sbatch    the Slurm job array, when --slurm wrote one
#pragma once

#include "config.h"
#include "result.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <utility>
#include <vector>

namespace plateau {

// One axis of the sweep, as typed and as expanded.
//   grid    key=v1,v2,...          the values as given (any JSON value a --set accepts)
//   range   key=a..b[:step]        a, a+step, ... up to b (step 1 by default; integers stay integers)
//   random  key=lo:hi:N[:log]      N values drawn uniformly (log-uniformly with :log) from [lo, hi];
//                                  integers when lo and hi are both integers (and no :log)
//   linked  k1,k2=a1/b1,a2/b2,...  a grid over several keys that move together (model.width with
//                                  model.ffn, say): each value gives every key its part, in order
// Random axes are drawn jointly: the sweep has N random samples (every random key drawn once per
// sample, from the sweep's seed), crossed with the grid and range axes; all random axes must
// agree on N.
struct SweepAxis {
    enum class Kind { Grid, Range, Random };
    Kind kind = Kind::Grid;
    QString key;
    QString spec;          // as typed, after "key="
    QStringList values;    // grid / range: expanded; random: the drawn values, in sample order
    static QString kindName(Kind k);
    // The config keys this axis sets: one, or several for a linked grid ("k1,k2").
    QStringList keys() const;
    // The (key, value) pairs that the axis's value `v` sets.
    std::vector<std::pair<QString, QString>> assignments(const QString& v) const;
};

// Parses "key=spec" of a --grid (grid or range) or --random option; `where` names the option in errors.
Result<SweepAxis> parseSweepAxis(const QString& text, bool random, const QString& where);

struct SweepPoint {
    enum class State { Pending, Running, Done, Failed, Interrupted };
    int index = 0;
    QString name;                                  // the run folder under runs/
    std::vector<std::pair<QString, QString>> params;  // key -> value, in axis order
    State state = State::Pending;
    QString message;                               // why it failed / was interrupted
    static QString stateName(State s);
    static Result<State> stateFromName(const QString& s);
    QStringList sets() const;                      // "key=value" for each parameter
};

struct Sweep {
    QString dir;                 // absolute
    QString preset, configFile;  // what the base came from (one of them, or neither)
    QStringList sets;            // --set overrides applied to the base, in order
    QJsonObject base;            // the base config (after sets), as base.json holds it
    std::vector<SweepAxis> axes;
    quint64 randomSeed = 0;
    std::vector<SweepPoint> points;
    QJsonArray slurm;            // each submission: {job_id, submitted, indices, options}
    qint64 stopAfterDrop = -1;   // >= 0: each point stops this many steps after its drop ends

    QString manifestPath() const { return dir + "/sweep.json"; }
    QString basePath() const { return dir + "/base.json"; }
    QString runDir(const SweepPoint& p) const { return dir + "/runs/" + p.name; }
    QString logPath(const SweepPoint& p) const { return dir + "/logs/" + p.name + ".log"; }
    // The point's config: base + its parameters, validated (errors name the point and the key).
    Result<RunConfig> pointConfig(const SweepPoint& p) const;
    // Index of the point named `nameOrIndex` (a folder name or an index), or -1.
    int find(const QString& nameOrIndex) const;
    // The value of `key` at point p ("" when the key is not a parameter).
    QString param(const SweepPoint& p, const QString& key) const;
    QStringList keys() const;    // the swept config keys, in axis order (a linked axis gives several)
    QStringList values(const QString& key) const;  // the distinct values of `key`, in point order
};

// Expands the axes into points over `base` (already resolved, with `sets` applied); every point's
// config is validated now, so a bad value is reported before anything runs.
Result<Sweep> defineSweep(const QString& dir, const RunConfig& base, const QString& preset, const QString& configFile,
                          const QStringList& sets, std::vector<SweepAxis> axes, quint64 randomSeed);

// A sweep file (JSON) with the same content as the command line:
//   {"preset": "quick" | "config": "base.json", "set": ["k=v", ...], "grid": {"model.width": [32, 64],
//    "train.seed": "1..3"}, "random": {"optim.lr": "1e-4:1e-2:8:log"}, "random_seed": 0}
// Returns the parts; relative "config" paths are taken from the sweep file's folder.
struct SweepRequest {
    QString preset, configFile;
    QStringList sets;
    QStringList grids, randoms;  // "key=spec"
    quint64 randomSeed = 0;
};
Result<SweepRequest> loadSweepFile(const QString& path);

// Writes sweep.json (and base.json) atomically; creates runs/ and logs/.
Status writeSweep(const Sweep& s);
// Reads a sweep folder's manifest; errors name the file and the field.
Result<Sweep> readSweep(const QString& dir);
bool isSweepDir(const QString& dir);

// What a point's run folder says, read without torch: no folder, being trained (locked), finished
// (every planned step done), or stopped part-way (with or without a checkpoint to resume from).
struct PointProgress {
    enum class Folder { Missing, Running, Finished, Stopped, Unreadable };
    Folder folder = Folder::Missing;
    qint64 stepsDone = 0, stepsPlanned = 0;
    bool resumable = false;      // a complete checkpoint exists
    bool stoppedAfterDrop = false;  // Finished: stopped by --stop-after-drop (stepsDone < stepsPlanned)
    QString problem;             // Unreadable: why
};
PointProgress pointProgress(const Sweep& s, const SweepPoint& p);
QString folderName(PointProgress::Folder f);

}  // namespace plateau
