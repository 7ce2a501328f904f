#!/bin/bash
# A real one-node SLURM cluster on this machine, for testing the array job:
# installs Debian's slurm-wlm daemons and munge when missing (needs root),
# writes every config, key, socket, log and state file to a temporary folder,
# starts munged, slurmctld and slurmd there (no systemd), submits
# tools/slurm/batch.sbatch over the shared spectra with 4 shards, waits,
# merges the parts and checks the merged table equals the single-process
# one byte for byte (CSV). Stops what it started and removes the folder.
#
#   tools/slurm/local-cluster.sh [INPUT...]     (default: $CARTO_TEST_DATA/xas)
#
# Environment: CARTO (default target/debug/carto, then target/release/carto),
# SHARDS (default 4), KEEP=1 keeps the temporary folder.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
shards=${SHARDS:-4}
data=${CARTO_TEST_DATA:-$repo/../shared/data}
if [ $# -eq 0 ]; then
    set -- "$data/xas"
fi
carto=${CARTO:-}
if [ -z "$carto" ]; then
    for c in "${CARGO_TARGET_DIR:-$repo/target}/debug/carto" "${CARGO_TARGET_DIR:-$repo/target}/release/carto"; do
        if [ -x "$c" ]; then carto=$c; break; fi
    done
fi
if [ -z "$carto" ] || [ ! -x "$carto" ]; then
    echo "local-cluster: no carto binary (build it, or set CARTO)" >&2
    exit 1
fi
carto=$(realpath "$carto")

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    echo "local-cluster: installing slurmctld slurmd slurm-client munge" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi

work=$(mktemp -d /tmp/carto-slurm.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    if [ "${KEEP:-0}" = 1 ]; then
        echo "local-cluster: kept $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

# munge: its own key, socket and files.
mkdir -p "$work/munge"
chmod 700 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
socket=$work/munge/munge.socket
munged --foreground --force --key-file="$work/munge/munge.key" --socket="$socket" \
    --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" \
    --seed-file="$work/munge/munged.seed" >"$work/munge/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done

host=$(hostname -s)
cpus=$(nproc)
# Free ports on loopback for this run's daemons.
port=$((20000 + RANDOM % 20000))
mkdir -p "$work/state" "$work/spool"
cat > "$work/slurm.conf" <<CONF
ClusterName=carto
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=carto Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf

slurmctld -D -i -f "$SLURM_CONF" >"$work/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$work/slurmd.out" 2>&1 &
pids+=($!)
ready=0
for _ in $(seq 120); do
    if sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then ready=1; break; fi
    sleep 0.5
done
if [ "$ready" != 1 ]; then
    echo "local-cluster: the node did not come up; logs:" >&2
    tail -n 20 "$work"/slurmctld.log "$work"/slurmd.log >&2 || true
    exit 1
fi
echo "local-cluster: node $host up ($cpus CPUs); submitting $shards shards" >&2

t0=$(date +%s.%N)
CARTO=$carto sbatch --wait --quiet --array="1-$shards" --chdir="$work" \
    --output="$work/task-%a.log" "$repo/tools/slurm/batch.sbatch" "$work/parts" "$@" || {
    echo "local-cluster: the array job failed; task logs:" >&2
    tail -n 20 "$work"/task-*.log >&2 || true
    exit 1
}
t1=$(date +%s.%N)
"$carto" batch merge "$work"/parts/part-*.parquet --out "$work/merged.csv"
status=0
"$carto" batch "$@" --out "$work/single.csv" || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 2 ]; then
    echo "local-cluster: the single-process batch failed ($status)" >&2
    exit 1
fi
if cmp -s "$work/merged.csv" "$work/single.csv"; then
    rows=$(($(wc -l < "$work/single.csv") - 1))
    printf 'local-cluster: OK: %d shards merged equal the single-process table (%d rows); array job %.1f s\n' \
        "$shards" "$rows" "$(awk "BEGIN{print $t1 - $t0}")"
else
    echo "local-cluster: FAILED: the merged table differs from the single-process one" >&2
    diff <(head -c 2000 "$work/merged.csv") <(head -c 2000 "$work/single.csv") >&2 || true
    exit 1
fi
