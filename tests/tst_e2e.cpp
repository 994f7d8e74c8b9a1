// End to end: train the `tiny` preset headless as a user would, and check that the run shows the
// phenomenon -- a copying plateau, then a drop the detector finds, ending in real completion
// (L_mask < 0.25 E[X^2], not copying). The longest test (~4-7 minutes on 2 cores); it
// stops 3000 steps after the drop.
#include "cli_run.h"
#include "run/run_store.h"
#include "test_main.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include <cmath>

class TestEndToEnd : public QObject {
    Q_OBJECT
private slots:
    void tinyPresetPlateausThenDrops() {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath("tiny");
        // Training goes on 3000 steps after the detector sees the drop end: completion keeps
        // improving after the steep part, and the final medians need rows.
        CliRun r = runCli({"train", "--preset", "tiny", "--out", dir, "--stop-after-drop", "3000", "--set",
                           "train.print_every=2000"},
                          20 * 60 * 1000);
        QVERIFY2(r.code == 0, qPrintable(r.err + "\n" + r.out));
        qInfo().noquote() << r.out.trimmed();
        QVERIFY2(r.out.contains("stopped after the drop"), "the tiny preset ran all its steps without a drop");
        // The marker a sweep reads: the run ended by request at its last step, 3000 after the drop.
        const qint64 stoppedAt = plateau::stoppedAfterDropStep(dir);
        QVERIFY2(stoppedAt > 3000 && r.out.contains(QString("stopped after the drop at step %1").arg(stoppedAt)), qPrintable(r.out));

        r = runCli({"info", dir}, 120000);
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const QJsonObject info = QJsonDocument::fromJson(r.out.toUtf8()).object();
        const QJsonObject sum = info["summary"].toObject();
        const QJsonArray drops = info["detection"].toObject()["drops"].toArray();
        QVERIFY2(!drops.isEmpty(), qPrintable(r.out));
        const QJsonObject d = drops.first().toObject();
        const double copying = sum["copying_level"].toDouble();
        const double ex2 = sum["expected_square"].toDouble();
        qInfo("plateau %.0f..%.0f at %.4g (copying level %.4g), onset step %.0f (%.0f s), end %.0f, x%.1f; "
              "final L %.4g, L_mask/E[X^2] %.3f",
              d["plateau_start_step"].toDouble(), d["onset_step"].toDouble(), d["level_before"].toDouble(), copying,
              d["onset_step"].toDouble(), d["onset_time_s"].toDouble(), d["end_step"].toDouble(),
              d["factor"].toDouble(), sum["final_loss"].toDouble(), sum["final_loss_mask_over_expected_square"].toDouble());
        // The plateau is the copying plateau: its level is p_mask E[X^2] within 20%.
        QVERIFY(std::abs(d["level_before"].toDouble() / copying - 1.0) < 0.2);
        // It lasted a visible stretch before the onset.
        QVERIFY(d["onset_step"].toDouble() - d["plateau_start_step"].toDouble() >= 1000);
        QVERIFY(d["complete"].toBool());
        QVERIFY(d["factor"].toDouble() >= 3.0);
        // Real completion after the drop, not copying (copying gives L_mask = E[X^2]).
        QVERIFY2(sum["final_loss_mask"].toDouble() < 0.25 * ex2, qPrintable(r.out));
        QVERIFY(sum["final_loss_obs"].toDouble() < 0.1 * sum["final_loss_mask"].toDouble());
    }
};

QTEST_GUILESS_MAIN(TestEndToEnd)
#include "tst_e2e.moc"
