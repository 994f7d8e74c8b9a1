// ExperimentInfo: everything about an experiment that needs no torch, for widgets, the run reader,
// the CLI and the config parser: its id and title; the fields of its `task` and `model` sections;
// its metric columns (key, label, unit, axis, which direction is better); the column the
// drop/jump detector watches and in which direction; reference lines; the views it shows; the keys
// the new-run dialog offers; its cross-field checks and the derived quantities `describe` prints.
// The training half (torch, training thread) is core/experiment.h. One registry lists them all
// explicitly (experiment_registry.cpp). Plain data, immutable after start-up: any thread.
#pragma once

#include "params.h"
#include "result.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <functional>
#include <vector>

namespace plateau {

struct RunConfig;

enum class Better { Lower = 0, Higher = 1, Neither = 2 };
QString betterName(Better b);      // "lower" | "higher" | "neither"
Better betterFromName(const QString& s);

// The unit of fractions in [0, 1]: a linear "accuracy" plot always spans 0 to 1.
inline const QString kAccuracyUnit = QStringLiteral("accuracy");

// One metric column of the run's metrics table (run format 2).
struct MetricColumn {
    QString key;          // SQL column name and CSV header: [a-z0-9_]+
    QString label;        // shown in legends ("L_mask")
    QString unit;         // plots group columns by unit ("MSE", "nats", kAccuracyUnit)
    bool logAxis = true;  // the unit's plot is log-y (every column of a unit should agree)
    Better better = Better::Lower;
    bool shown = true;    // drawn by default in the metrics view
    QString help;         // one line
};

// A column in one line: key, label, unit, log axis, better, shown by default, help.
MetricColumn metricColumn(const QString& key, const QString& label, const QString& unit, bool logAxis, Better better,
                          bool shown, const QString& help);

// A horizontal line drawn on a unit's plot (the copying level, chance accuracy).
struct ReferenceLine {
    QString label;
    QString unit;
    double value = 0;
};

// A dock the experiment shows: which generic (or experiment-specific) view and its parameters.
struct ViewSpec {
    QString kind;         // the view registry's id ("metrics", "attention", "spectra", "matrices", ...)
    QString name;         // short id: dock object name "dock.<name>", figure file names "<name>_..."
    QString title;        // dock title
    QJsonObject params;   // view-specific (which snapshot arrays, panels, series)
};

// What the drop/jump detector watches: a falling column as it is, a rising one (an accuracy) as
// `ceiling - value`, so that a jump from 0.01 to 0.99 reads as a 99x fall of the error.
struct DetectorTarget {
    QString column;
    bool rising = false;
    double ceiling = 1.0;
};

struct ExperimentInfo {
    QString id;           // config's "experiment"
    QString title;
    QString summary;      // a paragraph: the task, the model, what happens
    QString paper;        // the reference it reproduces
    std::vector<FieldSpec> taskFields, modelFields;
    std::vector<MetricColumn> columns;  // the columns every configuration has
    // Columns that depend on the configuration (one per lambda of a sweep), after `columns`; may be
    // null. Use columnsOf(cfg) for the full list a run stores.
    std::function<std::vector<MetricColumn>(const RunConfig&)> extraColumns;
    DetectorTarget detector;
    std::vector<ViewSpec> views;
    QStringList dialogKeys;       // dotted keys the new-run dialog edits
    QStringList headline;         // column keys the status bar shows
    // Reference lines for a configuration (may be empty).
    std::function<std::vector<ReferenceLine>(const RunConfig&)> references;
    // Cross-field checks of task/model fields (messages name source and field); may be null.
    std::function<Status(const RunConfig&, const QString& source)> validate;
    // Derived quantities for `describe` / `info` (parameter count, sequence length, ...).
    std::function<QJsonObject(const RunConfig&)> quantities;
    // A configuration that trains a few steps in well under a second (a preset and --set
    // overrides): what the registry-driven contract test (tests/tst_experiments.cpp) runs.
    QString smokePreset;
    QStringList smokeOverrides;

    int columnIndex(const QString& key) const;  // -1 if absent (among `columns`)
    std::vector<MetricColumn> columnsOf(const RunConfig& cfg) const;
    const ViewSpec* view(const QString& kind) const;
};

// The explicit registry (experiment_registry.cpp): every experiment, in the order menus list them.
const std::vector<const ExperimentInfo*>& experimentRegistry();
const ExperimentInfo* findExperiment(const QString& id);
QStringList experimentIds();
QString defaultExperimentId();  // "matrix_completion": what a config without "experiment" is

// The snapshot arrays and scalars a view of this spec reads (the conventional names of
// snapshot.h, or its parameters' arrays): what an experiment that lists the view must provide.
QStringList snapshotArraysFor(const ViewSpec& view);
QStringList snapshotScalarsFor(const ViewSpec& view);

// Columns every run's metrics table has before the experiment's own (run format 2).
QStringList commonMetricKeys();  // step, time_s, lr, grad_norm, step_ms

}  // namespace plateau
