/*
  init_scale.c - SAPERTURBINITSCALE (dimension: parametric).

  Method card: at every step of the window, before the step, theta <- (1 + (m - 1) env) theta. With the default
  onset 0 and duration 1 this is a change of the initialisation scale (theta_0 times m); later onsets rescale
  trained weights. Magnitudes in (0, 100].
*/
#include <stabaudit/private/saperturbimpl.h>

static PetscErrorCode SAPerturbParams_InitScale(SAPerturb p, PetscInt step, PetscReal env, Vec theta)
{
  PetscFunctionBeginUser;
  PetscCall(VecScale(theta, 1.0 + (p->magnitude - 1.0) * env));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_InitScale(SAPerturb p)
{
  PetscFunctionBeginUser;
  p->dimension   = SA_DIM_PARAMETRIC;
  p->mag_lo      = PETSC_MACHINE_EPSILON;
  p->mag_hi      = 100;
  p->onset       = 0;
  p->duration    = 1;
  p->ops->params = SAPerturbParams_InitScale;
  PetscFunctionReturn(PETSC_SUCCESS);
}
