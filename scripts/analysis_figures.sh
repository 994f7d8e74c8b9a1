#!/usr/bin/env bash
# Runs every analysis that applies to a run's experiment on all of its checkpoints and exports
# the run's figure set, analyses included: what docs/analyses/*.png were made with
# (docs/analyses.md). Matrix completion: all nine; the decoders (gpt_matrix_completion,
# associative_recall): probes, head ablation, patching, collapse.
# usage: scripts/analysis_figures.sh RUN_DIR FIGDIR [extra analyze options, e.g. --force]
set -euo pipefail
cd "$(dirname "$0")/.."
run=$1; out=$2; shift 2
cli=./build/app/plateau-cli
t() { local s=$SECONDS; "$@" > /dev/null; echo "$(( SECONDS - s )) s: ${*:2:4}"; }
experiment=$(grep -o '"experiment": *"[a-z_]*"' "$run/config.json" | head -1 | sed 's/.*: *"\(.*\)"/\1/')
if [ "$experiment" = matrix_completion ]; then
  t $cli analyze "$run" --analysis nuclear_norm --steps all "$@"
  t $cli analyze "$run" --analysis copy_test --steps all "$@"
  t $cli analyze "$run" --analysis embeddings --steps all "$@"
  t $cli analyze "$run" --analysis model_switching --steps all "$@"
  t $cli analyze "$run" --analysis ood --steps all --set matrices=512 "$@"
fi
t $cli analyze "$run" --analysis linear_probes --steps all "$@"
t $cli analyze "$run" --analysis head_ablation --steps all "$@"
t $cli analyze "$run" --analysis activation_patching --steps all "$@"
t $cli analyze "$run" --analysis representation_collapse --steps all "$@"
QT_QPA_PLATFORM=offscreen $cli export "$run" --out "$out" --format pdf,png
