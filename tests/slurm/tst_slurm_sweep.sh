#!/usr/bin/env bash
# The real thing: a 4-point sweep submitted with `plateau-cli sweep --slurm` to a one-node Slurm
# cluster (tests/slurm/one_node_cluster.sh: Debian's munged, slurmdbd on a scratch MariaDB,
# slurmctld, slurmd, started here and stopped at the end) goes through sbatch as one job array
# and completes; asserts four finished runs with metrics, sacct's four COMPLETED array tasks,
# `sweep-status` agreeing with sacct, and that resubmitting finds nothing left to run.
#   tests/slurm/tst_slurm_sweep.sh PLATEAU_CLI
set -euo pipefail
cli=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "tst_slurm_sweep: needs root (slurmd runs the jobs; CI runs as root)" >&2; exit 1; }
work=$(mktemp -d /tmp/plateau-slurm.XXXXXX)
source "$here/one_node_cluster.sh"
cleanup() { stop_cluster; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "tst_slurm_sweep: FAIL: $*" >&2; for f in "$work"/sw/logs/*; do echo "--- $f" >&2; tail -n 15 "$f" >&2; done; exit 1; }

t0=$SECONDS
start_cluster "$work/cluster"
echo "cluster up in $((SECONDS - t0)) s: $(sinfo -h -o '%P %a %D %T')"

sw=$work/sw
out=$("$cli" sweep --preset tiny --out "$sw" --grid model.width=16,24 --grid train.seed=1..2 \
  --set train.steps=120 --set train.checkpoint_every=60 --set train.print_every=60 \
  --slurm --cpus-per-task 1 --time 0:20:00 --mem 1G) || fail "sweep --slurm: $out"
echo "$out"
job=$(sed -nE 's/^submitted job array ([0-9]+) .*/\1/p' <<< "$out")
[ -n "$job" ] || fail "no job id in: $out"
grep -q '^#SBATCH --array=0-3$' "$sw/sweep.sbatch" || fail "the script's array is not 0-3"

# While it runs, sweep-status names the job's tasks.
"$cli" sweep-status "$sw" > "$work/status-live.txt" || fail "sweep-status while running"
grep -q "${job}_" "$work/status-live.txt" || fail "sweep-status does not show the array tasks: $(cat "$work/status-live.txt")"

end=$((SECONDS + 600))
while [ -n "$(squeue -h -j "$job" 2>/dev/null)" ]; do
  [ $SECONDS -lt $end ] || fail "the job array did not finish within 600 s: $(squeue -j "$job")"
  sleep 2
done
# sacct learns of the end a moment after squeue forgets the job.
for _ in $(seq 30); do
  n=$(sacct -n -X -j "$job" --format=JobID,State --parsable2 | grep -c '|COMPLETED$' || true)
  [ "$n" -eq 4 ] && break
  sleep 1
done
sacct -X -j "$job" --format=JobID,State,ExitCode,Elapsed --parsable2
[ "$n" -eq 4 ] || fail "sacct shows $n of 4 array tasks COMPLETED"

# Four finished runs with metrics.
for run in "$sw"/runs/*/; do
  "$cli" info "$run" > "$work/info.json" || fail "info $run"
  python3 - "$work/info.json" <<'EOF' || fail "run $run is not a finished run with metrics"
import json, math, sys
s = json.load(open(sys.argv[1]))["summary"]
assert s["steps_done"] == 120 == s["steps_planned"], s
assert math.isfinite(s["final_loss"]) and s["final_loss"] > 0, s
EOF
done
[ "$(ls -d "$sw"/runs/*/ | wc -l)" -eq 4 ] || fail "expected 4 run folders"

# sweep-status against sacct: every point done, its task COMPLETED, the same states.
"$cli" sweep-status "$sw" --json > "$work/status.json" || fail "sweep-status --json"
sacct -n -X -j "$job" --format=JobID,State --parsable2 > "$work/sacct.txt"
python3 - "$work/status.json" "$work/sacct.txt" <<'EOF' || fail "sweep-status disagrees with sacct"
import json, sys
status = json.load(open(sys.argv[1]))
acct = dict(line.strip().split("|")[:2] for line in open(sys.argv[2]) if line.strip())
pts = status["points"]
assert len(pts) == 4, pts
for p in pts:
    task = p["slurm_job"]
    assert acct.get(task) == p["slurm_state"] == "COMPLETED", (task, acct.get(task), p)
    assert p["state"] == "done" and p["folder"] == "finished", p
print("sweep-status agrees with sacct for", len(pts), "tasks")
EOF
"$cli" sweep-status "$sw"

# Resubmitting runs only unfinished points: none are left.
again=$("$cli" sweep --resume "$sw" --slurm) || fail "resubmission: $again"
grep -q "nothing to submit" <<< "$again" || fail "resubmission did not see every point finished: $again"
echo "tst_slurm_sweep: PASS ($((SECONDS - t0)) s)"
