#!/usr/bin/python3
"""Tabulates preset-search runs (folders made by scripts/preset_search.sh) as Markdown rows,
from `plateau-cli info`: configuration, ms/step, plateau level, drop onset (step and seconds),
fall factor, final L and L_mask / E[X^2]; and, for slow declines the detector does not call drops,
the step and time where the 201-step median of L first falls below 0.8x the copying level and
the lowest such median as a factor below it. Standard library only.

usage: scripts/preset_table.py RUN_DIR...
       scripts/preset_table.py --every K RUN_DIR...   # L_mask / E[X^2], K-step means, one row per run
"""
import json
import os
import sqlite3
import statistics
import subprocess
import sys

CLI = os.path.join(os.path.dirname(__file__), "..", "build", "app", "plateau-cli")


def describe(cfg):
    t, m, o = cfg["task"], cfg["model"], cfg["optim"]
    s = f"n{t['n']} r{t['rank']} {m['layers']}L{m['heads']}H d{m['width']} b{t['batch_size']} lr{o['lr']:g}"
    if m["ffn"] != 4 * m["width"]:
        s += f" ffn{m['ffn']}"
    if t["p_mask"] != 0.3:
        s += f" p{t['p_mask']:g}"
    if o["beta1"] != 0.9:
        s += f" β₁{o['beta1']:g}"
    if o["beta2"] != 0.999:
        s += f" β₂{o['beta2']:g}"
    if o["warmup_steps"]:
        s += f" wu{o['warmup_steps']}"
    if o["schedule"] != "constant":
        s += f" {o['schedule']}"
    if m.get("init_std", 0.02) != 0.02:
        s += f" init{m['init_std']:g}"
    return s


def leaves(run, copying):
    """First step where the 201-step rolling median of L is below 0.8x the copying level, its
    training time, and the factor copying level / smallest such median afterwards."""
    con = sqlite3.connect(f"file:{os.path.join(run, 'metrics.sqlite')}?mode=ro", uri=True)
    rows = con.execute("select step, time_s, loss from metrics order by step").fetchall()
    first, lowest = None, None
    for i in range(100, len(rows) - 100, 20):
        m = statistics.median(r[2] for r in rows[i - 100:i + 101])
        if first is None and m < 0.8 * copying:
            first = rows[i]
        if first is not None:
            lowest = m if lowest is None else min(lowest, m)
    if first is None:
        return "–", "–", "–"
    return f"{first[0]}", f"{first[1]:.0f}", f"{copying / lowest:.1f}x"


def trajectory(runs, every):
    """L_mask / E[X^2] as means over consecutive blocks of `every` steps, a Markdown row per run."""
    table = []
    for run in runs:
        info = json.loads(subprocess.run([CLI, "info", run], capture_output=True, text=True, check=True).stdout)
        ex2 = info["summary"]["expected_square"]
        con = sqlite3.connect(f"file:{os.path.join(run, 'metrics.sqlite')}?mode=ro", uri=True)
        blocks = {}
        for step, lm in con.execute("select step, loss_mask from metrics order by step"):
            blocks.setdefault((step - 1) // every, []).append(lm)
        means = [statistics.fmean(v) / ex2 for _, v in sorted(blocks.items()) if len(v) == every]
        table.append((os.path.basename(os.path.normpath(run)), means))
    width = max((len(v) for _, v in table), default=0)
    print("| run | " + " | ".join(f"{(i + 1) * every / 1000:g}k" for i in range(width)) + " |")
    print("|---|" + "---|" * width)
    for name, v in table:
        print(f"| {name} | " + " | ".join(f"{x:.2f}" for x in v) + " |" * (1 + width - len(v)))


if len(sys.argv) > 2 and sys.argv[1] == "--every":
    trajectory(sys.argv[3:], int(sys.argv[2]))
    sys.exit(0)

print("| run | config | seed | ms/step | plateau L | drop onset step | onset s | end step | factor | final L | final L_mask/E[X²] | leaves step | leaves s | lowest |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for run in sys.argv[1:]:
    try:
        info = json.loads(subprocess.run([CLI, "info", run], capture_output=True, text=True, check=True).stdout)
    except subprocess.CalledProcessError as e:
        print(f"| {os.path.basename(run)} | unreadable: {e.stderr.strip()} |")
        continue
    s, d, cfg = info["summary"], info["detection"], info["config"]
    drops = d["drops"]
    if drops:
        x = drops[0]
        drop = (f"{x['plateau_start_step']:.0f}–{x['onset_step']:.0f} at {x['level_before']:.3g}",
                f"{x['onset_step']:.0f}", f"{x['onset_time_s']:.0f}",
                f"{x['end_step']:.0f}" + ("" if x["complete"] else " (in progress)"), f"{x['factor']:.1f}x")
    else:
        cp = d.get("current_plateau")
        lvl = f"{cp['start_step']:.0f}– at {cp['level']:.3g}" if cp else "–"
        drop = (lvl, "no drop", "–", "–", "–")
    print(f"| {os.path.basename(os.path.normpath(run))} | {describe(cfg)} | {cfg['train']['seed']} | {s['median_step_ms']:.1f} | "
          f"{drop[0]} | {drop[1]} | {drop[2]} | {drop[3]} | {drop[4]} | {s['final_loss']:.3g} | "
          f"{s.get('final_loss_mask_over_expected_square', s['final_loss_mask'] / s['expected_square']):.2f} | " + " | ".join(leaves(run, s["copying_level"])) + " |")
