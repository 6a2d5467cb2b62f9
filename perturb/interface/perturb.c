/*
  perturb.c - SAPerturb interface: the registry of kinds, the deck block, the time envelope and
  the dispatch of the step-pipeline hooks. It holds no perturbation algorithm.
*/
#include <stabaudit/private/saperturbimpl.h>
#include <stabaudit/sadeck.h>
#include <stdarg.h>
#include <stdio.h>

const char *const SAPerturbShapes[] = {"step", "ramp", "exp", "SAPerturbShape", "SA_SHAPE_", NULL};

PetscFunctionList SAPerturbList = NULL;
PetscLogEvent     SAPERTURB_Apply;
PetscClassId      SAPERTURB_CLASSID;
static PetscBool  SAPerturbRegisterAllCalled = PETSC_FALSE;

/*@C
  SAPerturbInitializePackage - Registers the SAPerturb class, its log event and every kind

  Not Collective

  Level: developer

.seealso: `SAPerturbRegister()`
@*/
PetscErrorCode SAPerturbInitializePackage(void)
{
  PetscFunctionBeginUser;
  if (SAPerturbRegisterAllCalled) PetscFunctionReturn(PETSC_SUCCESS);
  SAPerturbRegisterAllCalled = PETSC_TRUE;
  PetscCall(PetscRegisterFinalize(SAPerturbFinalizePackage));
  PetscCall(PetscClassIdRegister("SAPerturb", &SAPERTURB_CLASSID));
  PetscCall(PetscLogEventRegister("SAPerturbApply", SAPERTURB_CLASSID, &SAPERTURB_Apply));
  PetscCall(SAPerturbRegister(SAPERTURBLRSCALE, SAPerturbCreate_LRScale));
  PetscCall(SAPerturbRegister(SAPERTURBLRSPIKE, SAPerturbCreate_LRSpike));
  PetscCall(SAPerturbRegister(SAPERTURBNOISESCALE, SAPerturbCreate_NoiseScale));
  PetscCall(SAPerturbRegister(SAPERTURBWEIGHTKICK, SAPerturbCreate_WeightKick));
  PetscCall(SAPerturbRegister(SAPERTURBLOSSSCALE, SAPerturbCreate_LossScale));
  PetscCall(SAPerturbRegister(SAPERTURBMOMENTUMSHIFT, SAPerturbCreate_MomentumShift));
  PetscCall(SAPerturbRegister(SAPERTURBBATCHSCALE, SAPerturbCreate_BatchScale));
  PetscCall(SAPerturbRegister(SAPERTURBOPTIMIZERRESET, SAPerturbCreate_OptimizerReset));
  PetscCall(SAPerturbRegister(SAPERTURBADAMEPS, SAPerturbCreate_AdamEps));
  PetscCall(SAPerturbRegister(SAPERTURBLABELNOISE, SAPerturbCreate_LabelNoise));
  PetscCall(SAPerturbRegister(SAPERTURBINPUTNOISE, SAPerturbCreate_InputNoise));
  PetscCall(SAPerturbRegister(SAPERTURBCOVARIATESHIFT, SAPerturbCreate_CovariateShift));
  PetscCall(SAPerturbRegister(SAPERTURBCLASSIMBALANCE, SAPerturbCreate_ClassImbalance));
  PetscCall(SAPerturbRegister(SAPERTURBDATAORDER, SAPerturbCreate_DataOrder));
  PetscCall(SAPerturbRegister(SAPERTURBLAYERRESET, SAPerturbCreate_LayerReset));
  PetscCall(SAPerturbRegister(SAPERTURBPRUNE, SAPerturbCreate_Prune));
  PetscCall(SAPerturbRegister(SAPERTURBPRECISION, SAPerturbCreate_Precision));
  PetscCall(SAPerturbRegister(SAPERTURBINITSCALE, SAPerturbCreate_InitScale));
  PetscCall(SAPerturbRegister(SAPERTURBSIGNALNOISE, SAPerturbCreate_SignalNoise));
  PetscCall(SAPerturbRegister(SAPERTURBSIGNALFLIP, SAPerturbCreate_SignalFlip));
  PetscCall(SAPerturbRegister(SAPERTURBCLIPOFF, SAPerturbCreate_ClipOff));
  PetscCall(SAPerturbRegister(SAPERTURBLABELSMOOTHING, SAPerturbCreate_LabelSmoothing));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbFinalizePackage - Frees the registry of kinds

  Not Collective

  Level: developer

.seealso: `SAPerturbInitializePackage()`
@*/
PetscErrorCode SAPerturbFinalizePackage(void)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFunctionListDestroy(&SAPerturbList));
  SAPerturbRegisterAllCalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbRegister - Adds a perturbation kind

  Not Collective

  Input Parameters:
+ name   - the kind, as written after 'kind:' in a deck
- create - fills the ops table, the dimension and the magnitude range

  Level: advanced

.seealso: `SAPerturbSetType()`
@*/
PetscErrorCode SAPerturbRegister(const char name[], PetscErrorCode (*create)(SAPerturb))
{
  PetscFunctionBeginUser;
  PetscCall(PetscFunctionListAdd(&SAPerturbList, name, create));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbCreate - Creates a perturbation on a member's group communicator

  Collective

  Input Parameter:
. comm - the group communicator

  Output Parameter:
. p - the perturbation

  Notes:
  An `SAPerturb` is a `PetscObject` (class id `SAPERTURB_CLASSID`): it is reference counted (`PetscObjectReference()`,
  each reference released by one `SAPerturbDestroy()`), its deck block is its options prefix
  (`SAPerturbSetOptionsPrefix()`), kinds with parameters of their own compose their setters
  (`SAPerturbWeightKickSetLayer()`, ...), and -<block>_perturb_view prints it (`SAPerturbSetFromOptions()`).

  Level: beginner

.seealso: `SAPerturbSetFromOptions()`, `SAPerturbDestroy()`
@*/
PetscErrorCode SAPerturbCreate(MPI_Comm comm, SAPerturb *p)
{
  SAPerturb q;

  PetscFunctionBeginUser;
  PetscValidPointer(p, 2);
  *p = NULL;
  PetscCall(SAPerturbInitializePackage());
  PetscCall(PetscHeaderCreate(q, SAPERTURB_CLASSID, "SAPerturb", "perturbation", "SAPerturb", comm, SAPerturbDestroy,
                              SAPerturbView));
  q->duration = 1;
  q->mag_lo   = 0;
  q->mag_hi   = PETSC_MAX_REAL;
  *p          = q;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbSetType - Chooses the kind

  Collective

  Input Parameters:
+ p    - the perturbation
- type - the kind, e.g. `SAPERTURBLRSPIKE`

  Level: beginner

.seealso: `SAPerturbSetFromOptions()`
@*/
PetscErrorCode SAPerturbSetType(SAPerturb p, SAPerturbType type)
{
  PetscErrorCode (*create)(SAPerturb);
  PetscBool match;

  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(p, SAPERTURB_CLASSID, 1);
  PetscValidCharPointer(type, 2);
  PetscCall(PetscObjectTypeCompare((PetscObject) p, type, &match));
  if (match) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFunctionListFind(SAPerturbList, type, &create));
  PetscCheck(create, PetscObjectComm((PetscObject) p), PETSC_ERR_ARG_UNKNOWN_TYPE, "Unknown SAPerturb kind: %s", type);
  if (p->ops->destroy) PetscCall((*p->ops->destroy)(p)); /* frees the kind's data and uncomposes its setters */
  PetscCall(PetscMemzero(p->ops, sizeof(struct _SAPerturbOps)));
  PetscCall(PetscObjectChangeTypeName((PetscObject) p, type));
  PetscCall((*create)(p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbGetType - Returns the kind

  Not Collective

  Input Parameter:
. p - the perturbation

  Output Parameter:
. type - the kind

  Level: beginner

.seealso: `SAPerturbSetType()`
@*/
PetscErrorCode SAPerturbGetType(SAPerturb p, SAPerturbType *type)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(p, SAPERTURB_CLASSID, 1);
  PetscValidPointer(type, 2);
  *type = ((PetscObject) p)->type_name;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbSetOptionsPrefix - Sets the options prefix of the perturbation, its deck block (the block name + '_')

  Logically Collective

  Input Parameters:
+ p      - the perturbation
- prefix - e.g. "early_spike_" (NULL or "" for none); it must not start with '-'

  Notes:
  The block's keys are read under the prefix (-early_spike_kind, -early_spike_magnitudes, ...), the block name is
  the prefix without its trailing '_' (`SAPerturbGetName()`) and the perturbation's stream is keyed by the prefix
  (`SAPerturbSetSeeds()`). This is `PetscObjectSetOptionsPrefix()`.

  Level: beginner

.seealso: `SAPerturbAppendOptionsPrefix()`, `SAPerturbGetOptionsPrefix()`, `SAPerturbGetName()`,
          `SAPerturbSetFromOptions()`
@*/
PetscErrorCode SAPerturbSetOptionsPrefix(SAPerturb p, const char prefix[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(p, SAPERTURB_CLASSID, 1);
  PetscCall(PetscObjectSetOptionsPrefix((PetscObject) p, prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbAppendOptionsPrefix - Appends to the options prefix of the perturbation

  Logically Collective

  Input Parameters:
+ p      - the perturbation
- prefix - the text to append, e.g. "spike_" after "early_" gives the block "early_spike"

  Level: intermediate

.seealso: `SAPerturbSetOptionsPrefix()`, `SAPerturbGetOptionsPrefix()`
@*/
PetscErrorCode SAPerturbAppendOptionsPrefix(SAPerturb p, const char prefix[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(p, SAPERTURB_CLASSID, 1);
  PetscCall(PetscObjectAppendOptionsPrefix((PetscObject) p, prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbGetOptionsPrefix - Returns the options prefix of the perturbation

  Not Collective

  Input Parameter:
. p - the perturbation

  Output Parameter:
. prefix - the prefix, e.g. "early_spike_" (NULL when none is set; owned by p)

  Level: intermediate

.seealso: `SAPerturbSetOptionsPrefix()`, `SAPerturbGetName()`
@*/
PetscErrorCode SAPerturbGetOptionsPrefix(SAPerturb p, const char *prefix[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(p, SAPERTURB_CLASSID, 1);
  PetscCall(PetscObjectGetOptionsPrefix((PetscObject) p, prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbGetName - Returns the block name: the options prefix without its trailing '_'

  Not Collective

  Input Parameter:
. p - the perturbation

  Output Parameter:
. name - the name, "" without a prefix (owned by p, valid until the prefix changes)

  Level: beginner

.seealso: `SAPerturbSetOptionsPrefix()`, `SAPerturbGetOptionsPrefix()`
@*/
PetscErrorCode SAPerturbGetName(SAPerturb p, const char **name)
{
  size_t n;

  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(p, SAPERTURB_CLASSID, 1);
  PetscValidPointer(name, 2);
  PetscCall(PetscStrncpy(p->name, SAPerturbPrefix(p), sizeof(p->name)));
  n = strlen(p->name);
  if (n && p->name[n - 1] == '_') p->name[n - 1] = 0;
  *name = p->name;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbSetFromOptions - Reads the perturbation's deck block

  Collective

  Input Parameter:
. p - the perturbation (its prefix set to the block name)

  Options Database Keys (each under the options prefix, the block name, e.g. -early_spike_kind):
+ kind <name>             - the kind (required): one of the registered kinds (`SAPerturbGetKinds()`)
. magnitudes <m1,m2,...>  - swept magnitudes, in the kind's range (required)
. onset <step>            - first perturbed step (>= 0)
. duration <n>            - 1 = one-step pulse, n = window of n steps, -1 = persistent
. shape <step|ramp|exp>   - envelope inside the window
. tau <steps>             - decay time of the exp shape
- perturb_view [viewer]   - prints the perturbation once its block is read (`SAPerturbView()`), e.g.
                            -early_spike_perturb_view; a PETSc option, not a deck key

  Notes:
  The kinds' own keys are read by the kind (docs/perturbations.md), e.g. layer for weight_kick and layer_reset,
  format for precision.

  Level: beginner

.seealso: `SAPerturbCreate()`, `SAPerturbSetOptionsPrefix()`, `SAPerturbView()`
@*/
PetscErrorCode SAPerturbSetFromOptions(SAPerturb p)
{
  PetscInt     idx = -1, n = SA_MAX_MAGNITUDES_PER_BLOCK, shape = (PetscInt) p->shape, nkinds;
  PetscReal    mags[SA_MAX_MAGNITUDES_PER_BLOCK];
  PetscBool    set;
  const char  *name;
  const char **kinds;
  char         key_kind[96], key_duration[96], key_mags[96];

  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(p, SAPERTURB_CLASSID, 1);
  PetscCall(SAPerturbGetName(p, &name));
  PetscCall(PetscSNPrintf(key_kind, sizeof(key_kind), "%skind", SAPerturbPrefix(p)));
  PetscCall(PetscSNPrintf(key_duration, sizeof(key_duration), "%sduration", SAPerturbPrefix(p)));
  PetscCall(PetscSNPrintf(key_mags, sizeof(key_mags), "%smagnitudes", SAPerturbPrefix(p)));
  PetscCall(SAPerturbGetKinds(&nkinds, &kinds));
  for (PetscInt i = 0; i < nkinds; i++)
    if (((PetscObject) p)->type_name && !strcmp(((PetscObject) p)->type_name, kinds[i])) idx = i;
  {
    PetscInt k = idx < 0 ? 0 : idx;
    PetscCall(SADeckGetEnum(SAPerturbPrefix(p), "kind", kinds, nkinds, &k, &set));
    if (!set && idx < 0) {
      char list[1024] = "";

      for (PetscInt i = 0; i < nkinds; i++) {
        PetscCall(PetscStrlcat(list, i ? ", " : "", sizeof(list)));
        PetscCall(PetscStrlcat(list, kinds[i], sizeof(list)));
      }
      PetscCall(PetscFree(kinds));
      PetscCall(SADeckFail(key_kind, "perturbation block '%s' has no 'kind'; allowed kinds: %s", name, list));
    }
    PetscCall(SAPerturbSetType(p, kinds[k]));
  }
  PetscCall(PetscFree(kinds));
  PetscCall(SADeckGetInt(SAPerturbPrefix(p), "onset", p->onset, 0, PETSC_MAX_INT, &p->onset, NULL));
  PetscCall(SADeckGetInt(SAPerturbPrefix(p), "duration", p->duration, -1, PETSC_MAX_INT, &p->duration, NULL));
  if (p->duration == 0) PetscCall(SADeckFail(key_duration, "must be -1 (persistent) or >= 1 (steps), got 0"));
  PetscCall(SADeckGetEnum(SAPerturbPrefix(p), "shape", SAPerturbShapes, 3, &shape, NULL));
  p->shape = (SAPerturbShape) shape;
  if (p->tau <= 0) p->tau = p->duration > 0 ? PetscMax(1.0, p->duration / 3.0) : 10.0;
  PetscCall(SADeckGetReal(SAPerturbPrefix(p), "tau", p->tau, PETSC_SMALL, PETSC_MAX_REAL, &p->tau, NULL));
  PetscCall(SADeckPushRole(SA_KEY_EXTENSIBLE));
  n = 0;
  PetscCall(SADeckGetRealArray(SAPerturbPrefix(p), "magnitudes", p->mag_lo, p->mag_hi, &n, mags, &set));
  PetscCall(SADeckPopRole(SA_KEY_EXTENSIBLE));
  if (!set || n <= 0)
    PetscCall(SADeckFail(key_mags, "perturbation block '%s' (kind %s) needs 'magnitudes', a list of values in [%g, %g]",
                         name, ((PetscObject) p)->type_name, (double) p->mag_lo, (double) p->mag_hi));
  PetscCall(PetscFree(p->mags));
  PetscCall(PetscMalloc1(n, &p->mags));
  PetscCall(PetscArraycpy(p->mags, mags, n));
  p->nmag      = n;
  p->magnitude = mags[0];
  if (p->ops->setfromoptions) PetscCall((*p->ops->setfromoptions)(p));
  PetscCall(PetscObjectViewFromOptions((PetscObject) p, NULL, "-perturb_view"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbCheckTask - Fails with a clear deck error if the kind makes no sense for the workload or optimizer

  Collective

  Input Parameters:
+ p    - the perturbation (its magnitude set)
. task - the member's task (after `SATaskSetFromOptions()`)
- opt  - the member's optimizer (after `SAOptimizerSetFromOptions()`)

  Notes:
  The perturbation keeps (borrows) task and opt: kinds that need the layer layout or the optimizer state use them
  when they act.

  Level: intermediate

.seealso: `SAPerturbSetFromOptions()`, `SATaskGetCapabilities()`
@*/
PetscErrorCode SAPerturbCheckTask(SAPerturb p, SATask task, SAOptimizer opt)
{
  PetscFunctionBeginUser;
  p->task = task;
  p->opt  = opt;
  if (p->ops->checktask) PetscCall((*p->ops->checktask)(p, task, opt));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbGetKinds - The registered perturbation kinds (`SAPerturbList`), sorted by name

  Not Collective

  Output Parameters:
+ n     - number of kinds
- kinds - their names, NULL-terminated; free the array (not the names, which the registry owns) with `PetscFree()`

  Level: intermediate

.seealso: `SAPerturbRegister()`
@*/
PetscErrorCode SAPerturbGetKinds(PetscInt *n, const char ***kinds)
{
  PetscFunctionBeginUser;
  PetscCall(SAPerturbInitializePackage());
  PetscCall(SAFunctionListGetNames(SAPerturbList, n, kinds));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* a deck error on the block's kind key */
PetscErrorCode SAPerturbFailKind(SAPerturb p, const char fmt[], ...)
{
  char        key[96], msg[1024];
  const char *name;
  va_list     ap;

  PetscFunctionBeginUser;
  va_start(ap, fmt);
  (void) vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  PetscCall(PetscSNPrintf(key, sizeof(key), "%skind", SAPerturbPrefix(p)));
  PetscCall(SAPerturbGetName(p, &name));
  PetscCall(SADeckFail(key, "kind %s of block '%s': %s", ((PetscObject) p)->type_name, name, msg));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* fails unless the task offers every capability in need (what: the words of the message) */
PetscErrorCode SAPerturbRequireCaps(SAPerturb p, SATask task, PetscInt need, const char what[])
{
  PetscInt   caps;
  SATaskType type;

  PetscFunctionBeginUser;
  PetscCall(SATaskGetCapabilities(task, &caps));
  PetscCall(SATaskGetType(task, &type));
  if ((caps & need) != need)
    PetscCall(SAPerturbFailKind(p, "needs %s, which task %s does not offer in this configuration", what, type));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* fails unless the optimizer offers at least one of the SAOptimizerCapability flags in anyof (what: the words of the
   message; the optimizer's type is named there only) */
PetscErrorCode SAPerturbRequireOptimizerCaps(SAPerturb p, SAOptimizer opt, PetscInt anyof, const char what[])
{
  PetscInt        caps;
  SAOptimizerType type;

  PetscFunctionBeginUser;
  PetscCall(SAOptimizerGetCapabilities(opt, &caps));
  PetscCall(SAOptimizerGetType(opt, &type));
  if (!(caps & anyof)) PetscCall(SAPerturbFailKind(p, "needs %s, but the optimizer is %s", what, type));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPerturbDestroy - Releases a reference to a perturbation; the last one destroys it

  Collective

  Input Parameter:
. p - the perturbation (set to NULL; NULL or a pointer to NULL is allowed)

  Notes:
  `SAPerturbAttach()` hands the caller's reference to the solver, which destroys it with its hooks: after attaching,
  call `SAPerturbDestroy()` only on a reference taken with `PetscObjectReference()`.

  Level: beginner

.seealso: `SAPerturbCreate()`, `SAPerturbAttach()`, `PetscObjectReference()`
@*/
PetscErrorCode SAPerturbDestroy(SAPerturb *p)
{
  PetscFunctionBeginUser;
  if (!p || !*p) PetscFunctionReturn(PETSC_SUCCESS);
  PetscValidHeaderSpecific(*p, SAPERTURB_CLASSID, 1);
  if (--((PetscObject) (*p))->refct > 0) {
    *p = NULL;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if ((*p)->ops->destroy) PetscCall((*(*p)->ops->destroy)(*p));
  PetscCall(PetscFree((*p)->mags));
  PetscCall(PetscHeaderDestroy(p));
  PetscFunctionReturn(PETSC_SUCCESS);
}
