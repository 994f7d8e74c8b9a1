// File helpers shared by the tests.
#pragma once

#include <QDir>
#include <QFile>
#include <QFileInfo>

namespace plateau::test {

// Copies a folder tree (fixture run folders into a temporary directory).
inline void copyDir(const QString& from, const QString& to) {
    QDir().mkpath(to);
    for (const QFileInfo& e : QDir(from).entryInfoList(QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot | QDir::Hidden)) {
        if (e.isDir()) copyDir(e.filePath(), to + "/" + e.fileName());
        else QFile::copy(e.filePath(), to + "/" + e.fileName());
    }
}

}  // namespace plateau::test
