#include "analysis/analysis_figures.h"

#include <algorithm>

namespace plateau {

using K = AnalysisFigure::Kind;
using S = AnalysisFigure::Steps;

std::vector<qint64> figureSteps(const AnalysisFigure& f, const std::vector<qint64>& steps) {
    if (steps.empty() || f.steps == S::All) return steps;
    if (f.steps == S::Last || steps.size() == 1) return {steps.back()};
    return {steps.front(), steps.back()};
}

std::vector<const std::vector<double>*> AnalysisFigure::rows(const AnalysisTable& t, const std::vector<qint64>& steps) const {
    std::vector<const std::vector<double>*> out;
    const int stepCol = int(t.columns.indexOf("step"));
    const std::vector<qint64> shown = figureSteps(*this, steps);
    std::vector<std::pair<int, double>> filters;
    for (const auto& [c, v] : where) filters.push_back({int(t.columns.indexOf(c)), v});
    for (const auto& row : t.rows) {
        bool keep = true;
        for (const auto& [c, v] : filters) keep = keep && c >= 0 && row[std::size_t(c)] == v;
        if (keep && stepCol >= 0 && steps.size() > 0 && this->steps != S::All)
            keep = std::find(shown.begin(), shown.end(), qint64(row[std::size_t(stepCol)])) != shown.end();
        if (keep) out.push_back(&row);
    }
    return out;
}

namespace {
AnalysisFigure lines(const QString& id, const QString& title, const QString& table, const QString& x, const QStringList& ys,
                     const QStringList& series = {}) {
    AnalysisFigure f;
    f.id = id, f.title = title, f.table = table, f.x = x, f.ys = ys, f.series = series, f.kind = K::Lines;
    f.xLabel = x;
    return f;
}
AnalysisFigure overTraining(const QString& title, const QString& table, const QStringList& ys, const QStringList& series = {},
                            const QString& id = "over_training") {
    AnalysisFigure f = lines(id, title, table, "step", ys, series);
    f.overTraining = true;
    f.xLabel = "training step";
    return f;
}
}  // namespace

std::vector<AnalysisFigure> analysisFigures(const AnalysisResult& r) {
    std::vector<AnalysisFigure> out;
    for (const AnalysisFigure& f : analysisFigures(r.analysis)) {
        const AnalysisTable* t = r.table(f.table);
        if (!t) continue;
        QStringList needed = f.ys + f.series;
        needed << f.x;
        if (!f.colour.isEmpty()) needed << f.colour;
        for (const auto& w : f.where) needed << w.first;
        bool ok = true;
        for (const QString& c : needed) ok = ok && t->columns.contains(c);
        if (ok) out.push_back(f);
    }
    return out;
}

std::vector<AnalysisFigure> analysisFigures(const QString& a) {
    std::vector<AnalysisFigure> out;
    if (a == "nuclear_norm") {
        AnalysisFigure sweep = lines("sweep", "MSE over all entries against p_mask (Fig 3, left)", "sweep", "p_mask",
                                     {"model_mse", "nuclear_mse"}, {"step"});
        sweep.logX = sweep.logY = true, sweep.steps = S::FirstAndLast, sweep.yLabel = "MSE";
        sweep.once = {"nuclear_mse"};
        AnalysisFigure norm = lines("nuclear", "Mean nuclear norm against p_mask (Fig 3, right)", "sweep", "p_mask",
                                    {"nuclear_norm", "truth_nuclear_norm"});
        norm.logX = norm.logY = true, norm.steps = S::Last, norm.yLabel = "nuclear norm";
        AnalysisFigure over = overTraining("Model MSE at each p_mask over training", "sweep", {"model_mse"}, {"p_mask"});
        over.logY = true, over.yLabel = "MSE";
        AnalysisFigure reg = lines("regularised", "Regularised nuclear norm: MSE against lambda", "regularised", "lambda",
                                   {"mse_obs", "mse_mask", "mse"});
        reg.logX = reg.logY = true, reg.yLabel = "MSE";
        out = {sweep, norm, over, reg};
    } else if (a == "copy_test") {
        AnalysisFigure over = overTraining("Copying test over training (Table 1)", "copying", {"replace_loss", "loss_mask"}, {"constant"});
        over.logY = true, over.yLabel = "MSE (masked)", over.nanLabel = "MASK";
        out = {over};
    } else if (a == "linear_probes") {
        AnalysisFigure el = lines("element", "Probe: the entry's value, test MSE per layer (Fig 6)", "probes", "layer",
                                  {"test_mse_mask", "test_mse_obs"}, {"step"});
        el.where = {{"target", 0}}, el.steps = S::FirstAndLast, el.logY = true, el.yLabel = "test MSE";
        AnalysisFigure cos = lines("cosine", "Probes: row and top singular vector, mean |cos| per layer (Fig 6)", "probes", "layer",
                                   {"mean_abs_cos"}, {"target"});
        cos.steps = S::Last, cos.yLabel = "mean |cosine|";
        cos.valueNames = {{0, "element"}, {1, "row"}, {2, "top singular vector"}};
        AnalysisFigure over = overTraining("Element probe at masked entries over training", "probes", {"test_mse_mask"}, {"layer"});
        over.where = {{"target", 0}}, over.logY = true, over.yLabel = "test MSE (masked)";
        // Associative recall's one-hot targets, scored by argmax accuracy.
        AnalysisFigure acc = lines("accuracy", "Probes at the query: argmax accuracy per layer", "probes", "layer", {"test_acc"},
                                   {"target", "step"});
        acc.steps = S::FirstAndLast, acc.yLabel = "test accuracy";
        acc.valueNames = {{0, "value"}, {1, "key"}, {2, "pair holding the key"}};
        AnalysisFigure accOver = overTraining("Probe of the query's value over training", "probes", {"test_acc"}, {"layer"}, "accuracy_over_training");
        accOver.where = {{"target", 0}}, accOver.yLabel = "test accuracy (value)";
        out = {el, cos, over, acc, accOver};
    } else if (a == "embeddings") {
        AnalysisFigure norm = lines("token_norm", "Token embedding norm against value (Fig 7a)", "token_norm", "value", {"norm"}, {"step"});
        norm.steps = S::FirstAndLast, norm.yLabel = "L2 norm";
        AnalysisFigure tok;
        tok.id = "token_pca", tok.title = "Token embeddings, first two principal components, coloured by value (Fig 7b)";
        tok.table = "token_pca", tok.kind = K::Scatter, tok.x = "pc1", tok.ys = {"pc2"}, tok.colour = "value", tok.steps = S::Last;
        tok.xLabel = "PC 1", tok.yLabel = "PC 2", tok.signedColour = true;
        AnalysisFigure pos = tok;
        pos.id = "position_pca", pos.title = "Position embeddings, first two principal components, coloured by column (Fig 7c)";
        pos.table = "position_pca", pos.colour = "column", pos.signedColour = false;
        AnalysisFigure prog = tok;
        prog.id = "progress", prog.title = "Token embeddings of each checkpoint on the last one's components (Fig 7d)";
        prog.table = "progress", prog.steps = S::All, prog.series = {"step"}, prog.colour = "";
        AnalysisFigure perm = overTraining("Loss with the positions permuted, over training", "permute", {"loss"}, {"permutation"}, "permute");
        perm.logY = true, perm.yLabel = "L";
        out = {norm, tok, pos, prog, perm};
    } else if (a == "model_switching") {
        AnalysisFigure over = overTraining("Switched models over training: L_mask", "switching", {"loss_mask"}, {"swapped"});
        over.x = "destination_step", over.where = {{"direction", 1}}, over.logY = true, over.yLabel = "L_mask";
        over.valueNames = {{0, "the checkpoint alone"}, {1, "attention (Q, K, V) from the source"}, {2, "the rest from the source"}};
        AnalysisFigure alone = overTraining("Each checkpoint alone", "switching", {"loss", "loss_obs", "loss_mask"}, {}, "alone");
        alone.x = "destination_step", alone.where = {{"direction", 0}}, alone.logY = true, alone.yLabel = "MSE";
        out = {over, alone};
    } else if (a == "head_ablation") {
        AnalysisFigure grid;
        grid.id = "grid", grid.title = "Loss increase when one head is mean-ablated (layer x head)", grid.table = "grid";
        grid.kind = K::Heatmap, grid.x = "head", grid.ys = {"layer"}, grid.colour = "delta_loss", grid.steps = S::FirstAndLast;
        grid.xLabel = "head", grid.yLabel = "layer", grid.signedColour = true;
        AnalysisFigure over = overTraining("Each head's ablation effect over training", "grid", {"delta_loss"}, {"layer", "head"});
        over.yLabel = "loss increase";
        AnalysisFigure set = overTraining("The chosen heads ablated together", "ablation", {"loss", "base_loss"}, {}, "chosen_heads");
        set.logY = true, set.yLabel = "L";
        AnalysisFigure acc = overTraining("Each head's ablation: change of accuracy over training", "grid", {"delta_acc"},
                                          {"layer", "head"}, "accuracy_over_training");
        acc.yLabel = "accuracy change";
        out = {grid, over, set, acc};
    } else if (a == "activation_patching") {
        AnalysisFigure grid;
        grid.id = "grid", grid.title = "Patched corrupted run: MSE to the clean X at masked entries (layer x head)";
        grid.table = "patching", grid.kind = K::Heatmap, grid.x = "head", grid.ys = {"layer"}, grid.colour = "mse_to_clean_mask";
        grid.steps = S::FirstAndLast, grid.xLabel = "head (-1 = all)", grid.yLabel = "layer";
        AnalysisFigure over = overTraining("Every head of a layer patched: MSE to X at masked entries", "patching",
                                           {"mse_to_clean_mask"}, {"layer"});
        over.where = {{"head", -1}}, over.logY = true, over.yLabel = "MSE to clean X";
        out = {grid, over};
        // The decoders: accuracy of the patched corrupted run against the clean answer (GPT matrix
        // completion: at masked entries; associative recall: at the query).
        for (const QString& suffix : {QString("_mask"), QString()}) {
            AnalysisFigure g = grid;
            g.id = "accuracy_grid" + suffix;
            g.title = suffix.isEmpty() ? "Patched corrupted run: accuracy on the clean answer (layer x head)"
                                       : "Patched corrupted run: accuracy on the clean X at masked entries (layer x head)";
            g.colour = "acc_to_clean" + suffix;
            AnalysisFigure o = overTraining(suffix.isEmpty() ? "Every head of a layer patched: accuracy on the clean answer"
                                                             : "Every head of a layer patched: accuracy on X at masked entries",
                                            "patching", {"acc_to_clean" + suffix, "acc_to_corrupt" + suffix}, {"layer"},
                                            "accuracy_over_training" + suffix);
            o.where = {{"head", -1}}, o.yLabel = "accuracy";
            out.push_back(g);
            out.push_back(o);
        }
    } else if (a == "ood") {
        AnalysisFigure d = lines("distribution", "Model and nuclear norm by entry distribution", "ood", "distribution",
                                 {"model_mse", "nuclear_mse"});
        d.steps = S::Last, d.logY = true, d.yLabel = "MSE", d.xLabel = "distribution (0 uniform, 1 gaussian, 2 laplace)";
        AnalysisFigure over = overTraining("OOD model MSE over training", "ood", {"model_mse"},
                                           {"distribution", "rank", "n", "p_mask"});
        over.logY = true, over.yLabel = "MSE";
        out = {d, over};
    } else if (a == "representation_collapse") {
        AnalysisFigure over = overTraining("Mean pairwise cosine of hidden states over training", "collapse", {"mean_cosine"}, {"layer"});
        over.yLabel = "mean cosine";
        AnalysisFigure per = lines("per_layer", "Mean pairwise cosine per layer", "collapse", "layer", {"mean_cosine"}, {"step"});
        per.steps = S::FirstAndLast, per.yLabel = "mean cosine";
        out = {over, per};
    }
    return out;
}

}  // namespace plateau
