#include "train/optimizer.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>

namespace plateau {

void Optimizer::add(const std::string& name, torch::Tensor param, double weightDecay) {
    m_params.push_back({name, std::move(param), weightDecay, std::vector<torch::Tensor>(stateNames().size())});
}

Adam::Adam(double beta1, double beta2, double eps, bool decoupled)
    : m_beta1(beta1), m_beta2(beta2), m_eps(eps), m_decoupled(decoupled) {}

void Adam::step(double lr) {
    torch::NoGradGuard noGrad;
    ++m_step;
    const double bc1 = 1.0 - std::pow(m_beta1, double(m_step));
    const double bc2Sqrt = std::sqrt(1.0 - std::pow(m_beta2, double(m_step)));
    const float stepSize = float(lr / bc1);
    const float b1 = float(m_beta1), b2 = float(m_beta2), eps = float(m_eps);
    const float invBc2Sqrt = float(1.0 / bc2Sqrt);
    // One parallel loop over every parameter's elements (a multi-tensor update): small tensors
    // (biases, LayerNorms) no longer each pay a dispatch, and the threads split the total evenly.
    // Each element's arithmetic is what it was per tensor, so results are bit-identical.
    struct Span {
        float* w;
        const float* g;
        float *m, *v;
        std::int64_t n;
        float wd, decay;
        bool l2;
    };
    std::vector<Span> spans;
    std::vector<std::int64_t> starts;  // first flat index of each span
    std::int64_t total = 0;
    for (OptParam& p : m_params) {
        const torch::Tensor& grad = p.param.grad();
        if (!grad.defined()) continue;
        if (!p.state[0].defined()) {
            p.state[0] = torch::zeros_like(p.param);
            p.state[1] = torch::zeros_like(p.param);
        }
        TORCH_CHECK(p.param.is_contiguous() && grad.is_contiguous(), "Adam needs contiguous tensors");
        TORCH_CHECK(p.param.scalar_type() == torch::kFloat32, "Adam's fused update is float32");
        if (p.param.numel() == 0) continue;
        const float wd = float(p.weightDecay);
        spans.push_back({p.param.data_ptr<float>(), grad.data_ptr<float>(), p.state[0].data_ptr<float>(),
                         p.state[1].data_ptr<float>(), p.param.numel(), wd,
                         m_decoupled ? float(1.0 - lr * p.weightDecay) : 1.0f, !m_decoupled && wd != 0.0f});
        starts.push_back(total);
        total += p.param.numel();
    }
    at::parallel_for(0, total, 16384, [&](std::int64_t begin, std::int64_t end) {
        std::size_t s = std::size_t(std::upper_bound(starts.begin(), starts.end(), begin) - starts.begin()) - 1;
        for (std::int64_t flat = begin; flat < end; ++s) {
            const Span& sp = spans[s];
            const std::int64_t from = flat - starts[s], to = std::min(sp.n, end - starts[s]);
            float* w = sp.w;
            const float* g = sp.g;
            float *m = sp.m, *v = sp.v;
            for (std::int64_t i = from; i < to; ++i) {
                float gi = g[i];
                if (sp.l2) gi += sp.wd * w[i];
                const float mi = m[i] * b1 + (1.0f - b1) * gi;
                const float vi = v[i] * b2 + (1.0f - b2) * gi * gi;
                m[i] = mi;
                v[i] = vi;
                const float denom = std::sqrt(vi) * invBc2Sqrt + eps;
                w[i] = w[i] * sp.decay - stepSize * mi / denom;
            }
            flat = starts[s] + to;
        }
    });
}

Sgd::Sgd(double momentum) : m_momentum(momentum) {}

std::vector<std::string> Sgd::stateNames() const {
    if (m_momentum > 0) return {"momentum_buffer"};
    return {};
}

void Sgd::step(double lr) {
    torch::NoGradGuard noGrad;
    ++m_step;
    for (OptParam& p : m_params) {
        const torch::Tensor& grad = p.param.grad();
        if (!grad.defined()) continue;
        torch::Tensor g = p.weightDecay != 0.0 ? grad.add(p.param, p.weightDecay) : grad;
        if (m_momentum > 0) {
            if (!p.state[0].defined()) p.state[0] = g.clone();  // PyTorch: the first buffer is the gradient
            else p.state[0].mul_(m_momentum).add_(g);
            g = p.state[0];
        }
        p.param.add_(g, -lr);
    }
}

double clipGradNorm(const std::vector<torch::Tensor>& params, double maxNorm) {
    torch::NoGradGuard noGrad;
    double sq = 0.0;
    for (const auto& p : params) {
        const auto& g = p.grad();
        if (!g.defined()) continue;
        if (g.scalar_type() != torch::kFloat32) {  // float64 toys: plain ops
            sq += g.to(torch::kFloat64).pow(2).sum().item<double>();
            continue;
        }
        // Serial double accumulation in four interleaved partial sums: deterministic, no
        // per-tensor dispatch, and no single chain of dependent adds.
        const float* d = g.data_ptr<float>();
        const std::int64_t n = g.numel();
        double acc[4] = {0, 0, 0, 0};
        std::int64_t i = 0;
        for (; i + 4 <= n; i += 4)
            for (int u = 0; u < 4; ++u) acc[u] += double(d[i + u]) * double(d[i + u]);
        for (; i < n; ++i) acc[0] += double(d[i]) * double(d[i]);
        sq += (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
    const double total = std::sqrt(sq);
    if (maxNorm > 0.0) {
        const double coef = maxNorm / (total + 1e-6);
        if (coef < 1.0)
            for (const auto& p : params)
                if (p.grad().defined()) p.grad().mul_(coef);
    }
    return total;
}

}  // namespace plateau
