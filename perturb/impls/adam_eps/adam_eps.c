/*
  adam_eps.c - SAPERTURBADAMEPS (dimension: optimization).

  Method card: inside the window Adam's epsilon becomes eps^(1 - env) m^env (geometric interpolation: m is the value
  it is set to; a ramp moves it on a log scale). Default: persistent. Magnitudes in [1e-16, 10]. Needs an optimizer with
  SA_OPT_CAP_EPS (adam or adamw).
*/
#include <stabaudit/private/saperturbimpl.h>

static PetscErrorCode SAPerturbOptimizer_AdamEps(SAPerturb p, PetscInt step, PetscReal env, SAOptimizer opt, SAHyper *h)
{
  PetscFunctionBeginUser;
  h->eps = env == 1.0 ? p->magnitude : PetscPowReal(h->eps, 1.0 - env) * PetscPowReal(p->magnitude, env);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbCheckTask_AdamEps(SAPerturb p, SATask task, SAOptimizer opt)
{
  PetscFunctionBeginUser;
  PetscCall(SAPerturbRequireOptimizerCaps(p, opt, SA_OPT_CAP_EPS, "optimizer adam or adamw"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_AdamEps(SAPerturb p)
{
  PetscFunctionBeginUser;
  p->dimension      = SA_DIM_OPTIMIZATION;
  p->mag_lo         = 1e-16;
  p->mag_hi         = 10;
  p->duration       = -1;
  p->ops->optimizer = SAPerturbOptimizer_AdamEps;
  p->ops->checktask = SAPerturbCheckTask_AdamEps;
  PetscFunctionReturn(PETSC_SUCCESS);
}
