/*
  preempt.c - preemption signals.

  A batch system announces the end of an allocation with a signal: SLURM sends SIGUSR1 (or any
  signal chosen with --signal) some time before the limit, and SIGTERM when it preempts, requeues
  or cancels a job. stabaudit run traps both: the handler only sets a flag; SAEnsembleRun() checks
  the flag at every step boundary (collectively over the group, so all ranks of a member agree),
  checkpoints the member in flight, stops taking members and the run exits with SA_EXIT_REQUEUE.
*/
#include <stabaudit/sajobs.h>
#include <signal.h>
#include <errno.h>
#include <string.h>

static volatile sig_atomic_t sa_preempt_signal = 0;

static void SAPreemptHandler(int sig) { sa_preempt_signal = sig; }

/*@C
  SAPreemptInstall - Traps SIGTERM and SIGUSR1: the handler records the signal for
  `SAPreemptRequested()` and returns (the run stops at the next step boundary)

  Not Collective

  Notes:
  Call after `PetscInitialize()`, which installs PETSc's own handler for these signals.

  Level: developer

.seealso: `SAPreemptRequested()`, `SAEnsembleRun()`
@*/
PetscErrorCode SAPreemptInstall(void)
{
  struct sigaction sa;
  const int        sigs[] = {SIGTERM, SIGUSR1};

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(&sa, sizeof(sa)));
  sa.sa_handler = SAPreemptHandler;
  sa.sa_flags   = SA_RESTART; /* interrupted reads and writes resume: only the flag matters */
  sigemptyset(&sa.sa_mask);
  for (int i = 0; i < 2; i++)
    PetscCheck(!sigaction(sigs[i], &sa, NULL), PETSC_COMM_SELF, PETSC_ERR_SYS, "sigaction(%d) failed: %s", sigs[i],
               strerror(errno));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPreemptRequested - Whether any rank of a communicator has received a preemption signal

  Collective

  Input Parameter:
. comm - the communicator (a member's group)

  Output Parameter:
. flg - `PETSC_TRUE` on every rank if one of them was signalled

  Level: developer

.seealso: `SAPreemptInstall()`
@*/
PetscErrorCode SAPreemptRequested(MPI_Comm comm, PetscBool *flg)
{
  int local = sa_preempt_signal != 0, any;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(&local, &any, 1, MPI_INT, MPI_MAX, comm));
  *flg = any ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPreemptGetSignal - The preemption signal this process received (0 if none)

  Not Collective

  Output Parameter:
. sig - the signal number

  Level: developer

.seealso: `SAPreemptInstall()`
@*/
PetscErrorCode SAPreemptGetSignal(int *sig)
{
  PetscFunctionBeginUser;
  *sig = (int) sa_preempt_signal;
  PetscFunctionReturn(PETSC_SUCCESS);
}
