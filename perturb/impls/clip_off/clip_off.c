/*
  clip_off.c - SAPERTURBCLIPOFF (dimension: learning signal).

  Method card: inside the window the gradient-clipping threshold of the step is multiplied by 1 + (m - 1) env; the
  magnitude 0 switches clipping off entirely (the learning signal reaches the update unbounded). Default:
  persistent. Magnitudes in [0, 1e12]. Needs clipping in the base deck (optimizer: {clip: > 0}).
*/
#include <stabaudit/private/saperturbimpl.h>

static PetscErrorCode SAPerturbOptimizer_ClipOff(SAPerturb p, PetscInt step, PetscReal env, SAOptimizer opt, SAHyper *h)
{
  PetscFunctionBeginUser;
  if (p->magnitude == 0.0) h->clip = 0.0;
  else h->clip *= 1.0 + (p->magnitude - 1.0) * env;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbCheckTask_ClipOff(SAPerturb p, SATask task, SAOptimizer opt)
{
  PetscReal clip;

  PetscFunctionBeginUser;
  PetscCall(SAOptimizerGetClip(opt, &clip));
  if (!(clip > 0))
    PetscCall(
      SAPerturbFailKind(p, "changes gradient clipping, but the optimizer does not clip: set optimizer: {clip: > 0}"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_ClipOff(SAPerturb p)
{
  PetscFunctionBeginUser;
  p->dimension      = SA_DIM_LEARNING_SIGNAL;
  p->mag_lo         = 0;
  p->mag_hi         = 1e12;
  p->duration       = -1;
  p->ops->optimizer = SAPerturbOptimizer_ClipOff;
  p->ops->checktask = SAPerturbCheckTask_ClipOff;
  PetscFunctionReturn(PETSC_SUCCESS);
}
