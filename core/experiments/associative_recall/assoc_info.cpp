// Associative recall's description: fields, columns (per-layer pseudo-ranks, imbalance and gap of
// the attention circuits, every step), views.
#include "experiments/associative_recall/assoc_info.h"

namespace plateau::assoc {

Settings settingsOf(const RunConfig& c) {
    Settings s;
    s.pairs = c.task.i("pairs");
    s.keys = c.task.i("keys");
    s.values = c.task.i("values");
    s.labelNoise = c.task.d("label_noise");
    s.batchSize = c.task.i("batch_size");
    s.evalBatchSize = c.task.i("eval_batch_size");
    return s;
}

DecoderDims dimsOf(const RunConfig& c) {
    const Settings s = settingsOf(c);
    return decoderDimsOf(c.model, s.vocab(), s.seqLen());
}

namespace {

DecoderDims defaults() {
    DecoderDims d;
    d.layers = 2;
    d.heads = 4;
    d.width = 64;
    d.ffn = 256;
    d.positions = DecoderDims::Positions::Learned;
    d.norm = DecoderDims::Norm::Pre;
    d.mlp = DecoderDims::Mlp::None;  // attention-only
    d.bias = false;
    d.tiedHead = false;
    d.residualInit = DecoderDims::ResidualInit::AllProjections;
    return d;
}

const auto col = metricColumn;

ExperimentInfo makeInfo() {
    ExperimentInfo e;
    e.id = "associative_recall";
    e.title = "Associative recall with weight decay (toy 2)";
    e.paper = "Kobayashi, Akram & von Oswald, Weight decay induces low-rank attention layers, NeurIPS 2024 (toy 2)";
    e.summary = "Key-value pairs x1 y1 ... xK yK then a query key; the target is its value (a share of training labels "
                "randomised). A 2-layer attention-only decoder trained with AdamW where only the attention weights' "
                "decay varies (the rest fixed): the larger it is, the lower the pseudo-rank of the heads' W_K^T W_Q and "
                "P W_V, and the faster their factors balance (imbalance and nuclear-minus-Frobenius gap fall).";
    e.taskFields = {
        intField("pairs", 20, 1, 256, "K key-value pairs before the query (2K + 1 tokens)"),
        intField("keys", 64, 2, 4096, "key vocabulary; the keys of a sequence are distinct (>= pairs)"),
        intField("values", 64, 2, 4096, "value vocabulary"),
        doubleField("label_noise", 0.05, 0.0, 1.0, "share of training targets replaced by a random value (the paper: 5 %)"),
        intField("batch_size", 128, 1, 1 << 16, "sequences per training step (the paper: 128)"),
        intField("eval_batch_size", 256, 1, 1 << 16, "fresh sequences with clean labels for the evaluation"),
    };
    e.modelFields = decoderModelFields(defaults());
    e.columns = {
        col("loss", "CE (train labels)", "nats", true, Better::Lower, true, "cross-entropy at the query, on the (noisy) training labels"),
        col("acc", "acc (clean)", "accuracy", false, Better::Higher, true, "accuracy at the query against the true values"),
        col("eval_loss", "eval CE", "nats", true, Better::Lower, false, "cross-entropy on a fresh batch with clean labels"),
        col("eval_acc", "eval acc", "accuracy", false, Better::Higher, true, "accuracy on a fresh batch"),
    };
    // Per layer, averaged over its heads, every step: what decay does to the attention circuits.
    e.extraColumns = [](const RunConfig& c) {
        std::vector<MetricColumn> out;
        const int L = c.model.i("layers");
        for (int l = 0; l < L; ++l) {
            const QString at = QString(" L%1").arg(l);
            out.push_back(col(QString("rank_qk_l%1").arg(l), "pseudo-rank QK" + at, "pseudo-rank", false,
                              Better::Neither, true, "mean over heads of k/d_head, k = top singular values of W_K^T W_Q holding 95 %"));
            out.push_back(col(QString("rank_ov_l%1").arg(l), "pseudo-rank OV" + at, "pseudo-rank", false,
                              Better::Neither, true, "the same for P W_V"));
            out.push_back(col(QString("imbalance_qk_l%1").arg(l), "imbalance QK" + at, "imbalance", true, Better::Neither,
                              l == L - 1, "mean over heads of ||W_K W_K^T - W_Q W_Q^T||_F"));
            out.push_back(col(QString("imbalance_ov_l%1").arg(l), "imbalance OV" + at, "imbalance", true, Better::Neither,
                              l == L - 1, "mean over heads of ||P^T P - W_V W_V^T||_F"));
            out.push_back(col(QString("gap_qk_l%1").arg(l), "gap QK" + at, "norm gap", true, Better::Neither,
                              l == L - 1, "mean over heads of (||W_Q||^2 + ||W_K||^2)/2 - ||W_K^T W_Q||_*"));
            out.push_back(col(QString("gap_ov_l%1").arg(l), "gap OV" + at, "norm gap", true, Better::Neither,
                              l == L - 1, "mean over heads of (||P||^2 + ||W_V||^2)/2 - ||P W_V||_*"));
        }
        return out;
    };
    e.detector = {"acc", true, 1.0};
    e.references = [](const RunConfig& c) {
        const Settings s = settingsOf(c);
        return std::vector<ReferenceLine>{{"chance 1/values", "accuracy", 1.0 / s.values},
                                          {"clean labels' ceiling 1 - noise (1 - 1/values)", "accuracy",
                                           1.0 - s.labelNoise * (1.0 - 1.0 / s.values)}};
    };
    e.views = {
        {"metrics", "metrics", "Metrics", QJsonObject{}},
        {"spectra", "spectra", "Spectra", QJsonObject{}},
        {"attention", "attention", "Attention", QJsonObject{}},
    };
    e.dialogKeys = {"optim.attn_weight_decay", "optim.weight_decay", "optim.lr", "task.pairs", "task.label_noise",
                    "model.layers", "model.heads", "model.width", "train.steps", "train.seed"};
    e.headline = {"loss", "acc", "eval_acc"};
    e.validate = [](const RunConfig& c, const QString& source) -> Status {
        const Settings s = settingsOf(c);
        if (s.keys < s.pairs)
            return Error{source + ": task.keys: " + QString::number(s.keys) + " keys cannot give " + QString::number(s.pairs) +
                         " distinct keys per sequence (task.pairs)"};
        return validateDecoderDims(dimsOf(c), source);
    };
    e.quantities = [](const RunConfig& c) {
        QJsonObject q = decoderQuantities(dimsOf(c));
        q["sequence_length"] = settingsOf(c).seqLen();
        q["attention_weight_decay"] = c.optim.attnWeightDecay;
        q["other_weight_decay"] = c.optim.weightDecay;
        return q;
    };
    e.smokePreset = "assoc-recall-wd0.1";
    e.smokeOverrides = {"task.pairs=4", "task.keys=8", "task.values=8", "task.batch_size=8", "task.eval_batch_size=8",
                        "model.width=16", "train.probe_size=4", "train.eval_every=3"};
    return e;
}

}  // namespace

const ExperimentInfo& info() {
    static const ExperimentInfo e = makeInfo();
    return e;
}

}  // namespace plateau::assoc
