#!/usr/bin/env bash
# Training steps/s of plateau-cli against the PyTorch reference (bench/reference_train.py):
# same model, data sizes, loss and optimiser, same machine and thread settings, measured in one
# run with the two interleaved. Prints a table and the ratio C++ / Python (> 1 = Plateau faster).
#
# usage: bench/train_speed.sh [widths...]      (default: 64 128 256)
#   STEPS=N     timed steps per measurement (default 12), ROUNDS=R interleaved rounds (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=./build/app/plateau-cli
[ -x "$CLI" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
widths=("$@"); [ ${#widths[@]} -gt 0 ] || widths=(64 128 256)
STEPS=${STEPS:-12}; ROUNDS=${ROUNDS:-2}; WARMUP=3
threads=$(nproc)
source bench/speed_common.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

echo "batch 256, 7x7 rank 2, 4 layers, 8 heads, ffn 4*width, $threads threads, $STEPS timed steps x $ROUNDS rounds"
against_pytorch paper bench/reference_train.py
