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
