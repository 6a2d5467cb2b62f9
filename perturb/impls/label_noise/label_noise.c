/*
  label_noise.c - SAPERTURBLABELNOISE (dimension: environment).

  Method card: inside the window a fraction m env of the training labels is replaced by a uniformly random other class.
  The choice is fixed per training sample (a uniform draw of the block's stream addressed by the sample index is
  below the fraction), so the same samples are mislabelled at every visit and a ramp only adds samples. Default:
  persistent. Magnitudes (fractions) in [0, 1].
  The task applies it (SABatch field, per-sample draws from the block's stream); a task without labelled samples makes
  the kind a deck error.
*/
#include <stabaudit/private/saperturbimpl.h>

static PetscErrorCode SAPerturbBatch_LabelNoise(SAPerturb p, PetscInt step, PetscReal env, SABatch *b)
{
  PetscFunctionBeginUser;
  b->label_noise = p->magnitude * env;
  b->pkey        = p->pkey;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbCheckTask_LabelNoise(SAPerturb p, SATask task, SAOptimizer opt)
{
  PetscFunctionBeginUser;
  PetscCall(SAPerturbRequireCaps(p, task, SA_TASK_CAP_LABELS, "labelled samples"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_LabelNoise(SAPerturb p)
{
  PetscFunctionBeginUser;
  p->dimension      = SA_DIM_ENVIRONMENT;
  p->mag_lo         = 0;
  p->mag_hi         = 1;
  p->duration       = -1;
  p->ops->batch     = SAPerturbBatch_LabelNoise;
  p->ops->checktask = SAPerturbCheckTask_LabelNoise;
  PetscFunctionReturn(PETSC_SUCCESS);
}
