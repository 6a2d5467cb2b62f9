/*
  probe_member.c - the probe of one member in training: its record (one row per scheduled step, SAProbeSetMember,
  SAProbeGetRecords, SAProbeSetRecords), probing at a step outside a solver (SAProbeStep) or as the solver's monitor
  with a part of the checkpoint (SAProbeMonitor, SAProbeAttach), and its creation from the deck
  (SAProbeCreateForMember).
*/
#include <stabaudit/private/saprobeimpl.h>
#include <netcdf.h>

/*@C
  SAProbeSetMember - Prepares the probe's record of one member: one row per scheduled step

  Collective

  Input Parameters:
+ p      - the probe (kinds and schedule set)
. nsteps - the member's last step
- onset  - the member's perturbation onset (-1: none)

  Level: intermediate

.seealso: `SAProbeStep()`, `SAProbeGetRecords()`
@*/
PetscErrorCode SAProbeSetMember(SAProbe p, PetscInt nsteps, PetscInt onset)
{
  PetscInt k = 0;

  PetscFunctionBeginUser;
  if (!p->setup) PetscCall(SAProbeLayout_Private(p));
  p->nsteps = nsteps;
  p->onset  = onset;
  PetscCall(SAProbeNumScheduled(p, nsteps, onset, &p->nrows));
  PetscCall(PetscFree(p->rowstep));
  PetscCall(PetscFree(p->rows));
  PetscCall(PetscMalloc1(p->nrows + 1, &p->rowstep));
  PetscCall(PetscMalloc1(p->nrows * p->rowlen + 1, &p->rows));
  for (PetscInt i = 0; i < p->nrows * p->rowlen; i++) p->rows[i] = NC_FILL_DOUBLE;
  for (PetscInt t = 0; t <= nsteps; t++) {
    PetscBool yes;

    PetscCall(SAProbeIsScheduled(p, t, nsteps, onset, &yes));
    if (yes) p->rowstep[k++] = t;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeStep - Probes the member at step t if the schedule says so, into the row of that step

  Collective

  Input Parameters:
+ p     - the probe (`SAProbeSetMember()` called)
. task  - the task
. opt   - the optimizer, with the state that belongs to theta
. theta - the parameters at step t
. step  - t
- h     - the hyper-parameters of step t after perturbations (NULL: `SAOptimizerGetHyper()`)

  Notes:
  Outside a solver (tests, benchmarks). The probe uses its own vectors and the frozen probe batch:
  the training trajectory is the same with and without probes.

  Level: intermediate

.seealso: `SAProbeSetMember()`, `SAProbeMonitor()`
@*/
PetscErrorCode SAProbeStep(SAProbe p, SATask task, SAOptimizer opt, Vec theta, PetscInt step, const SAHyper *h)
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < p->nrows; i++)
    if (p->rowstep[i] == step)
      PetscCall(SAProbeComputeRow_Private(p, NULL, task, opt, theta, step, h, p->rows + i * p->rowlen));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeMonitor - The probe as a solver monitor: probes the member at its scheduled steps

  Collective

  Input Parameters:
+ s    - the solver
. info - the step's state
- ctx  - the probe (`SAProbeSetMember()` called)

  Notes:
  Set by `SAProbeAttach()`. A diverged step is not probed. The Jacobian probe uses the solver's linearisation of the
  step on the probe batch (`SASolverCreateStepJacobian()`): it includes the member's learning-signal perturbation.
  The probe uses its own vectors and the frozen probe batch: the training trajectory is the same with and without it.

  Level: intermediate

.seealso: `SAProbeAttach()`, `SASolverMonitorSet()`
@*/
PetscErrorCode SAProbeMonitor(SASolver s, const SASolverStepInfo *info, void *ctx)
{
  SAProbe     p = (SAProbe) ctx;
  SATask      task;
  SAOptimizer opt;

  PetscFunctionBeginUser;
  if (info->diverged) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SASolverGetTask(s, &task));
  PetscCall(SASolverGetOptimizer(s, &opt));
  for (PetscInt i = 0; i < p->nrows; i++)
    if (p->rowstep[i] == info->step)
      PetscCall(
        SAProbeComputeRow_Private(p, s, task, opt, info->theta, info->step, info->hyper, p->rows + i * p->rowlen));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAProbeCheckpointWriteCtx(void *ctx, PetscViewer v, Vec theta)
{
  PetscFunctionBeginUser;
  PetscCall(SAProbeCheckpointWrite((SAProbe) ctx, v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAProbeCheckpointReadCtx(void *ctx, PetscViewer v, Vec theta)
{
  PetscFunctionBeginUser;
  PetscCall(SAProbeCheckpointRead((SAProbe) ctx, v, theta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeAttach - Attaches the member's probe to its solver as a monitor with a part of the checkpoint

  Logically Collective

  Input Parameters:
+ p - the probe (`SAProbeCreateForMember()`); the solver takes ownership
- s - the solver

  Level: intermediate

.seealso: `SAProbeMonitor()`, `SASolverMonitorSetCheckpoint()`
@*/
PetscErrorCode SAProbeAttach(SAProbe p, SASolver s)
{
  PetscFunctionBeginUser;
  PetscCall(SASolverMonitorSet(s, SAProbeMonitor, p, SAObjectDestroyCtx));
  PetscCall(SASolverMonitorSetCheckpoint(s, p, SAProbeCheckpointWriteCtx, SAProbeCheckpointReadCtx));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeGetRecords - Returns the member's probe rows

  Not Collective

  Input Parameter:
. p - the probe (may be NULL: no probes)

  Output Parameters:
+ nrows  - rows (scheduled probes; 0 if p is NULL)
. rowlen - entries per row
- rows   - the rows, nrows x rowlen, owned by the probe (fill value where not probed yet)

  Level: intermediate

.seealso: `SAProbeSetRecords()`, `SAProbeGetColumns()`
@*/
PetscErrorCode SAProbeGetRecords(SAProbe p, PetscInt *nrows, PetscInt *rowlen, PetscReal **rows)
{
  PetscFunctionBeginUser;
  *nrows  = p ? p->nrows : 0;
  *rowlen = p ? p->rowlen : 0;
  *rows   = p ? p->rows : NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeSetRecords - Restores probe rows (from a checkpoint, possibly the twin's branch point) by their step

  Not Collective

  Input Parameters:
+ p      - the probe (`SAProbeSetMember()` called)
. n      - number of rows given
. rowlen - their length (must be the probe's)
- rows   - the rows; a row whose probe_step is one of the member's scheduled steps is copied into that row,
           a row of an unscheduled step or never computed (fill value) is ignored

  Level: developer

.seealso: `SAProbeGetRecords()`
@*/
PetscErrorCode SAProbeSetRecords(SAProbe p, PetscInt n, PetscInt rowlen, const PetscReal rows[])
{
  PetscFunctionBeginUser;
  PetscCheck(rowlen == p->rowlen, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED,
             "Probe rows of length %" PetscInt_FMT ", the deck gives %" PetscInt_FMT, rowlen, p->rowlen);
  for (PetscInt i = 0; i < n; i++) {
    PetscReal t = rows[i * rowlen + p->col[SA_PROBE_C_STEP].offset];

    if (t == NC_FILL_DOUBLE) continue;
    for (PetscInt j = 0; j < p->nrows; j++)
      if ((PetscReal) p->rowstep[j] == t) PetscCall(PetscArraycpy(p->rows + j * rowlen, rows + i * rowlen, rowlen));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeCreateForMember - Creates the probe of a member from the deck, or NULL when the deck turns no probe on

  Collective

  Input Parameters:
+ comm     - the member's group communicator
. campaign - campaign seed
. member   - member seed
. nsteps   - the member's last step
- onset    - its perturbation onset (-1: none)

  Output Parameter:
. p - the probe (NULL if probe_kinds is empty)

  Level: developer

.seealso: `SAProbeAttach()`
@*/
PetscErrorCode SAProbeCreateForMember(MPI_Comm comm, PetscInt64 campaign, PetscInt64 member, PetscInt nsteps,
                                      PetscInt onset, SAProbe *p)
{
  PetscBool any = PETSC_FALSE;

  PetscFunctionBeginUser;
  PetscCall(SAProbeCreate(comm, p));
  PetscCall(SAProbeSetFromOptions(*p));
  for (PetscInt k = 0; k < SA_PROBE_NKINDS; k++) any = (PetscBool) (any || (*p)->kind[k]);
  if (!any) {
    PetscCall(SAProbeDestroy(p));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(SAProbeSetSeeds(*p, campaign, member));
  PetscCall(SAProbeSetMember(*p, nsteps, onset));
  PetscFunctionReturn(PETSC_SUCCESS);
}
