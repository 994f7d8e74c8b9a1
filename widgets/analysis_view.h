// AnalysisView: one analysis result (analysis_store.h) drawn as its figures
// (analysis/analysis_figures.h) — curves against a parameter, scatter panels, layer x head
// heatmaps for the first and last step, and the "over training" figures against step with the
// run's detected plateau, drop onset and drop end drawn — above the result's tables. Export like
// every view: the figure as PNG / SVG / PDF, every table as CSV. Torch-free. GUI thread only.
#pragma once

#include "analysis/analysis_figures.h"
#include "analysis/analysis_store.h"
#include "analysis/drop_detector.h"
#include "throttled_view.h"

#include <optional>

class QComboBox;
class QCustomPlot;
class QLabel;
class QTableView;
class QHBoxLayout;

namespace plateau {

class SessionModel;

class AnalysisView : public ThrottledView {
    Q_OBJECT
public:
    // model: where the drop detection comes from (may be null: then setDetection()).
    explicit AnalysisView(SessionModel* model, QWidget* parent = nullptr);

    void setResult(const AnalysisResult& r, const QString& note = {});
    void clear(const QString& note);
    const std::optional<AnalysisResult>& result() const { return m_result; }
    void setDetection(const DropDetection& d);
    // The figure shown (index into analysisFigures(result's id)).
    void setFigure(int index);
    // The tables under the figure (hidden while the figure set draws, so the figure gets the room).
    void setTableVisible(bool on);
    int figureIndex() const;
    int figureCount() const { return int(m_figures.size()); }
    const std::vector<AnalysisFigure>& figures() const { return m_figures; }
    // Points drawn in the figure's plots (tests): curves' points, or heatmap cells.
    int plottedPoints() const;
    // x of the drop markers drawn (tests).
    std::vector<double> markerXs() const { return m_markerXs; }
    QList<QCustomPlot*> plots() const { return m_plots; }

    QString figureName() const override;
    QList<QWidget*> figureParts() const override;
    // Every table of the result: PATH for the shown figure's, PATH_<table>.csv for the others.
    Result<QStringList> exportCsv(const QString& path) const override;

protected:
    void redraw() override;

private:
    void fillTable();
    void drawLines(const AnalysisFigure& f, const AnalysisTable& t);
    void drawHeatmaps(const AnalysisFigure& f, const AnalysisTable& t);
    QCustomPlot* newPlot();
    void markDrop(QCustomPlot* plot, bool logY);

    SessionModel* m_model;
    std::optional<AnalysisResult> m_result;
    DropDetection m_detection;
    bool m_ownDetection = false;
    std::vector<AnalysisFigure> m_figures;
    QComboBox* m_figureBox;
    QComboBox* m_tableBox;
    QLabel* m_title;
    QLabel* m_note;
    QWidget* m_plotArea;
    QHBoxLayout* m_plotLayout;
    QList<QCustomPlot*> m_plots;
    QTableView* m_table;
    class AnalysisTableModel* m_tableModel;
    QWidget* m_tablePane;
    std::vector<double> m_markerXs;
    int m_points = 0;
};

}  // namespace plateau
