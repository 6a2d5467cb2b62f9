/*
  input_noise.c - SAPERTURBINPUTNOISE (dimension: environment).

  Method card: inside the window Gaussian noise of standard deviation m env times the feature scale is added to every
  input of the batch (features are standardised with the training split, so the scale is 1), fresh at every step
  and batch position. Default: persistent. Magnitudes in [0, 100].
  The task applies it (SABatch field, per-sample draws from the block's stream); a task without input features makes
  the kind a deck error.
*/
#include <stabaudit/private/saperturbimpl.h>

static PetscErrorCode SAPerturbBatch_InputNoise(SAPerturb p, PetscInt step, PetscReal env, SABatch *b)
{
  PetscFunctionBeginUser;
  b->input_noise = p->magnitude * env;
  b->pkey        = p->pkey;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbCheckTask_InputNoise(SAPerturb p, SATask task, SAOptimizer opt)
{
  PetscFunctionBeginUser;
  PetscCall(SAPerturbRequireCaps(p, task, SA_TASK_CAP_INPUTS, "input features"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_InputNoise(SAPerturb p)
{
  PetscFunctionBeginUser;
  p->dimension      = SA_DIM_ENVIRONMENT;
  p->mag_lo         = 0;
  p->mag_hi         = 100;
  p->duration       = -1;
  p->ops->batch     = SAPerturbBatch_InputNoise;
  p->ops->checktask = SAPerturbCheckTask_InputNoise;
  PetscFunctionReturn(PETSC_SUCCESS);
}
