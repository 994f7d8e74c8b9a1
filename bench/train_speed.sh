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

cpp_ms() {  # width -> median step_ms over the timed steps
  local w=$1 dir="$tmp/run-$w-$RANDOM"
  "$CLI" train --preset paper --out "$dir" --steps $((WARMUP + STEPS)) --threads "$threads" \
    --set model.width="$w" --set model.ffn=$((4 * w)) --set train.eval_every=0 \
    --set train.checkpoint_every=0 --set train.print_every=1000000 > "$tmp/cpp.log" 2>&1 \
    || { cat "$tmp/cpp.log" >&2; exit 1; }
  run_step_ms "$CLI" "$dir" "$WARMUP"
  rm -rf "$dir"
}
py_ms() {
  "${pyenv[@]}" /usr/bin/python3 bench/reference_train.py --width "$1" --steps "$STEPS" \
    --warmup "$WARMUP" --threads "$threads" | sed -E 's/.*"median_ms": ([0-9.]+).*/\1/'
}

echo "batch 256, 7x7 rank 2, 4 layers, 8 heads, ffn 4*width, $threads threads, $STEPS timed steps x $ROUNDS rounds"
printf '%-6s %12s %12s %10s %10s  %s\n' width "plateau ms" "pytorch ms" "plateau/s" "pytorch/s" "ratio (speed-up)"
for w in "${widths[@]}"; do
  c=(); p=()
  for ((r = 0; r < ROUNDS; r++)); do c+=("$(cpp_ms "$w")"); p+=("$(py_ms "$w")"); done
  cm=$(median "${c[@]}"); pm=$(median "${p[@]}")
  awk -v w="$w" -v c="$cm" -v p="$pm" 'BEGIN {
    printf "%-6d %12.1f %12.1f %10.2f %10.2f  %.2fx\n", w, c, p, 1000/c, 1000/p, p/c }'
done
