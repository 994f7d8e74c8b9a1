#include "analysis/spectra.h"

#include <Eigen/Dense>
#include <algorithm>

namespace plateau {

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

std::vector<float> lowRankProductSingularValues(const float* a, const float* b, int m, int r) {
    const RowMajor A = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(a, m, r).cast<double>();
    const RowMajor Bt = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(b, r, m)
                            .transpose().cast<double>();
    // A B = Q_A R_A R_B^T Q_B^T with orthonormal Q's: the singular values are those of R_A R_B^T.
    Eigen::HouseholderQR<RowMajor> qa(A), qb(Bt);
    const Eigen::MatrixXd ra = qa.matrixQR().topRows(r).triangularView<Eigen::Upper>();
    const Eigen::MatrixXd rb = qb.matrixQR().topRows(r).triangularView<Eigen::Upper>();
    const Eigen::VectorXd s = Eigen::JacobiSVD<Eigen::MatrixXd>(ra * rb.transpose()).singularValues();
    std::vector<float> out(std::size_t(s.size()));
    for (Eigen::Index i = 0; i < s.size(); ++i) out[std::size_t(i)] = float(s[i]);
    return out;  // JacobiSVD sorts descending
}

CircuitStats circuitStats(const float* a, const float* b, int m, int r) {
    CircuitStats st;
    st.singular = lowRankProductSingularValues(a, b, m, r);
    const RowMajor A = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(a, m, r).cast<double>();
    const RowMajor B = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(b, r, m).cast<double>();
    st.imbalance = (A.transpose() * A - B * B.transpose()).norm();
    double nuclear = 0;
    for (float v : st.singular) nuclear += double(v);
    st.gap = 0.5 * (A.squaredNorm() + B.squaredNorm()) - nuclear;
    return st;
}

int pseudoRank(const std::vector<float>& v, double share) {
    double total = 0;
    for (float x : v) total += double(x);
    if (total <= 0) return 0;
    double acc = 0;
    for (std::size_t k = 0; k < v.size(); ++k) {
        acc += double(v[k]);
        if (acc >= share * total * (1 - 1e-12)) return int(k + 1);
    }
    return int(v.size());
}

void rowColumnScores(const float* attention, int n, float* sameRow, float* sameCol) {
    const int T = n * n;
    double rowSum = 0, colSum = 0;
    for (int q = 0; q < T; ++q) {
        const int qi = q / n, qj = q % n;
        const float* p = attention + std::size_t(q) * std::size_t(T);
        for (int j = 0; j < n; ++j)
            if (j != qj) rowSum += p[qi * n + j];
        for (int i = 0; i < n; ++i)
            if (i != qi) colSum += p[i * n + qj];
    }
    *sameRow = float(rowSum / T);
    *sameCol = float(colSum / T);
}

}  // namespace plateau
