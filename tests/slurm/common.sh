# Shared by the slurm tests: the integration helpers, the running test SLURM (slurm-start.sh) or a
# visible skip (exit 77, ctest SKIP_RETURN_CODE), and job helpers.
. "$SA_SRC/tests/integration/common.sh"
: "${SLURM_DIR:?}"
if [ ! -e "$SLURM_DIR/up" ]; then
  echo "SKIP slurm: the test SLURM is not running (slurm_start skipped or failed; see its output: ctest -V -R slurm_start)"
  exit 77
fi
export SLURM_CONF=$SLURM_DIR/etc/slurm.conf
# job_state ID: the state of a job (of every task for an array, one per line)
job_state() { scontrol -o show job "$1" 2> /dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
# wait_done ID SECONDS: waits until no task of the job is pending, running or completing
wait_done() {
  local end=$((SECONDS + $2))
  while [ $SECONDS -lt $end ]; do
    if ! job_state "$1" | grep -qE 'PENDING|RUNNING|COMPLETING|CONFIGURING|REQUEUE'; then return 0; fi
    sleep 0.5
  done
  scontrol show job "$1" >&2
  fail "job $1 did not finish in $2 s"
}
# the progress lines of finished members in the given logs, as member ids
finished_members() { cat "$@" | sed -n 's/^\[.*\] member *\([0-9]*\) group.*/\1/p'; }
