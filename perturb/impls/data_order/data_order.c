/*
  data_order.c - SAPERTURBDATAORDER (dimension: environment/data).

  Method card: inside the window the minibatches walk through the epoch permutations of another shuffle stream,
  keyed by the block and the magnitude m (an integer label: different magnitudes are different orders, all
  magnitudes have the same statistics). Default: persistent. Magnitudes: integers in [1, 1e9]. Needs minibatches.
*/
#include <stabaudit/private/saperturbimpl.h>

static PetscErrorCode SAPerturbBatch_DataOrder(SAPerturb p, PetscInt step, PetscReal env, SABatch *b)
{
  PetscFunctionBeginUser;
  /* unsigned arithmetic: the key mixes with wrap-around, which signed integers do not define */
  b->order_key = (PetscInt64) (((uint64_t) p->pkey ^ 0x5DEECE66DULL) + (uint64_t) p->magnitude);
  if (!b->order_key) b->order_key = 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbCheckTask_DataOrder(SAPerturb p, SATask task, SAOptimizer opt)
{
  PetscFunctionBeginUser;
  PetscCall(SAPerturbRequireCaps(p, task, SA_TASK_CAP_MINIBATCH, "minibatches (task: {classify: {batch: > 0}})"));
  for (PetscInt i = 0; i < p->nmag; i++)
    if (p->mags[i] != PetscFloorReal(p->mags[i]))
      PetscCall(SAPerturbFailKind(p, "magnitudes label shuffle streams and must be integers in [1, 1e9], got %g",
                                  (double) p->mags[i]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_DataOrder(SAPerturb p)
{
  PetscFunctionBeginUser;
  p->dimension      = SA_DIM_ENVIRONMENT;
  p->mag_lo         = 1;
  p->mag_hi         = 1e9;
  p->duration       = -1;
  p->ops->batch     = SAPerturbBatch_DataOrder;
  p->ops->checktask = SAPerturbCheckTask_DataOrder;
  PetscFunctionReturn(PETSC_SUCCESS);
}
