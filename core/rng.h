// Counter-based random numbers for the data stream: the batch at step s is a pure function of
// (seed, stream, step), so a resumed run regenerates exactly the batches it would have seen and
// the checkpoint's "RNG state" is just those three integers. Header-only, no shared state.
#pragma once

#include <cmath>
#include <cstdint>

namespace plateau {

// SplitMix64 finaliser: a strong 64-bit mixer (Steele et al.).
inline std::uint64_t mix64(std::uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// A small sequential generator seeded from (seed, stream, step).
class CounterRng {
public:
    CounterRng(std::uint64_t seed, std::uint64_t stream, std::uint64_t step)
        : m_state(mix64(mix64(seed ^ 0x5eedULL) ^ mix64(stream + 0x51ULL) ^ mix64(step * 0x2545F4914F6CDD1DULL))) {}

    std::uint64_t next() { return mix64(m_state += 0x9e3779b97f4a7c15ULL); }
    // Uniform in [0, 1) with 53 random bits.
    double uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }
    // Uniform in (0, 1): safe for log().
    double uniformOpen() { return (double(next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    double normal(double mean, double sd) {
        // Box-Muller; one value per call keeps the stream layout simple.
        const double u1 = uniformOpen(), u2 = uniform();
        return mean + sd * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    }
    double laplace(double loc, double scale) {
        const double u = uniformOpen() - 0.5;
        return loc - scale * (u < 0 ? -1.0 : 1.0) * std::log(1.0 - 2.0 * std::fabs(u));
    }

private:
    std::uint64_t m_state;
};

}  // namespace plateau
