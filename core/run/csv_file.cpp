#include "run/csv_file.h"

#include <QFile>
#include <QLocale>
#include <QSaveFile>
#include <QTextStream>

#include <cmath>

namespace plateau {

QString csvNumber(double v) {
    return std::isnan(v) ? QString() : QString::number(v, 'g', QLocale::FloatingPointShortest);  // round-trips exactly
}

Status writeCsv(const QString& path, const QStringList& header, const QList<QStringList>& rows) {
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Text)) return Error{path + ": cannot write: " + f.errorString()};
    QTextStream out(&f);
    auto line = [&](const QStringList& cells) {
        QStringList quoted;
        for (const QString& c : cells) {
            if (c.contains(',') || c.contains('"') || c.contains('\n')) quoted << '"' + QString(c).replace("\"", "\"\"") + '"';
            else quoted << c;
        }
        out << quoted.join(',') << '\n';
    };
    line(header);
    for (const QStringList& r : rows) line(r);
    out.flush();
    if (!f.commit()) return Error{path + ": cannot write: " + f.errorString()};
    return Status::success();
}

Result<QList<QStringList>> readCsv(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly | QIODevice::Text)) return Error{path + ": cannot read: " + f.errorString()};
    const QString text = QString::fromUtf8(f.readAll());
    QList<QStringList> rows;
    QStringList row;
    QString cell;
    bool quoted = false, any = false;
    int line = 1;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                cell += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                if (c == '\n') ++line;
                cell += c;
            }
        } else if (c == '"') {
            quoted = true;
            any = true;
        } else if (c == ',') {
            row << cell;
            cell.clear();
            any = true;
        } else if (c == '\n') {
            row << cell;
            rows << row;
            row.clear();
            cell.clear();
            any = false;
            ++line;
        } else {
            cell += c;
            any = true;
        }
    }
    if (quoted) return Error{path + ": line " + QString::number(line) + ": a quoted cell is not closed (file cut short?)"};
    if (any) {
        row << cell;
        rows << row;
    }
    return rows;
}

}  // namespace plateau
