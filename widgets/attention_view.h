// AttentionView: the layer x head grid of batch-averaged attention maps (T x T, one pixel per
// query/key pair, shared colour scale), each titled with its same-row / same-column scores; a
// click selects a head and shows it large with row/column guides and hover values. The mask
// source of the probe batch (random, the paper's row mask for n >= 7, or a mask drawn on an
// n x n grid) is chosen here and sent to the worker through maskRequested. GUI thread only.
#pragma once

#include "snapshot.h"

#include "throttled_view.h"
#include <vector>

class QComboBox;
class QGridLayout;
class QLabel;
class QTimer;

namespace plateau {

class HeatmapWidget;
class SessionModel;

class AttentionView : public ThrottledView {
    Q_OBJECT
public:
    explicit AttentionView(SessionModel* model, QWidget* parent = nullptr);

    void selectHead(int layer, int head);
    int selectedLayer() const { return m_layer; }
    int selectedHead() const { return m_head; }
    void setMaskSource(MaskSource s);
    MaskSource maskSource() const;
    void toggleMaskCell(int row, int col);  // as a click on the mask editor does
    const std::vector<std::uint8_t>& drawnMask() const { return m_drawn; }

    // For tests: the grid cells and the large view as last drawn.
    HeatmapWidget* cell(int layer, int head) const;
    HeatmapWidget* focusView() const { return m_focus; }
    HeatmapWidget* maskEditor() const { return m_maskEditor; }
    qint64 shownStep() const { return m_shownStep; }
    double colorMax() const { return m_colorMax; }

    QString figureName() const override;
    QList<QWidget*> figureParts() const override;
    Result<QStringList> exportCsv(const QString& path) const override;

signals:
    void maskRequested(const plateau::ProbeSpec& spec);


protected:
    void redraw() override;

private:
    void rebuildGrid();
    void emitMask();
    void showDrawnMask();

    SessionModel* m_model;
    QComboBox* m_source;
    QLabel *m_info, *m_hover, *m_colorBar, *m_colorLabel, *m_colorZero;
    QGridLayout* m_grid;
    QWidget* m_gridHost;
    std::vector<HeatmapWidget*> m_cells;
    HeatmapWidget* m_focus;
    HeatmapWidget* m_maskEditor;
    int m_layers = 0, m_heads = 0, m_n = 0;
    int m_layer = 0, m_head = 0;
    std::vector<std::uint8_t> m_drawn;
    qint64 m_shownStep = -1;
    double m_colorMax = 1;
};

}  // namespace plateau
