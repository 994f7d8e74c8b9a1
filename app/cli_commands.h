// The subcommands of plateau-cli (train, describe, metrics, presets). Each returns the
// process exit code; errors are printed as one line on stderr naming the file and field.
#pragma once

#include <QStringList>

namespace plateau::cli {

int dispatch(const QStringList& args);
// `plateau-cli train ARGS` in this process (what a sweep point runs).
int trainCommand(const QStringList& args);

}  // namespace plateau::cli
