// ThrottledView: base of the live views. Model signals only mark a view dirty (scheduleRedraw);
// a RedrawPacer then calls redraw() about once per interval, in the same wake-up of the GUI
// thread as a batch of live data, and only while the view is visible (a closed or tabbed-away
// dock does no work and catches up when shown). A user's own action (scrubbing to another step,
// choosing a head) asks for redrawSoon(): the next turn of the event loop, so that several
// changes in one turn still cost one redraw. GUI thread only.
#pragma once

#include "result.h"

#include <QList>
#include <QStringList>
#include <QWidget>

namespace plateau {

class RedrawPacer;
class SessionModel;

class ThrottledView : public QWidget {
    Q_OBJECT
public:
    ThrottledView(int intervalMs, QWidget* parent = nullptr);

    // Redraws at once from the model's current state, visible or not (exports, tests).
    void redrawNow() { redraw(); }
    // For figure export: the name used in file names, the widgets that make up the figure (no
    // controls), and the data behind the view as CSV (the files written: path, and for views
    // with a time series a second one beside it).
    virtual QString figureName() const = 0;
    virtual QList<QWidget*> figureParts() const = 0;
    virtual Result<QStringList> exportCsv(const QString& path) const = 0;

protected:
    void scheduleRedraw();
    void redrawSoon();
    // For SessionModel::currentChanged: soon when the user moved the current step, throttled
    // while it follows the live run.
    void currentMoved(const SessionModel* model);
    virtual void redraw() = 0;  // called from the timer while visible
    void showEvent(QShowEvent* e) override;

private:
    RedrawPacer* m_pacer;
};

}  // namespace plateau
