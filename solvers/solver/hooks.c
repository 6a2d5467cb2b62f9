/*
  hooks.c - SASolver's hooks, monitors, step Jacobian and checkpoint.

  Hooks change the step (perturbations attach here, perturb/); monitors observe it (probes, Lyapunov tangents and the
  twin distance attach here, analysis/). The solver owns the linearisation of its own step: SASolverGetStepJacobian()
  is the Jacobian of the update that was actually applied, on the step's batch (with its learning-signal fields), with
  the gradient hooks' linear map applied to the Hessian-vector products and the hyper-parameters after the hyper hooks.
  The checkpoint is the solver visiting its parts: theta, the optimizer state, counters and records, then each
  monitor's part (SASolverMonitorSetCheckpoint).
*/
#include <stabaudit/private/sasolverimpl.h>

/*@C
  SASolverAddHooks - Adds a set of hooks to the step pipeline (called in the order added, after those added before)

  Logically Collective

  Input Parameters:
+ s       - the solver
. hooks   - the hook functions (copied; any may be NULL)
. ctx     - their context
- destroy - destroys ctx with the solver (may be NULL)

  Notes:
  See `SASolverHooks` for when each hook runs. A gradient hook must be a linear, self-adjoint map of the gradient
  (a scale): the step Jacobian applies the same hook to its Hessian-vector products, so that it linearises the
  update actually applied.

  Level: intermediate

.seealso: `SASolverHooks`, `SASolverMonitorSet()`, `SASolverStep()`
@*/
PetscErrorCode SASolverAddHooks(SASolver s, const SASolverHooks *hooks, void *ctx, SASolverCtxDestroyFn destroy)
{
  PetscFunctionBeginUser;
  PetscCheck(s->nhooks < SA_SOLVER_MAXHOOKS, PetscObjectComm((PetscObject) s), PETSC_ERR_ARG_OUTOFRANGE,
             "At most %d hook sets", SA_SOLVER_MAXHOOKS);
  s->hooks[s->nhooks].hooks   = *hooks;
  s->hooks[s->nhooks].ctx     = ctx;
  s->hooks[s->nhooks].destroy = destroy;
  s->nhooks++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SASolverApplyGradientHooks_Private(SASolver s, PetscInt t, Vec g)
{
  PetscFunctionBeginUser;
  for (PetscInt k = 0; k < s->nhooks; k++)
    if (s->hooks[k].hooks.gradient) PetscCall((*s->hooks[k].hooks.gradient)(s, t, g, s->hooks[k].ctx));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the gradient hooks of the step in progress as a linear map (the step Jacobian's SAStepJacobianSetGradientMap) */
PetscErrorCode SASolverGradientMap_Private(void *ctx, Vec v)
{
  SASolver s = (SASolver) ctx;

  PetscFunctionBeginUser;
  PetscCall(SASolverApplyGradientHooks_Private(s, s->batch.step, v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverMonitorSet - Adds a monitor, called at every step after the hooks and before the update

  Logically Collective

  Input Parameters:
+ s       - the solver
. fn      - the monitor: fn(s, info, ctx), info the step's state (`SASolverStepInfo`)
. ctx     - its context
- destroy - destroys ctx with the solver or `SASolverMonitorCancel()` (may be NULL)

  Notes:
  Monitors are called in the order set, also on a diverged step (info->diverged). A monitor must not change theta,
  the gradient or the optimizer state: it may use `SASolverGetStepJacobian()` and `SASolverCreateStepJacobian()`,
  and fill its own entries of info->record. With no monitor the step does exactly what it did without them.

  Level: intermediate

.seealso: `SASolverStepInfo`, `SASolverMonitorSetCheckpoint()`, `SASolverMonitorCancel()`
@*/
PetscErrorCode SASolverMonitorSet(SASolver s, SASolverMonitorFn fn, void *ctx, SASolverCtxDestroyFn destroy)
{
  PetscFunctionBeginUser;
  PetscCheck(s->nmon < SA_SOLVER_MAXMONITORS, PetscObjectComm((PetscObject) s), PETSC_ERR_ARG_OUTOFRANGE,
             "At most %d monitors", SA_SOLVER_MAXMONITORS);
  s->mon[s->nmon].fn      = fn;
  s->mon[s->nmon].ctx     = ctx;
  s->mon[s->nmon].destroy = destroy;
  s->mon[s->nmon].view    = NULL;
  s->mon[s->nmon].load    = NULL;
  s->nmon++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverMonitorSetCheckpoint - Gives the monitor of context ctx a part of the member's checkpoint

  Logically Collective

  Input Parameters:
+ s    - the solver
. ctx  - the context of a monitor set with `SASolverMonitorSet()`
. view - writes the monitor's state: view(ctx, viewer, theta) on the checkpoint's HDF5 viewer
- load - reads it back: load(ctx, viewer, theta); a checkpoint without the part must leave the monitor as it is

  Level: developer

.seealso: `SASolverWriteCheckpoint()`, `SASolverReadCheckpoint()`
@*/
PetscErrorCode SASolverMonitorSetCheckpoint(SASolver s, void *ctx, SASolverCheckpointFn view, SASolverCheckpointFn load)
{
  PetscFunctionBeginUser;
  for (PetscInt k = 0; k < s->nmon; k++)
    if (s->mon[k].ctx == ctx) {
      s->mon[k].view = view;
      s->mon[k].load = load;
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  SETERRQ(PetscObjectComm((PetscObject) s), PETSC_ERR_ARG_WRONG, "No monitor with this context");
}

/*@C
  SASolverMonitorCancel - Removes every monitor (destroying their contexts)

  Logically Collective

  Input Parameter:
. s - the solver

  Level: intermediate

.seealso: `SASolverMonitorSet()`
@*/
PetscErrorCode SASolverMonitorCancel(SASolver s)
{
  PetscFunctionBeginUser;
  for (PetscInt k = 0; k < s->nmon; k++)
    if (s->mon[k].destroy) PetscCall((*s->mon[k].destroy)(&s->mon[k].ctx));
  s->nmon = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverGetStepJacobian - The Jacobian of the step in progress, as applied: on the step's batch, with the gradient
  hooks, in (theta, optimizer state)

  Collective

  Input Parameter:
. s - the solver, inside a monitor of a step that did not diverge

  Output Parameter:
. J - the operator (borrowed: valid until the monitors of the step return); see `SAStepJacobianCreate()`

  Notes:
  J dz = F_z dz + F_g G (H dtheta), where F is the optimizer's update map with the step's final hyper-parameters, g
  the gradient the update used (after the gradient hooks), G the gradient hooks' linear map (e.g. loss_scale) and H
  the Hessian of the task's loss on the step's batch, which includes the batch's learning-signal fields (sign flips,
  signal noise, label smoothing: `SATaskHessianMult()`). No gradient is recomputed. Gradient clipping is linearised
  by the optimizer's F_g; the task's gradient noise is additive and independent of theta (no derivative).

  Level: intermediate

.seealso: `SASolverCreateStepJacobian()`, `SASolverMonitorSet()`
@*/
PetscErrorCode SASolverGetStepJacobian(SASolver s, Mat *J)
{
  PetscFunctionBeginUser;
  PetscCheck(s->inmonitor, PetscObjectComm((PetscObject) s), PETSC_ERR_ORDER,
             "The step Jacobian exists only inside a monitor");
  PetscCheck(s->batch.step < s->nsteps, PetscObjectComm((PetscObject) s), PETSC_ERR_ORDER,
             "Step %" PetscInt_FMT " takes no update", s->batch.step);
  PetscCheck(!s->stepdiverged, PetscObjectComm((PetscObject) s), PETSC_ERR_ORDER,
             "No step Jacobian of a diverged step");
  if (!s->J) {
    PetscCall(SAStepJacobianCreate(s->task, s->opt, s->theta, &s->batch, s->batch.step, s->grad, &s->J));
    PetscCall(SAStepJacobianSetHyper(s->J, &s->hyper));
    PetscCall(SAStepJacobianSetGradientMap(s->J, SASolverGradientMap_Private, s));
  }
  *J = s->J;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverCreateStepJacobian - The Jacobian of the step in progress evaluated on another batch (a probe batch)

  Collective

  Input Parameters:
+ s     - the solver, inside a monitor of a step that did not diverge
- batch - the batch (a frozen probe batch); the learning-signal fields of the step's batch (signal flips, signal noise,
          label smoothing) are added to it, so that the linearisation sees the member's learning signal

  Output Parameter:
. J - a new operator (destroy it with `MatDestroy()`), with the step's hyper-parameters and gradient hooks; its
      gradient is computed once on the batch

  Level: intermediate

.seealso: `SASolverGetStepJacobian()`
@*/
PetscErrorCode SASolverCreateStepJacobian(SASolver s, const SABatch *batch, Mat *J)
{
  SABatch b = *batch;

  PetscFunctionBeginUser;
  PetscCheck(s->inmonitor, PetscObjectComm((PetscObject) s), PETSC_ERR_ORDER,
             "The step Jacobian exists only inside a monitor");
  PetscCheck(!s->stepdiverged, PetscObjectComm((PetscObject) s), PETSC_ERR_ORDER,
             "No step Jacobian of a diverged step");
  if (s->batch.signal_flip > 0 || s->batch.signal_noise > 0 || s->batch.label_smoothing >= 0) {
    b.signal_flip     = s->batch.signal_flip;
    b.signal_noise    = s->batch.signal_noise;
    b.label_smoothing = s->batch.label_smoothing;
    b.pkey            = s->batch.pkey;
  }
  PetscCall(SAStepJacobianCreate(s->task, s->opt, s->theta, &b, s->batch.step, NULL, J));
  PetscCall(SAStepJacobianSetHyper(*J, &s->hyper));
  PetscCall(SAStepJacobianSetGradientMap(*J, SASolverGradientMap_Private, s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the monitors' checkpoint parts */
static PetscErrorCode SASolverParts(SASolver s, PetscBool load, PetscInt *n, void *ctx[], SASolverCheckpointFn fn[])
{
  PetscFunctionBeginUser;
  *n = 0;
  for (PetscInt k = 0; k < s->nmon; k++) {
    SASolverCheckpointFn f = load ? s->mon[k].load : s->mon[k].view;

    if (!f) continue;
    ctx[*n] = s->mon[k].ctx;
    fn[*n]  = f;
    (*n) += 1;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverWriteCheckpoint - Writes the member's whole state to an HDF5 checkpoint

  Collective on the solver's communicator

  Input Parameters:
+ s      - the solver
. member - the member's index in the campaign (stored in the checkpoint)
- path   - the checkpoint file (written whole, see `SACheckpointWrite()`)

  Notes:
  The checkpoint holds theta, the optimizer state, the step, the reason and diverged step, the records, then each
  monitor's part (probe rows and warm starts, Lyapunov tangents and sums): everything a restart or a branch needs to
  continue bitwise.

  Level: developer

.seealso: `SASolverReadCheckpoint()`, `SACheckpointWrite()`
@*/
PetscErrorCode SASolverWriteCheckpoint(SASolver s, PetscInt member, const char path[])
{
  SACheckpointInfo     info;
  Vec                 *state;
  PetscInt             ns, np;
  const char *const   *names;
  void                *ctx[SA_SOLVER_MAXMONITORS];
  SASolverCheckpointFn fn[SA_SOLVER_MAXMONITORS];

  PetscFunctionBeginUser;
  PetscCall(SASolverSetUp(s));
  PetscCall(SAOptimizerGetState(s->opt, &ns, &state, &names));
  info.member        = member;
  info.step          = s->step;
  info.reason        = s->reason;
  info.diverged_step = s->diverged_step;
  info.nrec          = s->nrec;
  info.nobs          = s->nobs;
  info.rec           = s->rec;
  PetscCall(SASolverParts(s, PETSC_FALSE, &np, ctx, fn));
  PetscCall(SACheckpointWrite(PetscObjectComm((PetscObject) s), path, &info, s->theta, ns, state, names, np, ctx, fn));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverReadCheckpoint - Restores the member's whole state from an HDF5 checkpoint

  Collective on the solver's communicator

  Input Parameters:
+ s    - the solver (its task, optimizer and monitors set)
- path - the checkpoint file (`SASolverWriteCheckpoint()`, possibly the twin's branch point)

  Output Parameter:
. member - the member id stored in the file (may be NULL)

  Notes:
  A file whose records do not have the solver's shape is an error naming the file.

  Level: developer

.seealso: `SASolverWriteCheckpoint()`
@*/
PetscErrorCode SASolverReadCheckpoint(SASolver s, const char path[], PetscInt *member)
{
  SACheckpointInfo     info;
  Vec                 *state;
  PetscInt             ns, np;
  const char *const   *names;
  void                *ctx[SA_SOLVER_MAXMONITORS];
  SASolverCheckpointFn fn[SA_SOLVER_MAXMONITORS];

  PetscFunctionBeginUser;
  PetscCall(SASolverSetUp(s));
  PetscCall(SAOptimizerGetState(s->opt, &ns, &state, &names));
  PetscCall(SASolverParts(s, PETSC_TRUE, &np, ctx, fn));
  PetscCall(SACheckpointRead(PetscObjectComm((PetscObject) s), path, &info, s->theta, ns, state, names, np, ctx, fn));
  PetscCheck(info.nrec == s->nrec && info.nobs == s->nobs, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED,
             "Checkpoint %s holds %" PetscInt_FMT "x%" PetscInt_FMT " records, the campaign has %" PetscInt_FMT
             "x%" PetscInt_FMT,
             path, info.nrec, info.nobs, s->nrec, s->nobs);
  PetscCall(SASolverSetState(s, info.step, info.reason, info.diverged_step, info.rec));
  PetscCall(PetscFree(info.rec));
  if (member) *member = info.member;
  PetscFunctionReturn(PETSC_SUCCESS);
}
