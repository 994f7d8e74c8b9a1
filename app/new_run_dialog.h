// NewRunDialog: choose a preset, edit the key hyper-parameters, the seed and the output folder;
// every field is checked as it is typed (through the same applyOverride / validateConfig the CLI
// uses) and errors are shown next to the field that caused them. GUI thread only.
#pragma once

#include "config.h"

#include <QDialog>
#include <QMap>

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;

namespace plateau {

class NewRunDialog : public QDialog {
    Q_OBJECT
public:
    explicit NewRunDialog(const QString& defaultParent, QWidget* parent = nullptr);

    // The fields the dialog edits, as config keys.
    static QStringList editedKeys();
    void setPreset(const QString& name);
    void setField(const QString& key, const QString& text);
    void setOutDir(const QString& dir);
    bool isValid() const { return m_valid; }
    QString errorFor(const QString& key) const;  // "" when the field is fine
    QString overallError() const;
    RunConfig config() const { return m_cfg; }
    QString outDir() const;

private:
    void loadPresetFields();
    void revalidate();

    QComboBox* m_preset;
    QMap<QString, QLineEdit*> m_fields;
    QMap<QString, QLabel*> m_errors;
    QLineEdit* m_out;
    QLabel *m_outError, *m_overall, *m_summary;
    QDialogButtonBox* m_buttons;
    QString m_defaultParent;
    RunConfig m_cfg;
    bool m_valid = false;
};

}  // namespace plateau
