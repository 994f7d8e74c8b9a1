// The trainer: Adam against LibTorch's own, schedules, decay groups, learning, determinism.
#include <torch/torch.h>

#include "config.h"
#include "test_main.h"
#include "train/adam.h"
#include "train/trainer.h"

using namespace plateau;

namespace {
RunConfig smallConfig() {
    RunConfig c = loadPreset("tiny").value();
    c.train.steps = 1000;
    c.train.evalEvery = 1;
    return c;
}
bool sameParameters(Trainer& x, Trainer& y) {
    for (const auto& p : x.model()->named_parameters())
        for (const auto& q : y.model()->named_parameters())
            if (q.key() == p.key() && !torch::equal(p.value(), q.value())) return false;
    return true;
}
}  // namespace

class TestTrainer : public QObject {
    Q_OBJECT
private slots:
    void adamMatchesLibTorch_data() {
        QTest::addColumn<bool>("decoupled");
        QTest::addColumn<double>("wd");
        QTest::newRow("adam") << false << 0.0;
        QTest::newRow("adam+l2") << false << 0.1;
        QTest::newRow("adamw") << true << 0.1;
    }
    void adamMatchesLibTorch() {
        QFETCH(bool, decoupled);
        QFETCH(double, wd);
        torch::manual_seed(0);
        auto a = torch::randn({50, 30}).requires_grad_();
        auto b = a.detach().clone().requires_grad_();
        Adam mine(0.9, 0.999, 1e-8, decoupled);
        mine.add("a", a, wd);
        std::unique_ptr<torch::optim::Optimizer> ref;
        if (decoupled)
            ref = std::make_unique<torch::optim::AdamW>(std::vector<torch::Tensor>{b},
                                                        torch::optim::AdamWOptions(1e-2).weight_decay(wd));
        else
            ref = std::make_unique<torch::optim::Adam>(std::vector<torch::Tensor>{b},
                                                       torch::optim::AdamOptions(1e-2).weight_decay(wd));
        const auto target = torch::randn({50, 30});
        for (int i = 0; i < 50; ++i) {
            a.mutable_grad().reset();
            b.mutable_grad().reset();
            (a - target).pow(3).abs().sum().backward();
            (b - target).pow(3).abs().sum().backward();
            mine.step(1e-2);
            ref->step();
        }
        const double diff = (a - b).abs().max().item<double>();
        QVERIFY2(diff < 1e-5, qPrintable(QString("max diff %1").arg(diff)));
        QVERIFY((a - target).abs().mean().item<double>() < 1.0);  // it actually moved
        QCOMPARE(mine.stepCount(), std::int64_t(50));
    }
    void clipping() {
        auto p = torch::zeros({4}).requires_grad_();
        p.mutable_grad() = torch::tensor({3.0f, 4.0f, 0.0f, 0.0f});
        QCOMPARE(clipGradNorm({p}, 0.0), 5.0);
        QCOMPARE(p.grad()[1].item<float>(), 4.0f);  // off: untouched
        QCOMPARE(clipGradNorm({p}, 1.0), 5.0);
        QVERIFY(std::fabs(p.grad().norm().item<double>() - 1.0) < 1e-5);
    }
    void schedules() {
        RunConfig c = smallConfig();
        c.optim.lr = 1e-3;
        c.optim.warmupSteps = 10;
        c.train.steps = 110;
        c.optim.schedule = "cosine";
        c.optim.minLrRatio = 0.1;
        Trainer t(c);
        QVERIFY(std::fabs(t.learningRate(1) - 1e-4) < 1e-12);
        QVERIFY(std::fabs(t.learningRate(10) - 1e-3) < 1e-12);
        QVERIFY(std::fabs(t.learningRate(60) - 0.55e-3) < 1e-12);   // half-way: midpoint
        QVERIFY(std::fabs(t.learningRate(110) - 1e-4) < 1e-12);     // end: min ratio
        c.optim.decayStart = 60;  // constant, then the cosine over the last 50 steps
        Trainer w(c);
        QVERIFY(std::fabs(w.learningRate(60) - 1e-3) < 1e-12);
        QVERIFY(std::fabs(w.learningRate(85) - 0.55e-3) < 1e-12);
        QVERIFY(std::fabs(w.learningRate(110) - 1e-4) < 1e-12);
        c.optim.decayStart = 0;
        c.optim.schedule = "constant";
        Trainer k(c);
        QCOMPARE(k.learningRate(11), 1e-3);
        QCOMPARE(k.learningRate(100), 1e-3);
    }
    void decayGroups() {
        OptimConfig o;
        o.weightDecay = 0.01;
        o.attnWeightDecay = 0.5;
        QCOMPARE(weightDecayFor("encoder.layer.0.attention.self.query.weight", o), 0.5);
        QCOMPARE(weightDecayFor("encoder.layer.3.attention.output.dense.weight", o), 0.5);
        QCOMPARE(weightDecayFor("encoder.layer.0.attention.self.key.bias", o), 0.0);
        QCOMPARE(weightDecayFor("encoder.layer.0.attention.output.LayerNorm.weight", o), 0.0);
        QCOMPARE(weightDecayFor("encoder.layer.0.intermediate.dense.weight", o), 0.01);
        QCOMPARE(weightDecayFor("embeddings.word_embeddings.weight", o), 0.01);
        QCOMPARE(weightDecayFor("read_out.weight", o), 0.01);
        o.decayBiasesAndNorms = true;
        QCOMPARE(weightDecayFor("encoder.layer.0.attention.self.key.bias", o), 0.5);
        QCOMPARE(weightDecayFor("read_out.bias", o), 0.01);
    }
    void learnsToCopy() {
        // Within a few hundred steps the tiny model reaches the copying plateau:
        // L_obs ~ 0, L_mask ~ E[X^2], L ~ p_mask * E[X^2].
        RunConfig c = smallConfig();
        Trainer t(c);
        const double ex2 = t.task().expectedSquare();
        double first = 0, lastL = 0, lastObs = 0, lastMask = 0;
        const int n = 600, tail = 100;
        for (int i = 0; i < n; ++i) {
            const StepMetrics m = t.step();
            QVERIFY(std::isfinite(m.loss) && std::isfinite(m.evalLoss) && std::isfinite(m.gradNorm));
            QCOMPARE(m.step, qint64(i + 1));
            if (i < 10) first += m.loss / 10;
            if (i >= n - tail) {
                lastL += m.loss / tail;
                lastObs += m.lossObs / tail;
                lastMask += m.lossMask / tail;
            }
        }
        QVERIFY2(lastL < 0.6 * first, qPrintable(QString("L %1 -> %2").arg(first).arg(lastL)));
        QVERIFY2(lastObs < 0.1 * ex2, qPrintable(QString("L_obs %1").arg(lastObs)));
        QVERIFY2(lastMask > 0.5 * ex2, qPrintable(QString("L_mask %1").arg(lastMask)));
        QCOMPARE(t.stepsDone(), qint64(n));
    }
    void seedDeterminism() {
        RunConfig c = smallConfig();
        c.train.seed = 77;
        Trainer a(c), b(c);
        for (int i = 0; i < 30; ++i) {
            const StepMetrics x = a.step(), y = b.step();
            QCOMPARE(x.loss, y.loss);  // bit for bit
            QCOMPARE(x.lossMask, y.lossMask);
            QCOMPARE(x.evalLoss, y.evalLoss);
            QCOMPARE(x.gradNorm, y.gradNorm);
        }
        for (const auto& p : a.model()->named_parameters()) {
            bool same = false;
            for (const auto& q : b.model()->named_parameters())
                if (q.key() == p.key()) same = torch::equal(p.value(), q.value());
            QVERIFY2(same, p.key().c_str());
        }
        c.train.seed = 78;
        Trainer other(c);
        QVERIFY(other.step().loss != Trainer(smallConfig()).step().loss);
    }
    void dataSeedSeparatesInitFromData() {
        // train.data_seed draws the data from its own seed; -1 (the default) means train.seed.
        RunConfig c = smallConfig();
        c.train.seed = 77;
        QCOMPARE(c.train.dataSeed, qint64(-1));
        QCOMPARE(c.dataSeed(), qint64(77));
        RunConfig explicitSame = c;
        explicitSame.train.dataSeed = 77;
        RunConfig otherData = c;
        otherData.train.dataSeed = 5;
        RunConfig otherInit = c;
        otherInit.train.seed = 78;
        otherInit.train.dataSeed = 77;
        Trainer a(c), same(explicitSame), data(otherData), init(otherInit);
        QVERIFY(sameParameters(a, same));
        QVERIFY(sameParameters(a, data));    // same initialisation ...
        QVERIFY(!sameParameters(a, init));   // ... and a different one
        const StepMetrics ma = a.step(), msame = same.step(), mdata = data.step(), minit = init.step();
        QCOMPARE(ma.loss, msame.loss);   // -1 and the seed itself are the same data
        QVERIFY(ma.loss != mdata.loss);  // other data, same model
        QVERIFY(ma.loss != minit.loss);  // same data, other model
        // The batch both a and init trained on is the one drawn from the data seed.
        const Batch b77 = a.task().sample(c.task.batchSize, 77, DataStream::Train, 0);
        const Batch b5 = a.task().sample(c.task.batchSize, 5, DataStream::Train, 0);
        QVERIFY(!torch::equal(b77.tokens, b5.tokens));
        torch::NoGradGuard noGrad;
        Trainer fresh(otherInit);
        const double onB77 = torch::mse_loss(fresh.model()->forward(b77.tokens).output, b77.target).item<double>();
        QVERIFY2(std::abs(onB77 - minit.loss) < 1e-6 * std::max(1.0, minit.loss),
                 qPrintable(QString("%1 vs %2").arg(onB77).arg(minit.loss)));
    }
    void evalEvery() {
        RunConfig c = smallConfig();
        c.train.evalEvery = 3;
        Trainer t(c);
        for (int i = 1; i <= 6; ++i) {
            const StepMetrics m = t.step();
            QCOMPARE(std::isnan(m.evalLoss), i % 3 != 0);
        }
    }
};

PLATEAU_TEST_MAIN(TestTrainer)
#include "tst_trainer.moc"
