// Spectra of attention circuits and the per-head attention statistics the live views show.
// Pure Eigen / std, no torch: any thread; the snapshot builder calls them on the training thread.
#pragma once

#include <cstdint>
#include <vector>

namespace plateau {

// Singular values (descending) of A * B where A is (m x r) and B is (r x m), both row-major
// float, r <= m. Computed from the r x r core R_A R_B^T of thin QRs (A = Q_A R_A, B^T = Q_B R_B),
// so a D x D product of rank r costs O(m r^2), not O(m^3).
std::vector<float> lowRankProductSingularValues(const float* a, const float* b, int m, int r);

// The product A B of two factors as weight decay sees it (Kobayashi et al.): its singular values,
// the factors' imbalance ||A^T A - B B^T||_F (the r x r Gram matrices; 0 when balanced) and the gap
// (||A||_F^2 + ||B||_F^2) / 2 - ||A B||_* (>= 0, 0 exactly when the factors are balanced: then the
// weight-decay term equals the product's nuclear norm). Same layout as above.
struct CircuitStats {
    std::vector<float> singular;  // descending
    double imbalance = 0;
    double gap = 0;
};
CircuitStats circuitStats(const float* a, const float* b, int m, int r);

// Smallest k whose top-k values hold at least `share` of the sum (0 for an all-zero spectrum).
int pseudoRank(const std::vector<float>& descendingValues, double share = 0.95);

// attention: one head's (T, T) map, T = n*n, row-major [query][key]. Mean over queries of the
// attention mass on the other entries of the query's row (sameRow) and column (sameCol).
void rowColumnScores(const float* attention, int n, float* sameRow, float* sameCol);

}  // namespace plateau
