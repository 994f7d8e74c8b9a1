// Matrix completion's analyses (issue 15): the nuclear-norm baseline (the paper's Fig 3) and the
// copying test (Table 1). Each runs on
// the caller's thread with its own McExperiment (its own model and generator), never the
// training thread's.
#include <torch/torch.h>

#include "analysis/analysis.h"
#include "analysis/nuclear_norm.h"
#include "experiments/matrix_completion/mc_analysis_util.h"
#include "experiments/matrix_completion/mc_experiment.h"
#include "experiments/matrix_completion/mc_tokens.h"
#include "rng.h"
#include "run/checkpoint.h"
#include "run/run_store.h"

#include <QThread>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

namespace plateau {

namespace mcan {

Result<std::unique_ptr<McExperiment>> experimentFor(const AnalysisRequest& q, const char* analysis) {
    auto made = makeExperiment(q.config);
    if (!made) return Error{made.error()};
    if (!dynamic_cast<McExperiment*>(made.value().get()))
        return Error{q.runDir + ": " + analysis + " applies to matrix_completion runs, not " + q.config.experiment};
    return std::unique_ptr<McExperiment>(static_cast<McExperiment*>(made.value().release()));
}

torch::Tensor forwardOutput(McExperiment& mc, const torch::Tensor& tokens, const ForwardOptions& o, int chunk) {
    torch::NoGradGuard noGrad;
    const auto B = tokens.size(0);
    if (chunk <= 0 || B <= chunk) return mc.model()->forward(tokens, o).output.contiguous();
    std::vector<torch::Tensor> parts;
    for (std::int64_t first = 0; first < B; first += chunk)
        parts.push_back(mc.model()->forward(tokens.narrow(0, first, std::min<std::int64_t>(chunk, B - first)), o).output);
    return torch::cat(parts, 0).contiguous();
}

LossParts lossesOf(McExperiment& mc, const Batch& b, const ForwardOptions& o, int chunk) {
    return lossParts(forwardOutput(mc, b.tokens, o, chunk), b);
}

}  // namespace mcan

namespace {

using mcan::kNaN;

struct SolveTotals {
    double sq = 0, sqMask = 0, sqObs = 0, nuclear = 0, truthNuclear = 0;
    std::int64_t entries = 0, masked = 0, capped = 0, matrices = 0;
    void add(const SolveTotals& o) {
        sq += o.sq, sqMask += o.sqMask, sqObs += o.sqObs, nuclear += o.nuclear, truthNuclear += o.truthNuclear;
        entries += o.entries, masked += o.masked, capped += o.capped, matrices += o.matrices;
    }
    double mse() const { return entries ? sq / double(entries) : kNaN; }
    double mseMask() const { return masked ? sqMask / double(masked) : kNaN; }
    double mseObs() const { return entries > masked ? sqObs / double(entries - masked) : kNaN; }
};

// Nuclear-norm completion of every matrix of a batch (lambda < 0: the exact form), split over
// the machine's cores; each thread sums its own totals.
SolveTotals solveBatch(const Batch& b, int n, double lambda, const NuclearNormOptions& opt, const AnalysisRequest& q) {
    const std::atomic<bool>* cancel = q.cancel;
    const int B = int(b.target.size(0)), T = n * n;
    const float* target = b.target.data_ptr<float>();
    const bool* mask = b.mask.data_ptr<bool>();
    const int threads = std::max(1, std::min(B, q.threads > 0 ? q.threads : QThread::idealThreadCount()));
    std::vector<SolveTotals> parts(static_cast<std::size_t>(threads));
    auto work = [&](int t) {
        SolveTotals& s = parts[std::size_t(t)];
        for (int i = t; i < B; i += threads) {
            if (cancel && cancel->load()) return;
            Eigen::MatrixXd a(n, n);
            ObservedMask obs(n, n);
            for (int r = 0; r < n; ++r)
                for (int c = 0; c < n; ++c) {
                    a(r, c) = target[std::int64_t(i) * T + r * n + c];
                    obs(r, c) = !mask[std::int64_t(i) * T + r * n + c];
                }
            const NuclearNormResult res = lambda < 0 ? completeExact(a, obs, opt) : completeRegularised(a, obs, lambda, opt);
            const Eigen::ArrayXXd d2 = (res.x - a).array().square();
            s.sq += d2.sum();
            s.sqMask += (!obs).select(d2, 0.0).sum();
            s.sqObs += obs.select(d2, 0.0).sum();
            s.entries += T;
            s.masked += (!obs).count();
            s.nuclear += res.nuclearNorm;
            s.truthNuclear += nuclearNorm(a);
            s.capped += res.converged ? 0 : 1;
            ++s.matrices;
        }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
    work(0);
    for (std::thread& th : pool) th.join();
    SolveTotals total;
    for (const SolveTotals& p : parts) total.add(p);
    return total;
}

}  // namespace

Result<AnalysisResult> runMcNuclearNorm(const AnalysisRequest& q) {
    const auto t0 = std::chrono::steady_clock::now();
    auto made = mcan::experimentFor(q, "nuclear_norm");
    if (!made) return Error{made.error()};
    McExperiment* mc = made->get();
    const ParamSet& p = q.params;
    const int N = p.i("matrices"), NReg = p.i("regularised_matrices");
    const std::vector<double> pMasks = p.list("p_masks"), lambdas = p.list("lambdas");
    NuclearNormOptions opt;
    opt.tolerance = p.d("tolerance");
    opt.maxIterations = p.i("max_iterations");
    const std::uint64_t seed = std::uint64_t(p.i64("seed"));
    const mc::TaskConfig base = mc::taskOf(q.config);
    const int n = base.n;
    auto taskAt = [&](double pMask) {
        mc::TaskConfig t = base;
        t.pMask = pMask;
        return MatrixCompletionTask(t);
    };
    auto cancelled = [&] { return q.cancel && q.cancel->load(); };
    const double total = double(pMasks.size() * (q.steps.size() + 1) + (NReg > 0 ? lambdas.size() : 0));
    double done = 0;
    auto tick = [&] {
        done += 1;
        if (q.progress) q.progress(std::min(1.0, done / total));
    };

    // The baseline does not depend on the checkpoint: once per p_mask, on the batch the model sees.
    std::vector<Batch> batches;
    std::vector<SolveTotals> nuclear;
    for (std::size_t k = 0; k < pMasks.size(); ++k) {
        batches.push_back(taskAt(pMasks[k]).sample(N, seed, DataStream::Analysis, k));
        nuclear.push_back(solveBatch(batches.back(), n, -1.0, opt, q));
        if (cancelled()) return Error{"nuclear_norm: cancelled"};
        tick();
    }
    AnalysisResult r;
    r.analysis = "nuclear_norm";
    r.params = p.json();
    r.steps = q.steps;
    AnalysisTable sweep{"sweep",
                        {"step", "p_mask", "model_mse", "model_mse_obs", "model_mse_mask", "nuclear_mse", "nuclear_mse_mask",
                         "nuclear_norm", "truth_nuclear_norm", "capped_solves"},
                        {}};
    torch::NoGradGuard noGrad;
    for (qint64 step : q.steps) {
        if (Status st = mcan::loadStep(*mc, q, step); !st) return Error{st.error()};
        for (std::size_t k = 0; k < pMasks.size(); ++k) {
            const LossParts lp = mcan::lossesOf(*mc, batches[k]);
            if (cancelled()) return Error{"nuclear_norm: cancelled"};
            const SolveTotals& s = nuclear[k];
            sweep.rows.push_back({double(step), pMasks[k], lp.loss, lp.lossObs, lp.lossMask, s.mse(), s.mseMask(), s.nuclear / double(s.matrices),
                                  s.truthNuclear / double(s.matrices), double(s.capped)});
            tick();
        }
    }
    r.tables.push_back(sweep);

    AnalysisTable reg{"regularised", {"lambda", "mse_obs", "mse_mask", "mse", "nuclear_norm", "capped_solves"}, {}};
    if (NReg > 0) {
        const Batch b = taskAt(base.pMask).sample(NReg, seed, DataStream::Analysis, 1000003);
        for (double lambda : lambdas) {
            const SolveTotals s = solveBatch(b, n, lambda, opt, q);
            if (cancelled()) return Error{"nuclear_norm: cancelled"};
            reg.rows.push_back({lambda, s.mseObs(), s.mseMask(), s.mse(), s.nuclear / double(s.matrices), double(s.capped)});
            tick();
        }
    }
    r.tables.push_back(reg);

    // Headline: at the run's own p_mask (if in the sweep) and the last step.
    for (const auto& row : sweep.rows)
        if (row[0] == double(q.steps.back()) && std::abs(row[1] - base.pMask) < 1e-9)
            r.summary = QJsonObject{{"step", row[0]}, {"p_mask", row[1]}, {"model_mse", row[2]}, {"nuclear_mse", row[5]},
                                    {"model_over_nuclear", row[2] / row[5]}};
    std::int64_t capped = 0;
    for (const SolveTotals& s : nuclear) capped += s.capped;
    r.summary["capped_exact_solves"] = double(capped);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

Result<AnalysisResult> runMcCopyTest(const AnalysisRequest& q) {
    const auto t0 = std::chrono::steady_clock::now();
    auto made = mcan::experimentFor(q, "copy_test");
    if (!made) return Error{made.error()};
    McExperiment* mc = made->get();
    const ParamSet& p = q.params;
    const int N = p.i("matrices");
    const mc::TaskConfig task = mc::taskOf(q.config);
    const int T = task.seqLen();
    Batch b = MatrixCompletionTask(task).sample(N, std::uint64_t(p.i64("seed")), DataStream::Analysis, 2000003);
    if (p.b("full_rank")) {  // every entry i.i.d. U[-1, 1] (rounded), the same masks
        float* tgt = b.target.data_ptr<float>();
        std::int64_t* tok = b.tokens.data_ptr<std::int64_t>();
        const bool* msk = b.mask.data_ptr<bool>();
        for (int i = 0; i < N; ++i) {
            CounterRng rng(std::uint64_t(p.i64("seed")), std::uint64_t(DataStream::Analysis), 3000017ULL * 1000003ULL + std::uint64_t(i));
            for (int t = 0; t < T; ++t) {
                const double x = tokens::round2(rng.uniform(-1.0, 1.0));
                tgt[std::int64_t(i) * T + t] = float(x);
                if (!msk[std::int64_t(i) * T + t]) tok[std::int64_t(i) * T + t] = tokens::valueToId(x);
            }
        }
    }
    // The variants: each constant's token at the masked positions, and (if asked) MASK itself.
    struct Variant {
        double constant;  // what "copying" would output at masked entries
        bool maskToken;
    };
    std::vector<Variant> variants;
    for (double c : p.list("constants")) variants.push_back({tokens::round2(c), false});
    if (p.b("mask_token")) variants.push_back({0.0, true});
    if (variants.empty()) return Error{"--set: copy_test: no variant (constants empty and mask_token false)"};
    AnalysisResult r;
    r.analysis = "copy_test";
    r.params = p.json();
    r.steps = q.steps;
    AnalysisTable table{"copying", {"step", "constant", "mask_token", "loss_obs", "loss_mask", "replace_loss"}, {}};
    torch::NoGradGuard noGrad;
    const bool* msk = b.mask.data_ptr<bool>();
    const float* tgt = b.target.data_ptr<float>();
    double done = 0;
    for (qint64 step : q.steps) {
        auto loaded = loadModelWeights(*mc, checkpointPathIn(q.runDir, step));
        if (!loaded) return Error{loaded.error()};
        for (const Variant& v : variants) {
            torch::Tensor tokensIn = b.tokens.clone();
            if (!v.maskToken) tokensIn.masked_fill_(b.mask, std::int64_t(tokens::valueToId(v.constant)));
            double sqObs = 0, sqMask = 0, sqRep = 0;
            std::int64_t nObs = 0, nMask = 0;
            for (int first = 0; first < N; first += 256) {
                const int len = std::min(256, N - first);
                const torch::Tensor out = mc->model()->forward(tokensIn.narrow(0, first, len)).output.contiguous();
                const float* o = out.data_ptr<float>();
                for (std::int64_t k = 0; k < std::int64_t(len) * T; ++k) {
                    const std::int64_t g = std::int64_t(first) * T + k;
                    const double d = double(o[k]) - double(tgt[g]);
                    if (msk[g]) {
                        sqMask += d * d;
                        sqRep += (double(o[k]) - v.constant) * (double(o[k]) - v.constant);
                        ++nMask;
                    } else {
                        sqObs += d * d;
                        ++nObs;
                    }
                }
                if (q.cancel && q.cancel->load()) return Error{"copy_test: cancelled"};
            }
            table.rows.push_back({double(step), v.maskToken ? kNaN : v.constant, v.maskToken ? 1.0 : 0.0,
                                  nObs ? sqObs / double(nObs) : kNaN, nMask ? sqMask / double(nMask) : kNaN,
                                  nMask ? sqRep / double(nMask) : kNaN});
            done += 1;
            if (q.progress) q.progress(done / double(q.steps.size() * variants.size()));
        }
    }
    r.tables.push_back(table);
    const auto& first = table.rows[table.rows.size() - variants.size()];  // the last step's first variant
    r.summary = QJsonObject{{"step", first[0]}, {"replace_loss", first[5]}, {"loss_mask", first[4]},
                            {"replace_over_mask", first[5] / first[4]}};
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

Result<AnalysisResult> runMcOod(const AnalysisRequest& q) {
    const auto t0 = std::chrono::steady_clock::now();
    auto made = mcan::experimentFor(q, "ood");
    if (!made) return Error{made.error()};
    McExperiment* mc = made->get();
    const ParamSet& p = q.params;
    const mc::TaskConfig base = mc::taskOf(q.config);
    const QStringList known{"uniform", "gaussian", "laplace"};
    // The settings: the run's task with one thing changed at a time.
    std::vector<mc::TaskConfig> settings;
    auto addSetting = [&](const mc::TaskConfig& t) {
        for (const mc::TaskConfig& s : settings)
            if (s.distribution == t.distribution && s.rank == t.rank && s.n == t.n && s.pMask == t.pMask) return;
        settings.push_back(t);
    };
    addSetting(base);
    for (const QString& d : p.s("distributions").split(',', Qt::SkipEmptyParts)) {
        if (!known.contains(d.trimmed()))
            return Error{"--set: ood.distributions: \"" + d + "\" is not one of " + known.join(", ")};
        mc::TaskConfig t = base;
        t.distribution = d.trimmed();
        addSetting(t);
    }
    for (double r : p.list("ranks")) {
        if (int(r) > base.n) return Error{"--set: ood.ranks: rank " + QString::number(r) + " > n = " + QString::number(base.n)};
        mc::TaskConfig t = base;
        t.rank = int(r);
        addSetting(t);
    }
    std::vector<double> sizes = p.list("sizes");
    if (sizes.empty())
        for (int k = std::max(2, base.n - 2); k < base.n; ++k) sizes.push_back(k);
    for (double sz : sizes) {
        if (int(sz) > base.n)
            return Error{"--set: ood.sizes: n = " + QString::number(sz) + " > the run's n = " + QString::number(base.n) +
                         " (positions past " + QString::number(base.seqLen()) + " were never trained)"};
        mc::TaskConfig t = base;
        t.n = int(sz);
        t.rank = std::min(t.rank, t.n);
        addSetting(t);
    }
    for (double pm : p.list("p_masks")) {
        mc::TaskConfig t = base;
        t.pMask = pm;
        addSetting(t);
    }
    NuclearNormOptions opt;
    opt.tolerance = p.d("tolerance");
    opt.maxIterations = p.i("max_iterations");
    const int N = p.i("matrices");
    const bool withNuclear = p.b("nuclear");
    mcan::Progress progress(q, double(settings.size() * (q.steps.size() + (withNuclear ? 1 : 0))));
    std::vector<Batch> batches;
    std::vector<SolveTotals> nuclear;
    for (std::size_t k = 0; k < settings.size(); ++k) {
        batches.push_back(MatrixCompletionTask(settings[k]).sample(N, std::uint64_t(p.i64("seed")), DataStream::Analysis, 4000037 + k));
        nuclear.push_back(withNuclear ? solveBatch(batches.back(), settings[k].n, -1.0, opt, q) : SolveTotals{});
        if (mcan::cancelled(q)) return mcan::cancelError("ood");
        if (withNuclear) progress.tick();
    }
    AnalysisResult r = mcan::newResult(q, "ood");
    AnalysisTable t{"ood",
                    {"step", "distribution", "rank", "n", "p_mask", "model_mse", "model_mse_obs", "model_mse_mask", "nuclear_mse",
                     "nuclear_mse_mask", "capped_solves"},
                    {}};
    for (qint64 step : q.steps) {
        if (Status st = mcan::loadStep(*mc, q, step); !st) return Error{st.error()};
        for (std::size_t k = 0; k < settings.size(); ++k) {
            const LossParts lp = mcan::lossesOf(*mc, batches[k]);
            if (mcan::cancelled(q)) return mcan::cancelError("ood");
            const SolveTotals& s = nuclear[k];
            t.rows.push_back({double(step), double(known.indexOf(settings[k].distribution)), double(settings[k].rank),
                              double(settings[k].n), settings[k].pMask, lp.loss, lp.lossObs, lp.lossMask,
                              withNuclear ? s.mse() : kNaN, withNuclear ? s.mseMask() : kNaN, withNuclear ? double(s.capped) : kNaN});
            progress.tick();
        }
    }
    r.tables.push_back(t);
    r.summary = QJsonObject{{"distribution_codes", "0 uniform U[-1,1], 1 gaussian N(0, 0.5^2), 2 laplace(0, 0.25)"},
                            {"settings", double(settings.size())}};
    const auto& last = t.rows[t.rows.size() - settings.size()];  // the last step, the run's own task
    r.summary["in_distribution_model_mse"] = last[5];
    r.summary["in_distribution_nuclear_mse"] = last[8];
    r.seconds = mcan::secondsSince(t0);
    return r;
}

}  // namespace plateau
