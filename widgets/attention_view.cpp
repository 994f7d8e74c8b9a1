#include "attention_view.h"

#include "heatmap_widget.h"
#include "figure_export.h"
#include "session_model.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPixmap>
#include <QRegularExpression>
#include <QScrollArea>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace plateau {

AttentionView::AttentionView(SessionModel* model, QWidget* parent) : ThrottledView(300, parent), m_model(model) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    auto* controls = new QHBoxLayout;
    m_source = new QComboBox;
    m_source->addItem("random masks", int(MaskSource::Random));
    m_source->addItem("paper's row mask", int(MaskSource::PaperRow));
    m_source->addItem("drawn mask", int(MaskSource::Custom));
    m_source->setToolTip("masks of the probe batch: random (as in training), the paper's fixed row mask "
                         "(rows 3 and 6 masked except (3,1) and (6,5); n >= 7), or the mask drawn on the grid");
    controls->addWidget(new QLabel("probe masks"));
    controls->addWidget(m_source);
    m_info = new QLabel;
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
    auto* maskRow = new QHBoxLayout;
    m_maskEditor = new HeatmapWidget;
    m_maskEditor->setMinimumCellSize(6);
    m_maskEditor->setFixedSize(96, 96);
    m_maskEditor->setToolTip("click a cell to mask or unmask it; used with \"drawn mask\"");
    maskRow->addWidget(m_maskEditor);
    auto* maskHelp = new QLabel("mask editor: click cells to mask (×) or unmask them; the probe batch then uses this mask");
    maskHelp->setWordWrap(true);
    maskRow->addWidget(maskHelp, 1);
    rl->addLayout(maskRow);
    split->addWidget(right);
    m_gridHost->setMinimumWidth(300);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    layout->addWidget(split, 1);

    connect(m_source, &QComboBox::currentIndexChanged, this, [this] { emitMask(); });
    connect(m_maskEditor, &HeatmapWidget::cellClicked, this, &AttentionView::toggleMaskCell);
    connect(m_focus, &HeatmapWidget::cellHovered, this, [this](int q, int k, double v) {
        if (q < 0 || m_n == 0) {
            m_hover->setText(" ");
            return;
        }
        m_hover->setText(QString("query (%1,%2) -> key (%3,%4): %5")
                             .arg(q / m_n).arg(q % m_n).arg(k / m_n).arg(k % m_n).arg(v, 0, 'f', 4));
    });
    connect(model, &SessionModel::runReset, this, &AttentionView::rebuildGrid);
    connect(model, &SessionModel::currentChanged, this, [this, model] { currentMoved(model); });
}

HeatmapWidget* AttentionView::cell(int layer, int head) const {
    const std::size_t i = std::size_t(layer * m_heads + head);
    return i < m_cells.size() ? m_cells[i] : nullptr;
}

void AttentionView::rebuildGrid() {
    for (HeatmapWidget* w : m_cells) delete w;
    m_cells.clear();
    const RunConfig& cfg = m_model->config();
    m_layers = cfg.model.layers;
    m_heads = cfg.model.heads;
    m_n = cfg.task.n;
    const int T = m_n * m_n;
    for (int l = 0; l < m_layers; ++l)
        for (int h = 0; h < m_heads; ++h) {
            auto* w = new HeatmapWidget;
            w->setBlockSize(m_n);
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
    // The row mask is defined for n >= 7 only.
    if (auto* items = qobject_cast<QStandardItemModel*>(m_source->model()))
        items->item(1)->setEnabled(m_n >= 7);
    if (m_n < 7 && maskSource() == MaskSource::PaperRow) m_source->setCurrentIndex(0);
    m_drawn.assign(std::size_t(m_n * m_n), 0);
    showDrawnMask();
    m_layer = std::min(m_layer, std::max(0, m_layers - 1));
    m_head = std::min(m_head, std::max(0, m_heads - 1));
    m_shownStep = -1;
    selectHead(m_layer, m_head);
}

void AttentionView::selectHead(int layer, int head) {
    if (layer < 0 || layer >= m_layers || head < 0 || head >= m_heads) return;
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
    ProbeSpec spec;
    spec.source = maskSource();
    if (spec.source == MaskSource::Custom) spec.customMask = m_drawn;
    emit maskRequested(spec);
}

void AttentionView::redraw() {
    const SnapshotPtr s = m_model->current();
    if (!s || s->layers != m_layers || s->heads != m_heads || s->n != m_n) return;
    const int T = s->seqLen();
    const std::size_t TT = std::size_t(T) * std::size_t(T);
    // One colour scale for every cell: 0 .. the largest mean attention of the snapshot.
    m_colorMax = std::max(1e-6, double(*std::max_element(s->attention.begin(), s->attention.end())));
    for (int l = 0; l < m_layers; ++l)
        for (int h = 0; h < m_heads; ++h) {
            const float* a = s->attention.data() + std::size_t(l * m_heads + h) * TT;
            HeatmapWidget* w = cell(l, h);
            w->setData(T, T, std::vector<float>(a, a + TT), ColorMapKind::Sequential, 0, m_colorMax);
            const std::size_t i = std::size_t(l * m_heads + h);
            // Compact: "L0H1 r.42 c.08" (same-row / same-column scores); full numbers in the tooltip.
            auto frac = [](float v) { return QString::number(double(v), 'f', 2).remove(QRegularExpression("^0")); };
            w->setTitle(QString("L%1 H%2\nr%3 c%4").arg(l).arg(h).arg(frac(s->sameRow[i])).arg(frac(s->sameCol[i])));
            w->setToolTip(QString("layer %1, head %2: same row %3, same column %4 (uniform %5); click to inspect")
                              .arg(l).arg(h).arg(s->sameRow[i], 0, 'f', 3).arg(s->sameCol[i], 0, 'f', 3)
                              .arg(double(m_n - 1) / T, 0, 'f', 3));
        }
    const float* a = s->attention.data() + std::size_t(m_layer * m_heads + m_head) * TT;
    m_focus->setData(T, T, std::vector<float>(a, a + TT), ColorMapKind::Sequential, 0, m_colorMax);
    m_focus->setBlockSize(m_n);
    const std::size_t sel = std::size_t(m_layer * m_heads + m_head);
    m_focus->setTitle(QString("layer %1, head %2 at step %3: same row %4, same column %5 (uniform %6)")
                          .arg(m_layer).arg(m_head).arg(s->step).arg(s->sameRow[sel], 0, 'f', 3)
                          .arg(s->sameCol[sel], 0, 'f', 3).arg(double(m_n - 1) / T, 0, 'f', 3));
    m_info->setText(QString("step %1 · mean over %2 probe matrices · %3 masks · rows = queries, columns = keys (row-major n×n entries)")
                        .arg(s->step).arg(s->probeCount).arg(maskSourceName(s->probe.source)));
    if (m_colorBar->pixmap().isNull())
        m_colorBar->setPixmap(QPixmap::fromImage(colorBarImage(ColorMapKind::Sequential, 12, 256)));
    m_colorLabel->setText(QString::number(m_colorMax, 'f', 3));
    m_shownStep = s->step;
}

QString AttentionView::figureName() const { return "attention"; }
QList<QWidget*> AttentionView::figureParts() const { return {m_gridHost, m_focus, m_colorLabel, m_colorBar, m_colorZero}; }

Result<QStringList> AttentionView::exportCsv(const QString& path) const {
    const SnapshotPtr s = m_model->current();
    if (!s) return Error{path + ": no snapshot to export yet"};
    QList<QStringList> rows;
    const int T = s->seqLen(), n = s->n;
    for (int l = 0; l < s->layers; ++l)
        for (int h = 0; h < s->heads; ++h) {
            const QString sr = csvNumber(s->sameRow[std::size_t(l * s->heads + h)]);
            const QString sc = csvNumber(s->sameCol[std::size_t(l * s->heads + h)]);
            for (int q = 0; q < T; ++q)
                for (int k = 0; k < T; ++k)
                    rows << QStringList{QString::number(s->step), QString::number(l), QString::number(h),
                                        QString::number(q / n), QString::number(q % n), QString::number(k / n),
                                        QString::number(k % n), csvNumber(s->attn(l, h, q, k)), sr, sc,
                                        maskSourceName(s->probe.source)};
        }
    const QStringList header{"step", "layer", "head", "query_row", "query_col", "key_row", "key_col", "weight",
                             "head_same_row", "head_same_col", "probe_masks"};
    if (Status st = writeCsv(path, header, rows); !st) return Error{st.error()};
    return QStringList{path};
}

}  // namespace plateau
