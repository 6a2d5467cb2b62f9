/*
  sgd.c - SAOPTIMIZERSGD, plain (stochastic) gradient descent.

  Method card: theta <- theta - lr * g. No state. With exact gradients this is gradient descent,
  whose linearisation is I - lr H: stable iff lr < 2 / lambda_max(H).
*/
#include <stabaudit/private/saoptimizerimpl.h>

static PetscErrorCode SAOptimizerUpdate_SGD(SAOptimizer opt, const SAHyper *h, Vec theta, Vec grad)
{
  PetscFunctionBeginUser;
  PetscCall(VecAXPY(theta, -h->lr, grad));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAOptimizerCreate_SGD(SAOptimizer opt)
{
  PetscFunctionBeginUser;
  opt->momentum   = 0.0;
  opt->ops.update = SAOptimizerUpdate_SGD;
  PetscFunctionReturn(PETSC_SUCCESS);
}
