// Timing helper shared by the C++ benches.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace plateau::bench {

// The p-quantile (0..1, nearest rank) of v; 0 for an empty v.
inline double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[std::min(v.size() - 1, std::size_t(p * double(v.size() - 1) + 0.5))];
}

// Median wall time of f() in ms over `reps` calls, after one warm-up call.
template <class F>
double timeMs(F&& f, int reps) {
    f();  // warm-up
    std::vector<double> ms;
    for (int i = 0; i < reps; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

// Positional argument i (1-based) as a positive integer, `def` when absent; anything else (a
// word, "--help", 0, a negative number) prints `usage` and exits with status 2.
inline int positiveArg(int argc, char** argv, int i, int def, const char* usage) {
    if (argc <= i) return def;
    char* end = nullptr;
    const long v = std::strtol(argv[i], &end, 10);
    if (end == argv[i] || *end != '\0' || v <= 0 || v > 1 << 24) {
        std::fprintf(stderr, "argument %d (\"%s\"): expected a positive integer\nusage: %s\n", i, argv[i], usage);
        std::exit(2);
    }
    return int(v);
}

}  // namespace plateau::bench
