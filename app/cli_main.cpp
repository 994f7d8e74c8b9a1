// plateau-cli: the headless front end and the contract for scripts and clusters. Thin: it
// parses arguments, calls core, prints. Runs training on its main thread.
#include <torch/torch.h>  // before Qt (Qt's `slots` macro breaks torch headers)

#include "cli_commands.h"
#include "figure_set.h"
#include "runtime_env.h"

#include <QApplication>
#include <QCoreApplication>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
    // Only the commands that train or analyse need the re-executed process's libraries (the
    // local sweep runner's children are `sweep-point`s and get them from its environment).
    bool computes = argc > 1;
    for (const char* reader : {"--version", "info", "metrics", "describe", "presets", "experiments", "analyses", "sweep",
                               "sweep-status", "sweep-summary", "help", "--help", "-h"})
        if (argc > 1 && std::strcmp(argv[1], reader) == 0) computes = false;
    plateau::prepareProcess(argc, argv, computes);
    if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
        std::printf("plateau-cli %s\n", PLATEAU_APP_VERSION);
        return 0;
    }
    if (argc > 1 && std::strcmp(argv[1], "export") == 0) {
        // Figures are drawn by the GUI's own views, offscreen: no display needed (clusters).
        qputenv("QT_QPA_PLATFORM", "offscreen");
        QApplication app(argc, argv);
        QApplication::setApplicationName("plateau-cli");
        QStringList args = app.arguments().mid(2);
        return plateau::exportCommand(args);
    }
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName("plateau-cli");
    QStringList args = app.arguments();
    args.removeFirst();
    return plateau::cli::dispatch(args);
}
