// The matrix-completion task of Gopalani, Lubana & Hu (NeurIPS 2024): low-rank X = U V^T,
// rounded to 2 decimals, entries masked i.i.d. with p_mask, tokenised row-major. Batches are
// pure functions of (seed, stream, step), so any thread may generate them independently.
#pragma once

#include <torch/torch.h>

#include "experiments/matrix_completion/mc_config.h"
#include "train/data_stream.h"

#include <cstdint>
#include <vector>

namespace plateau {

struct Batch {
    torch::Tensor tokens;  // (B, T) int64: value ids, 0 where masked
    torch::Tensor target;  // (B, T) float32: rounded X, row-major
    torch::Tensor mask;    // (B, T) bool: true where the entry is masked
};

class MatrixCompletionTask {
public:
    explicit MatrixCompletionTask(const mc::TaskConfig& cfg);

    // B fresh matrices with random masks. Deterministic in (seed, stream, step).
    Batch sample(int batchSize, std::uint64_t seed, DataStream stream, std::uint64_t step) const;
    // Same matrices as sample() would give, but every matrix uses `fixedMask` (n*n, 1 = masked).
    Batch sampleWithMask(int batchSize, std::uint64_t seed, DataStream stream, std::uint64_t step,
                         const std::vector<std::uint8_t>& fixedMask) const;

    // The paper's "row" mask (Fig 5): all observed except rows 3 and 6, which are masked except
    // entries (3,1) and (6,5); 0-indexed. Defined for n >= 7 (empty vector otherwise).
    static std::vector<std::uint8_t> paperRowMask(int n);

    // E[X_ij^2] of the unrounded distribution: the loss of predicting 0 everywhere.
    double expectedSquare() const;
    int n() const { return m_cfg.n; }
    int seqLen() const { return m_cfg.n * m_cfg.n; }
    const mc::TaskConfig& config() const { return m_cfg; }

private:
    Batch make(int batchSize, std::uint64_t seed, DataStream stream, std::uint64_t step,
               const std::vector<std::uint8_t>* fixedMask) const;
    double drawFactor(class CounterRng& rng) const;

    mc::TaskConfig m_cfg;
};

}  // namespace plateau

namespace plateau {

// The loss split the paper logs. NaN for an empty part (no masked / no observed entry).
struct LossParts {
    double loss, lossObs, lossMask, meanAbsMaskOut;
};
// output, target: (B, T) float32; mask: (B, T) bool. Plain loops, no autograd.
LossParts lossParts(const torch::Tensor& output, const Batch& batch);

}  // namespace plateau
