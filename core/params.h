// Fields of a config section that an experiment declares (its `task` and `model` sections): each
// field's kind, default, valid range or choices, and help; the values of one section as a JSON
// object with every declared field present. Validation messages name the source and the dotted
// field. Plain data, no torch: any thread.
#pragma once

#include "result.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <limits>
#include <vector>

namespace plateau {

enum class FieldKind { Int, Double, String, Bool, DoubleList };

struct FieldSpec {
    QString key;             // name inside its section ("n", "width", ...)
    FieldKind kind = FieldKind::Int;
    QJsonValue defaultValue;
    double min = -std::numeric_limits<double>::infinity();  // numbers (and every entry of a list)
    double max = std::numeric_limits<double>::infinity();
    QStringList choices;     // strings: the allowed values (empty = free text)
    QString help;            // one line, shown by `plateau-cli experiments` and the new-run dialog
    int maxLength = 64;      // lists: most entries
    int minLength = 1;       // lists: fewest entries (0 where empty means something: listField with an empty default)
};

// Convenience constructors for field tables.
FieldSpec intField(const QString& key, qint64 def, double lo, double hi, const QString& help);
FieldSpec doubleField(const QString& key, double def, double lo, double hi, const QString& help);
FieldSpec stringField(const QString& key, const QString& def, const QStringList& choices, const QString& help);
FieldSpec boolField(const QString& key, bool def, const QString& help);
FieldSpec listField(const QString& key, const std::vector<double>& def, double lo, double hi, int maxLength,
                    const QString& help);

QString fieldKindName(FieldKind k);
// Short text of a JSON value for messages ("3", "\"abc\"", "an array").
QString shownValue(const QJsonValue& v);
// Checks v against the field; `where` is "SOURCE: section.key" (the message goes on from there).
Status checkFieldValue(const FieldSpec& f, const QJsonValue& v, const QString& where);
// Parses command-line text ("3", "0.1", "[0, 0.5]", "abc") into a value of the field's kind.
Result<QJsonValue> parseFieldText(const FieldSpec& f, const QString& text, const QString& where);

// The values of one section: every field of its table, defaults filled in.
class ParamSet {
public:
    ParamSet() = default;
    static ParamSet defaults(const std::vector<FieldSpec>& fields);

    int i(const QString& key) const { return int(m_values.value(key).toDouble()); }
    qint64 i64(const QString& key) const { return qint64(m_values.value(key).toDouble()); }
    double d(const QString& key) const { return m_values.value(key).toDouble(); }
    QString s(const QString& key) const { return m_values.value(key).toString(); }
    bool b(const QString& key) const { return m_values.value(key).toBool(); }
    std::vector<double> list(const QString& key) const;
    bool has(const QString& key) const { return m_values.contains(key); }

    void setRaw(const QString& key, const QJsonValue& v) { m_values[key] = v; }
    const QJsonObject& json() const { return m_values; }
    bool operator==(const ParamSet& o) const { return m_values == o.m_values; }

private:
    QJsonObject m_values;
};

const FieldSpec* findFieldSpec(const std::vector<FieldSpec>& fields, const QString& key);

}  // namespace plateau
