// The GPT matrix completion's description: fields (the paper's GPT as defaults), columns, views.
#include "experiments/gpt_matrix_completion/gpt_mc_info.h"

#include "experiments/matrix_completion/mc_config.h"

#include <QJsonArray>
#include <cmath>

namespace plateau::gptmc {

int valueToken(double x) {
    const double c = std::clamp(x, -kMaxAbs, kMaxAbs);
    return 1 + int(std::lround(100.0 * c)) + 200;
}

double tokenValue(int id) { return id >= 1 && id <= 401 ? double(id - 201) / 100.0 : NAN; }

Settings settingsOf(const RunConfig& c) {
    Settings s;
    s.n = c.task.i("n");
    s.rank = c.task.i("rank");
    s.pMask = c.task.d("p_mask");
    s.distribution = c.task.s("distribution");
    s.batchSize = c.task.i("batch_size");
    s.evalBatchSize = c.task.i("eval_batch_size");
    s.generateItems = c.task.i("generate_items");
    return s;
}

DecoderDims dimsOf(const RunConfig& c) { return decoderDimsOf(c.model, kVocab, settingsOf(c).seqLen()); }

namespace {

DecoderDims paperDims() {
    DecoderDims d;  // minGPT as the authors configured it
    d.layers = 2;
    d.heads = 2;
    d.width = 256;
    d.ffn = 1024;
    d.positions = DecoderDims::Positions::Learned;
    d.norm = DecoderDims::Norm::Pre;
    d.mlp = DecoderDims::Mlp::GeluTanh;
    d.bias = true;
    d.tiedHead = false;
    d.residualInit = DecoderDims::ResidualInit::AllProjections;
    return d;
}

ExperimentInfo makeInfo() {
    ExperimentInfo e;
    e.id = "gpt_matrix_completion";
    e.title = "Matrix completion (GPT)";
    e.paper = "Gopalani, Lubana & Hu, Abrupt Learning in Transformers: A Case Study on Matrix Completion, NeurIPS 2024 "
              "(Fig 11-12, the authors' src/gpt)";
    e.summary = "The paper's GPT variant: a causal decoder reads the masked matrix, SEP, and writes the full matrix "
                "(next-token cross-entropy over the whole sequence). Early in training it suddenly learns to copy the "
                "observed entries into the answer (layer-1 heads attend from each answer position to the same entry "
                "of the prompt); masked entries stay near chance.";
    e.taskFields = {
        intField("n", 7, 2, 11, "matrix side; a sequence has 2 n^2 + 1 tokens"),
        intField("rank", 2, 1, 11, "rank r of X = U V^T (|X| <= 2 fits the token range for r <= 2)"),
        doubleField("p_mask", 0.3, 0.0, 1.0, "probability that an entry is masked in the prompt"),
        stringField("distribution", "uniform", {"uniform", "gaussian", "laplace"},
                    "entries of U, V (values beyond +-2 are clamped to the token range)"),
        intField("batch_size", 256, 1, 1 << 16, "sequences per training step"),
        intField("eval_batch_size", 64, 1, 1 << 16, "fresh sequences for the evaluation (every train.eval_every steps)"),
        intField("generate_items", 8, 1, 256, "probe sequences each snapshot completes greedily (n^2 forward passes)"),
    };
    e.modelFields = decoderModelFields(paperDims());
    const auto col = metricColumn;
    e.columns = {
        col("loss", "CE (all)", "nats", true, Better::Lower, true, "next-token cross-entropy over the whole sequence"),
        col("answer_ce", "CE (answer)", "nats", true, Better::Lower, true, "cross-entropy of the n^2 answer tokens"),
        col("acc_obs", "acc observed", "accuracy", false, Better::Higher, true,
            "teacher-forced accuracy at answer entries observed in the prompt"),
        col("acc_mask", "acc masked", "accuracy", false, Better::Higher, true, "teacher-forced accuracy at masked entries"),
        col("eval_answer_ce", "eval CE (answer)", "nats", true, Better::Lower, false, "answer cross-entropy on a fresh batch"),
        col("eval_gen_acc", "eval generated acc", "accuracy", false, Better::Higher, true,
            "greedy generation of the answer from prompt + SEP: accuracy over all n^2 tokens (fresh batch)"),
        col("eval_gen_acc_obs", "eval generated acc observed", "accuracy", false, Better::Higher, false,
            "greedy generation accuracy at observed entries (fresh batch)"),
        col("eval_gen_acc_mask", "eval generated acc masked", "accuracy", false, Better::Higher, false,
            "greedy generation accuracy at masked entries (fresh batch)"),
    };
    e.detector = {"acc_obs", true, 1.0};
    e.references = [](const RunConfig&) {
        return std::vector<ReferenceLine>{{"uniform over the 401 values: ln 401", "nats", std::log(401.0)}};
    };
    auto panel = [](const QString& array, const QString& title, bool signedValues, const QString& marks) {
        QJsonObject p{{"array", array}, {"title", title}, {"signed", signedValues}};
        if (!marks.isEmpty()) p["marks"] = marks;
        return p;
    };
    auto series = [](const QString& scalar, const QString& label, const QString& color, bool dashed) {
        return QJsonObject{{"scalar", scalar}, {"label", label}, {"color", color}, {"dashed", dashed}};
    };
    const QJsonObject matrices{
        {"item_label", "probe sequence"},
        {"panels", QJsonArray{panel("matrices.input", "prompt (× = masked)", true, "matrices.masked"),
                              panel("matrices.generated", "generated (greedy)", true, "matrices.masked"),
                              panel("matrices.truth", "truth X", true, {}),
                              QJsonObject{{"abs_diff", QJsonArray{"matrices.generated", "matrices.truth"}},
                                          {"title", "|generated − truth|"}, {"marks", "matrices.masked"}, {"signed", false}}}},
        {"series", QJsonArray{series("gen_acc_obs", "generated: accuracy at observed", "#0072b2", false),
                              series("gen_acc_mask", "generated: accuracy at masked", "#d55e00", false),
                              series("acc_obs", "teacher-forced: observed", "#787878", true)}},
        {"series_log", false},
        {"series_range", QJsonArray{0, 1}},
        {"series_x_label", "step (probe sequences)"},
        {"info", "probe: generated accuracy %gen_acc (observed %gen_acc_obs, masked %gen_acc_mask)"}};
    e.views = {
        {"metrics", "metrics", "Metrics", QJsonObject{}},
        {"attention", "attention", "Attention", QJsonObject{}},
        {"spectra", "spectra", "Spectra", QJsonObject{}},
        {"matrices", "completions", "Completions", matrices},
    };
    e.dialogKeys = {"task.n", "task.rank", "task.p_mask", "task.batch_size", "model.layers", "model.heads", "model.width",
                    "model.ffn", "optim.lr", "train.steps", "train.seed"};
    e.headline = {"answer_ce", "acc_obs", "acc_mask", "eval_gen_acc"};
    e.validate = [](const RunConfig& c, const QString& source) -> Status {
        const Settings s = settingsOf(c);
        if (s.rank > s.n)
            return Error{source + ": task.rank: " + QString::number(s.rank) + " exceeds task.n = " + QString::number(s.n)};
        return validateDecoderDims(dimsOf(c), source);
    };
    e.quantities = [](const RunConfig& c) {
        const Settings s = settingsOf(c);
        QJsonObject q = decoderQuantities(dimsOf(c));
        q["sequence_length"] = s.seqLen();
        q["model_input_length"] = s.seqLen() - 1;
        q["expected_square"] = mc::expectedSquare(s.distribution, s.rank);
        return q;
    };
    e.smokePreset = "gpt-quick";
    e.smokeOverrides = {"task.n=3", "task.batch_size=8", "task.eval_batch_size=4", "task.generate_items=2",
                        "model.width=16", "model.ffn=32", "model.heads=2", "train.probe_size=4", "train.eval_every=3"};
    return e;
}

}  // namespace

const ExperimentInfo& info() {
    static const ExperimentInfo e = makeInfo();
    return e;
}

}  // namespace plateau::gptmc
