#include "attention_view.h"

#include "figure_export.h"
#include "heatmap_widget.h"
#include "session_model.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPixmap>
#include <QRegularExpression>
#include <QSplitter>
#include <QStandardItemModel>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace plateau {

AttentionView::AttentionView(SessionModel* model, const QString& name, const QJsonObject& params, QWidget* parent)
    : ThrottledView(300, parent), m_model(model), m_name(name), m_probeMasks(params.value("probe_masks").toBool()) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    auto* controls = new QHBoxLayout;
    m_source = new QComboBox;
    m_source->addItem("random masks", int(MaskSource::Random));
    m_source->addItem("paper's row mask", int(MaskSource::PaperRow));
    m_source->addItem("drawn mask", int(MaskSource::Custom));
    m_source->setToolTip("masks of the probe batch: random (as in training), the paper's fixed row mask "
                         "(rows 3 and 6 masked except (3,1) and (6,5); n >= 7), or the mask drawn on the grid");
    m_sourceLabel = new QLabel("probe masks");
    controls->addWidget(m_sourceLabel);
    controls->addWidget(m_source);
    m_sourceLabel->setVisible(m_probeMasks);
    m_source->setVisible(m_probeMasks);
    m_info = new QLabel;
    m_info->setWordWrap(true);
    controls->addWidget(m_info, 1);
    layout->addLayout(controls);

    auto* split = new QSplitter(Qt::Horizontal);
    m_gridHost = new QWidget;
    m_grid = new QGridLayout(m_gridHost);
    m_grid->setSpacing(3);
    m_grid->setContentsMargins(0, 0, 0, 0);
    split->addWidget(m_gridHost);

    auto* right = new QWidget;
    auto* rl = new QVBoxLayout(right);
    rl->setContentsMargins(0, 0, 0, 0);
    auto* focusRow = new QHBoxLayout;
    m_focus = new HeatmapWidget;
    m_focus->setHoverGuides(true);
    m_focus->setMinimumCellSize(4);
    m_focus->setMinimumSize(160, 160);
    focusRow->addWidget(m_focus, 1);
    auto* barCol = new QVBoxLayout;
    m_colorLabel = new QLabel;  // the top value of the shared scale
    m_colorBar = new QLabel;
    m_colorBar->setScaledContents(true);
    m_colorBar->setFixedWidth(12);
    m_colorBar->setMinimumHeight(60);
    barCol->addWidget(m_colorLabel);
    barCol->addWidget(m_colorBar, 1);
    m_colorZero = new QLabel("0");
    barCol->addWidget(m_colorZero);
    focusRow->addLayout(barCol);
    rl->addLayout(focusRow, 1);
    m_hover = new QLabel(" ");
    rl->addWidget(m_hover);
    m_maskRow = new QWidget;
    auto* maskRow = new QHBoxLayout(m_maskRow);
    maskRow->setContentsMargins(0, 0, 0, 0);
    m_maskEditor = new HeatmapWidget;
    m_maskEditor->setMinimumCellSize(6);
    m_maskEditor->setFixedSize(96, 96);
    m_maskEditor->setToolTip("click a cell to mask or unmask it; used with \"drawn mask\"");
    maskRow->addWidget(m_maskEditor);
    auto* maskHelp = new QLabel("mask editor: click cells to mask (×) or unmask them; the probe batch then uses this mask");
    maskHelp->setWordWrap(true);
    maskRow->addWidget(maskHelp, 1);
    rl->addWidget(m_maskRow);
    m_maskRow->setVisible(m_probeMasks);
    split->addWidget(right);
    m_gridHost->setMinimumWidth(300);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    layout->addWidget(split, 1);

    connect(m_source, &QComboBox::currentIndexChanged, this, [this] { emitMask(); });
    connect(m_maskEditor, &HeatmapWidget::cellClicked, this, &AttentionView::toggleMaskCell);
    connect(m_focus, &HeatmapWidget::cellHovered, this, [this](int q, int k, double v) {
        if (q < 0) {
            m_hover->setText(" ");
            return;
        }
        m_hover->setText(QString("query %1 -> key %2: %3").arg(m_layout.describe(q), m_layout.describe(k)).arg(v, 0, 'f', 4));
    });
    connect(model, &SessionModel::runReset, this, [this] {
        rebuildGrid(0, 0, 0, TokenLayout{});
        // The drawn mask's grid: the matrix side of the task, known before the first snapshot.
        const RunConfig& cfg = m_model->config();
        setMaskSide(m_probeMasks && cfg.task.has("n") ? cfg.task.i("n") : 0);
        scheduleRedraw();
    });
    connect(model, &SessionModel::currentChanged, this, [this, model] { currentMoved(model); });
}

HeatmapWidget* AttentionView::cell(int layer, int head) const {
    const std::size_t i = std::size_t(layer * m_heads + head);
    return layer >= 0 && head >= 0 && head < m_heads && i < m_cells.size() ? m_cells[i] : nullptr;
}

void AttentionView::rebuildGrid(int layers, int heads, int T, const TokenLayout& layout) {
    for (HeatmapWidget* w : m_cells) delete w;
    m_cells.clear();
    m_layers = layers;
    m_heads = heads;
    m_T = T;
    m_layout = layout;
    const std::vector<int> dividers = layout.boundaries();
    for (int l = 0; l < m_layers; ++l)
        for (int h = 0; h < m_heads; ++h) {
            auto* w = new HeatmapWidget;
            w->setDividers(dividers);
            w->setTitle(QString("L%1 H%2\n").arg(l).arg(h));
            QFont small = w->font();
            small.setPointSizeF(small.pointSizeF() * 0.85);
            w->setFont(small);
            w->setData(T, T, std::vector<float>(std::size_t(T * T), NAN), ColorMapKind::Sequential, 0, 1);
            w->setToolTip(QString("layer %1, head %2: click to inspect").arg(l).arg(h));
            connect(w, &HeatmapWidget::cellClicked, this, [this, l, h] { selectHead(l, h); });
            w->setMinimumSize(56, 56);
            m_grid->addWidget(w, l, h);
            w->show();  // added after the window was shown: not shown by the layout
            m_cells.push_back(w);
        }
    m_focus->setDividers(dividers);
    m_layer = std::min(m_layer, std::max(0, m_layers - 1));
    m_head = std::min(m_head, std::max(0, m_heads - 1));
    m_shownStep = -1;
    for (int i = 0; i < int(m_cells.size()); ++i) m_cells[std::size_t(i)]->setSelected(i == m_layer * m_heads + m_head);
}

void AttentionView::setMaskSide(int n) {
    m_n = n;
    // The row mask is defined for n >= 7 only.
    if (auto* items = qobject_cast<QStandardItemModel*>(m_source->model())) items->item(1)->setEnabled(m_n >= 7);
    if (m_n < 7 && maskSource() == MaskSource::PaperRow) m_source->setCurrentIndex(0);
    m_drawn.assign(std::size_t(m_n * m_n), 0);
    showDrawnMask();
}

void AttentionView::selectHead(int layer, int head) {
    if (layer < 0 || layer >= m_layers || head < 0 || head >= m_heads) {
        if (m_layers == 0) {  // before the first snapshot: remembered for when the grid exists
            m_layer = std::max(0, layer);
            m_head = std::max(0, head);
        }
        return;
    }
    m_layer = layer;
    m_head = head;
    for (int i = 0; i < int(m_cells.size()); ++i) m_cells[std::size_t(i)]->setSelected(i == layer * m_heads + head);
    m_shownStep = -1;  // the focus view must be redrawn
    redrawSoon();
}

MaskSource AttentionView::maskSource() const { return MaskSource(m_source->currentData().toInt()); }

void AttentionView::setMaskSource(MaskSource s) { m_source->setCurrentIndex(int(s)); }

void AttentionView::toggleMaskCell(int row, int col) {
    if (row < 0 || col < 0 || row >= m_n || col >= m_n) return;
    auto& c = m_drawn[std::size_t(row * m_n + col)];
    c = c ? 0 : 1;
    showDrawnMask();
    if (maskSource() == MaskSource::Custom) emitMask();
    else setMaskSource(MaskSource::Custom);  // drawing means using the drawing
}

void AttentionView::showDrawnMask() {
    std::vector<float> shade(m_drawn.size());
    for (std::size_t i = 0; i < shade.size(); ++i) shade[i] = m_drawn[i] ? 0.05f : 0.7f;  // masked dark, observed green
    m_maskEditor->setData(m_n, m_n, shade, ColorMapKind::Sequential, 0, 1);
    m_maskEditor->setBlockSize(1);
    m_maskEditor->setMarked(m_drawn);
}

void AttentionView::emitMask() {
    if (!m_probeMasks) return;
    ProbeSpec spec;
    spec.source = maskSource();
    if (spec.source == MaskSource::Custom) spec.customMask = m_drawn;
    emit maskRequested(spec);
}

void AttentionView::redraw() {
    const SnapshotPtr s = m_model->current();
    const NamedArray* att = s ? s->array("attention") : nullptr;
    if (!att || att->shape.size() != 4) return;
    const int L = att->dim(0), H = att->dim(1), T = att->dim(2);
    if (L != m_layers || H != m_heads || T != m_T || !(s->layout == m_layout)) rebuildGrid(L, H, T, s->layout);
    const std::size_t TT = std::size_t(T) * std::size_t(T);
    const float* all = att->f32.data();
    // One colour scale for every cell: 0 .. the largest mean attention of the snapshot.
    m_colorMax = std::max(1e-6, double(*std::max_element(att->f32.begin(), att->f32.end())));
    const float* sameRow = s->f32("attention.same_row");
    const float* sameCol = s->f32("attention.same_col");
    const bool scores = sameRow && sameCol && s->layout.kind == TokenLayout::Grid;
    const int n = s->layout.n;
    const double uniform = scores ? double(n - 1) / T : 0;
    for (int l = 0; l < L; ++l)
        for (int h = 0; h < H; ++h) {
            const float* a = all + std::size_t(l * H + h) * TT;
            HeatmapWidget* w = cell(l, h);
            w->setData(T, T, std::vector<float>(a, a + TT), ColorMapKind::Sequential, 0, m_colorMax);
            const std::size_t i = std::size_t(l * H + h);
            if (scores) {
                // Compact: "L0H1 r.42 c.08" (same-row / same-column scores); full numbers in the tooltip.
                auto frac = [](float v) { return QString::number(double(v), 'f', 2).remove(QRegularExpression("^0")); };
                w->setTitle(QString("L%1 H%2\nr%3 c%4").arg(l).arg(h).arg(frac(sameRow[i])).arg(frac(sameCol[i])));
                w->setToolTip(QString("layer %1, head %2: same row %3, same column %4 (uniform %5); click to inspect")
                                  .arg(l).arg(h).arg(sameRow[i], 0, 'f', 3).arg(sameCol[i], 0, 'f', 3).arg(uniform, 0, 'f', 3));
            } else {
                w->setTitle(QString("L%1 H%2").arg(l).arg(h));
            }
        }
    const std::size_t sel = std::size_t(m_layer * H + m_head);
    const float* a = all + sel * TT;
    m_focus->setData(T, T, std::vector<float>(a, a + TT), ColorMapKind::Sequential, 0, m_colorMax);
    QString title = QString("layer %1, head %2 at step %3").arg(m_layer).arg(m_head).arg(s->step);
    if (scores)
        title += QString(": same row %1, same column %2 (uniform %3)")
                     .arg(sameRow[sel], 0, 'f', 3).arg(sameCol[sel], 0, 'f', 3).arg(uniform, 0, 'f', 3);
    m_focus->setTitle(title);
    QString layoutText = "rows = queries, columns = keys";
    if (s->layout.kind == TokenLayout::Grid) layoutText += " (row-major n×n entries)";
    if (s->layout.kind == TokenLayout::Segments) {
        QStringList parts;
        const auto& segs = s->layout.segments;
        for (std::size_t i = 0; i < segs.size(); ++i) {
            // Many segments (examples of an in-context task): the first two, an ellipsis, the last.
            if (segs.size() > 6 && i == 2) {
                parts << QString("… %1 more …").arg(segs.size() - 3);
                i = segs.size() - 2;
                continue;
            }
            parts << segs[i].label;
        }
        layoutText += " (" + parts.join(" | ") + ")";
    }
    m_info->setText(QString("step %1 · mean over %2 probe items%3 · %4")
                        .arg(s->step).arg(s->probeCount)
                        .arg(m_probeMasks ? " · " + maskSourceName(s->probe.source) + " masks" : QString())
                        .arg(layoutText));
    if (m_colorBar->pixmap().isNull())
        m_colorBar->setPixmap(QPixmap::fromImage(colorBarImage(ColorMapKind::Sequential, 12, 256)));
    m_colorLabel->setText(QString::number(m_colorMax, 'f', 3));
    m_shownStep = s->step;
}

QList<QWidget*> AttentionView::figureParts() const { return {m_gridHost, m_focus, m_colorLabel, m_colorBar, m_colorZero}; }

Result<QStringList> AttentionView::exportCsv(const QString& path) const {
    const SnapshotPtr s = m_model->current();
    const NamedArray* att = s ? s->array("attention") : nullptr;
    if (!att) return Error{path + ": no snapshot with attention to export yet"};
    QList<QStringList> rows;
    const int L = att->dim(0), H = att->dim(1), T = att->dim(2);
    const float* sameRow = s->f32("attention.same_row");
    const float* sameCol = s->f32("attention.same_col");
    for (int l = 0; l < L; ++l)
        for (int h = 0; h < H; ++h) {
            const std::size_t i = std::size_t(l * H + h);
            const QString sr = sameRow ? csvNumber(sameRow[i]) : QString(), sc = sameCol ? csvNumber(sameCol[i]) : QString();
            for (int q = 0; q < T; ++q)
                for (int k = 0; k < T; ++k)
                    rows << QStringList{QString::number(s->step), QString::number(l), QString::number(h), QString::number(q),
                                        QString::number(k), s->layout.label(q), s->layout.label(k),
                                        csvNumber(s->attn(l, h, q, k)), sr, sc, maskSourceName(s->probe.source)};
        }
    const QStringList header{"step", "layer", "head", "query", "key", "query_token", "key_token", "weight",
                             "head_same_row", "head_same_col", "probe_masks"};
    if (Status st = writeCsv(path, header, rows); !st) return Error{st.error()};
    return QStringList{path};
}

}  // namespace plateau
