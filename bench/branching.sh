#!/bin/bash
# Compute saved by twin branching, measured side by side: the audit deck on one seed (100 members),
# alternating -campaign_branch true and false REPS times (default 3) with the same binary on 2 ranks;
# prints wall time and trained member-steps of each run. Usage: bench/branching.sh [REPS] [DECK]
set -euo pipefail
reps=${1:-3}
deck=${2:-input/audit_mlp.yaml}
bin=${SA_BIN:-build/bin/stabaudit}
export OMPI_ALLOW_RUN_AS_ROOT=${OMPI_ALLOW_RUN_AS_ROOT:-1} OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for r in $(seq "$reps"); do
  for mode in true false; do
    s=$(date +%s.%N)
    mpiexec -n 2 "$bin" run "$deck" -o "$work/$mode$r" -campaign_seeds 1 -campaign_branch $mode > "$work/$mode$r.log" 2>&1
    e=$(date +%s.%N)
    printf 'rep %s branch %-5s wall %7.1f s  %s  load %s\n' "$r" "$mode" "$(echo "$e - $s" | bc)" \
      "$(grep -o '[0-9]* member-steps' "$work/$mode$r.log")" "$(cut -d' ' -f1 /proc/loadavg)"
    rm -rf "$work/$mode$r"
  done
done
