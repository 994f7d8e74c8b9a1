// Data generation in plain C++ (a few thousand numbers per batch): cheaper than torch's RNG
// dispatch and reproducible across thread counts and library versions.
#include "experiments/matrix_completion/mc_task.h"

#include "rng.h"
#include "experiments/matrix_completion/mc_tokens.h"

namespace plateau {

MatrixCompletionTask::MatrixCompletionTask(const mc::TaskConfig& cfg) : m_cfg(cfg) {}

double MatrixCompletionTask::drawFactor(CounterRng& rng) const {
    if (m_cfg.distribution == "gaussian") return rng.normal(0.0, 0.5);
    if (m_cfg.distribution == "laplace") return rng.laplace(0.0, 0.25);
    return rng.uniform(-1.0, 1.0);
}

double MatrixCompletionTask::expectedSquare() const { return mc::expectedSquare(m_cfg); }

Batch MatrixCompletionTask::sample(int batchSize, std::uint64_t seed, DataStream stream,
                                   std::uint64_t step) const {
    return make(batchSize, seed, stream, step, nullptr);
}

Batch MatrixCompletionTask::sampleWithMask(int batchSize, std::uint64_t seed, DataStream stream,
                                           std::uint64_t step,
                                           const std::vector<std::uint8_t>& fixedMask) const {
    return make(batchSize, seed, stream, step, &fixedMask);
}

Batch MatrixCompletionTask::make(int B, std::uint64_t seed, DataStream stream, std::uint64_t step,
                                 const std::vector<std::uint8_t>* fixedMask) const {
    const int n = m_cfg.n, r = m_cfg.rank, T = n * n;
    auto tokens = torch::empty({B, T}, torch::kInt64);
    auto target = torch::empty({B, T}, torch::kFloat32);
    auto mask = torch::empty({B, T}, torch::kBool);
    auto* tok = tokens.data_ptr<std::int64_t>();
    auto* tgt = target.data_ptr<float>();
    auto* msk = mask.data_ptr<bool>();
    std::vector<double> u(std::size_t(n) * r), v(std::size_t(n) * r);
    for (int b = 0; b < B; ++b) {
        // One generator per matrix: matrix b of a batch does not depend on the batch size.
        CounterRng rng(seed, std::uint64_t(stream), step * 1000003ULL + std::uint64_t(b));
        for (double& x : u) x = drawFactor(rng);
        for (double& x : v) x = drawFactor(rng);
        for (int i = 0; i < n; ++i) {
            for (int j = 0; j < n; ++j) {
                double x = 0.0;
                for (int k = 0; k < r; ++k) x += u[i * r + k] * v[j * r + k];
                // Rounded and kept inside the token range, so input and target agree.
                x = tokens::round2(std::clamp(x, -tokens::kMaxAbsValue, tokens::kMaxAbsValue));
                const int t = i * n + j;
                const bool masked = fixedMask ? (*fixedMask)[t] != 0 : rng.uniform() < m_cfg.pMask;
                tgt[b * T + t] = float(x);
                msk[b * T + t] = masked;
                tok[b * T + t] = masked ? tokens::kMask : tokens::valueToId(x);
            }
        }
    }
    return {tokens, target, mask};
}

std::vector<std::uint8_t> MatrixCompletionTask::paperRowMask(int n) {
    if (n < 7) return {};
    std::vector<std::uint8_t> m(std::size_t(n) * n, 0);
    for (int j = 0; j < n; ++j) {
        m[3 * n + j] = 1;
        m[6 * n + j] = 1;
    }
    m[3 * n + 1] = 0;
    m[6 * n + 5] = 0;
    return m;
}

}  // namespace plateau

namespace plateau {

LossParts lossParts(const torch::Tensor& output, const Batch& batch) {
    auto out = output.detach().contiguous();
    const float* o = out.data_ptr<float>();
    const float* t = batch.target.data_ptr<float>();
    const bool* m = batch.mask.data_ptr<bool>();
    double sumAll = 0, sumObs = 0, sumMask = 0, absMask = 0;
    std::int64_t nMask = 0;
    const std::int64_t n = out.numel();
    for (std::int64_t i = 0; i < n; ++i) {
        const double d = double(o[i]) - double(t[i]);
        const double d2 = d * d;
        sumAll += d2;
        if (m[i]) {
            sumMask += d2;
            absMask += std::fabs(double(o[i]));
            ++nMask;
        } else {
            sumObs += d2;
        }
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const std::int64_t nObs = n - nMask;
    return {n ? sumAll / double(n) : nan, nObs ? sumObs / double(nObs) : nan,
            nMask ? sumMask / double(nMask) : nan, nMask ? absMask / double(nMask) : nan};
}

}  // namespace plateau
