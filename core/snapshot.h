// Snapshot: what the live views show at one step, built on the training thread from a fixed probe
// batch and handed to the GUI as std::shared_ptr<const Snapshot>. Plain data, immutable once
// built, no torch types: any thread may read it.
#pragma once

#include <QString>
#include <QtGlobal>
#include <cstdint>
#include <memory>
#include <vector>

namespace plateau {

// Which masks the probe batch uses: i.i.d. random (as in training), the paper's fixed "row" mask
// (Fig 5, n >= 7) or a mask the user drew. The probe matrices themselves never change.
enum class MaskSource { Random = 0, PaperRow = 1, Custom = 2 };
inline QString maskSourceName(MaskSource s) {
    return s == MaskSource::PaperRow ? "row" : s == MaskSource::Custom ? "custom" : "random";
}

// What the worker should probe with; set from the GUI, read by the worker (copied under a lock).
struct ProbeSpec {
    MaskSource source = MaskSource::Random;
    std::vector<std::uint8_t> customMask;  // n*n, 1 = masked (Custom only)
    bool operator==(const ProbeSpec& o) const { return source == o.source && customMask == o.customMask; }
    bool operator!=(const ProbeSpec& o) const { return !(*this == o); }
};

// Singular values of one head's circuits, descending.
struct HeadSpectrum {
    std::vector<float> qk;  // of W_K,h^T W_Q,h  (D x D, rank <= d_head)
    std::vector<float> ov;  // of P_h W_V,h      (D x D, rank <= d_head), P_h = output projection's columns of h
    int qkRank = 0;         // pseudo-rank: smallest k with top-k holding 95 % of the sum
    int ovRank = 0;
};

struct Snapshot {
    qint64 step = 0;          // optimiser updates done
    double timeS = 0;         // training seconds at that step
    int n = 0, layers = 0, heads = 0, probeCount = 0;
    ProbeSpec probe;          // the masks used
    // Probe batch, (B, T) row-major with T = n*n.
    std::vector<float> input;       // value of the input token, 0 where masked
    std::vector<std::uint8_t> masked;
    std::vector<float> target;      // X (rounded)
    std::vector<float> prediction;  // model readout
    // Attention probabilities averaged over the probe batch, (L, H, T, T): [l][h][query][key].
    std::vector<float> attention;
    // Per head (L, H): share of a query's attention on the other entries of its row / column,
    // averaged over queries (uniform attention gives (n-1)/T).
    std::vector<float> sameRow, sameCol;
    std::vector<HeadSpectrum> spectra;  // (L, H)
    // Over the probe batch's masked entries: MSE to the truth (completion) and to 0, what copying
    // the MASK token gives (copying); over observed entries: MSE to the truth.
    double completionMse = 0, copyMse = 0, observedMse = 0;
    double buildMs = 0;  // time the worker spent building it
    bool saved = false;  // stored in the run's snapshots table (kept for scrubbing)

    int seqLen() const { return n * n; }
    float attn(int l, int h, int q, int k) const {
        const std::size_t T = std::size_t(seqLen());
        return attention[((std::size_t(l) * std::size_t(heads) + std::size_t(h)) * T + std::size_t(q)) * T + std::size_t(k)];
    }
    const HeadSpectrum& spectrum(int l, int h) const { return spectra[std::size_t(l * heads + h)]; }
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

}  // namespace plateau
