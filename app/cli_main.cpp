// plateau-cli: the headless front end and the contract for scripts and clusters. Thin: it
// parses arguments, calls core, prints. Runs training on its main thread.
#include <torch/torch.h>  // before Qt (Qt's `slots` macro breaks torch headers)

#include "cli_commands.h"
#include "runtime_env.h"

#include <QCoreApplication>
#include <cstdio>

int main(int argc, char** argv) {
    plateau::prepareProcess(argc, argv);
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName("plateau-cli");
    QStringList args = app.arguments();
    args.removeFirst();
    return plateau::cli::dispatch(args);
}
