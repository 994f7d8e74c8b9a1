#include "analysis/nuclear_norm.h"

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>

#include <algorithm>
#include <cmath>

namespace plateau {

namespace {

// SVT that also gives the nuclear norm of what it returns (the shrunk values' sum), from the
// eigendecomposition of the Gram matrix XᵀX = V diag(s²) Vᵀ: SVT(X) = X V diag(max(1 - tau/s, 0)) Vᵀ,
// no U needed; ~3x faster than a Jacobi SVD at 7x7. Squaring loses the singular values below
// ~1e-8 of the largest, and those are cut anyway for any tau the solvers use (a scale of 1e-8 of
// the data or more); with tau = 0 or a wide matrix the Jacobi SVD is used.
Eigen::MatrixXd shrink(const Eigen::MatrixXd& x, double tau, double* nuclear) {
    if (tau > 0 && x.rows() >= x.cols()) {
        const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(x.transpose() * x);
        const Eigen::VectorXd s = eig.eigenvalues().cwiseMax(0.0).cwiseSqrt();
        Eigen::VectorXd keep(s.size());
        double sum = 0;
        for (Eigen::Index i = 0; i < s.size(); ++i) {
            keep(i) = s(i) > tau ? 1.0 - tau / s(i) : 0.0;
            sum += std::max(s(i) - tau, 0.0);
        }
        if (nuclear) *nuclear = sum;
        const Eigen::MatrixXd& v = eig.eigenvectors();
        return x * (v * keep.asDiagonal() * v.transpose());
    }
    const Eigen::JacobiSVD<Eigen::MatrixXd> svd(x, Eigen::ComputeThinU | Eigen::ComputeThinV);
    const Eigen::VectorXd s = (svd.singularValues().array() - tau).max(0.0).matrix();
    if (nuclear) *nuclear = s.sum();
    return svd.matrixU() * s.asDiagonal() * svd.matrixV().transpose();
}

// P_Omega(a) + P_Omega^c(rest): the observed entries from a, the others from rest.
Eigen::MatrixXd withObserved(const Eigen::MatrixXd& a, const ObservedMask& observed, const Eigen::MatrixXd& rest) {
    return observed.select(a, rest);
}

double observedNorm(const Eigen::MatrixXd& a, const ObservedMask& observed) {
    const double n = observed.select(a, Eigen::MatrixXd::Zero(a.rows(), a.cols())).norm();
    return n > 0 ? n : 1.0;  // nothing observed (or all zero): absolute residuals
}

}  // namespace

double nuclearNorm(const Eigen::MatrixXd& x) {
    if (x.size() == 0) return 0.0;
    return Eigen::JacobiSVD<Eigen::MatrixXd>(x).singularValues().sum();
}

Eigen::MatrixXd singularValueThreshold(const Eigen::MatrixXd& x, double tau) { return shrink(x, tau, nullptr); }

NuclearNormResult completeExact(const Eigen::MatrixXd& a, const ObservedMask& observed, const NuclearNormOptions& o) {
    NuclearNormResult r;
    const double scale = observedNorm(a, observed);
    const Eigen::MatrixXd zeros = Eigen::MatrixXd::Zero(a.rows(), a.cols());
    Eigen::MatrixXd z = withObserved(a, observed, zeros), u = zeros, x = z;
    // rho sets the SVT threshold 1 / rho. Measured on 256 rank-2 7x7 matrices at p_mask 0.3 (to a
    // relative residual of 1e-6): rho = 30 / ||P_Omega A||, over-relaxation 1.6 and residual
    // balancing every 10 iterations (Boyd et al. 2011, 3.4.1 and 3.4.3) took ~730 iterations;
    // rho 10 balanced every iteration without relaxation ~2200 at 1e-7, rho 1000 without balancing 9000.
    double rho = 30.0 / scale;
    constexpr double kRelax = 1.6;
    for (r.iterations = 1; r.iterations <= o.maxIterations; ++r.iterations) {
        x = withObserved(a, observed, z - u);
        const Eigen::MatrixXd relaxed = kRelax * x + (1.0 - kRelax) * z;
        const Eigen::MatrixXd zPrev = z;
        z = shrink(relaxed + u, 1.0 / rho, nullptr);
        u += relaxed - z;
        const double primal = (x - z).norm(), dual = rho * (z - zPrev).norm();
        r.residual = std::max(primal, dual) / scale;
        if (r.residual < o.tolerance) {
            r.converged = true;
            break;
        }
        if (r.iterations % 10 != 0) continue;
        if (primal > 10 * dual) {
            rho *= 2;
            u /= 2;  // scaled dual variable: u = y / rho
        } else if (dual > 10 * primal) {
            rho /= 2;
            u *= 2;
        }
    }
    r.iterations = std::min(r.iterations, o.maxIterations);
    r.x = x;  // feasible by construction
    r.nuclearNorm = nuclearNorm(x);
    return r;
}

NuclearNormResult completeRegularised(const Eigen::MatrixXd& a, const ObservedMask& observed, double lambda,
                                      const NuclearNormOptions& o) {
    NuclearNormResult r;
    const double scale = observedNorm(a, observed);
    const double count = std::max<double>(1.0, double(observed.count()));
    const Eigen::MatrixXd zeros = Eigen::MatrixXd::Zero(a.rows(), a.cols());
    const Eigen::MatrixXd residualMask = observed.select(Eigen::MatrixXd::Ones(a.rows(), a.cols()), zeros);
    // f(X) = ||P(X - A)||^2 / |Omega| has a (2 / |Omega|)-Lipschitz gradient: with step t = |Omega| / 2
    // the gradient step is P(A) + P^c(Y) and the prox shrinks by t lambda (soft-impute's update).
    const double tau = lambda * count / 2.0;
    auto objective = [&](const Eigen::MatrixXd& x, double nuclear) {
        return (residualMask.array() * (x - a).array()).matrix().squaredNorm() / count + lambda * nuclear;
    };
    Eigen::MatrixXd x = withObserved(a, observed, zeros), xPrev = x;
    double nuclear = nuclearNorm(x), theta = 1.0;
    double f = objective(x, nuclear);
    for (r.iterations = 1; r.iterations <= o.maxIterations; ++r.iterations) {
        const double thetaNext = (1.0 + std::sqrt(1.0 + 4.0 * theta * theta)) / 2.0;
        const Eigen::MatrixXd y = x + ((theta - 1.0) / thetaNext) * (x - xPrev);
        double nuclearNext = 0;
        Eigen::MatrixXd next = shrink(withObserved(a, observed, y), tau, &nuclearNext);
        const double fNext = objective(next, nuclearNext);
        if (fNext > f) {  // momentum overshot: restart from x with a plain proximal step
            theta = 1.0;
            next = shrink(withObserved(a, observed, x), tau, &nuclearNext);
            xPrev = x;
            x = next;
            nuclear = nuclearNext;
            f = objective(x, nuclear);
        } else {
            xPrev = x;
            x = next;
            nuclear = nuclearNext;
            f = fNext;
            theta = thetaNext;
        }
        // The fixed-point residual of the plain step at x (zero exactly at the optimum).
        r.residual = (x - shrink(withObserved(a, observed, x), tau, nullptr)).norm() / scale;
        if (r.residual < o.tolerance) {
            r.converged = true;
            break;
        }
    }
    r.iterations = std::min(r.iterations, o.maxIterations);
    r.x = x;
    r.nuclearNorm = nuclear;
    return r;
}

}  // namespace plateau
