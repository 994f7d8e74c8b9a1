// The nuclear-norm baseline's solvers on cases with known answers: exact recovery of a rank-1
// matrix, the closed form with every entry observed, and optimality (no feasible direction, no
// direction at all for the regularised form, lowers the objective) where no closed form exists.
#include "analysis/nuclear_norm.h"
#include "test_main.h"

#include <Eigen/SVD>

#include <cmath>
#include <random>

using namespace plateau;

namespace {
Eigen::MatrixXd lowRank(int n, int rank, std::mt19937& rng) {
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    Eigen::MatrixXd a = Eigen::MatrixXd::Zero(n, n);
    for (int k = 0; k < rank; ++k) {
        Eigen::VectorXd p(n), q(n);
        for (int i = 0; i < n; ++i) p(i) = u(rng), q(i) = u(rng);
        a += p * q.transpose();
    }
    return a;
}
ObservedMask randomMask(int n, double pMask, std::mt19937& rng) {
    std::bernoulli_distribution masked(pMask);
    ObservedMask m(n, n);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) m(i, j) = !masked(rng);
    return m;
}
double regularisedObjective(const Eigen::MatrixXd& x, const Eigen::MatrixXd& a, const ObservedMask& m, double lambda) {
    double sq = 0;
    for (int i = 0; i < a.rows(); ++i)
        for (int j = 0; j < a.cols(); ++j)
            if (m(i, j)) sq += (x(i, j) - a(i, j)) * (x(i, j) - a(i, j));
    return sq / double(m.count()) + lambda * nuclearNorm(x);
}
}  // namespace

class TestNuclearNorm : public QObject {
    Q_OBJECT
private slots:
    void thresholdShrinksSingularValues() {
        Eigen::MatrixXd d = Eigen::MatrixXd::Zero(3, 3);
        d.diagonal() << 3.0, 1.0, 0.25;
        std::mt19937 rng(3);
        const Eigen::MatrixXd q1 = Eigen::JacobiSVD<Eigen::MatrixXd>(lowRank(3, 3, rng), Eigen::ComputeFullU).matrixU();
        const Eigen::MatrixXd q2 = Eigen::JacobiSVD<Eigen::MatrixXd>(lowRank(3, 3, rng), Eigen::ComputeFullU).matrixU();
        const Eigen::MatrixXd x = q1 * d * q2.transpose();
        QVERIFY(std::abs(nuclearNorm(x) - 4.25) < 1e-12);
        const Eigen::MatrixXd s = singularValueThreshold(x, 0.5);
        Eigen::MatrixXd expect = Eigen::MatrixXd::Zero(3, 3);
        expect.diagonal() << 2.5, 0.5, 0.0;
        QVERIFY((s - q1 * expect * q2.transpose()).norm() < 1e-12);
    }

    void exactRecoversRankOne() {
        // A rank-1 7x7 matrix with 6 entries masked (no row or column emptied) is the unique
        // minimiser of the nuclear norm among its completions (the paper's Fig 3 regime).
        std::mt19937 rng(11);
        for (int trial = 0; trial < 5; ++trial) {
            const Eigen::MatrixXd a = lowRank(7, 1, rng);
            ObservedMask m = ObservedMask::Constant(7, 7, true);
            std::uniform_int_distribution<int> cell(0, 6);
            for (int k = 0; k < 6;) {
                const int i = cell(rng), j = cell(rng);
                if (!m(i, j)) continue;
                m(i, j) = false;
                if (!m.row(i).any() || !m.col(j).any()) m(i, j) = true;
                else ++k;
            }
            const NuclearNormResult r = completeExact(a, m);
            QVERIFY2(r.converged, qPrintable(QString("residual %1 after %2").arg(r.residual).arg(r.iterations)));
            QVERIFY2((r.x - a).cwiseAbs().maxCoeff() < 1e-5, qPrintable(QString::number((r.x - a).cwiseAbs().maxCoeff())));
            QVERIFY(std::abs(r.nuclearNorm - nuclearNorm(a)) < 1e-5);
            for (int i = 0; i < 7; ++i)
                for (int j = 0; j < 7; ++j)
                    if (m(i, j)) QCOMPARE(r.x(i, j), a(i, j));  // observed entries held exactly
        }
    }

    void exactIsOptimalWhereRecoveryFails() {
        // Rank 2 with half the entries masked: no exact recovery, but no feasible direction (zero on
        // the observed entries) lowers the nuclear norm of the solution.
        std::mt19937 rng(5);
        const Eigen::MatrixXd a = lowRank(7, 2, rng);
        const ObservedMask m = randomMask(7, 0.5, rng);
        const NuclearNormResult r = completeExact(a, m);
        QVERIFY(r.converged);
        std::normal_distribution<double> g(0.0, 1.0);
        for (int k = 0; k < 200; ++k) {
            Eigen::MatrixXd d(7, 7);
            for (int i = 0; i < 7; ++i)
                for (int j = 0; j < 7; ++j) d(i, j) = m(i, j) ? 0.0 : g(rng);
            for (double eps : {1e-3, 1e-2, 1e-1})
                QVERIFY2(nuclearNorm(r.x + eps * d) >= r.nuclearNorm - 1e-6,
                         qPrintable(QString("direction %1 eps %2 lowers it").arg(k).arg(eps)));
        }
        QVERIFY(r.nuclearNorm <= nuclearNorm(a) + 1e-6);  // the truth is feasible too
    }

    void regularisedWithEverythingObservedIsTheThreshold() {
        // Omega = all: min ||X - A||^2 / n^2 + lambda ||X||_* is SVT(A, lambda n^2 / 2).
        std::mt19937 rng(7);
        const Eigen::MatrixXd a = lowRank(7, 3, rng);
        const ObservedMask all = ObservedMask::Constant(7, 7, true);
        for (double lambda : {5e-4, 2e-3, 1e-2}) {
            const NuclearNormResult r = completeRegularised(a, all, lambda);
            QVERIFY(r.converged);
            QVERIFY((r.x - singularValueThreshold(a, lambda * 49 / 2)).norm() < 1e-6);
        }
    }

    void regularisedIsOptimal() {
        std::mt19937 rng(9);
        const Eigen::MatrixXd a = lowRank(7, 2, rng);
        const ObservedMask m = randomMask(7, 0.3, rng);
        std::normal_distribution<double> g(0.0, 1.0);
        for (double lambda : {5e-4, 1.5e-3, 1e-2}) {
            const NuclearNormResult r = completeRegularised(a, m, lambda);
            QVERIFY2(r.converged, qPrintable(QString("lambda %1: residual %2").arg(lambda).arg(r.residual)));
            const double f = regularisedObjective(r.x, a, m, lambda);
            for (int k = 0; k < 100; ++k) {
                Eigen::MatrixXd d(7, 7);
                for (int i = 0; i < 7; ++i)
                    for (int j = 0; j < 7; ++j) d(i, j) = g(rng);
                for (double eps : {1e-3, 1e-2})
                    QVERIFY(regularisedObjective(r.x + eps * d, a, m, lambda) >= f - 1e-9);
            }
        }
        // Larger lambda: smaller nuclear norm.
        const NuclearNormResult lo = completeRegularised(a, m, 5e-4), hi = completeRegularised(a, m, 1e-2);
        QVERIFY(hi.nuclearNorm < lo.nuclearNorm);
        // and below the exact form's minimum: it gives up fitting the observed entries exactly.
        QVERIFY(hi.nuclearNorm < completeExact(a, m).nuclearNorm);
    }

    void degenerateInputsGiveZero() {
        const Eigen::MatrixXd a = Eigen::MatrixXd::Ones(4, 4);
        const ObservedMask none = ObservedMask::Constant(4, 4, false);
        const NuclearNormResult e = completeExact(a, none), r = completeRegularised(a, none, 1e-3);
        QVERIFY(e.converged && r.converged);
        QCOMPARE(e.x.norm(), 0.0);
        QCOMPARE(r.x.norm(), 0.0);
        // A solve stopped by its iteration cap says so.
        std::mt19937 rng(2);
        const Eigen::MatrixXd b = lowRank(7, 2, rng);
        NuclearNormOptions capped;
        capped.maxIterations = 3;
        const NuclearNormResult c = completeExact(b, randomMask(7, 0.4, rng), capped);
        QVERIFY(!c.converged);
        QCOMPARE(c.iterations, 3);
    }
};

PLATEAU_TEST_MAIN(TestNuclearNorm)
#include "tst_nuclear_norm.moc"
