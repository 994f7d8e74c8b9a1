"""Python (PyTorch) side of bench/ma_speed.sh: modular_arithmetic's model and step in plain PyTorch
(tests/python/reference_decoder.py: rotary positions, pre-LN and a final LayerNorm, no biases, ReLU
MLP 4x, tied head), sequences of `examples` examples "x y z" (3E - 1 input tokens), cross-entropy on
the z positions only, AdamW with decay on the matrices (the tied embedding too), timed per step.
Prints one JSON line: {"width":..., "median_ms":..., ...}.

usage: /usr/bin/python3 bench/reference_ma_train.py --width 64 --p 11 --examples 16 --batch 176 \
           --layers 2 --heads 4 --steps 10 [--warmup 2]
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "python"))
sys.path.insert(0, os.path.dirname(__file__))
from reference_decoder import Decoder  # noqa: E402
from timing import parse_args, time_steps  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--width", type=int, default=64)
ap.add_argument("--heads", type=int, default=4)
ap.add_argument("--layers", type=int, default=2)
ap.add_argument("--p", type=int, default=11)
ap.add_argument("--examples", type=int, default=16)
ap.add_argument("--batch", type=int, default=176)
ap.add_argument("--lr", type=float, default=1e-3)
ap.add_argument("--weight-decay", type=float, default=1.0)
args = parse_args(ap, steps=10, warmup=2)
L = 3 * args.examples - 1
cfg = dict(vocab=args.p, max_positions=L, width=args.width, heads=args.heads, layers=args.layers, ffn=4 * args.width,
           positions="rotary", norm="pre", final_norm=True, mlp="relu", bias=False, tied_head=True,
           attention="softmax")
model = Decoder(cfg)
decay = [p for p in model.parameters() if p.dim() > 1]
no_decay = [p for p in model.parameters() if p.dim() <= 1]
opt = torch.optim.AdamW([dict(params=decay, weight_decay=args.weight_decay), dict(params=no_decay, weight_decay=0.0)],
                        lr=args.lr, betas=(0.9, 0.98))
gen = torch.Generator().manual_seed(1)
z_positions = torch.arange(1, L, 3)  # input position 3e + 1 (y_e) predicts z_e


def step(_):
    # Random tasks and pairs: the cost of a step does not depend on which (the data is built per step here too).
    a = torch.randint(0, args.p, (args.batch, 1), generator=gen)
    b = torch.randint(0, args.p, (args.batch, 1), generator=gen)
    x = torch.randint(0, args.p, (args.batch, args.examples), generator=gen)
    y = torch.randint(0, args.p, (args.batch, args.examples), generator=gen)
    z = (a * x + b * y) % args.p
    seq = torch.stack([x, y, z], dim=2).reshape(args.batch, 3 * args.examples)
    opt.zero_grad(set_to_none=True)
    logits, _, _ = model(seq[:, :-1])
    target = seq[:, 1:]
    loss = torch.nn.functional.cross_entropy(logits[:, z_positions].reshape(-1, args.p), target[:, z_positions].reshape(-1))
    loss.backward()
    opt.step()
    loss.item()


time_steps(step, args.warmup, args.steps, width=args.width, p=args.p, examples=args.examples, batch=args.batch)
