// The analyses Plateau knows, in the order they are listed. Torch-free descriptions; each one's
// computation is in the experiment's folder (runAnalysis dispatches by id).
#include "analysis/analysis.h"

#include <cmath>

namespace plateau {

namespace {
std::vector<double> range(double lo, double hi, double step) {
    std::vector<double> v;
    for (int i = 0; lo + i * step <= hi + 1e-9; ++i) v.push_back(std::round((lo + i * step) * 1e6) / 1e6);
    return v;
}

std::vector<AnalysisInfo> makeRegistry() {
    std::vector<AnalysisInfo> r;
    AnalysisInfo nuc;
    nuc.id = "nuclear_norm";
    nuc.title = "Nuclear-norm baseline";
    nuc.paper = "Gopalani, Lubana & Hu, Fig 3";
    nuc.summary =
        "The model against nuclear-norm minimisation on the same fresh matrices: for each p_mask of a sweep, MSE "
        "over all (and masked) entries of the model and of the exact minimiser (observed entries fixed), and the "
        "mean nuclear norm of the solutions and of the truth; at the run's p_mask, the regularised form "
        "(1/|Omega|) ||P(X - A)||^2 + lambda ||X||_* for each lambda (observed, masked and total MSE).";
    nuc.experiments = {"matrix_completion"};
    nuc.params = {
        intField("matrices", 512, 1, 1 << 16, "fresh matrices per p_mask (the paper: 512)"),
        listField("p_masks", range(0.10, 0.60, 0.05), 0.0, 0.95, 64, "mask rates of the sweep (the paper: 0.10 ... 0.60)"),
        intField("regularised_matrices", 256, 0, 1 << 16, "matrices for the regularised table, at the run's p_mask (0 = none)"),
        listField("lambdas", {5e-4, 1e-3, 1.5e-3, 1.75e-3, 2e-3, 5e-3, 1e-2}, 0.0, 100.0, 64,
                  "lambda of the regularised form (the paper's list)"),
        doubleField("tolerance", 1e-6, 1e-12, 1e-2, "relative residual at which each solve stops"),
        intField("max_iterations", 20000, 1, 10000000, "iteration cap of each solve (capped solves are counted)"),
        intField("seed", 1, 0, 1ll << 40, "data seed of the fresh matrices (a stream of its own)"),
    };
    r.push_back(nuc);

    AnalysisInfo copy;
    copy.id = "copy_test";
    copy.title = "Copying test";
    copy.paper = "Gopalani, Lubana & Hu, Table 1";
    copy.summary =
        "Masked tokens replaced by the token of a constant c (or left as MASK): L_obs, L_mask and the replace loss, "
        "the mean over masked entries of (output - c)^2 (c = 0 for MASK). A small replace loss means the model copies "
        "what it sees at masked positions: the paper finds it before the drop and not after.";
    copy.experiments = {"matrix_completion"};
    copy.params = {
        intField("matrices", 256, 1, 1 << 16, "fresh matrices at the run's p_mask"),
        listField("constants", {-0.24, 0.44}, -10.0, 10.0, 16, "values whose token replaces MASK (the paper: -0.24, 0.44)"),
        boolField("mask_token", true, "also the plain MASK input (replace loss against 0)"),
        boolField("full_rank", false, "entries i.i.d. U[-1, 1] instead of low rank (the paper's option)"),
        intField("seed", 1, 0, 1ll << 40, "data seed of the fresh matrices"),
    };
    r.push_back(copy);

    auto seedField = [](const char* help) { return intField("seed", 1, 0, 1ll << 40, help); };
    AnalysisInfo probes;
    probes.id = "linear_probes";
    probes.title = "Linear probes";
    probes.paper = "Gopalani, Lubana & Hu, Fig 6";
    probes.summary =
        "Least squares without bias from each layer's hidden state of a token (layer 0 = the embedding output) to: the "
        "entry's true value (element; test MSE at masked and observed positions), the entry's row of the masked input "
        "with missing entries 0 (row), the top left singular vector of X (svd; sign fixed by a non-negative sum). Fitted "
        "on fresh matrices, tested on others: train and test MSE, and the mean |cosine| for row and svd. GPT matrix "
        "completion: the same targets read at the answer positions (the state whose output is entry k). Associative "
        "recall: at the query position, one-hot targets (the query's value, its key, the pair that holds it), with "
        "argmax accuracy. \"Matrices\" are sequences for associative recall.";
    probes.experiments = {"matrix_completion", "gpt_matrix_completion", "associative_recall"};
    probes.params = {intField("fit_matrices", 2048, 1, 1 << 20, "matrices whose tokens fit each probe (the paper: 2048)"),
                     intField("test_matrices", 256, 1, 1 << 16, "matrices whose tokens test them (the paper: 256)"),
                     seedField("data seed of the fit and test matrices")};
    r.push_back(probes);

    AnalysisInfo emb;
    emb.id = "embeddings";
    emb.title = "Embeddings";
    emb.paper = "Gopalani, Lubana & Hu, Fig 7";
    emb.summary =
        "Token embeddings of the values value_min ... value_max: L2 norm against value, and the first two principal "
        "components (coloured by value); the first T position embeddings' two principal components (coloured by column; "
        "the authors use t-SNE, PCA is deterministic); the loss with the T position embeddings shuffled (permute); and "
        "every chosen checkpoint's token embeddings projected on the last one's components (progress).";
    emb.experiments = {"matrix_completion"};
    emb.params = {doubleField("value_min", -1.5, -10.0, 10.0, "smallest value whose token is shown (the paper: -1.50)"),
                  doubleField("value_max", 1.5, -10.0, 10.0, "largest value (the paper: 1.50)"),
                  intField("permutations", 8, 0, 1000, "random permutations of the position embeddings (0 = none)"),
                  intField("matrices", 256, 1, 1 << 16, "matrices on which the permuted loss is measured"),
                  seedField("data seed of the matrices and the permutations")};
    r.push_back(emb);

    AnalysisInfo sw;
    sw.id = "model_switching";
    sw.title = "Model switching";
    sw.paper = "Gopalani, Lubana & Hu, Section 6 (switch_models.py)";
    sw.summary =
        "Every parameter whose name has query/key/value (attention) or none with \"attention\" (the rest: embeddings, "
        "FFN, LayerNorms, readout) copied from a source checkpoint into each chosen checkpoint, and the other way "
        "round; L, L_obs, L_mask of the result and of each checkpoint alone. Pre-drop attention in a post-drop model "
        "(and the reverse) says which part carries the drop.";
    sw.experiments = {"matrix_completion"};
    sw.params = {intField("source_step", -1, -1, 1e15, "the source checkpoint's step (-1 = the source run's last)"),
                 stringField("source_run", "", {}, "another run folder of the same shapes (empty = this run)"),
                 boolField("attention", true, "switch the attention's query/key/value"),
                 boolField("rest", true, "switch everything but the attention"),
                 intField("matrices", 256, 1, 1 << 16, "matrices the losses are measured on (the paper: 256)"),
                 seedField("data seed of the matrices")};
    r.push_back(sw);

    AnalysisInfo abl;
    abl.id = "head_ablation";
    abl.title = "Head mean-ablation";
    abl.paper = "Gopalani, Lubana & Hu, Section 5 (uniform_ablation.py)";
    abl.summary =
        "Chosen heads' attention probabilities replaced by their mean over the batch (or uniform, or zero): L, L_obs, "
        "L_mask against the intact model; and the grid of every single head's ablation (loss increase per layer x head), "
        "the map of which heads matter. Decoders: next-token cross-entropy and accuracy at the scored positions (GPT "
        "matrix completion: the answer, split obs / mask; associative recall: the query).";
    abl.experiments = {"matrix_completion", "gpt_matrix_completion", "associative_recall"};
    abl.params = {stringField("heads", "", {}, "heads ablated together, 0-indexed layer.head, e.g. 2.2,3.1,3.4-6 (the paper's)"),
                  stringField("kind", "mean", {"mean", "uniform", "zero"}, "mean over the batch (the paper), uniform 1/T, or zero"),
                  boolField("grid", true, "also every single head on its own"),
                  intField("matrices", 256, 1, 4096, "matrices (one forward pass: the mean is over all of them)"),
                  seedField("data seed of the matrices")};
    r.push_back(abl);

    AnalysisInfo patch;
    patch.id = "activation_patching";
    patch.title = "Activation patching";
    patch.paper = "Gopalani, Lubana & Hu, Section 5 (patch.py)";
    patch.summary =
        "Clean input X and corrupted -X with the same mask; the corrupted run with one layer's per-head attention "
        "context (softmax . V, before the output dense) replaced by the clean run's, all heads or one: MSE of the "
        "output to -X and to X at masked and observed entries, per layer and head. Decoders: cross-entropy and accuracy "
        "against the clean and the corrupted answers (GPT matrix completion: -X, the same mask; associative recall: the "
        "query asks for another key of the same context).";
    patch.experiments = {"matrix_completion", "gpt_matrix_completion", "associative_recall"};
    patch.params = {listField("layers", {}, 0, 1024, 64, "layers to patch, 0-indexed (empty = every layer; the paper: the last)"),
                    boolField("per_head", true, "also each head on its own"),
                    intField("matrices", 256, 1, 1 << 16, "matrices"),
                    seedField("data seed of the matrices")};
    r.push_back(patch);

    AnalysisInfo ood;
    ood.id = "ood";
    ood.title = "Out-of-distribution evaluation";
    ood.paper = "Gopalani, Lubana & Hu, Fig 19";
    ood.summary =
        "The run's task with one thing changed at a time: the entry distribution (U, V uniform, Gaussian 0.5, Laplace "
        "0.25), the rank, the matrix size n (at most the trained n: larger ones use untrained positions), the mask rate; "
        "model MSE against exact nuclear-norm minimisation on the same matrices.";
    ood.experiments = {"matrix_completion"};
    ood.params = {intField("matrices", 1024, 1, 1 << 16, "matrices per setting (the paper: 1024)"),
                  stringField("distributions", "uniform,gaussian,laplace", {}, "comma-separated: uniform, gaussian, laplace"),
                  listField("ranks", {1, 2, 3, 4}, 1, 64, 16, "ranks (at most n)"),
                  listField("sizes", {}, 2, 64, 16, "matrix sizes n (empty = n-2 and n-1; at most the run's n)"),
                  listField("p_masks", {}, 0.0, 0.95, 32, "mask rates (the sweep itself is nuclear_norm's)"),
                  boolField("nuclear", true, "solve the nuclear-norm baseline on the same matrices"),
                  doubleField("tolerance", 1e-6, 1e-12, 1e-2, "relative residual at which each solve stops"),
                  intField("max_iterations", 20000, 1, 10000000, "iteration cap of each solve"),
                  seedField("data seed of the matrices")};
    r.push_back(ood);

    AnalysisInfo col;
    col.id = "representation_collapse";
    col.title = "Representation collapse";
    col.paper = "the same authors' follow-up, \"What Happens During the Loss Plateau?\"";
    col.summary =
        "Mean pairwise cosine similarity of the hidden states across the positions of a sequence, per layer (0 = the "
        "embedding output), averaged over matrices: near 1 means every position's state is nearly parallel, as the "
        "follow-up paper finds during the plateau. Decoders: every input position of the sequence.";
    col.experiments = {"matrix_completion", "gpt_matrix_completion", "associative_recall"};
    col.params = {intField("matrices", 256, 1, 1 << 16, "matrices"), seedField("data seed of the matrices")};
    r.push_back(col);
    return r;
}
}  // namespace

const std::vector<AnalysisInfo>& analysisRegistry() {
    static const std::vector<AnalysisInfo> r = makeRegistry();
    return r;
}

const AnalysisInfo* findAnalysis(const QString& id) {
    for (const AnalysisInfo& a : analysisRegistry())
        if (a.id == id) return &a;
    return nullptr;
}

std::vector<const AnalysisInfo*> analysesFor(const QString& experiment) {
    std::vector<const AnalysisInfo*> out;
    for (const AnalysisInfo& a : analysisRegistry())
        if (a.experiments.contains(experiment)) out.push_back(&a);
    return out;
}

Result<ParamSet> analysisParams(const AnalysisInfo& a, const QStringList& sets, const QString& source) {
    ParamSet p = ParamSet::defaults(a.params);
    for (const QString& s : sets) {
        const int eq = s.indexOf('=');
        if (eq <= 0) return Error{source + ": \"" + s + "\": expected key=value"};
        const QString key = s.left(eq);
        const FieldSpec* f = findFieldSpec(a.params, key);
        if (!f) {
            QStringList keys;
            for (const FieldSpec& g : a.params) keys << g.key;
            return Error{source + ": " + a.id + "." + key + ": no such parameter (" + keys.join(", ") + ")"};
        }
        const QString where = source + ": " + a.id + "." + key;
        auto v = parseFieldText(*f, s.mid(eq + 1), where);
        if (!v) return Error{v.error()};
        if (Status st = checkFieldValue(*f, v.value(), where); !st) return Error{st.error()};
        p.setRaw(key, v.value());
    }
    return p;
}

}  // namespace plateau
