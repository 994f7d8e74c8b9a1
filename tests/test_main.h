// Shared main for Plateau's Qt Tests: applies the same runtime settings as the programs
// (re-exec with OMP/BLAS environment, threads = cores) before running the test object.
#pragma once

#include "runtime_env.h"

#include <QCoreApplication>
#include <QtTest>

#define PLATEAU_TEST_MAIN(TestObject)                          \
    int main(int argc, char** argv) {                          \
        plateau::prepareProcess(argc, argv);                   \
        QCoreApplication app(argc, argv);                      \
        plateau::configureRuntime(0);                          \
        TestObject tc;                                         \
        QTEST_SET_MAIN_SOURCE_PATH                             \
        return QTest::qExec(&tc, argc, argv);                  \
    }

