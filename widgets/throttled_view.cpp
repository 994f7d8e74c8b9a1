#include "throttled_view.h"

#include "session_model.h"

#include <QShowEvent>
#include <QTimer>

namespace plateau {

ThrottledView::ThrottledView(int intervalMs, QWidget* parent)
    : QWidget(parent), m_redrawTimer(new QTimer(this)), m_intervalMs(intervalMs) {
    m_redrawTimer->setSingleShot(true);
    m_redrawTimer->setInterval(intervalMs);
    connect(m_redrawTimer, &QTimer::timeout, this, [this] {
        m_redrawTimer->setInterval(m_intervalMs);
        if (isVisible()) redraw();
    });
}

void ThrottledView::scheduleRedraw() {
    if (!m_redrawTimer->isActive()) m_redrawTimer->start(m_intervalMs);
}

void ThrottledView::redrawSoon() {
    if (!m_redrawTimer->isActive() || m_redrawTimer->interval() != 0) m_redrawTimer->start(0);
}

void ThrottledView::currentMoved(const SessionModel* model) {
    if (model->followLive()) scheduleRedraw();
    else redrawSoon();
}

void ThrottledView::showEvent(QShowEvent* e) {
    QWidget::showEvent(e);
    scheduleRedraw();
}

}  // namespace plateau
