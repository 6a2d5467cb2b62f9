#!/bin/bash
# A campaign through the generated scripts on a real SLURM: stabaudit jobs -submit with 2 tasks,
# group size 1 and a 3-shard job array, then the analysis job (afterok). The array tasks run
# disjoint shards, every member runs exactly once, the merged results.nc is bitwise equal to a
# direct mpiexec run, and the analysis job starts after the run job ended, merges, runs analyze and
# report and writes analysis.nc.
TEST_NAME=slurm_campaign
. "$SA_SRC/tests/slurm/common.sh"
deck=$SA_SRC/tests/decks/small.yaml
sa 2 run "$deck" -o ref > ref.log
total=$(grep -c '^\[' ref.log)

"$SA_BIN" jobs "$deck" -o camp -slurm_ntasks_per_node 2 -group_size 1 -slurm_array_shards 3 -slurm_time 10:00 \
  -slurm_analysis_time 10:00 -submit > jobs.log 2>&1 || fail "stabaudit jobs -submit: $(cat jobs.log)"
cat jobs.log
run=$(sed -n 's/^stabaudit jobs: run job \([0-9]*\) analysis job \([0-9]*\)$/\1/p' jobs.log)
ana=$(sed -n 's/^stabaudit jobs: run job \([0-9]*\) analysis job \([0-9]*\)$/\2/p' jobs.log)
[ -n "$run" ] && [ -n "$ana" ] || fail "no job ids printed"
grep -q "^#SBATCH --array=0-2$" camp/jobs/run.sh || fail "run.sh is not a 3-task array"
grep -q "^srun --mpi=pmix .* -shard_count 3 -shard_index \"\${SLURM_ARRAY_TASK_ID:-0}\" -options_left &$" camp/jobs/run.sh ||
  fail "run.sh does not srun the shards: $(grep srun camp/jobs/run.sh)"
wait_done "$run" 180
wait_done "$ana" 180
[ "$(job_state "$run" | sort -u)" = COMPLETED ] || fail "run job: $(job_state "$run" | tr '\n' ' ')"
logs=(camp/logs/run-"${run}"_0.log camp/logs/run-"${run}"_1.log camp/logs/run-"${run}"_2.log)
for l in "${logs[@]}"; do [ -s "$l" ] || fail "missing log $l"; done
for k in 0 1 2; do grep -q "^stabaudit: shard $k of 3" "${logs[$k]}" || fail "task $k did not run shard $k"; done
ran=$(finished_members "${logs[@]}" | wc -l)
[ "$ran" -eq "$total" ] || fail "$ran member runs in the array for $total members"
[ -z "$(finished_members "${logs[@]}" | sort | uniq -d)" ] || fail "members run twice: $(finished_members "${logs[@]}" | sort | uniq -d)"
"$NCCOMPARE" ref/results.nc camp/results.nc
echo "3-shard array: $ran members, results.nc bitwise equal to mpiexec -n 2"

# the analysis job: after the run job (afterok), merge (nothing left to train), analyze, report
alog=camp/logs/analysis-$ana.log
[ -s "$alog" ] || fail "no analysis log $alog"
end_run=$(scontrol -o show job "$run" | sed -n 's/.*EndTime=\([^ ]*\).*/\1/p' | sort | tail -1)
start_ana=$(scontrol -o show job "$ana" | sed -n 's/.*StartTime=\([^ ]*\).*/\1/p')
[[ ! "$start_ana" < "$end_run" ]] || fail "the analysis job started ($start_ana) before the run job ended ($end_run)"
grep -q " 0 to run " "$alog" || fail "the analysis job's merge trained members: $(grep 'to run' "$alog")"
echo "analysis job $ana started $start_ana, after the run job ended $end_run; state $(job_state "$ana")"
grep -q "^results: " "$alog" || fail "the analysis job did not merge results.nc: $(tail -n 5 "$alog")"
grep -q "^stabaudit analyze: \|SACommandAnalyze() at " "$alog" ||
  fail "the analysis job did not run stabaudit analyze: $(tail -n 5 "$alog")"
# the analysis job completes and writes analysis.nc and the report
[ "$(job_state "$ana")" = COMPLETED ] || fail "analysis job state $(job_state "$ana"): $(grep -m 3 'PETSC ERROR: [A-Z]\|error' "$alog")"
[ -s camp/analysis.nc ] || fail "the analysis job wrote no camp/analysis.nc"
[ -s camp/report/report.md ] || fail "the analysis job wrote no report (camp/report/report.md)"
echo "analysis job wrote camp/analysis.nc and the report"
echo "slurm_campaign: OK"
