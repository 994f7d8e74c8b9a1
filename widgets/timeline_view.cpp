#include "timeline_view.h"

#include "redraw_pacer.h"
#include "session_model.h"

#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLocale>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolButton>

#include <algorithm>
#include <cmath>

namespace plateau {

TimelineBar::TimelineBar(SessionModel* model, QWidget* parent)
    : QWidget(parent), m_model(model) {
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(false);
    setToolTip("Click or drag to show another step; ← / → previous / next snapshot, Home / End");
    // Live changes repaint with the batches of live data (RedrawPacer): the loss envelope about
    // twice a second, snapshot ticks and the handle about 4 times; the user's scrubbing at once.
    m_envelopePacer = new RedrawPacer(500, [this] {
        rebuildEnvelope();
        update();
    }, this);
    m_repaintPacer = new RedrawPacer(250, [this] { update(); }, this);
    connect(model, &SessionModel::runReset, this, [this] {
        rebuildEnvelope();
        update();
    });
    connect(model, &SessionModel::metricsAppended, m_envelopePacer, &RedrawPacer::request);
    connect(model, &SessionModel::snapshotsChanged, m_repaintPacer, &RedrawPacer::request);
    connect(model, &SessionModel::detectionChanged, m_repaintPacer, &RedrawPacer::request);
    connect(model, &SessionModel::currentChanged, this, [this] {
        if (m_model->followLive()) m_repaintPacer->request();
        else update();
    });
}

QRect TimelineBar::plotRect() const { return rect().adjusted(6, 4, -6, -10); }

double TimelineBar::lastStep() const {
    double last = double(m_model->config().train.steps);
    if (!m_model->metrics().empty()) last = std::max(last, double(m_model->metrics().back().step));
    if (!m_model->snapshots().empty()) last = std::max(last, double(m_model->snapshots().back()->step));
    return std::max(1.0, last);
}

int TimelineBar::xOfStep(double step) const {
    const QRect r = plotRect();
    return r.left() + int(std::lround(std::clamp(step / lastStep(), 0.0, 1.0) * (r.width() - 1)));
}

void TimelineBar::rebuildEnvelope() {
    const QRect r = plotRect();
    const int w = std::max(1, r.width());
    m_lo.assign(std::size_t(w), std::numeric_limits<float>::infinity());
    m_hi.assign(std::size_t(w), -std::numeric_limits<float>::infinity());
    const double last = lastStep();
    float lo = std::numeric_limits<float>::infinity(), hi = -lo;
    const auto& rows = m_model->metrics();
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const StepMetrics& m = rows[i];
        const double watched = m_model->watchedValue(i);  // the detector's series (a loss, or 1 - accuracy)
        if (!(watched > 0)) continue;
        const float v = float(std::log10(watched));
        const int c = std::clamp(int(double(m.step) / last * (w - 1)), 0, w - 1);
        m_lo[std::size_t(c)] = std::min(m_lo[std::size_t(c)], v);
        m_hi[std::size_t(c)] = std::max(m_hi[std::size_t(c)], v);
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    m_min = std::isfinite(lo) ? lo : 0;
    m_max = std::isfinite(hi) && hi > m_min ? hi : m_min + 1;
}

void TimelineBar::resizeEvent(QResizeEvent*) { rebuildEnvelope(); }

void TimelineBar::paintEvent(QPaintEvent*) {
    QPainter p(this);
    const QRect r = plotRect();
    p.fillRect(rect(), palette().base());
    // Loss envelope: a filled band per pixel column, high loss at the top.
    const QColor band(86, 180, 233, 150);
    p.setPen(Qt::NoPen);
    auto yOf = [&](float v) { return r.bottom() - int((v - m_min) / (m_max - m_min) * (r.height() - 1)); };
    for (int c = 0; c < int(m_lo.size()); ++c) {
        if (!std::isfinite(m_lo[std::size_t(c)])) continue;
        const int y0 = yOf(m_hi[std::size_t(c)]), y1 = yOf(m_lo[std::size_t(c)]);
        p.fillRect(QRect(r.left() + c, y0, 1, std::max(1, y1 - y0 + 1)), band);
    }
    // Drop onset (the detector's), dashed.
    p.setPen(QPen(QColor(213, 94, 0), 1, Qt::DashLine));
    for (const DropEvent& d : m_model->detection().drops) {
        const int x = xOfStep(double(d.onsetStep));
        p.drawLine(x, r.top(), x, r.bottom());
    }
    // Snapshot ticks below the band: stored ones dark, live-only ones light.
    for (const SnapshotPtr& s : m_model->snapshots()) {
        p.setPen(s->saved ? palette().color(QPalette::Text) : palette().color(QPalette::Mid));
        const int x = xOfStep(double(s->step));
        p.drawLine(x, r.bottom() + 2, x, r.bottom() + (s->saved ? 8 : 5));
    }
    // Handle at the current snapshot.
    if (const SnapshotPtr cur = m_model->current()) {
        const int x = xOfStep(double(cur->step));
        const QColor handle = hasFocus() ? palette().color(QPalette::Highlight) : QColor(204, 121, 167);
        p.setPen(QPen(handle, 2));
        p.drawLine(x, r.top(), x, r.bottom() + 8);
        QPainterPath tri;
        tri.moveTo(x - 5, r.top() - 4);
        tri.lineTo(x + 5, r.top() - 4);
        tri.lineTo(x, r.top() + 3);
        tri.closeSubpath();
        p.fillPath(tri, handle);
    }
    p.setPen(palette().color(QPalette::Mid));
    p.setBrush(Qt::NoBrush);
    p.drawRect(r.adjusted(0, 0, -1, -1));
}

int TimelineBar::snapshotAt(int x) const {
    const auto& snaps = m_model->snapshots();
    if (snaps.empty()) return -1;
    const QRect r = plotRect();
    const double step = double(x - r.left()) / std::max(1, r.width() - 1) * lastStep();
    auto it = std::lower_bound(snaps.begin(), snaps.end(), step,
                               [](const SnapshotPtr& s, double v) { return double(s->step) < v; });
    int i = int(it - snaps.begin());
    if (i >= int(snaps.size())) return int(snaps.size()) - 1;
    if (i > 0 && std::abs(double(snaps[std::size_t(i - 1)]->step) - step) <= std::abs(double(snaps[std::size_t(i)]->step) - step))
        --i;
    return i;
}

void TimelineBar::mousePressEvent(QMouseEvent* e) {
    if (e->button() != Qt::LeftButton) return;
    const int i = snapshotAt(e->position().toPoint().x());
    if (i >= 0) m_model->setCurrentIndex(i);
}

void TimelineBar::mouseMoveEvent(QMouseEvent* e) {
    if (!(e->buttons() & Qt::LeftButton)) return;
    const int i = snapshotAt(e->position().toPoint().x());
    if (i >= 0) m_model->setCurrentIndex(i);
}

void TimelineBar::keyPressEvent(QKeyEvent* e) {
    const int n = int(m_model->snapshots().size());
    if (n == 0) return QWidget::keyPressEvent(e);
    switch (e->key()) {
    case Qt::Key_Left: m_model->setCurrentIndex(std::max(0, m_model->currentIndex() - 1)); break;
    case Qt::Key_Right: m_model->setCurrentIndex(m_model->currentIndex() + 1); break;
    case Qt::Key_Home: m_model->setCurrentIndex(0); break;
    case Qt::Key_End: m_model->setFollowLive(true); break;
    default: return QWidget::keyPressEvent(e);
    }
}

TimelineView::TimelineView(SessionModel* model, QWidget* parent)
    : QWidget(parent), m_model(model), m_bar(new TimelineBar(model, this)), m_follow(new QToolButton(this)),
      m_label(new QLabel(this)) {
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(4, 2, 4, 2);
    m_follow->setText("Follow live");
    m_follow->setCheckable(true);
    m_follow->setChecked(model->followLive());
    m_follow->setToolTip("Show the newest snapshot as training goes on (End)");
    layout->addWidget(m_follow);
    layout->addWidget(m_bar, 1);
    m_label->setMinimumWidth(m_label->fontMetrics().horizontalAdvance("step 00,000,000 / 00,000,000"));
    layout->addWidget(m_label);
    connect(m_follow, &QToolButton::toggled, this, [this](bool on) { m_model->setFollowLive(on); });
    connect(model, &SessionModel::currentChanged, this, &TimelineView::updateLabel);
    connect(model, &SessionModel::runReset, this, &TimelineView::updateLabel);
    updateLabel();
}

void TimelineView::previous() { m_model->setCurrentIndex(std::max(0, m_model->currentIndex() - 1)); }
void TimelineView::next() { m_model->setCurrentIndex(m_model->currentIndex() + 1); }
void TimelineView::first() { m_model->setCurrentIndex(0); }
void TimelineView::last() { m_model->setFollowLive(true); }

void TimelineView::updateLabel() {
    {
        const QSignalBlocker block(m_follow);
        m_follow->setChecked(m_model->followLive());
    }
    const SnapshotPtr cur = m_model->current();
    const QLocale loc;
    m_label->setText(cur ? QString("step %1 / %2").arg(loc.toString(cur->step), loc.toString(m_model->config().train.steps))
                         : QString("no snapshot yet"));
}

}  // namespace plateau
