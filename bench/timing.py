"""Shared by the Python sides of the speed benches: times a training step function and prints the
result as one JSON line (median and minimum ms over the timed steps, after a warm-up)."""
import json
import os
import statistics
import time

import torch


def time_steps(step, warmup, steps, **fields):
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        step(i)
        times.append((time.perf_counter() - t0) * 1000)
    timed = times[warmup:]
    print(json.dumps(dict(impl="pytorch", median_ms=statistics.median(timed), min_ms=min(timed), steps=len(timed),
                          threads=torch.get_num_threads(), torch=torch.__version__, **fields)))


def parse_args(ap, steps, warmup):
    """Adds the options every bench shares (--steps, --warmup, --threads), parses, and sets the
    thread count and seed 1."""
    ap.add_argument("--steps", type=int, default=steps)
    ap.add_argument("--warmup", type=int, default=warmup)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    return args
