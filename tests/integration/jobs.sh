#!/bin/bash
# stabaudit jobs without SLURM: the scripts hold every option given (known #SBATCH lines), srun the
# resolved deck (a deck stabaudit run accepts), and bad options are refused with the option named
# and what is allowed; nothing is submitted. (tests/slurm/ submits them to a real SLURM.)
TEST_NAME=jobs
. "$(dirname "$0")/common.sh"
deck=$SA_SRC/tests/decks/small.yaml
"$SA_BIN" jobs "$deck" -o camp -slurm_nodes 2 -slurm_ntasks_per_node 4 -group_size 2 -slurm_time 1-02:00:00 \
  -slurm_account proj -slurm_partition batch -slurm_qos high -slurm_constraint cpu -slurm_array_shards 3 \
  -slurm_signal_seconds 600 -slurm_extra "mail-type=END,FAIL;exclusive" -slurm_setup "module load petsc;export X=1" \
  -slurm_analysis_time 30 -slurm_analysis_ntasks 2 > jobs.log
cat jobs.log
dir=$(cd camp && pwd)
run=camp/jobs/run.sh
for l in "--job-name=sa-camp" "--nodes=2" "--ntasks-per-node=4" "--cpus-per-task=1" "--time=1-02:00:00" \
  "--signal=B:USR1@600" "--requeue" "--open-mode=append" "--output=$dir/logs/run-%A_%a.log" "--array=0-2" \
  "--account=proj" "--partition=batch" "--qos=high" "--constraint=cpu" "--mail-type=END,FAIL" "--exclusive"; do
  grep -qxF -- "#SBATCH $l" $run || fail "run.sh lacks #SBATCH $l"
done
grep -qxF "module load petsc" $run && grep -qxF "export X=1" $run || fail "run.sh lacks the set-up lines"
grep -qxF "srun --mpi=pmix $SA_BIN run $dir/jobs/deck.yaml -o $dir -group_size 2 -shard_count 3 -shard_index \"\${SLURM_ARRAY_TASK_ID:-0}\" -options_left &" $run ||
  fail "run.sh srun line: $(grep srun $run)"
grep -qxF 'if [ "$rc" -eq 75 ]; then scontrol requeue "$SLURM_JOB_ID"; fi' $run || fail "run.sh does not requeue on 75"
for l in "--job-name=sa-camp-analysis" "--ntasks=2" "--time=30" "--output=$dir/logs/analysis-%j.log" "--account=proj"; do
  grep -qxF -- "#SBATCH $l" camp/jobs/analysis.sh || fail "analysis.sh lacks #SBATCH $l"
done
for v in "run $dir/jobs/deck.yaml -o $dir -group_size 1 -shard_count 1 -options_left" "analyze $dir" "report $dir"; do
  grep -qxF "srun --mpi=pmix $SA_BIN $v" camp/jobs/analysis.sh || fail "analysis.sh lacks srun ... $v"
done
grep -qF -- '--dependency=afterok:"${run%%;*}"' camp/jobs/submit.sh || fail "submit.sh has no afterok dependency"
grep -q "^bash $dir/jobs/submit.sh\|^  bash $dir/jobs/submit.sh" jobs.log || fail "the submit command is not printed"
[ -s camp/members.txt ] && [ -s camp/deck.yaml ] || fail "the directory was not prepared"
grep -q ": \[\]" camp/jobs/deck.yaml && fail "jobs/deck.yaml has empty lists"
# the resolved deck is a deck stabaudit run accepts and gives the same campaign as the original
sa 2 run camp/jobs/deck.yaml -o viajobs -group_size 1 > viajobs.log # the deck says group_size 2
sa 2 run "$deck" -o ref > ref.log
"$NCCOMPARE" ref/results.nc viajobs/results.nc

for bad in "-slurm_ntasks_per_node 2 -group_size 3|key 'group_size' (option -group_size): expected an integer in [1, 2], got '3'" \
  "-slurm_nodes 3 -group_size 2|key 'group_size' (option -group_size): 2 must divide the ranks of the job, slurm_nodes x slurm_ntasks_per_node = 3" \
  "-slurm_time 1:xx|key 'slurm_time' (option -slurm_time): '1:xx' is not a SLURM time limit; allowed: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S" \
  "-slurm_time 10 -slurm_signal_seconds 600|key 'slurm_signal_seconds' (option -slurm_signal_seconds): 600 s must be shorter than the time limit 10 (600 s)" \
  "-slurm_array_shards 5|key 'slurm_array_shards' (option -slurm_array_shards): 5 shards for 4 twin families" \
  "-slurm_nodes 0|key 'slurm_nodes' (option -slurm_nodes): expected an integer in [1, 100000], got '0'" \
  "-slurm_nodes two|key 'slurm_nodes' (option -slurm_nodes): expected an integer in [1, 100000], got 'two'" \
  "-slurm_nodez 2|unknown key 'nodez' in section 'slurm' (option -slurm_nodez); allowed keys there: nodes, ntasks_per_node, time,"; do
  rc=0
  # shellcheck disable=SC2086
  "$SA_BIN" jobs "$deck" -o bad ${bad%%|*} > bad.log 2>&1 || rc=$?
  [ "$rc" -eq 2 ] && grep -qF "${bad#*|}" bad.log || fail "jobs ${bad%%|*}: rc $rc, $(cat bad.log)"
done
echo "jobs: OK"
