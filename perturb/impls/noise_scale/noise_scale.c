/*
  noise_scale.c - SAPERTURBNOISESCALE (dimension: environment/data).

  Method card: inside the window the task's own stochasticity (the gradient noise of the
  quadratic workload, its batch sampling noise) is multiplied by 1 + (m - 1) * env(t). A task
  without stochasticity (task noise 0) makes this kind meaningless: that is a deck error.
  Magnitudes in [0, 1e6].
*/
#include <stabaudit/private/saperturbimpl.h>
#include <stabaudit/sadeck.h>

static PetscErrorCode SAPerturbBatch_NoiseScale(SAPerturb p, PetscInt step, PetscReal env, SABatch *b)
{
  PetscFunctionBeginUser;
  b->noise_scale *= 1.0 + (p->magnitude - 1.0) * env;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbCheckTask_NoiseScale(SAPerturb p, SATask task, SAOptimizer opt)
{
  PetscReal   noise;
  const char *name;

  PetscFunctionBeginUser;
  PetscCall(SATaskGetNoise(task, &noise));
  PetscCall(SAPerturbGetName(p, &name));
  if (!(noise > 0)) {
    char key[96];
    PetscCall(PetscSNPrintf(key, sizeof(key), "%skind", SAPerturbPrefix(p)));
    PetscCall(SADeckFail(key,
                         "kind noise_scale of block '%s' scales the task's noise, but task_noise is 0 in this "
                         "configuration: set task: {noise: <sigma > 0>} or choose another kind",
                         name));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_NoiseScale(SAPerturb p)
{
  PetscFunctionBeginUser;
  p->dimension      = SA_DIM_ENVIRONMENT;
  p->mag_lo         = 0;
  p->mag_hi         = 1e6;
  p->duration       = -1;
  p->ops->batch     = SAPerturbBatch_NoiseScale;
  p->ops->checktask = SAPerturbCheckTask_NoiseScale;
  PetscFunctionReturn(PETSC_SUCCESS);
}
