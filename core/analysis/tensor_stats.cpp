#include "analysis/tensor_stats.h"

namespace plateau {

void LeastSquares::add(const torch::Tensor& h, const torch::Tensor& y) {
    const torch::Tensor hd = h.reshape({-1, h.size(-1)}).to(torch::kFloat64);
    const torch::Tensor yd = y.reshape({hd.size(0), -1}).to(torch::kFloat64);
    const torch::Tensor g = hd.t().mm(hd), c = hd.t().mm(yd);
    if (!m_gram.defined()) m_gram = g, m_cross = c, m_outputs = yd.size(1);
    else m_gram += g, m_cross += c;
    m_yy += yd.square().sum().item<double>();
    m_rows += hd.size(0);
}

torch::Tensor LeastSquares::solve() const {
    TORCH_CHECK(m_gram.defined(), "LeastSquares::solve before add");
    return torch::linalg::pinv(m_gram, 1e-12, /*hermitian=*/true).mm(m_cross);
}

double LeastSquares::mse(const torch::Tensor& w) const {
    const torch::Tensor wd = w.to(torch::kFloat64);
    // ||HW - Y||^2 = tr(W^T G W) - 2 tr(W^T C) + ||Y||^2
    const double sq = (wd * m_gram.mm(wd)).sum().item<double>() - 2.0 * (wd * m_cross).sum().item<double>() + m_yy;
    return std::max(0.0, sq) / double(m_rows * m_outputs);
}

Principal principalComponents(const torch::Tensor& x, int k) {
    const torch::Tensor xd = x.to(torch::kFloat64);
    Principal p;
    p.mean = xd.mean(0);
    const torch::Tensor c = xd - p.mean;
    auto svd = torch::linalg::svd(c, /*full_matrices=*/false, c10::nullopt);
    const torch::Tensor s = std::get<1>(svd), vh = std::get<2>(svd);
    k = int(std::min<std::int64_t>(k, vh.size(0)));
    p.components = vh.slice(0, 0, k).clone();
    const double total = s.square().sum().item<double>();
    for (int i = 0; i < k; ++i) {
        p.explained.push_back(total > 0 ? s[i].square().item<double>() / total : 0.0);
        if ((c[-1] * p.components[i]).sum().item<double>() < 0) p.components[i].neg_();
    }
    return p;
}

torch::Tensor project(const Principal& p, const torch::Tensor& x) {
    return (x.to(torch::kFloat64) - p.mean).mm(p.components.t());
}

double meanPairwiseCosine(const torch::Tensor& h) {
    const torch::Tensor hd = h.to(torch::kFloat64);
    const auto T = hd.size(1);
    if (T < 2) return 1.0;
    const torch::Tensor u = hd / hd.norm(2, -1, true).clamp_min(1e-300);
    const torch::Tensor s = u.sum(1);                       // (B, D)
    const torch::Tensor all = (s * s).sum(-1);              // sum over i, j of cos(i, j)
    const torch::Tensor diag = (u * u).sum({1, 2});         // the i = j terms
    return ((all - diag) / double(T * (T - 1))).mean().item<double>();
}

double meanAbsCosine(const torch::Tensor& a, const torch::Tensor& b) {
    const torch::Tensor ad = a.reshape({-1, a.size(-1)}).to(torch::kFloat64);
    const torch::Tensor bd = b.reshape({-1, b.size(-1)}).to(torch::kFloat64);
    const torch::Tensor den = ad.norm(2, 1) * bd.norm(2, 1);
    const torch::Tensor cos = torch::where(den > 0, (ad * bd).sum(1) / den.clamp_min(1e-300), torch::zeros_like(den));
    return cos.abs().mean().item<double>();
}

}  // namespace plateau
