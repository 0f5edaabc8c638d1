#!/usr/bin/env bash
# slurm-single-node.sh - throwaway single-node Slurm cluster for CI (Debian 12, root, no systemd needed).
# tests/batch/t_slurm.sh starts one with `up` and stops it with `down` around a batch graded
# with `tito grade --batch --engine slurm`; SLURM_CI_DIR is then inside the test's own folder.
#
#   bash slurm-single-node.sh          # = all: up, smoke test (6-task array), down
#   bash slurm-single-node.sh up       # install if needed, start munged+slurmctld+slurmd, wait for node idle
#   bash slurm-single-node.sh smoke    # sbatch --array=0-5 ..., wait for outputs and empty squeue
#   bash slurm-single-node.sh down     # stop only the daemons this script started (by PID), remove its files
#
# Env: SLURM_CI_DIR (work dir, default /tmp/slurmci), SLURM_CI_OUT (smoke output dir, default /tmp/slurmtest).
# Tested: Debian 12, slurm-wlm 22.05.8-4+deb12u3, munge 0.5.15-2+deb12u1, 2 CPUs, PID 1 not systemd.
# shellcheck disable=SC2016  # single-quoted conditions are eval-ed later, on purpose
set -euo pipefail

W=${SLURM_CI_DIR:-/tmp/slurmci}
OUT=${SLURM_CI_OUT:-/tmp/slurmtest}
CONF=/etc/slurm/slurm.conf
T0=$(date +%s.%N)
ts() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}'; }
log() { echo "[slurm-ci +$(ts "$T0")s] $*"; }
die() { log "FAIL: $*"; for f in "$W"/log/*; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done; exit 1; }

install_pkgs() {
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null &&
    command -v sbatch >/dev/null && command -v munged >/dev/null && return 0
  export DEBIAN_FRONTEND=noninteractive
  # Keep package postinst scripts from starting daemons (no systemd; slurmctld has no config yet).
  local policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; policy=1
  fi
  apt-get update -q
  apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client munge
  [ -n "$policy" ] && rm -f /usr/sbin/policy-rc.d
  log "packages installed"
}

wait_for() {  # wait_for SECONDS 'shell condition'  (polled every 0.1 s, wall-clock bound)
  local end=$(( $(date +%s) + $1 ))
  until eval "$2" >/dev/null 2>&1; do [ "$(date +%s)" -lt "$end" ] || return 1; sleep 0.1; done
}
# Process checks via /proc only (no procps needed). A zombie counts as gone.
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
running() { [ -f "$W/$1.pid" ] && alive "$(cat "$W/$1.pid")"; }   # running slurmctld|slurmd|munged
stepds() { grep -lx slurmstepd /proc/[0-9]*/comm 2>/dev/null | wc -l; }

up() {
  install_pkgs
  mkdir -p "$W/state" "$W/spool" "$W/log"

  # munge: Debian's postinst creates /etc/munge/munge.key; create one if it is missing.
  if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile=/etc/munge/munge.key --force
    chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key
  fi
  if munge -n </dev/null >/dev/null 2>&1; then
    log "munged already running; reusing it (will not stop it)"
  else
    install -d -o munge -g munge -m 0755 /run/munge
    # setpriv execs (no fork), so $! is munged itself; -F keeps it in the foreground.
    setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged -F \
      </dev/null >"$W/log/munged.log" 2>&1 &
    echo $! > "$W/munged.pid"
    wait_for 10 'munge -n </dev/null | unmunge' || die "munged did not start"
    log "munged up (pid $(cat "$W/munged.pid"))"
  fi

  # slurm.conf: one node = this host, exact CPUs/sockets/memory from `slurmd -C`.
  local host node
  host=$(hostname -s 2>/dev/null || echo localhost)
  node=$(slurmd -C | head -n 1)          # NodeName=<host> CPUs=.. Boards=.. ... RealMemory=..
  [ -f "$CONF" ] && [ ! -f "$W/slurm.conf.orig" ] && cp -p "$CONF" "$W/slurm.conf.orig"
  mkdir -p /etc/slurm
  cat > "$CONF" <<EOF
ClusterName=ci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$W/state
SlurmdSpoolDir=$W/spool
SlurmctldPidFile=$W/slurmctld.pidfile
SlurmdPidFile=$W/slurmd.pidfile
SlurmctldLogFile=$W/log/slurmctld.log
SlurmdLogFile=$W/log/slurmd.log
MailProg=/bin/true
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

  # -D: stay in the foreground so $! is the daemon's PID (no systemd needed).
  /usr/sbin/slurmctld -D </dev/null >"$W/log/slurmctld.out" 2>&1 &
  echo $! > "$W/slurmctld.pid"
  /usr/sbin/slurmd -D </dev/null >"$W/log/slurmd.out" 2>&1 &
  echo $! > "$W/slurmd.pid"
  # A slurm client call takes ~9 s to fail while slurmctld is down, hence `timeout` and the
  # liveness checks (a daemon that dies on startup, e.g. port in use, fails fast).
  wait_for 60 '! running slurmctld || ! running slurmd ||
               [ "$(timeout 5 sinfo -h -n "$host" -o %t)" = idle ]'
  running slurmctld || die "slurmctld exited"
  running slurmd || die "slurmd exited"
  [ "$(timeout 5 sinfo -h -n "$host" -o %t)" = idle ] || die "node $host did not become idle"
  log "slurm up (slurmctld $(cat "$W/slurmctld.pid"), slurmd $(cat "$W/slurmd.pid"))"
  sinfo
}

smoke() {
  rm -rf "$OUT"; mkdir -p "$OUT"
  local t jid first=""
  t=$(date +%s.%N)
  jid=$(sbatch --parsable --array=0-5 -o "$OUT/slurm-%A_%a.log" \
        --wrap 'echo task $SLURM_ARRAY_TASK_ID > '"$OUT"'/out.$SLURM_ARRAY_TASK_ID')
  log "submitted array job $jid"
  local end=$(( $(date +%s) + 120 ))
  while [ "$(date +%s)" -lt "$end" ]; do
    n=$(find "$OUT" -name 'out.*' | wc -l)
    [ -z "$first" ] && [ "$n" -ge 1 ] && first=$(ts "$t") && log "first task output after ${first}s"
    [ "$n" -ge 6 ] && [ -z "$(timeout 10 squeue -h)" ] && break
    sleep 0.1
  done
  for i in 0 1 2 3 4 5; do
    [ "$(cat "$OUT/out.$i" 2>/dev/null)" = "task $i" ] || die "out.$i missing or wrong"
  done
  [ -z "$(timeout 10 squeue -h)" ] || die "squeue not empty"
  log "array of 6 done in $(ts "$t")s; squeue empty"
}

stop_pid() {  # stop_pid NAME: SIGTERM the PID we recorded, wait up to 15 s, then SIGKILL.
  local f="$W/$1.pid" p
  [ -f "$f" ] || return 0
  p=$(cat "$f")
  if alive "$p"; then
    kill -TERM "$p"
    wait_for 15 '! alive "$p"' ||
      { log "$1 ($p) ignored SIGTERM; SIGKILL"; kill -KILL "$p" 2>/dev/null || true; }
  fi
  rm -f "$f"; log "$1 ($p) stopped"
}

down() {
  if running slurmctld; then
    timeout 10 scancel --user=root 2>/dev/null || true   # leave no job processes behind
    wait_for 15 '[ -z "$(timeout 5 squeue -h)" ]' || log "jobs still listed after scancel"
  fi
  # slurmstepd (double-forked by slurmd, own session) outlives its job by ~1.5 s; only wait for it.
  wait_for 15 '[ "$(stepds)" = 0 ]' ||
    log "warning: $(stepds) slurmstepd process(es) still running"
  stop_pid slurmd
  stop_pid slurmctld
  stop_pid munged
  if [ -f "$W/slurm.conf.orig" ]; then mv -f "$W/slurm.conf.orig" "$CONF"; else rm -f "$CONF"; fi
  rm -rf "$W"
  log "torn down"
}

case "${1:-all}" in
  up) trap down EXIT; up; trap - EXIT ;;      # a failed start tears itself down
  smoke) smoke ;;
  down) down ;;
  all) trap down EXIT; trap 'exit 143' TERM; trap 'exit 130' INT; up; smoke ;;
  *) echo "usage: $0 [all|up|smoke|down]" >&2; exit 2 ;;
esac
