#!/bin/bash
# stabaudit plan with calibration: the steps and checkpoints it counts are the ones a run takes and
# writes (known answers from the run's own log and -log_view), the probes the ones a run computes (from
# its results.nc, with the deck's count by hand), later probes timed, the layout for a target wall time
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
  "-plan_calibration_steps -1|key 'plan_calibration_steps' (option -plan_calibration_steps): expected an integer in [0, 100000], got '-1'" \
  "-plan_calibration_steps 0 -plan_walltime 60|key 'plan_walltime' (option -plan_walltime): needs a calibration"; do
  rc=0
  # shellcheck disable=SC2086
  "$SA_BIN" plan "$deck" ${bad%%|*} > bad.log 2>&1 || rc=$?
  [ "$rc" -eq 2 ] && grep -qF "${bad#*|}" bad.log || fail "plan ${bad%%|*}: rc $rc, $(cat bad.log)"
done

# probes (tests/decks/probes.yaml: every 40 of 120 steps and at each onset): the plan's probe count is the number of
# probes the run computes (rows of results.nc at or after a member's start; a perturbed member inherits its twin's
# earlier rows), and the calibration trains on through the twin's schedule 0, 40, 80, 120, timing each probe
pdeck=$SA_SRC/tests/decks/probes.yaml
sa 1 run "$pdeck" -o p > prun.log
nprobe=$("$PY" - p/results.nc << 'PYEOF'
import sys
import netCDF4
import numpy as np
d = netCDF4.Dataset(sys.argv[1])
step = np.ma.filled(d["probe_step"][:], -1)
onset = np.ma.filled(d["onset"][:], -1)
twin = np.ma.filled(d["twin"][:], -1)
start = np.where(twin >= 0, onset, 0)
print(int(((step >= 0) & (step >= start[:, None])).sum()))
PYEOF
)
# the deck schedules 84 = 4 twins x (4 + 2 x 4 + 3 x 3); the plan assumes no divergence, while the two loss_scale
# members of lr 2 (effective lr 5 > heavy ball's bound 2 (1 + mu) / lambda_max = 3.8) diverge before steps 80 and 120
[ "$nprobe" = 80 ] || fail "the run computed $nprobe probes; the deck schedules 84, 4 of them after a divergence"
"$SA_BIN" plan "$pdeck" -plan_ranks 1 > pplan.log
grep '^plan' pplan.log
grep -q "^plan: 24 members, [0-9]* steps, [0-9]* checkpoints and $((nprobe + 4)) probes (with branching" pplan.log ||
  fail "plan probe count differs from the run's $nprobe + 4 after divergence: $(grep '^plan: 24' pplan.log)"
for k in 0 1; do
  grep -qE "^plan:   probes of configuration $k by step: 0: [0-9.e+-]+ s 40: [0-9.e+-]+ s 80: [0-9.e+-]+ s 120: [0-9.e+-]+ s$" \
    pplan.log || fail "configuration $k: the calibration did not time the probes at steps 0, 40, 80 and 120"
done
"$SA_BIN" plan "$pdeck" -plan_ranks 1 -plan_probe_seconds 0 > pplan0.log
grep -q "probes of configuration" pplan0.log && fail "-plan_probe_seconds 0 trained on to later probes"
grep -q "probe [0-9.e+-]* s$" pplan0.log || fail "-plan_probe_seconds 0: no step-0 probe cost"
rc=0
"$SA_BIN" plan "$pdeck" -plan_probe_seconds -1 > bad.log 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -qF "key 'plan_probe_seconds' (option -plan_probe_seconds): expected a real number in [0., 1e+06], got '-1'" bad.log ||
  fail "plan -plan_probe_seconds -1: rc $rc, $(cat bad.log)"
[ -z "$(ls -A . | grep '^\.sa_plan_')" ] || fail "calibration scratch checkpoint left behind"
echo "plan: OK"
