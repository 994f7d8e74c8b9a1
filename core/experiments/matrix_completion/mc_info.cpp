// The matrix-completion experiment's description (no torch): Gopalani, Lubana & Hu (NeurIPS
// 2024), a BERT filling in masked entries of low-rank matrices. Its fields, columns and views are
// exactly what Plateau had before experiments existed, so version-1 runs read unchanged.
#include "experiments/matrix_completion/mc_config.h"
#include "experiments/matrix_completion/mc_info.h"

#include "experiment_info.h"

#include <QJsonArray>

namespace plateau::mc {

TaskConfig taskOf(const RunConfig& c) {
    TaskConfig t;
    t.n = c.task.i("n");
    t.rank = c.task.i("rank");
    t.pMask = c.task.d("p_mask");
    t.distribution = c.task.s("distribution");
    t.batchSize = c.task.i("batch_size");
    t.evalBatchSize = c.task.i("eval_batch_size");
    return t;
}

ModelConfig modelOf(const RunConfig& c) {
    ModelConfig m;
    m.layers = c.model.i("layers");
    m.heads = c.model.i("heads");
    m.width = c.model.i("width");
    m.ffn = c.model.i("ffn");
    m.maxPositions = c.model.i("max_positions");
    m.vocabSize = c.model.i("vocab_size");
    m.initStd = c.model.d("init_std");
    return m;
}

double expectedSquare(const QString& distribution, int rank) {
    // E[X_ij^2] = r * E[u^2] * E[v^2] for independent zero-mean factors.
    double m2 = 1.0 / 3.0;                                 // U[-1, 1]
    if (distribution == "gaussian") m2 = 0.25;             // N(0, 0.5^2)
    if (distribution == "laplace") m2 = 2 * 0.25 * 0.25;   // Laplace(0, b): 2 b^2
    return rank * m2 * m2;
}
double expectedSquare(const TaskConfig& t) { return expectedSquare(t.distribution, t.rank); }

std::int64_t bertParameterCount(const ModelConfig& d) {
    const std::int64_t w = d.width, f = d.ffn;
    const std::int64_t perLayer = 4 * (w * w + w) + 2 * (2 * w) + (w * f + f) + (f * w + w);
    return std::int64_t(d.vocabSize) * w + std::int64_t(d.maxPositions) * w + 2 * w + d.layers * perLayer + (w + 1);
}

namespace {

QJsonObject matrixPanels() {
    auto panel = [](const QString& array, const QString& title, bool signedValues, const QString& marks) {
        QJsonObject p{{"array", array}, {"title", title}, {"signed", signedValues}};
        if (!marks.isEmpty()) p["marks"] = marks;
        return p;
    };
    QJsonObject err{{"abs_diff", QJsonArray{"matrices.prediction", "matrices.truth"}}, {"title", "|error|"},
                    {"marks", "matrices.masked"}, {"signed", false}};
    auto series = [](const QString& scalar, const QString& label, const QString& color, bool dashed) {
        return QJsonObject{{"scalar", scalar}, {"label", label}, {"color", color}, {"dashed", dashed}};
    };
    return QJsonObject{
        {"item_label", "probe matrix"},
        {"panels", QJsonArray{panel("matrices.input", "input (× = masked)", true, "matrices.masked"),
                              panel("matrices.prediction", "prediction", true, "matrices.masked"),
                              panel("matrices.truth", "truth X", true, {}), err}},
        {"error_of", QJsonArray{"matrices.prediction", "matrices.truth", "matrices.masked"}},
        {"series", QJsonArray{series("completion_mse", "completion: masked MSE to X", "#d55e00", false),
                              series("copy_mse", "copying: masked MSE to 0", "#0072b2", false),
                              series("observed_mse", "observed MSE to X", "#787878", true),
                              series("hidden_cosine", "hidden-state cosine, last layer (collapse)", "#009e73", true)}},
        {"series_log", true},
        {"series_x_label", "step (probe batch)"},
        {"info", "batch: completion %completion_mse, copying %copy_mse"}};
}

ExperimentInfo makeInfo() {
    ExperimentInfo e;
    e.id = "matrix_completion";
    e.title = "Matrix completion (BERT)";
    e.paper = "Gopalani, Lubana & Hu, Abrupt Learning in Transformers: A Case Study on Matrix Completion, NeurIPS 2024";
    e.summary = "A BERT encoder fills in the masked entries of low-rank matrices (tokens: 2-decimal values, MASK "
                "for hidden entries; MSE over all entries). It first copies what it sees (a loss plateau at "
                "p_mask E[X^2]), then suddenly learns to complete.";
    e.taskFields = {
        stringField("name", "matrix_completion", {"matrix_completion"}, "legacy name of the task (version-1 configs)"),
        intField("n", 7, 2, 22, "matrix side; the sequence has n*n tokens"),
        intField("rank", 2, 1, 22, "rank r of X = U V^T"),
        doubleField("p_mask", 0.3, 0.0, 1.0, "probability that an entry is masked"),
        stringField("distribution", "uniform", {"uniform", "gaussian", "laplace"},
                    "entries of U, V: uniform U[-1,1], gaussian N(0, 0.5^2), laplace(0, 0.25)"),
        intField("batch_size", 256, 1, 1 << 16, "matrices per training step"),
        intField("eval_batch_size", 64, 1, 1 << 16, "fresh matrices for the eval loss"),
    };
    e.modelFields = {
        intField("layers", 4, 1, 64, "encoder layers"),
        intField("heads", 8, 1, 256, "attention heads per layer"),
        intField("width", 768, 1, 16384, "d_model (head dim = width / heads)"),
        intField("ffn", 3072, 1, 65536, "intermediate (MLP) size"),
        intField("max_positions", 512, 1, 8192, "learned absolute position embeddings"),
        intField("vocab_size", 2002, 2002, 2002, "fixed by the tokens: MASK + 2001 values"),
        doubleField("init_std", 0.02, 1e-6, 1.0, "std of the N(0, s) initialisation (HF initializer_range)"),
    };
    auto col = [](const char* key, const char* label, const char* unit, bool shown, const char* help) {
        return metricColumn(key, label, unit, true, Better::Lower, shown, help);
    };
    e.columns = {
        col("loss", "L", "MSE", true, "MSE over all n^2 entries of the training batch"),
        col("loss_obs", "L_obs", "MSE", true, "MSE over observed entries"),
        col("loss_mask", "L_mask", "MSE", true, "MSE over masked entries"),
        col("mean_abs_mask_out", "|out| at masked", "|output|", false, "mean |output| at masked entries (~0 while copying)"),
        col("eval_loss", "eval L", "MSE", true, "L on a fresh batch (every train.eval_every steps)"),
    };
    e.detector = {"loss", false, 1.0};
    e.views = {
        {"metrics", "loss", "Loss", QJsonObject{}},
        {"attention", "attention", "Attention", QJsonObject{{"probe_masks", true}, {"scores", true}}},
        {"spectra", "spectra", "Spectra", QJsonObject{}},
        {"matrices", "predictions", "Predictions", matrixPanels()},
    };
    e.dialogKeys = {"task.n", "task.rank", "task.p_mask", "task.batch_size", "model.layers", "model.heads",
                    "model.width", "model.ffn", "optim.lr", "train.steps", "train.seed", "train.snapshot_every"};
    e.headline = {"loss", "loss_obs", "loss_mask"};
    e.references = [](const RunConfig& c) {
        const TaskConfig t = taskOf(c);
        return std::vector<ReferenceLine>{{"copying level p·E[X²]", "MSE", t.pMask * expectedSquare(t)}};
    };
    e.validate = [](const RunConfig& c, const QString& source) -> Status {
        const QString p = source + ": ";
        const TaskConfig t = taskOf(c);
        const ModelConfig m = modelOf(c);
        if (m.width % m.heads != 0)
            return Error{p + "model.width: " + QString::number(m.width) + " is not divisible by model.heads = " +
                         QString::number(m.heads)};
        if (t.n * t.n > m.maxPositions)
            return Error{p + "task.n: n*n = " + QString::number(t.n * t.n) + " tokens exceed model.max_positions = " +
                         QString::number(m.maxPositions)};
        if (t.rank > t.n)
            return Error{p + "task.rank: " + QString::number(t.rank) + " exceeds task.n = " + QString::number(t.n)};
        return Status::success();
    };
    e.smokePreset = "tiny";
    e.smokeOverrides = {"task.n=4", "task.batch_size=16", "task.eval_batch_size=8", "model.layers=2", "model.heads=2",
                        "model.width=16", "model.ffn=32", "train.probe_size=4", "train.eval_every=2"};
    e.quantities = [](const RunConfig& c) {
        const TaskConfig t = taskOf(c);
        const ModelConfig m = modelOf(c);
        return QJsonObject{{"parameter_count", double(bertParameterCount(m))},
                           {"sequence_length", t.seqLen()},
                           {"head_dim", m.headDim()},
                           {"expected_square", expectedSquare(t)},
                           {"copying_loss", t.pMask * expectedSquare(t)},
                           {"copying_level", t.pMask * expectedSquare(t)}};
    };
    return e;
}

}  // namespace

const ExperimentInfo& info() {
    static const ExperimentInfo e = makeInfo();
    return e;
}

}  // namespace plateau::mc
