/*
  loss_scale.c - SAPERTURBLOSSSCALE (dimension: learning signal).

  Method card: inside the window the loss (hence its gradient) that drives the update is
  multiplied by 1 + (m - 1) * env(t); the recorded loss is the true one. Default: persistent.
  Magnitudes in (0, 1e6].
*/
#include <stabaudit/private/saperturbimpl.h>

static PetscErrorCode SAPerturbSignal_LossScale(SAPerturb p, PetscInt step, PetscReal env, Vec grad)
{
  PetscFunctionBeginUser;
  PetscCall(VecScale(grad, 1.0 + (p->magnitude - 1.0) * env));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_LossScale(SAPerturb p)
{
  PetscFunctionBeginUser;
  p->dimension   = SA_DIM_LEARNING_SIGNAL;
  p->mag_lo      = PETSC_MACHINE_EPSILON;
  p->mag_hi      = 1e6;
  p->duration    = -1;
  p->ops->signal = SAPerturbSignal_LossScale;
  PetscFunctionReturn(PETSC_SUCCESS);
}
