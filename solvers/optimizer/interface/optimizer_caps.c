/*
  optimizer_caps.c - SAOptimizer capability queries: what a rule offers (SAOptimizerGetCapabilities()), the
  sharpness at which its linearisation on a quadratic becomes unstable, and its diagonal preconditioner. Callers
  outside solvers/optimizer ask these instead of comparing type names; each type answers in its impl.
*/
#include <stabaudit/private/saoptimizerimpl.h>

/*@C
  SAOptimizerGetCapabilities - Returns what the update rule offers, as `SAOptimizerCapability` flags

  Not Collective

  Input Parameter:
. opt - the optimizer (type set)

  Output Parameter:
. caps - the OR of the `SAOptimizerCapability` flags of the type (0 for sgd)

  Notes:
  sgd: none; momentum: `SA_OPT_CAP_STATE` | `SA_OPT_CAP_MOMENTUM`; adam and adamw: `SA_OPT_CAP_STATE` |
  `SA_OPT_CAP_BETA1` | `SA_OPT_CAP_EPS` | `SA_OPT_CAP_DIAG_PRECOND`. The flags depend on the type only, not on
  the values of the hyper-parameters (momentum 0 still has `SA_OPT_CAP_MOMENTUM`). `PETSC_ERR_ORDER` before the
  type is set.

  Level: intermediate

.seealso: `SAOptimizerCapability`, `SAOptimizerGetStabilityThreshold()`, `SAOptimizerGetDiagonalPreconditioner()`
@*/
PetscErrorCode SAOptimizerGetCapabilities(SAOptimizer opt, PetscInt *caps)
{
  PetscFunctionBeginUser;
  PetscCall(SAOptimizerCheckType_Private(opt));
  *caps = opt->caps;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerGetStabilityThreshold - Returns the sharpness above which the linearised update diverges on a quadratic

  Not Collective

  Input Parameters:
+ opt - the optimizer (type set)
- h   - the hyper-parameters of the step (`SAOptimizerGetHyper()`, possibly perturbed)

  Output Parameter:
. thr - the threshold: the update on f(x) = lambda x^2 / 2 (exact gradients, weight decay 0) converges for
        0 < lambda < thr and diverges for lambda > thr

  Notes:
  sgd: 2 / lr. Heavy ball: (2 + 2 mu) / lr. Nesterov: (2 + 2 mu) / ((1 + 2 mu) lr). adam and adamw
  (`SA_OPT_CAP_DIAG_PRECOND`): the threshold applies to the preconditioned sharpness lambda_max(D H D) with D of
  `SAOptimizerGetDiagonalPreconditioner()` (lr is inside D) and is (2 + 2 beta1) / (1 - beta1), the heavy-ball
  threshold of the first-moment average with the preconditioner frozen (Cohen et al. 2022, "Adaptive gradient
  methods at the edge of stability"; 38 for beta1 = 0.9).
  Weight decay is not included: with L2 decay wd (sgd, momentum) every curvature is shifted by wd, so the update
  diverges once lambda_max > thr - wd.

  Level: intermediate

.seealso: `SAOptimizerSharpnessRatio()`, `SAOptimizerGetCapabilities()`
@*/
PetscErrorCode SAOptimizerGetStabilityThreshold(SAOptimizer opt, const SAHyper *h, PetscReal *thr)
{
  PetscFunctionBeginUser;
  PetscCall(SAOptimizerCheckType_Private(opt));
  PetscCheck(opt->ops->threshold, PETSC_COMM_SELF, PETSC_ERR_SUP, "Optimizer %s has no stability threshold",
             ((PetscObject) opt)->type_name);
  PetscCall((*opt->ops->threshold)(opt, h, thr));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerSharpnessRatio - Returns the sharpness ratio the sharpness probe records: the sharpness divided by the
  stability threshold of the step

  Not Collective

  Input Parameters:
+ opt   - the optimizer (type set)
. h     - the hyper-parameters of the step
- sharp - the sharpness: lambda_max of the loss Hessian, or for an optimizer with `SA_OPT_CAP_DIAG_PRECOND`
          lambda_max(D H D) of the preconditioned Hessian (`SAProbeCreatePreconditionedHessian()`)

  Output Parameter:
. ratio - 1 at the edge of stability, > 1 beyond it

  Notes:
  Each type evaluates one fixed expression, so the recorded column is reproducible bitwise:
  sgd and momentum (heavy ball and Nesterov alike) sharp lr / (2 (1 + mu)); adam and adamw
  sharp (1 - beta1) / (2 + 2 beta1). For sgd and heavy ball this is sharp / `SAOptimizerGetStabilityThreshold()`
  up to rounding; for Nesterov it is the heavy-ball ratio (the Nesterov threshold is smaller by 1 + 2 mu).

  Level: intermediate

.seealso: `SAOptimizerGetStabilityThreshold()`
@*/
PetscErrorCode SAOptimizerSharpnessRatio(SAOptimizer opt, const SAHyper *h, PetscReal sharp, PetscReal *ratio)
{
  PetscFunctionBeginUser;
  PetscCall(SAOptimizerCheckType_Private(opt));
  PetscCheck(opt->ops->sharpnessratio, PETSC_COMM_SELF, PETSC_ERR_SUP, "Optimizer %s has no sharpness ratio",
             ((PetscObject) opt)->type_name);
  PetscCall((*opt->ops->sharpnessratio)(opt, h, sharp, ratio));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerGetDiagonalPreconditioner - Returns the diagonal D of the preconditioner of the step: the update acts
  on the curvature as D H D

  Collective

  Input Parameters:
+ opt   - an optimizer with `SA_OPT_CAP_DIAG_PRECOND` (adam, adamw) whose state belongs to theta (set up here if
          it is not)
. h     - the hyper-parameters of the step (lr, beta2, eps, weight_decay and the step index for the bias correction)
. theta - the parameters
- grad  - the gradient at theta (e.g. on a frozen batch)

  Output Parameter:
. d - the diagonal, with the layout of theta

  Notes:
  adam and adamw: d = sqrt(lr / (sqrt(v_hat) + eps)) entrywise, with v_hat the bias-corrected second moment the
  step would form from grad, v' = beta2 v + (1 - beta2) g'^2 (g' = grad + wd theta for adam, grad for adamw),
  v_hat = v' / (1 - beta2^(step + 1)); the optimizer's state is not changed. P = D^{-2} = diag(sqrt(v_hat) + eps) / lr
  is the preconditioner of the step itself, so D H D has the eigenvalues of P^{-1} H.
  An optimizer without the capability (sgd, momentum) raises `PETSC_ERR_SUP`.

  Level: advanced

.seealso: `SAOptimizerGetCapabilities()`, `SAProbeCreatePreconditionedHessian()`
@*/
PetscErrorCode SAOptimizerGetDiagonalPreconditioner(SAOptimizer opt, const SAHyper *h, Vec theta, Vec grad, Vec d)
{
  PetscFunctionBeginUser;
  PetscCall(SAOptimizerCheckType_Private(opt));
  PetscCheck(opt->ops->diagprecond, PetscObjectComm((PetscObject) opt), PETSC_ERR_SUP,
             "Optimizer %s has no diagonal preconditioner (SA_OPT_CAP_DIAG_PRECOND: adam, adamw)",
             ((PetscObject) opt)->type_name);
  PetscCall(SAOptimizerSetUp(opt, theta));
  PetscCall((*opt->ops->diagprecond)(opt, h, theta, grad, d));
  PetscFunctionReturn(PETSC_SUCCESS);
}
