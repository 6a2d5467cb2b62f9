/*
  solver.c - SASolver: the step loop of one member.

  Step t (0 <= t <= nsteps; the update is skipped at t = nsteps):
    1. parameter hooks       theta <- P(theta)                    (e.g. parametric perturbations)
    2. batch hooks           the step's batch description          (environment and learning-signal perturbations)
    3. loss and gradient     on the batch                          (SATaskLossGradient)
    4. gradient hooks        gradient <- G(gradient), G linear      (e.g. loss_scale)
    5. record                loss, gradient and parameter norms, the task's observables (recorded steps)
    6. divergence check      loss NaN/Inf, or loss > explode * loss(theta_0) (explode * 1 if that is 0): the run ends,
                             the reason is recorded (a result, never an error)
    7. hyper hooks           hyper-parameters / optimizer state    (optimization perturbations), if not diverged
    8. monitors              see the step's state (SASolverStepInfo): twin distance, probes, Lyapunov tangents through
                             SASolverGetStepJacobian(); they run on diverged steps too (info->diverged)
    9. update                theta <- F(theta, g)                  (SAOptimizerUpdate), t < nsteps and not diverged
  Steps t with t % record_every == 0 are recorded: loss, performance (SATaskEvaluate), gradient,
  update and parameter norms and the learning rate in force. The loss is broadcast from the
  group's rank 0 so every rank takes the same divergence decision. Hooks, monitors, the step Jacobian and the
  checkpoint are in hooks.c and stepjacobian.c.
*/
#include <stabaudit/private/sasolverimpl.h>
#include <netcdf.h>

const SAObservableInfo SAObservables[] = {
  {"loss", "training loss of the step's batch", "1"},
  {"performance", "performance (higher is better, in [0,1])", "1"},
  {"grad_norm", "2-norm of the loss gradient that drives the update", "1"},
  {"update_norm", "2-norm of the parameter update of the step", "1"},
  {"theta_norm", "2-norm of all trainable parameters", "1"},
  {"lr", "learning rate in force at the step", "1"},
  {"eval_loss", "loss on the evaluation data (test set; the noise-free loss for analytic tasks)", "1"},
  {"effective_lr", "update norm over gradient norm: the step size the optimizer actually took", "1"},
  {"twin_distance", "relative distance ||theta - theta_twin|| / ||theta_twin|| to the unperturbed twin at the step",
   "1"},
};

PetscClassId         SASOLVER_CLASSID;
static PetscLogEvent SASOLVER_Step;

/*@C
  SASolverInitializePackage - Registers the SASolver class and its log event

  Not Collective

  Level: developer

.seealso: `SAInitialize()`
@*/
PetscErrorCode SASolverInitializePackage(void)
{
  static PetscBool done = PETSC_FALSE;

  PetscFunctionBeginUser;
  if (done) PetscFunctionReturn(PETSC_SUCCESS);
  done = PETSC_TRUE;
  PetscCall(PetscClassIdRegister("SASolver", &SASOLVER_CLASSID));
  PetscCall(PetscLogEventRegister("SASolverStep", SASOLVER_CLASSID, &SASOLVER_Step));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverCreate - Creates the step loop of one member

  Collective

  Input Parameter:
. comm - the member's group communicator

  Output Parameter:
. s - the solver

  Notes:
  The solver is a `PetscObject` of class `SASOLVER_CLASSID`: `PetscObjectReference()` adds a reference,
  `SASolverDestroy()` drops one.

  Level: beginner

.seealso: `SASolverSetTask()`, `SASolverStep()`, `SASolverSetOptionsPrefix()`
@*/
PetscErrorCode SASolverCreate(MPI_Comm comm, SASolver *s)
{
  SASolver q;

  PetscFunctionBeginUser;
  PetscValidPointer(s, 2);
  *s = NULL;
  PetscCall(SASolverInitializePackage());
  PetscCall(PetscHeaderCreate(q, SASOLVER_CLASSID, "SASolver", "Step loop of a member", "SASolver", comm,
                              SASolverDestroy, SASolverView));
  q->nsteps        = 100;
  q->record_every  = 1;
  q->explode       = 1e10;
  q->diverged_step = -1;
  *s               = q;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverSetOptionsPrefix - Sets the prefix of the solver's options

  Logically Collective

  Input Parameters:
+ s      - the solver
- prefix - the prefix (no leading dash; NULL or "" for none)

  Notes:
  The solver reads one option, -solver_view; with prefix "actor_" it is -actor_solver_view. The prefix is not passed
  on to the task or the optimizer.

  Level: intermediate

.seealso: `SASolverAppendOptionsPrefix()`, `SASolverGetOptionsPrefix()`, `SASolverView()`
@*/
PetscErrorCode SASolverSetOptionsPrefix(SASolver s, const char prefix[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(s, SASOLVER_CLASSID, 1);
  PetscCall(PetscObjectSetOptionsPrefix((PetscObject) s, prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverAppendOptionsPrefix - Appends to the prefix of the solver's options

  Logically Collective

  Input Parameters:
+ s      - the solver
- prefix - the text to append (no leading dash)

  Level: intermediate

.seealso: `SASolverSetOptionsPrefix()`, `SASolverGetOptionsPrefix()`
@*/
PetscErrorCode SASolverAppendOptionsPrefix(SASolver s, const char prefix[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(s, SASOLVER_CLASSID, 1);
  PetscCall(PetscObjectAppendOptionsPrefix((PetscObject) s, prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverGetOptionsPrefix - Returns the prefix of the solver's options

  Not Collective

  Input Parameter:
. s - the solver

  Output Parameter:
. prefix - the prefix (NULL when none is set; owned by the solver)

  Level: intermediate

.seealso: `SASolverSetOptionsPrefix()`
@*/
PetscErrorCode SASolverGetOptionsPrefix(SASolver s, const char *prefix[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(s, SASOLVER_CLASSID, 1);
  PetscCall(PetscObjectGetOptionsPrefix((PetscObject) s, prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverSetTask - Sets the learning problem (the solver takes ownership; a task set before is destroyed)

  Logically Collective

  Input Parameters:
+ s    - the solver
- task - the task

  Level: beginner

.seealso: `SASolverGetTask()`
@*/
PetscErrorCode SASolverSetTask(SASolver s, SATask task)
{
  PetscFunctionBeginUser;
  if (task != s->task) PetscCall(SATaskDestroy(&s->task));
  s->task = task;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverGetTask - Returns the learning problem

  Not Collective

  Input Parameter:
. s - the solver

  Output Parameter:
. task - the task

  Level: beginner

.seealso: `SASolverSetTask()`
@*/
PetscErrorCode SASolverGetTask(SASolver s, SATask *task)
{
  PetscFunctionBeginUser;
  *task = s->task;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverSetOptimizer - Sets the update rule (the solver takes ownership; an optimizer set before is destroyed)

  Logically Collective

  Input Parameters:
+ s   - the solver
- opt - the optimizer

  Notes:
  The solver takes over the caller's reference: the caller does not destroy opt, and the solver's
  `SASolverDestroy()` (or a later `SASolverSetOptimizer()`) drops it. To keep using the optimizer after the solver is
  gone, add a reference first with `PetscObjectReference()` and destroy it with `SAOptimizerDestroy()`.

  Level: beginner

.seealso: `SASolverGetOptimizer()`
@*/
PetscErrorCode SASolverSetOptimizer(SASolver s, SAOptimizer opt)
{
  PetscFunctionBeginUser;
  if (opt != s->opt) PetscCall(SAOptimizerDestroy(&s->opt));
  s->opt = opt;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverGetOptimizer - Returns the update rule

  Not Collective

  Input Parameter:
. s - the solver

  Output Parameter:
. opt - the optimizer

  Level: beginner

.seealso: `SASolverSetOptimizer()`
@*/
PetscErrorCode SASolverGetOptimizer(SASolver s, SAOptimizer *opt)
{
  PetscFunctionBeginUser;
  *opt = s->opt;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverSetSteps - Sets the number of optimizer steps and the record interval

  Logically Collective

  Input Parameters:
+ s            - the solver
. nsteps       - optimizer steps (>= 1)
- record_every - record interval; must divide nsteps

  Level: beginner

.seealso: `SASolverGetRecords()`
@*/
PetscErrorCode SASolverSetSteps(SASolver s, PetscInt nsteps, PetscInt record_every)
{
  PetscFunctionBeginUser;
  PetscCheck(nsteps >= 1 && record_every >= 1 && nsteps % record_every == 0, PetscObjectComm((PetscObject) s),
             PETSC_ERR_ARG_OUTOFRANGE,
             "Need steps >= 1 and record_every dividing steps; got %" PetscInt_FMT " and %" PetscInt_FMT, nsteps,
             record_every);
  s->nsteps       = nsteps;
  s->record_every = record_every;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverGetSteps - Returns the number of optimizer steps and the record interval

  Not Collective

  Input Parameter:
. s - the solver

  Output Parameters:
+ nsteps       - optimizer steps (may be NULL)
- record_every - record interval (may be NULL)

  Level: beginner

.seealso: `SASolverSetSteps()`
@*/
PetscErrorCode SASolverGetSteps(SASolver s, PetscInt *nsteps, PetscInt *record_every)
{
  PetscFunctionBeginUser;
  if (nsteps) *nsteps = s->nsteps;
  if (record_every) *record_every = s->record_every;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverSetExplosionFactor - A run whose loss exceeds factor * loss(theta_0) is diverged

  Logically Collective

  Input Parameters:
+ s      - the solver
- factor - the factor (> 1)

  Level: intermediate

.seealso: `SASolverGetReason()`
@*/
PetscErrorCode SASolverSetExplosionFactor(SASolver s, PetscReal factor)
{
  PetscFunctionBeginUser;
  PetscCheck(factor > 1, PetscObjectComm((PetscObject) s), PETSC_ERR_ARG_OUTOFRANGE,
             "Explosion factor must be > 1, got %g", (double) factor);
  s->explode = factor;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverSetUp - Creates theta and the optimizer state, sets theta_0 and clears the records

  Collective

  Input Parameter:
. s - the solver

  Options Database Key:
. -solver_view [viewer] - view the solver once it is set up

  Level: intermediate

.seealso: `SASolverStep()`, `SASolverView()`
@*/
PetscErrorCode SASolverSetUp(SASolver s)
{
  PetscReal perf;

  PetscFunctionBeginUser;
  if (s->setupcalled) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(s->task && s->opt, PetscObjectComm((PetscObject) s), PETSC_ERR_ORDER, "Set a task and an optimizer first");
  PetscCall(SATaskCreateParameters(s->task, &s->theta));
  PetscCall(VecDuplicate(s->theta, &s->grad));
  PetscCall(VecDuplicate(s->theta, &s->prev));
  PetscCall(SATaskInitialGuess(s->task, s->theta));
  PetscCall(SATaskEvaluate(s->task, s->theta, &s->loss0, &perf));
  PetscCall(SAOptimizerSetUp(s->opt, s->theta));
  {
    PetscInt                ntask;
    const SAObservableInfo *info;

    PetscCall(SATaskGetObservables(s->task, &ntask, &info));
    s->nobs = SA_OBS_COUNT + ntask;
  }
  s->nrec = s->nsteps / s->record_every + 1;
  PetscCall(PetscMalloc1(s->nrec * s->nobs, &s->rec));
  for (PetscInt i = 0; i < s->nrec * s->nobs; i++) s->rec[i] = NC_FILL_DOUBLE;
  s->step          = 0;
  s->reason        = SA_CONVERGED_ITERATING;
  s->diverged_step = -1;
  s->final_perf    = perf;
  s->setupcalled   = PETSC_TRUE;
  PetscCall(PetscObjectViewFromOptions((PetscObject) s, NULL, "-solver_view"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverStep - Takes one step of the pipeline (see the file's method card)

  Collective

  Input Parameter:
. s - the solver

  Notes:
  A diverged step ends the run with reason `SA_DIVERGED_NAN` or `SA_DIVERGED_LOSS_EXPLODED`; it is
  not an error. Calling it on a finished run is an error.

  Level: beginner

.seealso: `SASolverIsDone()`, `SASolverGetReason()`
@*/
PetscErrorCode SASolverStep(SASolver s)
{
  PetscInt         t = s->step, row = -1;
  PetscReal        loss, *r = NULL, perf = 0, lossbuf[1];
  SASolverStepInfo info;
  PetscBool        diverged;

  PetscFunctionBeginUser;
  PetscCall(SASolverSetUp(s));
  PetscCheck(s->reason == SA_CONVERGED_ITERATING, PetscObjectComm((PetscObject) s), PETSC_ERR_ORDER,
             "The run has ended (step %" PetscInt_FMT ")", t);
  PetscCall(PetscLogEventBegin(SASOLVER_Step, 0, 0, 0, 0));
  s->batch = SA_BATCH(t);
  for (PetscInt k = 0; k < s->nhooks; k++)
    if (s->hooks[k].hooks.params) PetscCall((*s->hooks[k].hooks.params)(s, t, s->theta, s->hooks[k].ctx));
  for (PetscInt k = 0; k < s->nhooks; k++)
    if (s->hooks[k].hooks.batch) PetscCall((*s->hooks[k].hooks.batch)(s, t, &s->batch, s->hooks[k].ctx));
  PetscCall(SATaskLossGradient(s->task, s->theta, &s->batch, &loss, s->grad));
  PetscCall(SASolverApplyGradientHooks_Private(s, t, s->grad));
  lossbuf[0] = loss;
  PetscCallMPI(MPI_Bcast(lossbuf, 1, MPIU_REAL, 0, PetscObjectComm((PetscObject) s)));
  loss = lossbuf[0];
  if (t % s->record_every == 0) {
    row                 = t / s->record_every;
    r                   = &s->rec[row * s->nobs];
    r[SA_OBS_LOSS]      = loss;
    r[SA_OBS_TWIN_DIST] = NC_FILL_DOUBLE; /* a twin-distance monitor fills it */
    PetscCall(VecNorm(s->grad, NORM_2, &r[SA_OBS_GRAD_NORM]));
    PetscCall(VecNorm(s->theta, NORM_2, &r[SA_OBS_THETA_NORM]));
    PetscCall(SATaskComputeObservables(s->task, s->theta, s->grad, &s->batch, &r[SA_OBS_COUNT]));
  }
  diverged = (PetscBool) (PetscIsInfOrNanReal(loss) || loss > s->explode * (s->loss0 > 0 ? s->loss0 : 1.0));
  if (!diverged) {
    PetscCall(SAOptimizerGetHyper(s->opt, t, &s->hyper));
    for (PetscInt k = 0; k < s->nhooks; k++)
      if (s->hooks[k].hooks.hyper) PetscCall((*s->hooks[k].hooks.hyper)(s, t, s->opt, &s->hyper, s->hooks[k].ctx));
  }
  if (s->nmon) {
    info.step       = t;
    info.nsteps     = s->nsteps;
    info.diverged   = diverged;
    info.theta      = s->theta;
    info.grad       = s->grad;
    info.batch      = &s->batch;
    info.hyper      = diverged ? NULL : &s->hyper;
    info.loss       = loss;
    info.row        = row;
    info.record     = r;
    s->inmonitor    = PETSC_TRUE;
    s->stepdiverged = diverged;
    for (PetscInt k = 0; k < s->nmon; k++) PetscCall((*s->mon[k].fn)(s, &info, s->mon[k].ctx));
    s->inmonitor = PETSC_FALSE;
    PetscCall(MatDestroy(&s->J));
  }
  if (diverged) {
    s->reason        = PetscIsInfOrNanReal(loss) ? SA_DIVERGED_NAN : SA_DIVERGED_LOSS_EXPLODED;
    s->diverged_step = t;
    s->final_perf    = 0.0;
    if (r) r[SA_OBS_PERFORMANCE] = 0.0;
  } else {
    if (r) {
      PetscReal l;

      PetscCall(SATaskEvaluate(s->task, s->theta, &l, &perf));
      r[SA_OBS_PERFORMANCE] = perf;
      r[SA_OBS_EVAL_LOSS]   = l;
      r[SA_OBS_LR]          = s->hyper.lr;
    }
    if (t < s->nsteps) {
      if (r) PetscCall(VecCopy(s->theta, s->prev));
      PetscCall(SAOptimizerUpdate(s->opt, &s->hyper, s->theta, s->grad));
      if (r) {
        PetscCall(VecAXPY(s->prev, -1.0, s->theta));
        PetscCall(VecNorm(s->prev, NORM_2, &r[SA_OBS_UPDATE_NORM]));
        r[SA_OBS_EFF_LR] = r[SA_OBS_GRAD_NORM] > 0 ? r[SA_OBS_UPDATE_NORM] / r[SA_OBS_GRAD_NORM] : 0.0;
      }
    } else {
      if (!r) {
        PetscReal l;
        PetscCall(SATaskEvaluate(s->task, s->theta, &l, &perf));
      }
      s->final_perf = perf;
      s->reason     = SA_CONVERGED_MAX_STEPS;
    }
  }
  s->step++;
  PetscCall(PetscLogEventEnd(SASOLVER_Step, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverDestroy - Drops a reference to the solver; at the last one destroys it, its task and optimizer (drops its
  reference to them), and the contexts of its hooks and monitors (it owns them)

  Collective

  Input Parameter:
. s - the solver (may be NULL; set to NULL)

  Level: beginner

.seealso: `SASolverCreate()`
@*/
PetscErrorCode SASolverDestroy(SASolver *s)
{
  PetscFunctionBeginUser;
  if (!*s) PetscFunctionReturn(PETSC_SUCCESS);
  PetscValidHeaderSpecific(*s, SASOLVER_CLASSID, 1);
  if (--((PetscObject) (*s))->refct > 0) {
    *s = NULL;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(SASolverMonitorCancel(*s));
  for (PetscInt k = 0; k < (*s)->nhooks; k++)
    if ((*s)->hooks[k].destroy) PetscCall((*(*s)->hooks[k].destroy)(&(*s)->hooks[k].ctx));
  PetscCall(MatDestroy(&(*s)->J));
  PetscCall(VecDestroy(&(*s)->theta));
  PetscCall(VecDestroy(&(*s)->grad));
  PetscCall(VecDestroy(&(*s)->prev));
  PetscCall(PetscFree((*s)->rec));
  PetscCall(SATaskDestroy(&(*s)->task));
  PetscCall(SAOptimizerDestroy(&(*s)->opt));
  PetscCall(PetscHeaderDestroy(s));
  PetscFunctionReturn(PETSC_SUCCESS);
}
