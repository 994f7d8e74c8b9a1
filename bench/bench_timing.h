// Timing helper shared by the C++ benches.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace plateau::bench {

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

}  // namespace plateau::bench
