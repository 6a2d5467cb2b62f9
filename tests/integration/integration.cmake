# Integration tests: the real stabaudit on small decks (tests/decks), through tests/integration/*.sh
set(SA_IT ${CMAKE_CURRENT_SOURCE_DIR}/integration)
foreach(t bad_decks parallel twins diverge dataset extend classify allkinds)
  sa_add_script_test(it_${t} SCRIPT ${SA_IT}/${t}.sh LABELS mpi TIMEOUT 300)
endforeach()
sa_add_script_test(it_kill_resume SCRIPT ${SA_IT}/kill_resume.sh ARGS long LABELS mpi TIMEOUT 300)
sa_add_script_test(it_kill_resume_mlp SCRIPT ${SA_IT}/kill_resume.sh ARGS digits_long LABELS mpi TIMEOUT 300)
# the shipped decks stay valid (the quickstart runs in full; the longer decks are only planned)
sa_add_script_test(it_quickstart SCRIPT ${SA_IT}/quickstart.sh LABELS mpi TIMEOUT 300)
# preemption signals and shards (docs/hpc.md); the real-SLURM tests are in tests/slurm/
sa_add_script_test(it_preempt SCRIPT ${SA_IT}/preempt.sh LABELS mpi TIMEOUT 300)
sa_add_script_test(it_shards SCRIPT ${SA_IT}/shards.sh LABELS mpi TIMEOUT 300)
# stability analysis: the lr_scale margin of GD on the quadratic at 2 / lambda_max (tests/decks/margin.yaml)
sa_add_script_test(it_analyze SCRIPT ${SA_IT}/analyze.sh LABELS mpi TIMEOUT 300)
