#!/bin/bash
# Lyapunov spectrum during training (tests/decks/lyap.yaml, docs/analysis.md): the exponents stored in results.nc
# equal the closed form log|1 - lr lambda_i| of gradient descent on the quadratic (check_lyap.py); perturbed members
# that branch from their twin's checkpoint at onset (tangents and log-sums restored from it) give a dataset bitwise
# identical to training from step 0, a group of 2 ranks agrees at 1e-12; a run stopped by SIGUSR1 (members in flight checkpointed with their tangents)
# and resumed gives the same dataset bitwise; analyze copies the exponents into analysis.nc.
TEST_NAME=lyap
. "$(dirname "$0")/common.sh"
deck=$SA_SRC/tests/decks/lyap.yaml
sa 2 run "$deck" -o branch > branch.log
sa 2 run "$deck" -o scratch -campaign_branch false > scratch.log
grep -q "(from 400)" branch.log || fail "no member branched at its onset"
"$NCCOMPARE" branch/results.nc scratch/results.nc
$PY "$SA_SRC/tests/integration/check_dataset.py" branch/results.nc
$PY "$SA_SRC/tests/integration/check_lyap.py" branch/results.nc
# restart: stopped by SIGUSR1 once the first member has written its periodic checkpoint (step 200), so that the member
# in flight is checkpointed with its tangents at the next step boundary, then resumed to the end (one group of 1 rank:
# the group size of the reference)
# a member of this deck trains in well under 0.1 s on an idle machine, so the signal can miss every member in flight
# (it then lands between members or at a step 0 with nothing to checkpoint): try again, up to 10 times
line=
for attempt in $(seq 1 10); do
  rm -rf stop
  setsid "$MPIEXEC" -n 1 "$SA_BIN" run "$deck" -o stop > stop1.log 2>&1 &
  pid=$!
  for _ in $(seq 1 6000); do
    ls stop/checkpoints/m*.h5 > /dev/null 2>&1 && break
    sleep 0.005
  done
  kill -USR1 -- -"$pid" 2> /dev/null || true # the whole process group: mpiexec and the rank
  rc=0
  wait "$pid" || rc=$?
  if [ "$rc" -eq 0 ]; then continue; fi # finished before the signal
  [ "$rc" -eq 75 ] || fail "SIGUSR1: exit status $rc, expected 75; $(tail -5 stop1.log)"
  line=$(grep "^preempted: member .* checkpoint written" stop1.log) && break
done
[ -n "$line" ] || fail "no member checkpointed in 10 attempts: $(cat stop1.log)"
echo "stopped on attempt $attempt"
mem=$(echo "$line" | sed -n 's/^preempted: member *\([0-9]*\) .*/\1/p')
at=$(echo "$line" | sed -n 's/.* stopped at step \([0-9]*\).*/\1/p')
sa 1 run "$deck" -o stop > stop2.log
grep -qE "^\[.*\] member +$mem group.*\(from $at\)" stop2.log || fail "member $mem did not resume from step $at"
echo "restart: member $mem stopped at step $at and resumed from it"
"$NCCOMPARE" branch/results.nc stop/results.nc
# a group of 2 ranks (each tangent split over both, the twin's checkpoint written and read block by block on 2 ranks):
# other reduction order only
sa 2 run "$deck" -o g2 -group_size 2 > g2.log
"$NCCOMPARE" branch/results.nc g2/results.nc -rtol 1e-12
sa 2 analyze branch > analyze.log
grep -q "lyapunov: 4 exponents for 8 members" analyze.log || fail "analyze did not read the exponents: $(cat analyze.log)"
# deck errors: out of range, misspelled key
rc=0; sa 1 run "$deck" -o bad -lyap_k 2000 > bad1.log 2>&1 || rc=$?
[ "$rc" -ne 0 ] && grep -q "lyap_k" bad1.log || fail "lyap_k 2000 accepted: $(cat bad1.log)"
rc=0; sa 1 run "$deck" -o bad -lyap_tranzient 3 > bad2.log 2>&1 || rc=$?
[ "$rc" -ne 0 ] && grep -q "lyap_tranzient" bad2.log || fail "misspelled lyap key accepted: $(cat bad2.log)"
echo "lyap: OK"
