#!/bin/bash
# stabaudit plan with calibration: the steps and checkpoints it counts are the ones a run takes and
# writes (known answers from the run's own log and -log_view), the layout for a target wall time
# is printed, bad plan options are named; the predicted/measured wall-time ratio is printed
# (docs/hpc.md records it; timing on a shared machine is not asserted).
TEST_NAME=plan
. "$(dirname "$0")/common.sh"
deck=$SA_SRC/tests/decks/long.yaml
start=$(date +%s.%N)
sa 1 run "$deck" -o r -log_view > run.log
end=$(date +%s.%N)
steps=$(sed -n 's/^stabaudit: trained 9 members, \([0-9]*\) member-steps.*/\1/p' run.log)
ck=$(awk '$1 == "SACheckpointWrite" {print $2; exit}' run.log)
[ -n "$steps" ] && [ -n "$ck" ] || fail "no step or checkpoint count in the run log"
"$SA_BIN" plan "$deck" -plan_ranks 1 -plan_walltime 1:00:00 -plan_ranks_per_node 4 > plan.log
cat plan.log | grep '^plan'
grep -q "^plan: 9 members, $steps steps, $ck checkpoints and 0 probes (with branching, none diverging) at group size 1$" plan.log ||
  fail "plan counts differ from the run's $steps steps and $ck checkpoints: $(grep '^plan: 9' plan.log)"
grep -q "^plan: for a wall time of 3600 s: group size 1, 1 node(s) x 4 rank(s); predicted wall time" plan.log ||
  fail "no layout for the target wall time"
grep -q "^plan:   stabaudit jobs DECK -o DIR -group_size 1 -slurm_nodes 1 -slurm_ntasks_per_node 4$" plan.log ||
  fail "no jobs command line"
pred=$(sed -n 's/^plan: on 1 rank(s) (1 group(s) of 1): predicted wall time \([0-9.e+-]*\) s$/\1/p' plan.log)
meas=$(sed -n 's/^stabaudit: trained 9 members, [0-9]* member-steps in \([0-9.]*\) s.*/\1/p' run.log)
echo "predicted $pred s, measured $meas s (training), ratio $(awk -v p="$pred" -v m="$meas" 'BEGIN {printf "%.2f", p / m}'); load $(cut -d' ' -f1-3 /proc/loadavg)"
for bad in "-plan_walltime 1:xx:00|key 'plan_walltime' (option -plan_walltime): '1:xx:00' is not a SLURM time limit" \
  "-plan_calibration_steps -1|key 'plan_calibration_steps' (option -plan_calibration_steps): -1 is out of range" \
  "-plan_calibration_steps 0 -plan_walltime 60|key 'plan_walltime' (option -plan_walltime): needs a calibration"; do
  rc=0
  # shellcheck disable=SC2086
  "$SA_BIN" plan "$deck" ${bad%%|*} > bad.log 2>&1 || rc=$?
  [ "$rc" -eq 2 ] && grep -qF "${bad#*|}" bad.log || fail "plan ${bad%%|*}: rc $rc, $(cat bad.log)"
done
[ -z "$(ls -A . | grep '^\.sa_plan_')" ] || fail "calibration scratch checkpoint left behind"
echo "plan: OK"
