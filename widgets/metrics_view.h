// MetricsView: the experiment's metric columns against step (or training time), one plot per unit
// (MSE, nats, accuracy, ...) stacked with a shared x range, each log-y or linear as its columns
// declare; EMA smoothing at full resolution (in log space for log axes, debiased) with the raw
// curve faint behind it, every point kept (QCustomPlot's adaptive sampling keeps each pixel
// column's min and max); the experiment's reference lines (the copying level, chance); the
// detector's plateau start / drop onset / drop end on every plot; the current snapshot's step;
// a cursor read-out of every column; columns switched on and off from a menu. GUI thread.
#pragma once

#include "curve_decimator.h"
#include "throttled_view.h"

#include <QJsonObject>
#include <vector>

class QCheckBox;
class QCPGraph;
class QCPItemStraightLine;
class QCPItemText;
class QCustomPlot;
class QLabel;
class QSlider;
class QToolButton;
class QVBoxLayout;

namespace plateau {

class SessionModel;

class MetricsView : public ThrottledView {
    Q_OBJECT
public:
    MetricsView(SessionModel* model, const QString& name, const QJsonObject& params, QWidget* parent = nullptr);

    void setSmoothing(double beta);  // 0 = off, < 1
    double smoothing() const { return m_beta; }
    void setLogX(bool on);
    void setTimeAxis(bool on);       // x = training seconds instead of step
    bool timeAxis() const { return m_timeAxis; }
    void setColumnShown(const QString& key, bool shown);
    bool columnShown(const QString& key) const;

    // For tests and export: points drawn of a column (smoothed curve; -1 if not drawn), its smoothed
    // values, the marker steps, the plot of a unit.
    int pointCount(const QString& key) const;
    int drawnPoints(const QString& key) const;  // points its graph holds now (decimated to the width)
    std::vector<double> smoothed(const QString& key) const;
    std::vector<double> markerSteps() const;
    QCustomPlot* plot(int group = 0) const;
    QCustomPlot* plotOfUnit(const QString& unit) const;
    int groupCount() const { return int(m_groups.size()); }
    QString cursorText() const;
    // x of the current-snapshot line (step or seconds); NaN while hidden (following live).
    double currentLineX() const;
    void showCursorAt(double x);     // what hovering at x shows

    QString figureName() const override { return m_name; }
    QList<QWidget*> figureParts() const override;
    Result<QStringList> exportCsv(const QString& path) const override;

protected:
    void redraw() override;

private:
    struct Series {
        int column;                  // index into the model's columns
        QCPGraph *raw, *ema;         // hold only what is drawn: the curves decimated to the plot's width
        CurveDecimator rawCurve, emaCurve;  // every point
        double num = 0, den = 0;     // EMA state
        qint64 lastStep = -1;        // step of the last point averaged in
    };
    struct Group {
        QString unit;
        bool log = true;
        bool on = true;              // has a shown column (the plot is shown)
        QCustomPlot* plot;
        std::vector<Series> series;
        std::vector<QCPGraph*> refs;
        std::vector<QCPItemStraightLine*> markers;
        std::vector<QCPItemText*> labels;
        QCPItemStraightLine* current;
        // What the graphs were decimated for: x range, pixel columns, scale, data version.
        double drawnLo = 0, drawnHi = 0;
        int drawnLeft = 0, drawnRight = 0, drawnLogX = -1;
        quint64 drawnVersion = 0;
    };
    // Fills the group's graphs with its curves decimated to the plot's current x range and width
    // (after every layout: screen redraws, resizes, zooms and figure exports alike).
    void refreshCurves(Group& g);
    quint64 m_dataVersion = 1;

    void rebuildPlots();
    void rebuildData();
    void appendFrom(std::size_t first);
    void updateMarkers();
    void updateVisibility();
    double xOf(std::size_t row) const;
    const Series* findSeries(const QString& key) const;

    SessionModel* m_model;
    QString m_name;
    QJsonObject m_params;
    QVBoxLayout* m_plots;
    QCheckBox *m_logX, *m_time;
    QSlider* m_smoothSlider;
    QLabel *m_smoothLabel, *m_cursor;
    QToolButton* m_columnsButton;
    std::vector<Group> m_groups;
    std::vector<bool> m_shown;       // per model column
    double m_beta = 0.9;
    bool m_timeAxis = false;
    std::size_t m_rowsDrawn = 0;
};

}  // namespace plateau
