// Figure set: one action that writes a folder of paper-style figures of a run — the loss curve
// with the plateau / drop marked, attention grids at chosen steps (default: early, mid-plateau,
// just before the drop, just after, final), prediction panels before and after the drop, the
// spectra — in the chosen formats (default PDF + PNG), the CSVs behind them, the metrics CSV and
// figures.json (what each file shows, at which step). Used by File → Export figure set… and by
// `plateau-cli export` (offscreen). GUI thread only.
#pragma once

#include "figure_export.h"
#include "result.h"

#include <QString>
#include <QStringList>
#include <vector>

namespace plateau {

class MainWindow;
class SweepView;
class SessionModel;

struct FigureSetOptions {
    QList<FigureFormat> formats{FigureFormat::Pdf, FigureFormat::Png};
    std::vector<qint64> steps;  // empty: the default five
    FigureOptions figure;
};

struct FigureStep {
    qint64 step;
    QString label;  // "early", "plateau", "before_drop", "after_drop", "final", or "step_N"
};

// The snapshots the figure set shows: given steps snap to the nearest stored snapshot.
std::vector<FigureStep> chooseFigureSteps(const SessionModel& model, const std::vector<qint64>& requested);

// Writes the set for the run shown in w into outDir (created if missing). Returns the files written.
Result<QStringList> exportFigureSet(MainWindow& w, const QString& outDir, const FigureSetOptions& options);

// `plateau-cli export RUN_DIR --out DIR [--steps a,b,...] [--format pdf,png,svg] [--size WxH] [--dpi N]`
// (needs a QApplication; the CLI makes one on the offscreen platform).
// A sweep folder's figures, offscreen: the overlay of every run's curve (detector column, coloured
// by the first swept key) and the phase diagram (first two keys, median drop onset) in each
// format, and the points / cells / curves as CSV. Returns the files written.
// The view's choices (empty / negative: the view's defaults); each is checked against the sweep
// and a wrong one is an error naming the option.
struct SweepFigureChoice {
    QString column, colourBy, phaseX, phaseY, cell;  // cell: onset | dropped | final; phaseY "none": one row
    QString align;                                   // step | time | onset
    double smoothing = -1;                           // EMA beta in [0, 1)
};
Result<QStringList> exportSweepFigures(const QString& sweepDir, const QString& outDir, const QList<FigureFormat>& formats,
                                       const FigureOptions& options, const SweepFigureChoice& choice = {});
// The same for a sweep view on screen: STEM_overlay.FMT, STEM_phase.FMT, STEM_points.csv (+ cells,
// curves).
Result<QStringList> exportSweepView(SweepView& view, const QString& stem, const QList<FigureFormat>& formats,
                                    const FigureOptions& options);
// `plateau-cli export RUN_DIR|SWEEP_DIR ...`
int exportCommand(const QStringList& args);

}  // namespace plateau
