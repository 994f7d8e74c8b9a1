// Snapshots for the live views: spectra of low-rank products against a full SVD, pseudo-rank,
// row/column attention scores on maps with known answers, the snapshot builder against the
// model's own forward pass, and the snapshot schedule.
#include <torch/torch.h>

#include "analysis/snapshot_builder.h"
#include "analysis/spectra.h"
#include "model/bert_encoder.h"
#include "tasks/matrix_completion_task.h"
#include "test_main.h"

#include <Eigen/Dense>
#include <cmath>
#include <random>

using namespace plateau;

namespace {
RunConfig smallConfig(int n = 4) {
    auto cfg = loadPreset("tiny");
    RunConfig c = cfg.value();
    c.task.n = n;
    c.model.layers = 2;
    c.model.heads = 4;
    c.model.width = 32;
    c.model.ffn = 64;
    return c;
}
}  // namespace

class TestSnapshot : public QObject {
    Q_OBJECT
private slots:
    void lowRankSpectrumMatchesFullSvd_data() {
        QTest::addColumn<int>("m");
        QTest::addColumn<int>("r");
        QTest::newRow("D48 dh12") << 48 << 12;
        QTest::newRow("D32 dh8") << 32 << 8;
        QTest::newRow("D7 dh7 (square)") << 7 << 7;
        QTest::newRow("D64 dh1") << 64 << 1;
    }
    void lowRankSpectrumMatchesFullSvd() {
        QFETCH(int, m);
        QFETCH(int, r);
        std::mt19937 rng(3);
        std::normal_distribution<float> g(0.f, 0.3f);
        std::vector<float> a(std::size_t(m * r)), b(std::size_t(r * m));
        for (auto& x : a) x = g(rng);
        for (auto& x : b) x = g(rng);
        Eigen::MatrixXd A(m, r), B(r, m);
        for (int i = 0; i < m; ++i)
            for (int k = 0; k < r; ++k) A(i, k) = a[std::size_t(i * r + k)];
        for (int k = 0; k < r; ++k)
            for (int j = 0; j < m; ++j) B(k, j) = b[std::size_t(k * m + j)];
        const Eigen::VectorXd full = Eigen::JacobiSVD<Eigen::MatrixXd>(A * B).singularValues();
        const std::vector<float> fast = lowRankProductSingularValues(a.data(), b.data(), m, r);
        QCOMPARE(int(fast.size()), r);
        for (int k = 0; k < r; ++k) QVERIFY2(std::abs(fast[std::size_t(k)] - full[k]) <= 1e-4 * full[0], qPrintable(QString::number(k)));
        for (int k = r; k < full.size(); ++k) QVERIFY(full[k] < 1e-6 * full[0]);  // the product has rank r
    }
    void pseudoRankCountsToNinetyFivePercent() {
        QCOMPARE(pseudoRank({1.f, 0.f, 0.f}), 1);
        QCOMPARE(pseudoRank({1.f, 1.f, 1.f, 1.f}), 4);  // 3 of 4 hold 75 %
        QCOMPARE(pseudoRank({10.f, 5.f, 0.5f, 0.2f}), 2);  // 15/15.7 = 95.5 % >= 95 %
        QCOMPARE(pseudoRank({10.f, 5.f, 1.f, 0.2f}), 3);   // 15/16.2 = 92.6 % < 95 %
        QCOMPARE(pseudoRank({0.f, 0.f}), 0);
        QCOMPARE(pseudoRank({}), 0);
    }
    void rowColumnScores_data() {
        QTest::addColumn<int>("kind");
        QTest::addColumn<float>("row");
        QTest::addColumn<float>("col");
        QTest::newRow("uniform") << 0 << 3.f / 16.f << 3.f / 16.f;
        QTest::newRow("self only") << 1 << 0.f << 0.f;
        QTest::newRow("rest of row") << 2 << 1.f << 0.f;
        QTest::newRow("rest of column") << 3 << 0.f << 1.f;
    }
    void rowColumnScores() {
        QFETCH(int, kind);
        QFETCH(float, row);
        QFETCH(float, col);
        const int n = 4, T = 16;
        std::vector<float> a(std::size_t(T * T), 0.f);
        for (int q = 0; q < T; ++q) {
            const int qi = q / n, qj = q % n;
            for (int k = 0; k < T; ++k) {
                const int ki = k / n, kj = k % n;
                float v = 0;
                if (kind == 0) v = 1.f / T;
                if (kind == 1) v = k == q ? 1.f : 0.f;
                if (kind == 2) v = (ki == qi && k != q) ? 1.f / (n - 1) : 0.f;
                if (kind == 3) v = (kj == qj && k != q) ? 1.f / (n - 1) : 0.f;
                a[std::size_t(q * T + k)] = v;
            }
        }
        float r = -1, c = -1;
        plateau::rowColumnScores(a.data(), n, &r, &c);
        QVERIFY(std::abs(r - row) < 1e-6f);
        QVERIFY(std::abs(c - col) < 1e-6f);
    }

    void builderMatchesTheModel() {
        const RunConfig cfg = smallConfig();
        torch::manual_seed(5);
        BertEncoder model(bertDimsOf(cfg.model));
        SnapshotBuilder builder(cfg, 8);
        const auto s = builder.build(*model, 123, 4.5, ProbeSpec{});
        const int n = cfg.task.n, T = n * n, L = cfg.model.layers, H = cfg.model.heads;
        QCOMPARE(s->step, qint64(123));
        QCOMPARE(s->n, n);
        QCOMPARE(s->probeCount, 8);
        QCOMPARE(int(s->attention.size()), L * H * T * T);
        QCOMPARE(int(s->prediction.size()), 8 * T);
        QCOMPARE(int(s->spectra.size()), L * H);
        // Every attention row is a distribution (mean of distributions).
        for (int l = 0; l < L; ++l)
            for (int h = 0; h < H; ++h)
                for (int q = 0; q < T; ++q) {
                    double sum = 0;
                    for (int k = 0; k < T; ++k) sum += s->attn(l, h, q, k);
                    QVERIFY(std::abs(sum - 1.0) < 1e-4);
                }
        // Same probe batch as the task's probe stream, same outputs as a plain forward pass.
        MatrixCompletionTask task(cfg.task);
        const Batch b = task.sample(8, std::uint64_t(cfg.train.seed), DataStream::Probe, 0);
        torch::NoGradGuard ng;
        ForwardOptions fo;
        fo.attentions = true;
        const ForwardOutput out = model->forward(b.tokens, fo);
        const torch::Tensor pred = out.output.contiguous();
        double maxDiff = 0, comp = 0;
        int nMask = 0;
        for (int i = 0; i < 8 * T; ++i) {
            maxDiff = std::max(maxDiff, double(std::abs(pred.data_ptr<float>()[i] - s->prediction[std::size_t(i)])));
            QCOMPARE(bool(s->masked[std::size_t(i)]), b.mask.data_ptr<bool>()[i]);
            if (s->masked[std::size_t(i)]) {
                const double d = double(s->prediction[std::size_t(i)]) - double(s->target[std::size_t(i)]);
                comp += d * d;
                ++nMask;
                QCOMPARE(s->input[std::size_t(i)], 0.f);
            } else {
                QVERIFY(std::abs(s->input[std::size_t(i)] - s->target[std::size_t(i)]) < 1e-6f);
            }
        }
        QVERIFY(maxDiff < 1e-6);
        QVERIFY(std::abs(comp / nMask - s->completionMse) < 1e-9);
        const torch::Tensor mean = out.attentions[1].mean(0);  // (H, T, T)
        QVERIFY(std::abs(mean[2][3][5].item<float>() - s->attn(1, 2, 3, 5)) < 1e-6f);
        // Spectra against torch's SVD of the full D x D products.
        const int D = cfg.model.width, dh = D / H;
        const BertLayerRefs& ref = model->layer(1);
        const torch::Tensor wq = ref.query->weight.detach().slice(0, 2 * dh, 3 * dh);  // (dh, D)
        const torch::Tensor wk = ref.key->weight.detach().slice(0, 2 * dh, 3 * dh);
        const torch::Tensor qk = torch::linalg_svdvals(torch::matmul(wk.t(), wq).to(torch::kFloat64));
        const torch::Tensor wv = ref.value->weight.detach().slice(0, 2 * dh, 3 * dh);
        const torch::Tensor p = ref.attnOut->weight.detach().slice(1, 2 * dh, 3 * dh);  // (D, dh)
        const torch::Tensor ov = torch::linalg_svdvals(torch::matmul(p, wv).to(torch::kFloat64));
        const HeadSpectrum& hs = s->spectrum(1, 2);
        QCOMPARE(int(hs.qk.size()), dh);
        for (int k = 0; k < dh; ++k) {
            QVERIFY(std::abs(hs.qk[std::size_t(k)] - qk[k].item<double>()) < 1e-4 * qk[0].item<double>());
            QVERIFY(std::abs(hs.ov[std::size_t(k)] - ov[k].item<double>()) < 1e-4 * ov[0].item<double>());
        }
        QCOMPARE(hs.qkRank, pseudoRank(hs.qk));
    }

    void builderUsesFixedMasks() {
        const RunConfig cfg7 = smallConfig(7);
        torch::manual_seed(1);
        BertEncoder model(bertDimsOf(cfg7.model));
        SnapshotBuilder builder(cfg7, 4);
        ProbeSpec row;
        row.source = MaskSource::PaperRow;
        QVERIFY(builder.validate(row).ok());
        const auto s = builder.build(*model, 0, 0, row);
        const auto mask = MatrixCompletionTask::paperRowMask(7);
        for (int b = 0; b < 4; ++b)
            for (int t = 0; t < 49; ++t) QCOMPARE(s->masked[std::size_t(b * 49 + t)], mask[std::size_t(t)]);
        // Random probe matrices do not change with the mask: same targets.
        const auto r = builder.build(*model, 0, 0, ProbeSpec{});
        QCOMPARE(r->target, s->target);

        const RunConfig cfg4 = smallConfig(4);
        SnapshotBuilder small(cfg4, 4);
        QVERIFY(!small.validate(row).ok());
        QVERIFY(small.validate(row).error().contains("n >= 7"));
        ProbeSpec bad;
        bad.source = MaskSource::Custom;
        bad.customMask = {1, 0, 1};
        QVERIFY(small.validate(bad).error().contains("16 cells"));
        ProbeSpec drawn;
        drawn.source = MaskSource::Custom;
        drawn.customMask.assign(16, 0);
        drawn.customMask[5] = 1;
        BertEncoder m4(bertDimsOf(cfg4.model));
        const auto d = small.build(*m4, 0, 0, drawn);
        QCOMPARE(d->probe.source, MaskSource::Custom);
        for (int b = 0; b < 4; ++b)
            for (int t = 0; t < 16; ++t) QCOMPARE(int(d->masked[std::size_t(b * 16 + t)]), t == 5 ? 1 : 0);
    }

    void niceSteps() {
        QCOMPARE(roundUpToNiceStep(0.3), 1);
        QCOMPARE(roundUpToNiceStep(1.0), 1);
        QCOMPARE(roundUpToNiceStep(1.5), 2);
        QCOMPARE(roundUpToNiceStep(3), 5);
        QCOMPARE(roundUpToNiceStep(19), 20);
        QCOMPARE(roundUpToNiceStep(21), 50);
        QCOMPARE(roundUpToNiceStep(101), 200);
    }
    void scheduleAimsAtFivePerSecond() {
        SnapshotSchedule fixed(7);
        int due = 0;
        for (int s = 1; s <= 70; ++s) due += fixed.due(s, 1.0);
        QCOMPARE(due, 10);
        // 10 ms steps: 5 per second means every 20 steps.
        SnapshotSchedule autoS;
        due = 0;
        for (int s = 1; s <= 1000; ++s) due += autoS.due(s, 10.0);
        QCOMPARE(autoS.interval(), 20);
        QVERIFY(due >= 48 && due <= 52);
        // A snapshot costing 30 ms may use at most 3 % of training: every >= 100 steps.
        autoS.snapshotCost(30.0);
        for (int s = 1001; s <= 1100; ++s) autoS.due(s, 10.0);
        QCOMPARE(autoS.interval(), 100);
        // Slow steps (7.5 s, the paper model): every step by rate, but the cost bound still holds.
        SnapshotSchedule slow;
        slow.snapshotCost(2500.0);
        slow.due(1, 7500.0);
        QCOMPARE(slow.interval(), 20);  // 2500 / (0.03 * 7500) = 11.1 -> 20
    }
};

PLATEAU_TEST_MAIN(TestSnapshot)
#include "tst_snapshot.moc"
