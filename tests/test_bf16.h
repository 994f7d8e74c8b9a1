// What the bf16 tests of the models share (tst_model, tst_decoder; issue 16).
#pragma once

#include <torch/torch.h>

#include <QtGlobal>

#include <algorithm>
#include <vector>

// Gradients in bf16 point the way fp32's do: cosine >= 0.97 for every tensor whose fp32 gradient
// is not negligible (norm >= 1e-3 of the largest; a key bias's true gradient is 0, its computed one
// rounding noise in both). Post-LN decoders reach 0.985.
inline bool bf16GradientsAgree(const std::vector<torch::Tensor>& g16, const std::vector<torch::Tensor>& g32) {
    double largest = 0, worst = 1;
    for (const auto& g : g32) largest = std::max(largest, g.norm().item<double>());
    for (std::size_t i = 0; i < g32.size(); ++i) {
        if (g32[i].norm().item<double>() < 1e-3 * largest) continue;
        const double cos = torch::cosine_similarity(g16[i].flatten(), g32[i].flatten(), 0).item<double>();
        worst = std::min(worst, cos);
        if (cos < 0.97) {
            qWarning("parameter %zu: bf16 gradient cosine %.4f", i, cos);
            return false;
        }
    }
    qInfo("bf16 gradients: smallest cosine %.4f", worst);
    return true;
}
