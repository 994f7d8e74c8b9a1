// Snapshots for the live views: spectra of low-rank products against a full SVD, pseudo-rank,
// row/column attention scores on maps with known answers, the snapshot builder against the
// model's own forward pass, and the snapshot schedule.
#include <torch/torch.h>

#include "analysis/snapshot_schedule.h"
#include "analysis/spectra.h"
#include "mc_test_util.h"
#include "model/bert_encoder.h"
#include "test_main.h"

#include <Eigen/Dense>
#include <cmath>
#include <random>

using namespace plateau;

namespace {
RunConfig smallConfig(int n = 4) {
    auto cfg = loadPreset("tiny");
    RunConfig c = cfg.value();
    setField(c, "task.n", n);
    setField(c, "model.layers", 2);
    setField(c, "model.heads", 4);
    setField(c, "model.width", 32);
    setField(c, "model.ffn", 64);
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
        RunConfig cfg = smallConfig();
        cfg.train.probeSize = 8;
        cfg.train.seed = 5;
        McExperiment exp(cfg);
        const auto s = exp.snapshot(123, 4.5, ProbeSpec{}, false);
        const int n = cfg.task.i("n"), T = n * n, L = cfg.model.i("layers"), H = cfg.model.i("heads");
        QCOMPARE(s->step, qint64(123));
        QCOMPARE(s->timeS, 4.5);
        QCOMPARE(s->layout.kind, TokenLayout::Grid);
        QCOMPARE(s->layout.n, n);
        QCOMPARE(s->probeCount, 8);
        QCOMPARE(s->array("attention")->shape, (std::vector<int>{L, H, T, T}));
        QCOMPARE(s->array("matrices.prediction")->shape, (std::vector<int>{8, n, n}));
        QCOMPARE(s->array("spectra.qk")->shape, (std::vector<int>{L, H, cfg.model.i("width") / H}));
        // Every attention row is a distribution (mean of distributions).
        for (int l = 0; l < L; ++l)
            for (int h = 0; h < H; ++h)
                for (int q = 0; q < T; ++q) {
                    double sum = 0;
                    for (int k = 0; k < T; ++k) sum += s->attn(l, h, q, k);
                    QVERIFY(std::abs(sum - 1.0) < 1e-4);
                }
        // Same probe batch as the task's probe stream, same outputs as a plain forward pass.
        const Batch b = exp.task().sample(8, std::uint64_t(cfg.train.seed), DataStream::Probe, 0);
        torch::NoGradGuard ng;
        ForwardOptions fo;
        fo.attentions = true;
        const ForwardOutput out = exp.model()->forward(b.tokens, fo);
        const torch::Tensor pred = out.output.contiguous();
        const float* prediction = s->f32("matrices.prediction");
        const float* truth = s->f32("matrices.truth");
        const float* input = s->f32("matrices.input");
        const std::uint8_t* masked = s->array("matrices.masked")->u8.data();
        double maxDiff = 0, comp = 0;
        int nMask = 0;
        for (int i = 0; i < 8 * T; ++i) {
            maxDiff = std::max(maxDiff, double(std::abs(pred.data_ptr<float>()[i] - prediction[i])));
            QCOMPARE(bool(masked[i]), b.mask.data_ptr<bool>()[i]);
            if (masked[i]) {
                const double d = double(prediction[i]) - double(truth[i]);
                comp += d * d;
                ++nMask;
                QCOMPARE(input[i], 0.f);
            } else {
                QVERIFY(std::abs(input[i] - truth[i]) < 1e-6f);
            }
        }
        QVERIFY(maxDiff < 1e-6);
        QVERIFY(std::abs(comp / nMask - s->scalar("completion_mse")) < 1e-9);
        const torch::Tensor mean = out.attentions[1].mean(0);  // (H, T, T)
        QVERIFY(std::abs(mean[2][3][5].item<float>() - s->attn(1, 2, 3, 5)) < 1e-6f);
        // Row / column scores of the stored maps.
        float r = 0, c = 0;
        plateau::rowColumnScores(s->f32("attention") + std::size_t(1 * H + 2) * std::size_t(T * T), n, &r, &c);
        QCOMPARE(s->f32("attention.same_row")[1 * H + 2], r);
        QCOMPARE(s->f32("attention.same_col")[1 * H + 2], c);
        // Spectra against torch's SVD of the full D x D products.
        const int D = cfg.model.i("width"), dh = D / H;
        const BertLayerRefs& ref = exp.model()->layer(1);
        const torch::Tensor wq = ref.query->weight.detach().slice(0, 2 * dh, 3 * dh);  // (dh, D)
        const torch::Tensor wk = ref.key->weight.detach().slice(0, 2 * dh, 3 * dh);
        const torch::Tensor qk = torch::linalg_svdvals(torch::matmul(wk.t(), wq).to(torch::kFloat64));
        const torch::Tensor wv = ref.value->weight.detach().slice(0, 2 * dh, 3 * dh);
        const torch::Tensor p = ref.attnOut->weight.detach().slice(1, 2 * dh, 3 * dh);  // (D, dh)
        const torch::Tensor ov = torch::linalg_svdvals(torch::matmul(p, wv).to(torch::kFloat64));
        const float* qkS = s->f32("spectra.qk") + std::size_t(1 * H + 2) * std::size_t(dh);
        const float* ovS = s->f32("spectra.ov") + std::size_t(1 * H + 2) * std::size_t(dh);
        for (int k = 0; k < dh; ++k) {
            QVERIFY(std::abs(qkS[k] - qk[k].item<double>()) < 1e-4 * qk[0].item<double>());
            QVERIFY(std::abs(ovS[k] - ov[k].item<double>()) < 1e-4 * ov[0].item<double>());
        }
        QCOMPARE(s->array("spectra.qk_rank")->i32[std::size_t(1 * H + 2)], pseudoRank(std::vector<float>(qkS, qkS + dh)));
    }

    void builderUsesFixedMasks() {
        RunConfig cfg7 = smallConfig(7);
        cfg7.train.probeSize = 4;
        McExperiment e7(cfg7);
        ProbeSpec row;
        row.source = MaskSource::PaperRow;
        QVERIFY(e7.validateProbe(row).ok());
        const auto s = e7.snapshot(0, 0, row, false);
        QCOMPARE(s->probe.source, MaskSource::PaperRow);
        const auto mask = MatrixCompletionTask::paperRowMask(7);
        const std::uint8_t* masked = s->array("matrices.masked")->u8.data();
        for (int b = 0; b < 4; ++b)
            for (int t = 0; t < 49; ++t) QCOMPARE(masked[b * 49 + t], mask[std::size_t(t)]);
        // Random probe matrices do not change with the mask: same targets.
        const auto r = e7.snapshot(0, 0, ProbeSpec{}, false);
        QCOMPARE(r->array("matrices.truth")->f32, s->array("matrices.truth")->f32);

        RunConfig cfg4 = smallConfig(4);
        cfg4.train.probeSize = 4;
        McExperiment small(cfg4);
        QVERIFY(!small.validateProbe(row).ok());
        QVERIFY(small.validateProbe(row).error().contains("n >= 7"));
        ProbeSpec bad;
        bad.source = MaskSource::Custom;
        bad.customMask = {1, 0, 1};
        QVERIFY(small.validateProbe(bad).error().contains("16 cells"));
        // An invalid spec falls back to random masks rather than failing the snapshot.
        QCOMPARE(small.snapshot(0, 0, bad, false)->probe.source, MaskSource::Random);
        ProbeSpec drawn;
        drawn.source = MaskSource::Custom;
        drawn.customMask.assign(16, 0);
        drawn.customMask[5] = 1;
        const auto d = small.snapshot(0, 0, drawn, false);
        QCOMPARE(d->probe.source, MaskSource::Custom);
        const std::uint8_t* dm = d->array("matrices.masked")->u8.data();
        for (int b = 0; b < 4; ++b)
            for (int t = 0; t < 16; ++t) QCOMPARE(int(dm[b * 16 + t]), t == 5 ? 1 : 0);
    }
    void tokenLayouts() {
        TokenLayout grid;
        grid.kind = TokenLayout::Grid;
        grid.n = 3;
        QCOMPARE(grid.length(), 9);
        QCOMPARE(grid.describe(5), QString("(1,2)"));
        QCOMPARE(grid.boundaries(), (std::vector<int>{3, 6}));
        TokenLayout seg;
        seg.kind = TokenLayout::Segments;
        seg.segments = {{"prompt", 4, 2}, {"SEP", 1, 0}, {"answer", 4, 2}};
        QCOMPARE(seg.length(), 9);
        QCOMPARE(seg.describe(1), QString("prompt (0,1)"));
        QCOMPARE(seg.describe(4), QString("SEP"));
        QCOMPARE(seg.describe(8), QString("answer (1,1)"));
        QCOMPARE(seg.boundaries(), (std::vector<int>{4, 5}));
        // One word per token names each (in-context examples), guides between segments only; a
        // label with another word count keeps "label i".
        TokenLayout ex;
        ex.kind = TokenLayout::Segments;
        ex.segments = {{"x1 y1 z1", 3, 0}, {"x2 y2 z2", 3, 0}, {"x3 y3", 2, 0}, {"two words", 3, 0}};
        QCOMPARE(ex.describe(0), QString("x1"));
        QCOMPARE(ex.describe(5), QString("z2"));
        QCOMPARE(ex.describe(7), QString("y3"));
        QCOMPARE(ex.label(4), QString("y2"));
        QCOMPARE(ex.describe(9), QString("two words 1"));
        QCOMPARE(ex.label(9), QString("two_words_1"));
        QCOMPARE(ex.boundaries(), (std::vector<int>{3, 6, 8}));
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
