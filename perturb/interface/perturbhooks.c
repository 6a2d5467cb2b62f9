/*
  perturbhooks.c - a perturbation acts on a member's step through the solver's hooks: SAPerturbAttach() adds the
  parameter, batch, gradient and hyper-parameter hooks, each dispatching to the kind's operation inside the
  perturbation's window with its envelope (SAPerturbApplyParams, ...Batch, ...Signal, ...Optimizer).
*/
#include <stabaudit/private/saperturbimpl.h>

#define SAPerturbDispatch(p, step, op, ...)                     \
  do {                                                          \
    PetscReal sa_env_;                                          \
    if (!(p)->ops->op) PetscFunctionReturn(PETSC_SUCCESS);      \
    PetscCall(SAPerturbGetEnvelope(p, step, &sa_env_));         \
    if (sa_env_ == 0.0) PetscFunctionReturn(PETSC_SUCCESS);     \
    PetscCall(PetscLogEventBegin(SAPERTURB_Apply, 0, 0, 0, 0)); \
    PetscCall((*(p)->ops->op)(p, step, sa_env_, __VA_ARGS__));  \
    PetscCall(PetscLogEventEnd(SAPERTURB_Apply, 0, 0, 0, 0));   \
  } while (0)

/*@C
  SAPerturbApplyParams - Parametric hook: perturbs theta before the step

  Collective

  Input Parameters:
+ p     - the perturbation
. step  - the step
- theta - the parameters, changed in place inside the window

  Level: intermediate

.seealso: `SAPerturbApplyBatch()`, `SAPerturbApplySignal()`, `SAPerturbApplyOptimizer()`
@*/
PetscErrorCode SAPerturbApplyParams(SAPerturb p, PetscInt step, Vec theta)
{
  PetscFunctionBeginUser;
  SAPerturbDispatch(p, step, params, theta);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbApplyBatch - Environment hook: changes how the step's batch is sampled

  Not Collective

  Input Parameters:
+ p     - the perturbation
. step  - the step
- batch - the batch description, changed inside the window

  Level: intermediate

.seealso: `SAPerturbApplyParams()`
@*/
PetscErrorCode SAPerturbApplyBatch(SAPerturb p, PetscInt step, SABatch *batch)
{
  PetscFunctionBeginUser;
  SAPerturbDispatch(p, step, batch, batch);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbApplySignal - Learning-signal hook: changes the loss gradient after it is computed

  Collective

  Input Parameters:
+ p    - the perturbation
. step - the step
- grad - the gradient, changed in place inside the window

  Level: intermediate

.seealso: `SAPerturbApplyParams()`
@*/
PetscErrorCode SAPerturbApplySignal(SAPerturb p, PetscInt step, Vec grad)
{
  PetscFunctionBeginUser;
  SAPerturbDispatch(p, step, signal, grad);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbApplyOptimizer - Optimization hook: changes the hyper-parameters (or state) of the update

  Collective

  Input Parameters:
+ p    - the perturbation
. step - the step
. opt  - the optimizer (its state may be changed, e.g. reset)
- h    - the hyper-parameters of this step, changed inside the window

  Level: intermediate

.seealso: `SAPerturbApplyParams()`
@*/
PetscErrorCode SAPerturbApplyOptimizer(SAPerturb p, PetscInt step, SAOptimizer opt, SAHyper *h)
{
  PetscFunctionBeginUser;
  SAPerturbDispatch(p, step, optimizer, opt, h);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbHookParams(SASolver s, PetscInt step, Vec theta, void *ctx)
{
  PetscFunctionBeginUser;
  PetscCall(SAPerturbApplyParams((SAPerturb) ctx, step, theta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbHookBatch(SASolver s, PetscInt step, SABatch *batch, void *ctx)
{
  PetscFunctionBeginUser;
  PetscCall(SAPerturbApplyBatch((SAPerturb) ctx, step, batch));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbHookGradient(SASolver s, PetscInt step, Vec grad, void *ctx)
{
  PetscFunctionBeginUser;
  PetscCall(SAPerturbApplySignal((SAPerturb) ctx, step, grad));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbHookHyper(SASolver s, PetscInt step, SAOptimizer opt, SAHyper *h, void *ctx)
{
  PetscFunctionBeginUser;
  PetscCall(SAPerturbApplyOptimizer((SAPerturb) ctx, step, opt, h));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbAttach - Attaches the perturbation to a member's solver through its hooks (the solver takes over the
  caller's reference)

  Logically Collective

  Input Parameters:
+ p - the perturbation (`SAPerturbCheckTask()` called with the solver's task and optimizer)
- s - the solver

  Notes:
  Ownership: the solver takes over the caller's reference to p and destroys it with its hooks (`SASolverDestroy()`);
  the caller must not call `SAPerturbDestroy()` on p afterwards. To keep using p after attaching (viewing it,
  changing it with its setters), take another reference with `PetscObjectReference()` before attaching, and release
  that one with `SAPerturbDestroy()`.

  Only the hooks of the kind's operations are added. A learning-signal kind acting on the gradient (loss_scale) is a
  linear map of it: the solver's step Jacobian applies the same map to its Hessian-vector products
  (`SASolverGetStepJacobian()`); kinds acting through the batch (signal_flip, signal_noise, label_smoothing) are in
  the task's Hessian of that batch.

  Level: intermediate

.seealso: `SASolverAddHooks()`, `SAPerturbApplyParams()`
@*/
PetscErrorCode SAPerturbAttach(SAPerturb p, SASolver s)
{
  SASolverHooks h = {NULL, NULL, NULL, NULL};

  PetscFunctionBeginUser;
  if (p->ops->params) h.params = SAPerturbHookParams;
  if (p->ops->batch) h.batch = SAPerturbHookBatch;
  if (p->ops->signal) h.gradient = SAPerturbHookGradient;
  if (p->ops->optimizer) h.hyper = SAPerturbHookHyper;
  PetscCall(SASolverAddHooks(s, &h, p, SAObjectDestroyCtx));
  PetscFunctionReturn(PETSC_SUCCESS);
}
