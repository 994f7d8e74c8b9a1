#!/usr/bin/env bash
# Training step of plateau-cli's modular_arithmetic against the same model and step in PyTorch
# (bench/reference_ma_train.py), same machine and thread settings, measured in one run with the two
# interleaved. The task and model sizes (p, examples, batch, layers, heads, lr, weight decay) are
# read from the preset (plateau-cli describe), the widths given override its width (ffn 4x).
# Prints a table and the ratio PyTorch ms / Plateau ms (> 1 = Plateau faster).
#
# usage: bench/ma_speed.sh [widths...]       (default: the preset's width)
#   PRESET=name (default icl-cpu), STEPS=N timed steps (default 20), ROUNDS=R rounds (default 2),
#   PRECISIONS="fp32 bf16" (default; bf16 only where this CPU runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=./build/app/plateau-cli
[ -x "$CLI" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
PRESET=${PRESET:-icl-cpu}
STEPS=${STEPS:-20}; ROUNDS=${ROUNDS:-2}; WARMUP=3
threads=$(nproc)
source bench/speed_common.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

described=$("$CLI" describe --preset "$PRESET") || { echo "$described" >&2; exit 1; }
read -r p examples batch layers heads width lr wd < <(printf '%s' "$described" | /usr/bin/python3 -c '
import json, sys
c = json.load(sys.stdin)["config"]
t, m, o = c["task"], c["model"], c["optim"]
print(t["p"], t["examples"], t["batch_size"], m["layers"], m["heads"], m["width"], o["lr"], o["weight_decay"])')
widths=("$@"); [ ${#widths[@]} -gt 0 ] || widths=("$width")
# The reference takes the preset's sizes (py_step_ms passes --width, the rest come from here).
PY_EXTRA="--p $p --examples $examples --batch $batch --layers $layers --heads $heads --lr $lr --weight-decay $wd"
export PY_EXTRA
# The timed runs are shorter than the preset's warm-up (which changes the lr, not the work).
CLI_EXTRA="--set optim.warmup_steps=0"
echo "modular_arithmetic ($PRESET): p $p, $examples examples ($((3 * examples - 1)) input tokens), batch $batch, $layers layers x $heads heads, ffn 4*width, $threads threads, $STEPS timed steps x $ROUNDS rounds"
against_pytorch "$PRESET" bench/reference_ma_train.py
