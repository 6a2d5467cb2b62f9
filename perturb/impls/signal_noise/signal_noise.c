/*
  signal_noise.c - SAPERTURBSIGNALNOISE (dimension: learning_signal).

  Method card: inside the window Gaussian noise of standard deviation m env is added to the loss gradient at the output
  layer (dloss/dlogits) of every sample, fresh at every step; the recorded loss is the clean one. Default:
  persistent. Magnitudes in [0, 1000].
  The task applies it (SABatch field, per-sample draws from the block's stream); a task without a per-sample
  output-layer loss gradient makes the kind a deck error.
*/
#include <stabaudit/private/saperturbimpl.h>

static PetscErrorCode SAPerturbBatch_SignalNoise(SAPerturb p, PetscInt step, PetscReal env, SABatch *b)
{
  PetscFunctionBeginUser;
  b->signal_noise = p->magnitude * env;
  b->pkey         = p->pkey;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbCheckTask_SignalNoise(SAPerturb p, SATask task, SAOptimizer opt)
{
  PetscFunctionBeginUser;
  PetscCall(SAPerturbRequireCaps(p, task, SA_TASK_CAP_SIGNAL, "a per-sample output-layer loss gradient"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_SignalNoise(SAPerturb p)
{
  PetscFunctionBeginUser;
  p->dimension      = SA_DIM_LEARNING_SIGNAL;
  p->mag_lo         = 0;
  p->mag_hi         = 1000;
  p->duration       = -1;
  p->ops->batch     = SAPerturbBatch_SignalNoise;
  p->ops->checktask = SAPerturbCheckTask_SignalNoise;
  PetscFunctionReturn(PETSC_SUCCESS);
}
