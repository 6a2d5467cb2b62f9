#!/bin/bash
# Preemption on a real SLURM: the run job (2 tasks) gets USR1 through its batch shell
# (scancel --signal=USR1 --batch, as --signal=B:USR1@<s> does before the time limit); the shell
# passes it on, the ranks checkpoint their members in flight and exit 75, the job requeues itself
# and resumes. Results are bitwise equal to an uninterrupted run and no finished member ran twice;
# the analysis job runs after it and writes analysis.nc.
TEST_NAME=slurm_preempt
. "$SA_SRC/tests/slurm/common.sh"
deck=$SA_SRC/tests/decks/long.yaml
sa 2 run "$deck" -o ref > ref.log
total=$(grep -c '^\[' ref.log)

"$SA_BIN" jobs "$deck" -o pre -slurm_ntasks_per_node 2 -slurm_time 10:00 -slurm_signal_seconds 60 -submit > jobs.log 2>&1 || fail "stabaudit jobs -submit: $(cat jobs.log)"
run=$(sed -n 's/^stabaudit jobs: run job \([0-9]*\) analysis job \([0-9]*\)$/\1/p' jobs.log)
ana=$(sed -n 's/^stabaudit jobs: run job \([0-9]*\) analysis job \([0-9]*\)$/\2/p' jobs.log)
[ -n "$run" ] || fail "no job id printed: $(cat jobs.log)"
grep -q "^#SBATCH --signal=B:USR1@60$" pre/jobs/run.sh || fail "run.sh lacks --signal=B:USR1@60"
grep -q "^#SBATCH --requeue$" pre/jobs/run.sh || fail "run.sh lacks --requeue"
log=pre/logs/run-$run.log
for _ in $(seq 1 600); do grep -q '^\[' "$log" 2> /dev/null && break; sleep 0.1; done
grep -q '^\[' "$log" || fail "no member finished in the run job: $(cat "$log" 2> /dev/null)"
scancel --signal=USR1 --batch "$run"
# the job requeues itself; it starts again once its credentials expired (AuthInfo=cred_expire=10 here)
for _ in $(seq 1 300); do
  scontrol -o show job "$run" | grep -q "Restarts=1" && break
  sleep 0.1
done
scontrol -o show job "$run" | grep -q "Restarts=1" || fail "the job was not requeued: $(scontrol -o show job "$run")"
echo "requeued: $(scontrol -o show job "$run" | grep -o 'JobState=[A-Z]* Reason=[A-Za-z]*')"
wait_done "$run" 240
wait_done "$ana" 120
[ "$(job_state "$run")" = COMPLETED ] || fail "run job: $(job_state "$run"); $(tail -n 5 "$log")"
grep -q "^stabaudit: preempted (signal 10 on rank 0)" "$log" || fail "no preemption in $log"
grep -q "^stabaudit jobs: job step exited 75" "$log" || fail "the job step did not exit 75"
[ "$(grep -c '^stabaudit: 9 members, ' "$log")" -eq 2 ] || fail "the log does not show the first and the requeued run"
nck=$(grep -c "^preempted: member .* checkpoint written" "$log" || true)
before=$(sed -n 's/.* members, \([0-9]*\) finished earlier.*/\1/p' "$log" | tail -1)
[ "$before" -ge 1 ] || fail "the requeued job kept nothing"
[ "$(finished_members "$log" | wc -l)" -eq "$total" ] || fail "$(finished_members "$log" | wc -l) member runs for $total members"
[ -z "$(finished_members "$log" | sort | uniq -d)" ] || fail "finished members ran twice: $(finished_members "$log" | sort | uniq -d)"
grep "^preempted: member .* checkpoint written" "$log" | while read -r _ _ m _ _ _ _ _ s _; do
  s=${s%,}
  grep -qE "^\[.*\] member +$m group .*\(from $s\)" "$log" || fail "member $m stopped at step $s did not resume there"
done
"$NCCOMPARE" ref/results.nc pre/results.nc
# the analysis job (afterok) ran after the requeued run job finished and wrote analysis.nc
[ "$(job_state "$ana")" = COMPLETED ] || fail "analysis job: $(job_state "$ana"); $(tail -n 5 pre/logs/analysis-"$ana".log)"
[ -s pre/analysis.nc ] || fail "no pre/analysis.nc"
end_run=$(scontrol -o show job "$run" | sed -n 's/.*EndTime=\([^ ]*\).*/\1/p')
start_ana=$(scontrol -o show job "$ana" | sed -n 's/.*StartTime=\([^ ]*\).*/\1/p')
[[ ! "$start_ana" < "$end_run" ]] || fail "the analysis job started ($start_ana) before the run job ended ($end_run)"
echo "analysis job $ana: started $start_ana after the run job ended $end_run, wrote analysis.nc"
echo "preempted once: $nck members checkpointed in flight, $before finished before; resumed to the end, results bitwise equal"
echo "slurm_preempt: OK"
