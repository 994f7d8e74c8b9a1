// TimelineView: the scrub bar under the views. It spans the run's steps with the loss curve's
// shape (log L, min/max per pixel column) as background, a tick per snapshot (stored ones
// darker), the detector's drop onset, and a handle at the current snapshot. Clicking or dragging
// moves the session's current step to the nearest snapshot; ← / → step between snapshots,
// Home / End go to the first / newest; "Follow live" returns to the newest and stays there.
// Moving the handle only changes SessionModel's current index: training is never paused.
// GUI thread only.
#pragma once

#include <QWidget>
#include <vector>

class QLabel;
class QToolButton;

namespace plateau {

class RedrawPacer;
class SessionModel;

class TimelineBar : public QWidget {
    Q_OBJECT
public:
    explicit TimelineBar(SessionModel* model, QWidget* parent = nullptr);
    QSize sizeHint() const override { return {600, 44}; }
    QSize minimumSizeHint() const override { return {120, 36}; }
    // Index of the snapshot nearest to x (widget coordinates); -1 if there is none.
    int snapshotAt(int x) const;
    int xOfStep(double step) const;

protected:
    void paintEvent(QPaintEvent*) override;
    void mousePressEvent(QMouseEvent* e) override;
    void mouseMoveEvent(QMouseEvent* e) override;
    void keyPressEvent(QKeyEvent* e) override;
    void resizeEvent(QResizeEvent*) override;

private:
    void rebuildEnvelope();
    QRect plotRect() const;
    double lastStep() const;

    SessionModel* m_model;
    RedrawPacer* m_envelopePacer;  // the background follows live metrics about twice a second
    RedrawPacer* m_repaintPacer;   // live snapshot ticks / handle: about 4 repaints a second
    std::vector<float> m_lo, m_hi;  // per pixel column: min / max of log10 L
    float m_min = 0, m_max = 1;
};

class TimelineView : public QWidget {
    Q_OBJECT
public:
    explicit TimelineView(SessionModel* model, QWidget* parent = nullptr);
    TimelineBar* bar() const { return m_bar; }
    QToolButton* followButton() const { return m_follow; }

    // Keyboard scrubbing (also bound window-wide by MainWindow).
    void previous();
    void next();
    void first();
    void last();

private:
    void updateLabel();

    SessionModel* m_model;
    TimelineBar* m_bar;
    QToolButton* m_follow;
    QLabel* m_label;
};

}  // namespace plateau
