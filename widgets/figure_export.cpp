#include "figure_export.h"

#include <QFile>
#include <QImage>
#include <QPageSize>
#include <QPdfWriter>
#include <QSaveFile>
#include <QSvgGenerator>
#include <QTextStream>
#include <QWidget>
#include <qcustomplot.h>

#include <cmath>
#include <vector>

namespace plateau {

namespace {
// Full-quality drawing for the export, restored afterwards: antialiasing everywhere and every
// data point (the live views thin per pixel column and skip antialiasing).
class ExportQuality {
public:
    explicit ExportQuality(const QList<QWidget*>& parts) {
        for (QWidget* w : parts)
            if (auto* p = qobject_cast<QCustomPlot*>(w)) {
                m_plots.push_back({p, p->antialiasedElements(), p->notAntialiasedElements(), p->plottingHints(), {}});
                p->setNotAntialiasedElements(QCP::aeNone);
                p->setAntialiasedElements(QCP::aeAll);
                p->setPlottingHint(QCP::phFastPolylines, false);
                p->setPlottingHint(QCP::phCacheLabels, false);
                for (int i = 0; i < p->graphCount(); ++i) {
                    m_plots.back().sampling.push_back(p->graph(i)->adaptiveSampling());
                    p->graph(i)->setAdaptiveSampling(false);
                }
            }
    }
    ~ExportQuality() {
        for (const Saved& s : m_plots) {
            s.plot->setAntialiasedElements(s.aa);
            s.plot->setNotAntialiasedElements(s.notAa);
            s.plot->setPlottingHints(s.hints);
            for (int i = 0; i < s.plot->graphCount() && i < int(s.sampling.size()); ++i)
                s.plot->graph(i)->setAdaptiveSampling(s.sampling[std::size_t(i)]);
        }
    }

private:
    struct Saved {
        QCustomPlot* plot;
        QCP::AntialiasedElements aa, notAa;
        QCP::PlottingHints hints;
        std::vector<bool> sampling;
    };
    std::vector<Saved> m_plots;
};

QRect partRect(QWidget* root, QWidget* part) { return QRect(part->mapTo(root, QPoint(0, 0)), part->size()); }
}  // namespace

Result<QList<FigureFormat>> parseFigureFormats(const QString& list) {
    QList<FigureFormat> out;
    for (const QString& raw : list.split(',', Qt::SkipEmptyParts)) {
        const QString f = raw.trimmed().toLower();
        if (f == "png") out << FigureFormat::Png;
        else if (f == "svg") out << FigureFormat::Svg;
        else if (f == "pdf") out << FigureFormat::Pdf;
        else return Error{"--format: unknown figure format '" + raw.trimmed() + "' (use pdf, png, svg)"};
    }
    if (out.isEmpty()) return Error{"--format: no figure format given (use pdf, png, svg)"};
    return out;
}

QString figureSuffix(FigureFormat f) { return f == FigureFormat::Png ? "png" : f == FigureFormat::Svg ? "svg" : "pdf"; }

Status exportFigure(QWidget* root, const QList<QWidget*>& parts, const QString& path, FigureFormat format,
                    const FigureOptions& opt) {
    QRect bounds;
    for (QWidget* p : parts)
        if (p && !p->isHidden()) bounds |= partRect(root, p);
    if (bounds.isEmpty()) return Error{path + ": nothing to export (the view has no figure yet)"};
    const int captionH = opt.caption.isEmpty() ? 0 : root->fontMetrics().height() + 8;
    const QSizeF logical(bounds.width(), bounds.height() + captionH);
    double scale = 1.0;
    if (opt.size.isValid() && !opt.size.isEmpty())
        scale = std::min(opt.size.width() / logical.width(), opt.size.height() / logical.height());
    const QSizeF out = logical * scale;
    ExportQuality quality(parts);

    auto draw = [&](QCPPainter& p, double deviceScale) {
        p.setRenderHint(QPainter::Antialiasing);
        p.setRenderHint(QPainter::TextAntialiasing);
        p.scale(scale * deviceScale, scale * deviceScale);
        p.fillRect(QRectF(QPointF(0, 0), logical), Qt::white);
        if (captionH > 0) {
            p.setPen(Qt::black);
            p.setFont(root->font());
            p.drawText(QRectF(4, 2, logical.width() - 8, captionH - 4), Qt::AlignLeft | Qt::AlignVCenter, opt.caption);
        }
        for (QWidget* part : parts) {
            if (!part || part->isHidden()) continue;
            const QRect r = partRect(root, part);
            p.save();
            p.translate(r.left() - bounds.left(), r.top() - bounds.top() + captionH);
            p.setClipRect(QRect(QPoint(0, 0), r.size()));
            if (auto* plot = qobject_cast<QCustomPlot*>(part)) plot->toPainter(&p, r.width(), r.height());
            else part->render(&p, QPoint(0, 0), QRegion(), QWidget::DrawChildren);
            p.restore();
        }
    };

    switch (format) {
    case FigureFormat::Png: {
        const double px = opt.dpi / 96.0;
        QImage img((out * px).toSize(), QImage::Format_ARGB32_Premultiplied);
        if (img.isNull()) return Error{path + ": figure too large for an image at " + QString::number(opt.dpi) + " dpi"};
        img.fill(Qt::white);
        // Fonts are sized in points against the device's DPI: paint at 96 dpi (the scale does
        // the enlarging), then record the real DPI in the file.
        img.setDotsPerMeterX(int(std::lround(96 / 0.0254)));
        img.setDotsPerMeterY(int(std::lround(96 / 0.0254)));
        {
            QCPPainter p(&img);
            p.setMode(QCPPainter::pmNoCaching);
            draw(p, px);
        }
        img.setDotsPerMeterX(int(std::lround(opt.dpi / 0.0254)));
        img.setDotsPerMeterY(int(std::lround(opt.dpi / 0.0254)));
        if (!img.save(path, "PNG")) return Error{path + ": cannot write the PNG"};
        break;
    }
    case FigureFormat::Svg: {
        QSvgGenerator gen;
        gen.setFileName(path);
        gen.setSize(out.toSize());
        gen.setViewBox(QRectF(QPointF(0, 0), out));
        gen.setResolution(96);
        gen.setTitle("Plateau figure");
        {
            QCPPainter p;
            if (!p.begin(&gen)) return Error{path + ": cannot write the SVG"};
            p.setModes(QCPPainter::pmVectorized | QCPPainter::pmNoCaching | QCPPainter::pmNonCosmetic);
            draw(p, 1.0);
            p.end();
        }
        if (!QFile::exists(path)) return Error{path + ": cannot write the SVG"};
        break;
    }
    case FigureFormat::Pdf: {
        QPdfWriter pdf(path);
        pdf.setResolution(96);
        pdf.setCreator("Plateau");
        pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
        pdf.setPageSize(QPageSize(out * 72.0 / 96.0, QPageSize::Point, QString(), QPageSize::ExactMatch));
        QCPPainter p;
        if (!p.begin(&pdf)) return Error{path + ": cannot write the PDF"};
        p.setModes(QCPPainter::pmVectorized | QCPPainter::pmNoCaching | QCPPainter::pmNonCosmetic);
        draw(p, 1.0);
        p.end();
        break;
    }
    }
    return Status::success();
}

QString siblingPath(const QString& path, const QString& tag) {
    const int dot = path.lastIndexOf('.');
    return dot > path.lastIndexOf('/') ? path.left(dot) + "_" + tag + path.mid(dot) : path + "_" + tag;
}


}  // namespace plateau
