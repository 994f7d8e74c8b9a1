#include <torch/torch.h>

#include "experiments/factor_toy/factor_experiment.h"

#include <Eigen/Dense>

#include <chrono>

namespace plateau {

FactorExperiment::FactorExperiment(const RunConfig& cfg) : Experiment(cfg), m_s(factor::settingsOf(cfg)) {
    const auto dtype = m_s.float64 ? torch::kFloat64 : torch::kFloat32;
    const std::int64_t P = std::int64_t(m_s.lambdas.size()), n = m_s.n();
    auto opts = torch::TensorOptions().dtype(dtype);
    {
        torch::NoGradGuard noGrad;
        m_a = torch::empty({P, n, n}, opts);
        m_b = torch::empty({P, n, n}, opts);
        if (m_s.initStd > 0) {
            m_a.normal_(0.0, m_s.initStd, m_gen);
            m_b.normal_(0.0, m_s.initStd, m_gen);
        } else {
            m_a.zero_();
            m_b.zero_();
        }
    }
    m_a.requires_grad_(true);
    m_b.requires_grad_(true);
    m_d = torch::diag(torch::tensor(m_s.diag, torch::TensorOptions().dtype(torch::kFloat64))).to(dtype);
    m_lambda = torch::tensor(m_s.lambdas, torch::TensorOptions().dtype(torch::kFloat64)).to(dtype);
}

std::vector<NamedParameter> FactorExperiment::parameters() {
    return {{"A", m_a, ParamRole::Other, false}, {"B", m_b, ParamRole::Other, false}};
}

torch::Tensor FactorExperiment::imbalance() const {
    torch::NoGradGuard noGrad;
    const torch::Tensor g = torch::matmul(m_a.transpose(1, 2), m_a) - torch::matmul(m_b.transpose(1, 2), m_b);
    return g.to(torch::kFloat64).pow(2).sum({1, 2}).sqrt();
}

// The objective summed over the pairs, so that each pair follows its own gradient descent.
StepOutput FactorExperiment::trainStep(qint64) {
    const torch::Tensor r = torch::matmul(m_a, m_b.transpose(1, 2)) - m_d;  // (P, n, n)
    const torch::Tensor fit = r.pow(2).sum({1, 2});                           // (P)
    const torch::Tensor reg = 0.5 * m_lambda * (m_a.pow(2).sum({1, 2}) + m_b.pow(2).sum({1, 2}));
    StepOutput out;
    out.loss = (m_s.fitWeight * fit + reg).sum();
    out.values = emptyValues();
    out.values[0] = out.loss.item<double>();
    out.values[1] = fit.mean().item<double>();
    const torch::Tensor imb = imbalance().contiguous();
    for (std::int64_t j = 0; j < imb.size(0); ++j) out.values[std::size_t(2 + j)] = imb.data_ptr<double>()[j];
    return out;
}

SnapshotPtr FactorExperiment::snapshot(qint64 step, double timeS, const ProbeSpec&, bool saved) {
    const auto t0 = std::chrono::steady_clock::now();
    torch::NoGradGuard noGrad;
    const int P = int(m_s.lambdas.size()), n = m_s.n();
    auto s = newSnapshot(step, timeS, saved, P);
    const torch::Tensor prod = torch::matmul(m_a, m_b.transpose(1, 2)).to(torch::kFloat64).contiguous();
    const torch::Tensor gram =
        (torch::matmul(m_a.transpose(1, 2), m_a) - torch::matmul(m_b.transpose(1, 2), m_b)).to(torch::kFloat64).contiguous();
    const torch::Tensor imb = imbalance().contiguous();
    float* lambdas = s->addF32("factor.lambdas", {P});
    float* sv = s->addF32("factor.sv", {P, n});
    float* pred = s->addF32("factor.predicted_sv", {P, n});
    float* imbOut = s->addF32("factor.imbalance", {P});
    float* product = s->addF32("matrices.product", {P, n, n});
    float* target = s->addF32("matrices.target", {P, n, n});
    float* gramOut = s->addF32("matrices.imbalance", {P, n, n});
    const double* pp = prod.data_ptr<double>();
    const double* gp = gram.data_ptr<double>();
    for (int j = 0; j < P; ++j) {
        lambdas[j] = float(m_s.lambdas[std::size_t(j)]);
        imbOut[j] = float(imb.data_ptr<double>()[j]);
        const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> x(pp + j * n * n, n, n);
        const Eigen::VectorXd values = Eigen::JacobiSVD<Eigen::MatrixXd>(x).singularValues();  // descending
        const std::vector<double> want = factor::predictedSingularValues(m_s.diag, m_s.lambdas[std::size_t(j)], m_s.fitWeight);
        for (int i = 0; i < n; ++i) {
            sv[j * n + i] = float(values[i]);
            pred[j * n + i] = float(want[std::size_t(i)]);
        }
        for (int k = 0; k < n * n; ++k) {
            product[j * n * n + k] = float(pp[j * n * n + k]);
            gramOut[j * n * n + k] = float(gp[j * n * n + k]);
            target[j * n * n + k] = k / n == k % n ? float(m_s.diag[std::size_t(k / n)]) : 0.f;
        }
    }
    s->buildMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return s;
}

}  // namespace plateau
