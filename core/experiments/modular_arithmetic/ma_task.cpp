#include "experiments/modular_arithmetic/ma_task.h"

#include "rng.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace plateau::ma {

namespace {

// Uniform in [0, n).
int below(CounterRng& rng, int n) { return int(rng.next() % std::uint64_t(n)); }

// Fisher-Yates with the counter generator (std::shuffle's draws are implementation-defined).
void shuffle(std::vector<int>& v, CounterRng& rng) {
    for (int i = int(v.size()) - 1; i > 0; --i) std::swap(v[std::size_t(i)], v[std::size_t(below(rng, i + 1))]);
}

// Streams of the task-set generator, apart from the batches' (DataStream values are small).
constexpr std::uint64_t kTaskStream = 0x7a5c0001ULL, kOodStream = 0x7a5c0002ULL, kPairStream = 0x7a5c0003ULL;

}  // namespace

Status validate(const TaskSpec& s, const QString& source) {
    auto err = [&](const char* field, const QString& why) { return Error{source + ": " + field + " " + why}; };
    if (s.p < 5 || s.p > 257) return err("task.p", QString("is %1; it must be 5 .. 257").arg(s.p));
    if (s.baseTasks < 1) return err("task.base_tasks", QString("is %1; it must be at least 1").arg(s.baseTasks));
    // Four vectors a group, and room for the random search to finish and for o.o.d. tasks: at most
    // three quarters of Z_p^2 i.d.
    if (4 * s.baseTasks > s.p * s.p * 3 / 4)
        return err("task.base_tasks", QString("is %1: 4 x %1 pre-training tasks exceed three quarters of the %2 task vectors of p = %3")
                                          .arg(s.baseTasks).arg(s.p * s.p).arg(s.p));
    if (s.oodTasks < 1) return err("task.ood_tasks", QString("is %1; it must be at least 1").arg(s.oodTasks));
    if (!(s.alpha > 0.0 && s.alpha < 1.0))
        return err("task.alpha", QString("is %1; it must lie strictly between 0 and 1 (train and test pairs both exist)").arg(s.alpha));
    const int train = int(std::lround(s.alpha * s.p * s.p));
    if (train < 1 || train >= s.p * s.p)
        return err("task.alpha", QString("is %1: with p = %2 that leaves no train or no test pair").arg(s.alpha).arg(s.p));
    if (s.examples < 1 || s.examples > 1024) return err("task.examples", QString("is %1; it must be 1 .. 1024").arg(s.examples));
    return {};
}

Result<TaskSet> buildTaskSet(const TaskSpec& s, std::uint64_t seed, const QString& source) {
    if (Status st = validate(s, source); !st) return Error{st.error()};
    const int p = s.p;
    TaskSet set;
    set.p = p;
    std::vector<char> taken(std::size_t(p * p), 0);
    CounterRng rng(seed, kTaskStream, 0);
    const int attemptsPerBase = 64, baseAttempts = 100000;
    for (int tries = 0; int(set.id.size()) < 4 * s.baseTasks; ++tries) {
        if (tries >= baseAttempts)
            return Error{source + QString(": task.base_tasks %1 with p = %2: no room for another parallelogram after %3 tries")
                                      .arg(s.baseTasks).arg(p).arg(baseAttempts)};
        const TaskVector base{below(rng, p), below(rng, p)};
        if (taken[std::size_t(base.index(p))]) continue;
        for (int k = 0; k < attemptsPerBase; ++k) {
            int x = below(rng, p);
            while (x == base.a || x == base.b) x = below(rng, p);
            int y = below(rng, p);
            while (y == base.a || y == base.b || y == x) y = below(rng, p);
            const TaskVector g[3] = {{base.a, y}, {x, base.b}, {x, y}};
            if (taken[std::size_t(g[0].index(p))] || taken[std::size_t(g[1].index(p))] || taken[std::size_t(g[2].index(p))])
                continue;
            for (const TaskVector& v : {base, g[0], g[1], g[2]}) {
                taken[std::size_t(v.index(p))] = 1;
                set.id.push_back(v);
            }
            break;
        }
    }
    std::vector<int> rest;
    for (int i = 0; i < p * p; ++i)
        if (!taken[std::size_t(i)]) rest.push_back(i);
    CounterRng oodRng(seed, kOodStream, 0);
    shuffle(rest, oodRng);
    rest.resize(std::min<std::size_t>(rest.size(), std::size_t(s.oodTasks)));
    for (int i : rest) set.ood.push_back({i / p, i % p});
    std::vector<int> pairs(std::size_t(p * p));
    std::iota(pairs.begin(), pairs.end(), 0);
    CounterRng pairRng(seed, kPairStream, 0);
    shuffle(pairs, pairRng);
    const std::size_t train = std::size_t(std::lround(s.alpha * p * p));
    set.trainPairs.assign(pairs.begin(), pairs.begin() + std::ptrdiff_t(train));
    set.testPairs.assign(pairs.begin() + std::ptrdiff_t(train), pairs.end());
    std::sort(set.trainPairs.begin(), set.trainPairs.end());
    std::sort(set.testPairs.begin(), set.testPairs.end());
    return set;
}

void appendSequence(const TaskVector& t, const std::vector<int>& pairs, int p, int examples, CounterRng& rng,
                    std::vector<int>& tokens) {
    for (int e = 0; e < examples; ++e) {
        const int pair = pairs[std::size_t(below(rng, int(pairs.size())))];
        const int x = pair / p, y = pair % p;
        tokens.push_back(x);
        tokens.push_back(y);
        tokens.push_back(answer(t, x, y, p));
    }
}

}  // namespace plateau::ma
