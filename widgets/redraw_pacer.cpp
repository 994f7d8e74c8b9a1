#include "redraw_pacer.h"

#include <QTimer>

namespace plateau {

RedrawPacer::RedrawPacer(int intervalMs, std::function<void()> draw, QObject* parent)
    : QObject(parent), m_intervalMs(intervalMs), m_draw(std::move(draw)), m_timer(new QTimer(this)) {
    m_timer->setSingleShot(true);
    connect(m_timer, &QTimer::timeout, this, &RedrawPacer::fire);
}

bool RedrawPacer::pending() const { return m_timer->isActive(); }

void RedrawPacer::request() {
    if (m_timer->isActive() && m_timer->interval() == 0) return;  // drawing on the next turn already
    const qint64 since = m_last.isValid() ? m_last.elapsed() : qint64(m_intervalMs);
    if (since >= m_intervalMs - kSlackMs) {
        m_timer->start(0);
        return;
    }
    // Too soon: a later batch will draw it; the fallback only fires if none comes.
    if (!m_timer->isActive()) m_timer->start(int(m_intervalMs - since) + kGraceMs);
}

void RedrawPacer::soon() {
    if (!m_timer->isActive() || m_timer->interval() != 0) m_timer->start(0);
}

void RedrawPacer::fire() {
    m_timer->stop();
    m_last.restart();
    m_draw();
}

}  // namespace plateau
