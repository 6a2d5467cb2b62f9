/*
  ensemble_member.c - SAEnsemble: one member's run on its group. It resumes from its in-flight checkpoint
  (DIR/checkpoints/m<id>.h5), or, perturbed, waits for its twin and branches from the twin's checkpoint at its onset
  (DIR/checkpoints/b<twin>_s<onset>.h5), or starts at step 0; then the step loop: the branch points a twin writes
  before taking those steps, periodic checkpoints, preemption at every step boundary; finally the shard record.
  If the twin diverged before the onset it writes its final state, and the perturbed member records the same outcome
  (it was never perturbed). A missing branch point (twin finished in an earlier campaign) means training from step 0:
  the result is bitwise the same.
*/
#include <stabaudit/private/saensembleimpl.h>
#include <unistd.h>

/* DIR/checkpoints/b<twin>_s<onset>.h5: the state of a twin at the onset of its perturbed members */
static PetscErrorCode SAEnsembleBranchPath(SAEnsemble e, PetscInt twin, PetscInt onset, char path[], size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(
    PetscSNPrintf(path, len, "%s/checkpoints/b%06" PetscInt_FMT "_s%08" PetscInt_FMT ".h5", e->dir, twin, onset));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the group leader checks a file, the group agrees */
static PetscErrorCode SAEnsembleGroupExists(SAEnsemble e, const char path[], PetscBool *flg)
{
  int x = 0;

  PetscFunctionBeginUser;
  if (!e->grank) x = access(path, R_OK) == 0;
  PetscCallMPI(MPI_Bcast(&x, 1, MPI_INT, 0, e->group));
  *flg = x ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* a preemption stopped member m at its current step: checkpoint it (if it moved), mark it to run again, post the stop
   for the other groups and report */
static PetscErrorCode SAEnsembleStopMember(SAEnsemble e, SASolver s, PetscInt m, PetscInt start, const char inflight[])
{
  PetscInt step = start;

  PetscFunctionBeginUser;
  e->preempted = PETSC_TRUE;
  if (s) PetscCall(SASolverGetStep(s, &step));
  if (step > start) PetscCall(SASolverWriteCheckpoint(s, m, inflight));
  if (!e->grank) {
    SAProgressMsg p = {(int) m, (int) e->mygroup, (int) step, (int) start, 0, 0.0, 1};

    PetscCall(SAEnsembleStatus_Private(e, m, 0, NULL));
    PetscCall(SAEnsembleStatus_Private(e, e->c->nmembers, 1, NULL));
    PetscCall(SAEnsembleSendProgress_Private(e, &p));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* trains member m on this group, from a checkpoint or branch point when there is one */
PetscErrorCode SAEnsembleRunMember_Private(SAEnsemble e, PetscInt m)
{
  SACampaign      c  = e->c;
  SAMember       *mb = &c->members[m];
  SASolver        s;
  char            inflight[PETSC_MAX_PATH_LEN], path[PETSC_MAX_PATH_LEN];
  PetscBool       flg, done;
  PetscInt        start = 0, step, nrec, nobs;
  PetscLogDouble  t0, t1;
  SAMemberResult  r;
  SAMemberObjects mo;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(SAENSEMBLE_Member, 0, 0, 0, 0));
  PetscCall(PetscTime(&t0));
  if (!e->grank) PetscCall(SAEnsembleStatus_Private(e, m, 1, NULL));
  PetscCall(SACampaignCreateMember(c, m, e->group, e->dir, &mo));
  s = mo.solver;
  PetscCall(SASolverSetUp(s));
  PetscCall(PetscSNPrintf(inflight, sizeof(inflight), "%s/checkpoints/m%06" PetscInt_FMT ".h5", e->dir, m));
  PetscCall(SAEnsembleGroupExists(e, inflight, &flg));
  if (flg) {
    PetscCall(SASolverReadCheckpoint(s, inflight, NULL));
  } else if (mb->pert >= 0) {
    PetscInt onset = c->pertonset[mb->pert];
    int      wait = 1, st = 0;

    PetscCall(SAEnsembleBranchPath(e, mb->twin, onset, path, sizeof(path)));
    /* the twin must have finished: its trajectory gives twin_distance; then start from its branch point when there is
       one (a twin that finished in an earlier campaign has none: train from step 0, bitwise the same); the leader
       decides for the group */
    while (wait == 1) {
      if (!e->grank) {
        PetscCall(SAEnsembleStatus_Private(e, mb->twin, -1, &st));
        if (st == 2) wait = (c->branch && access(path, R_OK) == 0) ? 0 : -1;
      }
      PetscCallMPI(MPI_Bcast(&wait, 1, MPI_INT, 0, e->group));
      if (wait == 1) PetscCall(SAEnsembleStopRequested_Private(e, PETSC_TRUE, &flg));
      if (wait == 1 && flg) { /* preempted while waiting for the twin: nothing done yet */
        PetscCall(SAEnsembleStopMember(e, NULL, m, 0, inflight));
        PetscCall(SASolverDestroy(&s));
        PetscCall(PetscLogEventEnd(SAENSEMBLE_Member, 0, 0, 0, 0));
        PetscFunctionReturn(PETSC_SUCCESS);
      }
      if (wait == 1) {
        PetscCall(SAEnsemblePoll_Private(e, PETSC_FALSE));
        (void) usleep(2000);
      }
    }
    if (wait == 0) PetscCall(SASolverReadCheckpoint(s, path, NULL));
  }
  PetscCall(SASolverGetStep(s, &start));
  PetscCall(SASolverIsDone(s, &done));
  while (!done) {
    PetscCall(SASolverGetStep(s, &step));
    PetscCall(SAPreemptRequested(e->group, &flg)); /* every step boundary: all ranks of the group agree */
    if (flg) {
      PetscCall(SAEnsembleStopMember(e, s, m, start, inflight));
      PetscCall(SASolverDestroy(&s));
      PetscCall(PetscLogEventEnd(SAENSEMBLE_Member, 0, 0, 0, 0));
      PetscFunctionReturn(PETSC_SUCCESS);
    }
    for (PetscInt k = 0; k < e->nonsets[m]; k++)
      if (e->onsets[e->onsetstart[m] + k] == step) {
        PetscCall(SAEnsembleBranchPath(e, m, step, path, sizeof(path)));
        PetscCall(SAEnsembleGroupExists(e, path, &flg));
        if (!flg) PetscCall(SASolverWriteCheckpoint(s, m, path));
      }
    if (step > start && step % c->checkpoint_every == 0) PetscCall(SASolverWriteCheckpoint(s, m, inflight));
    PetscCall(SASolverStep(s));
    PetscCall(SASolverIsDone(s, &done));
    PetscCall(SAEnsemblePoll_Private(e, PETSC_FALSE));
  }
  /* a twin that diverged before some onsets leaves its final state there: the perturbed members share its fate */
  for (PetscInt k = 0; k < e->nonsets[m]; k++) {
    PetscCall(SAEnsembleBranchPath(e, m, e->onsets[e->onsetstart[m] + k], path, sizeof(path)));
    PetscCall(SAEnsembleGroupExists(e, path, &flg));
    if (!flg) PetscCall(SASolverWriteCheckpoint(s, m, path));
  }
  PetscCall(PetscTime(&t1));
  r.member = m;
  PetscCall(SASolverGetReason(s, &r.reason, &r.diverged_step));
  PetscCall(SASolverGetFinalPerformance(s, &r.final_performance));
  PetscCall(SASolverGetRecords(s, &nrec, &nobs, &r.rec));
  PetscCall(SASolverGetStep(s, &step));
  r.nrec    = nrec;
  r.nobs    = nobs;
  r.seconds = t1 - t0;
  PetscCall(SAProbeGetRecords(mo.probe, &r.nprobe, &r.plen, &r.probe)); /* 0 rows without probes */
  { /* the Lyapunov exponents (none without lyap:) */
    SALyap ly = mo.lyap;

    r.nlyap        = 0;
    r.lyap_counted = 0;
    r.lyap         = NULL;
    if (ly) {
      PetscCall(SALyapGetNumExponents(ly, &r.nlyap));
      PetscCall(PetscMalloc1(r.nlyap, &r.lyap));
      PetscCall(SALyapGetExponents(ly, r.lyap, &r.lyap_counted));
    }
  }
  if (!e->grank) {
    SAProgressMsg p = {(int) m,
                       (int) e->mygroup,
                       (int) (r.diverged_step >= 0 ? r.diverged_step : c->nsteps),
                       (int) start,
                       (int) r.reason,
                       r.seconds,
                       0};

    PetscCall(SAShardAppend(e->dir, e->session, e->mygroup, &r));
    (void) unlink(inflight);
    PetscCall(SAEnsembleStatus_Private(e, m, 2, NULL));
    PetscCall(SAEnsembleSendProgress_Private(e, &p));
  }
  e->nrun++;
  if (!e->grank) e->nstepsrun += step - start;
  PetscCall(PetscFree(r.lyap)); /* the records and probe rows belong to the solver */
  PetscCall(SASolverDestroy(&s));
  PetscCall(PetscLogEventEnd(SAENSEMBLE_Member, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}
