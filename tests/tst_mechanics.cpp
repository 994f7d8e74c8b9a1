// The analyses of the mechanism (issue 15) against cases with known answers: least squares
// recovering a known linear map, principal components of points on a plane, the pairwise cosine
// of parallel and orthogonal states; the encoder's head hooks (contexts, patching, ablation of a
// head whose output weights are zero); and each analysis on the version-1 fixture run (a tiny
// model on its copying plateau): switching a checkpoint into itself changes nothing, the identity
// permutation of the positions changes nothing, tables of the right shapes, errors named.
#include <torch/torch.h>

#include "analysis/analysis.h"
#include "analysis/analysis_figures.h"
#include "experiments/associative_recall/assoc_experiment.h"
#include "experiments/gpt_matrix_completion/gpt_mc_experiment.h"
#include "mc_test_util.h"
#include "analysis/tensor_stats.h"
#include "experiments/matrix_completion/mc_experiment.h"
#include "experiments/matrix_completion/mc_tokens.h"
#include "model/bert_encoder.h"
#include "run/checkpoint.h"
#include "train/trainer.h"
#include "run/run_store.h"
#include "test_files.h"
#include "test_main.h"

#include <QTemporaryDir>

#include <cmath>

using namespace plateau;

namespace {
BertEncoder tinyBert() {
    BertDims d;
    d.width = 16;
    d.heads = 4;
    d.layers = 2;
    d.ffn = 32;
    d.maxPositions = 32;
    torch::manual_seed(3);
    BertEncoder m(d);
    m->resetParameters();
    return m;
}
torch::Tensor someTokens(int B, int T) {
    torch::manual_seed(5);
    return torch::randint(1, 2002, {B, T}, torch::kInt64);
}
double maxDiff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

// `id` with parameters `sets` on checkpoints `steps` of the run in `dir`.
Result<AnalysisResult> analyse(const QString& dir, const RunConfig& config, const QString& id, const QStringList& sets,
                               std::vector<qint64> steps) {
        const AnalysisInfo* a = findAnalysis(id);
        if (!a) return Error{"no analysis " + id};
        auto params = analysisParams(*a, sets, "--set");
        if (!params) return Error{params.error()};
        AnalysisRequest q;
        q.runDir = dir;
        q.config = config;
        q.steps = std::move(steps);
        q.params = params.value();
        return runAnalysis(*a, q);
}

struct FixtureRun {
    QTemporaryDir tmp;
    QString dir;
    RunConfig config;
    FixtureRun() {
        dir = tmp.filePath("run");
        test::copyDir(PLATEAU_SOURCE_DIR "/tests/fixtures/v1_run", dir);
        config = RunStore::open(dir, true).value()->config();
    }
    Result<AnalysisResult> run(const QString& id, const QStringList& sets, std::vector<qint64> steps = {40}) {
        return analyse(dir, config, id, sets, std::move(steps));
    }
};
int col(const AnalysisTable* t, const char* name) { return int(t->columns.indexOf(name)); }

// A small decoder run made here: checkpoints at step 0 and after `steps` updates; with
// `zeroHead`, head 1 of layer 1 has its output-projection columns zeroed in both (it adds
// nothing to the residual stream, so ablating it must change nothing).
struct DecoderRun {
    QTemporaryDir tmp;
    QString dir;
    RunConfig config;
    DecoderRun(const QString& preset, const std::vector<std::pair<QString, QJsonValue>>& sets, int steps, bool zeroHead) {
        dir = tmp.filePath("run");
        config = loadPreset(preset).value();
        for (const auto& [k, v] : sets) setField(config, k, v);
        auto store = RunStore::create(dir, config);
        if (!store) qFatal("%s", qPrintable(store.error()));
        Trainer t(config);
        auto model = [&]() -> DecoderLM& {
            if (auto* g = dynamic_cast<GptMcExperiment*>(&t.experiment())) return g->model();
            return static_cast<AssocExperiment&>(t.experiment()).model();
        };
        auto save = [&] {
            if (zeroHead) {
                torch::NoGradGuard ng;
                const int dh = model()->dims().headDim();
                model()->block(1).attnProj->weight.slice(1, dh, 2 * dh).zero_();
            }
            const Status st = saveCheckpoint(t, checkpointPathIn(dir, t.stepsDone()));
            if (!st) qFatal("%s", qPrintable(st.error()));
        };
        save();
        for (int i = 0; i < steps; ++i) t.step();
        save();
    }
    Result<AnalysisResult> run(const QString& id, const QStringList& sets, std::vector<qint64> steps) {
        return analyse(dir, config, id, sets, std::move(steps));
    }
};
DecoderRun tinyGpt(bool zeroHead = false) {
    return {"gpt-quick", {{"task.n", 3}, {"task.rank", 1}, {"task.batch_size", 16}, {"model.width", 16}, {"model.ffn", 32}}, 20, zeroHead};
}
DecoderRun tinyRecall(bool zeroHead = false) {
    return {"assoc-recall-wd0.01",
            {{"task.pairs", 4}, {"task.keys", 8}, {"task.values", 8}, {"task.batch_size", 32}, {"model.width", 16}, {"model.heads", 2}},
            20,
            zeroHead};
}
QStringList figureIds(const AnalysisResult& r) {
    QStringList ids;
    for (const AnalysisFigure& f : analysisFigures(r)) ids << f.id;
    return ids;
}
}  // namespace

class TestMechanics : public QObject {
    Q_OBJECT
private slots:
    void leastSquaresRecoversAKnownMap() {
        torch::manual_seed(1);
        const torch::Tensor h = torch::randn({600, 6}, torch::kFloat64), w = torch::randn({6, 3}, torch::kFloat64);
        LeastSquares ls;
        ls.add(h.slice(0, 0, 250), h.slice(0, 0, 250).mm(w));  // in two chunks
        ls.add(h.slice(0, 250), h.slice(0, 250).mm(w));
        QCOMPARE(ls.rows(), std::int64_t(600));
        const torch::Tensor fit = ls.solve();
        QVERIFY2(maxDiff(fit, w) < 1e-9, qPrintable(QString::number(maxDiff(fit, w))));
        QVERIFY(ls.mse(fit) < 1e-10);  // the quadratic form cancels to round-off
        // With noise: the normal equations' minimiser is the least-squares one (the residual is
        // orthogonal to the columns), and its MSE is what the rows give.
        const torch::Tensor y = h.mm(w) + 0.1 * torch::randn({600, 3}, torch::kFloat64);
        LeastSquares noisy;
        noisy.add(h, y);
        const torch::Tensor wn = noisy.solve();
        QVERIFY(h.t().mm(h.mm(wn) - y).abs().max().item<double>() < 1e-9);
        QVERIFY(std::abs(noisy.mse(wn) - (h.mm(wn) - y).square().mean().item<double>()) < 1e-12);
        QVERIFY(noisy.mse(wn) < noisy.mse(w));
        // A repeated column (rank-deficient H): the fit still predicts exactly.
        const torch::Tensor h2 = torch::cat({h, h.slice(1, 0, 1)}, 1);
        LeastSquares deficient;
        deficient.add(h2, h.mm(w));
        QVERIFY(maxDiff(h2.mm(deficient.solve()), h.mm(w)) < 1e-8);
    }

    void principalComponentsOfAPlane() {
        torch::manual_seed(2);
        const torch::Tensor basis = std::get<0>(torch::linalg::qr(torch::randn({5, 2}, torch::kFloat64)));  // (5, 2)
        const torch::Tensor coef = torch::randn({40, 2}, torch::kFloat64) * torch::tensor({3.0, 1.0}, torch::kFloat64);
        const torch::Tensor x = coef.mm(basis.t()) + torch::tensor({1.0, 2.0, 3.0, 4.0, 5.0}, torch::kFloat64);
        const Principal p = principalComponents(x, 2);
        QVERIFY(std::abs(p.explained[0] + p.explained[1] - 1.0) < 1e-12);
        QVERIFY(p.explained[0] > p.explained[1]);
        // The components span the plane: projecting and mapping back gives every point again.
        const torch::Tensor back = project(p, x).mm(p.components) + p.mean;
        QVERIFY(maxDiff(back, x) < 1e-10);
        QVERIFY(project(p, x)[-1][0].item<double>() >= 0);  // the sign convention
    }

    void pairwiseCosineOfKnownStates() {
        const torch::Tensor same = torch::ones({3, 5, 4}, torch::kFloat64) * torch::tensor({1.0, -2.0, 0.5, 3.0}, torch::kFloat64);
        QVERIFY(std::abs(meanPairwiseCosine(same) - 1.0) < 1e-12);
        const torch::Tensor orth = torch::eye(4, torch::kFloat64).unsqueeze(0).expand({2, 4, 4});
        QVERIFY(std::abs(meanPairwiseCosine(orth)) < 1e-12);
        // Two positions at 60 degrees: 0.5.
        const torch::Tensor two = torch::tensor({1.0, 0.0, 0.5, std::sqrt(3.0) / 2}, torch::kFloat64).view({1, 2, 2});
        QVERIFY(std::abs(meanPairwiseCosine(two) - 0.5) < 1e-12);
        QVERIFY(std::abs(meanAbsCosine(torch::tensor({{1.0, 0.0}}, torch::kFloat64), torch::tensor({{-2.0, 0.0}}, torch::kFloat64)) - 1.0) < 1e-12);
    }

    void encoderHeadHooks() {
        torch::NoGradGuard noGrad;
        BertEncoder m = tinyBert();
        const torch::Tensor tok = someTokens(6, 9);
        const torch::Tensor plain = m->forward(tok).output;  // fused path
        ForwardOptions keep;
        keep.contexts = true;
        keep.attentions = true;
        const ForwardOutput k = m->forward(tok, keep);
        QCOMPARE(int(k.contexts.size()), 2);
        QCOMPARE(k.contexts[0].sizes(), (torch::IntArrayRef{6, 4, 9, 4}));
        QVERIFY(maxDiff(k.output, plain) < 1e-5);  // the hooked (unfused) path computes the same function
        // The context is softmax . V of the kept probabilities.
        const BertLayerRefs& l0 = m->layer(0);
        ForwardOptions hidden;
        hidden.hiddenStates = true;
        const torch::Tensor h0 = m->forward(tok, hidden).hiddenStates[0];
        const torch::Tensor v = torch::linear(h0, l0.value->weight, l0.value->bias).view({6, 9, 4, 4}).transpose(1, 2);
        QVERIFY(maxDiff(torch::matmul(k.attentions[0], v), k.contexts[0]) < 1e-5);
        // Patching every layer's contexts with the same run's changes nothing.
        ForwardOptions same;
        for (int l = 0; l < 2; ++l) same.patchContexts[l] = k.contexts[std::size_t(l)];
        QCOMPARE(maxDiff(m->forward(tok, same).output, k.output), 0.0);
        // Patching one head with another input's context changes the output; all heads of every
        // layer from a run on other tokens: the attention outputs are that run's.
        const torch::Tensor other = someTokens(6, 9).flip(1);
        const ForwardOutput ko = m->forward(other, keep);
        ForwardOptions one;
        one.patchContexts[1] = ko.contexts[1];
        one.patchHeads = {2};
        QVERIFY(maxDiff(m->forward(tok, one).output, k.output) > 1e-4);
        // A head whose output-projection columns are zero: ablating it (any kind) changes nothing.
        BertEncoder z = tinyBert();
        z->layer(1).attnOut->weight.slice(1, 3 * 4, 4 * 4).zero_();
        const torch::Tensor zOut = z->forward(tok).output;
        for (auto kind : {HeadIntervention::Kind::MeanProbs, HeadIntervention::Kind::UniformProbs, HeadIntervention::Kind::Zero}) {
            ForwardOptions ab;
            ab.interventions = {{1, 3, kind}};
            QVERIFY(maxDiff(z->forward(tok, ab).output, zOut) < 1e-5);
            ForwardOptions live;  // the same head of the intact model matters
            live.interventions = {{1, 3, kind}};
            QVERIFY(maxDiff(m->forward(tok, live).output, plain) > 1e-5);
        }
        // Mean-ablation over a batch of one sequence is that sequence's own attention.
        ForwardOptions mean1;
        mean1.interventions = {{0, 1, HeadIntervention::Kind::MeanProbs}};
        QVERIFY(maxDiff(m->forward(tok.slice(0, 0, 1), mean1).output, plain.slice(0, 0, 1)) < 1e-5);
        // Uniform: every row of the replaced head's probabilities is 1/T.
        ForwardOptions uni = keep;
        uni.interventions = {{0, 1, HeadIntervention::Kind::UniformProbs}};
        const ForwardOutput u = m->forward(tok, uni);
        QVERIFY(maxDiff(u.attentions[0].select(1, 1), torch::full({6, 9, 9}, 1.0 / 9)) < 1e-7);
    }

    void probesOnTheFixtureRun() {
        FixtureRun f;
        auto r = f.run("linear_probes", {"fit_matrices=300", "test_matrices=64"});
        QVERIFY2(r, qPrintable(r.error()));
        const AnalysisTable* t = r->table("probes");
        QCOMPARE(int(t->rows.size()), 3 * 3);  // layers 0..2 x element, row, svd
        const double ex2 = mc::expectedSquare(mc::taskOf(f.config));
        for (const auto& row : t->rows) {
            QVERIFY(std::isfinite(row[col(t, "train_mse")]) && std::isfinite(row[col(t, "test_mse")]));
            if (row[2] == 0) {
                // Predicting the entry: never worse than predicting 0 (E[X^2]) on the data it was fitted to.
                QVERIFY(row[col(t, "train_mse")] < ex2);
                QVERIFY(std::isnan(row[col(t, "mean_abs_cos")]));
            } else {
                const double c = row[col(t, "mean_abs_cos")];
                QVERIFY(c >= 0 && c <= 1);
            }
        }
        // The observed entries' values are in the input: from the embedding output (layer 0) they are
        // linearly decodable far better than the masked ones (which the embedding does not know).
        const auto& e0 = t->rows[0];
        QVERIFY2(e0[col(t, "test_mse_obs")] < 0.5 * e0[col(t, "test_mse_mask")],
                 qPrintable(QString("%1 vs %2").arg(e0[col(t, "test_mse_obs")]).arg(e0[col(t, "test_mse_mask")])));
    }

    void embeddingsOnTheFixtureRun() {
        FixtureRun f;
        auto r = f.run("embeddings", {"permutations=2", "matrices=64"});
        QVERIFY2(r, qPrintable(r.error()));
        const AnalysisTable* norms = r->table("token_norm");
        QCOMPARE(int(norms->rows.size()), 301);  // -1.50 ... 1.50
        // The norms are the checkpoint's own rows.
        auto made = makeExperiment(f.config);
        QVERIFY(made);
        auto* mc = dynamic_cast<McExperiment*>(made.value().get());
        QVERIFY(loadModelWeights(*mc, checkpointPathIn(f.dir, 40)));
        const torch::Tensor w = mc->model()->wordEmbeddings()->weight;
        const double n0 = w[tokens::valueToId(-1.5)].norm().item<double>();
        QVERIFY(std::abs(norms->rows[0][2] - n0) < 1e-6);
        QCOMPARE(norms->rows[0][1], -1.5);
        const int n = mc::taskOf(f.config).n;
        QCOMPARE(int(r->table("position_pca")->rows.size()), n * n);
        // Permutation 0 is the model as it is; the others differ; the position rows are put back.
        const AnalysisTable* perm = r->table("permute");
        QCOMPARE(int(perm->rows.size()), 3);
        auto lossesOf = [&](const QStringList& sets) {
            auto again = f.run("embeddings", sets);
            return again ? again->table("permute")->rows[0][2] : -1.0;
        };
        QCOMPARE(lossesOf({"permutations=0", "matrices=64"}), perm->rows[0][2]);
        QVERIFY(perm->rows[1][2] != perm->rows[0][2]);
        const AnalysisTable* ex = r->table("explained");
        QVERIFY(ex->rows[0][1] >= ex->rows[0][2] && ex->rows[0][1] + ex->rows[0][2] <= 1 + 1e-12);
        // One checkpoint: "progress" is its own projection.
        const AnalysisTable* prog = r->table("progress");
        const AnalysisTable* pca = r->table("token_pca");
        QVERIFY(std::abs(prog->rows[10][2] - pca->rows[10][2]) < 1e-9);
        QVERIFY(f.run("embeddings", {"value_min=1", "value_max=0.5"}).error().contains("embeddings.value_max"));
    }

    void switchingACheckpointIntoItselfChangesNothing() {
        FixtureRun f;
        auto r = f.run("model_switching", {"source_step=40", "matrices=64"});
        QVERIFY2(r, qPrintable(r.error()));
        const AnalysisTable* t = r->table("switching");
        QCOMPARE(int(t->rows.size()), 2 + 4);  // the source alone, the checkpoint alone, 2 parts x 2 directions
        for (const auto& row : t->rows)
            for (int k = 4; k < 7; ++k) QCOMPARE(row[std::size_t(k)], t->rows[0][std::size_t(k)]);
        // The same checkpoint in another run folder: read from there, still nothing changes.
        FixtureRun other;
        auto o = f.run("model_switching", {"source_run=" + other.dir, "matrices=64"});
        QVERIFY2(o, qPrintable(o.error()));
        QVERIFY(o->summary.value("source_is_other_run").toBool());
        for (const auto& row : o->table("switching")->rows) QCOMPARE(row[4], t->rows[0][4]);
        auto x = f.run("model_switching", {"source_step=40", "source_run=" + other.dir + "/nope", "matrices=16"});
        QVERIFY(!x && x.error().contains("model_switching.source_run"));
        QVERIFY(f.run("model_switching", {"source_step=41"}).error().contains("model_switching.source_step"));
        QVERIFY(f.run("model_switching", {"attention=false", "rest=false"}).error().contains("nothing to switch"));
    }

    void ablationAndPatchingOnTheFixtureRun() {
        FixtureRun f;
        auto r = f.run("head_ablation", {"heads=0.0,1.0-1", "matrices=64"});
        QVERIFY2(r, qPrintable(r.error()));
        const AnalysisTable* g = r->table("grid");
        QCOMPARE(int(g->rows.size()), 2 * 2);
        const AnalysisTable* set = r->table("ablation");
        QCOMPARE(int(set->rows.size()), 1);
        for (const auto& row : g->rows) QVERIFY(std::abs(row[6] - (row[3] - set->rows[0][4])) < 1e-12);  // delta vs the base
        QVERIFY(r->summary.contains("most_important_head"));
        QVERIFY(f.run("head_ablation", {"heads=2.0"}).error().contains("head_ablation.heads"));
        QVERIFY(f.run("head_ablation", {"heads=0.x"}).error().contains("head_ablation.heads"));
        QVERIFY(f.run("head_ablation", {"kind=half"}).error().contains("head_ablation.kind"));

        auto p = f.run("activation_patching", {"matrices=64"});
        QVERIFY2(p, qPrintable(p.error()));
        const AnalysisTable* t = p->table("patching");
        QCOMPARE(int(t->rows.size()), 2 * (1 + 2));  // per layer: all heads, then each of 2
        const AnalysisTable* base = p->table("baseline");
        QCOMPARE(int(base->rows.size()), 2);
        // The corrupted input's outputs measured against -X equal the clean run's against X when the
        // model is odd; in general both are finite and the clean run fits X better than -X.
        QVERIFY(base->rows[0][col(base, "mse_to_clean_obs")] < base->rows[0][col(base, "mse_to_corrupt_obs")]);
        QVERIFY(base->rows[1][col(base, "mse_to_corrupt_obs")] < base->rows[1][col(base, "mse_to_clean_obs")]);
        for (const auto& row : t->rows)
            for (std::size_t k = 3; k < row.size(); ++k) QVERIFY(std::isfinite(row[k]));
        QVERIFY(f.run("activation_patching", {"layers=[2]"}).error().contains("activation_patching.layers"));
    }

    void oodAndCollapseOnTheFixtureRun() {
        FixtureRun f;
        const int n = mc::taskOf(f.config).n;
        auto r = f.run("ood", {"matrices=32", "ranks=[1, 2]", "sizes=[" + QString::number(n - 1) + "]", "distributions=uniform,gaussian"});
        QVERIFY2(r, qPrintable(r.error()));
        const AnalysisTable* t = r->table("ood");
        // The run's task (uniform, rank 1, n), gaussian, rank 2, n - 1.
        QCOMPARE(int(t->rows.size()), 4);
        QCOMPARE(t->rows[0][col(t, "n")], double(n));
        QCOMPARE(t->rows[3][col(t, "n")], double(n - 1));
        for (const auto& row : t->rows) {
            QVERIFY(std::isfinite(row[col(t, "model_mse")]) && std::isfinite(row[col(t, "nuclear_mse")]));
            QCOMPARE(row[col(t, "capped_solves")], 0.0);
        }
        QVERIFY(f.run("ood", {"sizes=[" + QString::number(n + 1) + "]"}).error().contains("ood.sizes"));
        QVERIFY(f.run("ood", {"distributions=cauchy"}).error().contains("ood.distributions"));

        auto c = f.run("representation_collapse", {"matrices=32"});
        QVERIFY2(c, qPrintable(c.error()));
        const AnalysisTable* ct = c->table("collapse");
        QCOMPARE(int(ct->rows.size()), 3);
        for (const auto& row : ct->rows) QVERIFY(row[2] > -1 && row[2] <= 1 + 1e-12);
    }

    // ---- The decoder experiments (GPT matrix completion, associative recall) ----
    void decoderProbes() {
        DecoderRun recall = tinyRecall();
        auto r = recall.run("linear_probes", {"fit_matrices=400", "test_matrices=200"}, {0, 20});
        QVERIFY2(r, qPrintable(r.error()));
        const AnalysisTable* t = r->table("probes");
        QCOMPARE(t->columns, (QStringList{"step", "layer", "target", "train_mse", "test_mse", "test_acc"}));
        QCOMPARE(int(t->rows.size()), 2 * 3 * 3);  // steps x layers 0..2 x value, key, slot
        // The embedding output at the query is E[key] + P[last]: 8 keys in 16 dimensions, linearly
        // independent, so the key is exactly decodable at layer 0 from any checkpoint, even the untrained one.
        for (const auto& row : t->rows)
            if (row[1] == 0 && row[2] == 1) {
                QCOMPARE(row[col(t, "test_acc")], 1.0);
                QVERIFY2(row[col(t, "test_mse")] < 1e-8, qPrintable(QString::number(row[col(t, "test_mse")])));
            }
        // The query's value is not in its own embedding: at layer 0 it is far from decodable.
        QVERIFY(t->rows[0][col(t, "test_acc")] < 0.5);
        QVERIFY(figureIds(r.value()).contains("accuracy") && !figureIds(r.value()).contains("element"));

        DecoderRun gpt = tinyGpt();
        auto g = gpt.run("linear_probes", {"fit_matrices=300", "test_matrices=64"}, {20});
        QVERIFY2(g, qPrintable(g.error()));
        const AnalysisTable* gt = g->table("probes");
        QCOMPARE(gt->columns, (QStringList{"step", "layer", "target", "train_mse", "test_mse", "test_mse_mask", "test_mse_obs", "mean_abs_cos"}));
        QCOMPARE(int(gt->rows.size()), 3 * 3);
        for (const auto& row : gt->rows) {
            QVERIFY(std::isfinite(row[col(gt, "train_mse")]) && std::isfinite(row[col(gt, "test_mse_mask")]));
            if (row[2] > 0) QVERIFY(row[col(gt, "mean_abs_cos")] >= 0 && row[col(gt, "mean_abs_cos")] <= 1);
        }
        QVERIFY(figureIds(g.value()).contains("element") && !figureIds(g.value()).contains("accuracy"));
    }

    void decoderAblationOfADeadHeadChangesNothing() {
        for (bool gptRun : {true, false}) {
            DecoderRun run = gptRun ? tinyGpt(true) : tinyRecall(true);
            // Zeroing: a live head's output is removed (mean-ablating a near-uniform head of a barely
            // trained model moves little); the dead head is checked under both.
            auto mean = run.run("head_ablation", {"heads=1.1", "matrices=128", "grid=true"}, {20});
            QVERIFY2(mean, qPrintable(mean.error()));
            for (const auto& row : mean->table("grid")->rows)
                if (row[1] == 1 && row[2] == 1) QVERIFY(std::abs(row[col(mean->table("grid"), "delta_loss")]) < 1e-6);
            auto r = run.run("head_ablation", {"heads=1.1", "matrices=128", "kind=zero"}, {0, 20});
            QVERIFY2(r, qPrintable(r.error()));
            const AnalysisTable* g = r->table("grid");
            QCOMPARE(int(g->rows.size()), 2 * 2 * 2);  // steps x layers x heads
            for (const auto& row : g->rows) {
                const bool dead = row[1] == 1 && row[2] == 1;
                const double d = row[col(g, "delta_loss")];
                if (dead) QVERIFY2(std::abs(d) < 1e-6, qPrintable(QString::number(d)));
                QVERIFY(std::isfinite(d) && std::isfinite(row[col(g, "delta_acc")]));
            }
            // A live head matters somewhere (the trained checkpoint's layer-0 heads).
            bool moved = false;
            for (const auto& row : g->rows) moved = moved || (row[0] == 20 && row[1] == 0 && std::abs(row[col(g, "delta_loss")]) > 1e-4);
            QVERIFY(moved);
            const AnalysisTable* set = r->table("ablation");
            QVERIFY(std::abs(set->rows[1][col(set, "loss")] - set->rows[1][col(set, "base_loss")]) < 1e-6);
            QCOMPARE(g->columns.contains("loss_mask"), gptRun);  // the answer's groups, GPT matrix completion only
            QVERIFY(figureIds(r.value()).contains("grid") && figureIds(r.value()).contains("accuracy_over_training"));
            QVERIFY(run.run("head_ablation", {"heads=2.0"}, {20}).error().contains("head_ablation.heads"));
        }
    }

    void decoderPatching() {
        for (bool gptRun : {true, false}) {
            DecoderRun run = gptRun ? tinyGpt(true) : tinyRecall(true);
            auto r = run.run("activation_patching", {"matrices=128"}, {20});
            QVERIFY2(r, qPrintable(r.error()));
            const AnalysisTable* t = r->table("patching");
            const AnalysisTable* base = r->table("baseline");
            QCOMPARE(int(t->rows.size()), 2 * (1 + 2));
            QCOMPARE(int(base->rows.size()), 2);
            const QString acc = gptRun ? "acc_to_clean_mask" : "acc_to_clean";
            QVERIFY(t->columns.contains(acc));
            // The clean run scored against the clean answers is the corrupted run scored against the
            // corrupted answers only by symmetry; both baselines are finite and the patched rows too.
            for (const auto* tab : {t, base})
                for (const auto& row : tab->rows)
                    for (std::size_t k = 2; k < row.size(); ++k) QVERIFY(std::isfinite(row[k]));
            // Patching the dead head (1.1) changes nothing: the corrupted run's own numbers.
            for (const auto& row : t->rows)
                if (row[1] == 1 && row[2] == 1)
                    for (std::size_t k = 3; k < row.size(); ++k)
                        QVERIFY2(std::abs(row[k] - base->rows[1][k - 1]) < 1e-6, qPrintable(t->columns[int(k)]));
            // Patching the live head 1.0 (or every head of layer 1) with the clean contexts moves the output.
            const QString ce = gptRun ? "ce_to_clean_mask" : "ce_to_clean";
            const int c = int(t->columns.indexOf(ce));
            for (const auto& row : t->rows)
                if (row[1] == 1 && row[2] <= 0) QVERIFY(std::abs(row[std::size_t(c)] - base->rows[1][std::size_t(c - 1)]) > 1e-6);
            QVERIFY(figureIds(r.value()).contains(gptRun ? "accuracy_grid_mask" : "accuracy_grid"));
            QVERIFY(!figureIds(r.value()).contains("over_training"));  // the encoder's MSE figure
        }
    }

    void decoderCollapse() {
        DecoderRun run = tinyRecall();
        auto r = run.run("representation_collapse", {"matrices=64"}, {0, 20});
        QVERIFY2(r, qPrintable(r.error()));
        const AnalysisTable* t = r->table("collapse");
        QCOMPARE(int(t->rows.size()), 2 * 3);
        // Layer 0 is the embedding output of the analysis's own sequences: the same number from here.
        auto made = makeExperiment(run.config);
        auto* e = static_cast<AssocExperiment*>(made.value().get());
        QVERIFY(loadModelWeights(*e, checkpointPathIn(run.dir, 20)));
        torch::NoGradGuard ng;
        DecoderForwardOptions o;
        o.hiddenStates = true;
        const RecallBatch b = e->batch(64, DataStream::Analysis, 11000027, false, 1);
        const double c0 = meanPairwiseCosine(e->model()->forward(b.seq, o).hiddenStates[0]);
        QVERIFY(std::abs(t->rows[3][2] - c0) < 1e-9);
        for (const auto& row : t->rows) QVERIFY(row[2] > -1 && row[2] <= 1 + 1e-12);
    }
};

PLATEAU_TEST_MAIN(TestMechanics)
#include "tst_mechanics.moc"
