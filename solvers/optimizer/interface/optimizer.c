/*
  optimizer.c - SAOptimizer interface: dispatch, logging, validation and the type registry.
*/
#include <stabaudit/private/saoptimizerimpl.h>
#include <stabaudit/sadeck.h>

PetscFunctionList   SAOptimizerList = NULL;
PetscLogEvent       SAOPTIMIZER_Update;
static PetscBool    SAOptimizerRegisterAllCalled = PETSC_FALSE;
static PetscClassId SAOPTIMIZER_CLASSID;

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
  PetscCall(PetscClassIdRegister("SAOptimizer", &SAOPTIMIZER_CLASSID));
  PetscCall(PetscLogEventRegister("SAOptimizerUpdate", SAOPTIMIZER_CLASSID, &SAOPTIMIZER_Update));
  PetscCall(SAOptimizerRegister(SAOPTIMIZERSGD, SAOptimizerCreate_SGD));
  PetscCall(SAOptimizerRegister(SAOPTIMIZERMOMENTUM, SAOptimizerCreate_Momentum));
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

  Level: beginner

.seealso: `SAOptimizerSetType()`, `SAOptimizerDestroy()`
@*/
PetscErrorCode SAOptimizerCreate(MPI_Comm comm, SAOptimizer *opt)
{
  SAOptimizer o;

  PetscFunctionBeginUser;
  PetscCall(SAOptimizerInitializePackage());
  PetscCall(PetscNew(&o));
  o->comm     = comm;
  o->lr       = 0.1;
  o->momentum = 0.0;
  *opt        = o;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerSetType - Chooses the update rule

  Collective

  Input Parameters:
+ opt  - the optimizer
- type - `SAOPTIMIZERSGD` or `SAOPTIMIZERMOMENTUM`

  Options Database Key:
. -optimizer_type <sgd|momentum> - the update rule

  Level: beginner

.seealso: `SAOptimizerSetFromOptions()`
@*/
PetscErrorCode SAOptimizerSetType(SAOptimizer opt, SAOptimizerType type)
{
  PetscErrorCode (*create)(SAOptimizer);
  PetscBool match;

  PetscFunctionBeginUser;
  PetscCall(PetscStrcmp(opt->type_name, type, &match));
  if (match) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFunctionListFind(SAOptimizerList, type, &create));
  PetscCheck(create, opt->comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "Unknown SAOptimizer type: %s", type);
  if (opt->ops.destroy) PetscCall((*opt->ops.destroy)(opt));
  for (PetscInt i = 0; i < opt->nstate; i++) PetscCall(VecDestroy(&opt->state[i]));
  opt->nstate = 0;
  PetscCall(PetscMemzero(&opt->ops, sizeof(opt->ops)));
  PetscCall(PetscStrncpy(opt->type_name, type, sizeof(opt->type_name)));
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
. type - the type

  Level: beginner

.seealso: `SAOptimizerSetType()`
@*/
PetscErrorCode SAOptimizerGetType(SAOptimizer opt, SAOptimizerType *type)
{
  PetscFunctionBeginUser;
  *type = opt->type_name;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerSetFromOptions - Reads the optimizer section of the deck

  Collective

  Input Parameter:
. opt - the optimizer

  Options Database Keys:
+ -optimizer_type <sgd|momentum> - the update rule
. -optimizer_lr <lr>              - learning rate (> 0)
- -optimizer_momentum <mu>        - momentum coefficient in [0, 1) (momentum only)

  Level: beginner

.seealso: `SAOptimizerSetType()`
@*/
PetscErrorCode SAOptimizerSetFromOptions(SAOptimizer opt)
{
  const char *const types[] = {SAOPTIMIZERSGD, SAOPTIMIZERMOMENTUM};
  PetscInt          idx     = 0;

  PetscFunctionBeginUser;
  if (opt->type_name[0] && !strcmp(opt->type_name, SAOPTIMIZERMOMENTUM)) idx = 1;
  PetscCall(SADeckGetEnum("optimizer_", "type", types, 2, &idx, NULL));
  PetscCall(SAOptimizerSetType(opt, types[idx]));
  PetscCall(SADeckGetReal("optimizer_", "lr", opt->lr, PETSC_MACHINE_EPSILON, PETSC_MAX_REAL, &opt->lr, NULL));
  if (opt->ops.setfromoptions) PetscCall((*opt->ops.setfromoptions)(opt));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerSetLearningRate - Sets the base learning rate

  Logically Collective

  Input Parameters:
+ opt - the optimizer
- lr  - the learning rate (> 0)

  Options Database Key:
. -optimizer_lr <lr> - the learning rate

  Level: beginner

.seealso: `SAOptimizerGetLearningRate()`
@*/
PetscErrorCode SAOptimizerSetLearningRate(SAOptimizer opt, PetscReal lr)
{
  PetscFunctionBeginUser;
  PetscCheck(lr > 0, opt->comm, PETSC_ERR_ARG_OUTOFRANGE, "Learning rate must be > 0, got %g", (double) lr);
  opt->lr = lr;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerGetLearningRate - Returns the base learning rate

  Not Collective

  Input Parameter:
. opt - the optimizer

  Output Parameter:
. lr - the learning rate

  Level: beginner

.seealso: `SAOptimizerSetLearningRate()`
@*/
PetscErrorCode SAOptimizerGetLearningRate(SAOptimizer opt, PetscReal *lr)
{
  PetscFunctionBeginUser;
  *lr = opt->lr;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerSetMomentum - Sets the momentum coefficient

  Logically Collective

  Input Parameters:
+ opt - the optimizer
- mu  - momentum in [0, 1)

  Options Database Key:
. -optimizer_momentum <mu> - the coefficient

  Level: beginner

.seealso: `SAOptimizerGetMomentum()`
@*/
PetscErrorCode SAOptimizerSetMomentum(SAOptimizer opt, PetscReal mu)
{
  PetscFunctionBeginUser;
  PetscCheck(mu >= 0 && mu < 1, opt->comm, PETSC_ERR_ARG_OUTOFRANGE, "Momentum must be in [0, 1), got %g", (double) mu);
  opt->momentum = mu;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerGetMomentum - Returns the momentum coefficient

  Not Collective

  Input Parameter:
. opt - the optimizer

  Output Parameter:
. mu - the coefficient

  Level: beginner

.seealso: `SAOptimizerSetMomentum()`
@*/
PetscErrorCode SAOptimizerGetMomentum(SAOptimizer opt, PetscReal *mu)
{
  PetscFunctionBeginUser;
  *mu = opt->momentum;
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
  PetscCheck(opt->ops.update, opt->comm, PETSC_ERR_ORDER,
             "Call SAOptimizerSetType() or SAOptimizerSetFromOptions() first");
  if (opt->ops.setup) PetscCall((*opt->ops.setup)(opt, theta));
  opt->setupcalled = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerGetHyper - Returns the hyper-parameters in force at a step (base values and schedule)

  Not Collective

  Input Parameters:
+ opt  - the optimizer
- step - the step

  Output Parameter:
. h - the hyper-parameters

  Level: intermediate

.seealso: `SAOptimizerUpdate()`
@*/
PetscErrorCode SAOptimizerGetHyper(SAOptimizer opt, PetscInt step, SAHyper *h)
{
  PetscFunctionBeginUser;
  h->lr       = opt->lr;
  h->momentum = opt->momentum;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerUpdate - Applies one step of the update rule to theta

  Collective

  Input Parameters:
+ opt   - the optimizer
. h     - the hyper-parameters of this step (`SAOptimizerGetHyper()` after perturbations)
. theta - the parameters, updated in place
- grad  - the gradient

  Level: intermediate

.seealso: `SAOptimizerGetHyper()`
@*/
PetscErrorCode SAOptimizerUpdate(SAOptimizer opt, const SAHyper *h, Vec theta, Vec grad)
{
  PetscFunctionBeginUser;
  PetscCall(SAOptimizerSetUp(opt, theta));
  PetscCall(PetscLogEventBegin(SAOPTIMIZER_Update, 0, 0, 0, 0));
  PetscCall((*opt->ops.update)(opt, h, theta, grad));
  PetscCall(PetscLogEventEnd(SAOPTIMIZER_Update, 0, 0, 0, 0));
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
  SAOptimizerReset - Zeroes the optimizer state (moments)

  Collective

  Input Parameter:
. opt - the optimizer

  Level: intermediate

.seealso: `SAOptimizerSetUp()`
@*/
PetscErrorCode SAOptimizerReset(SAOptimizer opt)
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < opt->nstate; i++) PetscCall(VecSet(opt->state[i], 0.0));
  if (opt->ops.reset) PetscCall((*opt->ops.reset)(opt));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerView - Prints the optimizer

  Collective

  Input Parameters:
+ opt    - the optimizer
- viewer - an ASCII viewer

  Level: beginner

.seealso: `SAOptimizerCreate()`
@*/
PetscErrorCode SAOptimizerView(SAOptimizer opt, PetscViewer viewer)
{
  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, "SAOptimizer %s, lr %g, momentum %g\n", opt->type_name, (double) opt->lr,
                                   (double) opt->momentum));
  if (opt->ops.view) PetscCall((*opt->ops.view)(opt, viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerDestroy - Destroys an optimizer

  Collective

  Input Parameter:
. opt - the optimizer (set to NULL)

  Level: beginner

.seealso: `SAOptimizerCreate()`
@*/
PetscErrorCode SAOptimizerDestroy(SAOptimizer *opt)
{
  PetscFunctionBeginUser;
  if (!*opt) PetscFunctionReturn(PETSC_SUCCESS);
  if ((*opt)->ops.destroy) PetscCall((*(*opt)->ops.destroy)(*opt));
  for (PetscInt i = 0; i < (*opt)->nstate; i++) PetscCall(VecDestroy(&(*opt)->state[i]));
  PetscCall(PetscFree(*opt));
  PetscFunctionReturn(PETSC_SUCCESS);
}
