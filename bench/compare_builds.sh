#!/usr/bin/env bash
# Step time of two plateau-cli builds on the same preset and widths, interleaved in one run: did a
# change make training slower? Prints each build's median ms/step and the ratio new / old.
# usage: bench/compare_builds.sh OLD_CLI NEW_CLI [widths...]   (default widths: 64 128 256)
#   PRESET=paper STEPS=12 ROUNDS=3
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1; new=$2; shift 2
widths=("$@"); [ ${#widths[@]} -gt 0 ] || widths=(64 128 256)
PRESET=${PRESET:-paper}; STEPS=${STEPS:-12}; ROUNDS=${ROUNDS:-3}; WARMUP=3
threads=$(nproc)
source bench/speed_common.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "preset $PRESET, $(nproc) threads, $STEPS timed steps x $ROUNDS interleaved rounds"
printf '%-6s %10s %10s  %s\n' width "old ms" "new ms" "new / old"
for w in "${widths[@]}"; do
  o=(); n=()
  for ((r = 0; r < ROUNDS; r++)); do o+=("$(cli_step_ms "$old" "$PRESET" "$w")"); n+=("$(cli_step_ms "$new" "$PRESET" "$w")"); done
  awk -v w="$w" -v a="$(median "${o[@]}")" -v b="$(median "${n[@]}")" 'BEGIN { printf "%-6d %10.1f %10.1f  %.3f\n", w, a, b, b / a }'
done
