// The BERT encoder: parameter count, HF names, forward pass against PyTorch, attention capture,
// and gradients against finite differences.
#include <torch/torch.h>

#include <array>
#include <cmath>
#include <ATen/CPUGeneratorImpl.h>

#include "model/bert_encoder.h"
#include "model/fast_linear.h"
#include "model/fused_attention.h"
#include "model/fused_layers.h"
#include "test_bf16.h"
#include "test_main.h"

#include <QFile>

using namespace plateau;

namespace {
BertDims tinyDims() {
    BertDims d;
    d.width = 16;
    d.heads = 2;
    d.layers = 2;
    d.ffn = 32;
    d.maxPositions = 16;
    return d;
}
// Wide enough that a weight's sample std is within 10 % of the init std.
BertDims initDims(double initStd) {
    BertDims d;
    d.width = 256;
    d.heads = 4;
    d.layers = 1;
    d.ffn = 512;
    d.initStd = initStd;
    return d;
}
c10::impl::GenericDict loadFixture() {
    QFile f(PLATEAU_SOURCE_DIR "/tests/fixtures/forward_tiny.pt");
    if (!f.open(QIODevice::ReadOnly)) qFatal("fixture missing");
    const QByteArray bytes = f.readAll();
    return torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end())).toGenericDict();
}
}  // namespace

class TestModel : public QObject {
    Q_OBJECT
private slots:
    void paperParameterCount() {
        BertDims paper;  // defaults are the paper's sizes
        QCOMPARE(bertParameterCount(paper), std::int64_t(30284545));
        BertEncoder model(paper);
        QCOMPARE(model->parameterCount(), std::int64_t(30284545));
    }
    void countFormulaMatchesModules_data() {
        QTest::addColumn<int>("width");
        QTest::addColumn<int>("heads");
        QTest::addColumn<int>("layers");
        QTest::addColumn<int>("ffn");
        QTest::newRow("quick") << 64 << 4 << 2 << 256;
        QTest::newRow("odd") << 30 << 5 << 3 << 50;
    }
    void countFormulaMatchesModules() {
        QFETCH(int, width);
        QFETCH(int, heads);
        QFETCH(int, layers);
        QFETCH(int, ffn);
        BertDims d;
        d.width = width;
        d.heads = heads;
        d.layers = layers;
        d.ffn = ffn;
        BertEncoder model(d);
        QCOMPARE(model->parameterCount(), bertParameterCount(d));
    }
    void generatorInitIsTheGlobalSeedingOfBefore() {
        // An experiment's own generator seeded with s gives the weights that torch::manual_seed(s)
        // followed by construction gave (runs before per-experiment generators must not change).
        torch::manual_seed(42);
        BertEncoder a(tinyDims());
        torch::manual_seed(7);  // another global state: must not matter
        BertEncoder b(tinyDims());
        torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(42);
        b->resetParameters(gen);
        const auto pa = a->named_parameters(), pb = b->named_parameters();
        QCOMPARE(pa.size(), pb.size());
        for (std::size_t i = 0; i < pa.size(); ++i) QVERIFY2(torch::equal(pa[i].value(), pb[i].value()), pa[i].key().c_str());
        torch::Generator other = at::make_generator<at::CPUGeneratorImpl>(43);
        b->resetParameters(other);
        QVERIFY(!torch::equal(a->named_parameters()[0].value(), b->named_parameters()[0].value()));
    }
    void huggingFaceNames() {
        BertEncoder model(tinyDims());
        QStringList names;
        for (const auto& p : model->named_parameters()) names << QString::fromStdString(p.key());
        for (const char* n : {"embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
                              "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias",
                              "encoder.layer.0.attention.self.query.weight", "encoder.layer.1.attention.self.value.bias",
                              "encoder.layer.0.attention.output.dense.weight",
                              "encoder.layer.0.attention.output.LayerNorm.bias",
                              "encoder.layer.1.intermediate.dense.weight", "encoder.layer.1.output.dense.bias",
                              "encoder.layer.1.output.LayerNorm.weight", "read_out.weight", "read_out.bias"})
            QVERIFY2(names.contains(n), n);
        QCOMPARE(names.size(), 4 + 2 * 16 + 2);  // embeddings, 2 layers x 16, readout
    }
    void initialisation() {
        torch::manual_seed(3);
        BertEncoder model(initDims(0.02));
        auto w = model->layer(0).query->weight;
        QVERIFY(std::fabs(w.std().item<double>() - 0.02) < 0.002);
        QCOMPARE(model->layer(0).query->bias.abs().max().item<float>(), 0.0f);
        QCOMPARE(model->layer(0).attnNorm->weight.min().item<float>(), 1.0f);
        for (const auto& p : model->named_parameters())
            if (p.key() == "embeddings.word_embeddings.weight")
                QCOMPARE(p.value()[0].abs().max().item<float>(), 0.0f);  // MASK row
        // Readout: PyTorch default, U(-1/sqrt(d), 1/sqrt(d)), not N(0, 0.02).
        for (const auto& p : model->named_parameters())
            if (p.key() == "read_out.weight") {
                const double bound = 1.0 / std::sqrt(256.0);
                QVERIFY(p.value().abs().max().item<double>() <= bound);
                QVERIFY(p.value().std().item<double>() > 0.5 * bound / std::sqrt(3.0));
            }
    }

    void initialisationScale() {
        // model.init_std scales every N(0, s) tensor (embeddings, Linear weights), not the
        // readout, biases or LayerNorm; the MASK row stays zero.
        torch::manual_seed(4);
        BertEncoder model(initDims(0.08));
        for (const auto& p : model->named_parameters()) {
            const QString key = QString::fromStdString(p.key());
            const double sd = p.value().std().item<double>();
            if (key.endsWith("dense.weight") || key.contains("query.weight") ||
                key == "embeddings.position_embeddings.weight")
                QVERIFY2(std::fabs(sd - 0.08) < 0.008, qPrintable(key));
            if (key == "embeddings.word_embeddings.weight") {
                QCOMPARE(p.value()[0].abs().max().item<float>(), 0.0f);
                QVERIFY(std::fabs(p.value().slice(0, 1).std().item<double>() - 0.08) < 0.008);
            }
            if (key == "read_out.weight") QVERIFY(p.value().abs().max().item<double>() <= 1 / 16.0);
            if (key.endsWith(".bias") && !key.startsWith("read_out"))
                QCOMPARE(p.value().abs().max().item<float>(), 0.0f);
        }
    }
    void matchesPyTorch() {
        auto fx = loadFixture();
        BertEncoder model(tinyDims());
        {
            torch::NoGradGuard g;
            auto weights = fx.at("model").toGenericDict();
            int copied = 0;
            for (const auto& p : model->named_parameters()) {
                QVERIFY2(weights.contains(p.key()), p.key().c_str());
                p.value().copy_(weights.at(p.key()).toTensor());
                ++copied;
            }
            QCOMPARE(copied, int(weights.size()));
        }
        const auto tokens = fx.at("tokens").toTensor();
        ForwardOptions opts;
        opts.attentions = true;
        opts.hiddenStates = true;
        torch::NoGradGuard g;
        const ForwardOutput out = model->forward(tokens, opts);
        const auto want = fx.at("output").toTensor();
        QCOMPARE(out.output.sizes(), want.sizes());
        const double err = (out.output - want).abs().max().item<double>();
        QVERIFY2(err < 1e-5, qPrintable(QString("max |diff| %1").arg(err)));
        QVERIFY(want.abs().max().item<double>() > 1e-2);  // the fixture is not trivially zero
        const auto attn = torch::stack(out.attentions);
        QVERIFY((attn - fx.at("attentions").toTensor()).abs().max().item<double>() < 1e-6);
        const auto hidden = torch::stack(out.hiddenStates);
        QVERIFY((hidden - fx.at("hidden_states").toTensor()).abs().max().item<double>() < 1e-5);
    }
    void attentionCapture() {
        torch::manual_seed(5);
        BertDims d = tinyDims();
        d.heads = 4;
        BertEncoder model(d);
        const auto tokens = torch::randint(0, 2002, {3, 9}, torch::kInt64);
        torch::NoGradGuard g;
        ForwardOptions opts;
        opts.attentions = true;
        opts.hiddenStates = true;
        const ForwardOutput full = model->forward(tokens, opts);
        const ForwardOutput plain = model->forward(tokens);
        QVERIFY(torch::equal(full.output, plain.output));  // capturing changes nothing
        QVERIFY(plain.attentions.empty() && plain.hiddenStates.empty());
        QCOMPARE(int(full.attentions.size()), d.layers);
        QCOMPARE(int(full.hiddenStates.size()), d.layers + 1);
        for (const auto& a : full.attentions) {
            QCOMPARE(a.sizes().vec(), (std::vector<std::int64_t>{3, 4, 9, 9}));
            QVERIFY((a.sum(-1) - 1).abs().max().item<double>() < 1e-5);
            QVERIFY(a.min().item<float>() >= 0.0f);
        }
    }
    void fastKernelsMatchPlainOps_data() {
        QTest::addColumn<int>("width");
        QTest::addColumn<int>("heads");
        QTest::addColumn<int>("n");
        QTest::newRow("dh8 T49") << 64 << 8 << 7;
        QTest::newRow("dh16 T16") << 64 << 4 << 4;
        QTest::newRow("dh12 T25 (quick head)") << 48 << 4 << 5;
        QTest::newRow("dh6 T25 (width 48, 8 heads)") << 48 << 8 << 5;
        QTest::newRow("dh10 generic T25") << 30 << 3 << 5;
        QTest::newRow("dh96 T49 (paper head)") << 192 << 2 << 7;
        QTest::newRow("dh8 T81 (>64 columns)") << 32 << 4 << 9;
    }
    void fastKernelsMatchPlainOps() {
        // The fast kernels and LibTorch's ops must give the same outputs, attention and gradients.
        QFETCH(int, width);
        QFETCH(int, heads);
        QFETCH(int, n);
        torch::manual_seed(21);
        BertDims d;
        d.width = width;
        d.heads = heads;
        d.layers = 2;
        d.ffn = 2 * width;
        BertEncoder model(d);
        const auto tokens = torch::randint(0, 2002, {5, n * n}, torch::kInt64);
        const auto target = torch::randn({5, n * n});
        auto run = [&](bool fast, std::vector<torch::Tensor>& grads, torch::Tensor& attn) {
            model->setKernels(fast ? KernelOptions{} : KernelOptions::plain());
            model->zero_grad();
            ForwardOptions o;
            o.attentions = true;
            auto out = model->forward(tokens, o);
            torch::mse_loss(out.output, target).backward();
            grads.clear();
            for (const auto& p : model->parameters()) grads.push_back(p.grad().clone());
            attn = torch::stack(out.attentions);
            return out.output.detach();
        };
        std::vector<torch::Tensor> gf, gp;
        torch::Tensor af, ap;
        const auto of = run(true, gf, af), op = run(false, gp, ap);
        QVERIFY((of - op).abs().max().item<double>() < 1e-5);
        QVERIFY((af - ap).abs().max().item<double>() < 1e-6);
        for (std::size_t i = 0; i < gf.size(); ++i) {
            const double scale = gp[i].abs().max().item<double>();
            const double err = (gf[i] - gp[i]).abs().max().item<double>();
            QVERIFY2(err <= 1e-4 * scale + 1e-9, qPrintable(QString("param %1: err %2 scale %3").arg(i).arg(err).arg(scale)));
        }
    }
    void fusedLayersMatchLibTorch_data() {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("width");
        QTest::addColumn<int>("ffn");
        QTest::addColumn<bool>("biases");
        QTest::addColumn<bool>("residual");
        QTest::newRow("quick 48x192, rows not a block multiple") << 6403 << 48 << 192 << true << true;
        QTest::newRow("no biases, no residual (decoders)") << 777 << 32 << 128 << false << false;
        QTest::newRow("one short block") << 5 << 16 << 64 << true << false;
        QTest::newRow("F >= 1024: one block per thread") << 300 << 64 << 1024 << true << true;
    }
    void fusedLayersMatchLibTorch() {
        // fusedGeluMlp and fusedLayerNorm against the LibTorch ops they replace: outputs and every
        // gradient, at sizes that exercise partial row blocks, absent biases and the large-F path.
        QFETCH(int, rows);
        QFETCH(int, width);
        QFETCH(int, ffn);
        QFETCH(bool, biases);
        QFETCH(bool, residual);
        torch::manual_seed(5);
        auto leaf = [](torch::Tensor t) { return t.requires_grad_(); };
        auto x = leaf(torch::randn({rows, width})), r = leaf(torch::randn({rows, width}));
        auto w1 = leaf(torch::randn({ffn, width}) * 0.3), w2 = leaf(torch::randn({width, ffn}) * 0.1);
        auto b1 = leaf(torch::randn({ffn})), b2 = leaf(torch::randn({width}));
        const auto noTensor = torch::Tensor();
        auto grads = [&](const torch::Tensor& y, const torch::Tensor& g) {
            std::vector<torch::Tensor> inputs = {x, w1, w2};
            if (biases) inputs.insert(inputs.end(), {b1, b2});
            if (residual) inputs.push_back(r);
            return torch::autograd::grad({y}, inputs, {g});
        };
        const auto g = torch::randn({rows, width});
        const auto yf = fusedGeluMlp(x, w1, biases ? b1 : noTensor, w2, biases ? b2 : noTensor, residual ? r : noTensor);
        auto yp = torch::linear(torch::gelu(torch::linear(x, w1, biases ? b1 : noTensor)), w2, biases ? b2 : noTensor);
        if (residual) yp = yp + r;
        const auto gf = grads(yf, g), gp = grads(yp, g);
        auto close = [](const torch::Tensor& a, const torch::Tensor& b, double rel, const char* what) {
            const double scale = b.abs().max().item<double>(), err = (a - b).abs().max().item<double>();
            if (err > rel * scale + 1e-6) qWarning("%s: err %.3g of %.3g", what, err, scale);
            return err <= rel * scale + 1e-6;
        };
        QVERIFY(close(yf, yp, 1e-5, "mlp output"));
        for (std::size_t i = 0; i < gf.size(); ++i) QVERIFY2(close(gf[i], gp[i], 1e-4, "mlp grad"), qPrintable(QString::number(i)));

        auto nw = leaf(torch::randn({width})), nb = leaf(torch::randn({width}));
        const auto xs = (x * 3.0 + 2.0).detach().requires_grad_();  // an offset the two-pass variance must survive
        const auto nf = fusedLayerNorm(xs, nw, nb, 1e-12), np = torch::layer_norm(xs, {width}, nw, nb, 1e-12);
        QVERIFY(close(nf, np, 1e-5, "norm output"));
        const auto hf = torch::autograd::grad({nf}, {xs, nw, nb}, {g}), hp = torch::autograd::grad({np}, {xs, nw, nb}, {g});
        for (int i = 0; i < 3; ++i) QVERIFY2(close(hf[std::size_t(i)], hp[std::size_t(i)], 1e-4, "norm grad"), qPrintable(QString::number(i)));
    }
    void fusedGeluMatchesTorch_data() {
        QTest::addColumn<bool>("tanhForm");
        QTest::newRow("exact (erf)") << false;
        QTest::newRow("tanh (GPT-2)") << true;
    }
    void fusedGeluMatchesTorch() {
        // The polynomial erf / tanh against torch::gelu in float64, over the range that matters and
        // the tails: absolute error at float rounding, derivative too (through the MLP backward).
        QFETCH(bool, tanhForm);
        const auto u = torch::linspace(-12.0, 12.0, 200001);
        // A 1-wide MLP with W1 = W2 = 1 and no biases is GELU itself.
        const auto x = u.unsqueeze(1).requires_grad_();
        const auto one = torch::ones({1, 1});
        const auto y = fusedGeluMlp(x, one, torch::Tensor(), one, torch::Tensor(), torch::Tensor(),
                                    tanhForm ? GeluForm::Tanh : GeluForm::Erf);
        const auto u64 = u.to(torch::kFloat64).requires_grad_();
        const auto ref64 = tanhForm ? torch::gelu(u64, "tanh") : torch::gelu(u64);
        const auto dref = torch::autograd::grad({ref64.sum()}, {u64})[0].to(torch::kFloat32);
        const double err = (y.squeeze(1) - ref64.detach().to(torch::kFloat32)).abs().max().item<double>();
        qInfo("fused GELU: largest absolute error %.2e on [-12, 12]", err);
        QVERIFY2(err < 2e-6, qPrintable(QString::number(err)));
        const auto dy = torch::autograd::grad({y.sum()}, {x})[0].squeeze(1);
        const double derr = (dy - dref).abs().max().item<double>();
        qInfo("fused GELU': largest absolute error %.2e", derr);
        QVERIFY2(derr < 2e-6, qPrintable(QString::number(derr)));
    }
    void bf16ConversionRoundsToNearestEven() {
        // floatToBf16 (the native vcvtneps2bf16 path where the CPU has it) against LibTorch's
        // conversion: every length 1..40 (the vector loop and its masked tail), normal values of
        // every magnitude, ties, signed zeros and infinities exactly; NaN stays NaN. (Denormals are
        // left out: the native instruction flushes them to zero, LibTorch keeps them.)
        auto x = torch::randn({4000}) * torch::pow(10.0, torch::randint(-30, 30, {4000}).to(torch::kFloat32));
        const float specials[] = {0.0f, -0.0f, INFINITY, -INFINITY, 1.0f + 1.0f / 256, 1.0f + 3.0f / 256,
                                  1.0f + 1.0f / 512, -(1.0f + 1.0f / 512), 3.3895314e38f, -1e-30f};
        for (int i = 0; i < int(std::size(specials)); ++i) x[i] = specials[i];
        const auto want = x.to(torch::kBFloat16);
        for (std::int64_t n = 1; n <= 40; ++n) {
            const auto got = torch::empty({n}, torch::kBFloat16);
            floatToBf16(x.data_ptr<float>() + 7, bf16Data(got), n);
            QVERIFY2(torch::equal(got.view(torch::kInt16), want.slice(0, 7, 7 + n).view(torch::kInt16)),
                     qPrintable(QString("length %1 differs").arg(n)));
        }
        const auto all = toBf16(x);
        QVERIFY(torch::equal(all.view(torch::kInt16), want.view(torch::kInt16)));
        const auto nan = toBf16(torch::full({19}, NAN));
        QVERIFY(torch::isnan(nan.to(torch::kFloat32)).all().item<bool>());
        std::vector<float> back(19);
        bf16ToFloat(bf16Data(all), back.data(), 19);
        for (int i = 0; i < 19; ++i) QCOMPARE(back[std::size_t(i)], all[i].item<float>());
    }
    void bf16GemmMatchesReference_data() {
        QTest::addColumn<bool>("transA");
        QTest::addColumn<bool>("transB");
        QTest::addColumn<bool>("bias");
        QTest::addColumn<bool>("residual");
        for (int f = 0; f < 16; ++f)
            QTest::newRow(qPrintable(QString("A%1 B%2 bias %3 residual %4")
                                         .arg(f & 1 ? "^T" : "").arg(f & 2 ? "^T" : "").arg(f >> 2 & 1).arg(f >> 3 & 1)))
                << bool(f & 1) << bool(f & 2) << bool(f & 4) << bool(f & 8);
    }
    void bf16GemmMatchesReference() {
        // bf16Gemm (oneDNN's bf16 matmul: AMX, AVX512-BF16 or its emulation, per CPU) against the
        // products of the same bf16 values widened to fp32, in float64: fp32 accumulation only
        // (relative to the sum of |terms|), in every layout the linears use, with the bias and
        // residual post-ops; and against bf16GemmReference, the path of CPUs without it.
        QFETCH(bool, transA);
        QFETCH(bool, transB);
        QFETCH(bool, bias);
        QFETCH(bool, residual);
        qInfo("bf16 GEMM implementation here: %s", bf16GemmImplementation(transA, transB, 64, 48, 192));
        torch::manual_seed(5);
        for (const auto& mnk : std::vector<std::array<std::int64_t, 3>>{{5, 7, 3}, {33, 17, 64}, {64, 48, 192}, {130, 96, 49}}) {
            const auto [M, N, K] = mnk;
            const auto A = toBf16(transA ? torch::randn({K, M}) : torch::randn({M, K}));
            const auto B = toBf16(transB ? torch::randn({N, K}) : torch::randn({K, N}));
            const auto b = torch::randn({N}), r = torch::randn({M, N});
            const float* bp = bias ? b.data_ptr<float>() : nullptr;
            const float* rp = residual ? r.data_ptr<float>() : nullptr;
            auto C = torch::empty({M, N}), Cref = torch::empty({M, N});
            bf16Gemm(transA, transB, M, N, K, bf16Data(A), bf16Data(B), bp, rp, C.data_ptr<float>());
            bf16GemmReference(transA, transB, M, N, K, bf16Data(A), bf16Data(B), bp, rp, Cref.data_ptr<float>());
            const auto a64 = (transA ? A.t() : A).to(torch::kFloat64), b64 = (transB ? B.t() : B).to(torch::kFloat64);
            auto want = torch::matmul(a64, b64);
            if (bias) want = want + b.to(torch::kFloat64);
            if (residual) want = want + r.to(torch::kFloat64);
            const auto bound = torch::matmul(a64.abs(), b64.abs()) + 1.0;  // scale of the round-off
            const double err = ((C.to(torch::kFloat64) - want).abs() / bound).max().item<double>();
            const double errRef = ((Cref.to(torch::kFloat64) - want).abs() / bound).max().item<double>();
            QVERIFY2(err < 1e-5 && errRef < 1e-5,
                     qPrintable(QString("%1x%2x%3: error %4, reference's %5").arg(M).arg(N).arg(K).arg(err).arg(errRef)));
        }
    }
    void bf16MlpNearFused_data() {
        QTest::addColumn<bool>("tanhForm");
        QTest::addColumn<bool>("withBiasAndResidual");
        QTest::newRow("erf, biases, residual") << false << true;
        QTest::newRow("tanh, no biases, no residual") << true << false;
    }
    void bf16MlpNearFused() {
        // bf16GeluMlp is fusedGeluMlp with bf16 products: output and every gradient within bf16's
        // rounding of the fp32 one, and not equal to it (the bf16 path is taken).
        QFETCH(bool, tanhForm);
        QFETCH(bool, withBiasAndResidual);
        torch::manual_seed(9);
        const std::int64_t D = 48, F = 192;
        auto make = [](torch::IntArrayRef shape, double scale) { return (torch::randn(shape) * scale).requires_grad_(); };
        const auto x = make({3, 70, D}, 1.0), w1 = make({F, D}, 0.15), w2 = make({D, F}, 0.07);
        const auto b1 = withBiasAndResidual ? make({F}, 0.1) : torch::Tensor();
        const auto b2 = withBiasAndResidual ? make({D}, 0.1) : torch::Tensor();
        const auto res = withBiasAndResidual ? make({3, 70, D}, 1.0) : torch::Tensor();
        const auto g = torch::randn({3, 70, D});
        const GeluForm form = tanhForm ? GeluForm::Tanh : GeluForm::Erf;
        std::vector<torch::Tensor> inputs = {x, w1, w2};
        if (withBiasAndResidual) inputs.insert(inputs.end(), {b1, b2, res});
        const auto y32 = fusedGeluMlp(x, w1, b1, w2, b2, res, form);
        const auto g32 = torch::autograd::grad({y32}, inputs, {g});
        const auto y16 = bf16GeluMlp(x, w1, b1, w2, b2, res, form);
        const auto g16 = torch::autograd::grad({y16}, inputs, {g});
        const double rms = ((y16 - y32).norm() / y32.norm()).item<double>();
        qInfo("bf16 MLP: relative RMS error %.2e", rms);
        QVERIFY2(rms < 1e-2 && rms > 0, qPrintable(QString::number(rms)));
        for (std::size_t i = 0; i < g32.size(); ++i) {
            const double e = ((g16[i] - g32[i]).norm() / g32[i].norm()).item<double>();
            QVERIFY2(e < 2e-2, qPrintable(QString("gradient %1: relative error %2").arg(i).arg(e)));
        }
    }
    void bf16AttentionNearFused_data() {
        QTest::addColumn<int>("headDim");
        QTest::addColumn<bool>("causal");
        QTest::newRow("dh 32, encoder") << 32 << false;
        QTest::newRow("dh 96, encoder") << 96 << false;
        QTest::newRow("dh 32, causal") << 32 << true;
        QTest::newRow("dh 12, causal") << 12 << true;
    }
    void bf16AttentionNearFused() {
        // bf16SelfAttention is fusedSelfAttention with bf16 products: context, probabilities and
        // the gradient of qkv within bf16's rounding, not equal (the bf16 path is taken), and
        // causal probabilities exactly 0 above the diagonal.
        QFETCH(int, headDim);
        QFETCH(bool, causal);
        torch::manual_seed(17);
        const int64_t B = 3, T = 49, H = 2, D = H * headDim;
        const auto qkv = torch::randn({B, T, 3 * D}).requires_grad_();
        const auto g = torch::randn({B, T, D});
        const auto ref = fusedSelfAttention(qkv, H, causal);
        const auto dref = torch::autograd::grad({ref[0]}, {qkv}, {g})[0];
        const auto got = bf16SelfAttention(qkv, H, causal);
        const auto dgot = torch::autograd::grad({got[0]}, {qkv}, {g})[0];
        auto rel = [](const torch::Tensor& a, const torch::Tensor& b) { return ((a - b).norm() / b.norm()).item<double>(); };
        const double eo = rel(got[0], ref[0]), ep = rel(got[1], ref[1]), eg = rel(dgot, dref);
        qInfo("bf16 attention: relative RMS error context %.2e, probabilities %.2e, gradient %.2e", eo, ep, eg);
        QVERIFY2(eo < 2e-2 && ep < 2e-2 && eg < 3e-2 && eo > 0, qPrintable(QString("%1 %2 %3").arg(eo).arg(ep).arg(eg)));
        QVERIFY(torch::allclose(got[1].sum(-1), torch::ones({B, H, T}), 1e-5, 1e-5));
        if (causal) QCOMPARE(got[1].triu(1).abs().max().item<float>(), 0.0f);
    }
    void bf16NearFp32() {
        // train.precision = bf16 (precision.h): the linears from bf16 copies with fp32 accumulation.
        // Its outputs and gradients are those of fp32 within bf16's rounding (8 significant bits),
        // and differ from them (the path is taken). The same numerics natively or emulated.
        torch::manual_seed(23);
        BertDims d;
        d.width = 64;
        d.heads = 4;
        d.layers = 2;
        d.ffn = 128;
        BertEncoder model(d);
        const auto tokens = torch::randint(0, 2002, {8, 49}, torch::kInt64);
        const auto target = torch::randn({8, 49});
        auto run = [&](bool bf16, std::vector<torch::Tensor>& grads) {
            KernelOptions k;
            k.bf16 = bf16;
            model->setKernels(k);
            model->zero_grad();
            auto out = model->forward(tokens);
            torch::mse_loss(out.output, target).backward();
            grads.clear();
            for (const auto& p : model->parameters()) grads.push_back(p.grad().clone());
            return out.output.detach();
        };
        std::vector<torch::Tensor> g32, g16;
        const auto y32 = run(false, g32), y16 = run(true, g16);
        // The same tolerance as the decoders' (tst_decoder::bf16NearFp32): RMS <= 2 %, largest <= 5 %.
        const double scale = y32.abs().max().item<double>(), err = (y16 - y32).abs().max().item<double>();
        const double rms = ((y16 - y32).norm() / y32.norm()).item<double>();
        qInfo("bf16 output: relative RMS error %.2e, largest error %.2e of %.2f", rms, err, scale);
        QVERIFY2(rms < 2e-2 && err < 5e-2 * scale && err > 0, qPrintable(QString("output err %1 of %2, RMS %3").arg(err).arg(scale).arg(rms)));
        QVERIFY(bf16GradientsAgree(g16, g32));
        model->setKernels(KernelOptions{});
    }
    void gradientsMatchFiniteDifferences() {
        torch::manual_seed(11);
        BertDims d = tinyDims();
        d.width = 8;
        d.ffn = 12;
        BertEncoder model(d);
        model->to(torch::kFloat64);
        const auto tokens = torch::randint(1, 2002, {2, 4}, torch::kInt64);
        tokens[0][1] = 0;
        const auto target = torch::randn({2, 4}, torch::kFloat64);
        auto lossOf = [&] { return torch::mse_loss(model->forward(tokens).output, target); };
        model->zero_grad();
        lossOf().backward();
        const double h = 1e-6;
        int checked = 0;
        for (const auto& p : model->named_parameters()) {
            auto w = p.value();
            auto grad = w.grad();
            auto flat = w.data().view({-1});
            auto gflat = grad.view({-1});
            // A few entries per tensor, including ones that matter (word rows of used tokens).
            std::vector<std::int64_t> idx = {0, flat.numel() / 2, flat.numel() - 1};
            if (p.key() == "embeddings.word_embeddings.weight") idx = {tokens[0][0].item<std::int64_t>() * d.width + 3};
            for (std::int64_t i : idx) {
                const double orig = flat[i].item<double>();
                torch::NoGradGuard g;
                flat[i] = orig + h;
                const double lp = lossOf().item<double>();
                flat[i] = orig - h;
                const double lm = lossOf().item<double>();
                flat[i] = orig;
                const double numeric = (lp - lm) / (2 * h);
                const double analytic = gflat[i].item<double>();
                QVERIFY2(std::fabs(numeric - analytic) <= 1e-6 + 1e-4 * std::fabs(numeric),
                         qPrintable(QString("%1[%2]: numeric %3 analytic %4").arg(p.key().c_str()).arg(i)
                                        .arg(numeric).arg(analytic)));
                ++checked;
            }
        }
        QVERIFY(checked > 60);
        // The MASK row gets no gradient (padding index).
        for (const auto& p : model->named_parameters())
            if (p.key() == "embeddings.word_embeddings.weight")
                QCOMPARE(p.value().grad()[0].abs().max().item<double>(), 0.0);
    }
};

PLATEAU_TEST_MAIN(TestModel)
#include "tst_model.moc"
