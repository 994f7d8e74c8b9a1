// plateau-cli's sweep commands: sweep (define, then run locally or submit to Slurm), sweep-point
// (one point, what each local job and each Slurm array task runs), sweep-status and
// sweep-summary. No torch here: a point's training goes through trainCommand.
#pragma once

#include <QStringList>

namespace plateau::cli {

int sweep(const QStringList& args);
int sweepPoint(const QStringList& args);
int sweepStatus(const QStringList& args);
int sweepSummary(const QStringList& args);

}  // namespace plateau::cli
