#include "view_registry.h"

#include "attention_view.h"
#include "factor_view.h"
#include "matrix_view.h"
#include "metrics_view.h"
#include "plot_view.h"
#include "spectra_view.h"

#include <functional>
#include <map>

namespace plateau {

namespace {
using Factory = std::function<ThrottledView*(const ViewSpec&, SessionModel*, QWidget*)>;
template <class V>
Factory make() {
    return [](const ViewSpec& s, SessionModel* m, QWidget* p) -> ThrottledView* { return new V(m, s.name, s.params, p); };
}
const std::map<QString, Factory>& registry() {
    static const std::map<QString, Factory> r = {
        {"metrics", make<MetricsView>()},
        {"attention", make<AttentionView>()},
        {"spectra", make<SpectraView>()},
        {"matrices", make<MatrixView>()},
        {"plot", make<PlotView>()},
        {"factor", make<FactorView>()},  // the factor toy's own
    };
    return r;
}
}  // namespace

ThrottledView* createView(const ViewSpec& spec, SessionModel* model, QWidget* parent) {
    auto it = registry().find(spec.kind);
    return it == registry().end() ? nullptr : it->second(spec, model, parent);
}

QStringList viewKinds() {
    QStringList out;
    for (const auto& [k, f] : registry()) out << k;
    return out;
}

}  // namespace plateau
