/*
  covariate_shift.c - SAPERTURBCOVARIATESHIFT (dimension: environment).

  Method card: inside the window the inputs are transformed by a fixed random affine map x -> x + a (R x + b), a = m
  env, R (d x d) with entries N(0, 1/d) and b ~ N(0, I), drawn once per member and block from the block's stream.
  Default: persistent (a shift of the input distribution from onset). Magnitudes in [0, 100].
  The task applies it (SABatch field, per-sample draws from the block's stream); a task without input features makes
  the kind a deck error.
*/
#include <stabaudit/private/saperturbimpl.h>

static PetscErrorCode SAPerturbBatch_CovariateShift(SAPerturb p, PetscInt step, PetscReal env, SABatch *b)
{
  PetscFunctionBeginUser;
  b->covariate_shift = p->magnitude * env;
  b->pkey            = p->pkey;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbCheckTask_CovariateShift(SAPerturb p, SATask task, SAOptimizer opt)
{
  PetscFunctionBeginUser;
  PetscCall(SAPerturbRequireCaps(p, task, SA_TASK_CAP_INPUTS, "input features"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_CovariateShift(SAPerturb p)
{
  PetscFunctionBeginUser;
  p->dimension      = SA_DIM_ENVIRONMENT;
  p->mag_lo         = 0;
  p->mag_hi         = 100;
  p->duration       = -1;
  p->ops->batch     = SAPerturbBatch_CovariateShift;
  p->ops->checktask = SAPerturbCheckTask_CovariateShift;
  PetscFunctionReturn(PETSC_SUCCESS);
}
