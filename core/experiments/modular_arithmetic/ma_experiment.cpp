#include <torch/torch.h>

#include "experiments/modular_arithmetic/ma_experiment.h"

#include "rng.h"

#include <chrono>
#include <stdexcept>

namespace plateau {

namespace {

ma::TaskSet buildTasks(const RunConfig& cfg, const ma::Settings& s) {
    auto set = ma::buildTaskSet(s.spec, std::uint64_t(cfg.dataSeed()), "config");
    // validate() ran on this config before any experiment is built; this is the backstop.
    if (!set.ok()) throw std::runtime_error(set.error().toStdString());
    return std::move(set).value();
}

}  // namespace

ModularExperiment::ModularExperiment(const RunConfig& cfg)
    : Experiment(cfg), m_s(ma::settingsOf(cfg)), m_tasks(buildTasks(cfg, m_s)) {
    m_model = DecoderLM(ma::dimsOf(cfg));
    m_model->resetParameters(m_gen);
}

std::vector<NamedParameter> ModularExperiment::parameters() { return decoderParameters(*m_model); }

ModularBatch ModularExperiment::batch(const std::vector<ma::TaskVector>& tasks, const std::vector<int>& pairs,
                                      int size, DataStream stream, qint64 counter) const {
    const int E = m_s.spec.examples, L = ma::inputLength(E);
    ModularBatch r;
    r.input = torch::empty({size, L}, torch::kInt64);
    r.target = torch::empty({size, L}, torch::kInt64);
    r.zMask = torch::empty({L}, torch::kBool);
    auto* in = r.input.data_ptr<std::int64_t>();
    auto* tg = r.target.data_ptr<std::int64_t>();
    for (int i = 0; i < L; ++i) r.zMask[i] = ma::labelled(i);
    std::vector<int> tokens;
    for (int b = 0; b < size; ++b) {
        CounterRng rng(std::uint64_t(m_cfg.dataSeed()), std::uint64_t(stream),
                       std::uint64_t(counter) * 1000003ULL + std::uint64_t(b));
        tokens.clear();
        ma::appendSequence(tasks[std::size_t(b) % tasks.size()], pairs, m_s.spec.p, E, rng, tokens);
        for (int i = 0; i < L; ++i) {
            in[std::int64_t(b) * L + i] = tokens[std::size_t(i)];
            tg[std::int64_t(b) * L + i] = tokens[std::size_t(i + 1)];
        }
    }
    return r;
}

StepOutput ModularExperiment::trainStep(qint64 stepsDone) {
    const ModularBatch b = batch(m_tasks.id, m_tasks.trainPairs, m_s.batchSize, DataStream::Train, stepsDone);
    const torch::Tensor logits = m_model->forward(b.input).logits;  // (B, L, p)
    const torch::Tensor z = logits.index({torch::indexing::Slice(), b.zMask});  // (B, E, p)
    const torch::Tensor zt = b.target.index({torch::indexing::Slice(), b.zMask});
    StepOutput out;
    out.loss = torch::nn::functional::cross_entropy(z.reshape({-1, m_s.vocab()}), zt.reshape({-1}));
    out.values = emptyValues();
    out.values[Loss] = out.loss.item<double>();
    return out;
}

void ModularExperiment::evaluate(qint64 stepsDone, std::vector<double>& values) {
    torch::NoGradGuard noGrad;
    const std::vector<ma::TaskVector>* sets[4] = {&m_tasks.id, &m_tasks.id, &m_tasks.ood, &m_tasks.ood};
    const std::vector<int>* pairs[4] = {&m_tasks.trainPairs, &m_tasks.testPairs, &m_tasks.trainPairs, &m_tasks.testPairs};
    for (int k = 0; k < 4; ++k) {
        // Every task of the set equally often: the mean is the per-task average.
        const int size = int(sets[k]->size()) * m_s.evalSequencesPerTask;
        const ModularBatch b = batch(*sets[k], *pairs[k], size, DataStream::Eval, stepsDone * 4 + k);
        const torch::Tensor logits = m_model->forward(b.input).logits;
        const torch::Tensor right = logits.index({torch::indexing::Slice(), b.zMask}).argmax(-1).eq(
            b.target.index({torch::indexing::Slice(), b.zMask}));  // (B, E)
        values[std::size_t(FirstAcc + k)] = right.to(torch::kFloat64).mean().item<double>();
        values[std::size_t(FirstLastAcc + k)] = right.select(1, right.size(1) - 1).to(torch::kFloat64).mean().item<double>();
    }
}

void ModularExperiment::correctnessMaps(Snapshot& s) {
    // Items: two i.d. then two o.o.d. tasks (the first of each list); for each, one fixed context of
    // E - 1 examples from the train pairs (the probe stream) and then every (x, y) of Z_p^2 as the
    // query: the model's z, the truth, right or wrong, and which queries are test pairs.
    const int p = m_s.spec.p, K = std::max(1, m_s.spec.examples - 1), L = 3 * K + 2;
    const std::vector<ma::TaskVector> items = {m_tasks.id[0], m_tasks.id[1 % m_tasks.id.size()], m_tasks.ood[0],
                                               m_tasks.ood[1 % m_tasks.ood.size()]};
    const int I = int(items.size()), P2 = p * p;
    float* truth = s.addF32("matrices.truth", {I, p, p});
    float* pred = s.addF32("matrices.prediction", {I, p, p});
    float* correct = s.addF32("matrices.correct", {I, p, p});
    NamedArray& testMark = s.add("matrices.test_pair", ArrayType::U8, {I, p, p});
    std::vector<char> isTest(std::size_t(P2), 0);
    for (int i : m_tasks.testPairs) isTest[std::size_t(i)] = 1;
    double right[2] = {0, 0};
    std::vector<int> ctx;
    for (int it = 0; it < I; ++it) {
        CounterRng rng(std::uint64_t(m_cfg.dataSeed()), std::uint64_t(DataStream::Probe), 1000003ULL * 7 + std::uint64_t(it));
        ctx.clear();
        ma::appendSequence(items[std::size_t(it)], m_tasks.trainPairs, p, K, rng, ctx);
        torch::Tensor input = torch::empty({P2, L}, torch::kInt64);
        auto* in = input.data_ptr<std::int64_t>();
        for (int q = 0; q < P2; ++q) {
            for (int i = 0; i < 3 * K; ++i) in[std::int64_t(q) * L + i] = ctx[std::size_t(i)];
            in[std::int64_t(q) * L + 3 * K] = q / p;
            in[std::int64_t(q) * L + 3 * K + 1] = q % p;
        }
        const torch::Tensor z = m_model->forward(input).logits.select(1, L - 1).argmax(-1).contiguous();  // (p^2)
        const auto* zp = z.data_ptr<std::int64_t>();
        for (int q = 0; q < P2; ++q) {
            const std::size_t o = std::size_t(it) * std::size_t(P2) + std::size_t(q);
            truth[o] = float(ma::answer(items[std::size_t(it)], q / p, q % p, p));
            pred[o] = float(zp[q]);
            correct[o] = pred[o] == truth[o] ? 1.0f : 0.0f;
            testMark.u8[o] = std::uint8_t(isTest[std::size_t(q)]);
            right[it < 2 ? 0 : 1] += correct[o];
        }
    }
    s.scalars["map_acc_id"] = right[0] / (2.0 * P2);
    s.scalars["map_acc_ood"] = right[1] / (2.0 * P2);
}

SnapshotPtr ModularExperiment::snapshot(qint64 step, double timeS, const ProbeSpec&, bool saved) {
    const auto t0 = std::chrono::steady_clock::now();
    torch::NoGradGuard noGrad;
    const int B = std::max(1, m_cfg.train.probeSize);
    auto s = newSnapshot(step, timeS, saved, B);
    s->layout.kind = TokenLayout::Segments;
    for (int e = 0; e < m_s.spec.examples; ++e) {
        s->layout.segments.push_back({QString("x%1").arg(e + 1), 1, 0});
        s->layout.segments.push_back({QString("y%1").arg(e + 1), 1, 0});
        if (e + 1 < m_s.spec.examples) s->layout.segments.push_back({QString("z%1").arg(e + 1), 1, 0});
    }
    // The probe: o.o.d. tasks on test pairs, the generalisation the run is about.
    const ModularBatch b = batch(m_tasks.ood, m_tasks.testPairs, B, DataStream::Probe, 0);
    DecoderForwardOptions o;
    o.attentions = true;
    const DecoderForwardOutput fw = m_model->forward(b.input, o);
    addAttention(*s, fw.attentions);
    addDecoderHeadSpectra(*s, *m_model);
    correctnessMaps(*s);
    s->scalars["acc_ood_test"] = fw.logits.index({torch::indexing::Slice(), b.zMask}).argmax(-1)
                                     .eq(b.target.index({torch::indexing::Slice(), b.zMask}))
                                     .to(torch::kFloat64).mean().item<double>();
    s->buildMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return s;
}

}  // namespace plateau
