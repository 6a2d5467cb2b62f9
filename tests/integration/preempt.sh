#!/bin/bash
# Preemption: a campaign stopped by SIGUSR1 (sent to mpiexec, which forwards it to every rank) and
# then by SIGTERM (sent to the ranks, as slurmstepd does) checkpoints every member in flight at the
# next step boundary and exits with status 75 (SA_EXIT_REQUEUE); the re-run resumes each of them
# from the step it stopped at, runs no finished member twice, and gives a results.nc bitwise
# identical to an uninterrupted run. A second run on a directory in use is refused.
TEST_NAME=preempt
. "$(dirname "$0")/common.sh"
deck=$SA_SRC/tests/decks/long.yaml
sa 2 run "$deck" -o ref > ref.log
total=$(grep -c '^\[' ref.log)

# starts the run in the background (pid in $pid); wait_rc PID: its exit status
start_bg() { setsid "$MPIEXEC" -n 2 "$SA_BIN" run "$deck" -o p > "$1" 2>&1 & pid=$!; }
wait_rc() { rc=0; wait "$1" || rc=$?; }
# waits until LOG has N progress lines of finished members
wait_finished() {
  for _ in $(seq 1 1200); do
    [ "$(grep -c '^\[' "$1" || true)" -ge "$2" ] && return 0
    sleep 0.05
  done
  fail "no member finished in $1"
}

# 1st stop: SIGUSR1 to mpiexec after the first finished member
start_bg p1.log
wait_finished p1.log 1
# the lock: a second run on the directory is refused with a clear error while the first one works
rc=0; sa 1 run "$deck" -o p > lock.log 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "a second run on a directory in use exited $rc (expected 2): $(cat lock.log)"
grep -q "campaign directory p is in use by another stabaudit run (pid [1-9]" lock.log || fail "no lock error: $(cat lock.log)"
kill -USR1 "$pid"
wait_rc "$pid"
[ "$rc" -eq 75 ] || fail "SIGUSR1: exit status $rc, expected 75; $(tail -5 p1.log)"
grep -q "^stabaudit: preempted (signal 10 on rank 0)" p1.log || fail "no preemption message in p1.log"
[ -e p/results.nc ] && fail "results.nc written by a preempted run"
n1=$(grep -c "^preempted: member .* checkpoint written" p1.log || true)
[ "$n1" -ge 1 ] || fail "no member in flight was checkpointed at SIGUSR1: $(grep preempted p1.log)"
echo "SIGUSR1: $(grep -c '^\[' p1.log) finished, $n1 checkpointed in flight"

# 2nd stop: SIGTERM to every rank (the children of mpiexec) after one more member finished
start_bg p2.log
wait_finished p2.log 1
for r in $(pgrep -P "$pid"); do kill -TERM "$r"; done
wait_rc "$pid"
[ "$rc" -eq 75 ] || fail "SIGTERM: exit status $rc, expected 75; $(tail -5 p2.log)"
grep -q "^stabaudit: preempted (signal 15 on rank 0)" p2.log || fail "no preemption message in p2.log"
n2=$(grep -c "^preempted: member .* checkpoint written" p2.log || true)
echo "SIGTERM: $(grep -c '^\[' p2.log) finished, $n2 checkpointed in flight"

# resume to the end
sa 2 run "$deck" -o p > p3.log
before=$(sed -n 's/.* members, \([0-9]*\) finished earlier.*/\1/p' p3.log)
ran=$(grep -c '^\[' p3.log || true)
[ $((before + ran)) -eq "$total" ] || fail "finished members recomputed or lost: $before + $ran != $total"
# every member finished exactly once over the three runs
dups=$(cat p1.log p2.log p3.log | sed -n 's/^\[.*\] member *\([0-9]*\) group.*/\1/p' | sort | uniq -d)
[ -z "$dups" ] || fail "members finished twice: $dups"
[ "$(cat p1.log p2.log p3.log | grep -c '^\[')" -eq "$total" ] || fail "not every member finished exactly once"
# a member stopped at step S (checkpoint written) resumes from step S in the next run that runs it
awk '
  FNR == 1 { f++ }
  /^(\[.*\] |preempted: )member / {
    m = $0; sub(/.*member +/, "", m); sub(/ .*/, "", m)
    if (m in stop && f > sf[m] && $0 !~ ("\\(from " stop[m] "\\)")) { print "member " m " stopped at step " stop[m] " resumed as: " $0; bad = 1 }
    if (f > sf[m]) delete stop[m]
    if ($0 ~ /^preempted: .*checkpoint written/) { s = $0; sub(/.*stopped at step /, "", s); sub(/[^0-9].*/, "", s); stop[m] = s; sf[m] = f }
  }
  END { exit bad }' p1.log p2.log p3.log || fail "a preempted member did not resume from its preemption checkpoint"
"$NCCOMPARE" ref/results.nc p/results.nc
[ -z "$(ls p/checkpoints)" ] || fail "checkpoints left after completion: $(ls p/checkpoints)"
echo "preempt: OK"
