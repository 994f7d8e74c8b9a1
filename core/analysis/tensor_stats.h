// Small linear-algebra pieces of the analyses (issue 15), on torch tensors, in float64: least
// squares without bias accumulated over chunks (the linear probes), principal components (the
// embedding panels) and the mean pairwise cosine similarity across positions (representation
// collapse). Pure functions and plain classes, any thread.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace plateau {

// min_W ||H W - Y||^2 over rows added chunk by chunk (H (N, D), Y (N, K)), through the normal
// equations in float64 and a pseudo-inverse (a rank-deficient H gives the minimum-norm W, as
// lstsq does). Memory O(D^2 + D K) whatever the number of rows.
class LeastSquares {
public:
    void add(const torch::Tensor& h, const torch::Tensor& y);
    // W (D, K). Call after at least one add().
    torch::Tensor solve() const;
    // Mean over rows and outputs of (H W - Y)^2 on the rows added, for any W.
    double mse(const torch::Tensor& w) const;
    std::int64_t rows() const { return m_rows; }

private:
    torch::Tensor m_gram, m_cross;  // H^T H (D, D), H^T Y (D, K)
    double m_yy = 0;
    std::int64_t m_rows = 0, m_outputs = 0;
};

struct Principal {
    torch::Tensor mean;        // (D)
    torch::Tensor components;  // (k, D), unit rows, by decreasing variance
    std::vector<double> explained;  // each component's share of the total variance
};
// The top k principal components of the rows of x (N, D). Each component's sign is chosen so
// that the projection of the last row is >= 0 (a fixed convention: the panels do not flip
// between checkpoints).
Principal principalComponents(const torch::Tensor& x, int k);
// (x - mean) C^T: (N, k).
torch::Tensor project(const Principal& p, const torch::Tensor& x);

// h (B, T, D): for each sequence the mean cosine similarity over ordered pairs of distinct
// positions, then the mean over sequences. 1 = every position's state is parallel.
double meanPairwiseCosine(const torch::Tensor& h);

// |cos| between matching rows of a and b (N, K), averaged; rows of zero norm count as 0.
double meanAbsCosine(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace plateau
