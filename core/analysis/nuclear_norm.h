// Nuclear-norm matrix completion: the baseline the paper compares its BERT with (Fig 3; the
// authors solve it with CVXPY). Pure Eigen, no torch: any thread.
//
// Exact form      min ||X||_*  subject to  X_ij = A_ij on the observed entries (i, j) in Omega,
//                 solved by over-relaxed ADMM on X = Z (X feasible, Z nuclear) with residual balancing;
// regularised     min (1/|Omega|) ||P_Omega(X - A)||_F^2 + lambda ||X||_*,
//                 solved by accelerated proximal gradient (FISTA on soft-impute's step, with a
//                 monotone restart).
// Both stop when the optimality residuals (below) are under `tolerance`, relative to ||P_Omega A||_F,
// and say whether they got there; neither throws.
#pragma once

#include <Eigen/Core>

namespace plateau {

using ObservedMask = Eigen::Array<bool, Eigen::Dynamic, Eigen::Dynamic>;  // true = observed

struct NuclearNormOptions {
    double tolerance = 1e-6;    // relative residual at which a solve stops
    int maxIterations = 20000;
};

struct NuclearNormResult {
    Eigen::MatrixXd x;          // the completion (observed entries equal A's in the exact form)
    double nuclearNorm = 0;     // ||x||_*
    int iterations = 0;
    bool converged = false;
    // Exact form: max(primal ||X - Z||_F, dual rho ||Z_k - Z_(k-1)||_F) / ||P_Omega A||_F.
    // Regularised: ||X - prox(X - t grad)||_F / ||P_Omega A||_F (0 exactly at the optimum).
    double residual = 0;
};

double nuclearNorm(const Eigen::MatrixXd& x);
// The proximal map of tau ||.||_*: singular values shrunk by tau and cut at 0.
Eigen::MatrixXd singularValueThreshold(const Eigen::MatrixXd& x, double tau);

NuclearNormResult completeExact(const Eigen::MatrixXd& a, const ObservedMask& observed,
                                const NuclearNormOptions& options = {});
NuclearNormResult completeRegularised(const Eigen::MatrixXd& a, const ObservedMask& observed, double lambda,
                                      const NuclearNormOptions& options = {});

}  // namespace plateau
