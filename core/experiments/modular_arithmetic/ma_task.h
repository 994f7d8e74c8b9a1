// In-context modular arithmetic (issue 18; He, Doshi, Das & Gromov, NeurIPS 2024): the data half,
// no torch. A task is a vector (a, b) in Z_p^2, never shown to the model; an example is the three
// tokens "x y z" with z = a x + b y mod p; a sequence is `examples` examples of one task. The
// reference (`ablghtianyi/ICL_Modular_Arithmetic`, read in ../shared/reference/companion-
// experiments.md, section B) fixes the parallelogram rule for the pre-training tasks, the shared
// train / test split of the (x, y) pairs and the loss on z tokens only; where it leaves a detail
// open the choice is written here and in docs/modular-arithmetic.md.
//
// Everything is a pure function of its seed (counter-based like every data stream of the lab):
// the task set of (spec, seed), sequence b of a batch of (seed, stream, counter, b).
#pragma once

#include "result.h"

#include <cstdint>
#include <vector>

namespace plateau {
class CounterRng;
}

namespace plateau::ma {

struct TaskVector {
    int a = 0, b = 0;
    bool operator==(const TaskVector& o) const { return a == o.a && b == o.b; }
    int index(int p) const { return a * p + b; }
};

inline int answer(const TaskVector& t, int x, int y, int p) { return (t.a * x + t.b * y) % p; }

struct TaskSpec {
    int p = 29;            // the modulus; tokens 0 .. p-1 are the numbers (the vocabulary is p)
    int baseTasks = 8;     // n_tasks_pl: parallelogram bases; n_i.d. = 4 baseTasks
    int oodTasks = 256;    // o.o.d. tasks kept (of the p^2 - n_i.d. others), as the reference's 256
    double alpha = 0.7;    // fraction of the p^2 (x, y) pairs that are "train", shared by all tasks
    int examples = 32;     // examples per sequence (3 tokens each)
};

// Checks a spec before anything is built: every error names `source` and the field.
Status validate(const TaskSpec& s, const QString& source);

struct TaskSet {
    int p = 0;
    // The pre-training (i.d.) tasks in groups of four: base (a, b), then (a, y), (x, b), (x, y) —
    // the corners of a parallelogram in Z_p^2 (base + (x, y) = (a, y) + (x, b)).
    std::vector<TaskVector> id;
    std::vector<TaskVector> ood;    // the other vectors, shuffled with the seed, first oodTasks
    std::vector<int> trainPairs;    // pair indices x p + y, ascending: round(alpha p^2) of them
    std::vector<int> testPairs;     // the rest, ascending
};

// The task set of `spec` for `seed`. Parallelogram rule (the reference's): draw a base (a, b)
// uniformly from Z_p^2 (zeros allowed) not yet taken; draw x uniformly from Z_p \ {a, b} and y from
// Z_p \ {a, b, x}; the group is accepted when none of (a, y), (x, b), (x, y) is taken yet, else x
// and y are drawn again (after 64 tries, a new base). Error (naming `source`) if the groups do not
// fit, which validate() already rules out for any spec it passes.
Result<TaskSet> buildTaskSet(const TaskSpec& spec, std::uint64_t seed, const QString& source);

// Token layout of a sequence of E examples: 3E tokens x0 y0 z0 x1 y1 z1 ...; the model reads the
// first 3E - 1 and predicts each next one. Input position i predicts token i + 1; only z tokens
// are scored: positions i with i % 3 == 1. So `labelled(i)` is that rule, and labels() lists them.
inline bool labelled(int inputPosition) { return inputPosition % 3 == 1; }
inline int inputLength(int examples) { return 3 * examples - 1; }

// One sequence of task t: `examples` (x, y) pairs drawn uniformly, with replacement, from `pairs`
// (the train or the test pairs: a sequence never mixes them), their z computed. Appends 3E tokens.
void appendSequence(const TaskVector& t, const std::vector<int>& pairs, int p, int examples, CounterRng& rng,
                    std::vector<int>& tokens);

}  // namespace plateau::ma
