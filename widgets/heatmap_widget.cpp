#include "heatmap_widget.h"

#include <QMouseEvent>
#include <QPainter>

#include <algorithm>
#include <cmath>

namespace plateau {

HeatmapWidget::HeatmapWidget(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void HeatmapWidget::setData(int rows, int cols, std::vector<float> values, ColorMapKind kind, double lo, double hi) {
    m_rows = rows;
    m_cols = cols;
    m_values = std::move(values);
    m_values.resize(std::size_t(std::max(0, rows * cols)), NAN);
    m_image = QImage(std::max(1, cols), std::max(1, rows), QImage::Format_RGB32);
    for (int r = 0; r < rows; ++r) {
        auto* line = reinterpret_cast<QRgb*>(m_image.scanLine(r));
        for (int c = 0; c < cols; ++c) line[c] = mapColor(kind, m_values[std::size_t(r * cols + c)], lo, hi);
    }
    if (m_marked.size() != m_values.size()) m_marked.clear();
    update();
}

void HeatmapWidget::setMarked(std::vector<std::uint8_t> marked) {
    m_marked = std::move(marked);
    update();
}
void HeatmapWidget::setTitle(const QString& title) {
    if (title == m_title) return;
    m_title = title;
    update();
}
void HeatmapWidget::setSelected(bool selected) {
    if (selected == m_selected) return;
    m_selected = selected;
    update();
}
void HeatmapWidget::setBlockSize(int b) {
    m_block = b;
    m_dividers.clear();
    update();
}
void HeatmapWidget::setDividers(std::vector<int> at) {
    m_dividers = std::move(at);
    m_block = 0;
    update();
}
void HeatmapWidget::setHoverGuides(bool on) { m_guides = on; update(); }
void HeatmapWidget::setMinimumCellSize(int px) { m_minCell = std::max(1, px); updateGeometry(); }

QSize HeatmapWidget::sizeHint() const {
    const int titleH = titleHeight();
    return {std::max(40, m_cols * m_minCell * 3) + 4, std::max(40, m_rows * m_minCell * 3) + titleH + 4};
}

int HeatmapWidget::titleHeight() const {
    return m_title.isEmpty() ? 0 : fontMetrics().height() * int(m_title.count('\n') + 1) + 2;
}

QRect HeatmapWidget::gridRect() const {
    const int titleH = titleHeight();
    const QRect area = rect().adjusted(2, 2 + titleH, -2, -2);
    if (m_rows <= 0 || m_cols <= 0 || area.width() <= 0 || area.height() <= 0) return {};
    // Whole pixels per cell when possible: every cell the same size, no interpolation.
    const double exact = std::min(double(area.width()) / m_cols, double(area.height()) / m_rows);
    const double cell = exact >= 1.0 ? std::floor(exact) : exact;
    const int w = int(std::lround(cell * m_cols)), h = int(std::lround(cell * m_rows));
    return {area.left() + (area.width() - w) / 2, area.top() + (area.height() - h) / 2, w, h};
}

QRect HeatmapWidget::cellRect(int r, int c) const {
    const QRect g = gridRect();
    if (g.isEmpty()) return {};
    const double cw = double(g.width()) / m_cols, ch = double(g.height()) / m_rows;
    const int x0 = g.left() + int(std::lround(c * cw)), x1 = g.left() + int(std::lround((c + 1) * cw));
    const int y0 = g.top() + int(std::lround(r * ch)), y1 = g.top() + int(std::lround((r + 1) * ch));
    return {x0, y0, std::max(1, x1 - x0), std::max(1, y1 - y0)};
}

bool HeatmapWidget::cellAt(QPoint p, int* r, int* c) const {
    const QRect g = gridRect();
    if (g.isEmpty() || !g.contains(p)) return false;
    *c = std::clamp(int(double(p.x() - g.left()) * m_cols / g.width()), 0, m_cols - 1);
    *r = std::clamp(int(double(p.y() - g.top()) * m_rows / g.height()), 0, m_rows - 1);
    return true;
}

void HeatmapWidget::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::SmoothPixmapTransform, false);
    if (!m_title.isEmpty()) {
        p.setPen(palette().color(QPalette::WindowText));
        p.drawText(QRect(0, 1, width(), titleHeight()), Qt::AlignHCenter | Qt::AlignTop, m_title);
    }
    const QRect g = gridRect();
    if (g.isEmpty()) return;
    p.drawImage(g, m_image);  // nearest-neighbour: SmoothPixmapTransform is off
    const double cw = double(g.width()) / m_cols, ch = double(g.height()) / m_rows;
    if (m_block > 0 && m_block < std::max(m_rows, m_cols) && cw >= 2) {
        p.setPen(QPen(QColor(255, 255, 255, 90), 1));
        for (int k = m_block; k < m_cols; k += m_block) p.drawLine(QPointF(g.left() + k * cw, g.top()), QPointF(g.left() + k * cw, g.bottom() + 1));
        for (int k = m_block; k < m_rows; k += m_block) p.drawLine(QPointF(g.left(), g.top() + k * ch), QPointF(g.right() + 1, g.top() + k * ch));
    }
    if (!m_dividers.empty() && cw >= 1) {
        p.setPen(QPen(QColor(255, 255, 255, 140), 1));
        for (int k : m_dividers) {
            if (k > 0 && k < m_cols) p.drawLine(QPointF(g.left() + k * cw, g.top()), QPointF(g.left() + k * cw, g.bottom() + 1));
            if (k > 0 && k < m_rows) p.drawLine(QPointF(g.left(), g.top() + k * ch), QPointF(g.right() + 1, g.top() + k * ch));
        }
    }
    if (!m_marked.empty() && cw >= 4) {
        p.setPen(QPen(QColor(255, 255, 255, 200), std::max(1.0, cw / 12)));
        for (int r = 0; r < m_rows; ++r)
            for (int c = 0; c < m_cols; ++c)
                if (m_marked[std::size_t(r * m_cols + c)]) {
                    const QRectF cr = QRectF(cellRect(r, c)).adjusted(cw * 0.25, ch * 0.25, -cw * 0.25, -ch * 0.25);
                    p.drawLine(cr.topLeft(), cr.bottomRight());
                    p.drawLine(cr.topRight(), cr.bottomLeft());
                }
    }
    if (m_guides && m_hoverR >= 0) {
        p.setPen(QPen(QColor(255, 255, 255, 160), 1, Qt::DashLine));
        p.setBrush(Qt::NoBrush);
        const QRect cr = cellRect(m_hoverR, m_hoverC);
        p.drawRect(QRect(g.left(), cr.top(), g.width() - 1, cr.height() - 1));
        p.drawRect(QRect(cr.left(), g.top(), cr.width() - 1, g.height() - 1));
        p.setPen(QPen(Qt::white, 1));
        p.drawRect(cr.adjusted(0, 0, -1, -1));
    }
    if (m_selected) {
        p.setPen(QPen(palette().color(QPalette::Highlight), 2));
        p.setBrush(Qt::NoBrush);
        p.drawRect(g.adjusted(-1, -1, 0, 0));
    }
}

void HeatmapWidget::mouseMoveEvent(QMouseEvent* e) {
    int r = -1, c = -1;
    if (!cellAt(e->position().toPoint(), &r, &c)) r = c = -1;
    if (r == m_hoverR && c == m_hoverC) return;
    m_hoverR = r;
    m_hoverC = c;
    if (m_guides) update();
    emit cellHovered(r, c, r >= 0 ? double(value(r, c)) : NAN);
}

void HeatmapWidget::mousePressEvent(QMouseEvent* e) {
    int r, c;
    if (e->button() == Qt::LeftButton && cellAt(e->position().toPoint(), &r, &c)) emit cellClicked(r, c);
    else QWidget::mousePressEvent(e);
}

void HeatmapWidget::leaveEvent(QEvent*) {
    if (m_hoverR < 0) return;
    m_hoverR = m_hoverC = -1;
    if (m_guides) update();
    emit cellHovered(-1, -1, NAN);
}

}  // namespace plateau
