/*
  optimizer.c - SAOptimizer interface: the type registry, create/type/options (and options prefix), set up, state,
  view and destroy. SAOptimizer is a PetscObject (saoptimizerimpl.h): PetscObjectReference() adds a reference,
  SAOptimizerDestroy() drops one.
  The hyper-parameters and schedules are in optimizer_hyper.c, the update map and its derivatives in
  optimizer_map.c, the capability queries in optimizer_caps.c.
*/
#include <stabaudit/private/saoptimizerimpl.h>
#include <stabaudit/sadeck.h>

PetscFunctionList SAOptimizerList        = NULL;
const char *const SAOptimizerSchedules[] = {"constant", "warmup_cosine", "step"};
PetscLogEvent     SAOPTIMIZER_Update;
PetscClassId      SAOPTIMIZER_CLASSID;
static PetscBool  SAOptimizerRegisterAllCalled = PETSC_FALSE;

/*@C
  SAOptimizerInitializePackage - Registers the SAOptimizer class, its log events and types

  Not Collective

  Level: developer

.seealso: `SAInitialize()`
@*/
PetscErrorCode SAOptimizerInitializePackage(void)
{
  PetscFunctionBeginUser;
  if (SAOptimizerRegisterAllCalled) PetscFunctionReturn(PETSC_SUCCESS);
  SAOptimizerRegisterAllCalled = PETSC_TRUE;
  PetscCall(PetscRegisterFinalize(SAOptimizerFinalizePackage));
  PetscCall(PetscClassIdRegister("SAOptimizer", &SAOPTIMIZER_CLASSID));
  PetscCall(PetscLogEventRegister("SAOptimizerUpdate", SAOPTIMIZER_CLASSID, &SAOPTIMIZER_Update));
  PetscCall(SAOptimizerRegister(SAOPTIMIZERSGD, SAOptimizerCreate_SGD));
  PetscCall(SAOptimizerRegister(SAOPTIMIZERMOMENTUM, SAOptimizerCreate_Momentum));
  PetscCall(SAOptimizerRegister(SAOPTIMIZERADAM, SAOptimizerCreate_Adam));
  PetscCall(SAOptimizerRegister(SAOPTIMIZERADAMW, SAOptimizerCreate_AdamW));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerFinalizePackage - Frees the SAOptimizer registry

  Not Collective

  Level: developer

.seealso: `SAOptimizerInitializePackage()`
@*/
PetscErrorCode SAOptimizerFinalizePackage(void)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFunctionListDestroy(&SAOptimizerList));
  SAOptimizerRegisterAllCalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerRegister - Adds an optimizer type

  Not Collective

  Input Parameters:
+ name   - the type name
- create - the function that fills the ops table

  Level: advanced

.seealso: `SAOptimizerSetType()`
@*/
PetscErrorCode SAOptimizerRegister(const char name[], PetscErrorCode (*create)(SAOptimizer))
{
  PetscFunctionBeginUser;
  PetscCall(PetscFunctionListAdd(&SAOptimizerList, name, create));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerCreate - Creates an optimizer on a member's group communicator

  Collective

  Input Parameter:
. comm - the group communicator

  Output Parameter:
. opt - the optimizer

  Notes:
  The optimizer is a `PetscObject` of class `SAOPTIMIZER_CLASSID`: `PetscObjectReference()` adds a reference,
  `SAOptimizerDestroy()` drops one, and `PetscObjectSetName()`, `PetscObjectCompose()` and
  `PetscObjectViewFromOptions()` work on it.

  Level: beginner

.seealso: `SAOptimizerSetType()`, `SAOptimizerDestroy()`, `SAOptimizerSetOptionsPrefix()`
@*/
PetscErrorCode SAOptimizerCreate(MPI_Comm comm, SAOptimizer *opt)
{
  SAOptimizer o;

  PetscFunctionBeginUser;
  PetscValidPointer(opt, 2);
  *opt = NULL;
  PetscCall(SAOptimizerInitializePackage());
  PetscCall(PetscHeaderCreate(o, SAOPTIMIZER_CLASSID, "SAOptimizer", "Update rule of a member", "SAOptimizer", comm,
                              SAOptimizerDestroy, SAOptimizerView));
  o->lr           = 0.1;
  o->momentum     = 0.0;
  o->weight_decay = 0.0;
  o->clip         = 0.0;
  o->beta1        = 0.9;
  o->beta2        = 0.999;
  o->eps          = 1e-8;
  o->schedule     = SA_SCHEDULE_CONSTANT;
  o->warmup       = 0;
  o->total_steps  = 0;
  o->min_lr_ratio = 0.0;
  o->step_every   = 0;
  o->step_gamma   = 0.1;
  *opt            = o;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerSetType - Chooses the update rule

  Collective

  Input Parameters:
+ opt  - the optimizer
- type - `SAOPTIMIZERSGD`, `SAOPTIMIZERMOMENTUM`, `SAOPTIMIZERADAM` or `SAOPTIMIZERADAMW`

  Options Database Key:
. -optimizer_type <sgd|momentum|adam|adamw> - the update rule

  Level: beginner

.seealso: `SAOptimizerSetFromOptions()`
@*/
PetscErrorCode SAOptimizerSetType(SAOptimizer opt, SAOptimizerType type)
{
  PetscErrorCode (*create)(SAOptimizer);
  PetscBool match;

  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(opt, SAOPTIMIZER_CLASSID, 1);
  PetscValidCharPointer(type, 2);
  PetscCall(PetscObjectTypeCompare((PetscObject) opt, type, &match));
  if (match) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFunctionListFind(SAOptimizerList, type, &create));
  PetscCheck(create, PetscObjectComm((PetscObject) opt), PETSC_ERR_ARG_UNKNOWN_TYPE, "Unknown SAOptimizer type: %s",
             type);
  if (opt->ops->destroy) PetscCall((*opt->ops->destroy)(opt)); /* also removes the type's composed functions */
  for (PetscInt i = 0; i < opt->nstate; i++) PetscCall(VecDestroy(&opt->state[i]));
  opt->nstate = 0;
  PetscCall(PetscMemzero(opt->ops, sizeof(struct _SAOptimizerOps)));
  opt->caps = 0;
  PetscCall(PetscObjectChangeTypeName((PetscObject) opt, type));
  opt->setupcalled = PETSC_FALSE;
  PetscCall((*create)(opt));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerGetType - Returns the optimizer type

  Not Collective

  Input Parameter:
. opt - the optimizer

  Output Parameter:
. type - the type (NULL before `SAOptimizerSetType()`)

  Level: beginner

.seealso: `SAOptimizerSetType()`
@*/
PetscErrorCode SAOptimizerGetType(SAOptimizer opt, SAOptimizerType *type)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(opt, SAOPTIMIZER_CLASSID, 1);
  *type = ((PetscObject) opt)->type_name;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* raises PETSC_ERR_ORDER unless a type has been set (every type fills ops.update) */
PetscErrorCode SAOptimizerCheckType_Private(SAOptimizer opt)
{
  PetscFunctionBeginUser;
  PetscCheck(opt->ops->update, PETSC_COMM_SELF, PETSC_ERR_ORDER,
             "Call SAOptimizerSetType() or SAOptimizerSetFromOptions() first");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerSetFromOptions - Reads the optimizer section of the deck

  Collective

  Input Parameter:
. opt - the optimizer

  Options Database Keys:
+ -optimizer_type <sgd|momentum|adam|adamw>         - the update rule
. -optimizer_lr <lr>                                - base learning rate (> 0)
. -optimizer_weight_decay <wd>                      - weight decay (>= 0, default 0)
. -optimizer_clip <c>                               - clip the gradient to global 2-norm c (>= 0, 0 = off)
. -optimizer_schedule <constant|warmup_cosine|step> - learning-rate schedule
. -optimizer_warmup <n>                             - warmup_cosine: linear warmup steps (default 0)
. -optimizer_total_steps <T>                        - warmup_cosine: end of the cosine decay (required, > 0)
. -optimizer_min_lr_ratio <r>                       - warmup_cosine: final lr / lr, in [0, 1] (default 0)
. -optimizer_step_every <k>                         - step: steps between decays (required, > 0)
. -optimizer_step_gamma <gamma>                     - step: decay factor (default 0.1)
. -optimizer_momentum <mu>                          - momentum coefficient in [0, 1) (momentum only)
. -optimizer_momentum_nesterov <bool>               - Nesterov's variant (momentum only)
. -optimizer_adam_beta1 <b1>                        - first-moment decay in [0, 1) (adam, adamw; 0.9)
. -optimizer_adam_beta2 <b2>                        - second-moment decay in [0, 1) (adam, adamw; 0.999)
. -optimizer_adam_eps <eps>                         - denominator offset > 0 (adam, adamw; 1e-8)
- -optimizer_view [viewer]                          - view the optimizer once its options are read

  Notes:
  The schedule keys are read (and so allowed in a deck) only for the schedule that uses them. A deck error
  (unknown value, out of range, a warmup_cosine schedule without total_steps, a step schedule without step_every)
  is `PETSC_ERR_USER_INPUT`.

  With an options prefix (`SAOptimizerSetOptionsPrefix()`) every key is the prefix followed by the key above:
  prefix "actor_" reads -actor_optimizer_lr (deck: actor_optimizer: {lr: ...}), -actor_optimizer_view.

  Level: beginner

.seealso: `SAOptimizerSetType()`, `SAOptimizerSetSchedule()`, `SAOptimizerSetWeightDecay()`, `SAOptimizerSetClip()`
@*/
PetscErrorCode SAOptimizerSetFromOptions(SAOptimizer opt)
{
  const char *tname = ((PetscObject) opt)->type_name, *type;
  PetscInt    sched = (PetscInt) opt->schedule;
  char        sec[128], key[192];

  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(opt, SAOPTIMIZER_CLASSID, 1);
  PetscCall(SAOptimizerDeckSection_Private(opt, "optimizer_", sec, sizeof(sec)));
  PetscCall(SADeckGetType(sec, SAOptimizerList, tname ? tname : SAOPTIMIZERSGD, &type));
  PetscCall(SAOptimizerSetType(opt, type));
  PetscCall(SADeckGetReal(sec, "lr", opt->lr, PETSC_MACHINE_EPSILON, PETSC_MAX_REAL, &opt->lr, NULL));
  PetscCall(SADeckGetReal(sec, "weight_decay", opt->weight_decay, 0.0, PETSC_MAX_REAL, &opt->weight_decay, NULL));
  PetscCall(SADeckGetReal(sec, "clip", opt->clip, 0.0, PETSC_MAX_REAL, &opt->clip, NULL));
  PetscCall(SADeckGetEnum(sec, "schedule", SAOptimizerSchedules, 3, &sched, NULL));
  opt->schedule = (SAOptimizerSchedule) sched;
  if (opt->schedule == SA_SCHEDULE_WARMUP_COSINE) {
    PetscCall(SADeckGetInt(sec, "warmup", opt->warmup, 0, PETSC_MAX_INT, &opt->warmup, NULL));
    PetscCall(SADeckGetInt(sec, "total_steps", opt->total_steps, 0, PETSC_MAX_INT, &opt->total_steps, NULL));
    PetscCall(SADeckGetReal(sec, "min_lr_ratio", opt->min_lr_ratio, 0.0, 1.0, &opt->min_lr_ratio, NULL));
    PetscCall(PetscSNPrintf(key, sizeof(key), "%stotal_steps", sec));
    if (opt->total_steps <= 0) PetscCall(SADeckFail(key, "must be set > 0 when %sschedule is warmup_cosine", sec));
    PetscCall(PetscSNPrintf(key, sizeof(key), "%swarmup", sec));
    if (opt->warmup > opt->total_steps)
      PetscCall(SADeckFail(key, "must be <= %stotal_steps (%" PetscInt_FMT "), got %" PetscInt_FMT, sec,
                           opt->total_steps, opt->warmup));
  } else if (opt->schedule == SA_SCHEDULE_STEP) {
    PetscCall(SADeckGetInt(sec, "step_every", opt->step_every, 0, PETSC_MAX_INT, &opt->step_every, NULL));
    PetscCall(
      SADeckGetReal(sec, "step_gamma", opt->step_gamma, PETSC_MACHINE_EPSILON, PETSC_MAX_REAL, &opt->step_gamma, NULL));
    PetscCall(PetscSNPrintf(key, sizeof(key), "%sstep_every", sec));
    if (opt->step_every <= 0) PetscCall(SADeckFail(key, "must be set > 0 when %sschedule is step", sec));
  }
  if (opt->ops->setfromoptions) PetscCall((*opt->ops->setfromoptions)(opt));
  PetscCall(PetscObjectViewFromOptions((PetscObject) opt, NULL, "-optimizer_view"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the deck section: the options prefix (if any) followed by the class's own section, e.g. "actor_" + "optimizer_" */
PetscErrorCode SAOptimizerDeckSection_Private(SAOptimizer opt, const char sec[], char buf[], size_t len)
{
  const char *prefix;

  PetscFunctionBeginUser;
  PetscCall(PetscObjectGetOptionsPrefix((PetscObject) opt, &prefix));
  PetscCall(PetscSNPrintf(buf, len, "%s%s", prefix ? prefix : "", sec));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerSetOptionsPrefix - Sets the prefix of the optimizer's deck keys and options

  Logically Collective

  Input Parameters:
+ opt    - the optimizer
- prefix - the prefix (no leading dash; NULL or "" for none), e.g. "actor_"

  Notes:
  The prefix goes in front of every key: with "actor_" the optimizer reads -actor_optimizer_lr,
  -actor_optimizer_adam_beta1 and -actor_optimizer_view (deck: actor_optimizer: {lr: ...}) and ignores
  -optimizer_lr, so that two optimizers of one member can be configured apart.

  Level: intermediate

.seealso: `SAOptimizerAppendOptionsPrefix()`, `SAOptimizerGetOptionsPrefix()`, `SAOptimizerSetFromOptions()`
@*/
PetscErrorCode SAOptimizerSetOptionsPrefix(SAOptimizer opt, const char prefix[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(opt, SAOPTIMIZER_CLASSID, 1);
  PetscCall(PetscObjectSetOptionsPrefix((PetscObject) opt, prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerAppendOptionsPrefix - Appends to the prefix of the optimizer's deck keys and options

  Logically Collective

  Input Parameters:
+ opt    - the optimizer
- prefix - the text to append (no leading dash)

  Level: intermediate

.seealso: `SAOptimizerSetOptionsPrefix()`, `SAOptimizerGetOptionsPrefix()`
@*/
PetscErrorCode SAOptimizerAppendOptionsPrefix(SAOptimizer opt, const char prefix[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(opt, SAOPTIMIZER_CLASSID, 1);
  PetscCall(PetscObjectAppendOptionsPrefix((PetscObject) opt, prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerGetOptionsPrefix - Returns the prefix of the optimizer's deck keys and options

  Not Collective

  Input Parameter:
. opt - the optimizer

  Output Parameter:
. prefix - the prefix (NULL when none is set; owned by the optimizer)

  Level: intermediate

.seealso: `SAOptimizerSetOptionsPrefix()`, `SAOptimizerAppendOptionsPrefix()`
@*/
PetscErrorCode SAOptimizerGetOptionsPrefix(SAOptimizer opt, const char *prefix[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(opt, SAOPTIMIZER_CLASSID, 1);
  PetscCall(PetscObjectGetOptionsPrefix((PetscObject) opt, prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerSetUp - Creates the optimizer state with the layout of theta (zeroed)

  Collective

  Input Parameters:
+ opt   - the optimizer
- theta - the parameters

  Level: intermediate

.seealso: `SAOptimizerGetState()`
@*/
PetscErrorCode SAOptimizerSetUp(SAOptimizer opt, Vec theta)
{
  PetscFunctionBeginUser;
  if (opt->setupcalled) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SAOptimizerCheckType_Private(opt));
  if (opt->ops->setup) PetscCall((*opt->ops->setup)(opt, theta));
  opt->setupcalled = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerGetState - Returns the state vectors (for checkpoints)

  Not Collective

  Input Parameter:
. opt - the optimizer

  Output Parameters:
+ n     - number of state vectors
. vecs  - the vectors (owned by the optimizer)
- names - their names

  Level: developer

.seealso: `SACheckpointWrite()`
@*/
PetscErrorCode SAOptimizerGetState(SAOptimizer opt, PetscInt *n, Vec **vecs, const char *const **names)
{
  PetscFunctionBeginUser;
  *n     = opt->nstate;
  *vecs  = opt->state;
  *names = opt->statenames;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerReset - Zeroes the optimizer state (velocity, Adam moments)

  Collective

  Input Parameter:
. opt - the optimizer

  Notes:
  The Adam bias correction uses the step index of `SAHyper`, not a count kept in the state, so after a reset at step
  t the moments restart from zero but are corrected with t + 1, not 1.

  Level: intermediate

.seealso: `SAOptimizerSetUp()`
@*/
PetscErrorCode SAOptimizerReset(SAOptimizer opt)
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < opt->nstate; i++) PetscCall(VecSet(opt->state[i], 0.0));
  if (opt->ops->reset) PetscCall((*opt->ops->reset)(opt));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerView - Prints the optimizer

  Collective

  Input Parameters:
+ opt    - the optimizer
- viewer - an ASCII viewer (NULL: standard output of the optimizer's communicator); other viewers print nothing

  Options Database Key:
. -optimizer_view [viewer] - view at the end of `SAOptimizerSetFromOptions()`

  Level: beginner

.seealso: `SAOptimizerCreate()`, `SAOptimizerSetFromOptions()`
@*/
PetscErrorCode SAOptimizerView(SAOptimizer opt, PetscViewer viewer)
{
  PetscBool iascii;

  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(opt, SAOPTIMIZER_CLASSID, 1);
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(PetscObjectComm((PetscObject) opt), &viewer));
  PetscCall(PetscObjectTypeCompare((PetscObject) viewer, PETSCVIEWERASCII, &iascii));
  if (!iascii) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscObjectPrintClassNamePrefixType((PetscObject) opt, viewer));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  PetscCall(PetscViewerASCIIPrintf(viewer, "lr %g, momentum %g, weight decay %g, clip %g\n", (double) opt->lr,
                                   (double) opt->momentum, (double) opt->weight_decay, (double) opt->clip));
  if (opt->schedule == SA_SCHEDULE_WARMUP_COSINE)
    PetscCall(PetscViewerASCIIPrintf(
      viewer, "schedule warmup_cosine: warmup %" PetscInt_FMT ", total %" PetscInt_FMT ", min lr ratio %g\n",
      opt->warmup, opt->total_steps, (double) opt->min_lr_ratio));
  else if (opt->schedule == SA_SCHEDULE_STEP)
    PetscCall(PetscViewerASCIIPrintf(viewer, "schedule step: every %" PetscInt_FMT ", gamma %g\n", opt->step_every,
                                     (double) opt->step_gamma));
  if (opt->ops->view) PetscCall((*opt->ops->view)(opt, viewer));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerDestroy - Drops a reference to an optimizer, and destroys it when that was the last one

  Collective

  Input Parameter:
. opt - the optimizer (may be NULL; set to NULL)

  Level: beginner

.seealso: `SAOptimizerCreate()`
@*/
PetscErrorCode SAOptimizerDestroy(SAOptimizer *opt)
{
  PetscFunctionBeginUser;
  if (!*opt) PetscFunctionReturn(PETSC_SUCCESS);
  PetscValidHeaderSpecific(*opt, SAOPTIMIZER_CLASSID, 1);
  if (--((PetscObject) (*opt))->refct > 0) {
    *opt = NULL;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if ((*opt)->ops->destroy) PetscCall((*(*opt)->ops->destroy)(*opt));
  for (PetscInt i = 0; i < (*opt)->nstate; i++) PetscCall(VecDestroy(&(*opt)->state[i]));
  PetscCall(PetscHeaderDestroy(opt));
  PetscFunctionReturn(PETSC_SUCCESS);
}
