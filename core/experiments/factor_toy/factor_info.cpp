// The factor toy's description: fields, columns (one imbalance column per lambda), views.
#include "experiments/factor_toy/factor_info.h"

#include <QJsonArray>
#include <algorithm>
#include <cmath>

namespace plateau::factor {

Settings settingsOf(const RunConfig& c) {
    Settings s;
    s.diag = c.task.list("diag");
    s.lambdas = c.task.list("lambdas");
    s.fitWeight = c.task.d("fit_weight");
    s.initStd = c.model.d("init_std");
    s.float64 = c.model.s("dtype") == "float64";
    return s;
}

std::vector<double> predictedSingularValues(const std::vector<double>& diag, double lambda, double fitWeight) {
    std::vector<double> out;
    for (double d : diag) out.push_back(std::max(0.0, std::abs(d) - lambda / (2 * fitWeight)));
    std::sort(out.begin(), out.end(), std::greater<double>());
    return out;
}

namespace {

std::vector<double> defaultLambdas() {
    std::vector<double> l;
    for (int i = 0; i <= 20; ++i) l.push_back(0.1 * i);
    return l;
}

ExperimentInfo makeInfo() {
    ExperimentInfo e;
    e.id = "factor_toy";
    e.title = "Weight decay on two factors (toy 1)";
    e.paper = "Kobayashi, Akram & von Oswald, Weight decay induces low-rank attention layers, NeurIPS 2024 (toy 1)";
    e.summary = "Plain gradient descent on two n x n factors A, B with loss w ||A B^T - D||^2 + lambda/2 (||A||^2 + "
                "||B||^2), D = diag(0.2, 0.4, 0.6, 0.8, 1), one factor pair per lambda trained side by side. Weight "
                "decay on the factors acts as nuclear-norm regularisation of the product: its singular values fall "
                "linearly with lambda and vanish once lambda / (2 w) passes them, and the imbalance ||A^T A - B^T B|| "
                "decays like exp(-2 lambda t) (t = the sum of learning rates). No transformer; a run takes seconds.";
    e.taskFields = {
        listField("diag", {0.2, 0.4, 0.6, 0.8, 1.0}, -100, 100, 16, "the diagonal of the target D (n = its length)"),
        listField("lambdas", defaultLambdas(), 0, 100, 64, "weight decay lambda of each factor pair"),
        doubleField("fit_weight", 1.0, 1e-6, 1e6,
                    "w of the data term w ||A B^T - D||^2 (the paper's formula: 1; 0.5 prunes singular values at lambda = d)"),
    };
    e.modelFields = {
        doubleField("init_std", 0.3, 0.0, 10.0, "A and B start with i.i.d. N(0, s^2) entries (0: exactly zero, a saddle)"),
        stringField("dtype", "float64", {"float64", "float32"},
                    "float64 shows the imbalance's decay over more decades (sgd only); float32 also trains with adam"),
    };
    auto col = [](const QString& key, const QString& label, const QString& unit, bool shown, const QString& help) {
        return metricColumn(key, label, unit, true, Better::Lower, shown, help);
    };
    e.columns = {
        col("loss", "objective", "objective", true, "the summed objective of all factor pairs (what descends)"),
        col("fit", "mean ||A Bᵀ − D||²", "objective", true, "the data term of each pair, averaged over the pairs"),
    };
    e.extraColumns = [col](const RunConfig& cfg) {
        std::vector<MetricColumn> out;
        const std::vector<double> lambdas = cfg.task.list("lambdas");
        for (std::size_t j = 0; j < lambdas.size(); ++j) {
            const double l = lambdas[j];
            // A few curves by default (0, 0.2, 0.4, 1): all 21 in one plot hide each other.
            const bool shown = std::abs(l) < 1e-9 || std::abs(l - 0.2) < 1e-9 || std::abs(l - 0.4) < 1e-9 ||
                               std::abs(l - 1.0) < 1e-9;
            out.push_back(col(QString("imbalance_%1").arg(j), QString("‖AᵀA−BᵀB‖ λ=%1").arg(l, 0, 'g', 4), "imbalance",
                              shown, QString("||A^T A - B^T B||_F of the pair with lambda = %1").arg(l)));
        }
        return out;
    };
    e.detector = {"loss", false, 1.0};
    QJsonObject panels{
        {"item_label", "pair (λ index)"},
        {"item_values", QJsonArray{QJsonObject{{"array", "factor.lambdas"}, {"name", "λ"}}}},
        {"panels", QJsonArray{QJsonObject{{"array", "matrices.product"}, {"title", "A Bᵀ"}, {"signed", true}},
                              QJsonObject{{"array", "matrices.target"}, {"title", "target D"}, {"signed", true}},
                              QJsonObject{{"array", "matrices.imbalance"}, {"title", "AᵀA − BᵀB"}, {"signed", true}}}}};
    e.views = {
        {"metrics", "metrics", "Metrics", QJsonObject{}},
        {"factor", "factors", "Singular values", QJsonObject{}},
        {"matrices", "matrices", "Matrices", panels},
    };
    e.dialogKeys = {"task.diag", "task.lambdas", "task.fit_weight", "model.init_std", "model.dtype", "optim.lr",
                    "train.steps", "train.seed"};
    e.headline = {"loss", "fit"};
    e.validate = [](const RunConfig& c, const QString& source) -> Status {
        const Settings s = settingsOf(c);
        if (s.float64 && c.optim.name != "sgd")
            return Error{source + ": optim.name: the factor toy's float64 factors train with sgd (got " + c.optim.name +
                         "); set model.dtype = float32 for " + c.optim.name};
        return Status::success();
    };
    e.smokePreset = "factor-toy";
    e.smokeOverrides = {"task.lambdas=[0, 0.4, 1.0]"};
    e.quantities = [](const RunConfig& c) {
        const Settings s = settingsOf(c);
        QJsonArray pred;
        for (double l : s.lambdas) {
            QJsonArray row;
            for (double v : predictedSingularValues(s.diag, l, s.fitWeight)) row.append(v);
            pred.append(row);
        }
        return QJsonObject{{"parameter_count", double(2 * s.lambdas.size() * s.diag.size() * s.diag.size())},
                           {"pairs", int(s.lambdas.size())},
                           {"n", s.n()},
                           {"predicted_singular_values", pred}};
    };
    return e;
}

}  // namespace

const ExperimentInfo& info() {
    static const ExperimentInfo e = makeInfo();
    return e;
}

}  // namespace plateau::factor
