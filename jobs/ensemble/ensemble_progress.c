/*
  ensemble_progress.c - SAEnsemble's progress: group leaders send one message per finished (or preempted) member to
  world rank 0, which prints it between its own steps; only rank 0 prints.
*/
#include <stabaudit/private/saensembleimpl.h>

static PetscErrorCode SAEnsemblePrintProgress(SAEnsemble e, const SAProgressMsg *p)
{
  PetscLogDouble now, el;
  const char    *reason;
  char           from[32] = "";

  PetscFunctionBeginUser;
  e->nmsg++;
  if (p->preempted) {
    char from[32] = "";

    if (p->from > 0) PetscCall(PetscSNPrintf(from, sizeof(from), " (from %d)", p->from));
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "preempted: member %5d group %3d stopped at step %d%s%s\n", p->member,
                          p->group, p->steps, from,
                          p->steps > p->from ? ", checkpoint written" : ", nothing to checkpoint"));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscTime(&now));
  el = now - e->t0;
  e->nprinted++;
  PetscCall(SAConvergedReasonToString((SAConvergedReason) p->reason, &reason));
  if (p->from > 0) PetscCall(PetscSNPrintf(from, sizeof(from), " (from %d)", p->from));
  PetscCall(PetscPrintf(PETSC_COMM_SELF,
                        "[%4" PetscInt_FMT "/%" PetscInt_FMT
                        "] member %5d group %3d steps %6d%-14s %-22s %8.2f s   elapsed %7.1f s  ETA %7.1f s\n",
                        e->nprinted, e->nsched, p->member, p->group, p->steps, from, reason, p->seconds, (double) el,
                        (double) (el / e->nprinted * (e->nsched - e->nprinted))));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* world rank 0 prints what other groups have finished (non-blocking unless wait) */
PetscErrorCode SAEnsemblePoll_Private(SAEnsemble e, PetscBool wait)
{
  int           flag = 1;
  MPI_Status    st;
  SAProgressMsg p;

  PetscFunctionBeginUser;
  if (e->wrank) PetscFunctionReturn(PETSC_SUCCESS);
  while (1) {
    if (!wait) {
      PetscCallMPI(MPI_Iprobe(MPI_ANY_SOURCE, SA_TAG_PROGRESS, e->world, &flag, &st));
      if (!flag) break;
    } else if (e->nmsg >= e->nmsgall) break;
    PetscCallMPI(MPI_Recv(&p, sizeof(p), MPI_BYTE, MPI_ANY_SOURCE, SA_TAG_PROGRESS, e->world, &st));
    PetscCall(SAEnsemblePrintProgress(e, &p));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* a group leader reports a finished or preempted member: to world rank 0, or printed there if it is rank 0 */
PetscErrorCode SAEnsembleSendProgress_Private(SAEnsemble e, const SAProgressMsg *p)
{
  PetscFunctionBeginUser;
  e->nmsgsent++;
  if (e->wrank) PetscCallMPI(MPI_Send(p, sizeof(*p), MPI_BYTE, 0, SA_TAG_PROGRESS, e->world));
  else PetscCall(SAEnsemblePrintProgress(e, p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the end of a session: world rank 0 learns how many messages were sent and prints them all (collective on world) */
PetscErrorCode SAEnsembleProgressEnd_Private(SAEnsemble e)
{
  PetscInt sent = e->grank ? 0 : e->nmsgsent;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Reduce(&sent, &e->nmsgall, 1, MPIU_INT, MPI_SUM, 0, e->world));
  PetscCall(SAEnsemblePoll_Private(e, PETSC_TRUE));
  PetscFunctionReturn(PETSC_SUCCESS);
}
