#!/bin/bash
# resume_old.sh OLD_BIN NEW_BIN [WORKDIR] - a campaign started (and preempted with SIGUSR1) by an older stabaudit
# resumes with a newer one: the old binary runs a deck until its first member finished, SIGUSR1 stops it with the
# members in flight checkpointed (exit 75), the new binary resumes the directory, and its results.nc must equal a
# fresh run of the new binary bitwise (compare_allowing_signal.py: the learning-signal exception of the architecture
# change applies when the new binary's Jacobian differs by design). Decks: tests/decks/lyap.yaml (Lyapunov tangents
# in the checkpoints), tests/decks/probes.yaml (probe rows and warm starts), tests/decks/digits_long.yaml (MLP,
# optimizer state). Exit 0 when every resumed campaign agrees.
set -uo pipefail
old=$(readlink -f "$1"); new=$(readlink -f "$2")
src=$(cd "$(dirname "$0")/../.." && pwd)
work=${3:-$(mktemp -d)}
mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
status=0
for deck in lyap probes digits_long; do
  d="$work/$deck"
  rm -rf "$d.resumed" "$d.fresh"
  for attempt in 1 2 3 4 5; do
    rm -rf "$d.resumed"
    setsid mpiexec -n 1 "$old" run "$src/tests/decks/$deck.yaml" -o "$d.resumed" > "$d.old.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 2000); do grep -q '^\[' "$d.old.log" 2> /dev/null && break; sleep 0.01; done
    kill -USR1 "$pid" 2> /dev/null
    wait "$pid"; rc=$?
    n=$(ls "$d.resumed"/checkpoints/m*.h5 2> /dev/null | wc -l)
    [ "$rc" -eq 75 ] && [ "$n" -ge 1 ] && break
  done
  if [ "$rc" -ne 75 ] || [ "$n" -lt 1 ]; then
    echo "$deck: the old binary was not stopped with a member in flight (exit $rc, $n checkpoints)"; status=1; continue
  fi
  mpiexec -n 1 "$new" run "$src/tests/decks/$deck.yaml" -o "$d.resumed" > "$d.new.log" 2>&1 || { echo "$deck: the new binary failed to resume: $(tail -3 "$d.new.log")"; status=1; continue; }
  mpiexec -n 1 "$new" run "$src/tests/decks/$deck.yaml" -o "$d.fresh" > "$d.fresh.log" 2>&1 || { echo "$deck: fresh run failed"; status=1; continue; }
  resumed=$(grep -c "(from [1-9]" "$d.new.log" || true)
  if /usr/bin/python3 "$src/tests/regress/compare_allowing_signal.py" "$d.fresh/results.nc" "$d.resumed/results.nc" > "$d.cmp" 2>&1; then
    echo "$deck: resumed from $n old checkpoint(s) in flight ($resumed members continued from a step > 0): $(tail -1 "$d.cmp")"
  else
    echo "$deck: DIFFERENT"; cat "$d.cmp"; status=1
  fi
done
exit $status
