// The independent random data streams of a run (training batches, evaluation batches, the fixed
// probe batch of the snapshots): with the counter-based RNG (rng.h) a batch is a pure function of
// (data seed, stream, step). No torch; any thread.
#pragma once

#include <cstdint>

namespace plateau {

enum class DataStream : std::uint64_t { Train = 0, Eval = 1, Probe = 2, Analysis = 3 };  // Analysis: analyses' fresh data

}  // namespace plateau
