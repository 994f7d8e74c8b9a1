// Per-head forward hooks shared by the encoder (BertEncoder) and the decoder (DecoderLM), for the
// analyses (issue 15): keep each layer's per-head context (softmax(QK^T) V, before the attention
// output projection), replace chosen heads' probabilities (zero, their mean over the batch: the
// paper's mean-ablation, or uniform over the visible keys), and replace chosen heads' contexts by
// given ones (activation patching). Training uses none of it and pays nothing for it.
#pragma once

#include <torch/torch.h>

#include <map>
#include <vector>

namespace plateau {

struct HeadIntervention {
    enum class Kind { Zero, MeanProbs, UniformProbs };
    int layer = 0, head = 0;
    Kind kind = Kind::MeanProbs;  // MeanProbs: the probabilities' mean over the batch (the paper's ablation)
};

struct HeadHooks {
    bool contexts = false;  // every layer's per-head context (B, H, T, dh), before the output projection
    std::vector<HeadIntervention> interventions;
    // Activation patching: layer -> context (B, H, T, dh) whose heads in `patchHeads` (all if empty)
    // replace the computed ones before the output projection.
    std::map<int, torch::Tensor> patchContexts;
    std::vector<int> patchHeads;
    // Whether layer `layer` needs the unfused path (probabilities and contexts by plain ops).
    bool touches(int layer) const;
};

// probs (B, H, T, T) with the interventions on `layer` applied; `visible` (T, T) bool says which
// keys each query may attend to (all for the encoder, the lower triangle for a causal decoder).
torch::Tensor applyInterventions(const HeadHooks& hooks, int layer, torch::Tensor probs, const torch::Tensor& visible);
// ctx (B, H, T, dh) with the patch for `layer` (if any) applied.
torch::Tensor applyPatch(const HeadHooks& hooks, int layer, torch::Tensor ctx);

}  // namespace plateau
