// The trainer: Adam against LibTorch's own, schedules, decay groups, learning, determinism.
#include <torch/torch.h>
#include <ATen/CPUGeneratorImpl.h>

#include "config.h"
#include "precision.h"
#include "mc_test_util.h"
#include "test_main.h"
#include "train/optimizer.h"
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
    for (const NamedParameter& p : x.parameters())
        for (const NamedParameter& q : y.parameters())
            if (q.name == p.name && !torch::equal(p.tensor, q.tensor)) return false;
    return true;
}
}  // namespace

class TestTrainer : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        // bf16's numerics are tested on every machine: emulated where the CPU lacks bf16
        // instructions (allowed explicitly, before anything reads the support).
        if (!qEnvironmentVariableIsSet("PLATEAU_BF16_EMULATE")) qputenv("PLATEAU_BF16_EMULATE", "1");
        qInfo("bf16: %s, %s", bf16Support().native ? "native" : "emulated (no bf16 instructions here)",
              qPrintable(bf16Support().describe()));
    }
    void bf16TrainingIsDeterministicAndNearFp32() {
        RunConfig c = smallConfig();
        c.train.precision = "bf16";
        Trainer a(c), b(c);
        QCOMPARE(a.config().train.precision, QString("bf16"));
        c.train.precision = "fp32";
        Trainer f(c);
        double maxRel = 0;
        bool differs = false;
        for (int i = 0; i < 20; ++i) {
            const StepMetrics x = a.step(), y = b.step(), z = f.step();
            QCOMPARE(lossOf(x), lossOf(y));  // same seed, threads, precision, CPU: bit for bit
            QCOMPARE(x.gradNorm, y.gradNorm);
            maxRel = std::max(maxRel, std::abs(lossOf(x) - lossOf(z)) / lossOf(z));
            differs = differs || lossOf(x) != lossOf(z);
        }
        QVERIFY(sameParameters(a, b));
        QVERIFY(differs);
        QVERIFY2(maxRel < 0.05, qPrintable(QString::number(maxRel)));
        // auto resolves to what this machine has and is recorded so.
        c.train.precision = "auto";
        QCOMPARE(Trainer(c).config().train.precision, QString(bf16Support().matrixUnits ? "bf16" : "fp32"));
    }
    void adamMatchesLibTorch_data() {
        QTest::addColumn<bool>("decoupled");
        QTest::addColumn<double>("wd");
        QTest::newRow("adam") << false << 0.0;
        QTest::newRow("adam+l2") << false << 0.1;
        QTest::newRow("adamw") << true << 0.1;
    }
    void adamMatchesLibTorch() {
        // Several tensors in one update (the multi-tensor loop splits the flat range across
        // tensor boundaries: one tensor above the 16384-element grain, one tiny, one without
        // decay, one without a gradient), each against LibTorch's optimiser on its own.
        QFETCH(bool, decoupled);
        QFETCH(double, wd);
        torch::manual_seed(0);
        const std::vector<std::vector<std::int64_t>> shapes = {{50, 30}, {7}, {200, 100}, {3, 3}, {5}};
        std::vector<torch::Tensor> mineParams, refParams, targets;
        std::vector<std::unique_ptr<torch::optim::Optimizer>> refs;
        Adam mine(0.9, 0.999, 1e-8, decoupled);
        for (std::size_t i = 0; i < shapes.size(); ++i) {
            auto a = torch::randn(shapes[i]).requires_grad_();
            auto b = a.detach().clone().requires_grad_();
            const double d = i == 1 ? 0.0 : wd;  // a parameter outside the decay group
            mine.add("p" + std::to_string(i), a, d);
            if (decoupled)
                refs.push_back(std::make_unique<torch::optim::AdamW>(std::vector<torch::Tensor>{b},
                                                                     torch::optim::AdamWOptions(1e-2).weight_decay(d)));
            else
                refs.push_back(std::make_unique<torch::optim::Adam>(std::vector<torch::Tensor>{b},
                                                                    torch::optim::AdamOptions(1e-2).weight_decay(d)));
            mineParams.push_back(a);
            refParams.push_back(b);
            targets.push_back(torch::randn(shapes[i]));
        }
        const std::size_t frozen = 4;  // never gets a gradient: must not move
        const auto frozenBefore = mineParams[frozen].detach().clone();
        for (int step = 0; step < 50; ++step) {
            for (std::size_t i = 0; i < shapes.size(); ++i) {
                if (i == frozen) continue;
                mineParams[i].mutable_grad().reset();
                refParams[i].mutable_grad().reset();
                (mineParams[i] - targets[i]).pow(3).abs().sum().backward();
                (refParams[i] - targets[i]).pow(3).abs().sum().backward();
                refs[i]->step();
            }
            mine.step(1e-2);
        }
        for (std::size_t i = 0; i < shapes.size(); ++i) {
            if (i == frozen) continue;
            const double diff = (mineParams[i] - refParams[i]).abs().max().item<double>();
            QVERIFY2(diff < 1e-5, qPrintable(QString("tensor %1: max diff %2").arg(i).arg(diff)));
            QVERIFY((mineParams[i] - targets[i]).abs().mean().item<double>() < 1.0);  // it actually moved
        }
        QVERIFY(torch::equal(mineParams[frozen], frozenBefore));
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
        // The BERT's parameters by HF name get their role from the experiment; the decay follows it.
        RunConfig c = smallConfig();
        Trainer t(c);
        std::map<std::string, NamedParameter> byName;
        for (const NamedParameter& p : t.parameters()) byName[p.name] = p;
        auto decay = [&](const char* name, const OptimConfig& o) {
            if (!byName.count(name)) qFatal("no parameter %s", name);
            return weightDecayFor(byName.at(name), o);
        };
        OptimConfig o;
        o.weightDecay = 0.01;
        o.attnWeightDecay = 0.5;
        QCOMPARE(decay("encoder.layer.0.attention.self.query.weight", o), 0.5);
        QCOMPARE(decay("encoder.layer.1.attention.output.dense.weight", o), 0.5);
        QCOMPARE(decay("encoder.layer.0.attention.self.key.bias", o), 0.0);
        QCOMPARE(decay("encoder.layer.0.attention.output.LayerNorm.weight", o), 0.0);
        QCOMPARE(decay("encoder.layer.0.intermediate.dense.weight", o), 0.01);
        QCOMPARE(decay("embeddings.word_embeddings.weight", o), 0.01);
        QCOMPARE(decay("read_out.weight", o), 0.01);
        o.decayBiasesAndNorms = true;
        QCOMPARE(decay("encoder.layer.0.attention.self.key.bias", o), 0.5);
        QCOMPARE(decay("read_out.bias", o), 0.01);
        QCOMPARE(decay("encoder.layer.0.output.LayerNorm.bias", o), 0.01);
        // Per-role fields override weight_decay for their role only.
        o.mlpWeightDecay = 0.2;
        o.embeddingWeightDecay = 0.3;
        o.readoutWeightDecay = 0.4;
        o.normWeightDecay = 0.05;
        QCOMPARE(decay("encoder.layer.0.intermediate.dense.weight", o), 0.2);
        QCOMPARE(decay("encoder.layer.1.output.dense.weight", o), 0.2);
        QCOMPARE(decay("embeddings.position_embeddings.weight", o), 0.3);
        QCOMPARE(decay("read_out.weight", o), 0.4);
        QCOMPARE(decay("encoder.layer.0.attention.self.value.weight", o), 0.5);
        QCOMPARE(decay("encoder.layer.0.attention.self.key.bias", o), 0.05);
        QCOMPARE(decay("embeddings.LayerNorm.weight", o), 0.05);
        // And the optimiser really gets them.
        RunConfig d = smallConfig();
        d.optim.name = "adamw";
        d.optim.attnWeightDecay = 0.5;
        d.optim.mlpWeightDecay = 0.2;
        Trainer td(d);
        for (const OptParam& p : td.optimizer().params()) {
            if (p.name == "encoder.layer.0.attention.self.query.weight") QCOMPARE(p.weightDecay, 0.5);
            if (p.name == "encoder.layer.0.intermediate.dense.weight") QCOMPARE(p.weightDecay, 0.2);
            if (p.name == "read_out.weight") QCOMPARE(p.weightDecay, 0.0);
        }
    }
    void sgdMatchesLibTorch_data() {
        QTest::addColumn<double>("momentum");
        QTest::addColumn<double>("wd");
        QTest::newRow("plain") << 0.0 << 0.0;
        QTest::newRow("momentum") << 0.9 << 0.0;
        QTest::newRow("momentum+decay") << 0.9 << 0.05;
    }
    void sgdMatchesLibTorch() {
        QFETCH(double, momentum);
        QFETCH(double, wd);
        torch::manual_seed(3);
        auto a = torch::randn({40, 20}).requires_grad_();
        auto b = a.detach().clone().requires_grad_();
        Sgd mine(momentum);
        mine.add("a", a, wd);
        torch::optim::SGD ref({b}, torch::optim::SGDOptions(0.05).momentum(momentum).weight_decay(wd));
        const auto target = torch::randn({40, 20});
        for (int i = 0; i < 40; ++i) {
            a.mutable_grad().reset();
            b.mutable_grad().reset();
            (a - target).pow(2).sum().backward();
            (b - target).pow(2).sum().backward();
            mine.step(0.05);
            ref.step();
        }
        const double diff = (a - b).abs().max().item<double>();
        QVERIFY2(diff < 1e-5, qPrintable(QString("max diff %1").arg(diff)));
        QVERIFY((a - target).abs().mean().item<double>() < 0.5);  // it moved towards the target
        QCOMPARE(mine.stateNames().size(), std::size_t(momentum > 0 ? 1 : 0));
    }
    void learnsToCopy() {
        // Within a few hundred steps the tiny model reaches the copying plateau:
        // L_obs ~ 0, L_mask ~ E[X^2], L ~ p_mask * E[X^2].
        RunConfig c = smallConfig();
        Trainer t(c);
        const double ex2 = mcOf(t).task().expectedSquare();
        double first = 0, lastL = 0, lastObs = 0, lastMask = 0;
        const int n = 600, tail = 100;
        for (int i = 0; i < n; ++i) {
            const StepMetrics m = t.step();
            QVERIFY(std::isfinite(lossOf(m)) && std::isfinite(evalLossOf(m)) && std::isfinite(m.gradNorm));
            QCOMPARE(m.step, qint64(i + 1));
            if (i < 10) first += lossOf(m) / 10;
            if (i >= n - tail) {
                lastL += lossOf(m) / tail;
                lastObs += lossObsOf(m) / tail;
                lastMask += lossMaskOf(m) / tail;
            }
        }
        QVERIFY2(lastL < 0.6 * first, qPrintable(QString("L %1 -> %2").arg(first).arg(lastL)));
        QVERIFY2(lastObs < 0.1 * ex2, qPrintable(QString("L_obs %1").arg(lastObs)));
        QVERIFY2(lastMask > 0.5 * ex2, qPrintable(QString("L_mask %1").arg(lastMask)));
        QCOMPARE(t.stepsDone(), qint64(n));
    }
    void ownGeneratorLeavesTheGlobalOneAlone() {
        // The experiment seeds a generator of its own: the process-global one keeps its seed, and
        // the initialisation does not depend on the global generator's state.
        torch::manual_seed(123);
        RunConfig c = smallConfig();
        c.train.seed = 7;
        Trainer a(c);
        QCOMPARE(at::detail::getDefaultCPUGenerator().current_seed(), std::uint64_t(123));
        torch::manual_seed(999);
        torch::rand({1000});
        Trainer b(c);
        QVERIFY(sameParameters(a, b));
        QCOMPARE(a.experiment().generator().current_seed(), std::uint64_t(7));
    }
    void seedDeterminism() {
        RunConfig c = smallConfig();
        c.train.seed = 77;
        Trainer a(c), b(c);
        for (int i = 0; i < 30; ++i) {
            const StepMetrics x = a.step(), y = b.step();
            QCOMPARE(lossOf(x), lossOf(y));  // bit for bit
            QCOMPARE(lossMaskOf(x), lossMaskOf(y));
            QCOMPARE(evalLossOf(x), evalLossOf(y));
            QCOMPARE(x.gradNorm, y.gradNorm);
        }
        QVERIFY(sameParameters(a, b));
        c.train.seed = 78;
        Trainer other(c);
        QVERIFY(lossOf(other.step()) != lossOf(Trainer(smallConfig()).step()));
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
        QCOMPARE(lossOf(ma), lossOf(msame));   // -1 and the seed itself are the same data
        QVERIFY(lossOf(ma) != lossOf(mdata));  // other data, same model
        QVERIFY(lossOf(ma) != lossOf(minit));  // same data, other model
        // The batch both a and init trained on is the one drawn from the data seed.
        const int batch = c.task.i("batch_size");
        const Batch b77 = mcOf(a).task().sample(batch, 77, DataStream::Train, 0);
        const Batch b5 = mcOf(a).task().sample(batch, 5, DataStream::Train, 0);
        QVERIFY(!torch::equal(b77.tokens, b5.tokens));
        torch::NoGradGuard noGrad;
        Trainer fresh(otherInit);
        const double onB77 = torch::mse_loss(mcOf(fresh).model()->forward(b77.tokens).output, b77.target).item<double>();
        QVERIFY2(std::abs(onB77 - lossOf(minit)) < 1e-6 * std::max(1.0, lossOf(minit)),
                 qPrintable(QString("%1 vs %2").arg(onB77).arg(lossOf(minit))));
    }
    void evalEvery() {
        RunConfig c = smallConfig();
        c.train.evalEvery = 3;
        Trainer t(c);
        for (int i = 1; i <= 6; ++i) {
            const StepMetrics m = t.step();
            QCOMPARE(std::isnan(evalLossOf(m)), i % 3 != 0);
        }
    }
};

PLATEAU_TEST_MAIN(TestTrainer)
#include "tst_trainer.moc"
