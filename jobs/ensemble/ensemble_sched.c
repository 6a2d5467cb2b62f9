/*
  ensemble_sched.c - SAEnsemble's scheduler: the order of the members still to run (twins by id, then perturbed
  members by onset and id) and the branch points each twin writes; the MPI-3 window on world rank 0 holding the counter
  a group leader takes its next member from (MPI_Fetch_and_op, passive target: no rank is a pure manager), the status
  board (0 to run, 1 running, 2 finished) and the stop word a preempted group posts for the others.
*/
#include <stabaudit/private/saensembleimpl.h>

/* the schedule: twins by id, then perturbed members by (onset, id); with branching, the distinct onsets of each twin's
   perturbed members (its branch points, in that order). The onsets are stored per twin in one array: counted first
   (at most one per perturbed member), so any number of distinct onsets is kept */
PetscErrorCode SAEnsembleScheduleSetUp_Private(SAEnsemble e)
{
  SACampaign c = e->c;
  PetscInt   M = c->nmembers, n = 0, first;

  PetscFunctionBeginUser;
  PetscCall(PetscFree(e->order));
  PetscCall(PetscFree(e->nonsets));
  PetscCall(PetscFree(e->onsetstart));
  PetscCall(PetscFree(e->onsets));
  PetscCall(PetscMalloc1(M + 1, &e->order));
  PetscCall(PetscCalloc1(M + 1, &e->nonsets));
  PetscCall(PetscCalloc1(M + 1, &e->onsetstart));
  for (PetscInt m = 0; m < M; m++)
    if (e->idx.file[m] < 0 && c->members[m].pert < 0 && (!e->shard || e->shard[m] == e->shard_index)) e->order[n++] = m;
  first = n;
  for (PetscInt m = 0; m < M; m++)
    if (e->idx.file[m] < 0 && c->members[m].pert >= 0 && (!e->shard || e->shard[m] == e->shard_index)) {
      PetscInt j = n++, on = c->pertonset[c->members[m].pert];
      while (j > first && c->pertonset[c->members[e->order[j - 1]].pert] > on) {
        e->order[j] = e->order[j - 1];
        j--;
      }
      e->order[j] = m;
    }
  e->nsched = n;
  /* room for one branch point per scheduled perturbed member of each twin: onsetstart[tw] .. onsetstart[tw + 1] */
  if (c->branch)
    for (PetscInt i = first; i < n; i++) {
      SAMember *mb = &c->members[e->order[i]];

      if (e->idx.file[mb->twin] < 0) e->onsetstart[mb->twin + 1]++;
    }
  for (PetscInt m = 0; m < M; m++) e->onsetstart[m + 1] += e->onsetstart[m];
  PetscCall(PetscMalloc1(e->onsetstart[M] + 1, &e->onsets));
  if (c->branch)
    for (PetscInt i = first; i < n; i++) {
      SAMember *mb = &c->members[e->order[i]];
      PetscInt  tw = mb->twin, on, *ons = e->onsets + e->onsetstart[tw];
      PetscBool have = PETSC_FALSE;

      if (e->idx.file[tw] >= 0) continue;
      on = c->pertonset[mb->pert];
      for (PetscInt j = 0; j < e->nonsets[tw]; j++) have = (PetscBool) (have || ons[j] == on);
      if (!have) ons[e->nonsets[tw]++] = on;
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the shared counter, status board and stop word (MPI_Win_allocate: Open MPI 4.1 refuses MPI_Win_create on one rank);
   collective on world */
PetscErrorCode SAEnsembleBoardCreate_Private(SAEnsemble e)
{
  PetscInt M = e->c->nmembers;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Win_allocate(e->wrank ? 0 : (MPI_Aint) sizeof(int) * (M + 2), sizeof(int), MPI_INFO_NULL, e->world,
                                &e->winbuf, &e->win)); /* [counter, status[M], stop] */
  if (!e->wrank) {
    PetscCallMPI(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, e->win));
    e->winbuf[0] = 0;
    for (PetscInt m = 0; m < M; m++) e->winbuf[1 + m] = e->idx.file[m] >= 0 ? 2 : 0;
    e->winbuf[1 + M] = 0;
    PetscCallMPI(MPI_Win_unlock(0, e->win));
  }
  PetscCallMPI(MPI_Barrier(e->world));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* collective on world */
PetscErrorCode SAEnsembleBoardDestroy_Private(SAEnsemble e)
{
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Win_free(&e->win));
  e->winbuf = NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the group's next position in the schedule: the leader takes it from the counter, the group agrees (collective on the
   group); *k >= nsched when none is left */
PetscErrorCode SAEnsembleNextMember_Private(SAEnsemble e, PetscInt *k)
{
  int one = 1, next;

  PetscFunctionBeginUser;
  if (!e->grank) {
    PetscCallMPI(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, e->win));
    PetscCallMPI(MPI_Fetch_and_op(&one, &next, MPI_INT, 0, 0, MPI_SUM, e->win));
    PetscCallMPI(MPI_Win_unlock(0, e->win));
  }
  PetscCallMPI(MPI_Bcast(&next, 1, MPI_INT, 0, e->group));
  *k = next;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the status of member m (or, m = M, the stop word): sets it (set >= 0) or reads it into *get (set < 0); a group
   leader's call */
PetscErrorCode SAEnsembleStatus_Private(SAEnsemble e, PetscInt m, int set, int *get)
{
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, e->win));
  if (set >= 0) PetscCallMPI(MPI_Accumulate(&set, 1, MPI_INT, 0, 1 + m, 1, MPI_INT, MPI_REPLACE, e->win));
  else PetscCallMPI(MPI_Fetch_and_op(NULL, get, MPI_INT, 0, 1 + m, MPI_NO_OP, e->win));
  PetscCallMPI(MPI_Win_unlock(0, e->win));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* preemption: a signal on any rank of the group or, with board, a stop posted by another group (collective on the
   group) */
PetscErrorCode SAEnsembleStopRequested_Private(SAEnsemble e, PetscBool board, PetscBool *stop)
{
  int st = 0;

  PetscFunctionBeginUser;
  PetscCall(SAPreemptRequested(e->group, stop));
  if (*stop || !board) PetscFunctionReturn(PETSC_SUCCESS);
  if (!e->grank) PetscCall(SAEnsembleStatus_Private(e, e->c->nmembers, -1, &st));
  PetscCallMPI(MPI_Bcast(&st, 1, MPI_INT, 0, e->group));
  *stop = st ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}
