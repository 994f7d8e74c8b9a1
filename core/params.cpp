#include "params.h"

#include <QJsonDocument>
#include <cmath>

namespace plateau {

FieldSpec intField(const QString& key, qint64 def, double lo, double hi, const QString& help) {
    FieldSpec f;
    f.key = key;
    f.kind = FieldKind::Int;
    f.defaultValue = double(def);
    f.min = lo;
    f.max = hi;
    f.help = help;
    return f;
}
FieldSpec doubleField(const QString& key, double def, double lo, double hi, const QString& help) {
    FieldSpec f = intField(key, 0, lo, hi, help);
    f.kind = FieldKind::Double;
    f.defaultValue = def;
    return f;
}
FieldSpec stringField(const QString& key, const QString& def, const QStringList& choices, const QString& help) {
    FieldSpec f;
    f.key = key;
    f.kind = FieldKind::String;
    f.defaultValue = def;
    f.choices = choices;
    f.help = help;
    return f;
}
FieldSpec boolField(const QString& key, bool def, const QString& help) {
    FieldSpec f;
    f.key = key;
    f.kind = FieldKind::Bool;
    f.defaultValue = def;
    f.help = help;
    return f;
}
FieldSpec listField(const QString& key, const std::vector<double>& def, double lo, double hi, int maxLength,
                    const QString& help) {
    FieldSpec f = intField(key, 0, lo, hi, help);
    f.kind = FieldKind::DoubleList;
    QJsonArray a;
    for (double v : def) a.append(v);
    f.defaultValue = a;
    f.maxLength = maxLength;
    f.minLength = def.empty() ? 0 : 1;  // an empty default means "none" (or "derived"), so empty is allowed
    return f;
}

QString fieldKindName(FieldKind k) {
    switch (k) {
    case FieldKind::Int: return "an integer";
    case FieldKind::Double: return "a number";
    case FieldKind::String: return "a string";
    case FieldKind::Bool: return "true or false";
    case FieldKind::DoubleList: return "a list of numbers";
    }
    return {};
}

QString shownValue(const QJsonValue& v) {
    if (v.isString()) return "\"" + v.toString() + "\"";
    if (v.isDouble()) return QString::number(v.toDouble(), 'g', 17);
    if (v.isBool()) return v.toBool() ? "true" : "false";
    if (v.isNull()) return "null";
    if (v.isArray()) return "an array";
    if (v.isObject()) return "an object";
    return "nothing";
}

namespace {
QString rangeText(const FieldSpec& f) {
    return "[" + QString::number(f.min, 'g', 17) + ", " + QString::number(f.max, 'g', 17) + "]";
}
}  // namespace

Status checkFieldValue(const FieldSpec& f, const QJsonValue& v, const QString& where) {
    const QString w = where + ": ";
    switch (f.kind) {
    case FieldKind::Int:
        if (!v.isDouble() || std::floor(v.toDouble()) != v.toDouble())
            return Error{w + "expected " + fieldKindName(f.kind) + ", got " + shownValue(v)};
        break;
    case FieldKind::Double:
        if (!v.isDouble() || !std::isfinite(v.toDouble()))
            return Error{w + "expected " + fieldKindName(f.kind) + ", got " + shownValue(v)};
        break;
    case FieldKind::String:
        if (!v.isString()) return Error{w + "expected " + fieldKindName(f.kind) + ", got " + shownValue(v)};
        if (!f.choices.isEmpty() && !f.choices.contains(v.toString()))
            return Error{w + "must be one of " + f.choices.join(", ") + ", got " + shownValue(v)};
        return Status::success();
    case FieldKind::Bool:
        if (!v.isBool()) return Error{w + "expected " + fieldKindName(f.kind) + ", got " + shownValue(v)};
        return Status::success();
    case FieldKind::DoubleList: {
        if (!v.isArray()) return Error{w + "expected " + fieldKindName(f.kind) + ", got " + shownValue(v)};
        const QJsonArray a = v.toArray();
        if (a.size() < f.minLength) return Error{w + "needs at least " + QString::number(f.minLength) + " number" + (f.minLength == 1 ? "" : "s")};
        if (a.size() > f.maxLength)
            return Error{w + "at most " + QString::number(f.maxLength) + " entries, got " + QString::number(a.size())};
        for (int i = 0; i < a.size(); ++i) {
            const QJsonValue e = a.at(i);
            if (!e.isDouble() || !std::isfinite(e.toDouble()))
                return Error{w + "entry " + QString::number(i) + ": expected a number, got " + shownValue(e)};
            if (e.toDouble() < f.min || e.toDouble() > f.max)
                return Error{w + "entry " + QString::number(i) + ": must be in " + rangeText(f) + ", got " +
                             shownValue(e)};
        }
        return Status::success();
    }
    }
    const double d = v.toDouble();
    if (d < f.min || d > f.max) return Error{w + "must be in " + rangeText(f) + ", got " + shownValue(v)};
    return Status::success();
}

Result<QJsonValue> parseFieldText(const FieldSpec& f, const QString& text, const QString& where) {
    if (f.kind == FieldKind::String) return QJsonValue(text);
    // Numbers, booleans and lists are read as JSON by wrapping the text in an array.
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(("[" + text + "]").toUtf8(), &err);
    if (err.error != QJsonParseError::NoError || doc.array().size() != 1)
        return Error{where + ": expected " + fieldKindName(f.kind) + ", got \"" + text + "\""};
    return doc.array().at(0);
}

ParamSet ParamSet::defaults(const std::vector<FieldSpec>& fields) {
    ParamSet p;
    for (const FieldSpec& f : fields) p.m_values[f.key] = f.defaultValue;
    return p;
}

std::vector<double> ParamSet::list(const QString& key) const {
    std::vector<double> out;
    for (const QJsonValue& v : m_values.value(key).toArray()) out.push_back(v.toDouble());
    return out;
}

const FieldSpec* findFieldSpec(const std::vector<FieldSpec>& fields, const QString& key) {
    for (const FieldSpec& f : fields)
        if (f.key == key) return &f;
    return nullptr;
}

}  // namespace plateau
