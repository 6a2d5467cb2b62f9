#!/bin/bash
# Campaign throughput (member-steps per second) on 1 group vs 2 groups of 1 rank, side by side:
# runs alternate (1, 2, 1, 2, ...) so that machine noise hits both; prints each run and the ratio
# of the medians. Usage: bench/throughput.sh [repetitions] (default 3). Not a test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${SA_BIN:-$here/../build/bin/stabaudit}
deck=$here/decks/throughput.yaml
reps=${1:-3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
work=$(mktemp -d /tmp/sa_bench_XXXXXX)
trap 'rm -rf "$work"' EXIT
declare -a r1 r2
for i in $(seq 1 "$reps"); do
  for np in 1 2; do
    out=$(mpiexec -n $np "$bin" run "$deck" -o "$work/np${np}_$i" | grep "member-steps/s")
    rate=$(echo "$out" | sed -n 's/.*(\([0-9.]*\) member-steps\/s).*/\1/p')
    echo "run $i, $np group(s) of 1 rank: $out"
    if [ $np -eq 1 ]; then r1+=("$rate"); else r2+=("$rate"); fi
  done
done
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
m1=$(med "${r1[@]}"); m2=$(med "${r2[@]}")
echo "median member-steps/s: 1 group $m1, 2 groups $m2, ratio $(awk -v a="$m2" -v b="$m1" 'BEGIN {printf "%.2f", a / b}') (target >= 1.9)"
