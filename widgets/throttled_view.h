// ThrottledView: base of the live views. Model signals only mark a view dirty (scheduleRedraw);
// a single-shot timer then calls redraw() at most once per interval, and only while the view is
// visible (a closed or tabbed-away dock does no work and catches up when shown). GUI thread only.
#pragma once

#include <QWidget>

class QTimer;

namespace plateau {

class ThrottledView : public QWidget {
    Q_OBJECT
public:
    ThrottledView(int intervalMs, QWidget* parent = nullptr);

protected:
    void scheduleRedraw();
    virtual void redraw() = 0;  // called from the timer while visible
    void showEvent(QShowEvent* e) override;

private:
    QTimer* m_redrawTimer;
};

}  // namespace plateau
