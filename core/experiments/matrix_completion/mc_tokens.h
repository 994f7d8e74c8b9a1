// The token scheme of the matrix-completion task: id 0 = MASK (the embedding's padding index),
// then one id per value from -10.00 to 10.00 in steps of 0.01. Pure functions, any thread.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace plateau::tokens {

constexpr int kMask = 0;
constexpr int kVocabSize = 2002;
constexpr int kZeroId = 1001;          // id of the value 0.00
constexpr double kMaxAbsValue = 10.0;  // representable range [-10, 10]

// Rounds to 2 decimals (half away from zero, as Python's round differs only on exact ties,
// which 2-decimal products of doubles do not produce in practice).
inline double round2(double x) { return std::round(x * 100.0) / 100.0; }

// Value (any double) -> token id. Values are rounded to the 0.01 grid and clamped to
// [-10, 10]; the reference truncated instead of rounding, which mis-maps some negatives.
inline int valueToId(double x) {
    const long k = std::lround(std::clamp(x, -kMaxAbsValue, kMaxAbsValue) * 100.0);
    return int(k) + kZeroId;
}

// Token id (1..2001) -> value; MASK has no value and maps to 0.
inline double idToValue(int id) { return id == kMask ? 0.0 : double(id - kZeroId) / 100.0; }

}  // namespace plateau::tokens
