/*
  label_smoothing.c - SAPERTURBLABELSMOOTHING (dimension: learning_signal).

  Method card: inside the window the loss gradient uses smoothed targets (1 - eps) onehot(y) + eps / C with eps = m env
  (instead of the task's own label_smoothing); the recorded loss is the clean one. Default: persistent. Magnitudes
  in [0, 0.999].
  The task applies it (SABatch field, per-sample draws from the block's stream); a task without labelled samples makes
  the kind a deck error.
*/
#include <stabaudit/private/saperturbimpl.h>

static PetscErrorCode SAPerturbBatch_LabelSmoothing(SAPerturb p, PetscInt step, PetscReal env, SABatch *b)
{
  PetscFunctionBeginUser;
  b->label_smoothing = p->magnitude * env;
  b->pkey            = p->pkey;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbCheckTask_LabelSmoothing(SAPerturb p, SATask task, SAOptimizer opt)
{
  PetscFunctionBeginUser;
  PetscCall(SAPerturbRequireCaps(p, task, SA_TASK_CAP_LABELS | SA_TASK_CAP_SIGNAL, "labelled samples"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_LabelSmoothing(SAPerturb p)
{
  PetscFunctionBeginUser;
  p->dimension      = SA_DIM_LEARNING_SIGNAL;
  p->mag_lo         = 0;
  p->mag_hi         = 0.999;
  p->duration       = -1;
  p->ops->batch     = SAPerturbBatch_LabelSmoothing;
  p->ops->checktask = SAPerturbCheckTask_LabelSmoothing;
  PetscFunctionReturn(PETSC_SUCCESS);
}
