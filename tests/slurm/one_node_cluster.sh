#!/usr/bin/env bash
# A real one-node Slurm cluster for the test suite, in a scratch folder: munged (at its default socket), MariaDB (for
# slurmdbd, so that sacct answers), slurmdbd, slurmctld and slurmd, all Debian's, all started
# here in the foreground of their own (no systemd, nothing in /etc touched) and stopped by their
# PIDs when the calling script exits. Source it, then call start_cluster DIR; it exports
# SLURM_CONF so that sbatch / squeue / sacct talk to it.
# Needs root (slurmd runs jobs as their user) and the packages install-deps.sh installs.

cluster_pids=()
stop_cluster() {
  local p
  for ((i = ${#cluster_pids[@]} - 1; i >= 0; i--)); do
    p=${cluster_pids[i]}
    kill "$p" 2>/dev/null || true
  done
  for p in "${cluster_pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  cluster_pids=()
}

die() { echo "one-node cluster: $*" >&2; for f in "$CL"/*.log; do echo "--- $f" >&2; tail -n 20 "$f" >&2; done; exit 1; }

# wait_for SECONDS DESCRIPTION COMMAND...: until COMMAND succeeds.
wait_for() {
  local secs=$1 what=$2; shift 2
  local end=$((SECONDS + secs))
  while [ $SECONDS -lt $end ]; do timeout 10 "$@" >/dev/null 2>&1 && return 0; sleep 0.3; done
  die "$what did not come up within $secs s"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start_cluster() {
  CL=$1
  mkdir -p "$CL"/{munge,db,spool/ctld,spool/d,state}
  chmod 700 "$CL" "$CL/munge"
  for b in munged mariadbd mariadb-install-db slurmdbd slurmctld slurmd sacctmgr sbatch squeue sacct; do
    command -v "$b" >/dev/null || [ -x "/usr/sbin/$b" ] || die "$b is not installed (scripts/install-deps.sh installs it)"
  done
  export PATH=$PATH:/usr/sbin
  local host; host=$(hostname -s)
  local cpus; cpus=$(nproc)
  local mem; mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)

  # munge at its default socket (Slurm's clients talk to slurmdbd through it whatever AuthInfo
  # says): a munged already answering there (the package's own) is used as it is; else one is
  # started here with a fresh key.
  local sock=/run/munge/munge.socket.2
  if ! (munge -n -S "$sock" | unmunge -S "$sock") >/dev/null 2>&1; then
    mkdir -p /run/munge
    chmod 755 /run/munge
    dd if=/dev/urandom of="$CL/munge/munge.key" bs=1024 count=1 status=none
    chmod 400 "$CL/munge/munge.key"
    munged --foreground --force --socket="$sock" --key-file="$CL/munge/munge.key" \
      --pid-file="$CL/munge/munged.pid" --log-file="$CL/munged.log" --seed-file="$CL/munge/munged.seed" &
    cluster_pids+=($!)
    wait_for 20 munged bash -c "munge -n -S $sock | unmunge -S $sock"
  fi

  # MariaDB on a free local TCP port, no grant checks (a throwaway database for slurmdbd).
  local dbport; dbport=$(free_port)
  mariadb-install-db --no-defaults --datadir="$CL/db" --user=root --auth-root-authentication-method=normal \
    --skip-test-db > "$CL/mariadb-install.log" 2>&1 || die "mariadb-install-db failed"
  mariadbd --no-defaults --datadir="$CL/db" --user=root --bind-address=127.0.0.1 --port="$dbport" \
    --socket="$CL/mysql.sock" --skip-grant-tables --log-error="$CL/mariadb.log" --pid-file="$CL/mariadb.pid" &
  cluster_pids+=($!)
  wait_for 60 MariaDB test -S "$CL/mysql.sock"

  local dbdport ctldport dport
  dbdport=$(free_port); ctldport=$(free_port); dport=$(free_port)
  cat > "$CL/slurmdbd.conf" <<EOF
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$dbdport
SlurmUser=root
PidFile=$CL/slurmdbd.pid
LogFile=$CL/slurmdbd.log
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$dbport
StorageUser=root
StorageLoc=slurm_acct_db
EOF
  chmod 600 "$CL/slurmdbd.conf"
  cat > "$CL/slurm.conf" <<EOF
ClusterName=plateau-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctldport
SlurmdPort=$dport
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$CL/state
SlurmdSpoolDir=$CL/spool/d
SlurmctldPidFile=$CL/slurmctld.pid
SlurmdPidFile=$CL/slurmd.pid
SlurmctldLogFile=$CL/slurmctld.log
SlurmdLogFile=$CL/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$dbdport
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=2
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF=$CL/slurm.conf

  slurmdbd -D > "$CL/slurmdbd.out" 2>&1 &
  cluster_pids+=($!)
  wait_for 60 slurmdbd sacctmgr -n list cluster
  sacctmgr -i add cluster plateau-test > "$CL/sacctmgr.log" 2>&1 || die "sacctmgr add cluster failed"
  slurmctld -D -f "$CL/slurm.conf" > "$CL/slurmctld.out" 2>&1 &
  cluster_pids+=($!)
  wait_for 60 slurmctld scontrol ping
  slurmd -D -f "$CL/slurm.conf" > "$CL/slurmd.out" 2>&1 &
  cluster_pids+=($!)
  wait_for 60 "the node" bash -c "sinfo -h -N -o %T | grep -Eq '^(idle|mixed|allocated)'"
}
