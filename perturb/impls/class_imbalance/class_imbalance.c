/*
  class_imbalance.c - SAPERTURBCLASSIMBALANCE (dimension: environment).

  Method card: inside the window minibatches are resampled with class weights: a batch position draws class c with
  probability proportional to n_c (1 + a)^(-c / (C - 1)), a = m env, then a uniform sample of that class, so the
  most and least frequent classes differ by the factor 1 + a. Default: persistent. Magnitudes in [0, 1e6].
  The task applies it (SABatch field, per-sample draws from the block's stream); a task without minibatches of labelled
  samples makes the kind a deck error.
*/
#include <stabaudit/private/saperturbimpl.h>

static PetscErrorCode SAPerturbBatch_ClassImbalance(SAPerturb p, PetscInt step, PetscReal env, SABatch *b)
{
  PetscFunctionBeginUser;
  b->imbalance = p->magnitude * env;
  b->pkey      = p->pkey;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbCheckTask_ClassImbalance(SAPerturb p, SATask task, SAOptimizer opt)
{
  PetscFunctionBeginUser;
  PetscCall(
    SAPerturbRequireCaps(p, task, SA_TASK_CAP_MINIBATCH | SA_TASK_CAP_LABELS, "minibatches of labelled samples"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_ClassImbalance(SAPerturb p)
{
  PetscFunctionBeginUser;
  p->dimension      = SA_DIM_ENVIRONMENT;
  p->mag_lo         = 0;
  p->mag_hi         = 1e6;
  p->duration       = -1;
  p->ops->batch     = SAPerturbBatch_ClassImbalance;
  p->ops->checktask = SAPerturbCheckTask_ClassImbalance;
  PetscFunctionReturn(PETSC_SUCCESS);
}
