// The decoder family: every option combination the presets use against PyTorch fixtures
// (tests/python/make_decoder_fixtures.py), on the fast and the plain path; float64 finite-difference
// gradients; the fused causal kernel against LibTorch's ops, forward and backward; nanoGPT names;
// the parameter count; and the analysis hooks (head interventions, context patching).
#include <torch/torch.h>
#include <ATen/CPUGeneratorImpl.h>

#include "model/decoder_lm.h"
#include "test_bf16.h"
#include "test_main.h"

#include <QFile>

using namespace plateau;

namespace {
c10::impl::GenericDict loadFixture(const QString& variant) {
    QFile f(PLATEAU_SOURCE_DIR "/tests/fixtures/decoder_" + variant + ".pt");
    if (!f.open(QIODevice::ReadOnly)) qFatal("fixture %s missing", qPrintable(variant));
    const QByteArray bytes = f.readAll();
    return torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end())).toGenericDict();
}
DecoderDims dimsOf(const c10::impl::GenericDict& fx) {
    const auto dims = fx.at("dims").toGenericDict();
    const auto opts = fx.at("options").toGenericDict();
    auto i = [&](const char* k) { return int(dims.at(k).toInt()); };
    auto s = [&](const char* k) { return QString::fromStdString(opts.at(k).toStringRef()); };
    ParamSet p = ParamSet::defaults(decoderModelFields(DecoderDims{}));
    p.setRaw("layers", i("layers"));
    p.setRaw("heads", i("heads"));
    p.setRaw("width", i("width"));
    p.setRaw("ffn", i("ffn"));
    p.setRaw("positions", s("positions"));
    p.setRaw("norm", s("norm"));
    p.setRaw("final_norm", i("final_norm") != 0);
    p.setRaw("mlp", s("mlp"));
    p.setRaw("bias", i("bias") != 0);
    p.setRaw("tied_head", i("tied_head") != 0);
    p.setRaw("attention", s("attention"));
    return decoderDimsOf(p, i("vocab"), i("max_positions"));
}
// Copies the fixture's state dict into the model; every name must match both ways.
void loadState(DecoderLM& m, const c10::impl::GenericDict& fx) {
    const auto state = fx.at("model").toGenericDict();
    torch::NoGradGuard g;
    std::size_t matched = 0;
    for (const auto& p : m->named_parameters()) {
        if (!state.contains(p.key())) qFatal("fixture lacks %s", p.key().c_str());
        p.value().copy_(state.at(p.key()).toTensor());
        ++matched;
    }
    if (matched != std::size_t(state.size())) qFatal("fixture has %zu tensors, the model %zu", std::size_t(state.size()), matched);
}
double maxDiff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}
const QStringList kVariants{"gpt", "attention_only", "rotary_relu_tied", "linear", "post_gelu"};
}  // namespace

class TestDecoder : public QObject {
    Q_OBJECT
private slots:
    void forwardMatchesPyTorch_data() {
        QTest::addColumn<QString>("variant");
        QTest::addColumn<bool>("fast");
        for (const QString& v : kVariants) {
            QTest::newRow(qPrintable(v + " fast")) << v << true;
            QTest::newRow(qPrintable(v + " plain")) << v << false;
        }
    }
    void forwardMatchesPyTorch() {
        QFETCH(QString, variant);
        QFETCH(bool, fast);
        const auto fx = loadFixture(variant);
        DecoderLM m(dimsOf(fx));
        loadState(m, fx);
        m->setFastKernels(fast);
        torch::NoGradGuard g;
        const torch::Tensor tokens = fx.at("tokens").toTensor();
        DecoderForwardOptions o;
        const auto out = m->forward(tokens, o);
        const torch::Tensor want = fx.at("logits").toTensor();
        const double scale = std::max(1.0, want.abs().max().item<double>());  // no norms: logits can be large
        const double dl = maxDiff(out.logits, want);
        QVERIFY2(dl < 2e-4 * scale, qPrintable(QString("logits differ by %1 (largest %2)").arg(dl).arg(scale)));
        o.attentions = true;
        o.hiddenStates = true;
        const auto full = m->forward(tokens, o);
        QVERIFY(maxDiff(full.logits, out.logits) < 1e-6);  // asking for attentions changes nothing
        const torch::Tensor att = torch::stack(full.attentions), hid = torch::stack(full.hiddenStates);
        const torch::Tensor wantAtt = fx.at("attentions").toTensor(), wantHid = fx.at("hidden_states").toTensor();
        const double attScale = std::max(1.0, wantAtt.abs().max().item<double>());
        const double hidScale = std::max(1.0, wantHid.abs().max().item<double>());
        QVERIFY2(maxDiff(att, wantAtt) < 1e-4 * attScale, qPrintable(QString::number(maxDiff(att, wantAtt))));
        QVERIFY2(maxDiff(hid, wantHid) < 2e-4 * hidScale, qPrintable(QString::number(maxDiff(hid, wantHid))));
        // Causal: nothing above the diagonal.
        QCOMPARE(att.triu(1).abs().max().item<double>(), 0.0);
    }
    void gradientsMatchFiniteDifferences_data() {
        QTest::addColumn<QString>("variant");
        for (const QString& v : kVariants) QTest::newRow(qPrintable(v)) << v;
    }
    void gradientsMatchFiniteDifferences() {
        QFETCH(QString, variant);
        const auto fx = loadFixture(variant);
        DecoderLM m(dimsOf(fx));
        loadState(m, fx);
        m->to(torch::kFloat64);
        const torch::Tensor tokens = fx.at("tokens").toTensor();
        torch::manual_seed(3);
        const torch::Tensor w = torch::randn_like(m->forward(tokens).logits.detach());
        auto objective = [&] { return (m->forward(tokens).logits * w).sum(); };
        for (auto& p : m->parameters()) p.mutable_grad().reset();
        objective().backward();
        const double eps = 1e-6;
        int checked = 0;
        for (const auto& item : m->named_parameters()) {
            torch::Tensor p = item.value();
            const torch::Tensor grad = p.grad().reshape(-1);
            const auto flat = p.view(-1);
            for (std::int64_t k : {std::int64_t(0), p.numel() / 2, p.numel() - 1}) {
                torch::NoGradGuard ng;
                const double orig = flat[k].item<double>();
                flat[k] = orig + eps;
                const double up = objective().item<double>();
                flat[k] = orig - eps;
                const double down = objective().item<double>();
                flat[k] = orig;
                const double numeric = (up - down) / (2 * eps), analytic = grad[k].item<double>();
                QVERIFY2(std::abs(numeric - analytic) < 1e-6 * std::max(1.0, std::abs(numeric)),
                         qPrintable(QString("%1[%2]: numeric %3, autograd %4").arg(item.key().c_str()).arg(k)
                                        .arg(numeric, 0, 'g', 12).arg(analytic, 0, 'g', 12)));
                ++checked;
            }
        }
        QCOMPARE(checked, 3 * int(m->parameters().size()));
    }
    void fusedCausalKernelMatchesLibTorch_data() {
        QTest::addColumn<QString>("variant");
        QTest::newRow("gpt") << "gpt";
        QTest::newRow("rotary") << "rotary_relu_tied";
        QTest::newRow("attention only") << "attention_only";
    }
    void fusedCausalKernelMatchesLibTorch() {
        // The same model on the fast path (fused causal attention, oneDNN linears) and on LibTorch's
        // ops: the same logits and the same gradients.
        QFETCH(QString, variant);
        const auto fx = loadFixture(variant);
        DecoderLM fast(dimsOf(fx)), plain(dimsOf(fx));
        loadState(fast, fx);
        loadState(plain, fx);
        plain->setFastKernels(false);
        torch::manual_seed(5);
        const torch::Tensor tokens = torch::randint(0, fast->dims().vocabSize, {4, fast->dims().maxPositions});
        const torch::Tensor w = torch::randn({4, fast->dims().maxPositions, fast->dims().vocabSize});
        (fast->forward(tokens).logits * w).sum().backward();
        (plain->forward(tokens).logits * w).sum().backward();
        const auto pf = fast->named_parameters(), pp = plain->named_parameters();
        for (std::size_t i = 0; i < pf.size(); ++i) {
            const double scale = std::max(1e-3, pp[i].value().grad().abs().max().item<double>());
            const double d = maxDiff(pf[i].value().grad(), pp[i].value().grad());
            QVERIFY2(d < 1e-4 * scale, qPrintable(QString("%1: gradients differ by %2 (scale %3)").arg(pf[i].key().c_str()).arg(d).arg(scale)));
        }
    }
    void bf16NearFp32_data() {
        QTest::addColumn<QString>("variant");
        for (const QString& v : kVariants) QTest::newRow(qPrintable(v)) << v;
    }
    void bf16NearFp32() {
        // train.precision = bf16 on PyTorch's fixtures: logits within bf16's rounding of PyTorch's
        // fp32 ones, gradients pointing the same way; and not fp32's (the path is taken).
        QFETCH(QString, variant);
        const auto fx = loadFixture(variant);
        DecoderLM m(dimsOf(fx));
        loadState(m, fx);
        const torch::Tensor tokens = fx.at("tokens").toTensor();
        auto run = [&](bool bf16, std::vector<torch::Tensor>& grads) {
            m->setBf16(bf16);
            m->zero_grad();
            const torch::Tensor logits = m->forward(tokens).logits;
            logits.square().mean().backward();
            grads.clear();
            for (const auto& p : m->parameters()) grads.push_back(p.grad().clone());
            return logits.detach();
        };
        std::vector<torch::Tensor> g32, g16;
        const torch::Tensor y32 = run(false, g32), y16 = run(true, g16);
        const torch::Tensor want = fx.at("logits").toTensor();
        const double scale = std::max(1.0, want.abs().max().item<double>());
        // The stated tolerance: relative RMS error <= 2 %, largest error <= 5 % of the largest logit
        // (bf16 keeps 8 significant bits: 0.4 % per rounding, compounded through the layers).
        const double err = maxDiff(y16, want), rms = ((y16 - want).norm() / want.norm()).item<double>();
        qInfo("%s: bf16 logits: relative RMS error %.2e, largest error %.2e of %.2f", qPrintable(variant), rms, err, scale);
        QVERIFY2(rms < 2e-2 && err < 5e-2 * scale, qPrintable(QString("bf16 logits differ by %1 (largest %2), RMS %3").arg(err).arg(scale).arg(rms)));
        QVERIFY(maxDiff(y16, y32) > 0);
        QVERIFY(bf16GradientsAgree(g16, g32));
    }
    void nanoGptNames() {
        const auto fx = loadFixture("gpt");
        DecoderLM m(dimsOf(fx));
        QStringList names;
        for (const auto& p : m->named_parameters()) names << QString::fromStdString(p.key());
        for (const char* n : {"transformer.wte.weight", "transformer.wpe.weight", "transformer.h.0.ln_1.weight",
                              "transformer.h.0.attn.c_attn.weight", "transformer.h.0.attn.c_attn.bias",
                              "transformer.h.1.attn.c_proj.weight", "transformer.h.1.ln_2.bias",
                              "transformer.h.1.mlp.c_fc.weight", "transformer.h.1.mlp.c_proj.bias", "transformer.ln_f.weight",
                              "lm_head.weight"})
            QVERIFY2(names.contains(n), n);
        QVERIFY(!names.contains("lm_head.bias"));  // nanoGPT's head has no bias
        QCOMPARE(m->named_parameters()["transformer.h.0.attn.c_attn.weight"].sizes().vec(), (std::vector<std::int64_t>{48, 16}));
        DecoderLM tied(dimsOf(loadFixture("rotary_relu_tied")));
        QStringList tn;
        for (const auto& p : tied->named_parameters()) tn << QString::fromStdString(p.key());
        QVERIFY(!tn.contains("lm_head.weight") && !tn.contains("transformer.wpe.weight"));
        QVERIFY(!tn.contains("transformer.h.0.attn.c_attn.bias"));
    }
    void parameterCount_data() {
        QTest::addColumn<QString>("variant");
        for (const QString& v : kVariants) QTest::newRow(qPrintable(v)) << v;
    }
    void parameterCount() {
        QFETCH(QString, variant);
        const DecoderDims d = dimsOf(loadFixture(variant));
        DecoderLM m(d);
        std::int64_t n = 0;
        for (const auto& p : m->parameters()) n += p.numel();
        QCOMPARE(decoderParameterCount(d), n);
    }
    void initialisation() {
        // GPT's: N(0, 0.02) weights, residual projections N(0, 0.02 / sqrt(2 L)), zero biases, LN (1, 0),
        // from the generator given (the same generator state gives the same weights).
        DecoderDims d = dimsOf(loadFixture("gpt"));
        d.width = 256;
        d.ffn = 1024;
        d.heads = 2;
        d.layers = 2;
        d.vocabSize = 405;
        d.maxPositions = 99;
        DecoderLM a(d), b(d);
        torch::Generator g1 = at::make_generator<at::CPUGeneratorImpl>(11), g2 = at::make_generator<at::CPUGeneratorImpl>(11);
        a->resetParameters(g1);
        b->resetParameters(g2);
        for (std::size_t i = 0; i < a->parameters().size(); ++i) QVERIFY(torch::equal(a->parameters()[i], b->parameters()[i]));
        auto p = a->named_parameters();
        auto stdOf = [&](const char* n) { return p[n].std().item<double>(); };
        QVERIFY(std::abs(stdOf("transformer.h.0.attn.c_attn.weight") / 0.02 - 1) < 0.05);
        QVERIFY(std::abs(stdOf("transformer.h.0.mlp.c_fc.weight") / 0.02 - 1) < 0.05);
        QVERIFY(std::abs(stdOf("transformer.h.1.attn.c_proj.weight") / (0.02 / 2) - 1) < 0.05);
        QVERIFY(std::abs(stdOf("transformer.h.1.mlp.c_proj.weight") / (0.02 / 2) - 1) < 0.05);
        QVERIFY(std::abs(stdOf("lm_head.weight") / 0.02 - 1) < 0.05);
        QCOMPARE(p["transformer.h.0.attn.c_attn.bias"].abs().max().item<double>(), 0.0);
        QCOMPARE(p["transformer.ln_f.weight"].min().item<double>(), 1.0);
        QVERIFY(std::abs(stdOf("transformer.wte.weight") / 0.02 - 1) < 0.05);
        QCOMPARE(decoderParameterCount(d), std::int64_t(d.vocabSize) * 256 * 2 + 99 * 256 + 2 * 789760 + 512);
        // The embeddings' own std (PyTorch's nn.Embedding default 1), the Linears' unchanged.
        d.embeddingInitStd = 1.0;
        DecoderLM c(d);
        torch::Generator g3 = at::make_generator<at::CPUGeneratorImpl>(11);
        c->resetParameters(g3);
        auto pc = c->named_parameters();
        QVERIFY(std::abs(pc["transformer.wte.weight"].std().item<double>() - 1) < 0.05);
        QVERIFY(std::abs(pc["transformer.wpe.weight"].std().item<double>() - 1) < 0.05);
        QVERIFY(std::abs(pc["transformer.h.0.attn.c_attn.weight"].std().item<double>() / 0.02 - 1) < 0.05);
    }
    void hooks() {
        const auto fx = loadFixture("gpt");
        DecoderLM m(dimsOf(fx));
        loadState(m, fx);
        torch::NoGradGuard g;
        const torch::Tensor tokens = fx.at("tokens").toTensor();
        DecoderForwardOptions rec;
        rec.contexts = true;
        rec.attentions = true;
        const auto base = m->forward(tokens, rec);
        QCOMPARE(base.contexts.size(), std::size_t(2));
        QCOMPARE(base.contexts[1].sizes().vec(), (std::vector<std::int64_t>{3, 2, 9, 8}));
        // Patching a layer with its own contexts changes nothing; with another input's, the output moves.
        DecoderForwardOptions same;
        same.patchContexts[1] = base.contexts[1];
        QVERIFY(maxDiff(m->forward(tokens, same).logits, base.logits) < 1e-6);
        const torch::Tensor other = (tokens + 1).remainder(m->dims().vocabSize);
        const auto otherRun = m->forward(other, rec);
        DecoderForwardOptions patched;
        patched.patchContexts[1] = otherRun.contexts[1];
        patched.patchHeads = {1};
        patched.contexts = true;
        const auto p = m->forward(tokens, patched);
        QVERIFY(maxDiff(p.logits, base.logits) > 1e-3);
        QVERIFY(maxDiff(p.contexts[1].select(1, 1), otherRun.contexts[1].select(1, 1)) < 1e-7);  // head 1 replaced
        QVERIFY(maxDiff(p.contexts[1].select(1, 0), base.contexts[1].select(1, 0)) < 1e-7);      // head 0 kept
        // Mean-ablation: the head's probabilities become their batch mean; zeroing removes it.
        DecoderForwardOptions ablate;
        ablate.attentions = true;
        ablate.interventions = {{1, 0, HeadIntervention::Kind::MeanProbs}};
        const auto a = m->forward(tokens, ablate);
        const torch::Tensor mean = base.attentions[1].select(1, 0).mean(0);
        // (layer 0 took the fast path here and the plain one in `base`: float32 rounding apart)
        for (int b = 0; b < 3; ++b) QVERIFY(maxDiff(a.attentions[1][b][0], mean) < 1e-5);
        QVERIFY(maxDiff(a.attentions[1].select(1, 1), base.attentions[1].select(1, 1)) < 1e-5);
        QVERIFY(maxDiff(a.logits, base.logits) > 1e-4);
        DecoderForwardOptions zero;
        zero.interventions = {{0, 1, HeadIntervention::Kind::Zero}};
        QVERIFY(maxDiff(m->forward(tokens, zero).logits, base.logits) > 1e-4);
        DecoderForwardOptions uniform;
        uniform.attentions = true;
        uniform.interventions = {{0, 0, HeadIntervention::Kind::UniformProbs}};
        const auto u = m->forward(tokens, uniform);
        QVERIFY(std::abs(u.attentions[0][0][0][4][2].item<double>() - 0.2) < 1e-7);  // query 4 sees 5 keys
    }
};

PLATEAU_TEST_MAIN(TestDecoder)
#include "tst_decoder.moc"
