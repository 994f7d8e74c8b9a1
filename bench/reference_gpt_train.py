"""Python (PyTorch) side of bench/gpt_speed.sh: the GPT matrix completion's model (the paper's
minGPT sizes, tests/python/reference_decoder.py), sequence length, loss over the whole sequence and
Adam, timed per step. Prints one JSON line: {"width":..., "median_ms":..., ...}.

usage: /usr/bin/python3 bench/reference_gpt_train.py --width 256 --steps 10 [--warmup 2]
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
ap.add_argument("--width", type=int, default=256)
ap.add_argument("--heads", type=int, default=2)
ap.add_argument("--layers", type=int, default=2)
ap.add_argument("--n", type=int, default=7)
ap.add_argument("--batch", type=int, default=256)
args = parse_args(ap, steps=10, warmup=2)
T = 2 * args.n * args.n + 1
cfg = dict(vocab=405, max_positions=T, width=args.width, heads=args.heads, layers=args.layers, ffn=4 * args.width,
           positions="learned", norm="pre", final_norm=True, mlp="gelu_tanh", bias=True, tied_head=False,
           attention="softmax")
model = Decoder(cfg)
opt = torch.optim.Adam(model.parameters(), lr=1e-4)
gen = torch.Generator().manual_seed(1)


def step(_):
    seq = torch.randint(1, 402, (args.batch, T), generator=gen)
    opt.zero_grad(set_to_none=True)
    logits, _, _ = model(seq[:, :-1])
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 405), seq[:, 1:].reshape(-1))
    loss.backward()
    opt.step()
    loss.item()


time_steps(step, args.warmup, args.steps, width=args.width)
