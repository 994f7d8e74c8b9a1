// RedrawPacer: when a live widget redraws. Live data reaches the GUI thread in batches (the
// worker hands rows and snapshots over together, 4 times a second); every wake-up of the GUI
// thread takes a core from training, so widgets redraw in the same wake-up as a batch rather
// than on timers of their own. request() (new live data) draws on the next turn of the event
// loop once the widget's interval has nearly passed (within kSlackMs), so a 300 ms widget draws
// at every batch and a 400-500 ms one at every second; otherwise the data waits for a later
// batch, and a fallback timer draws it if none comes (paused, finished). soon() (the user's own
// action) draws on the next turn regardless. GUI thread only.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <functional>

class QTimer;

namespace plateau {

class RedrawPacer : public QObject {
    Q_OBJECT
public:
    static constexpr int kSlackMs = 100;   // a batch this much early still draws
    static constexpr int kGraceMs = 150;   // the fallback waits this long past the interval

    RedrawPacer(int intervalMs, std::function<void()> draw, QObject* parent);
    void request();
    void soon();
    bool pending() const;

private:
    void fire();

    int m_intervalMs;
    std::function<void()> m_draw;
    QTimer* m_timer;
    QElapsedTimer m_last;  // since the last draw
};

}  // namespace plateau
