// In-context modular arithmetic's data (issue 18): the parallelogram rule, i.d. / o.o.d.
// disjointness, the shared pair split, labels on z tokens only, answers, determinism, and the
// spec's checks by field; the snapshot's k-shot curves and correctness maps against hand-made
// models whose answers are known exactly, and the head-output PCA of the real decoder.
#include <torch/torch.h>

#include "experiments/modular_arithmetic/ma_experiment.h"
#include "experiments/modular_arithmetic/ma_task.h"
#include "rng.h"
#include "smoke_config.h"
#include "test_main.h"

#include <set>

using namespace plateau;
using namespace plateau::ma;

namespace {
// A small modular_arithmetic config (the registry's smoke settings with p, bases, examples).
RunConfig modularConfig(int p, int bases, int examples) {
    RunConfig cfg = smokeConfig(*findExperiment("modular_arithmetic"), 1);
    for (const QString& o : {QString("task.p=%1").arg(p), QString("task.base_tasks=%1").arg(bases),
                             QString("task.examples=%1").arg(examples), QString("task.batch_size=%1").arg(4 * bases)})
        if (Status st = applyOverride(cfg, o); !st) qFatal("%s", qPrintable(st.error()));
    return cfg;
}
}  // namespace

class TestModular : public QObject {
    Q_OBJECT
private slots:
    void parallelogramRule_data() {
        QTest::addColumn<int>("p");
        QTest::addColumn<int>("bases");
        QTest::addColumn<int>("seed");
        QTest::newRow("p 29, 8 bases (the paper's modulus)") << 29 << 8 << 1;
        QTest::newRow("p 29, 100 bases") << 29 << 100 << 2;
        QTest::newRow("p 11, 22 bases (crowded: 88 of 121)") << 11 << 22 << 3;
        QTest::newRow("p 5, 3 bases (smallest)") << 5 << 3 << 4;
    }
    void parallelogramRule() {
        // Every group of four is base, (a, y), (x, b), (x, y) with x not in {a, b}, y not in {a, b, x}:
        // the corners of a parallelogram (base + (x, y) = (a, y) + (x, b)); 4 x bases distinct
        // i.d. tasks; o.o.d. tasks distinct, none i.d.; the o.o.d. count as asked (or all others).
        QFETCH(int, p);
        QFETCH(int, bases);
        QFETCH(int, seed);
        TaskSpec s;
        s.p = p;
        s.baseTasks = bases;
        const auto set = buildTaskSet(s, std::uint64_t(seed), "spec");
        QVERIFY2(set.ok(), qPrintable(set.error()));
        QCOMPARE(int(set->id.size()), 4 * bases);
        std::set<int> id;
        for (std::size_t g = 0; g < set->id.size(); g += 4) {
            const TaskVector &base = set->id[g], &ay = set->id[g + 1], &xb = set->id[g + 2], &xy = set->id[g + 3];
            const int x = xy.a, y = xy.b;
            QCOMPARE(ay.a, base.a);
            QCOMPARE(ay.b, y);
            QCOMPARE(xb.a, x);
            QCOMPARE(xb.b, base.b);
            QVERIFY(x != base.a && x != base.b);
            QVERIFY(y != base.a && y != base.b && y != x);
            QCOMPARE(base.a + xy.a, ay.a + xb.a);  // the parallelogram, componentwise
            QCOMPARE(base.b + xy.b, ay.b + xb.b);
            for (std::size_t k = g; k < g + 4; ++k) {
                const TaskVector& v = set->id[k];
                QVERIFY(v.a >= 0 && v.a < p && v.b >= 0 && v.b < p);
                QVERIFY2(id.insert(v.index(p)).second, "an i.d. task twice");
            }
        }
        std::set<int> ood;
        for (const TaskVector& v : set->ood) {
            QVERIFY2(!id.count(v.index(p)), "a task both i.d. and o.o.d.");
            QVERIFY2(ood.insert(v.index(p)).second, "an o.o.d. task twice");
        }
        QCOMPARE(int(set->ood.size()), std::min(s.oodTasks, p * p - 4 * bases));
    }
    void pairSplitSharedAndComplete() {
        // round(alpha p^2) train pairs, the rest test, disjoint and covering Z_p^2; one split for
        // the whole set (so for every task), the same for the same seed, another for another seed.
        TaskSpec s;
        s.p = 13;
        s.alpha = 0.3;
        const auto a = buildTaskSet(s, 7, "spec"), b = buildTaskSet(s, 7, "spec"), c = buildTaskSet(s, 8, "spec");
        QVERIFY(a.ok() && b.ok() && c.ok());
        QCOMPARE(int(a->trainPairs.size()), 51);  // round(0.3 * 169) = 51
        QCOMPARE(int(a->trainPairs.size() + a->testPairs.size()), 169);
        std::set<int> all(a->trainPairs.begin(), a->trainPairs.end());
        for (int i : a->testPairs) QVERIFY2(all.insert(i).second, "a pair both train and test");
        QCOMPARE(int(all.size()), 169);
        QCOMPARE(a->trainPairs, b->trainPairs);
        QVERIFY(a->id == b->id && a->ood == b->ood);
        QVERIFY(a->trainPairs != c->trainPairs);
        QVERIFY(!(a->id == c->id));
    }
    void sequencesLabelOnlyAnswers() {
        // A sequence of E examples is x y z triples with z = a x + b y mod p, its pairs drawn from
        // the set given; the input is 3E - 1 tokens and exactly the positions predicting a z are
        // labelled (E of them).
        TaskSpec s;
        s.p = 29;
        s.examples = 32;
        const auto set = buildTaskSet(s, 3, "spec");
        QVERIFY(set.ok());
        const std::set<int> test(set->testPairs.begin(), set->testPairs.end());
        for (const TaskVector& t : {set->id[5], set->ood[0], TaskVector{0, 0}}) {
            CounterRng rng(3, 1, 0);
            std::vector<int> tokens;
            appendSequence(t, set->testPairs, s.p, s.examples, rng, tokens);
            QCOMPARE(int(tokens.size()), 3 * s.examples);
            for (int e = 0; e < s.examples; ++e) {
                const int x = tokens[std::size_t(3 * e)], y = tokens[std::size_t(3 * e + 1)], z = tokens[std::size_t(3 * e + 2)];
                QVERIFY(test.count(x * s.p + y));
                QCOMPARE(z, (t.a * x + t.b * y) % s.p);
            }
        }
        int labels = 0;
        for (int i = 0; i < inputLength(s.examples); ++i) {
            if (!labelled(i)) continue;
            ++labels;
            QCOMPARE((i + 1) % 3, 2);  // the token predicted at i is a z
        }
        QCOMPARE(labels, s.examples);
        QCOMPARE(inputLength(s.examples), 95);  // the reference's 96 tokens, input the first 95
    }
    void sequencesAreCounterBased() {
        // The same (seed, stream, counter) gives the same sequence; another counter another one.
        TaskSpec s;
        const auto set = buildTaskSet(s, 1, "spec");
        QVERIFY(set.ok());
        auto draw = [&](std::uint64_t counter) {
            CounterRng rng(1, 0, counter);
            std::vector<int> tokens;
            appendSequence(set->id[0], set->trainPairs, s.p, s.examples, rng, tokens);
            return tokens;
        };
        QCOMPARE(draw(5), draw(5));
        QVERIFY(draw(5) != draw(6));
    }
    void badSpecsNameTheField_data() {
        QTest::addColumn<QString>("field");
        QTest::addColumn<int>("p");
        QTest::addColumn<int>("bases");
        QTest::addColumn<double>("alpha");
        QTest::addColumn<int>("examples");
        QTest::newRow("p too small") << "task.p" << 4 << 1 << 0.5 << 8;
        QTest::newRow("no bases") << "task.base_tasks" << 29 << 0 << 0.5 << 8;
        QTest::newRow("too many bases") << "task.base_tasks" << 11 << 23 << 0.5 << 8;
        QTest::newRow("alpha 0") << "task.alpha" << 29 << 8 << 0.0 << 8;
        QTest::newRow("alpha 1") << "task.alpha" << 29 << 8 << 1.0 << 8;
        QTest::newRow("alpha leaves no test pair") << "task.alpha" << 5 << 1 << 0.99 << 8;
        QTest::newRow("no examples") << "task.examples" << 29 << 8 << 0.5 << 0;
    }
    void badSpecsNameTheField() {
        QFETCH(QString, field);
        QFETCH(int, p);
        QFETCH(int, bases);
        QFETCH(double, alpha);
        QFETCH(int, examples);
        TaskSpec s;
        s.p = p;
        s.baseTasks = bases;
        s.alpha = alpha;
        s.examples = examples;
        const auto set = buildTaskSet(s, 1, "run/config.json");
        QVERIFY(!set.ok());
        QVERIFY2(set.error().startsWith("run/config.json: " + field), qPrintable(set.error()));
    }

    // --- the snapshot's evaluations (torch) -------------------------------------------------
    void kShotCurvesCountShotsExactly() {
        // A hand-made model that reads the task off the whole input (the E - 1 complete examples
        // pin (a, b) down: it takes the vector consistent with all of them) and answers the z of
        // example e right exactly when e >= m examples precede it, else (truth + 1) mod p. The
        // curve must be 0 before shot m and 1 from it, in all four sets: this pins the positions
        // scored, the shot index and the per-set batches.
        RunConfig cfg = modularConfig(11, 8, 12);
        ModularExperiment ex(cfg);
        const int p = 11, E = 12, m = 3;
        int ambiguous = 0;
        auto model = [&](const torch::Tensor& tokens, bool) {
            const int B = int(tokens.size(0)), L = int(tokens.size(1));
            torch::Tensor logits = torch::zeros({B, L, p});
            auto tk = tokens.accessor<std::int64_t, 2>();
            auto lg = logits.accessor<float, 3>();
            for (int b = 0; b < B; ++b) {
                int found = 0;
                TaskVector task{0, 0};
                for (int a = 0; a < p; ++a)
                    for (int c = 0; c < p; ++c) {
                        bool ok = true;
                        for (int i = 0; i + 2 < L && ok; i += 3)
                            ok = answer({a, c}, int(tk[b][i]), int(tk[b][i + 1]), p) == int(tk[b][i + 2]);
                        if (ok) {
                            ++found;
                            task = {a, c};
                        }
                    }
                if (found != 1) ++ambiguous;  // 11 random examples in Z_11^2 lie on one line with probability ~1e-10
                for (int i = 1; i < L; i += 3) {
                    const int e = i / 3, z = answer(task, int(tk[b][i - 1]), int(tk[b][i]), p);
                    lg[b][i][e >= m ? z : (z + 1) % p] = 1;
                }
            }
            return DecoderForwardOutput{logits, {}, {}, {}};
        };
        Snapshot s;
        ex.kShotCurves(s, model);
        QCOMPARE(ambiguous, 0);
        const NamedArray* acc = s.array("kshot.acc");
        QVERIFY(acc);
        QCOMPARE(acc->shape, (std::vector<int>{4, E}));
        QCOMPARE(s.array("kshot.shots")->count(), std::size_t(E));
        for (int set = 0; set < 4; ++set)
            for (int e = 0; e < E; ++e) QCOMPARE(acc->at(std::size_t(set * E + e)), e >= m ? 1.0 : 0.0);
    }
    void correctnessMapsOfAKnownModel() {
        // A hand-made model that answers z = x of the query, but x + 1 with fewer than m shots.
        // For a task (a, b) the map's accuracy is then exactly #{(x, y): a x + b y = x (or x + 1)} / p^2,
        // computed here from the task; truth must be a x + b y mod p; items task-major over the
        // shot counts 1, 2, 4, 8, E - 1; no PCA without contexts.
        const int p = 7, E = 12, m = 4;
        RunConfig cfg = modularConfig(p, 4, E);
        ModularExperiment ex(cfg);
        auto model = [&](const torch::Tensor& tokens, bool) {
            const int B = int(tokens.size(0)), L = int(tokens.size(1));
            torch::Tensor logits = torch::zeros({B, L, p});
            auto tk = tokens.accessor<std::int64_t, 2>();
            auto lg = logits.accessor<float, 3>();
            const int shots = (L - 2) / 3;
            for (int b = 0; b < B; ++b) lg[b][L - 1][(tk[b][L - 2] + (shots >= m ? 0 : 1)) % p] = 1;
            return DecoderForwardOutput{logits, {}, {}, {}};
        };
        Snapshot s;
        ex.correctnessMaps(s, model);
        const std::vector<int> shots = mapShots(E);
        QCOMPARE(shots, (std::vector<int>{1, 2, 4, 8, 11}));
        const std::vector<TaskVector> tasks = {ex.tasks().id[0], ex.tasks().id[1], ex.tasks().ood[0], ex.tasks().ood[1]};
        const int S = int(shots.size());
        QCOMPARE(s.array("matrices.truth")->shape, (std::vector<int>{4 * S, p, p}));
        QCOMPARE(s.array("maps.acc")->shape, (std::vector<int>{4, S}));
        QVERIFY(!s.has("pca.points"));
        for (int t = 0; t < 4; ++t)
            for (int si = 0; si < S; ++si) {
                const int item = t * S + si, k = shots[std::size_t(si)];
                QCOMPARE(int(s.array("maps.task")->at(std::size_t(item))), t + 1);
                QCOMPARE(int(s.array("maps.shots")->at(std::size_t(item))), k);
                int right = 0;
                for (int x = 0; x < p; ++x)
                    for (int y = 0; y < p; ++y) {
                        const std::size_t at = std::size_t(item * p * p + x * p + y);
                        const int z = answer(tasks[std::size_t(t)], x, y, p);
                        QCOMPARE(int(s.array("matrices.truth")->at(at)), z);
                        QCOMPARE(int(s.array("matrices.prediction")->at(at)), (x + (k >= m ? 0 : 1)) % p);
                        right += z == (x + (k >= m ? 0 : 1)) % p;
                        QCOMPARE(s.array("matrices.correct")->at(at), z == (x + (k >= m ? 0 : 1)) % p ? 1.0 : 0.0);
                    }
                QCOMPARE(s.array("maps.acc")->at(std::size_t(t * S + si)), double(float(double(right) / (p * p))));
            }
        // The timeline's map accuracies are those at E - 1 shots (z = x there).
        double id = 0, ood = 0;
        for (int t = 0; t < 4; ++t) (t < 2 ? id : ood) += s.array("maps.acc")->at(std::size_t(t * S + S - 1));
        QCOMPARE(float(s.scalar("map_acc_id")), float(id / 2));
        QCOMPARE(float(s.scalar("map_acc_ood")), float(ood / 2));
    }
    void headPcaOfTheDecoder() {
        // The real snapshot: per head the query's context vectors over the p^2 queries projected on
        // two principal components: centred (mean 0), the first carrying at least the second's
        // variance, shares in [0, 1] summing to at most 1; colour arrays x, y, truth, model's z.
        const int p = 7;
        RunConfig cfg = modularConfig(p, 4, 8);
        ModularExperiment ex(cfg);
        const SnapshotPtr s = ex.snapshot(0, 0, ProbeSpec{}, false);
        const NamedArray* pts = s->array("pca.points");
        QVERIFY(pts);
        const int heads = cfg.model.i("layers") * cfg.model.i("heads");
        QCOMPARE(pts->shape, (std::vector<int>{heads, p * p, 2}));
        const NamedArray* ex2 = s->array("pca.explained");
        for (int h = 0; h < heads; ++h) {
            double mean[2] = {0, 0}, var[2] = {0, 0};
            for (int q = 0; q < p * p; ++q)
                for (int j = 0; j < 2; ++j) mean[j] += pts->at(std::size_t((h * p * p + q) * 2 + j));
            for (int q = 0; q < p * p; ++q)
                for (int j = 0; j < 2; ++j) var[j] += std::pow(pts->at(std::size_t((h * p * p + q) * 2 + j)) - mean[j] / (p * p), 2);
            QVERIFY2(std::abs(mean[0]) / (p * p) < 1e-4 && std::abs(mean[1]) / (p * p) < 1e-4, "not centred");
            QVERIFY(var[0] >= var[1] * (1 - 1e-4));
            const double e0 = ex2->at(std::size_t(2 * h)), e1 = ex2->at(std::size_t(2 * h + 1));
            QVERIFY(e0 >= e1 && e1 >= 0 && e0 + e1 <= 1 + 1e-6);
            QCOMPARE(int(s->array("pca.layer")->at(std::size_t(h))), h / cfg.model.i("heads") + 1);
        }
        for (const char* c : {"pca.x", "pca.y", "pca.z", "pca.model_z"}) QCOMPARE(s->array(c)->count(), std::size_t(p * p));
        QCOMPARE(s->scalar("chance"), 1.0 / p);
        QVERIFY(s->has("kshot.acc"));
    }
};

PLATEAU_TEST_MAIN(TestModular)
#include "tst_modular.moc"
