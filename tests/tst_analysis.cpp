// The plateau / drop detector on synthetic curves with known answers: flat, slow decays, a noisy
// plateau then a step, two drops, spikes; offline and online.
#include "analysis/drop_detector.h"
#include "test_main.h"

#include <cmath>
#include <random>

using namespace plateau;

namespace {
struct Curve {
    std::vector<qint64> steps;
    std::vector<double> loss;
};
// level(t) with multiplicative log-normal noise of `noise` decades (sd), fixed seed.
template <class F>
Curve make(int n, F level, double noise, unsigned seed = 7) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> g(0.0, noise);
    Curve c;
    for (int t = 1; t <= n; ++t) {
        c.steps.push_back(t);
        c.loss.push_back(level(double(t)) * std::pow(10.0, g(rng)));
    }
    return c;
}
// A smooth step from a to b centred at t0 with width w (logistic in log space).
double stepLevel(double t, double a, double b, double t0, double w) {
    const double x = 1.0 / (1.0 + std::exp(-(t - t0) / w));
    return std::pow(10.0, std::log10(a) * (1 - x) + std::log10(b) * x);
}
}  // namespace

class TestAnalysis : public QObject {
    Q_OBJECT
private slots:
    void flatCurveHasNoDrop() {
        const Curve c = make(20000, [](double) { return 0.033; }, 0.12);
        const DropDetection d = detectDrops(c.steps, c.loss);
        QVERIFY(d.drops.empty());
        QVERIFY(d.hasCurrentPlateau);
        QVERIFY(std::fabs(d.currentPlateau.level / 0.033 - 1) < 0.05);
        QVERIFY(d.currentPlateau.startStep < 1000);
    }
    void slowDecaysHaveNoDrop_data() {
        QTest::addColumn<int>("kind");
        QTest::newRow("exponential, 3 decades") << 0;
        QTest::newRow("power law t^-1") << 1;
        QTest::newRow("power law t^-0.5 with noise") << 2;
    }
    void slowDecaysHaveNoDrop() {
        QFETCH(int, kind);
        const int n = 30000;
        const Curve c = make(n, [&](double t) {
            if (kind == 0) return std::pow(10.0, -3.0 * t / n);
            if (kind == 1) return 1.0 / (1.0 + t / 10.0);
            return 1.0 / std::sqrt(1.0 + t);
        }, kind == 2 ? 0.15 : 0.05);
        const DropDetection d = detectDrops(c.steps, c.loss);
        QVERIFY2(d.drops.empty(), qPrintable(QString("false drop at %1").arg(d.drops.empty() ? 0 : d.drops[0].onsetStep)));
    }
    void noisyPlateauThenStep() {
        // Copying plateau at 0.033 from ~step 300, sudden 20x drop centred at 12000 (width ~100).
        const Curve c = make(20000, [](double t) {
            const double early = 0.1 * std::exp(-t / 100.0);
            return early + stepLevel(t, 0.033, 0.0016, 12000, 60);
        }, 0.12);
        const DropDetection d = detectDrops(c.steps, c.loss);
        QCOMPARE(int(d.drops.size()), 1);
        const DropEvent& e = d.drops[0];
        QVERIFY(e.complete);
        QVERIFY2(e.onsetStep > 11500 && e.onsetStep < 12000, qPrintable(QString::number(e.onsetStep)));
        QVERIFY2(e.endStep > 12000 && e.endStep < 12700, qPrintable(QString::number(e.endStep)));
        QVERIFY2(e.plateau.startStep < 1500, qPrintable(QString::number(e.plateau.startStep)));
        QVERIFY(std::fabs(e.levelBefore / 0.033 - 1) < 0.1);
        QVERIFY(std::fabs(e.levelAfter / 0.0016 - 1) < 0.25);
        QVERIFY(e.factor > 15 && e.factor < 26);
        QVERIFY(d.hasCurrentPlateau);  // the post-drop level is a plateau of its own
    }
    void twoDrops() {
        const Curve c = make(30000, [](double t) {
            return stepLevel(t, 0.2, 0.05, 8000, 50) * stepLevel(t, 1.0, 0.1, 20000, 80);
        }, 0.08);
        const DropDetection d = detectDrops(c.steps, c.loss);
        QCOMPARE(int(d.drops.size()), 2);
        QVERIFY(std::abs(d.drops[0].onsetStep - 7800) < 300);
        QVERIFY(std::abs(d.drops[1].onsetStep - 19700) < 400);
        QVERIFY(std::fabs(d.drops[0].factor / 4 - 1) < 0.2);
        QVERIFY(std::fabs(d.drops[1].factor / 10 - 1) < 0.2);
        QVERIFY(d.drops[1].plateau.startStep >= d.drops[0].endStep);
    }
    void steepFallThenSteadyDeclineEndsWhereItLevels() {
        // The shape of the CPU presets' drop: a copying plateau, a steep 2.5x fall, then a steady
        // fall of 0.2 decades per 1000 steps to a floor at step 7500 (noise as measured on them,
        // 0.05 decades). The drop ends where the curve levels off, not at a noise shoulder on the
        // way down, and its factor is the whole fall. Twelve noise draws (judged over 10% of the
        // plateau, as the detector first did, 6 of 40 draws ended at 5.5-6.1k).
        const auto level = [](double t) {
            const double steady = t < 5000 ? 0.0 : (std::min(t, 7500.0) - 5000.0) * 0.2 / 1000.0;
            return stepLevel(t, 0.022, 0.0088, 4400, 120) * std::pow(10.0, -steady);
        };
        for (unsigned seed = 1; seed <= 12; ++seed) {
            const Curve c = make(8000, level, 0.05, seed);
            const DropDetection d = detectDrops(c.steps, c.loss);
            QVERIFY2(!d.drops.empty(), qPrintable(QString("seed %1: no drop").arg(seed)));
            const DropEvent& e = d.drops[0];
            const QString what = QString("seed %1: onset %2 end %3 factor %4")
                                     .arg(seed).arg(e.onsetStep).arg(e.endStep).arg(e.factor);
            QVERIFY2(e.onsetStep > 3800 && e.onsetStep < 4400, qPrintable(what));
            QVERIFY2(e.endStep > 6800 && e.endStep < 7900, qPrintable(what));
            // The end comes where the remaining fall is slower than the tolerance, a little before
            // the floor: most of the whole 7.9x, where an end on the way down gave 3-4x.
            const double whole = 0.022 / level(9000);
            QVERIFY2(e.factor > 0.7 * whole && e.factor < 1.05 * whole, qPrintable(what));
            QVERIFY2(e.complete, qPrintable(what));
        }
    }
    void spikesAreNotDrops() {
        Curve c = make(20000, [](double) { return 0.05; }, 0.05);
        for (int i = 1000; i < 20000; i += 1500)
            for (int k = 0; k < 20; ++k) c.loss[std::size_t(i + k)] *= 0.01;  // 20-step dips
        QVERIFY(detectDrops(c.steps, c.loss).drops.empty());
    }
    void smallDropsBelowTheFactorAreIgnored() {
        const Curve c = make(20000, [](double t) { return stepLevel(t, 0.05, 0.025, 10000, 50); }, 0.05);
        QVERIFY(detectDrops(c.steps, c.loss).drops.empty());  // 2x < minDropFactor 3x
        DetectorParams p = DetectorParams::forLength(c.loss.size());
        p.minDropFactor = 1.8;
        QCOMPARE(int(detectDrops(c.steps, c.loss, p).drops.size()), 1);
    }
    void invalidPointsAreSkipped() {
        Curve c = make(10000, [](double t) { return stepLevel(t, 0.03, 0.001, 6000, 40); }, 0.1);
        c.loss[100] = NAN;
        c.loss[200] = 0.0;
        c.loss[300] = -1.0;
        c.loss[400] = INFINITY;
        const DropDetection d = detectDrops(c.steps, c.loss);
        QCOMPARE(int(d.drops.size()), 1);
        QVERIFY(std::abs(d.drops[0].onsetStep - 5800) < 300);
        QVERIFY(detectDrops({}, {}).drops.empty());
        QVERIFY(detectDrops({1, 2, 3}, {1.0, 0.5, 0.1}).drops.empty());  // too short to judge
    }
    void risingAccuracyIsAJump_data() {
        QTest::addColumn<unsigned>("seed");
        for (unsigned seed : {1u, 2u, 3u, 4u}) QTest::newRow(qPrintable(QString("seed %1").arg(seed))) << seed;
    }
    void risingAccuracyIsAJump() {
        // An accuracy column sits near chance (1 %) for 3000 steps, then jumps to 99 % within ~100:
        // declared rising, the detector watches 1 - accuracy and reports the jump at its place.
        QFETCH(unsigned, seed);
        std::mt19937 rng(seed);
        std::normal_distribution<double> noise(0.0, 0.003);
        std::vector<StepMetrics> rows;
        for (int t = 1; t <= 6000; ++t) {
            const double x = 1.0 / (1.0 + std::exp(-(t - 3000) / 20.0));
            StepMetrics m;
            m.step = t;
            m.values = {std::clamp(0.01 + 0.98 * x + noise(rng), 0.0, 1.0)};
            rows.push_back(m);
        }
        MetricColumn acc;
        acc.key = "acc";
        acc.better = Better::Higher;
        const DetectorTarget rising{"acc", true, 1.0};
        const DropDetection d = detectOnRows(rows, {acc}, rising, 6000);
        QCOMPARE(int(d.drops.size()), 1);
        const DropEvent& e = d.drops.front();
        QVERIFY2(e.onsetStep > 2700 && e.onsetStep < 3050, qPrintable(QString::number(e.onsetStep)));
        QVERIFY(e.complete && e.endStep > 3000 && e.endStep < 3800);
        QVERIFY(std::abs(columnValue(rising, e.levelBefore) - 0.01) < 0.005);  // back in accuracy units
        QVERIFY(std::abs(columnValue(rising, e.levelAfter) - 0.99) < 0.005);
        QVERIFY(e.factor > 20);
        // The same column declared falling finds nothing: an accuracy that rises is no drop.
        const DropDetection wrong = detectOnRows(rows, {acc}, DetectorTarget{"acc", false, 1.0}, 6000);
        QVERIFY(wrong.drops.empty());
        // A column that is absent gives an empty detection, not a crash.
        QVERIFY(detectOnRows(rows, {acc}, DetectorTarget{"nope", false, 1.0}, 6000).drops.empty());
    }
    void slowlyRisingAccuracyIsNoJump() {
        std::vector<StepMetrics> rows;
        for (int t = 1; t <= 20000; ++t) {
            StepMetrics m;
            m.step = t;
            m.values = {0.5 * (1.0 - std::exp(-t / 8000.0))};  // an error rate from 1 to 0.59: < 3x
            rows.push_back(m);
        }
        MetricColumn acc;
        acc.key = "acc";
        QVERIFY(detectOnRows(rows, {acc}, DetectorTarget{"acc", true, 1.0}, 20000).drops.empty());
    }
    void onlineMatchesOffline() {
        const Curve c = make(16000, [](double t) { return stepLevel(t, 0.04, 0.002, 9000, 80); }, 0.1);
        OnlineDropDetector online(DetectorParams::forLength(c.loss.size()), 100);
        qint64 firstSeenComplete = -1;
        for (std::size_t i = 0; i < c.steps.size(); ++i) {
            online.append(c.steps[i], c.loss[i]);
            const DropDetection& r = online.result();
            if (i < 8500) QVERIFY2(r.drops.empty(), qPrintable(QString("early drop at point %1").arg(i)));
            if (firstSeenComplete < 0 && !r.drops.empty() && r.drops[0].complete) firstSeenComplete = c.steps[i];
        }
        // Complete once a fifth of the plateau's length has followed the end (~9.4k).
        QVERIFY2(firstSeenComplete > 9000 && firstSeenComplete < 11500, qPrintable(QString::number(firstSeenComplete)));
        const DropDetection off = detectDrops(c.steps, c.loss, DetectorParams::forLength(c.loss.size()));
        QCOMPARE(int(online.result().drops.size()), int(off.drops.size()));
        QCOMPARE(online.result().drops[0].onsetStep, off.drops[0].onsetStep);
    }
};

PLATEAU_TEST_MAIN(TestAnalysis)
#include "tst_analysis.moc"
