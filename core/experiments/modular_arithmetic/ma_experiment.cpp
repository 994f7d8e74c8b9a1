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

ModularExperiment::Forward ModularExperiment::modelForward() {
    return [this](const torch::Tensor& tokens, bool contexts) {
        DecoderForwardOptions o;
        o.contexts = contexts;
        return m_model->forward(tokens, o);
    };
}

std::vector<int> mapShots(int examples) {
    // 1, 2, 4, ... below the largest, then the largest (examples - 1): the maps' shot counts.
    const int K = std::max(1, examples - 1);
    std::vector<int> shots;
    for (int k = 1; k < K; k *= 2) shots.push_back(k);
    shots.push_back(K);
    return shots;
}

void ModularExperiment::kShotCurves(Snapshot& s, const Forward& forward) {
    // Accuracy of the z of example e (e examples before it in its context) over fresh sequences of
    // each set, the same sequences at every snapshot (the probe stream, counter by set).
    const int E = m_s.spec.examples;
    const std::vector<ma::TaskVector>* sets[4] = {&m_tasks.id, &m_tasks.id, &m_tasks.ood, &m_tasks.ood};
    const std::vector<int>* pairs[4] = {&m_tasks.trainPairs, &m_tasks.testPairs, &m_tasks.trainPairs, &m_tasks.testPairs};
    float* acc = s.addF32("kshot.acc", {4, E});
    float* shots = s.addF32("kshot.shots", {E});
    for (int e = 0; e < E; ++e) shots[e] = float(e);
    for (int k = 0; k < 4; ++k) {
        // Every task of the set equally often, at least kKShotSequences sequences.
        const int n = int(sets[k]->size());
        const int size = n * std::max(1, (ma::kKShotSequences + n - 1) / n);
        const ModularBatch b = batch(*sets[k], *pairs[k], size, DataStream::Probe, 1000 + k);
        const torch::Tensor right = forward(b.input, false).logits.index({torch::indexing::Slice(), b.zMask}).argmax(-1).eq(
            b.target.index({torch::indexing::Slice(), b.zMask}));  // (B, E)
        const torch::Tensor perShot = right.to(torch::kFloat32).mean(0).contiguous();
        std::copy_n(perShot.data_ptr<float>(), E, acc + std::size_t(k) * std::size_t(E));
    }
}

void ModularExperiment::correctnessMaps(Snapshot& s, const Forward& forward) {
    // Tasks: two i.d. then two o.o.d. (the first of each list); for each, one fixed context of
    // K = E - 1 examples from the train pairs (the probe stream); at each shot count k of
    // mapShots() its first k examples and then every (x, y) of Z_p^2 as the query: the model's z,
    // the truth, right or wrong, and which queries are test pairs. Items run task-major (task 1 at
    // every k, then task 2, ...). At k = K, for the first o.o.d. task, each head's output at the
    // query (its context vector, before the output projection) over all p^2 queries, projected on
    // its two principal components (pca.*).
    const int p = m_s.spec.p, K = std::max(1, m_s.spec.examples - 1), P2 = p * p;
    const std::vector<ma::TaskVector> tasks = {m_tasks.id[0], m_tasks.id[1 % m_tasks.id.size()], m_tasks.ood[0],
                                               m_tasks.ood[1 % m_tasks.ood.size()]};
    const std::vector<int> shots = mapShots(m_s.spec.examples);
    const int T = int(tasks.size()), S = int(shots.size()), I = T * S;
    float* truth = s.addF32("matrices.truth", {I, p, p});
    float* pred = s.addF32("matrices.prediction", {I, p, p});
    float* correct = s.addF32("matrices.correct", {I, p, p});
    NamedArray& testMark = s.add("matrices.test_pair", ArrayType::U8, {I, p, p});
    NamedArray& itemTask = s.add("maps.task", ArrayType::I32, {I});
    NamedArray& itemShots = s.add("maps.shots", ArrayType::I32, {I});
    float* mapAcc = s.addF32("maps.acc", {T, S});
    std::vector<char> isTest(std::size_t(P2), 0);
    for (int i : m_tasks.testPairs) isTest[std::size_t(i)] = 1;
    double right[2] = {0, 0};
    std::vector<int> ctx;
    for (int t = 0; t < T; ++t) {
        CounterRng rng(std::uint64_t(m_cfg.dataSeed()), std::uint64_t(DataStream::Probe), 1000003ULL * 7 + std::uint64_t(t));
        ctx.clear();
        ma::appendSequence(tasks[std::size_t(t)], m_tasks.trainPairs, p, K, rng, ctx);
        for (int si = 0; si < S; ++si) {
            const int k = shots[std::size_t(si)], L = 3 * k + 2, item = t * S + si;
            itemTask.i32[std::size_t(item)] = t + 1;
            itemShots.i32[std::size_t(item)] = k;
            torch::Tensor input = torch::empty({P2, L}, torch::kInt64);
            auto* in = input.data_ptr<std::int64_t>();
            for (int q = 0; q < P2; ++q) {
                for (int i = 0; i < 3 * k; ++i) in[std::int64_t(q) * L + i] = ctx[std::size_t(i)];
                in[std::int64_t(q) * L + 3 * k] = q / p;
                in[std::int64_t(q) * L + 3 * k + 1] = q % p;
            }
            const bool pca = t == 2 && k == K;
            const DecoderForwardOutput fw = forward(input, pca);
            const torch::Tensor z = fw.logits.select(1, L - 1).argmax(-1).contiguous();  // (p^2)
            const auto* zp = z.data_ptr<std::int64_t>();
            double itemRight = 0;
            for (int q = 0; q < P2; ++q) {
                const std::size_t at = std::size_t(item) * std::size_t(P2) + std::size_t(q);
                truth[at] = float(ma::answer(tasks[std::size_t(t)], q / p, q % p, p));
                pred[at] = float(zp[q]);
                correct[at] = pred[at] == truth[at] ? 1.0f : 0.0f;
                testMark.u8[at] = std::uint8_t(isTest[std::size_t(q)]);
                itemRight += correct[at];
            }
            mapAcc[t * S + si] = float(itemRight / P2);
            if (k == K) right[t < 2 ? 0 : 1] += itemRight;
            if (pca) headPca(s, fw.contexts, tasks[std::size_t(t)], pred + std::size_t(item) * std::size_t(P2));
        }
    }
    s.scalars["map_acc_id"] = right[0] / (2.0 * P2);
    s.scalars["map_acc_ood"] = right[1] / (2.0 * P2);
}

void ModularExperiment::headPca(Snapshot& s, const std::vector<torch::Tensor>& contexts, const ma::TaskVector& task,
                                const float* modelZ) {
    // Per head: its context vectors at the query position over the p^2 queries (rows), centred, and
    // their projections on the two leading right singular vectors; the share of the variance each
    // component explains. Colour values: x, y, the true z and the model's z of every query.
    const int p = m_s.spec.p, P2 = p * p, Ly = int(contexts.size());
    if (Ly == 0) return;
    const int H = int(contexts[0].size(1));
    float* points = s.addF32("pca.points", {Ly * H, P2, 2});
    float* explained = s.addF32("pca.explained", {Ly * H, 2});
    NamedArray& layer = s.add("pca.layer", ArrayType::I32, {Ly * H});
    NamedArray& head = s.add("pca.head", ArrayType::I32, {Ly * H});
    float* cx = s.addF32("pca.x", {P2});
    float* cy = s.addF32("pca.y", {P2});
    float* cz = s.addF32("pca.z", {P2});
    float* cm = s.addF32("pca.model_z", {P2});
    for (int q = 0; q < P2; ++q) {
        cx[q] = float(q / p);
        cy[q] = float(q % p);
        cz[q] = float(ma::answer(task, q / p, q % p, p));
        cm[q] = modelZ[q];
    }
    for (int l = 0; l < Ly; ++l)
        for (int h = 0; h < H; ++h) {
            const int item = l * H + h;
            layer.i32[std::size_t(item)] = l + 1;
            head.i32[std::size_t(item)] = h + 1;
            // (B, H, T, dh) -> the query position's vectors (p^2, dh), in float64 for the SVD.
            torch::Tensor v = contexts[std::size_t(l)].select(1, h).select(1, -1).to(torch::kFloat64);
            v = v - v.mean(0, true);
            const auto [u, sv, vh] = torch::linalg::svd(v, false, c10::nullopt);
            const torch::Tensor proj = v.matmul(vh.slice(0, 0, 2).transpose(0, 1)).to(torch::kFloat32).contiguous();  // (p^2, <=2)
            const int c = int(proj.size(1));
            const float* pp = proj.data_ptr<float>();
            for (int q = 0; q < P2; ++q)
                for (int j = 0; j < c; ++j) points[(std::size_t(item) * std::size_t(P2) + std::size_t(q)) * 2 + std::size_t(j)] = pp[q * c + j];
            const torch::Tensor var = sv.pow(2);
            const double total = var.sum().item<double>();
            for (int j = 0; j < c; ++j)
                explained[item * 2 + j] = total > 0 ? float(var[j].item<double>() / total) : 0.0f;
        }
}

SnapshotPtr ModularExperiment::snapshot(qint64 step, double timeS, const ProbeSpec&, bool saved) {
    const auto t0 = std::chrono::steady_clock::now();
    torch::NoGradGuard noGrad;
    const int B = std::max(1, m_cfg.train.probeSize);
    auto s = newSnapshot(step, timeS, saved, B);
    s->layout.kind = TokenLayout::Segments;
    for (int e = 0; e < m_s.spec.examples; ++e) {
        // One segment per example "x y z" (the last without its z): guides between examples.
        if (e + 1 < m_s.spec.examples)
            s->layout.segments.push_back({QString("x%1 y%1 z%1").arg(e + 1), 3, 0});
        else
            s->layout.segments.push_back({QString("x%1 y%1").arg(e + 1), 2, 0});
    }
    // The probe: o.o.d. tasks on test pairs, the generalisation the run is about.
    const ModularBatch b = batch(m_tasks.ood, m_tasks.testPairs, B, DataStream::Probe, 0);
    DecoderForwardOptions o;
    o.attentions = true;
    const DecoderForwardOutput fw = m_model->forward(b.input, o);
    addAttention(*s, fw.attentions);
    addDecoderHeadSpectra(*s, *m_model);
    correctnessMaps(*s, modelForward());
    kShotCurves(*s, modelForward());
    s->scalars["chance"] = 1.0 / m_s.spec.p;
    s->scalars["acc_ood_test"] = fw.logits.index({torch::indexing::Slice(), b.zMask}).argmax(-1)
                                     .eq(b.target.index({torch::indexing::Slice(), b.zMask}))
                                     .to(torch::kFloat64).mean().item<double>();
    s->buildMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return s;
}

}  // namespace plateau
