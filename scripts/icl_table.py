#!/usr/bin/python3
"""Tabulates modular_arithmetic runs (folders made by scripts/preset_search.sh with
PRESET=icl-paper, or any `plateau-cli train` of the experiment): one Markdown row per run with its
configuration, steps per second, the step (and seconds) where the training CE first falls below
0.9 ln p (leaving the chance plateau, 250-step mean), the first evaluation where last-shot o.o.d.
test-pair accuracy reaches 0.6, and the final evaluation's four accuracies (mean over positions /
last shot). --every K also prints every K-th evaluation of each run. Standard library only.

usage: scripts/icl_table.py [--every K] RUN_DIR...
"""
import csv
import io
import json
import math
import os
import subprocess
import sys

CLI = os.path.join(os.path.dirname(__file__), "..", "build", "app", "plateau-cli")
SETS = ["id_train", "id_test", "ood_train", "ood_test"]


def describe(cfg):
    t, m, o = cfg["task"], cfg["model"], cfg["optim"]
    s = (f"p{t['p']} {4 * t['base_tasks']}id E{t['examples']} α{t['alpha']:g} {m['layers']}L{m['heads']}H "
         f"d{m['width']} b{t['batch_size']} lr{o['lr']:g} wd{o['weight_decay']:g}")
    if m.get("embedding_init_std", 0.02) != 0.02:
        s += f" emb{m['embedding_init_std']:g}"
    if o.get("beta1", 0.9) != 0.9:
        s += f" β₁{o['beta1']:g}"
    if o.get("schedule") != "constant":
        s += f" {o.get('schedule')}"
    return s + f" seed{cfg['train']['seed']}"


def rows_of(run):
    out = subprocess.run([CLI, "metrics", run, "--csv"], capture_output=True, text=True, check=True).stdout
    return list(csv.DictReader(io.StringIO(out)))


def main(argv):
    every = 0
    if argv[:1] == ["--every"]:
        every, argv = int(argv[1]), argv[2:]
    print("| run | steps/s | leaves chance (step, s) | last-shot o.o.d. test ≥ 0.6 (step, s) | final step | "
          "accuracy i.d. train / i.d. test / o.o.d. train / o.o.d. test (mean; last shot) |")
    print("|---|---:|---:|---:|---:|---|")
    details = []
    for run in argv:
        with open(os.path.join(run, "config.json")) as f:
            cfg = json.load(f)
        cfg = cfg.get("config", cfg)
        p = cfg["task"]["p"]
        rows = rows_of(run)
        if not rows:
            print(f"| {describe(cfg)} | – | no steps | | | |")
            continue
        loss = [float(r["loss"]) for r in rows]
        leave = "–"
        for i in range(250, len(loss) + 1):
            if sum(loss[i - 250:i]) / 250 < 0.9 * math.log(p):
                leave = f"{rows[i - 1]['step']} ({float(rows[i - 1]['time_s']):.0f} s)"
                break
        evals = [r for r in rows if r["acc_ood_test"]]
        reach = next((f"{r['step']} ({float(r['time_s']):.0f} s)" for r in evals if float(r["acc_last_ood_test"]) >= 0.6), "–")
        last = evals[-1] if evals else None
        acc = "–" if last is None else " / ".join(f"{float(last['acc_' + k]):.2f}" for k in SETS) + "; " + \
            " / ".join(f"{float(last['acc_last_' + k]):.2f}" for k in SETS)
        rate = len(rows) / float(rows[-1]["time_s"])
        print(f"| {describe(cfg)} | {rate:.1f} | {leave} | {reach} | {rows[-1]['step']} | {acc} |")
        if every:
            details.append((run, evals[every - 1::every]))
    for run, evals in details:
        print(f"\n{run}")
        for r in evals:
            print(f"  {int(r['step']):6d} {float(r['time_s']):6.0f} s  " +
                  "  ".join(f"{k} {float(r['acc_' + k]):.2f}/{float(r['acc_last_' + k]):.2f}" for k in SETS))


if __name__ == "__main__":
    main(sys.argv[1:])
