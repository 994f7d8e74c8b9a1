// Runs plateau-cli (PLATEAU_CLI, set by tests/CMakeLists.txt) as a script would and collects its
// exit code, stdout and stderr. For tests that drive the command line.
#pragma once

#include <QProcess>
#include <QString>
#include <QStringList>

struct CliRun {
    int code;  // exit code; -1 if it crashed or timed out
    QString out, err;
};

inline CliRun runCli(const QStringList& args, int timeoutMs = 300000) {
    QProcess p;
    p.start(PLATEAU_CLI, args);
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        return {-1, QString::fromUtf8(p.readAllStandardOutput()), "timeout"};
    }
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
            QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
}
