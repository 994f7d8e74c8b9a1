// The figures of each analysis (issue 15), as data: which table, which columns on which axes,
// one curve per value of which column, which steps, and whether x is a training step (then the
// detected drop's onset and end are drawn beside the curve: the "over training" figures). The
// Analyses dock, `plateau-cli export` and the figure set draw from these (widgets/analysis_view).
// Plain data, no torch: any thread.
#pragma once

#include "analysis/analysis_store.h"

#include <QString>
#include <QStringList>
#include <utility>
#include <vector>

namespace plateau {

struct AnalysisFigure {
    enum class Kind { Lines, Scatter, Heatmap };
    enum class Steps { All, Last, FirstAndLast };
    QString id;                 // file-name part: "<analysis>_<id>"
    QString title;
    QString table;
    Kind kind = Kind::Lines;
    QString x;                  // column on x (Heatmap: the grid's columns)
    QStringList ys;             // Lines/Scatter: columns on y, one curve each (Heatmap: the grid's rows, ys[0])
    QStringList series;         // one curve per distinct combination of these columns' values as well
    QStringList once;           // y columns that do not depend on the series: one curve, from the last step
    QString nanLabel;           // how a series value of NaN is named (copy_test: MASK)
    std::vector<std::pair<double, QString>> valueNames;  // names of a series column's codes (0 = "none", ...)
    QString colour;             // Scatter: points coloured by this column; Heatmap: the cell value
    std::vector<std::pair<QString, double>> where;  // rows kept: column == value
    Steps steps = Steps::All;   // which of the result's steps (Last / FirstAndLast: one panel each for heatmaps)
    bool logX = false, logY = false;
    bool overTraining = false;  // x is a training step: the drop's onset and end are drawn
    bool signedColour = false;  // Heatmap: a diverging colour scale around 0
    QString xLabel, yLabel;
    // Rows of `t` this figure keeps (the where filter and the step choice), in order.
    std::vector<const std::vector<double>*> rows(const AnalysisTable& t, const std::vector<qint64>& steps) const;
};

// The figures of an analysis (empty for an unknown id), the first being its main one: every
// experiment's (an analysis's tables differ between experiments, e.g. the decoders' accuracies).
std::vector<AnalysisFigure> analysisFigures(const QString& analysis);
// Those a result can draw: its tables have every column they name (its main one first).
std::vector<AnalysisFigure> analysisFigures(const AnalysisResult& r);

// The steps a figure shows of a result's steps.
std::vector<qint64> figureSteps(const AnalysisFigure& f, const std::vector<qint64>& steps);

}  // namespace plateau
