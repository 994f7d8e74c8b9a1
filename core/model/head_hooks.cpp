#include "model/head_hooks.h"

namespace plateau {

bool HeadHooks::touches(int layer) const {
    if (contexts || patchContexts.count(layer)) return true;
    for (const HeadIntervention& iv : interventions)
        if (iv.layer == layer) return true;
    return false;
}

torch::Tensor applyInterventions(const HeadHooks& hooks, int layer, torch::Tensor probs, const torch::Tensor& visible) {
    const auto B = probs.size(0), H = probs.size(1), T = probs.size(2);
    bool cloned = false;
    for (const HeadIntervention& iv : hooks.interventions) {
        if (iv.layer != layer || iv.head < 0 || iv.head >= H) continue;
        torch::Tensor replacement;
        switch (iv.kind) {
        case HeadIntervention::Kind::Zero: replacement = torch::zeros_like(probs.select(1, iv.head)); break;
        case HeadIntervention::Kind::MeanProbs: replacement = probs.select(1, iv.head).mean(0, true).expand({B, T, T}); break;
        case HeadIntervention::Kind::UniformProbs: {
            const auto v = visible.to(probs.scalar_type());
            replacement = (v / v.sum(1, true)).expand({B, T, T});
            break;
        }
        }
        if (!cloned) probs = probs.clone(), cloned = true;
        probs.select(1, iv.head).copy_(replacement);
    }
    return probs;
}

torch::Tensor applyPatch(const HeadHooks& hooks, int layer, torch::Tensor ctx) {
    auto patch = hooks.patchContexts.find(layer);
    if (patch == hooks.patchContexts.end()) return ctx;
    TORCH_CHECK(patch->second.sizes() == ctx.sizes(), "patched context must be (B, H, T, dh)");
    ctx = ctx.clone();
    if (hooks.patchHeads.empty()) ctx.copy_(patch->second);
    for (int hd : hooks.patchHeads) ctx.select(1, hd).copy_(patch->second.select(1, hd));
    return ctx;
}

}  // namespace plateau
