/*
  batch_scale.c - SAPERTURBBATCHSCALE (dimension: optimization).

  Method card: inside the window the minibatch size is multiplied by 1 + (m - 1) env (rounded, at least 1); the
  step's samples are positions [t B', (t + 1) B') of the member's epoch walk, B' the scaled size. Default: persistent.
  Magnitudes in [0.001, 100]. Needs minibatches (a full-batch task is a deck error).
*/
#include <stabaudit/private/saperturbimpl.h>

static PetscErrorCode SAPerturbBatch_BatchScale(SAPerturb p, PetscInt step, PetscReal env, SABatch *b)
{
  PetscFunctionBeginUser;
  b->batch_scale *= 1.0 + (p->magnitude - 1.0) * env;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbCheckTask_BatchScale(SAPerturb p, SATask task, SAOptimizer opt)
{
  PetscFunctionBeginUser;
  PetscCall(SAPerturbRequireCaps(p, task, SA_TASK_CAP_MINIBATCH, "minibatches (task: {classify: {batch: > 0}})"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_BatchScale(SAPerturb p)
{
  PetscFunctionBeginUser;
  p->dimension      = SA_DIM_OPTIMIZATION;
  p->mag_lo         = 1e-3;
  p->mag_hi         = 100;
  p->duration       = -1;
  p->ops->batch     = SAPerturbBatch_BatchScale;
  p->ops->checktask = SAPerturbCheckTask_BatchScale;
  PetscFunctionReturn(PETSC_SUCCESS);
}
