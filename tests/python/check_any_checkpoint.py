"""Interop check of any experiment's checkpoint, run by tst_experiments: torch.load reads it, the
model state dict holds exactly the expected names and shapes (given as JSON by the C++ test, which
took them from the experiment), the optimiser's named states are keyed by those names, and the
counters agree. Exit 0 and print OK on success.

usage: /usr/bin/python3 check_any_checkpoint.py CHECKPOINT EXPECTED_JSON
"""
import json
import sys

import torch

ckpt = torch.load(sys.argv[1])
want = json.load(open(sys.argv[2]))
assert ckpt["format"] == "plateau-checkpoint", ckpt["format"]
assert ckpt["experiment"] == want["experiment"], (ckpt["experiment"], want["experiment"])
model = ckpt["model"]
assert set(model.keys()) == set(want["shapes"].keys()), sorted(set(model.keys()) ^ set(want["shapes"].keys()))
for name, shape in want["shapes"].items():
    assert list(model[name].shape) == shape, (name, list(model[name].shape), shape)
    assert torch.isfinite(model[name]).all(), name
opt = ckpt["optimizer"]
assert opt["name"] == want["optimizer"], (opt["name"], want["optimizer"])
assert opt["step"] == ckpt["step"] == want["step"], (opt["step"], ckpt["step"], want["step"])
for state in want["states"]:
    assert set(opt[state].keys()) <= set(model.keys()), state
    for name, t in opt[state].items():
        assert t.shape == model[name].shape, (state, name)
assert ckpt["rng"]["data_next_step"] == ckpt["step"]
cfg = json.loads(ckpt["config"])
assert cfg["experiment"] == want["experiment"]
print(f"OK {want['experiment']} step={ckpt['step']} tensors={len(model)} "
      f"params={sum(v.numel() for v in model.values())}")
