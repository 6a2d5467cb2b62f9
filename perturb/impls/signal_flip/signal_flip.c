/*
  signal_flip.c - SAPERTURBSIGNALFLIP (dimension: learning_signal).

  Method card: inside the window the output-layer loss gradient of a fraction m env of the batch's samples changes sign
  (the supervised analogue of a reward-sign corruption): sample position k of step t is flipped when a uniform draw
  of the block's stream at (t, k) is below the fraction. Default: persistent. Magnitudes (fractions) in [0, 1].
  The task applies it (SABatch field, per-sample draws from the block's stream); a task without a per-sample
  output-layer loss gradient makes the kind a deck error.
*/
#include <stabaudit/private/saperturbimpl.h>

static PetscErrorCode SAPerturbBatch_SignalFlip(SAPerturb p, PetscInt step, PetscReal env, SABatch *b)
{
  PetscFunctionBeginUser;
  b->signal_flip = p->magnitude * env;
  b->pkey        = p->pkey;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbCheckTask_SignalFlip(SAPerturb p, SATask task, SAOptimizer opt)
{
  PetscFunctionBeginUser;
  PetscCall(SAPerturbRequireCaps(p, task, SA_TASK_CAP_SIGNAL, "a per-sample output-layer loss gradient"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_SignalFlip(SAPerturb p)
{
  PetscFunctionBeginUser;
  p->dimension      = SA_DIM_LEARNING_SIGNAL;
  p->mag_lo         = 0;
  p->mag_hi         = 1;
  p->duration       = -1;
  p->ops->batch     = SAPerturbBatch_SignalFlip;
  p->ops->checktask = SAPerturbCheckTask_SignalFlip;
  PetscFunctionReturn(PETSC_SUCCESS);
}
