// HeatmapWidget: a rows x cols grid of values drawn as one image pixel per cell, scaled by whole
// pixels without interpolation, with optional title, marked cells, block dividers (n x n matrix
// structure inside a T x T map), hover guides and click selection. Used by every heatmap view and
// the mask editor. GUI thread only.
#pragma once

#include "colormap.h"

#include <QImage>
#include <QWidget>
#include <cstdint>
#include <vector>

namespace plateau {

class HeatmapWidget : public QWidget {
    Q_OBJECT
public:
    explicit HeatmapWidget(QWidget* parent = nullptr);

    // values: rows x cols, row-major. Range [lo, hi] (Sequential) or [-hi, hi] (Diverging).
    void setData(int rows, int cols, std::vector<float> values, ColorMapKind kind, double lo, double hi);
    void setMarked(std::vector<std::uint8_t> marked);  // rows x cols, 1 = draw a cross (masked)
    void setTitle(const QString& title);  // may hold several lines
    void setSelected(bool selected);
    void setBlockSize(int b);          // light dividers every b cells (0 = none)
    void setDividers(std::vector<int> at);  // light dividers before these rows/columns (replaces blocks)
    void setHoverGuides(bool on);      // highlight the hovered cell's row and column
    void setMinimumCellSize(int px);

    int rows() const { return m_rows; }
    int cols() const { return m_cols; }
    float value(int r, int c) const { return m_values[std::size_t(r * m_cols + c)]; }
    const std::vector<float>& values() const { return m_values; }
    const std::vector<std::uint8_t>& marked() const { return m_marked; }
    const QImage& image() const { return m_image; }
    QString title() const { return m_title; }
    // Widget rectangle of cell (r, c) in the current layout (for tests and hit testing).
    QRect cellRect(int r, int c) const;
    QSize sizeHint() const override;

signals:
    void cellClicked(int row, int col);
    void cellHovered(int row, int col, double value);  // row = col = -1 when the mouse leaves

protected:
    void paintEvent(QPaintEvent*) override;
    void mouseMoveEvent(QMouseEvent*) override;
    void mousePressEvent(QMouseEvent*) override;
    void leaveEvent(QEvent*) override;

private:
    QRect gridRect() const;
    int titleHeight() const;
    bool cellAt(QPoint p, int* r, int* c) const;

    int m_rows = 0, m_cols = 0;
    std::vector<float> m_values;
    std::vector<std::uint8_t> m_marked;
    QImage m_image;
    QString m_title;
    bool m_selected = false, m_guides = false;
    int m_block = 0, m_minCell = 2;
    std::vector<int> m_dividers;
    int m_hoverR = -1, m_hoverC = -1;
};

}  // namespace plateau
