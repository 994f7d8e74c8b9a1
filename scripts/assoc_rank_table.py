#!/usr/bin/env python3
"""Associative-recall runs side by side at chosen steps: accuracy, the per-layer pseudo-ranks of
W_K^T W_Q and P W_V (mean over heads, k / d_head) and the last layer's imbalance and
nuclear-minus-Frobenius gap (docs/presets.md, "Associative recall").
usage: scripts/assoc_rank_table.py STEPS RUN...   (STEPS: 1,500,1000,...; plateau-cli from build/)"""
import csv
import subprocess
import sys
from pathlib import Path
steps = [int(s) for s in sys.argv[1].split(",")]
for run in sys.argv[2:]:
    out = subprocess.run([str(Path(__file__).resolve().parent.parent / "build/app/plateau-cli"), "metrics", run, "--csv"], capture_output=True, text=True).stdout
    rows = {int(r["step"]): r for r in csv.DictReader(out.splitlines())}
    print(run)
    for s in steps:
        if s not in rows: continue
        r = rows[s]
        f = lambda k: float(r[k]) if r[k] else float("nan")
        print(f"  {s:5d} acc {f('acc'):.2f} rQK {f('rank_qk_l0'):.2f}/{f('rank_qk_l1'):.2f} rOV {f('rank_ov_l0'):.2f}/{f('rank_ov_l1'):.2f} "
              f"imbQK {f('imbalance_qk_l1'):.3g} imbOV {f('imbalance_ov_l1'):.3g} gapQK {f('gap_qk_l1'):.3g} gapOV {f('gap_ov_l1'):.3g}")
