/*
  sgd.c - SAOPTIMIZERSGD, plain (stochastic) gradient descent.

  Method card: theta <- theta - lr (g + wd theta), wd the weight decay of the step (L2 regularisation;
  0 by default, the plain rule). No state. With exact gradients this is gradient descent on
  L + wd/2 |theta|^2, whose linearisation is I - lr (H + wd I): stable iff lr < 2 / (lambda_max(H) + wd).
  Capabilities: none. Stability threshold 2 / lr; sharpness ratio sharp lr / 2.
*/
#include <stabaudit/private/saoptimizerimpl.h>

static PetscErrorCode SAOptimizerUpdate_SGD(SAOptimizer opt, const SAHyper *h, Vec theta, Vec grad)
{
  PetscFunctionBeginUser;
  if (h->weight_decay == 0) PetscCall(VecAXPY(theta, -h->lr, grad));
  else PetscCall(VecAXPBY(theta, -h->lr, 1.0 - h->lr * h->weight_decay, grad));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* dtheta' = (1 - lr wd) dtheta - lr dg */
static PetscErrorCode SAOptimizerJVP_SGD(SAOptimizer opt, const SAHyper *h, Vec theta, Vec state[], Vec grad,
                                         Vec dtheta, Vec dstate[], Vec dgrad, Vec dtheta_out, Vec dstate_out[])
{
  PetscFunctionBeginUser;
  PetscCall(VecAXPBYPCZ(dtheta_out, 1.0 - h->lr * h->weight_decay, -h->lr, 0.0, dtheta, dgrad));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* wtheta = (1 - lr wd) wtheta', wg = -lr wtheta' */
static PetscErrorCode SAOptimizerVJP_SGD(SAOptimizer opt, const SAHyper *h, Vec theta, Vec state[], Vec grad,
                                         Vec wtheta, Vec wstate[], Vec wtheta_out, Vec wstate_out[], Vec wgrad_out)
{
  PetscFunctionBeginUser;
  PetscCall(VecAXPBY(wtheta_out, 1.0 - h->lr * h->weight_decay, 0.0, wtheta));
  PetscCall(VecAXPBY(wgrad_out, -h->lr, 0.0, wtheta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* gradient descent x <- (1 - lr lambda) x is stable iff lr lambda < 2 */
static PetscErrorCode SAOptimizerThreshold_SGD(SAOptimizer opt, const SAHyper *h, PetscReal *thr)
{
  PetscFunctionBeginUser;
  *thr = 2.0 / h->lr;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAOptimizerSharpnessRatio_SGD(SAOptimizer opt, const SAHyper *h, PetscReal sharp,
                                                    PetscReal *ratio)
{
  PetscFunctionBeginUser;
  *ratio = sharp * h->lr / 2.0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAOptimizerCreate_SGD(SAOptimizer opt)
{
  PetscFunctionBeginUser;
  opt->momentum            = 0.0;
  opt->caps                = 0;
  opt->ops->update         = SAOptimizerUpdate_SGD;
  opt->ops->jvp            = SAOptimizerJVP_SGD;
  opt->ops->vjp            = SAOptimizerVJP_SGD;
  opt->ops->threshold      = SAOptimizerThreshold_SGD;
  opt->ops->sharpnessratio = SAOptimizerSharpnessRatio_SGD;
  PetscFunctionReturn(PETSC_SUCCESS);
}
