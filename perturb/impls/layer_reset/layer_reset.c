/*
  layer_reset.c - SAPERTURBLAYERRESET (dimension: parametric).

  Method card: at every step of the window, before the step, the weights and biases of layer l (option layer,
  required) move towards a fresh draw from the task's initial distribution, theta_l <- (1 - a) theta_l + a theta_l^0,
  a = m env, theta^0 drawn from the block's stream (not the member's own initialisation): m = 1 re-initialises the
  layer. Default: a one-step pulse. Magnitudes in [0, 1]. Needs a task with layers.
  The layer is also set with SAPerturbLayerResetSetLayer() (a composed function, "SAPerturbLayerResetSetLayer_C").
*/
#include <stabaudit/private/saperturbimpl.h>
#include <stabaudit/sadeck.h>

typedef struct {
  PetscInt layer; /* the layer (1-based) */
} SAPerturb_LayerReset;

static PetscErrorCode SAPerturbParams_LayerReset(SAPerturb p, PetscInt step, PetscReal env, Vec theta)
{
  SAPerturb_LayerReset *k = (SAPerturb_LayerReset *) p->data;
  Vec                   fresh;
  PetscInt              nl, rs, re, l = k->layer - 1;
  const PetscInt       *lo, *hi;
  PetscScalar          *a;
  const PetscScalar    *f;
  PetscReal             w = p->magnitude * env;

  PetscFunctionBeginUser;
  PetscCall(SATaskGetLayers(p->task, &nl, &lo, &hi));
  PetscCall(VecDuplicate(theta, &fresh));
  PetscCall(SATaskRandomGuess(p->task, &p->rng, fresh));
  PetscCall(VecGetOwnershipRange(theta, &rs, &re));
  PetscCall(VecGetArray(theta, &a));
  PetscCall(VecGetArrayRead(fresh, &f));
  for (PetscInt i = PetscMax(lo[l], rs); i < PetscMin(hi[l], re); i++)
    a[i - rs] = (1.0 - w) * a[i - rs] + w * f[i - rs];
  PetscCall(VecRestoreArrayRead(fresh, &f));
  PetscCall(VecRestoreArray(theta, &a));
  PetscCall(VecDestroy(&fresh));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbSetFromOptions_LayerReset(SAPerturb p)
{
  SAPerturb_LayerReset *k = (SAPerturb_LayerReset *) p->data;
  PetscBool             set;
  const char           *name;

  PetscFunctionBeginUser;
  PetscCall(SADeckGetInt(SAPerturbPrefix(p), "layer", k->layer, 1, 32, &k->layer, &set));
  if (!set) {
    char key[96];

    PetscCall(PetscSNPrintf(key, sizeof(key), "%slayer", SAPerturbPrefix(p)));
    PetscCall(SAPerturbGetName(p, &name));
    PetscCall(
      SADeckFail(key, "kind layer_reset of block '%s' needs 'layer', the layer to re-initialise (1 = first)", name));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbCheckTask_LayerReset(SAPerturb p, SATask task, SAOptimizer opt)
{
  SAPerturb_LayerReset *k = (SAPerturb_LayerReset *) p->data;
  PetscInt              nl;

  PetscFunctionBeginUser;
  PetscCall(SAPerturbRequireCaps(p, task, SA_TASK_CAP_LAYERS, "parameter layers with a random initialisation"));
  PetscCall(SATaskGetLayers(task, &nl, NULL, NULL));
  if (k->layer > nl) {
    char key[96];

    PetscCall(PetscSNPrintf(key, sizeof(key), "%slayer", SAPerturbPrefix(p)));
    PetscCall(
      SADeckFail(key, "layer %" PetscInt_FMT " does not exist: the model has layers 1..%" PetscInt_FMT, k->layer, nl));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbView_LayerReset(SAPerturb p, PetscViewer viewer)
{
  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, "layer_reset: layer %" PetscInt_FMT "\n",
                                   ((SAPerturb_LayerReset *) p->data)->layer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbLayerResetSetLayer_LayerReset(SAPerturb p, PetscInt layer)
{
  SAPerturb_LayerReset *k = (SAPerturb_LayerReset *) p->data;

  PetscFunctionBeginUser;
  PetscCheck(layer >= 1 && layer <= 32, PetscObjectComm((PetscObject) p), PETSC_ERR_ARG_OUTOFRANGE,
             "layer_reset layer %" PetscInt_FMT " out of [1, 32]", layer);
  if (p->task) { /* after SAPerturbCheckTask(): the task's layers are known */
    PetscInt nl;

    PetscCall(SATaskGetLayers(p->task, &nl, NULL, NULL));
    PetscCheck(layer <= nl, PetscObjectComm((PetscObject) p), PETSC_ERR_ARG_OUTOFRANGE,
               "layer_reset layer %" PetscInt_FMT " does not exist: the model has layers 1..%" PetscInt_FMT, layer, nl);
  }
  k->layer = layer;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbLayerResetGetLayer_LayerReset(SAPerturb p, PetscInt *layer)
{
  PetscFunctionBeginUser;
  *layer = ((SAPerturb_LayerReset *) p->data)->layer;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbLayerResetSetLayer - Sets the layer a layer reset re-initialises

  Logically Collective

  Input Parameters:
+ p     - the perturbation
- layer - the layer, 1-based

  Options Database Key:
. -<block>_layer <l> - deck key layer of the block (required there)

  Notes:
  Does nothing unless the kind is layer_reset (`PetscTryMethod()`). After `SAPerturbCheckTask()` the layer is
  checked against the task's layers.

  Level: intermediate

.seealso: `SAPERTURBLAYERRESET`, `SAPerturbLayerResetGetLayer()`, `SAPerturbWeightKickSetLayer()`
@*/
PetscErrorCode SAPerturbLayerResetSetLayer(SAPerturb p, PetscInt layer)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(p, SAPERTURB_CLASSID, 1);
  PetscValidLogicalCollectiveInt(p, layer, 2);
  PetscTryMethod(p, "SAPerturbLayerResetSetLayer_C", (SAPerturb, PetscInt), (p, layer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbLayerResetGetLayer - Returns the layer a layer reset re-initialises

  Not Collective

  Input Parameter:
. p - the perturbation, of kind layer_reset (another kind is an error)

  Output Parameter:
. layer - the layer, 1-based

  Level: intermediate

.seealso: `SAPERTURBLAYERRESET`, `SAPerturbLayerResetSetLayer()`
@*/
PetscErrorCode SAPerturbLayerResetGetLayer(SAPerturb p, PetscInt *layer)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(p, SAPERTURB_CLASSID, 1);
  PetscValidIntPointer(layer, 2);
  PetscUseMethod(p, "SAPerturbLayerResetGetLayer_C", (SAPerturb, PetscInt *), (p, layer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbDestroy_LayerReset(SAPerturb p)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(p->data));
  PetscCall(PetscObjectComposeFunction((PetscObject) p, "SAPerturbLayerResetSetLayer_C", NULL));
  PetscCall(PetscObjectComposeFunction((PetscObject) p, "SAPerturbLayerResetGetLayer_C", NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_LayerReset(SAPerturb p)
{
  SAPerturb_LayerReset *k;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&k));
  k->layer               = 1;
  p->data                = k;
  p->dimension           = SA_DIM_PARAMETRIC;
  p->mag_lo              = 0;
  p->mag_hi              = 1;
  p->duration            = 1;
  p->ops->params         = SAPerturbParams_LayerReset;
  p->ops->setfromoptions = SAPerturbSetFromOptions_LayerReset;
  p->ops->checktask      = SAPerturbCheckTask_LayerReset;
  p->ops->view           = SAPerturbView_LayerReset;
  p->ops->destroy        = SAPerturbDestroy_LayerReset;
  PetscCall(PetscObjectComposeFunction((PetscObject) p, "SAPerturbLayerResetSetLayer_C",
                                       SAPerturbLayerResetSetLayer_LayerReset));
  PetscCall(PetscObjectComposeFunction((PetscObject) p, "SAPerturbLayerResetGetLayer_C",
                                       SAPerturbLayerResetGetLayer_LayerReset));
  PetscFunctionReturn(PETSC_SUCCESS);
}
