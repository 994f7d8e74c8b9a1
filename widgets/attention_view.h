// AttentionView: the layer x head grid of batch-averaged attention maps (the snapshot's
// `attention` (L, H, T, T), any T; one pixel per query/key pair, shared colour scale), with guide
// lines from the snapshot's token layout (grid rows, or "prompt | SEP | answer" segments), each
// titled with its same-row / same-column scores where the snapshot has them; a click selects a
// head and shows it large with hover values named by the layout. With view parameter
// "probe_masks" (matrix completion), the mask source of the probe batch (random, the paper's row
// mask for n >= 7, or a mask drawn on an n x n grid) is chosen here and sent to the worker through
// maskRequested. The grid follows the shapes of the snapshots. GUI thread only.
#pragma once

#include "snapshot.h"

#include "throttled_view.h"

#include <QJsonObject>
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
    AttentionView(SessionModel* model, const QString& name, const QJsonObject& params, QWidget* parent = nullptr);

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

    QString figureName() const override { return m_name; }
    QList<QWidget*> figureParts() const override;
    Result<QStringList> exportCsv(const QString& path) const override;

signals:
    void maskRequested(const plateau::ProbeSpec& spec);


protected:
    void redraw() override;

private:
    void rebuildGrid(int layers, int heads, int T, const TokenLayout& layout);
    void setMaskSide(int n);
    void emitMask();
    void showDrawnMask();

    SessionModel* m_model;
    QString m_name;
    bool m_probeMasks = false;
    QWidget* m_maskRow = nullptr;
    QLabel* m_sourceLabel = nullptr;
    TokenLayout m_layout;
    QComboBox* m_source;
    QLabel *m_info, *m_hover, *m_colorBar, *m_colorLabel, *m_colorZero;
    QGridLayout* m_grid;
    QWidget* m_gridHost;
    std::vector<HeatmapWidget*> m_cells;
    HeatmapWidget* m_focus;
    HeatmapWidget* m_maskEditor;
    int m_layers = 0, m_heads = 0, m_T = 0, m_n = 0;  // m_n: side of the drawn mask
    int m_layer = 0, m_head = 0;
    std::vector<std::uint8_t> m_drawn;
    qint64 m_shownStep = -1;
    double m_colorMax = 1;
};

}  // namespace plateau
