/*
  weight_kick.c - SAPERTURBWEIGHTKICK (dimension: parametric).

  Method card: at every step of the window, before the step,
    theta_S <- theta_S + m * env(t) * ||theta_S|| * z_S / ||z_S||,   z ~ N(0, I) from the perturbation stream
  addressed by the step, S all parameters or (option layer: l) the weights and biases of layer l only, so all
  magnitudes of a block share the kick direction (only its size is swept). Default: a one-step pulse. Magnitudes
  (relative norms) in [0, 100]. A layer needs a task with layers (and l <= its number of layers).
  The layer is also set with SAPerturbWeightKickSetLayer() (a composed function, "SAPerturbWeightKickSetLayer_C").
*/
#include <stabaudit/private/saperturbimpl.h>
#include <stabaudit/sadeck.h>

typedef struct {
  PetscInt layer; /* 0 = all parameters, else the layer (1-based) */
} SAPerturb_WeightKick;

/* squared 2-norms of x and y over the global index range [lo, hi) */
static PetscErrorCode SARangeNorms2(Vec x, Vec y, PetscInt lo, PetscInt hi, PetscReal nrm2[2])
{
  const PetscScalar *a, *b;
  PetscInt           rs, re;

  PetscFunctionBeginUser;
  nrm2[0] = nrm2[1] = 0;
  PetscCall(VecGetOwnershipRange(x, &rs, &re));
  PetscCall(VecGetArrayRead(x, &a));
  PetscCall(VecGetArrayRead(y, &b));
  for (PetscInt i = PetscMax(lo, rs); i < PetscMin(hi, re); i++) {
    nrm2[0] += a[i - rs] * a[i - rs];
    nrm2[1] += b[i - rs] * b[i - rs];
  }
  PetscCall(VecRestoreArrayRead(y, &b));
  PetscCall(VecRestoreArrayRead(x, &a));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, nrm2, 2, MPIU_REAL, MPI_SUM, PetscObjectComm((PetscObject) x)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbParams_WeightKick(SAPerturb p, PetscInt step, PetscReal env, Vec theta)
{
  SAPerturb_WeightKick *k = (SAPerturb_WeightKick *) p->data;
  Vec                   z;
  PetscReal             nt, nz;

  PetscFunctionBeginUser;
  PetscCall(VecDuplicate(theta, &z));
  PetscCall(SAStreamVecNormal(&p->rng, step, z));
  if (!k->layer) {
    PetscCall(VecNorm(theta, NORM_2, &nt));
    PetscCall(VecNorm(z, NORM_2, &nz));
  } else {
    PetscInt        nl, rs, re;
    const PetscInt *lo, *hi;
    PetscReal       n2[2];
    PetscScalar    *a;

    PetscCall(SATaskGetLayers(p->task, &nl, &lo, &hi));
    PetscCall(VecGetOwnershipRange(z, &rs, &re));
    PetscCall(VecGetArray(z, &a));
    for (PetscInt i = rs; i < re; i++)
      if (i < lo[k->layer - 1] || i >= hi[k->layer - 1]) a[i - rs] = 0.0;
    PetscCall(VecRestoreArray(z, &a));
    PetscCall(SARangeNorms2(theta, z, lo[k->layer - 1], hi[k->layer - 1], n2));
    nt = PetscSqrtReal(n2[0]);
    nz = PetscSqrtReal(n2[1]);
  }
  if (nz > 0) PetscCall(VecAXPY(theta, p->magnitude * env * nt / nz, z));
  PetscCall(VecDestroy(&z));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbSetFromOptions_WeightKick(SAPerturb p)
{
  SAPerturb_WeightKick *k = (SAPerturb_WeightKick *) p->data;

  PetscFunctionBeginUser;
  PetscCall(SADeckGetInt(SAPerturbPrefix(p), "layer", k->layer, 0, 32, &k->layer, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbCheckTask_WeightKick(SAPerturb p, SATask task, SAOptimizer opt)
{
  SAPerturb_WeightKick *k = (SAPerturb_WeightKick *) p->data;
  PetscInt              nl;

  PetscFunctionBeginUser;
  if (!k->layer) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SAPerturbRequireCaps(p, task, SA_TASK_CAP_LAYERS, "parameter layers (option layer)"));
  PetscCall(SATaskGetLayers(task, &nl, NULL, NULL));
  if (k->layer > nl) {
    char key[96];

    PetscCall(PetscSNPrintf(key, sizeof(key), "%slayer", SAPerturbPrefix(p)));
    PetscCall(SADeckFail(key,
                         "layer %" PetscInt_FMT " does not exist: the model has layers 1..%" PetscInt_FMT " (0 = all)",
                         k->layer, nl));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbView_WeightKick(SAPerturb p, PetscViewer viewer)
{
  SAPerturb_WeightKick *k = (SAPerturb_WeightKick *) p->data;

  PetscFunctionBeginUser;
  if (k->layer) PetscCall(PetscViewerASCIIPrintf(viewer, "weight_kick: layer %" PetscInt_FMT "\n", k->layer));
  else PetscCall(PetscViewerASCIIPrintf(viewer, "weight_kick: layer 0 (all parameters)\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbWeightKickSetLayer_WeightKick(SAPerturb p, PetscInt layer)
{
  SAPerturb_WeightKick *k = (SAPerturb_WeightKick *) p->data;

  PetscFunctionBeginUser;
  PetscCheck(layer >= 0 && layer <= 32, PetscObjectComm((PetscObject) p), PETSC_ERR_ARG_OUTOFRANGE,
             "weight_kick layer %" PetscInt_FMT " out of [0, 32] (0 = all parameters)", layer);
  if (layer && p->task) { /* after SAPerturbCheckTask(): the task's layers are known */
    PetscInt nl;

    PetscCall(SATaskGetLayers(p->task, &nl, NULL, NULL));
    PetscCheck(layer <= nl, PetscObjectComm((PetscObject) p), PETSC_ERR_ARG_OUTOFRANGE,
               "weight_kick layer %" PetscInt_FMT " does not exist: the model has layers 1..%" PetscInt_FMT, layer, nl);
  }
  k->layer = layer;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbWeightKickGetLayer_WeightKick(SAPerturb p, PetscInt *layer)
{
  PetscFunctionBeginUser;
  *layer = ((SAPerturb_WeightKick *) p->data)->layer;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbWeightKickSetLayer - Restricts a weight kick to one layer (0: all parameters)

  Logically Collective

  Input Parameters:
+ p     - the perturbation
- layer - the layer, 1-based, or 0 for all parameters (the default)

  Options Database Key:
. -<block>_layer <l> - deck key layer of the block

  Notes:
  Does nothing unless the kind is weight_kick (`PetscTryMethod()`). A task with layers is needed
  (`SAPerturbCheckTask()` checks the layer against it; after it, so does this setter).

  Level: intermediate

.seealso: `SAPERTURBWEIGHTKICK`, `SAPerturbWeightKickGetLayer()`, `SAPerturbLayerResetSetLayer()`
@*/
PetscErrorCode SAPerturbWeightKickSetLayer(SAPerturb p, PetscInt layer)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(p, SAPERTURB_CLASSID, 1);
  PetscValidLogicalCollectiveInt(p, layer, 2);
  PetscTryMethod(p, "SAPerturbWeightKickSetLayer_C", (SAPerturb, PetscInt), (p, layer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbWeightKickGetLayer - Returns the layer a weight kick acts on (0: all parameters)

  Not Collective

  Input Parameter:
. p - the perturbation, of kind weight_kick (another kind is an error)

  Output Parameter:
. layer - the layer, 1-based, or 0

  Level: intermediate

.seealso: `SAPERTURBWEIGHTKICK`, `SAPerturbWeightKickSetLayer()`
@*/
PetscErrorCode SAPerturbWeightKickGetLayer(SAPerturb p, PetscInt *layer)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(p, SAPERTURB_CLASSID, 1);
  PetscValidIntPointer(layer, 2);
  PetscUseMethod(p, "SAPerturbWeightKickGetLayer_C", (SAPerturb, PetscInt *), (p, layer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbDestroy_WeightKick(SAPerturb p)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(p->data));
  PetscCall(PetscObjectComposeFunction((PetscObject) p, "SAPerturbWeightKickSetLayer_C", NULL));
  PetscCall(PetscObjectComposeFunction((PetscObject) p, "SAPerturbWeightKickGetLayer_C", NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_WeightKick(SAPerturb p)
{
  SAPerturb_WeightKick *k;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&k));
  p->data                = k;
  p->dimension           = SA_DIM_PARAMETRIC;
  p->mag_lo              = 0;
  p->mag_hi              = 100;
  p->duration            = 1;
  p->ops->params         = SAPerturbParams_WeightKick;
  p->ops->setfromoptions = SAPerturbSetFromOptions_WeightKick;
  p->ops->checktask      = SAPerturbCheckTask_WeightKick;
  p->ops->view           = SAPerturbView_WeightKick;
  p->ops->destroy        = SAPerturbDestroy_WeightKick;
  PetscCall(PetscObjectComposeFunction((PetscObject) p, "SAPerturbWeightKickSetLayer_C",
                                       SAPerturbWeightKickSetLayer_WeightKick));
  PetscCall(PetscObjectComposeFunction((PetscObject) p, "SAPerturbWeightKickGetLayer_C",
                                       SAPerturbWeightKickGetLayer_WeightKick));
  PetscFunctionReturn(PETSC_SUCCESS);
}
