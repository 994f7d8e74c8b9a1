// The matrix-completion data: rank, mask rate, rounding, token mapping, determinism.
#include <torch/torch.h>

#include "experiments/matrix_completion/mc_task.h"
#include "experiments/matrix_completion/mc_tokens.h"
#include "test_main.h"

#include <Eigen/Dense>

using namespace plateau;

namespace {
mc::TaskConfig taskCfg(int n, int r, double p, const char* dist = "uniform") {
    mc::TaskConfig c;
    c.n = n;
    c.rank = r;
    c.pMask = p;
    c.distribution = dist;
    return c;
}
}  // namespace

class TestTask : public QObject {
    Q_OBJECT
private slots:
    void tokenEdges_data() {
        QTest::addColumn<double>("value");
        QTest::addColumn<int>("id");
        QTest::newRow("-10") << -10.0 << 1;
        QTest::newRow("-9.99") << -9.99 << 2;
        QTest::newRow("-5.01") << -5.01 << 500;  // the reference's truncation mis-mapped these
        QTest::newRow("-0.01") << -0.01 << 1000;
        QTest::newRow("0") << 0.0 << 1001;
        QTest::newRow("0.01") << 0.01 << 1002;
        QTest::newRow("1.23") << 1.23 << 1124;
        QTest::newRow("9.99") << 9.99 << 2000;
        QTest::newRow("10") << 10.0 << 2001;
        QTest::newRow("clamped high") << 12.5 << 2001;
        QTest::newRow("clamped low") << -11.0 << 1;
    }
    void tokenEdges() {
        QFETCH(double, value);
        QFETCH(int, id);
        QCOMPARE(tokens::valueToId(value), id);
    }
    void tokenRoundTrip() {
        for (int id = 1; id < tokens::kVocabSize; ++id) QCOMPARE(tokens::valueToId(tokens::idToValue(id)), id);
        QCOMPARE(tokens::idToValue(tokens::kMask), 0.0);
        QCOMPARE(tokens::idToValue(1), -10.0);
        QCOMPARE(tokens::idToValue(2001), 10.0);
    }
    void shapesAndTypes() {
        MatrixCompletionTask task(taskCfg(7, 2, 0.3));
        const Batch b = task.sample(5, 1, DataStream::Train, 0);
        QCOMPARE(b.tokens.sizes().vec(), (std::vector<std::int64_t>{5, 49}));
        QCOMPARE(b.target.sizes().vec(), (std::vector<std::int64_t>{5, 49}));
        QCOMPARE(b.mask.sizes().vec(), (std::vector<std::int64_t>{5, 49}));
        QCOMPARE(b.tokens.scalar_type(), torch::kInt64);
        QCOMPARE(b.target.scalar_type(), torch::kFloat32);
    }
    void statistics_data() {
        QTest::addColumn<int>("n");
        QTest::addColumn<int>("r");
        QTest::addColumn<double>("p");
        QTest::addColumn<QString>("dist");
        QTest::newRow("paper") << 7 << 2 << 0.3 << "uniform";
        QTest::newRow("rank1") << 4 << 1 << 0.3 << "uniform";
        QTest::newRow("gaussian") << 6 << 3 << 0.15 << "gaussian";
        QTest::newRow("laplace") << 5 << 2 << 0.5 << "laplace";
    }
    void statistics() {
        QFETCH(int, n);
        QFETCH(int, r);
        QFETCH(double, p);
        QFETCH(QString, dist);
        const QByteArray d = dist.toLatin1();
        MatrixCompletionTask task(taskCfg(n, r, p, d.constData()));
        const int B = 4000, T = n * n;
        const Batch b = task.sample(B, 42, DataStream::Train, 3);
        const float* x = b.target.data_ptr<float>();
        const auto* tok = b.tokens.data_ptr<std::int64_t>();
        const bool* m = b.mask.data_ptr<bool>();
        std::int64_t masked = 0;
        double sq = 0;
        int maxRank = 0;
        for (int i = 0; i < B; ++i) {
            Eigen::MatrixXd X(n, n);
            for (int k = 0; k < T; ++k) {
                const double v = x[i * T + k];
                X(k / n, k % n) = v;
                sq += v * v;
                // Rounded to 2 decimals.
                QVERIFY(std::fabs(v * 100 - std::round(v * 100)) < 1e-3);
                if (m[i * T + k]) {
                    ++masked;
                    QCOMPARE(tok[i * T + k], std::int64_t(tokens::kMask));
                } else {
                    QCOMPARE(tok[i * T + k], std::int64_t(tokens::valueToId(v)));
                }
            }
            // Rank <= r up to the rounding noise (entries perturbed by at most 0.005).
            Eigen::JacobiSVD<Eigen::MatrixXd> svd(X);
            const auto s = svd.singularValues();
            int rank = 0;
            for (int k = 0; k < s.size(); ++k) rank += s(k) > 0.005 * n * 1.01 ? 1 : 0;
            maxRank = std::max(maxRank, rank);
        }
        QVERIFY2(maxRank <= r, qPrintable(QString("numerical rank %1 > %2").arg(maxRank).arg(r)));
        const double rate = double(masked) / double(B * T);
        const double sd = std::sqrt(p * (1 - p) / double(B * T));
        QVERIFY2(std::fabs(rate - p) < 5 * sd, qPrintable(QString("mask rate %1 vs %2").arg(rate).arg(p)));
        const double ex2 = sq / double(B * T);
        QVERIFY2(std::fabs(ex2 / task.expectedSquare() - 1.0) < 0.06,
                 qPrintable(QString("E[X^2] %1 vs %2").arg(ex2).arg(task.expectedSquare())));
    }
    void paperFactorsAreUniformInUnitBox() {
        // With r = 1 and n = 1-like checks: |X| <= r always for U[-1,1] factors.
        MatrixCompletionTask task(taskCfg(7, 2, 0.3));
        const Batch b = task.sample(2000, 9, DataStream::Train, 0);
        QVERIFY(b.target.abs().max().item<float>() <= 2.0f);
        QVERIFY(b.target.abs().max().item<float>() > 1.0f);  // reaches beyond a single product
    }
    void deterministic() {
        MatrixCompletionTask task(taskCfg(7, 2, 0.3));
        const Batch a = task.sample(16, 5, DataStream::Train, 11);
        const Batch b = task.sample(16, 5, DataStream::Train, 11);
        QVERIFY(torch::equal(a.tokens, b.tokens));
        QVERIFY(torch::equal(a.target, b.target));
        const Batch c = task.sample(16, 5, DataStream::Train, 12);
        const Batch d = task.sample(16, 6, DataStream::Train, 11);
        const Batch e = task.sample(16, 5, DataStream::Eval, 11);
        QVERIFY(!torch::equal(a.target, c.target));
        QVERIFY(!torch::equal(a.target, d.target));
        QVERIFY(!torch::equal(a.target, e.target));
        // Matrix i does not depend on the batch size.
        const Batch big = task.sample(32, 5, DataStream::Train, 11);
        QVERIFY(torch::equal(big.target.slice(0, 0, 16), a.target));
    }
    void fixedRowMask() {
        const auto m = MatrixCompletionTask::paperRowMask(7);
        QCOMPARE(int(m.size()), 49);
        int count = 0;
        for (auto v : m) count += v;
        QCOMPARE(count, 12);  // rows 3 and 6 minus two kept entries
        QCOMPARE(int(m[3 * 7 + 1]), 0);
        QCOMPARE(int(m[6 * 7 + 5]), 0);
        QCOMPARE(int(m[3 * 7 + 0]), 1);
        QCOMPARE(int(m[0]), 0);
        MatrixCompletionTask task(taskCfg(7, 2, 0.3));
        const Batch b = task.sampleWithMask(8, 1, DataStream::Probe, 0, m);
        for (int i = 0; i < 8; ++i)
            for (int k = 0; k < 49; ++k) QCOMPARE(b.mask[i][k].item<bool>(), m[k] != 0);
        QVERIFY(MatrixCompletionTask::paperRowMask(5).empty());
    }
    void lossParts() {
        MatrixCompletionTask task(taskCfg(4, 1, 0.5));
        const Batch b = task.sample(64, 3, DataStream::Train, 0);
        // Copying: output = target where observed, 0 where masked.
        auto copy = b.target.masked_fill(b.mask, 0.0f);
        const LossParts p = plateau::lossParts(copy, b);
        QCOMPARE(p.lossObs, 0.0);
        const auto maskF = b.mask.to(torch::kFloat64);
        const double lm = (b.target.to(torch::kFloat64).square() * maskF).sum().item<double>() /
                          maskF.sum().item<double>();
        QVERIFY(std::fabs(p.lossMask - lm) < 1e-9);
        QVERIFY(std::fabs(p.loss - lm * maskF.mean().item<double>()) < 1e-9);
        QCOMPARE(p.meanAbsMaskOut, 0.0);
    }
};

PLATEAU_TEST_MAIN(TestTask)
#include "tst_task.moc"
