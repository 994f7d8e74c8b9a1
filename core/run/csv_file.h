// CSV files: the figures' data (widgets/figure_export) and analysis tables (analysis_store).
// Plain Qt, no torch: any thread.
#pragma once

#include "result.h"

#include <QList>
#include <QString>
#include <QStringList>

namespace plateau {

// Writes rows of cells as CSV (RFC 4180 quoting where needed) to path, atomically (QSaveFile).
Status writeCsv(const QString& path, const QStringList& header, const QList<QStringList>& rows);
// Shortest round-trip text of a number ("" for NaN).
QString csvNumber(double v);
// Reads a CSV written by writeCsv (quoted cells, doubled quotes); errors name the file and line.
Result<QList<QStringList>> readCsv(const QString& path);

}  // namespace plateau
