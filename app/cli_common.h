// What plateau-cli's subcommands share: the output stream, the one-line error, the option reader,
// --preset / --config / --set resolution, number and duration formatting. No torch.
#pragma once

#include "config.h"
#include "result.h"

#include <QMap>
#include <QStringList>
#include <QTextStream>

namespace plateau::cli {

QTextStream& out();
// Prints "plateau-cli: message" on stderr; returns the exit code 2.
int fail(const QString& message);

// --name value (or --name=value) pairs, flags, repeated --set and other repeated options, and
// positional arguments.
struct Options {
    QMap<QString, QString> values;
    QStringList sets;
    QMap<QString, QStringList> repeated;
    QStringList positional;
    QStringList flags;
};
Result<Options> parse(const QStringList& args, const QStringList& valued, const QStringList& flags,
                      const QStringList& repeated = {});
Result<qint64> integerOption(const Options& o, const QString& name, qint64 min);
// --preset / --config (or --from), then --seed / --steps / --threads / --set, then cross-field checks.
Result<RunConfig> resolveConfig(const Options& o);

QString num(double v, int prec = 3);   // "1.23e-02", "-" for NaN
QString duration(double secs);         // "m:ss" or "h:mm:ss", "-" when unknown

}  // namespace plateau::cli
