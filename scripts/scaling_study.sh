#!/bin/bash
# The paper's Fig 13 / 14 at CPU size (issue 17): when does the `quick` family leave its copying
# plateau as the model gets wider or deeper? Two sweeps through `plateau-cli sweep`, each point a
# full training run of `quick` (5x5 rank-1, 20 % masked, batch 256, Adam 2e-3, beta1 0.95):
#   width: model.width with model.ffn = 4 x width (4 heads, 2 layers), seeds 1..3
#   depth: model.layers (width 48, 4 heads), seeds 1..3
# then the per-point and per-value summaries (CSV) and the figures (overlay coloured by the swept
# key, the drop-onset table over key x seed). Resumable: run it again and finished points are
# skipped, stopped ones resumed.
#
#   scripts/scaling_study.sh OUT [STEPS] [SEEDS]     (defaults: 8000 steps, seeds 1..3)
#   env: CLI (default build/app/plateau-cli), JOBS (2), THREADS (1 per job), WIDTHS, DEPTHS, AFTER
set -euo pipefail
out=${1:?usage: scripts/scaling_study.sh OUT [STEPS] [SEEDS]}
steps=${2:-8000}
seeds=${3:-1..3}
cli=${CLI:-build/app/plateau-cli}
jobs=${JOBS:-2}
threads=${THREADS:-1}
after=${AFTER:-1000}   # each point stops this many steps after its drop ends (the onset is what is studied)
widths=${WIDTHS:-32/128,48/192,64/256}
depths=${DEPTHS:-1,2,3}
[ -x "$cli" ] || { echo "scaling_study.sh: $cli is not built (cmake --build build)" >&2; exit 2; }
mkdir -p "$out"

define() {  # NAME AXIS: the sweep's manifest, nothing run yet
    [ -f "$out/$1/sweep.json" ] || "$cli" sweep --preset quick --out "$out/$1" --grid "$2" --grid "train.seed=$seeds" \
        --set "train.steps=$steps" --stop-after-drop "$after" --dry-run > /dev/null
}

# Training is deterministic (same config, seed, threads, CPU type: the same run, bit for bit), so
# a depth point whose config equals a finished width point's (depth 2, width 48) is that run:
# it is copied instead of trained again, once the configs are checked to be identical.
reuse() {  # FROM_SWEEP TO_SWEEP
    local from=$out/$1/runs to=$out/$2/runs a
    for a in "$from"/*/; do
        [ -f "$a/config.json" ] || continue
        for pt in $(python3 -c 'import json,sys; print(" ".join(p["name"] for p in json.load(open(sys.argv[1]))["points"]))' "$out/$2/sweep.json"); do
            [ -e "$to/$pt" ] && continue
            "$cli" describe --config "$out/$2/base.json" --threads "$threads" $(python3 -c '
import json,sys
m=json.load(open(sys.argv[1]))
p=[p for p in m["points"] if p["name"]==sys.argv[2]][0]
print(" ".join("--set %s=%s" % (k, v) for k, v in p["params"]))' "$out/$2/sweep.json" "$pt") > "$out/.want.json" 2>/dev/null || continue
            "$cli" describe --config "$a/config.json" > "$out/.have.json" 2>/dev/null || continue
            if cmp -s "$out/.want.json" "$out/.have.json" && "$cli" sweep-status "$out/$1" | grep -q "$(basename "$a").*done"; then
                cp -a "$a" "$to/$pt" && echo "reused $1/$(basename "$a") as $2/$pt (identical config)"
            fi
        done
    done
    rm -f "$out/.want.json" "$out/.have.json"
}

run_sweep() {  # NAME KEY
    local name=$1 key=$2 dir=$out/$1
    local start=$SECONDS
    "$cli" sweep --resume "$dir" --jobs "$jobs" --threads-per-job "$threads"
    echo "$name: $((SECONDS - start)) s of wall time this call" | tee -a "$out/timing.txt"
    "$cli" sweep-summary "$dir" --csv > "$out/$name-points.csv"
    "$cli" sweep-summary "$dir" --by "$key" --csv > "$out/$name-by-$(echo "$key" | tr . -).csv"
    "$cli" sweep-summary "$dir" --by "$key"
    "$cli" export "$dir" --out "$out/$name-figures" --format pdf,png --colour-by "$key" \
        --phase "$key,train.seed" --cell onset --smoothing 0.95 --size 1100x700
}

define width "model.width,model.ffn=$widths"
define depth "model.layers=$depths"
run_sweep width model.width
reuse width depth
run_sweep depth model.layers
