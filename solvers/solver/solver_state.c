/*
  solver_state.c - the state of a member's run as SASolver reports it (step, reason, records, final performance,
  theta), its restoration from a checkpoint, and the view (solver.c holds the object and the step loop).
*/
#include <stabaudit/private/sasolverimpl.h>
#include <netcdf.h>

/*@C
  SASolverIsDone - Whether the run has ended (completed or diverged)

  Not Collective

  Input Parameter:
. s - the solver

  Output Parameter:
. done - the answer

  Level: beginner

.seealso: `SASolverStep()`
@*/
PetscErrorCode SASolverIsDone(SASolver s, PetscBool *done)
{
  PetscFunctionBeginUser;
  *done = (PetscBool) (s->reason != SA_CONVERGED_ITERATING);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverGetStep - Returns the current step (the state is theta_step)

  Not Collective

  Input Parameter:
. s - the solver

  Output Parameter:
. step - the step

  Level: beginner

.seealso: `SASolverStep()`
@*/
PetscErrorCode SASolverGetStep(SASolver s, PetscInt *step)
{
  PetscFunctionBeginUser;
  *step = s->step;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverGetReason - Returns why the run ended and, if it diverged, where

  Not Collective

  Input Parameter:
. s - the solver

  Output Parameters:
+ reason        - `SA_CONVERGED_ITERATING` while running
- diverged_step - the step at which it diverged, -1 otherwise (may be NULL)

  Level: beginner

.seealso: `SAConvergedReason`
@*/
PetscErrorCode SASolverGetReason(SASolver s, SAConvergedReason *reason, PetscInt *diverged_step)
{
  PetscFunctionBeginUser;
  *reason = s->reason;
  if (diverged_step) *diverged_step = s->diverged_step;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverGetRecords - Returns the records (nrec x nobs, row-major, NC_FILL_DOUBLE where not reached)

  Not Collective

  Input Parameter:
. s - the solver

  Output Parameters:
+ nrec - recorded steps
. nobs - observables: the `SA_OBS_COUNT` of `SAObservables`, then the task's (`SASolverGetObservable()`)
- rec  - the records (owned by the solver)

  Level: intermediate

.seealso: `SAObservables`
@*/
PetscErrorCode SASolverGetRecords(SASolver s, PetscInt *nrec, PetscInt *nobs, PetscReal **rec)
{
  PetscFunctionBeginUser;
  PetscCall(SASolverSetUp(s));
  *nrec = s->nrec;
  *nobs = s->nobs;
  *rec  = s->rec;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverGetFinalPerformance - Performance at the last step reached (0 for a diverged run)

  Not Collective

  Input Parameter:
. s - the solver

  Output Parameter:
. perf - the performance

  Level: beginner

.seealso: `SASolverGetReason()`
@*/
PetscErrorCode SASolverGetFinalPerformance(SASolver s, PetscReal *perf)
{
  PetscFunctionBeginUser;
  *perf = s->final_perf;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverGetTheta - Returns the parameter vector (owned by the solver)

  Not Collective

  Input Parameter:
. s - the solver

  Output Parameter:
. theta - all trainable parameters

  Level: intermediate

.seealso: `SASolverSetState()`
@*/
PetscErrorCode SASolverGetTheta(SASolver s, Vec *theta)
{
  PetscFunctionBeginUser;
  PetscCall(SASolverSetUp(s));
  *theta = s->theta;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverSetState - Restores the counters and records of a checkpoint (theta and the optimizer
  state are loaded into their vectors by the caller)

  Logically Collective

  Input Parameters:
+ s             - the solver
. step          - the step of the state
. reason        - the reason stored with it
. diverged_step - the diverged step stored with it
- rec           - the records (nrec x nobs)

  Level: developer

.seealso: `SACheckpointRead()`
@*/
PetscErrorCode SASolverSetState(SASolver s, PetscInt step, SAConvergedReason reason, PetscInt diverged_step,
                                const PetscReal rec[])
{
  PetscFunctionBeginUser;
  PetscCall(SASolverSetUp(s));
  PetscCheck(step >= 0 && step <= s->nsteps + 1, PetscObjectComm((PetscObject) s), PETSC_ERR_ARG_OUTOFRANGE,
             "Checkpoint step %" PetscInt_FMT " out of range", step);
  s->step          = step;
  s->reason        = reason;
  s->diverged_step = diverged_step;
  if (reason < 0) s->final_perf = 0.0; /* a diverged run's performance, as in SASolverStep() */
  PetscCall(PetscArraycpy(s->rec, rec, s->nrec * s->nobs));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverView - Prints the solver: steps, record interval, explosion factor, progress, hooks and monitors, its task
  and its optimizer

  Collective

  Input Parameters:
+ s      - the solver
- viewer - an ASCII viewer (NULL: standard output of the solver's communicator); other viewers print nothing

  Options Database Key:
. -solver_view [viewer] - view at the end of `SASolverSetUp()`

  Level: beginner

.seealso: `SASolverSetUp()`, `SAOptimizerView()`, `SATaskView()`
@*/
PetscErrorCode SASolverView(SASolver s, PetscViewer viewer)
{
  PetscBool iascii;

  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(s, SASOLVER_CLASSID, 1);
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(PetscObjectComm((PetscObject) s), &viewer));
  PetscCall(PetscObjectTypeCompare((PetscObject) viewer, PETSCVIEWERASCII, &iascii));
  if (!iascii) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SAObjectViewHeader((PetscObject) s, viewer));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  PetscCall(PetscViewerASCIIPrintf(viewer,
                                   "steps %" PetscInt_FMT ", record every %" PetscInt_FMT ", explosion factor %g\n",
                                   s->nsteps, s->record_every, (double) s->explode));
  PetscCall(
    PetscViewerASCIIPrintf(viewer, "hook sets %" PetscInt_FMT ", monitors %" PetscInt_FMT "\n", s->nhooks, s->nmon));
  if (s->setupcalled) {
    const char *reason;
    PetscInt    N;

    PetscCall(VecGetSize(s->theta, &N));
    PetscCall(SAConvergedReasonToString(s->reason, &reason));
    PetscCall(PetscViewerASCIIPrintf(viewer,
                                     "parameters %" PetscInt_FMT ", step %" PetscInt_FMT ", %s, loss(theta_0) %g\n", N,
                                     s->step, reason, (double) s->loss0));
  } else PetscCall(PetscViewerASCIIPrintf(viewer, "not set up\n"));
  if (s->task) PetscCall(SATaskView(s->task, viewer));
  if (s->opt) PetscCall(SAOptimizerView(s->opt, viewer));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}
