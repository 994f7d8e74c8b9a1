// In-context modular arithmetic's data (issue 18): the parallelogram rule, i.d. / o.o.d.
// disjointness, the shared pair split, labels on z tokens only, answers, determinism, and the
// spec's checks by field.
#include "experiments/modular_arithmetic/ma_task.h"
#include "rng.h"
#include "test_main.h"

#include <set>

using namespace plateau;
using namespace plateau::ma;

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
};

PLATEAU_TEST_MAIN(TestModular)
#include "tst_modular.moc"
