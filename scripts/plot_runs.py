#!/usr/bin/python3
"""Loss-curve figure of one or more runs: L (raw, faint) and its rolling median against wall time,
L_mask / E[X^2] below, with the plateau start, drop onset and drop end found by `plateau-cli info`
marked: several runs (seeds) in one figure, which Plateau's own export (one run per figure) does
not draw. Needs python3-matplotlib.

usage: scripts/plot_runs.py --out FIG.png [--x time|step] [--title T] [NAME=RUN_DIR | RUN_DIR]...
"""
import argparse
import json
import os
import sqlite3
import subprocess
import sys

CLI = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "app", "plateau-cli")


def rolling_median(xs, w):
    import statistics
    h = w // 2
    return [statistics.median(xs[max(0, i - h):i + h + 1]) for i in range(len(xs))]


def load(run):
    db = os.path.join(run, "metrics.sqlite")
    if not os.path.exists(db):
        sys.exit(f"plot_runs: {db}: no such file")
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = con.execute("select step, time_s, loss, loss_mask from metrics order by step").fetchall()
    info = json.loads(subprocess.run([CLI, "info", run], capture_output=True, text=True, check=True).stdout)
    return rows, info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--title", default="")
    ap.add_argument("--x", choices=["time", "step"], default="time",
                    help="x axis: training time as recorded (default) or step")
    ap.add_argument("runs", nargs="+", help="RUN_DIR or LABEL=RUN_DIR")
    a = ap.parse_args()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, axm) = plt.subplots(2, 1, figsize=(8, 6.4), sharex=True, height_ratios=[2, 1])
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for idx, spec in enumerate(a.runs):
        label, run = spec.split("=", 1) if "=" in spec else (os.path.basename(spec.rstrip("/")), spec)
        rows, info = load(run)
        c = colours[idx % len(colours)]
        col = 1 if a.x == "time" else 0
        t = [r[col] for r in rows]
        loss = [r[2] for r in rows]
        e2 = info["summary"]["expected_square"]
        w = info["detection"].get("smooth_window", 101)
        ax.plot(t, loss, color=c, alpha=0.15, lw=0.5)
        ax.plot(t, rolling_median(loss, w), color=c, lw=1.5, label=label)
        axm.plot(t, rolling_median([r[3] / e2 for r in rows], w), color=c, lw=1.2)
        step_to_t = {r[0]: r[col] for r in rows}
        for d in info["detection"]["drops"]:
            for key, style in (("plateau_start_step", ":"), ("onset_step", "--"), ("end_step", "-.")):
                s = int(d[key])
                if s in step_to_t:
                    ax.axvline(step_to_t[s], color=c, ls=style, lw=0.8)
        ax.axhline(info["summary"]["copying_level"], color="grey", lw=0.6, ls=":")
    ax.set_yscale("log")
    ax.set_ylabel("training loss L (MSE, all entries)")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(a.title or "plateau and drop (dotted: plateau start, dashed: onset, dash-dot: end)", fontsize=9)
    axm.set_ylabel("L_mask / E[X²]")
    axm.set_xlabel("training time (s, as recorded in the run)" if a.x == "time" else "step")
    axm.axhline(0.25, color="grey", lw=0.6, ls=":")
    axm.set_ylim(0, 1.15)
    fig.tight_layout()
    fig.savefig(a.out, dpi=120)


if __name__ == "__main__":
    main()
