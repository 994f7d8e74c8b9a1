"""Interop check run by tst_run: loads a Plateau checkpoint with torch.load, builds the reference
model from the checkpoint's own config, loads the state dict strictly, and compares its output on
the probe written by the C++ test. Exit 0 and prints OK on success.

usage: /usr/bin/python3 check_checkpoint.py CHECKPOINT PROBE
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from reference_bert import Bert  # noqa: E402

ckpt = torch.load(sys.argv[1])
probe = torch.load(sys.argv[2])
assert ckpt["format"] == "plateau-checkpoint", ckpt["format"]
cfg = json.loads(ckpt["config"])
m = cfg["model"]
model = Bert(width=m["width"], heads=m["heads"], layers=m["layers"], ffn=m["ffn"],
             max_positions=m["max_positions"])
model.load_state_dict(ckpt["model"], strict=True)
with torch.no_grad():
    out = model(probe["tokens"])
diff = (out - probe["output"]).abs().max().item()
assert diff < 1e-5, f"output differs by {diff}"
opt = ckpt["optimizer"]
assert set(opt["exp_avg"].keys()) == set(ckpt["model"].keys()), "optimizer state keys"
assert opt["step"] == ckpt["step"], (opt["step"], ckpt["step"])
assert ckpt["rng"]["data_next_step"] == ckpt["step"]
print(f"OK step={ckpt['step']} params={sum(v.numel() for v in ckpt['model'].values())} diff={diff:.2e}")
