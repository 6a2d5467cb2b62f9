/*
  momentum_shift.c - SAPERTURBMOMENTUMSHIFT (dimension: optimization).

  Method card: inside the window the momentum coefficient (heavy ball / Nesterov) or Adam's beta1 of the step
  becomes (1 - env) beta + env m: the magnitude m is the value it is set to. Default: persistent. Magnitudes in
  [0, 1). Needs an optimizer with momentum: SA_OPT_CAP_MOMENTUM (momentum: the coefficient mu is shifted) or else
  SA_OPT_CAP_BETA1 (adam, adamw: beta1 is shifted); sgd is a deck error.
*/
#include <stabaudit/private/saperturbimpl.h>

static PetscErrorCode SAPerturbOptimizer_MomentumShift(SAPerturb p, PetscInt step, PetscReal env, SAOptimizer opt,
                                                       SAHyper *h)
{
  PetscInt caps;

  PetscFunctionBeginUser;
  PetscCall(SAOptimizerGetCapabilities(opt, &caps));
  if (caps & SA_OPT_CAP_MOMENTUM) h->momentum = (1.0 - env) * h->momentum + env * p->magnitude;
  else h->beta1 = (1.0 - env) * h->beta1 + env * p->magnitude;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbCheckTask_MomentumShift(SAPerturb p, SATask task, SAOptimizer opt)
{
  PetscFunctionBeginUser;
  PetscCall(SAPerturbRequireOptimizerCaps(p, opt, SA_OPT_CAP_MOMENTUM | SA_OPT_CAP_BETA1,
                                          "an optimizer with momentum (momentum, adam or adamw)"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_MomentumShift(SAPerturb p)
{
  PetscFunctionBeginUser;
  p->dimension      = SA_DIM_OPTIMIZATION;
  p->mag_lo         = 0;
  p->mag_hi         = 1.0 - PETSC_MACHINE_EPSILON;
  p->duration       = -1;
  p->ops->optimizer = SAPerturbOptimizer_MomentumShift;
  p->ops->checktask = SAPerturbCheckTask_MomentumShift;
  PetscFunctionReturn(PETSC_SUCCESS);
}
