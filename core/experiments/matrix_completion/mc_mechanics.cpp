// Matrix completion's analyses of the mechanism (issue 15; the paper's Sections 5-6 and the
// follow-up on representation collapse): linear probes of the hidden states (Fig 6), the
// embeddings (Fig 7), model switching, head mean-ablation and its per-head grid, activation
// patching (clean X against corrupted -X) and representation collapse. Each runs on the
// caller's thread with its own McExperiment(s), never the training thread's model.
#include <torch/torch.h>

#include "analysis/tensor_stats.h"
#include "experiments/matrix_completion/mc_analysis_util.h"
#include "experiments/matrix_completion/mc_tokens.h"
#include "rng.h"
#include "run/checkpoint.h"
#include "run/run_store.h"

#include <QFileInfo>

#include <algorithm>
#include <cmath>

namespace plateau {

using mcan::kNaN;

namespace {

// Fresh matrices of the run's task from the analysis stream (`salt` keeps analyses apart).
Batch freshBatch(const AnalysisRequest& q, int count, std::uint64_t salt) {
    return MatrixCompletionTask(mc::taskOf(q.config)).sample(count, std::uint64_t(q.params.i64("seed")), DataStream::Analysis, salt);
}

// The masked input with missing entries 0, as (B, n, n).
torch::Tensor maskedInput(const Batch& b, int n) {
    return b.target.masked_fill(b.mask, 0.0f).view({b.target.size(0), n, n});
}

// Fisher-Yates from a counter-based generator: the same permutation for the same (seed, k).
std::vector<std::int64_t> permutation(int T, std::uint64_t seed, std::uint64_t k) {
    std::vector<std::int64_t> p(static_cast<std::size_t>(T));
    for (int i = 0; i < T; ++i) p[std::size_t(i)] = i;
    CounterRng rng(seed, std::uint64_t(DataStream::Analysis), 5000011ULL + k);
    for (int i = T - 1; i > 0; --i) std::swap(p[std::size_t(i)], p[std::size_t(std::min<double>(i, std::floor(rng.uniform() * (i + 1))))]);
    return p;
}

// Which parameters model switching moves: 1 = attention (names with query/key/value, the
// paper's "att"), 2 = the rest (names without "attention": embeddings, FFN, norms, readout).
bool inPart(const std::string& name, int part) {
    if (part == 1) return name.find(".query.") != std::string::npos || name.find(".key.") != std::string::npos ||
                          name.find(".value.") != std::string::npos;
    return name.find("attention") == std::string::npos;
}

}  // namespace

namespace mcan {

// Probe targets of every token, (B, T, K): 0 element (K = 1), 1 row of the masked input
// (K = n), 2 the top left singular vector of X (K = n; sign: its entries sum to >= 0).
torch::Tensor probeTarget(int kind, const Batch& b, int n) {
    const auto B = b.target.size(0), T = b.target.size(1);
    if (kind == 0) return b.target.to(torch::kFloat64).unsqueeze(-1);
    if (kind == 1)
        return maskedInput(b, n).to(torch::kFloat64).view({B, n, 1, n}).expand({B, n, n, n}).reshape({B, T, n});
    const torch::Tensor x = b.target.to(torch::kFloat64).view({B, n, n});
    torch::Tensor u = std::get<0>(torch::linalg::svd(x, false, c10::nullopt)).select(2, 0);  // (B, n)
    u = u * torch::where(u.sum(1, true) < 0, -torch::ones({B, 1}, torch::kFloat64), torch::ones({B, 1}, torch::kFloat64));
    return u.unsqueeze(1).expand({B, T, n});
}

// Mean squared error of pred against y (B, T, K), over all tokens, masked ones and observed ones.
Split splitMse(const torch::Tensor& pred, const torch::Tensor& y, const torch::Tensor& mask) {
    const torch::Tensor e = (pred - y).square().mean(-1);  // (B, T)
    const torch::Tensor m = mask.to(torch::kFloat64);
    const double nm = m.sum().item<double>(), nt = double(m.numel());
    Split s;
    s.all = e.mean().item<double>();
    s.mask = nm > 0 ? (e * m).sum().item<double>() / nm : kNaN;
    s.obs = nt > nm ? (e * (1 - m)).sum().item<double>() / (nt - nm) : kNaN;
    return s;
}

}  // namespace mcan

using mcan::probeTarget;
using mcan::splitMse;
using mcan::Split;

// ---- 3. Linear probes (Fig 6) ---------------------------------------------------------------
Result<AnalysisResult> runMcProbes(const AnalysisRequest& q) {
    const auto t0 = std::chrono::steady_clock::now();
    auto made = mcan::experimentFor(q, "linear_probes");
    if (!made) return Error{made.error()};
    McExperiment& mc = *made.value();
    const ParamSet& p = q.params;
    const int n = mc::taskOf(q.config).n, L = mc.model()->dims().layers;
    const int fitN = p.i("fit_matrices"), testN = p.i("test_matrices"), chunk = 256;
    const Batch test = freshBatch(q, testN, 6000001);
    AnalysisResult r = mcan::newResult(q, "linear_probes");
    AnalysisTable t{"probes", {"step", "layer", "target", "train_mse", "test_mse", "test_mse_mask", "test_mse_obs", "mean_abs_cos"}, {}};
    mcan::Progress progress(q, double(q.steps.size()) * (double(fitN) / chunk + 1));
    torch::NoGradGuard noGrad;
    ForwardOptions hidden;
    hidden.hiddenStates = true;
    for (qint64 step : q.steps) {
        if (Status st = mcan::loadStep(mc, q, step); !st) return Error{st.error()};
        std::vector<LeastSquares> fits(std::size_t((L + 1) * 3));
        for (int first = 0; first < fitN; first += chunk) {
            const Batch b = freshBatch(q, std::min(chunk, fitN - first), 6000003 + std::uint64_t(first / chunk));
            const ForwardOutput fw = mc.model()->forward(b.tokens, hidden);
            for (int k = 0; k < 3; ++k) {
                const torch::Tensor y = probeTarget(k, b, n);
                for (int l = 0; l <= L; ++l) fits[std::size_t(l * 3 + k)].add(fw.hiddenStates[std::size_t(l)], y);
            }
            if (mcan::cancelled(q)) return mcan::cancelError("linear_probes");
            progress.tick();
        }
        const ForwardOutput fw = mc.model()->forward(test.tokens, hidden);
        for (int l = 0; l <= L; ++l)
            for (int k = 0; k < 3; ++k) {
                const LeastSquares& fit = fits[std::size_t(l * 3 + k)];
                const torch::Tensor w = fit.solve();
                const torch::Tensor h = fw.hiddenStates[std::size_t(l)].to(torch::kFloat64);
                const torch::Tensor pred = h.matmul(w);  // (B, T, K)
                const torch::Tensor y = probeTarget(k, test, n);
                const Split s = splitMse(pred, y, test.mask);
                t.rows.push_back({double(step), double(l), double(k), fit.mse(w), s.all, s.mask, s.obs,
                                  k == 0 ? kNaN : meanAbsCosine(pred, y)});
            }
        progress.tick();
    }
    r.tables.push_back(t);
    r.summary = QJsonObject{{"targets", "0 element (the entry's value), 1 row (the masked input's row, missing = 0), "
                                        "2 svd (top left singular vector of X, sign: sum >= 0)"},
                            {"layers", "0 = the embedding output, 1..L = after each layer"}};
    // Headline: the last step's best layer for the element at masked positions.
    double best = kNaN;
    int bestLayer = -1;
    for (const auto& row : t.rows)
        if (row[0] == double(q.steps.back()) && row[2] == 0 && (bestLayer < 0 || row[5] < best)) best = row[5], bestLayer = int(row[1]);
    r.summary["best_element_layer"] = bestLayer;
    r.summary["best_element_test_mse_mask"] = best;
    r.seconds = mcan::secondsSince(t0);
    return r;
}

// ---- 4. Embeddings (Fig 7) -------------------------------------------------------------------
Result<AnalysisResult> runMcEmbeddings(const AnalysisRequest& q) {
    const auto t0 = std::chrono::steady_clock::now();
    auto made = mcan::experimentFor(q, "embeddings");
    if (!made) return Error{made.error()};
    McExperiment& mc = *made.value();
    const ParamSet& p = q.params;
    const mc::TaskConfig task = mc::taskOf(q.config);
    const int n = task.n, T = task.seqLen();
    const double lo = p.d("value_min"), hi = p.d("value_max");
    if (hi <= lo) return Error{"--set: embeddings.value_max: must exceed value_min (" + QString::number(lo) + ")"};
    std::vector<std::int64_t> ids;
    std::vector<double> values;
    for (int k = tokens::valueToId(lo); k <= tokens::valueToId(hi); ++k) ids.push_back(k), values.push_back(tokens::idToValue(k));
    const torch::Tensor idT = torch::tensor(ids, torch::kInt64);
    const int perms = p.i("permutations");
    const Batch b = freshBatch(q, p.i("matrices"), 7000003);
    AnalysisResult r = mcan::newResult(q, "embeddings");
    AnalysisTable norms{"token_norm", {"step", "value", "norm"}, {}};
    AnalysisTable tokPca{"token_pca", {"step", "value", "pc1", "pc2"}, {}};
    AnalysisTable posPca{"position_pca", {"step", "position", "row", "column", "pc1", "pc2"}, {}};
    AnalysisTable permute{"permute", {"step", "permutation", "loss", "loss_obs", "loss_mask"}, {}};
    AnalysisTable explained{"explained", {"step", "token_pc1", "token_pc2", "position_pc1", "position_pc2"}, {}};
    AnalysisTable progressTable{"progress", {"step", "value", "pc1", "pc2"}, {}};
    mcan::Progress progress(q, double(q.steps.size()) * (perms + 2) + double(q.steps.size()));
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> tokenRows;  // each step's token embeddings, for "progress"
    for (qint64 step : q.steps) {
        if (Status st = mcan::loadStep(mc, q, step); !st) return Error{st.error()};
        const torch::Tensor wte = mc.model()->wordEmbeddings()->weight.index_select(0, idT).to(torch::kFloat64);
        tokenRows.push_back(wte);
        const torch::Tensor nrm = wte.norm(2, 1);
        const Principal tp = principalComponents(wte, 2);
        const torch::Tensor tproj = project(tp, wte);
        for (std::size_t i = 0; i < ids.size(); ++i) {
            norms.rows.push_back({double(step), values[i], nrm[std::int64_t(i)].item<double>()});
            tokPca.rows.push_back({double(step), values[i], tproj[std::int64_t(i)][0].item<double>(),
                                   tproj.size(1) > 1 ? tproj[std::int64_t(i)][1].item<double>() : kNaN});
        }
        torch::Tensor& wpe = mc.model()->positionEmbeddings()->weight;
        const torch::Tensor pos = wpe.slice(0, 0, T).to(torch::kFloat64);
        const Principal pp = principalComponents(pos, 2);
        const torch::Tensor pproj = project(pp, pos);
        for (int t = 0; t < T; ++t)
            posPca.rows.push_back({double(step), double(t), double(t / n), double(t % n), pproj[t][0].item<double>(),
                                   pproj.size(1) > 1 ? pproj[t][1].item<double>() : kNaN});
        explained.rows.push_back({double(step), tp.explained.at(0), tp.explained.size() > 1 ? tp.explained[1] : kNaN,
                                  pp.explained.at(0), pp.explained.size() > 1 ? pp.explained[1] : kNaN});
        progress.tick();
        // Position permutation: the first T rows shuffled, the loss measured, the rows put back.
        const LossParts base = mcan::lossesOf(mc, b);
        permute.rows.push_back({double(step), 0, base.loss, base.lossObs, base.lossMask});
        const torch::Tensor original = wpe.slice(0, 0, T).clone();
        for (int k = 1; k <= perms; ++k) {
            const auto perm = permutation(T, std::uint64_t(p.i64("seed")), std::uint64_t(k));
            wpe.slice(0, 0, T).copy_(original.index_select(0, torch::tensor(perm, torch::kInt64)));
            const LossParts lp = mcan::lossesOf(mc, b);
            permute.rows.push_back({double(step), double(k), lp.loss, lp.lossObs, lp.lossMask});
            progress.tick();
            if (mcan::cancelled(q)) {
                wpe.slice(0, 0, T).copy_(original);
                return mcan::cancelError("embeddings");
            }
        }
        wpe.slice(0, 0, T).copy_(original);
        progress.tick();
    }
    // "Progress": every step's token embeddings on the last step's principal components.
    const Principal last = principalComponents(tokenRows.back(), 2);
    for (std::size_t s = 0; s < q.steps.size(); ++s) {
        const torch::Tensor proj = project(last, tokenRows[s]);
        for (std::size_t i = 0; i < ids.size(); ++i)
            progressTable.rows.push_back({double(q.steps[s]), values[i], proj[std::int64_t(i)][0].item<double>(),
                                          proj.size(1) > 1 ? proj[std::int64_t(i)][1].item<double>() : kNaN});
        progress.tick();
    }
    r.tables = {norms, tokPca, posPca, explained, permute, progressTable};
    double permMean = 0;
    for (const auto& row : permute.rows)
        if (row[0] == double(q.steps.back()) && row[1] > 0) permMean += row[2] / perms;
    r.summary = QJsonObject{{"step", double(q.steps.back())},
                            {"token_pc1_explained", explained.rows.back()[1]},
                            {"loss", permute.rows[permute.rows.size() - std::size_t(perms) - 1][2]},
                            {"permuted_loss_mean", perms > 0 ? permMean : kNaN},
                            {"pca_sign", "each component's sign makes the last row's projection >= 0 (value_max; the last position)"}};
    r.seconds = mcan::secondsSince(t0);
    return r;
}

// ---- 5. Model switching ----------------------------------------------------------------------
Result<AnalysisResult> runMcSwitching(const AnalysisRequest& q) {
    const auto t0 = std::chrono::steady_clock::now();
    auto madeA = mcan::experimentFor(q, "model_switching");
    if (!madeA) return Error{madeA.error()};
    auto madeB = mcan::experimentFor(q, "model_switching");
    if (!madeB) return Error{madeB.error()};
    McExperiment& dst = *madeA.value();
    McExperiment& src = *madeB.value();
    const ParamSet& p = q.params;
    const QString sourceRun = p.s("source_run").isEmpty() ? q.runDir : p.s("source_run");
    qint64 sourceStep = p.i64("source_step");
    if (!QFileInfo(sourceRun + "/checkpoints").isDir())
        return Error{"--set: model_switching.source_run: " + sourceRun + " is not a run folder (no checkpoints/)"};
    if (sourceStep < 0) {
        const auto files = checkpointsIn(sourceRun);
        if (files.empty()) return Error{"--set: model_switching.source_run: " + sourceRun + ": no checkpoints"};
        sourceStep = files.back().step;
    }
    const QString sourcePath = checkpointPathIn(sourceRun, sourceStep);
    if (!QFileInfo::exists(sourcePath))
        return Error{"--set: model_switching.source_step: " + sourcePath + " does not exist"};
    std::vector<int> parts;
    if (p.b("attention")) parts.push_back(1);
    if (p.b("rest")) parts.push_back(2);
    if (parts.empty()) return Error{"--set: model_switching: nothing to switch (attention and rest both false)"};
    const Batch b = freshBatch(q, p.i("matrices"), 8000009);
    const bool otherRun = QFileInfo(sourceRun).absoluteFilePath() != QFileInfo(q.runDir).absoluteFilePath();
    AnalysisResult r = mcan::newResult(q, "model_switching");
    // direction: 0 = a checkpoint alone; +1 = the source's part into this run's checkpoint
    // (destination_step is this run's); -1 = this run's checkpoint's part into the source
    // (destination_step is the source's step, source_step this run's).
    AnalysisTable t{"switching", {"destination_step", "source_step", "direction", "swapped", "loss", "loss_obs", "loss_mask"}, {}};
    mcan::Progress progress(q, double(q.steps.size() * (1 + 2 * parts.size())));
    torch::NoGradGuard noGrad;
    // dst <- dstPath, then `part` of srcPath into it; its losses.
    auto evaluate = [&](const QString& dstPath, const QString& srcPath, int part) -> Result<LossParts> {
        auto a = loadModelWeights(dst, dstPath);
        if (!a) return Error{a.error()};
        if (part > 0) {
            auto c = loadModelWeights(src, srcPath);
            if (!c) return Error{c.error()};
            const auto from = src.model()->named_parameters();
            for (auto& item : dst.model()->named_parameters()) {
                if (!inPart(item.key(), part)) continue;
                const torch::Tensor* s = from.find(item.key());
                if (!s || s->sizes() != item.value().sizes())
                    return Error{srcPath + ": " + QString::fromStdString(item.key()) + ": missing or of another shape"};
                item.value().copy_(*s);
            }
        }
        return mcan::lossesOf(dst, b);
    };
    auto add = [&](qint64 dstStep, qint64 srcStep, int direction, int part, const Result<LossParts>& lp) -> Status {
        if (!lp) return Error{lp.error()};
        t.rows.push_back({double(dstStep), double(srcStep), double(direction), double(part), lp->loss, lp->lossObs, lp->lossMask});
        return Status::success();
    };
    if (Status st = add(sourceStep, sourceStep, 0, 0, evaluate(sourcePath, sourcePath, 0)); !st) return Error{st.error()};
    for (qint64 step : q.steps) {
        const QString path = checkpointPathIn(q.runDir, step);
        if (Status st = add(step, step, 0, 0, evaluate(path, path, 0)); !st) return Error{st.error()};
        progress.tick();
        for (int part : parts) {
            if (Status st = add(step, sourceStep, +1, part, evaluate(path, sourcePath, part)); !st) return Error{st.error()};
            if (Status st = add(sourceStep, step, -1, part, evaluate(sourcePath, path, part)); !st) return Error{st.error()};
            progress.tick(2);
            if (mcan::cancelled(q)) return mcan::cancelError("model_switching");
        }
    }
    r.tables.push_back(t);
    r.summary = QJsonObject{{"swapped", "0 none, 1 attention (query/key/value weights and biases), 2 the rest (every name without \"attention\")"},
                            {"source_run", sourceRun},
                            {"source_step", double(sourceStep)},
                            {"source_is_other_run", otherRun},
                            {"direction", "+1: the source's part into this run's checkpoint; -1: this run's part into the source; 0: alone"}};
    r.seconds = mcan::secondsSince(t0);
    return r;
}

// ---- 6. Head mean-ablation and the per-head grid ------------------------------------------
Result<AnalysisResult> runMcAblation(const AnalysisRequest& q) {
    const auto t0 = std::chrono::steady_clock::now();
    auto made = mcan::experimentFor(q, "head_ablation");
    if (!made) return Error{made.error()};
    McExperiment& mc = *made.value();
    const ParamSet& p = q.params;
    const int L = mc.model()->dims().layers, H = mc.model()->dims().heads;
    const HeadIntervention::Kind kind = an::ablationKind(p.s("kind"));
    auto chosen = an::parseHeads(p.s("heads"), L, H, kind);
    if (!chosen) return Error{chosen.error()};
    const bool grid = p.b("grid");
    if (chosen->empty() && !grid) return Error{"--set: head_ablation: nothing to do (heads empty and grid false)"};
    const Batch b = freshBatch(q, p.i("matrices"), 9000011);
    AnalysisResult r = mcan::newResult(q, "head_ablation");
    AnalysisTable set{"ablation", {"step", "loss", "loss_obs", "loss_mask", "base_loss", "base_loss_obs", "base_loss_mask"}, {}};
    AnalysisTable g{"grid", {"step", "layer", "head", "loss", "loss_obs", "loss_mask", "delta_loss", "delta_loss_mask"}, {}};
    mcan::Progress progress(q, double(q.steps.size()) * (1 + (chosen->empty() ? 0 : 1) + (grid ? L * H : 0)));
    for (qint64 step : q.steps) {
        if (Status st = mcan::loadStep(mc, q, step); !st) return Error{st.error()};
        const LossParts base = mcan::lossesOf(mc, b, {}, 0);
        progress.tick();
        if (!chosen->empty()) {
            ForwardOptions o;
            o.interventions = chosen.value();
            const LossParts lp = mcan::lossesOf(mc, b, o, 0);  // one pass: the mean is over the whole batch
            set.rows.push_back({double(step), lp.loss, lp.lossObs, lp.lossMask, base.loss, base.lossObs, base.lossMask});
            progress.tick();
        }
        if (grid)
            for (int l = 0; l < L; ++l)
                for (int h = 0; h < H; ++h) {
                    ForwardOptions o;
                    o.interventions = {{l, h, kind}};
                    const LossParts lp = mcan::lossesOf(mc, b, o, 0);
                    g.rows.push_back({double(step), double(l), double(h), lp.loss, lp.lossObs, lp.lossMask, lp.loss - base.loss,
                                      lp.lossMask - base.lossMask});
                    progress.tick();
                    if (mcan::cancelled(q)) return mcan::cancelError("head_ablation");
                }
    }
    if (!chosen->empty()) r.tables.push_back(set);
    if (grid) r.tables.push_back(g);
    r.summary = QJsonObject{{"kind", p.s("kind")}, {"heads_ablated", double(chosen->size())}};
    if (grid) {
        const std::vector<double>* worst = nullptr;
        for (const auto& row : g.rows)
            if (row[0] == double(q.steps.back()) && (!worst || row[6] > (*worst)[6])) worst = &row;
        if (worst)
            r.summary["most_important_head"] = QString("%1.%2").arg(int((*worst)[1])).arg(int((*worst)[2])),
            r.summary["most_important_delta_loss"] = (*worst)[6];
    }
    if (!set.rows.empty()) r.summary["ablated_loss"] = set.rows.back()[1], r.summary["base_loss"] = set.rows.back()[4];
    r.seconds = mcan::secondsSince(t0);
    return r;
}

// ---- 7. Activation patching ------------------------------------------------------------------
Result<AnalysisResult> runMcPatching(const AnalysisRequest& q) {
    const auto t0 = std::chrono::steady_clock::now();
    auto made = mcan::experimentFor(q, "activation_patching");
    if (!made) return Error{made.error()};
    McExperiment& mc = *made.value();
    const ParamSet& p = q.params;
    const int L = mc.model()->dims().layers, H = mc.model()->dims().heads;
    auto chosenLayers = an::patchLayers(p.list("layers"), L);
    if (!chosenLayers) return Error{chosenLayers.error()};
    const std::vector<int> layers = chosenLayers.value();
    const bool perHead = p.b("per_head");
    const Batch clean = freshBatch(q, p.i("matrices"), 10000019);
    // The corrupted input: -X with the same mask.
    Batch corrupt{clean.tokens.clone(), (-clean.target).contiguous(), clean.mask};
    {
        std::int64_t* tok = corrupt.tokens.data_ptr<std::int64_t>();
        const float* tgt = corrupt.target.data_ptr<float>();
        const bool* msk = corrupt.mask.data_ptr<bool>();
        for (std::int64_t i = 0; i < corrupt.tokens.numel(); ++i)
            if (!msk[i]) tok[i] = tokens::valueToId(tgt[i]);
    }
    AnalysisResult r = mcan::newResult(q, "activation_patching");
    const QStringList cols{"mse_to_corrupt_mask", "mse_to_corrupt_obs", "mse_to_clean_mask", "mse_to_clean_obs"};
    AnalysisTable baseline{"baseline", QStringList{"step", "input"} + cols, {}};
    AnalysisTable t{"patching", QStringList{"step", "layer", "head"} + cols, {}};
    mcan::Progress progress(q, double(q.steps.size() * layers.size() * (1 + (perHead ? H : 0))));
    torch::NoGradGuard noGrad;
    auto row = [&](const torch::Tensor& out) -> std::vector<double> {
        const LossParts toCorrupt = lossParts(out, corrupt), toClean = lossParts(out, clean);
        return {toCorrupt.lossMask, toCorrupt.lossObs, toClean.lossMask, toClean.lossObs};
    };
    for (qint64 step : q.steps) {
        if (Status st = mcan::loadStep(mc, q, step); !st) return Error{st.error()};
        ForwardOptions keep;
        keep.contexts = true;
        const ForwardOutput cleanRun = mc.model()->forward(clean.tokens, keep);
        const torch::Tensor corruptOut = mc.model()->forward(corrupt.tokens).output;
        for (int input = 0; input < 2; ++input) {
            std::vector<double> v{double(step), double(input)};
            const auto m = row(input == 0 ? cleanRun.output : corruptOut);
            v.insert(v.end(), m.begin(), m.end());
            baseline.rows.push_back(v);
        }
        for (int l : layers) {
            for (int h = -1; h < (perHead ? H : 0); ++h) {
                ForwardOptions o;
                o.patchContexts[l] = cleanRun.contexts[std::size_t(l)];
                if (h >= 0) o.patchHeads = {h};
                std::vector<double> v{double(step), double(l), double(h)};
                const auto m = row(mc.model()->forward(corrupt.tokens, o).output);
                v.insert(v.end(), m.begin(), m.end());
                t.rows.push_back(v);
                progress.tick();
                if (mcan::cancelled(q)) return mcan::cancelError("activation_patching");
            }
        }
    }
    r.tables = {baseline, t};
    r.summary = QJsonObject{{"input", "0 clean X, 1 corrupted -X (same mask)"}, {"head", "-1 = every head of the layer"}};
    for (const auto& v : t.rows)
        if (v[0] == double(q.steps.back()) && v[1] == double(layers.back()) && v[2] < 0)
            r.summary["last_layer_all_heads_mse_to_clean_mask"] = v[5], r.summary["last_layer_all_heads_mse_to_corrupt_mask"] = v[3];
    r.seconds = mcan::secondsSince(t0);
    return r;
}

// ---- 9. Representation collapse --------------------------------------------------------------
Result<AnalysisResult> runMcCollapse(const AnalysisRequest& q) {
    const auto t0 = std::chrono::steady_clock::now();
    auto made = mcan::experimentFor(q, "representation_collapse");
    if (!made) return Error{made.error()};
    McExperiment& mc = *made.value();
    const Batch b = freshBatch(q, q.params.i("matrices"), 11000027);
    const int L = mc.model()->dims().layers;
    AnalysisResult r = mcan::newResult(q, "representation_collapse");
    AnalysisTable t{"collapse", {"step", "layer", "mean_cosine"}, {}};
    mcan::Progress progress(q, double(q.steps.size()));
    torch::NoGradGuard noGrad;
    ForwardOptions hidden;
    hidden.hiddenStates = true;
    for (qint64 step : q.steps) {
        if (Status st = mcan::loadStep(mc, q, step); !st) return Error{st.error()};
        const ForwardOutput fw = mc.model()->forward(b.tokens, hidden);
        for (int l = 0; l <= L; ++l) t.rows.push_back({double(step), double(l), meanPairwiseCosine(fw.hiddenStates[std::size_t(l)])});
        progress.tick();
        if (mcan::cancelled(q)) return mcan::cancelError("representation_collapse");
    }
    r.tables.push_back(t);
    r.summary = QJsonObject{{"layers", "0 = the embedding output, 1..L = after each layer"},
                            {"last_layer_mean_cosine", t.rows.back()[2]}};
    r.seconds = mcan::secondsSince(t0);
    return r;
}

}  // namespace plateau
