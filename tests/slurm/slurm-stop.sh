#!/bin/bash
# Stops the daemons started by slurm-start.sh, by their PID files only (no pkill/killall):
# slurmd, slurmctld, and munged when slurm-start.sh started it.
# usage: SLURM_DIR=<same dir> slurm-stop.sh
: "${SLURM_DIR:?set SLURM_DIR}"
stop_pid() {
  [ -f "$1" ] || return 0
  local pid
  pid=$(cat "$1")
  if [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2> /dev/null; then kill -KILL "$pid"; fi
  fi
  rm -f "$1"
}
rm -f "$SLURM_DIR/up"
stop_pid "$SLURM_DIR/run/slurmd.pid"
stop_pid "$SLURM_DIR/run/slurmctld.pid"
stop_pid "$SLURM_DIR/run/munged.pid"
echo "slurm stopped"
