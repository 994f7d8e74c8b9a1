// In-context modular arithmetic's description: fields, columns (training CE every step; on the
// evaluation cadence accuracy for i.d. / o.o.d. tasks on train / test pairs, over all shots and at
// the last), the detector on o.o.d. test-pair accuracy, views.
#include "experiments/modular_arithmetic/ma_info.h"

#include <QJsonArray>
#include <QJsonObject>

namespace plateau::ma {

Settings settingsOf(const RunConfig& c) {
    Settings s;
    s.spec.p = c.task.i("p");
    s.spec.baseTasks = c.task.i("base_tasks");
    s.spec.oodTasks = c.task.i("ood_tasks");
    s.spec.alpha = c.task.d("alpha");
    s.spec.examples = c.task.i("examples");
    s.batchSize = c.task.i("batch_size");
    s.evalSequencesPerTask = c.task.i("eval_sequences_per_task");
    return s;
}

DecoderDims dimsOf(const RunConfig& c) {
    const Settings s = settingsOf(c);
    return decoderDimsOf(c.model, s.vocab(), s.seqLen());
}

namespace {

// The reference's model: rotary positions over the whole head, pre-LN with a final LayerNorm, no
// biases, ReLU MLP 4x, tied head, N(0, 0.02) with the MLP output projection / sqrt(2 depth).
DecoderDims defaults() {
    DecoderDims d;
    d.layers = 2;
    d.heads = 4;
    d.width = 512;
    d.ffn = 2048;
    d.positions = DecoderDims::Positions::Rotary;
    d.norm = DecoderDims::Norm::Pre;
    d.finalNorm = true;
    d.mlp = DecoderDims::Mlp::Relu;
    d.bias = false;
    d.tiedHead = true;
    d.residualInit = DecoderDims::ResidualInit::MlpProjection;
    return d;
}

const auto col = metricColumn;

const char* kSetKeys[4] = {"id_train", "id_test", "ood_train", "ood_test"};
const char* kSetLabels[4] = {"i.d. tasks, train pairs", "i.d. tasks, test pairs", "o.o.d. tasks, train pairs",
                             "o.o.d. tasks, test pairs"};

ExperimentInfo makeInfo() {
    ExperimentInfo e;
    e.id = "modular_arithmetic";
    e.title = "In-context modular arithmetic";
    e.paper = "He, Doshi, Das & Gromov, Learning to grok: emergence of in-context learning and skill composition in "
              "modular arithmetic tasks, NeurIPS 2024";
    e.summary = "Sequences of examples x y z of one task z = a x + b y mod p; the task vector (a, b) is never shown. A "
                "decoder (rotary, pre-LN, no biases, ReLU MLP, tied head) trained on 4 x base_tasks tasks made by the "
                "parallelogram rule, on a shared fraction alpha of the (x, y) pairs, learns to solve tasks it never saw "
                "from the examples in its context alone: o.o.d. accuracy jumps from chance (1/p); in deeper models the "
                "ability can be transient.";
    e.taskFields = {
        intField("p", 29, 5, 257, "the modulus (the paper: 29); the vocabulary is 0 .. p-1"),
        intField("base_tasks", 8, 1, 1 << 15, "parallelogram bases: 4 x base_tasks pre-training tasks (n_i.d.)"),
        intField("ood_tasks", 256, 1, 1 << 16, "o.o.d. tasks evaluated (the others, shuffled; the reference: 256)"),
        doubleField("alpha", 0.7, 0.0, 1.0, "fraction of the p^2 (x, y) pairs that are train pairs, shared by every task"),
        intField("examples", 32, 1, 1024, "examples x y z per sequence (the paper: 32; the model reads 3 x examples - 1 tokens)"),
        intField("batch_size", 256, 1, 1 << 16, "sequences per step, a multiple of the 4 x base_tasks i.d. tasks (the paper: 1024)"),
        intField("eval_sequences_per_task", 1, 1, 1024, "sequences per task and set at each evaluation"),
    };
    e.modelFields = decoderModelFields(defaults());
    e.columns = {col("loss", "CE (z tokens)", "nats", true, Better::Lower, true,
                     "cross-entropy of the z tokens of the training batch (x, y not scored)")};
    for (int k = 0; k < 4; ++k)
        e.columns.push_back(col(QString("acc_%1").arg(kSetKeys[k]), QString("acc %1").arg(kSetLabels[k]), "accuracy", false,
                                Better::Higher, true,
                                QString("accuracy of every z of fresh sequences of %1, averaged per task").arg(kSetLabels[k])));
    for (int k = 0; k < 4; ++k)
        e.columns.push_back(col(QString("acc_last_%1").arg(kSetKeys[k]), QString("last-shot acc %1").arg(kSetLabels[k]),
                                "accuracy", false, Better::Higher, k == 3,
                                QString("accuracy of the last example's z only, %1").arg(kSetLabels[k])));
    e.detector = {"acc_ood_test", true, 1.0};
    e.references = [](const RunConfig& c) {
        return std::vector<ReferenceLine>{{"chance 1/p", "accuracy", 1.0 / settingsOf(c).spec.p}};
    };
    auto series = [](const QString& scalar, const QString& label, const QString& color, bool dashed) {
        return QJsonObject{{"scalar", scalar}, {"label", label}, {"color", color}, {"dashed", dashed}};
    };
    auto panel = [](const QString& array, const QString& title, bool marks) {
        QJsonObject o{{"array", array}, {"title", title}, {"signed", false}};
        if (marks) o["marks"] = "matrices.test_pair";
        if (array == "matrices.correct") o["range"] = QJsonArray{0, 1};
        return o;
    };
    const QJsonObject maps{
        {"item_label", "map (task 1-2 i.d., 3-4 o.o.d.; shots 1, 2, 4, ... E-1)"},
        {"item_values", QJsonArray{QJsonObject{{"array", "maps.task"}, {"name", "task"}},
                                   QJsonObject{{"array", "maps.shots"}, {"name", "shots"}}}},
        {"panels", QJsonArray{panel("matrices.prediction", "model's z (x rows, y cols)", true),
                              panel("matrices.truth", "a x + b y mod p", false),
                              panel("matrices.correct", "right (1) / wrong (0); × test pair", true)}},
        {"series", QJsonArray{series("map_acc_id", "i.d. tasks: map accuracy", "#0072b2", false),
                              series("map_acc_ood", "o.o.d. tasks: map accuracy", "#d55e00", false),
                              series("acc_ood_test", "probe: o.o.d. tasks, test pairs", "#009e73", true)}},
        {"series_log", false},
        {"series_range", QJsonArray{0, 1}},
        {"series_x_label", "step (snapshots)"},
        {"info", "one fixed context from train pairs, every (x, y) queried; at E-1 shots i.d. %map_acc_id, o.o.d. %map_acc_ood"}};
    auto line = [](int row, const QString& label, const QString& color, bool dashed) {
        return QJsonObject{{"array", "kshot.acc"}, {"row", row}, {"label", label}, {"color", color}, {"dashed", dashed}};
    };
    const QJsonObject kshot{
        {"mode", "lines"},
        {"x_array", "kshot.shots"},
        {"x_label", "examples before the query (shots)"},
        {"y_label", "accuracy of the query's z"},
        {"y_range", QJsonArray{0, 1}},
        {"lines", QJsonArray{line(0, kSetLabels[0], "#0072b2", false), line(1, kSetLabels[1], "#0072b2", true),
                             line(2, kSetLabels[2], "#d55e00", false), line(3, kSetLabels[3], "#d55e00", true)}},
        {"hline_scalar", "chance"},
        {"hline_label", "chance 1/p"}};
    auto colour = [](const QString& array, const QString& label) { return QJsonObject{{"array", array}, {"label", label}}; };
    const QJsonObject pca{
        {"mode", "scatter"},
        {"points", "pca.points"},
        {"explained", "pca.explained"},
        {"item_label", "head"},
        {"item_values", QJsonArray{QJsonObject{{"array", "pca.layer"}, {"name", "layer"}},
                                   QJsonObject{{"array", "pca.head"}, {"name", "head"}}}},
        {"colour_by", QJsonArray{colour("pca.x", "x"), colour("pca.y", "y"), colour("pca.z", "true z"),
                                 colour("pca.model_z", "model's z")}},
        {"cyclic", true},
        {"x_label", "PC 1"},
        {"y_label", "PC 2"}};
    e.views = {
        {"metrics", "metrics", "Metrics", QJsonObject{}},
        {"plot", "kshot", "k-shot accuracy", kshot},
        {"matrices", "maps", "Correctness maps", maps},
        {"plot", "head_pca", "Head outputs (PCA)", pca},
        {"spectra", "spectra", "Spectra", QJsonObject{}},
        {"attention", "attention", "Attention", QJsonObject{}},
    };
    e.dialogKeys = {"task.p", "task.base_tasks", "task.alpha", "task.examples", "model.layers", "model.width",
                    "optim.lr", "optim.weight_decay", "train.steps", "train.seed"};
    e.headline = {"loss", "acc_id_train", "acc_ood_test"};
    e.validate = [](const RunConfig& c, const QString& source) -> Status {
        const Settings s = settingsOf(c);
        if (Status st = validate(s.spec, source); !st) return st;
        if (s.batchSize % s.idTasks() != 0)
            return Error{source + QString(": task.batch_size: %1 is not a multiple of the %2 pre-training tasks "
                                          "(4 x task.base_tasks): every batch holds each task equally often")
                                      .arg(s.batchSize).arg(s.idTasks())};
        return validateDecoderDims(dimsOf(c), source);
    };
    e.quantities = [](const RunConfig& c) {
        const Settings s = settingsOf(c);
        QJsonObject q = decoderQuantities(dimsOf(c));
        q["sequence_length"] = s.seqLen();
        q["id_tasks"] = s.idTasks();
        q["sequences_per_task_per_step"] = s.batchSize / std::max(1, s.idTasks());
        return q;
    };
    e.smokePreset = "icl-paper";
    e.smokeOverrides = {"task.p=7", "task.base_tasks=2", "task.ood_tasks=8", "task.examples=4", "task.batch_size=8",
                        "model.width=16", "model.heads=2", "model.ffn=32", "train.probe_size=4", "train.eval_every=3",
                        "optim.warmup_steps=0"};
    return e;
}

}  // namespace

const ExperimentInfo& info() {
    static const ExperimentInfo e = makeInfo();
    return e;
}

}  // namespace plateau::ma
