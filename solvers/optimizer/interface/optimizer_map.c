/*
  optimizer_map.c - SAOptimizer update map: one step of the rule (SAOptimizerUpdate()), the same map applied to given
  vectors (SAOptimizerUpdateMap()), its Jacobian products, and the linearised gradient clipping they share.
*/
#include <stabaudit/private/saoptimizerimpl.h>

/*@C
  SAOptimizerUpdate - Applies one step of the update rule to theta

  Collective

  Input Parameters:
+ opt   - the optimizer
. h     - the hyper-parameters of this step (`SAOptimizerGetHyper()` after perturbations)
. theta - the parameters, updated in place
- grad  - the gradient; rescaled in place when clipping applies

  Notes:
  With the state vectors of `SAOptimizerGetState()` this is the map (theta, state) -> (theta', state') for a
  frozen gradient; both are updated in place.

  Clipping: if h->clip > 0 and ||grad||_2 > h->clip, grad is first multiplied by h->clip / ||grad||_2 (in place, so
  the caller sees the clipped gradient afterwards). A NaN norm is left alone (the update then makes theta NaN, which
  the solver records as divergence).

  Level: intermediate

.seealso: `SAOptimizerGetHyper()`, `SAOptimizerGetState()`, `SAOptimizerSetClip()`
@*/
PetscErrorCode SAOptimizerUpdate(SAOptimizer opt, const SAHyper *h, Vec theta, Vec grad)
{
  PetscFunctionBeginUser;
  PetscCall(SAOptimizerSetUp(opt, theta));
  PetscCall(PetscLogEventBegin(SAOPTIMIZER_Update, 0, 0, 0, 0));
  if (h->clip > 0) {
    PetscReal gn;

    PetscCall(VecNorm(grad, NORM_2, &gn));
    if (gn > h->clip) PetscCall(VecScale(grad, h->clip / gn));
  }
  PetscCall((*opt->ops->update)(opt, h, theta, grad));
  PetscCall(PetscLogEventEnd(SAOPTIMIZER_Update, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerUpdateMap - Applies the update map F: (theta, state) -> (theta', state') to given vectors,
  leaving the optimizer's own state untouched

  Collective

  Input Parameters:
+ opt      - the optimizer (set up)
. h        - the hyper-parameters of the step
. theta    - the parameters in
. state_in - the optimizer state in (as many vectors as `SAOptimizerGetState()` lists, same order)
- grad     - the frozen gradient at theta (not modified; clipping acts on a copy)

  Output Parameters:
+ theta_out - the parameters out (may not be theta)
- state_out - the state out (may be state_in)

  Notes:
  This is the map the probes linearise (its Jacobian along a direction by finite differences or by
  the optimizer's derivatives); it runs the same code as `SAOptimizerUpdate()`.

  Level: advanced

.seealso: `SAOptimizerUpdate()`, `SAOptimizerGetState()`
@*/
PetscErrorCode SAOptimizerUpdateMap(SAOptimizer opt, const SAHyper *h, Vec theta, Vec state_in[], Vec grad,
                                    Vec theta_out, Vec state_out[])
{
  Vec saved[4] = {NULL, NULL, NULL, NULL}, g;

  PetscFunctionBeginUser;
  PetscCheck(opt->setupcalled, PetscObjectComm((PetscObject) opt), PETSC_ERR_ORDER, "Call SAOptimizerSetUp() first");
  PetscCheck(theta_out != theta, PetscObjectComm((PetscObject) opt), PETSC_ERR_ARG_IDN,
             "theta_out must differ from theta");
  for (PetscInt i = 0; i < opt->nstate; i++) { /* swap the given state in, keep the optimizer's own aside */
    PetscCall(VecDuplicate(opt->state[i], &saved[i]));
    PetscCall(VecCopy(opt->state[i], saved[i]));
    PetscCall(VecCopy(state_in[i], opt->state[i]));
  }
  PetscCall(VecDuplicate(grad, &g));
  PetscCall(VecCopy(grad, g));
  PetscCall(VecCopy(theta, theta_out));
  PetscCall(SAOptimizerUpdate(opt, h, theta_out, g));
  for (PetscInt i = 0; i < opt->nstate; i++) {
    PetscCall(VecCopy(opt->state[i], state_out[i]));
    PetscCall(VecCopy(saved[i], opt->state[i]));
    PetscCall(VecDestroy(&saved[i]));
  }
  PetscCall(VecDestroy(&g));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* clipping of the step as a map g -> c(g): gc <- c(g) and, if dg is given, dgc <- c'(g) dg. c'(g) is symmetric
   (s (I - u u^T), u = g / |g|, s = clip / |g| when |g| > clip; I otherwise), so the same call serves the VJP */
static PetscErrorCode SAOptimizerClipLinear_Private(const SAHyper *h, Vec grad, Vec gc, Vec dg, Vec dgc)
{
  PetscReal   gn = 0;
  PetscScalar d;

  PetscFunctionBeginUser;
  PetscCall(VecCopy(grad, gc));
  if (dg) PetscCall(VecCopy(dg, dgc));
  if (!(h->clip > 0)) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(VecNorm(grad, NORM_2, &gn));
  if (!(gn > h->clip)) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(VecScale(gc, h->clip / gn));
  if (dg) {
    PetscCall(VecDot(dg, grad, &d));
    PetscCall(VecAXPY(dgc, -d / (gn * gn), grad));
    PetscCall(VecScale(dgc, h->clip / gn));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerUpdateJacobianMult - Jacobian-vector product of the update map F: (theta, state, grad) -> (theta', state')

  Collective

  Input Parameters:
+ opt    - the optimizer (set up)
. h      - the hyper-parameters of the step
. theta  - the parameters at which F is linearised
. state  - the optimizer state there (as many vectors as `SAOptimizerGetState()` lists)
. grad   - the gradient there (before clipping; clipping is linearised as well)
. dtheta - direction in theta
. dstate - direction in the state
- dgrad  - direction in the gradient (for the whole step, H dtheta on the frozen batch)

  Output Parameters:
+ dtheta_out - the theta part of the product (must not alias an input)
- dstate_out - the state part (must not alias an input)

  Notes:
  Exact derivatives of the rule (sgd: dtheta' = (1 - lr wd) dtheta - lr dg; heavy ball: the 2x2 block in
  (theta, velocity); adam/adamw: the diagonal linearisation in (theta, m, v), with v's dependence on the gradient).
  Where v_hat = 0 the derivative of sqrt(v_hat) does not exist; that term is taken as 0 there.
  `SAProbeCreateJacobian()` composes this with Hessian-vector products.

  Level: advanced

.seealso: `SAOptimizerUpdateJacobianMultTranspose()`, `SAOptimizerUpdateMap()`
@*/
PetscErrorCode SAOptimizerUpdateJacobianMult(SAOptimizer opt, const SAHyper *h, Vec theta, Vec state[], Vec grad,
                                             Vec dtheta, Vec dstate[], Vec dgrad, Vec dtheta_out, Vec dstate_out[])
{
  Vec gc, dgc;

  PetscFunctionBeginUser;
  PetscCheck(opt->setupcalled, PetscObjectComm((PetscObject) opt), PETSC_ERR_ORDER, "Call SAOptimizerSetUp() first");
  PetscCheck(opt->ops->jvp, PetscObjectComm((PetscObject) opt), PETSC_ERR_SUP,
             "Optimizer %s has no Jacobian-vector product", ((PetscObject) opt)->type_name);
  PetscCall(VecDuplicate(grad, &gc));
  PetscCall(VecDuplicate(grad, &dgc));
  PetscCall(SAOptimizerClipLinear_Private(h, grad, gc, dgrad, dgc));
  PetscCall((*opt->ops->jvp)(opt, h, theta, state, gc, dtheta, dstate, dgc, dtheta_out, dstate_out));
  PetscCall(VecDestroy(&gc));
  PetscCall(VecDestroy(&dgc));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerUpdateJacobianMultTranspose - Vector-Jacobian product of the update map F: (theta, state, grad) ->
  (theta', state')

  Collective

  Input Parameters:
+ opt    - the optimizer (set up)
. h      - the hyper-parameters of the step
. theta  - the parameters at which F is linearised
. state  - the optimizer state there
. grad   - the gradient there (before clipping)
. wtheta - cotangent of theta'
- wstate - cotangent of state'

  Output Parameters:
+ wtheta_out - cotangent of theta (the direct part; the caller adds H wgrad_out for the whole step)
. wstate_out - cotangent of the state
- wgrad_out  - cotangent of the gradient

  Notes:
  The adjoint of `SAOptimizerUpdateJacobianMult()`: <w, J d> = <J^T w, d> to rounding. Outputs must not alias inputs.

  Level: advanced

.seealso: `SAOptimizerUpdateJacobianMult()`
@*/
PetscErrorCode SAOptimizerUpdateJacobianMultTranspose(SAOptimizer opt, const SAHyper *h, Vec theta, Vec state[],
                                                      Vec grad, Vec wtheta, Vec wstate[], Vec wtheta_out,
                                                      Vec wstate_out[], Vec wgrad_out)
{
  Vec gc, wg;

  PetscFunctionBeginUser;
  PetscCheck(opt->setupcalled, PetscObjectComm((PetscObject) opt), PETSC_ERR_ORDER, "Call SAOptimizerSetUp() first");
  PetscCheck(opt->ops->vjp, PetscObjectComm((PetscObject) opt), PETSC_ERR_SUP,
             "Optimizer %s has no vector-Jacobian product", ((PetscObject) opt)->type_name);
  PetscCall(VecDuplicate(grad, &gc));
  PetscCall(VecDuplicate(grad, &wg));
  PetscCall(SAOptimizerClipLinear_Private(h, grad, gc, NULL, NULL));
  PetscCall((*opt->ops->vjp)(opt, h, theta, state, gc, wtheta, wstate, wtheta_out, wstate_out, wg));
  PetscCall(SAOptimizerClipLinear_Private(h, grad, gc, wg, wgrad_out)); /* c'(g) is symmetric */
  PetscCall(VecDestroy(&gc));
  PetscCall(VecDestroy(&wg));
  PetscFunctionReturn(PETSC_SUCCESS);
}
