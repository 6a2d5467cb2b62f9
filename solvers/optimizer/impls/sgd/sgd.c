/*
  sgd.c - SAOPTIMIZERSGD, plain (stochastic) gradient descent.

  Method card: theta <- theta - lr (g + wd theta), wd the weight decay of the step (L2 regularisation;
  0 by default, the plain rule). No state. With exact gradients this is gradient descent on
  L + wd/2 |theta|^2, whose linearisation is I - lr (H + wd I): stable iff lr < 2 / (lambda_max(H) + wd).
*/
#include <stabaudit/private/saoptimizerimpl.h>

static PetscErrorCode SAOptimizerUpdate_SGD(SAOptimizer opt, const SAHyper *h, Vec theta, Vec grad)
{
  PetscFunctionBeginUser;
  if (h->weight_decay == 0) PetscCall(VecAXPY(theta, -h->lr, grad));
  else PetscCall(VecAXPBY(theta, -h->lr, 1.0 - h->lr * h->weight_decay, grad));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAOptimizerCreate_SGD(SAOptimizer opt)
{
  PetscFunctionBeginUser;
  opt->momentum   = 0.0;
  opt->ops.update = SAOptimizerUpdate_SGD;
  PetscFunctionReturn(PETSC_SUCCESS);
}
