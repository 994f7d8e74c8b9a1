// The analyses of the mechanism on the decoder experiments (issue 15): linear probes, head
// ablation and its per-head grid, activation patching and representation collapse for the GPT
// matrix completion and associative recall, through DecoderLM's hooks (model/head_hooks.h).
// What differs between the two is a Subject: which positions are scored and in which groups,
// the corrupted input of patching, where probes read and what they predict. Each analysis runs
// on the caller's thread with its own experiment (its own model), never the training thread's.
//
// Choices (docs/analyses.md, "Decoder experiments"):
// - The loss is the next-token cross-entropy at the scored positions, with the greedy accuracy
//   (argmax = target) beside it. GPT matrix completion scores the answer half (the position
//   that predicts entry k of the full matrix), in two groups: entries observed in the prompt
//   ("obs") and masked ones ("mask"); associative recall scores the query position against the
//   query's true value (never the noisy training label).
// - Patching corrupts GPT matrix completion with -X (the same mask, prompt and teacher-forced
//   answer both negated: the paper's corruption), and associative recall by asking for another
//   key of the same context (the key of the next pair), so that both answers are in the context.
// - Probes read GPT matrix completion at the answer positions (the state that produces entry
//   k) with the encoder's targets (element, row of the masked input, top singular vector), and
//   associative recall at the query position with one-hot targets (its value, its key, the pair
//   that holds it), scored by argmax accuracy as well as MSE.
#include <torch/torch.h>

#include "analysis/analysis_util.h"
#include "analysis/tensor_stats.h"
#include "experiments/associative_recall/assoc_experiment.h"
#include "experiment.h"
#include "experiments/gpt_matrix_completion/gpt_mc_experiment.h"
#include "experiments/matrix_completion/mc_analysis_util.h"
#include "run/checkpoint.h"
#include "run/run_store.h"

#include <algorithm>
#include <cmath>
#include <memory>

namespace plateau {

using an::kNaN;

namespace {

// A scored batch of a decoder experiment.
struct LmBatch {
    torch::Tensor input;   // (B, T) int64: the model's input
    torch::Tensor target;  // (B, T) int64: the id to predict at each position (any valid id where unscored)
    torch::Tensor group;   // (B, T) int64: -1 unscored, else an index into Subject::groups()
    GptBatch gpt;          // the GPT matrix completion's sequences
    RecallBatch recall;    // associative recall's
    torch::Tensor slot;    // (B) int64, associative recall: the pair that holds the query's key
};

struct ProbeKind {
    QString name;
    bool oneHot;  // a class (scored by argmax accuracy) rather than a real vector (scored by |cosine|)
};

class Subject {
public:
    virtual ~Subject() = default;
    Experiment& experiment() { return *m_exp; }
    virtual DecoderLM& model() = 0;
    // Names of the scored groups; with more than one, tables have a column per group as well.
    virtual QStringList groups() const = 0;
    virtual LmBatch batch(int count, std::uint64_t seed, std::uint64_t salt) = 0;
    virtual LmBatch corrupt(const LmBatch& clean) = 0;
    virtual QString corruption() const = 0;
    virtual std::vector<ProbeKind> probeKinds() const = 0;
    virtual QString probeSites() const = 0;
    // The probed rows of one layer's hidden states (B, T, D): (M, D).
    virtual torch::Tensor probeRows(const torch::Tensor& hidden) const = 0;
    // Target `kind` of those rows: (M, K) float64.
    virtual torch::Tensor probeTarget(int kind, const LmBatch& b) const = 0;
    // (M) bool: the row's entry is masked (the encoder's split), or undefined when there is none.
    virtual torch::Tensor probeMasked(const LmBatch&) const { return {}; }

protected:
    std::unique_ptr<Experiment> m_exp;
};

class GptSubject : public Subject {
public:
    explicit GptSubject(std::unique_ptr<Experiment> e) {
        m_exp = std::move(e);
        m_e = static_cast<GptMcExperiment*>(m_exp.get());
        m_n = m_e->settings().n;
    }
    DecoderLM& model() override { return m_e->model(); }
    QStringList groups() const override { return {"obs", "mask"}; }
    LmBatch batch(int count, std::uint64_t seed, std::uint64_t salt) override {
        return scored(m_e->batch(count, DataStream::Analysis, qint64(salt), seed));
    }
    LmBatch corrupt(const LmBatch& clean) override { return scored(m_e->sequences(-clean.gpt.values, clean.gpt.observed)); }
    QString corruption() const override { return "-X with the same mask (prompt and teacher-forced answer negated)"; }
    std::vector<ProbeKind> probeKinds() const override { return {{"element", false}, {"row", false}, {"svd", false}}; }
    QString probeSites() const override { return "the answer positions: the state whose output is entry k of the full matrix"; }
    torch::Tensor probeRows(const torch::Tensor& hidden) const override {
        const int N = m_n * m_n;
        return hidden.slice(1, N, 2 * N).reshape({-1, hidden.size(2)});
    }
    torch::Tensor probeTarget(int kind, const LmBatch& b) const override {
        const Batch mb{torch::Tensor(), b.gpt.values, ~b.gpt.observed};
        const torch::Tensor y = mcan::probeTarget(kind, mb, m_n);  // (B, N, K)
        return y.reshape({-1, y.size(2)});
    }
    torch::Tensor probeMasked(const LmBatch& b) const override { return (~b.gpt.observed).reshape({-1}); }

private:
    LmBatch scored(const GptBatch& g) const {
        const int N = m_n * m_n;
        LmBatch b;
        b.gpt = g;
        b.input = g.seq.slice(1, 0, 2 * N);
        b.target = g.seq.slice(1, 1, 2 * N + 1);
        b.group = torch::full({g.seq.size(0), 2 * N}, -1, torch::kInt64);
        b.group.slice(1, N, 2 * N).copy_(torch::where(g.observed, torch::zeros({}, torch::kInt64), torch::ones({}, torch::kInt64)));
        return b;
    }
    GptMcExperiment* m_e = nullptr;
    int m_n = 0;
};

class RecallSubject : public Subject {
public:
    explicit RecallSubject(std::unique_ptr<Experiment> e) {
        m_exp = std::move(e);
        m_e = static_cast<AssocExperiment*>(m_exp.get());
    }
    DecoderLM& model() override { return m_e->model(); }
    QStringList groups() const override { return {"query"}; }
    LmBatch batch(int count, std::uint64_t seed, std::uint64_t salt) override {
        const RecallBatch r = m_e->batch(count, DataStream::Analysis, qint64(salt), false, seed);
        const int K = m_e->settings().pairs;
        torch::Tensor slot = torch::empty({count}, torch::kInt64);
        const auto* seq = r.seq.data_ptr<std::int64_t>();
        for (int b = 0; b < count; ++b) {
            const std::int64_t* row = seq + std::int64_t(b) * (2 * K + 1);
            std::int64_t s = 0;
            while (s < K - 1 && row[2 * s] != row[2 * K]) ++s;
            slot[b] = s;
        }
        return scored(r, r.clean, slot);
    }
    // The same context asked for the next pair's key: both answers are in the context.
    LmBatch corrupt(const LmBatch& clean) override {
        const int K = m_e->settings().pairs;
        RecallBatch r{clean.recall.seq.clone(), clean.recall.target.clone(), clean.recall.clean.clone()};
        torch::Tensor slot = (clean.slot + 1).remainder(K);
        auto* seq = r.seq.data_ptr<std::int64_t>();
        auto* value = r.clean.data_ptr<std::int64_t>();
        const auto* s = slot.data_ptr<std::int64_t>();
        for (std::int64_t b = 0; b < r.seq.size(0); ++b) {
            std::int64_t* row = seq + b * (2 * K + 1);
            row[2 * K] = row[2 * s[b]];
            value[b] = row[2 * s[b] + 1];
        }
        r.target.copy_(r.clean);
        return scored(r, r.clean, slot);
    }
    QString corruption() const override { return "the query asks for the next pair's key (slot + 1 mod K): another answer from the same context"; }
    std::vector<ProbeKind> probeKinds() const override { return {{"value", true}, {"key", true}, {"slot", true}}; }
    QString probeSites() const override { return "the query position (the last token)"; }
    torch::Tensor probeRows(const torch::Tensor& hidden) const override { return hidden.select(1, hidden.size(1) - 1); }
    torch::Tensor probeTarget(int kind, const LmBatch& b) const override {
        const assoc::Settings& s = m_e->settings();
        const int T = s.seqLen();
        if (kind == 0) return torch::one_hot(b.recall.clean - s.keys, s.values).to(torch::kFloat64);
        if (kind == 1) return torch::one_hot(b.recall.seq.select(1, T - 1), s.keys).to(torch::kFloat64);
        return torch::one_hot(b.slot, s.pairs).to(torch::kFloat64);
    }

private:
    LmBatch scored(const RecallBatch& r, const torch::Tensor& answer, const torch::Tensor& slot) const {
        const int T = m_e->settings().seqLen();
        LmBatch b;
        b.recall = r;
        b.slot = slot;
        b.input = r.seq;
        b.target = torch::zeros({r.seq.size(0), T}, torch::kInt64);
        b.target.select(1, T - 1).copy_(answer);
        b.group = torch::full({r.seq.size(0), T}, -1, torch::kInt64);
        b.group.select(1, T - 1).fill_(0);
        return b;
    }
    AssocExperiment* m_e = nullptr;
};

Result<std::unique_ptr<Subject>> subjectFor(const AnalysisRequest& q, const char* analysis) {
    auto made = makeExperiment(q.config);
    if (!made) return Error{made.error()};
    std::unique_ptr<Experiment> e = std::move(made.value());
    if (dynamic_cast<GptMcExperiment*>(e.get())) return std::unique_ptr<Subject>(new GptSubject(std::move(e)));
    if (dynamic_cast<AssocExperiment*>(e.get())) return std::unique_ptr<Subject>(new RecallSubject(std::move(e)));
    return Error{q.runDir + ": " + analysis + " has no decoder implementation for " + q.config.experiment + " runs"};
}

Status loadStep(Subject& s, const AnalysisRequest& q, qint64 step) { return an::loadStep(s.experiment(), q, step); }

// Cross-entropy and accuracy at the scored positions, overall and per group.
struct Score {
    double loss = kNaN, acc = kNaN;
    std::vector<double> groupLoss, groupAcc;
};
Score score(const torch::Tensor& logits, const LmBatch& b, int groups) {
    const torch::Tensor logp = torch::log_softmax(logits.to(torch::kFloat64), -1);
    const torch::Tensor nll = -logp.gather(-1, b.target.unsqueeze(-1)).squeeze(-1);  // (B, T)
    const torch::Tensor right = logits.argmax(-1).eq(b.target).to(torch::kFloat64);
    auto meanWhere = [](const torch::Tensor& v, const torch::Tensor& where) {
        const double n = where.sum().item<double>();
        return n > 0 ? (v * where).sum().item<double>() / n : kNaN;
    };
    Score s;
    const torch::Tensor any = b.group.ge(0).to(torch::kFloat64);
    s.loss = meanWhere(nll, any);
    s.acc = meanWhere(right, any);
    for (int g = 0; g < groups; ++g) {
        const torch::Tensor in = b.group.eq(g).to(torch::kFloat64);
        s.groupLoss.push_back(meanWhere(nll, in));
        s.groupAcc.push_back(meanWhere(right, in));
    }
    return s;
}

// Column names with a group suffix ("loss_obs") when there is more than one group.
QStringList perGroup(const QStringList& groups, const QString& base) {
    QStringList out;
    if (groups.size() > 1)
        for (const QString& g : groups) out << base + "_" + g;
    return out;
}
void appendPerGroup(std::vector<double>& row, const QStringList& groups, const std::vector<double>& values) {
    if (groups.size() > 1) row.insert(row.end(), values.begin(), values.end());
}

torch::Tensor logitsOf(Subject& s, const torch::Tensor& input, const DecoderForwardOptions& o = {}) {
    return s.model()->forward(input, o).logits;
}

}  // namespace

// ---- Linear probes ---------------------------------------------------------------------------
Result<AnalysisResult> runDecoderProbes(const AnalysisRequest& q) {
    const auto t0 = std::chrono::steady_clock::now();
    auto made = subjectFor(q, "linear_probes");
    if (!made) return Error{made.error()};
    Subject& s = *made.value();
    const ParamSet& p = q.params;
    const auto seed = std::uint64_t(p.i64("seed"));
    const int L = s.model()->dims().layers, fitN = p.i("fit_matrices"), testN = p.i("test_matrices"), chunk = 256;
    const std::vector<ProbeKind> kinds = s.probeKinds();
    const int K = int(kinds.size());
    const LmBatch test = s.batch(testN, seed, 6000001);
    const bool split = s.probeMasked(test).defined();
    bool anyVector = false, anyClass = false;
    for (const ProbeKind& k : kinds) (k.oneHot ? anyClass : anyVector) = true;
    QStringList cols{"step", "layer", "target", "train_mse", "test_mse"};
    if (split) cols << "test_mse_mask" << "test_mse_obs";
    if (anyVector) cols << "mean_abs_cos";
    if (anyClass) cols << "test_acc";
    AnalysisResult r = an::newResult(q, "linear_probes");
    AnalysisTable t{"probes", cols, {}};
    an::Progress progress(q, double(q.steps.size()) * (double(fitN) / chunk + 1));
    torch::NoGradGuard noGrad;
    DecoderForwardOptions hidden;
    hidden.hiddenStates = true;
    for (qint64 step : q.steps) {
        if (Status st = loadStep(s, q, step); !st) return Error{st.error()};
        std::vector<LeastSquares> fits(std::size_t((L + 1) * K));
        for (int first = 0; first < fitN; first += chunk) {
            const LmBatch b = s.batch(std::min(chunk, fitN - first), seed, 6000003 + std::uint64_t(first / chunk));
            const DecoderForwardOutput fw = s.model()->forward(b.input, hidden);
            for (int k = 0; k < K; ++k) {
                const torch::Tensor y = s.probeTarget(k, b);
                for (int l = 0; l <= L; ++l) fits[std::size_t(l * K + k)].add(s.probeRows(fw.hiddenStates[std::size_t(l)]), y);
            }
            if (an::cancelled(q)) return an::cancelError("linear_probes");
            progress.tick();
        }
        const DecoderForwardOutput fw = s.model()->forward(test.input, hidden);
        const torch::Tensor masked = split ? s.probeMasked(test) : torch::Tensor();
        for (int l = 0; l <= L; ++l) {
            const torch::Tensor h = s.probeRows(fw.hiddenStates[std::size_t(l)]).to(torch::kFloat64);
            for (int k = 0; k < K; ++k) {
                const LeastSquares& fit = fits[std::size_t(l * K + k)];
                const torch::Tensor w = fit.solve();
                const torch::Tensor pred = h.matmul(w), y = s.probeTarget(k, test);  // (M, K)
                std::vector<double> row{double(step), double(l), double(k), fit.mse(w)};
                if (split) {
                    const mcan::Split e = mcan::splitMse(pred.unsqueeze(0), y.unsqueeze(0), masked.unsqueeze(0));
                    row.insert(row.end(), {e.all, e.mask, e.obs});
                } else {
                    row.push_back((pred - y).square().mean().item<double>());
                }
                const bool vec = !kinds[std::size_t(k)].oneHot && y.size(1) > 1;
                if (anyVector) row.push_back(vec ? meanAbsCosine(pred, y) : kNaN);
                if (anyClass)
                    row.push_back(kinds[std::size_t(k)].oneHot ? pred.argmax(1).eq(y.argmax(1)).to(torch::kFloat64).mean().item<double>() : kNaN);
                t.rows.push_back(row);
            }
        }
        progress.tick();
    }
    QStringList names;
    for (int k = 0; k < K; ++k) names << QString("%1 %2").arg(k).arg(kinds[std::size_t(k)].name);
    r.summary = QJsonObject{{"targets", names.join(", ")},
                            {"sites", s.probeSites()},
                            {"layers", "0 = the embedding output, 1..L = after each block"}};
    // Headline: the last step's best layer for target 0 (lowest masked MSE, or highest accuracy).
    const int key = int(cols.indexOf(split ? "test_mse_mask" : (anyClass ? "test_acc" : "test_mse")));
    const bool higher = !split && anyClass;
    double best = kNaN;
    int bestLayer = -1;
    for (const auto& row : t.rows)
        if (row[0] == double(q.steps.back()) && row[2] == 0 &&
            (bestLayer < 0 || (higher ? row[std::size_t(key)] > best : row[std::size_t(key)] < best)))
            best = row[std::size_t(key)], bestLayer = int(row[1]);
    r.summary["best_target0_layer"] = bestLayer;
    r.summary[QString("best_target0_") + cols[key]] = best;
    r.tables.push_back(std::move(t));
    r.seconds = an::secondsSince(t0);
    return r;
}

// ---- Head ablation and the per-head grid -------------------------------------------------------
Result<AnalysisResult> runDecoderAblation(const AnalysisRequest& q) {
    const auto t0 = std::chrono::steady_clock::now();
    auto made = subjectFor(q, "head_ablation");
    if (!made) return Error{made.error()};
    Subject& s = *made.value();
    const ParamSet& p = q.params;
    const int L = s.model()->dims().layers, H = s.model()->dims().heads;
    const HeadIntervention::Kind kind = an::ablationKind(p.s("kind"));
    auto chosen = an::parseHeads(p.s("heads"), L, H, kind);
    if (!chosen) return Error{chosen.error()};
    const bool grid = p.b("grid");
    if (chosen->empty() && !grid) return Error{"--set: head_ablation: nothing to do (heads empty and grid false)"};
    const LmBatch b = s.batch(p.i("matrices"), std::uint64_t(p.i64("seed")), 9000011);
    const QStringList gs = s.groups();
    const int G = int(gs.size());
    const QStringList scoreCols = QStringList{"loss", "acc"} + perGroup(gs, "loss") + perGroup(gs, "acc");
    QStringList baseCols;
    for (const QString& c : scoreCols) baseCols << "base_" + c;
    AnalysisResult r = an::newResult(q, "head_ablation");
    AnalysisTable set{"ablation", QStringList{"step"} + scoreCols + baseCols, {}};
    AnalysisTable g{"grid", QStringList{"step", "layer", "head"} + scoreCols + QStringList{"delta_loss", "delta_acc"} + perGroup(gs, "delta_loss"), {}};
    auto values = [&](const Score& sc) {
        std::vector<double> v{sc.loss, sc.acc};
        appendPerGroup(v, gs, sc.groupLoss);
        appendPerGroup(v, gs, sc.groupAcc);
        return v;
    };
    an::Progress progress(q, double(q.steps.size()) * (1 + (chosen->empty() ? 0 : 1) + (grid ? L * H : 0)));
    torch::NoGradGuard noGrad;
    for (qint64 step : q.steps) {
        if (Status st = loadStep(s, q, step); !st) return Error{st.error()};
        const Score base = score(logitsOf(s, b.input), b, G);
        progress.tick();
        if (!chosen->empty()) {
            DecoderForwardOptions o;
            o.interventions = chosen.value();
            const Score sc = score(logitsOf(s, b.input, o), b, G);  // one pass: the mean is over the whole batch
            std::vector<double> row{double(step)};
            for (const auto& part : {values(sc), values(base)}) row.insert(row.end(), part.begin(), part.end());
            set.rows.push_back(row);
            progress.tick();
        }
        if (grid)
            for (int l = 0; l < L; ++l)
                for (int h = 0; h < H; ++h) {
                    DecoderForwardOptions o;
                    o.interventions = {{l, h, kind}};
                    const Score sc = score(logitsOf(s, b.input, o), b, G);
                    std::vector<double> row{double(step), double(l), double(h)};
                    const auto v = values(sc);
                    row.insert(row.end(), v.begin(), v.end());
                    row.push_back(sc.loss - base.loss);
                    row.push_back(sc.acc - base.acc);
                    if (G > 1)
                        for (int k = 0; k < G; ++k) row.push_back(sc.groupLoss[std::size_t(k)] - base.groupLoss[std::size_t(k)]);
                    g.rows.push_back(row);
                    progress.tick();
                    if (an::cancelled(q)) return an::cancelError("head_ablation");
                }
    }
    r.summary = QJsonObject{{"kind", p.s("kind")},
                            {"heads_ablated", double(chosen->size())},
                            {"loss", "next-token cross-entropy at the scored positions; acc: argmax = target"},
                            {"groups", gs.join(", ")}};
    if (grid) {
        const int dl = int(g.columns.indexOf("delta_loss"));
        const std::vector<double>* worst = nullptr;
        for (const auto& row : g.rows)
            if (row[0] == double(q.steps.back()) && (!worst || row[std::size_t(dl)] > (*worst)[std::size_t(dl)])) worst = &row;
        if (worst)
            r.summary["most_important_head"] = QString("%1.%2").arg(int((*worst)[1])).arg(int((*worst)[2])),
            r.summary["most_important_delta_loss"] = (*worst)[std::size_t(dl)];
    }
    if (!set.rows.empty())
        r.summary["ablated_loss"] = set.rows.back()[1], r.summary["base_loss"] = set.rows.back()[std::size_t(1 + scoreCols.size())];
    if (!chosen->empty()) r.tables.push_back(std::move(set));
    if (grid) r.tables.push_back(std::move(g));
    r.seconds = an::secondsSince(t0);
    return r;
}

// ---- Activation patching -----------------------------------------------------------------------
Result<AnalysisResult> runDecoderPatching(const AnalysisRequest& q) {
    const auto t0 = std::chrono::steady_clock::now();
    auto made = subjectFor(q, "activation_patching");
    if (!made) return Error{made.error()};
    Subject& s = *made.value();
    const ParamSet& p = q.params;
    const int L = s.model()->dims().layers, H = s.model()->dims().heads;
    auto chosenLayers = an::patchLayers(p.list("layers"), L);
    if (!chosenLayers) return Error{chosenLayers.error()};
    const std::vector<int> layers = chosenLayers.value();
    const bool perHead = p.b("per_head");
    const LmBatch clean = s.batch(p.i("matrices"), std::uint64_t(p.i64("seed")), 10000019);
    const LmBatch corrupt = s.corrupt(clean);
    const QStringList gs = s.groups();
    const int G = int(gs.size());
    auto names = [&](const QString& base) { return G > 1 ? perGroup(gs, base) : QStringList{base}; };
    const QStringList cols = names("ce_to_clean") + names("ce_to_corrupt") + names("acc_to_clean") + names("acc_to_corrupt");
    AnalysisResult r = an::newResult(q, "activation_patching");
    AnalysisTable baseline{"baseline", QStringList{"step", "input"} + cols, {}};
    AnalysisTable t{"patching", QStringList{"step", "layer", "head"} + cols, {}};
    an::Progress progress(q, double(q.steps.size() * layers.size() * (1 + (perHead ? H : 0))));
    torch::NoGradGuard noGrad;
    auto metrics = [&](const torch::Tensor& logits) {
        const Score toClean = score(logits, clean, G), toCorrupt = score(logits, corrupt, G);
        std::vector<double> v;
        auto add = [&](const Score& sc, bool acc) {
            if (G > 1) {
                const auto& part = acc ? sc.groupAcc : sc.groupLoss;
                v.insert(v.end(), part.begin(), part.end());
            } else {
                v.push_back(acc ? sc.acc : sc.loss);
            }
        };
        add(toClean, false), add(toCorrupt, false), add(toClean, true), add(toCorrupt, true);
        return v;
    };
    for (qint64 step : q.steps) {
        if (Status st = loadStep(s, q, step); !st) return Error{st.error()};
        DecoderForwardOptions keep;
        keep.contexts = true;
        const DecoderForwardOutput cleanRun = s.model()->forward(clean.input, keep);
        const torch::Tensor corruptLogits = logitsOf(s, corrupt.input);
        for (int input = 0; input < 2; ++input) {
            std::vector<double> v{double(step), double(input)};
            const auto m = metrics(input == 0 ? cleanRun.logits : corruptLogits);
            v.insert(v.end(), m.begin(), m.end());
            baseline.rows.push_back(v);
        }
        for (int l : layers)
            for (int h = -1; h < (perHead ? H : 0); ++h) {
                DecoderForwardOptions o;
                o.patchContexts[l] = cleanRun.contexts[std::size_t(l)];
                if (h >= 0) o.patchHeads = {h};
                std::vector<double> v{double(step), double(l), double(h)};
                const auto m = metrics(logitsOf(s, corrupt.input, o));
                v.insert(v.end(), m.begin(), m.end());
                t.rows.push_back(v);
                progress.tick();
                if (an::cancelled(q)) return an::cancelError("activation_patching");
            }
    }
    r.summary = QJsonObject{{"input", "0 clean, 1 corrupted"},
                            {"corruption", s.corruption()},
                            {"head", "-1 = every head of the layer"},
                            {"metrics", "cross-entropy and argmax accuracy of the (patched) corrupted run against the clean "
                                        "targets and the corrupted ones, at the scored positions"}};
    const QString key = G > 1 ? "acc_to_clean_" + gs.last() : "acc_to_clean";
    const int kc = int(t.columns.indexOf(key));
    for (const auto& v : t.rows)
        if (v[0] == double(q.steps.back()) && v[1] == double(layers.back()) && v[2] < 0)
            r.summary["last_layer_all_heads_" + key] = v[std::size_t(kc)];
    r.tables = {baseline, t};
    r.seconds = an::secondsSince(t0);
    return r;
}

// ---- Representation collapse -------------------------------------------------------------------
Result<AnalysisResult> runDecoderCollapse(const AnalysisRequest& q) {
    const auto t0 = std::chrono::steady_clock::now();
    auto made = subjectFor(q, "representation_collapse");
    if (!made) return Error{made.error()};
    Subject& s = *made.value();
    const LmBatch b = s.batch(q.params.i("matrices"), std::uint64_t(q.params.i64("seed")), 11000027);
    const int L = s.model()->dims().layers;
    AnalysisResult r = an::newResult(q, "representation_collapse");
    AnalysisTable t{"collapse", {"step", "layer", "mean_cosine"}, {}};
    an::Progress progress(q, double(q.steps.size()));
    torch::NoGradGuard noGrad;
    DecoderForwardOptions hidden;
    hidden.hiddenStates = true;
    for (qint64 step : q.steps) {
        if (Status st = loadStep(s, q, step); !st) return Error{st.error()};
        const DecoderForwardOutput fw = s.model()->forward(b.input, hidden);
        for (int l = 0; l <= L; ++l) t.rows.push_back({double(step), double(l), meanPairwiseCosine(fw.hiddenStates[std::size_t(l)])});
        progress.tick();
        if (an::cancelled(q)) return an::cancelError("representation_collapse");
    }
    r.summary = QJsonObject{{"layers", "0 = the embedding output, 1..L = after each block (before the final norm)"},
                            {"positions", "every input position of the sequence"},
                            {"last_layer_mean_cosine", t.rows.back()[2]}};
    r.tables.push_back(std::move(t));
    r.seconds = an::secondsSince(t0);
    return r;
}

}  // namespace plateau
