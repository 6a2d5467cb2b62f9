/*
  layer_reset.c - SAPERTURBLAYERRESET (dimension: parametric).

  Method card: at every step of the window, before the step, the weights and biases of layer l (option layer,
  required) move towards a fresh draw from the task's initial distribution, theta_l <- (1 - a) theta_l + a theta_l^0,
  a = m env, theta^0 drawn from the block's stream (not the member's own initialisation): m = 1 re-initialises the
  layer. Default: a one-step pulse. Magnitudes in [0, 1]. Needs a task with layers.
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

  PetscFunctionBeginUser;
  PetscCall(SADeckGetInt(p->prefix, "layer", k->layer, 1, 32, &k->layer, &set));
  if (!set) {
    char key[96];

    PetscCall(PetscSNPrintf(key, sizeof(key), "%slayer", p->prefix));
    PetscCall(
      SADeckFail(key, "kind layer_reset of block '%s' needs 'layer', the layer to re-initialise (1 = first)", p->name));
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

    PetscCall(PetscSNPrintf(key, sizeof(key), "%slayer", p->prefix));
    PetscCall(
      SADeckFail(key, "layer %" PetscInt_FMT " does not exist: the model has layers 1..%" PetscInt_FMT, k->layer, nl));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPerturbDestroy_LayerReset(SAPerturb p)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(p->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_LayerReset(SAPerturb p)
{
  SAPerturb_LayerReset *k;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&k));
  k->layer              = 1;
  p->data               = k;
  p->dimension          = SA_DIM_PARAMETRIC;
  p->mag_lo             = 0;
  p->mag_hi             = 1;
  p->duration           = 1;
  p->ops.params         = SAPerturbParams_LayerReset;
  p->ops.setfromoptions = SAPerturbSetFromOptions_LayerReset;
  p->ops.checktask      = SAPerturbCheckTask_LayerReset;
  p->ops.destroy        = SAPerturbDestroy_LayerReset;
  PetscFunctionReturn(PETSC_SUCCESS);
}
