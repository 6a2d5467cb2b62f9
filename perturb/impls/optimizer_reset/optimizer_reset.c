/*
  optimizer_reset.c - SAPERTURBOPTIMIZERRESET (dimension: optimization).

  Method card: at every step of the window, before the update, every optimizer state vector (velocity; Adam's m and
  v) is multiplied by 1 - m env: m = 1 zeroes the moments (a full reset), m in (0, 1) forgets a fraction. Default: a
  one-step pulse. Magnitudes in [0, 1]. Needs an optimizer with state, SA_OPT_CAP_STATE (sgd has none: a deck
  error).
*/
#include <stabaudit/private/saperturbimpl.h>

static PetscErrorCode SAPerturbOptimizer_OptimizerReset(SAPerturb p, PetscInt step, PetscReal env, SAOptimizer opt,
                                                        SAHyper *h)
{
  PetscInt           ns;
  Vec               *state;
  const char *const *names;

  PetscFunctionBeginUser;
  PetscCall(SAOptimizerGetState(opt, &ns, &state, &names));
  for (PetscInt i = 0; i < ns; i++) PetscCall(VecScale(state[i], 1.0 - p->magnitude * env));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbCheckTask_OptimizerReset(SAPerturb p, SATask task, SAOptimizer opt)
{
  PetscFunctionBeginUser;
  PetscCall(
    SAPerturbRequireOptimizerCaps(p, opt, SA_OPT_CAP_STATE, "an optimizer with state (momentum, adam or adamw)"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_OptimizerReset(SAPerturb p)
{
  PetscFunctionBeginUser;
  p->dimension      = SA_DIM_OPTIMIZATION;
  p->mag_lo         = 0;
  p->mag_hi         = 1;
  p->duration       = 1;
  p->ops->optimizer = SAPerturbOptimizer_OptimizerReset;
  p->ops->checktask = SAPerturbCheckTask_OptimizerReset;
  PetscFunctionReturn(PETSC_SUCCESS);
}
