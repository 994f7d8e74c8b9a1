# Shared by the speed scripts (sourced): the runtime settings plateau-cli applies to itself, given to
# Python too; the median of numbers; the median step_ms of a run's timed steps.
export OMP_WAIT_POLICY=PASSIVE
unset OPENBLAS_CORETYPE
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
pyenv=(env LD_PRELOAD=/usr/lib/$arch/libtcmalloc_minimal.so.4
       LD_LIBRARY_PATH=/usr/lib/$arch/openblas-openmp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH})
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# run_step_ms CLI RUN_DIR WARMUP: median of the step_ms column over the rows after WARMUP
run_step_ms() {
  "$1" metrics "$2" --csv | awk -F, -v w="$3" 'NR==1 {for (i=1;i<=NF;i++) if ($i=="step_ms") c=i} NR>1+w {print $c}' |
    sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}
# cli_step_ms CLI PRESET WIDTH [PRECISION]: trains WARMUP + STEPS steps of PRESET at that width
# (ffn 4x, no eval or checkpoints; train.precision PRECISION if given: binaries older than it
# take none) with $threads threads in
# a folder under $tmp, prints the median step ms. $CLI_EXTRA: further arguments (word-split), such
# as a warm-up longer than the timed steps set to 0.
cli_step_ms() {
  local dir="$tmp/run-$3-$RANDOM"
  # shellcheck disable=SC2086
  "$1" train --preset "$2" --out "$dir" --steps $((WARMUP + STEPS)) --threads "$threads" \
    --set model.width="$3" --set model.ffn=$((4 * $3)) --set train.eval_every=0 ${4:+--set train.precision=$4} \
    --set train.checkpoint_every=0 --set train.print_every=1000000 ${CLI_EXTRA:-} > "$tmp/cli.log" 2>&1 \
    || { cat "$tmp/cli.log" >&2; exit 1; }
  run_step_ms "$1" "$dir" "$WARMUP"
  rm -rf "$dir"
}
# py_step_ms SCRIPT WIDTH: the PyTorch reference's median step ms at that width (and $PY_EXTRA).
py_step_ms() {
  # shellcheck disable=SC2086  # PY_EXTRA: further arguments, word-split (a script's sizes)
  "${pyenv[@]}" /usr/bin/python3 "$1" --width "$2" --steps "$STEPS" --warmup "$WARMUP" --threads "$threads" ${PY_EXTRA:-} |
    sed -E 's/.*"median_ms": ([0-9.]+).*/\1/'
}
# bf16_available CLI PRESET: whether a bf16 run starts here; else prints why (the CLI's error) on stderr.
bf16_available() {
  local dir="$tmp/bf16-probe" msg
  # shellcheck disable=SC2086
  if msg=$("$1" train --preset "$2" --out "$dir" --steps 1 --set train.precision=bf16 --set train.eval_every=0 \
      --set train.checkpoint_every=0 ${CLI_EXTRA:-} 2>&1); then rm -rf "$dir"; return 0; fi
  rm -rf "$dir"
  echo "bf16 skipped: $(printf '%s\n' "$msg" | grep -m1 'train.precision' || printf '%s\n' "$msg" | tail -1)" >&2
  return 1
}
# against_pytorch PRESET SCRIPT: the table of Plateau (fp32, and bf16 where this CPU runs it:
# PRECISIONS="fp32 bf16" by default) against PyTorch fp32 over ${widths[@]}, ROUNDS interleaved
# rounds, medians.
against_pytorch() {
  local precisions=() pr
  for pr in ${PRECISIONS:-fp32 bf16}; do
    if [ "$pr" != bf16 ] || bf16_available "$CLI" "$1"; then precisions+=("$pr"); fi
  done
  printf '%-6s %-9s %12s %12s %10s %10s  %s\n' width precision "plateau ms" "pytorch ms" "plateau/s" "pytorch/s" "ratio (speed-up)"
  local w r cm pm c p
  for w in "${widths[@]}"; do
    p=()
    declare -A cs=()
    for ((r = 0; r < ROUNDS; r++)); do
      for pr in "${precisions[@]}"; do cs[$pr]+=" $(cli_step_ms "$CLI" "$1" "$w" "$pr")"; done
      p+=("$(py_step_ms "$2" "$w")")
    done
    pm=$(median "${p[@]}")
    for pr in "${precisions[@]}"; do
      # shellcheck disable=SC2086
      cm=$(median ${cs[$pr]})
      awk -v w="$w" -v pr="$pr" -v c="$cm" -v p="$pm" 'BEGIN {
        printf "%-6d %-9s %12.1f %12.1f %10.2f %10.2f  %.2fx\n", w, pr, c, p, 1000/c, 1000/p, p/c }'
    done
    unset cs
  done
}
