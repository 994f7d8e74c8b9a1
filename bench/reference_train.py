"""Python (PyTorch) side of bench/train_speed.sh: the same model, data sizes, loss and Adam
as plateau-cli, timed per step. Prints one JSON line: {"width":..., "median_ms":..., ...}.

usage: /usr/bin/python3 bench/reference_train.py --width 64 --steps 20 [--warmup 3]
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "python"))
sys.path.insert(0, os.path.dirname(__file__))
from reference_bert import Bert, sample_batch  # noqa: E402
from timing import parse_args, time_steps  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--width", type=int, required=True)
ap.add_argument("--heads", type=int, default=8)
ap.add_argument("--layers", type=int, default=4)
ap.add_argument("--n", type=int, default=7)
ap.add_argument("--rank", type=int, default=2)
ap.add_argument("--batch", type=int, default=256)
args = parse_args(ap, steps=20, warmup=3)
model = Bert(width=args.width, heads=args.heads, layers=args.layers, ffn=4 * args.width)
opt = torch.optim.Adam(model.parameters(), lr=1e-4)
gen = torch.Generator().manual_seed(1)


def step(_):
    tokens, target, mask = sample_batch(args.batch, args.n, args.rank, 0.3, gen)
    opt.zero_grad(set_to_none=True)
    out = model(tokens)
    loss = torch.nn.functional.mse_loss(out, target)
    loss.backward()
    opt.step()
    loss.item()


time_steps(step, args.warmup, args.steps, width=args.width)
