#!/usr/bin/env bash
# Runs a list of candidate configurations headless, two at a time with one thread each (steps to
# the drop do not depend on the thread count; ms/step is measured separately at full threads).
# THREADS=2 JOBS=1 runs them one at a time with two threads (the GUI's and CI's rounding).
# PRESET=name: the preset the candidates start from (default quick).
# Each line of the list file: NAME  --set k=v --set k=v ...   (lines starting with # are skipped)
# usage: scripts/preset_search.sh LIST OUT_DIR [STEPS] [SEEDS...]
set -euo pipefail
cd "$(dirname "$0")/.."
list=$1; out=$2; steps=${3:-25000}; shift 3 || true
seeds=("$@"); [ ${#seeds[@]} -gt 0 ] || seeds=(1)
threads=${THREADS:-1}; max_jobs=${JOBS:-2}
CLI=./build/app/plateau-cli
PRESET=${PRESET:-quick}  # the preset the candidates override
mkdir -p "$out"
run_one() {
  local name=$1 seed=$2; shift 2
  local dir="$out/$name-s$seed"
  [ -f "$dir/config.json" ] && return 0
  "$CLI" train --preset "$PRESET" --out "$dir" --steps "$steps" --seed "$seed" --threads "$threads" \
    --set train.print_every=5000 --set train.checkpoint_every=0 "$@" > "$dir.log" 2>&1 || true
}
jobs_running=0
while read -r name args; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  for seed in "${seeds[@]}"; do
    # shellcheck disable=SC2086
    run_one "$name" "$seed" $args &
    jobs_running=$((jobs_running + 1))
    if [ "$jobs_running" -ge "$max_jobs" ]; then wait -n; jobs_running=$((jobs_running - 1)); fi
  done
done < "$list"
wait
