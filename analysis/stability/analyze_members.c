/*
  analyze_members.c - the per-member analysis of SAAnalyze(): collapse, recovery, drawdown, twin gap area and FTLE
  of each local member, then reduced so that every rank holds every member's scalars.
*/
#include "analyzeimpl.h"

PetscErrorCode SAMemberAnalyze_Private(const SACampaignData *d, const SAAnalysisOptions *o, SAMemberData *r)
{
  PetscInt M = d->M;

  PetscFunctionBeginUser;
  PetscCall(
    PetscCalloc6(M, &r->collapsed, M, &r->cstep, M, &r->irrev, M, &r->recov, M, &r->baseline, M * SA_D, &r->warn));
  PetscCall(PetscCalloc4(M, &r->drawdown, M, &r->gap, M, &r->ftle, M, &r->ftle_se));
  for (PetscInt i = 0; i < d->nb; i++) {
    PetscInt         m = d->m0 + i, npts;
    SACollapseResult cr;

    PetscCall(SACollapseDetect(d->R, d->step, OBS(d, d->iperf, i), OBS(d, d->iloss, i),
                               SA_ISFILLINT(d->divstep[m]) ? -1 : d->divstep[m], o->delta, o->window, &cr));
    r->collapsed[m] = cr.collapsed;
    r->cstep[m]     = cr.collapse_step;
    r->irrev[m]     = cr.irreversible;
    r->recov[m]     = cr.recovery_steps;
    r->drawdown[m]  = cr.max_drawdown;
    r->gap[m] = r->ftle[m] = r->ftle_se[m] = NAN;
    if (d->twin[m] >= 0) {
      PetscCall(
        SATwinGapArea(d->R, d->step, OBS(d, d->iperf, i), d->perf + d->twin[m] * d->R, d->onset[m], &r->gap[m]));
      if (d->itd >= 0) {
        PetscInt t1 = o->ftle_window > 0 ? d->onset[m] + o->ftle_window : d->step[d->R - 1];
        PetscCall(SAFTLEFit(d->R, d->step, OBS(d, d->itd, i), d->onset[m], t1, &r->ftle[m], &r->ftle_se[m], &npts));
      }
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAMemberReduceInt_Private(MPI_Comm comm, PetscInt n, PetscInt v[])
{
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, v, (PetscMPIInt) n, MPIU_INT, MPI_SUM, comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAMemberReduceReal(MPI_Comm comm, PetscInt n, PetscReal v[])
{
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, v, (PetscMPIInt) n, MPIU_REAL, MPI_SUM, comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* every member's scalars on every rank: each rank filled its block, the others are 0 */
PetscErrorCode SAMemberReduce_Private(MPI_Comm comm, const SACampaignData *d, SAMemberData *r)
{
  PetscInt M = d->M;

  PetscFunctionBeginUser;
  PetscCall(SAMemberReduceInt_Private(comm, M, r->collapsed));
  PetscCall(SAMemberReduceInt_Private(comm, M, r->cstep));
  PetscCall(SAMemberReduceInt_Private(comm, M, r->irrev));
  PetscCall(SAMemberReduceInt_Private(comm, M, r->recov));
  PetscCall(SAMemberReduceReal(comm, M, r->drawdown));
  PetscCall(SAMemberReduceReal(comm, M, r->gap));
  PetscCall(SAMemberReduceReal(comm, M, r->ftle));
  PetscCall(SAMemberReduceReal(comm, M, r->ftle_se));
  /* the baseline ensemble: twins that did not collapse */
  for (PetscInt m = 0; m < M; m++) r->baseline[m] = d->twin[m] < 0 && !r->collapsed[m];
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAMemberDataDestroy_Private(SAMemberData *r)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree6(r->collapsed, r->cstep, r->irrev, r->recov, r->baseline, r->warn));
  PetscCall(PetscFree4(r->drawdown, r->gap, r->ftle, r->ftle_se));
  PetscFunctionReturn(PETSC_SUCCESS);
}
