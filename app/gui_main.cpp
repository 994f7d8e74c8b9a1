// plateau: the GUI. `plateau [--preset NAME | --config FILE] [--out DIR]` starts training at once
// (default preset: quick); `plateau RUN_DIR` opens a run to scrub through (following it if
// another process is training it); `plateau --resume RUN_DIR` continues training it.
#include <torch/torch.h>  // before Qt

#include "config.h"
#include "analyses_dock.h"
#include "main_window.h"
#include "runtime_env.h"
#include "unix_signals.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDateTime>
#include <QDir>
#include <QDockWidget>
#include <QIcon>
#include <QMessageBox>
#include <QStandardPaths>

#include <cstdio>

int main(int argc, char** argv) {
    plateau::prepareProcess(argc, argv);
    QApplication app(argc, argv);
    QApplication::setApplicationName("plateau");
    QApplication::setOrganizationName("plateau");
    QApplication::setApplicationVersion(PLATEAU_APP_VERSION);
    QApplication::setWindowIcon(QIcon(":/icons/plateau.svg"));
    QApplication::setDesktopFileName("plateau");
    QCommandLineParser parser;
    parser.setApplicationDescription("Plateau: watch a transformer learn abruptly.");
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument("run", "run folder or sweep folder to open (optional)");
    parser.addOption({"resume", "continue training the run folder given (instead of only opening it)"});
    parser.addOption({"preset", "preset to train (default: quick)", "name"});
    parser.addOption({"config", "JSON config file to train", "file"});
    parser.addOption({"out", "folder for the new run", "dir"});
    parser.addOption({"set", "override a config field (repeatable)", "key=value"});
    parser.addOption({"analysis", "show the Analyses dock with this analysis chosen (plateau-cli analyses lists them)", "id"});
    parser.process(app);

    auto die = [](const QString& msg) {
        std::fprintf(stderr, "plateau: %s\n", msg.toLocal8Bit().constData());
        return 2;
    };
    plateau::MainWindow window;
    if (!parser.positionalArguments().isEmpty()) {
        const QString dir = parser.positionalArguments().first();
        if (parser.isSet("resume")) window.resumeRun(dir);
        else if (!window.openRun(dir)) return die(window.lastMessage());
    } else {
        if (parser.isSet("resume")) return die("--resume needs a run folder");
        if (parser.isSet("preset") && parser.isSet("config")) return die("give --preset or --config, not both");
        auto cfg = parser.isSet("config") ? plateau::loadConfigFile(parser.value("config"))
                                          : plateau::loadPreset(parser.isSet("preset") ? parser.value("preset") : "quick");
        if (!cfg) return die(cfg.error());
        for (const QString& s : parser.values("set"))
            if (auto st = plateau::applyOverride(cfg.value(), s); !st) return die(st.error());
        if (auto st = plateau::validateConfig(cfg.value(), "config"); !st) return die(st.error());
        QString out = parser.value("out");
        if (out.isEmpty()) {
            const QString base = QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + "/runs";
            out = base + "/" + (cfg->preset.isEmpty() ? QString("run") : cfg->preset) + "-" +
                  QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss");
        }
        window.startRun(cfg.value(), out);
    }
    if (parser.isSet("analysis")) {
        window.analysesDock()->show();
        if (!window.analyses()->selectAnalysis(parser.value("analysis")))
            return die("--analysis: \"" + parser.value("analysis") + "\" is not an analysis of this run's experiment");
    }
    plateau::callOnTerminationSignals(&window, [&window] { window.close(); });
    window.show();
    return app.exec();
}
