#include "cli_common.h"

#include "run/run_store.h"

#include <cmath>
#include <cstdio>
#include <tuple>

namespace plateau::cli {

QTextStream& out() {
    static QTextStream s(stdout);
    return s;
}
int fail(const QString& message) {
    std::fprintf(stderr, "plateau-cli: %s\n", message.toLocal8Bit().constData());
    return 2;
}


Result<Options> parse(const QStringList& args, const QStringList& valued, const QStringList& flags,
                      const QStringList& repeated) {
    Options o;
    for (int i = 0; i < args.size(); ++i) {
        const QString& a = args[i];
        if (a.startsWith("--")) {
            QString name = a.mid(2), value;
            const int eq = name.indexOf('=');
            const bool inlineValue = eq > 0;
            if (inlineValue) {
                value = name.mid(eq + 1);
                name = name.left(eq);
            }
            if (flags.contains(name) && !inlineValue) {
                o.flags << name;
                continue;
            }
            if (!valued.contains(name) && !repeated.contains(name) && name != "set") return Error{"unknown option --" + name};
            if (!inlineValue) {
                if (i + 1 >= args.size()) return Error{"--" + name + ": missing value"};
                value = args[++i];
            }
            if (name == "set") o.sets << value;
            else if (repeated.contains(name)) o.repeated[name] << value;
            else o.values[name] = value;
        } else {
            o.positional << a;
        }
    }
    return o;
}

Result<qint64> integerOption(const Options& o, const QString& name, qint64 min) {
    bool ok = false;
    const qint64 v = o.values.value(name).toLongLong(&ok);
    if (!ok || v < min)
        return Error{"--" + name + ": expected an integer >= " + QString::number(min) + ", got \"" +
                     o.values.value(name) + "\""};
    return v;
}

// --preset / --config, then --seed / --steps / --threads / --set, then cross-field checks.
Result<RunConfig> resolveConfig(const Options& o) {
    const bool from = o.values.contains("from");
    if (o.values.contains("preset") && o.values.contains("config"))
        return Error{"give exactly one of --preset NAME or --config FILE, not both"};
    if (!from && !o.values.contains("preset") && !o.values.contains("config"))
        return Error{"give exactly one of --preset NAME or --config FILE"};
    // --from RUN[:STEP] alone: the source run's own configuration.
    QString fromDir = o.values.value("from");
    if (const int colon = fromDir.lastIndexOf(':'); colon > 0) {
        bool ok = false;
        fromDir.mid(colon + 1).toLongLong(&ok);
        if (ok) fromDir = fromDir.left(colon);
    }
    Result<RunConfig> cfg = Error{""};
    if (o.values.contains("preset")) cfg = loadPreset(o.values["preset"]);
    else if (o.values.contains("config")) cfg = loadConfigFile(o.values["config"]);
    else if (auto source = RunStore::open(fromDir, true); source) cfg = source.value()->config();
    else return Error{"--from: " + source.error()};
    if (!cfg) return cfg;
    RunConfig c = cfg.value();
    if (from) {
        c.train.from = o.values["from"];
        c.train.trainOnly = o.values.value("train-only");
        c.train.reinit = o.flags.contains("reinit");
        if (!trainComponents().contains(c.train.trainOnly))
            return Error{"--train-only: \"" + c.train.trainOnly + "\" is not one of " + trainComponents().mid(1).join(", ")};
    } else if (o.values.contains("train-only") || o.flags.contains("reinit")) {
        return Error{"--train-only and --reinit need --from RUN[:STEP] (the trained model to start from)"};
    }
    for (const QString& s : o.sets)
        if (Status st = applyOverride(c, s); !st) return Error{st.error()};
    for (const auto& [opt, key, min] : {std::tuple{"seed", "train.seed", 0}, std::tuple{"steps", "train.steps", 0},
                                        std::tuple{"threads", "train.threads", 0}}) {
        if (!o.values.contains(opt)) continue;
        auto v = integerOption(o, opt, min);
        if (!v) return Error{v.error()};
        if (Status st = applyOverride(c, QString(key) + "=" + QString::number(v.value())); !st)
            return Error{st.error()};
    }
    if (Status st = validateConfig(c, "config"); !st) return Error{st.error()};
    return c;
}

QString num(double v, int prec) {
    return std::isnan(v) ? QString("-") : QString::number(v, 'e', prec - 1);
}

QString duration(double secs) {
    if (!std::isfinite(secs) || secs < 0) return "-";
    const qint64 s = qint64(secs + 0.5);
    return s >= 3600 ? QString("%1:%2:%3").arg(s / 3600).arg(s / 60 % 60, 2, 10, QChar('0')).arg(s % 60, 2, 10, QChar('0'))
                     : QString("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QChar('0'));
}


}  // namespace plateau::cli
