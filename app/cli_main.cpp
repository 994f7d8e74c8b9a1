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
    plateau::prepareProcess(argc, argv);
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
