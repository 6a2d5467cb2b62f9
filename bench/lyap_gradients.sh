#!/bin/bash
# lyap_gradients.sh OLD_BIN NEW_BIN - gradients (SATaskLossGrad events) and Hessian-vector products per optimizer step
# of bench/lyap_gradients.yaml with two stabaudit binaries, side by side (PETSc -log_view event counts, 1 rank).
# Before the solver owned its step Jacobian, the Lyapunov tangents recomputed the step's gradient: 2 gradients per
# step; after, 1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-8s %10s %10s %10s %14s %12s\n' binary steps gradients hvps gradients/step seconds
for which in old new; do
  bin=$1; [ $which = new ] && bin=$2
  start=$(date +%s.%N)
  mpiexec -n 1 "$bin" run "$here/lyap_gradients.yaml" -o "$work/$which" -log_view ":$work/$which.log" > /dev/null
  end=$(date +%s.%N)
  g=$(awk '$1 == "SATaskLossGrad" {print $2}' "$work/$which.log")
  h=$(awk '$1 == "SATaskHessMult" {print $2}' "$work/$which.log")
  s=$(awk '$1 == "SASolverStep" {print $2}' "$work/$which.log")
  printf '%-8s %10s %10s %10s %14.3f %12.2f\n' $which "$s" "$g" "$h" "$(echo "$g / $s" | bc -l)" "$(echo "$end - $start" | bc -l)"
done
