#!/usr/bin/env bash
# Training steps/s of plateau-cli's gpt_matrix_completion against the same model in PyTorch
# (bench/reference_gpt_train.py: the paper's minGPT, 98 input tokens, next-token CE, Adam, batch
# 256), same machine and thread settings, measured in one run with the two interleaved. Prints a
# table and the ratio PyTorch ms / Plateau ms (> 1 = Plateau faster).
#
# usage: bench/gpt_speed.sh [widths...]      (default: 256, the paper's)
#   STEPS=N timed steps per measurement (default 8), ROUNDS=R interleaved rounds (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=./build/app/plateau-cli
[ -x "$CLI" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
widths=("$@"); [ ${#widths[@]} -gt 0 ] || widths=(256)
STEPS=${STEPS:-8}; ROUNDS=${ROUNDS:-2}; WARMUP=2
threads=$(nproc)
source bench/speed_common.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

echo "gpt_matrix_completion: batch 256, 98 input tokens, 2 layers x 2 heads, ffn 4*width, $threads threads, $STEPS timed steps x $ROUNDS rounds"
against_pytorch paper-gpt bench/reference_gpt_train.py
