// The factor toy's ExperimentInfo and typed settings (no torch): weight decay on the two factors of
// a matrix product acts like nuclear-norm regularisation of the product (Kobayashi, Akram & von
// Oswald, NeurIPS 2024, toy 1).
#pragma once

#include "config.h"
#include "experiment_info.h"

#include <vector>

namespace plateau::factor {

struct Settings {
    std::vector<double> diag;      // D = diag(...), n = its length
    std::vector<double> lambdas;   // one factor pair per lambda, trained side by side
    double fitWeight = 1.0;        // w in  w ||A B^T - D||^2 + lambda/2 (||A||^2 + ||B||^2)
    double initStd = 0.3;          // A, B entries N(0, s^2)
    bool float64 = true;
    int n() const { return int(diag.size()); }
};
Settings settingsOf(const RunConfig& cfg);

// Singular values of the product at the regularised optimum, descending: the balanced factors
// minimise w ||X - D||^2 + lambda ||X||_*, i.e. soft-thresholding of D's singular values by
// lambda / (2 w).
std::vector<double> predictedSingularValues(const std::vector<double>& diag, double lambda, double fitWeight);

const ExperimentInfo& info();

}  // namespace plateau::factor
