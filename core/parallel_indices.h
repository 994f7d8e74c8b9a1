// forEachIndexInParallel: fn(i) for every i in [0, n), each once, on up to `maxThreads` threads
// (the calling one included; capped by the core count), returning when all are done. For work
// whose state per index is its own, such as a run's SQLite store opened, read and closed on the
// thread that handles that run. No torch.
#pragma once

#include <QThread>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace plateau {

template <class Fn>
void forEachIndexInParallel(std::size_t n, int maxThreads, Fn fn) {
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (std::size_t i; (i = next++) < n;) fn(i);
    };
    const int threads = std::clamp(QThread::idealThreadCount(), 1, std::max(1, maxThreads));
    std::vector<std::thread> pool;
    for (int t = 1; t < threads && std::size_t(t) < n; ++t) pool.emplace_back(work);
    work();
    for (std::thread& t : pool) t.join();
}

}  // namespace plateau
