// Shared main for the Qt Tests that drive widgets: as test_main.h, with a QApplication and
// QSettings under a test name.
#pragma once

#include "runtime_env.h"

#include <QApplication>
#include <QtTest>

// The same for tests that drive widgets (QApplication; QSettings under a test name).
#define PLATEAU_GUI_TEST_MAIN(TestObject)                      \
    int main(int argc, char** argv) {                          \
        plateau::prepareProcess(argc, argv);                   \
        QApplication app(argc, argv);                          \
        QApplication::setApplicationName("plateau-test");      \
        QApplication::setOrganizationName("plateau-test");     \
        plateau::configureRuntime(0);                          \
        TestObject tc;                                         \
        QTEST_SET_MAIN_SOURCE_PATH                             \
        return QTest::qExec(&tc, argc, argv);                  \
    }
