// Turns SIGINT / SIGTERM into a call on the GUI thread (self-pipe + QSocketNotifier), so a
// Ctrl-C in the terminal closes the window the same clean way as its close button.
#pragma once

#include <QObject>
#include <functional>

namespace plateau {

// Installs the handlers; onSignal runs on the thread that owns `context` (the GUI thread).
bool callOnTerminationSignals(QObject* context, std::function<void()> onSignal);

}  // namespace plateau
