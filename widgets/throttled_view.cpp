#include "throttled_view.h"

#include "redraw_pacer.h"
#include "session_model.h"

#include <QShowEvent>

namespace plateau {

ThrottledView::ThrottledView(int intervalMs, QWidget* parent)
    : QWidget(parent), m_pacer(new RedrawPacer(intervalMs, [this] {
          if (isVisible()) redraw();
      }, this)) {}

void ThrottledView::scheduleRedraw() { m_pacer->request(); }

void ThrottledView::redrawSoon() { m_pacer->soon(); }

void ThrottledView::currentMoved(const SessionModel* model) {
    if (model->followLive()) scheduleRedraw();
    else redrawSoon();
}

void ThrottledView::showEvent(QShowEvent* e) {
    QWidget::showEvent(e);
    redrawSoon();  // shown by the user (dock opened, tab chosen): catch up at once
}

}  // namespace plateau
