/*
  lr_scale.c - SAPERTURBLRSCALE and SAPERTURBLRSPIKE (dimension: optimization).

  Method card: inside the window the learning rate of the step is multiplied by
  1 + (m - 1) * env(t), m the magnitude and env the envelope (1 for shape step). lr_scale defaults
  to a persistent change (duration -1), lr_spike to a one-step pulse (duration 1). Magnitudes in
  (0, 1e6].
*/
#include <stabaudit/private/saperturbimpl.h>

static PetscErrorCode SAPerturbOptimizer_LRScale(SAPerturb p, PetscInt step, PetscReal env, SAOptimizer opt, SAHyper *h)
{
  PetscFunctionBeginUser;
  h->lr *= 1.0 + (p->magnitude - 1.0) * env;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_LRScale(SAPerturb p)
{
  PetscFunctionBeginUser;
  p->dimension      = SA_DIM_OPTIMIZATION;
  p->mag_lo         = PETSC_MACHINE_EPSILON;
  p->mag_hi         = 1e6;
  p->duration       = -1;
  p->ops->optimizer = SAPerturbOptimizer_LRScale;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_LRSpike(SAPerturb p)
{
  PetscFunctionBeginUser;
  PetscCall(SAPerturbCreate_LRScale(p));
  p->duration = 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}
