// NewRunDialog: choose the experiment first, then one of its presets (or its defaults), edit the
// key hyper-parameters the experiment offers (its ExperimentInfo::dialogKeys), the seed and the
// output folder; every field is checked as it is typed (through the same applyOverride /
// validateConfig the CLI uses) and errors are shown next to the field that caused them. GUI thread.
#pragma once

#include "config.h"

#include <QDialog>
#include <QMap>

class QComboBox;
class QFormLayout;
class QDialogButtonBox;
class QLabel;
class QLineEdit;

namespace plateau {

class NewRunDialog : public QDialog {
    Q_OBJECT
public:
    explicit NewRunDialog(const QString& defaultParent, QWidget* parent = nullptr);

    // The fields the dialog edits for the chosen experiment, as config keys.
    QStringList editedKeys() const { return m_fields.keys(); }
    void setExperiment(const QString& id);
    QString experiment() const;
    // Presets of the chosen experiment (the combo's entries, "(defaults)" first when it has none).
    QStringList presets() const;
    void setPreset(const QString& name);
    void setField(const QString& key, const QString& text);
    void setOutDir(const QString& dir);
    bool isValid() const { return m_valid; }
    QString errorFor(const QString& key) const;  // "" when the field is fine
    QString overallError() const;
    RunConfig config() const { return m_cfg; }
    QString outDir() const;

private:
    void fillPresets();
    void rebuildFields();
    void loadPresetFields();
    Result<RunConfig> baseConfig() const;
    void revalidate();

    QComboBox* m_experiment;
    QComboBox* m_preset;
    QFormLayout* m_fieldForm;
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
