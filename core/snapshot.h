// Snapshot: what the live views show at one step, built on the training thread from a fixed probe
// batch and handed to the GUI as std::shared_ptr<const Snapshot>: named, shaped arrays and named
// scalars, plus the token layout the attention guides follow. Plain data, immutable once built,
// no torch types: any thread may read it.
//
// Conventional names, so that views are shared between experiments (docs/architecture.md):
//   attention             f32 (L, H, T, T)  probe-batch mean of the attention probabilities
//   attention.same_row    f32 (L, H)        grid layouts: share on the query's row / column
//   attention.same_col    f32 (L, H)
//   spectra.qk, .ov       f32 (L, H, k)     singular values of W_K^T W_Q and P W_V per head
//   spectra.qk_rank, .ov_rank  i32 (L, H)   pseudo-ranks (95 % of the sum)
//   matrices.<name>       f32 or u8 (B, rows, cols)  small matrix panels of probe item b
//   scalars               any name ("copy_mse", "imbalance", ...)
#pragma once

#include <QString>
#include <QtGlobal>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

namespace plateau {

// Which masks the probe batch uses (matrix completion): i.i.d. random (as in training), the
// paper's fixed "row" mask (Fig 5, n >= 7) or a mask the user drew. Other experiments use Random.
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

// How a sequence's T tokens are arranged, for attention guides and hover text: a plain sequence,
// an n x n grid read row-major, or labelled segments ("prompt | SEP | answer"), each optionally
// an n x n grid itself (gridSide > 0). A segment whose label has one word per token ("x3 y3 z3",
// one example of three tokens) names each token by its word; guides fall at segment starts.
struct TokenSegment {
    QString label;
    int length = 0;
    int gridSide = 0;
};
struct TokenLayout {
    enum Kind : std::uint8_t { Sequence = 0, Grid = 1, Segments = 2 };
    Kind kind = Sequence;
    int n = 0;                          // Grid: side
    std::vector<TokenSegment> segments; // Segments
    int length() const;                 // T
    // "(2,3)", "answer (1,4)", "SEP", "t 17" for token t.
    QString describe(int t) const;
    // The same without commas or spaces, for CSV cells: "r2c3", "answer_r1c4", "SEP", "t17".
    QString label(int t) const;
    // Token indices where a new block starts (grid rows, segment starts), for guide lines.
    std::vector<int> boundaries() const;
    bool operator==(const TokenLayout& o) const;
};

enum class ArrayType : std::uint8_t { F32 = 0, U8 = 1, I32 = 2 };

struct NamedArray {
    ArrayType type = ArrayType::F32;
    std::vector<int> shape;
    std::vector<float> f32;
    std::vector<std::uint8_t> u8;
    std::vector<std::int32_t> i32;
    std::size_t count() const;          // product of the shape
    std::size_t stored() const;         // entries held (must equal count())
    int dim(int i) const { return i >= 0 && i < int(shape.size()) ? shape[std::size_t(i)] : 0; }
    double at(std::size_t i) const;     // any type as double
};

struct Snapshot {
    qint64 step = 0;          // optimiser updates done
    double timeS = 0;         // training seconds at that step
    double buildMs = 0;       // time the worker spent building it
    bool saved = false;       // stored in the run's snapshots table (kept for scrubbing)
    int probeCount = 0;       // items in the probe batch
    ProbeSpec probe;          // the masks used (matrix completion)
    TokenLayout layout;
    std::map<QString, NamedArray> arrays;
    std::map<QString, double> scalars;

    const NamedArray* array(const QString& name) const;
    const float* f32(const QString& name) const;  // null if absent or not f32
    double scalar(const QString& name) const;     // NaN if absent
    bool has(const QString& name) const { return arrays.count(name) > 0; }
    // Adds (or replaces) an array of zeros with this shape and returns it for filling.
    NamedArray& add(const QString& name, ArrayType type, std::vector<int> shape);
    float* addF32(const QString& name, std::vector<int> shape) { return add(name, ArrayType::F32, std::move(shape)).f32.data(); }

    // Attention helpers ("attention" array): layers, heads, sequence length, and one weight.
    int layers() const;
    int heads() const;
    int seqLen() const;
    float attn(int l, int h, int q, int k) const;
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

}  // namespace plateau
