#include "throttled_view.h"

#include <QShowEvent>
#include <QTimer>

namespace plateau {

ThrottledView::ThrottledView(int intervalMs, QWidget* parent) : QWidget(parent), m_redrawTimer(new QTimer(this)) {
    m_redrawTimer->setSingleShot(true);
    m_redrawTimer->setInterval(intervalMs);
    connect(m_redrawTimer, &QTimer::timeout, this, [this] {
        if (isVisible()) redraw();
    });
}

void ThrottledView::scheduleRedraw() {
    if (!m_redrawTimer->isActive()) m_redrawTimer->start();
}

void ThrottledView::showEvent(QShowEvent* e) {
    QWidget::showEvent(e);
    scheduleRedraw();
}

}  // namespace plateau
