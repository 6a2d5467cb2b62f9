/*
  task.c - SATask interface: class registration, registry, dispatch, options prefix, logging, validation. No
  algorithm.
*/
#include <stabaudit/private/sataskimpl.h>
#include <stabaudit/sadeck.h>

PetscFunctionList SATaskList = NULL;
PetscClassId      SATASK_CLASSID;
PetscLogEvent     SATASK_LossGradient, SATASK_HessianMult, SATASK_Evaluate, SATASK_BatchRows, SATASK_Exchange;
static PetscBool  SATaskRegisterAllCalled = PETSC_FALSE;

/*@C
  SATaskInitializePackage - Registers the SATask class, its log events and its types

  Not Collective

  Level: developer

.seealso: `SAInitialize()`
@*/
PetscErrorCode SATaskInitializePackage(void)
{
  PetscFunctionBeginUser;
  if (SATaskRegisterAllCalled) PetscFunctionReturn(PETSC_SUCCESS);
  SATaskRegisterAllCalled = PETSC_TRUE;
  PetscCall(PetscRegisterFinalize(SATaskFinalizePackage));
  PetscCall(PetscClassIdRegister("SATask", &SATASK_CLASSID));
  PetscCall(PetscLogEventRegister("SATaskLossGrad", SATASK_CLASSID, &SATASK_LossGradient));
  PetscCall(PetscLogEventRegister("SATaskHessMult", SATASK_CLASSID, &SATASK_HessianMult));
  PetscCall(PetscLogEventRegister("SATaskEvaluate", SATASK_CLASSID, &SATASK_Evaluate));
  PetscCall(PetscLogEventRegister("SATaskBatchRows", SATASK_CLASSID, &SATASK_BatchRows));
  PetscCall(PetscLogEventRegister("SATaskExchange", SATASK_CLASSID, &SATASK_Exchange));
  PetscCall(SATaskRegister(SATASKQUADRATIC, SATaskCreate_Quadratic));
  PetscCall(SATaskRegister(SATASKCLASSIFY, SATaskCreate_Classify));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskFinalizePackage - Frees the SATask registry

  Not Collective

  Level: developer

.seealso: `SATaskInitializePackage()`
@*/
PetscErrorCode SATaskFinalizePackage(void)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFunctionListDestroy(&SATaskList));
  SATaskRegisterAllCalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskRegister - Adds a task type

  Not Collective

  Input Parameters:
+ name   - the type name
- create - the function that fills the ops table

  Level: advanced

.seealso: `SATaskSetType()`
@*/
PetscErrorCode SATaskRegister(const char name[], PetscErrorCode (*create)(SATask))
{
  PetscFunctionBeginUser;
  PetscCall(PetscFunctionListAdd(&SATaskList, name, create));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskCreate - Creates a task on a member's group communicator

  Collective

  Input Parameter:
. comm - the group communicator

  Output Parameter:
. task - the task

  Level: beginner

.seealso: `SATaskSetType()`, `SATaskDestroy()`, `SATaskSetOptionsPrefix()`
@*/
PetscErrorCode SATaskCreate(MPI_Comm comm, SATask *task)
{
  SATask t;

  PetscFunctionBeginUser;
  PetscAssertPointer(task, 2);
  *task = NULL;
  PetscCall(SATaskInitializePackage());
  PetscCall(
    PetscHeaderCreate(t, SATASK_CLASSID, "SATask", "learning problem", "SATask", comm, SATaskDestroy, SATaskView));
  PetscCall(PetscStrncpy(t->deckprefix, "task_", sizeof(t->deckprefix)));
  t->noise = 0.0;
  *task    = t;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskSetType - Chooses the workload

  Collective

  Input Parameters:
+ task - the task
- type - e.g. `SATASKQUADRATIC`

  Options Database Key:
. -task_type <quadratic|classify> - the workload

  Level: beginner

.seealso: `SATaskSetFromOptions()`
@*/
PetscErrorCode SATaskSetType(SATask task, SATaskType type)
{
  PetscErrorCode (*create)(SATask);
  PetscBool match;

  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  PetscCall(PetscObjectTypeCompare((PetscObject) task, type, &match));
  if (match) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFunctionListFind(SATaskList, type, &create));
  PetscCheck(create, PetscObjectComm((PetscObject) task), PETSC_ERR_ARG_UNKNOWN_TYPE, "Unknown SATask type: %s", type);
  if (task->ops->destroy) PetscCall((*task->ops->destroy)(task));
  PetscCall(PetscMemzero(task->ops, sizeof(struct _SATaskOps)));
  task->data        = NULL;
  task->nobs        = 0;
  task->obs         = NULL;
  task->setupcalled = PETSC_FALSE;
  PetscCall(PetscObjectChangeTypeName((PetscObject) task, type));
  PetscCall((*create)(task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskGetType - Returns the workload type

  Not Collective

  Input Parameter:
. task - the task

  Output Parameter:
. type - the type name (NULL before one is set)

  Level: beginner

.seealso: `SATaskSetType()`
@*/
PetscErrorCode SATaskGetType(SATask task, SATaskType *type)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  PetscAssertPointer(type, 2);
  *type = ((PetscObject) task)->type_name;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the base section of the deck keys: options prefix + "task_" */
static PetscErrorCode SATaskUpdateDeckPrefix_Private(SATask task)
{
  const char *prefix;

  PetscFunctionBeginUser;
  PetscCall(PetscObjectGetOptionsPrefix((PetscObject) task, &prefix));
  PetscCall(PetscSNPrintf(task->deckprefix, sizeof(task->deckprefix), "%stask_", prefix ? prefix : ""));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* for the types: the deck section "<prefix>task_<sub>" (sub e.g. "classify_"; "" gives the base section) */
PetscErrorCode SATaskGetDeckSection_Private(SATask task, const char sub[], char sec[], size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(sec, len, "%s%s", task->deckprefix, sub));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskSetOptionsPrefix - Sets the prefix of the task's deck keys and options

  Logically Collective

  Input Parameters:
+ task   - the task
- prefix - the prefix (no leading hyphen), e.g. "actor_", or NULL

  Notes:
  The task reads its deck section `task_*` behind this prefix: with "actor_", `-actor_task_type`,
  `-actor_task_classify_batch`, ... (deck keys `actor_task_classify_batch`, ...) and `-actor_task_view`. A task's own
  objects get the same prefix: the model of a classify task reads `-actor_model_hidden`. Call before
  `SATaskSetFromOptions()`.

  Level: intermediate

.seealso: `SATaskAppendOptionsPrefix()`, `SATaskGetOptionsPrefix()`, `SATaskSetFromOptions()`
@*/
PetscErrorCode SATaskSetOptionsPrefix(SATask task, const char prefix[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  PetscCall(PetscObjectSetOptionsPrefix((PetscObject) task, prefix));
  PetscCall(SATaskUpdateDeckPrefix_Private(task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskAppendOptionsPrefix - Appends to the prefix of the task's deck keys and options

  Logically Collective

  Input Parameters:
+ task   - the task
- prefix - the text appended (no leading hyphen)

  Level: intermediate

.seealso: `SATaskSetOptionsPrefix()`
@*/
PetscErrorCode SATaskAppendOptionsPrefix(SATask task, const char prefix[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  PetscCall(PetscObjectAppendOptionsPrefix((PetscObject) task, prefix));
  PetscCall(SATaskUpdateDeckPrefix_Private(task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskGetOptionsPrefix - Returns the prefix of the task's deck keys and options

  Not Collective

  Input Parameter:
. task - the task

  Output Parameter:
. prefix - the prefix, or NULL when none is set (owned by the task)

  Level: intermediate

.seealso: `SATaskSetOptionsPrefix()`
@*/
PetscErrorCode SATaskGetOptionsPrefix(SATask task, const char *prefix[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  PetscCall(PetscObjectGetOptionsPrefix((PetscObject) task, prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskSetFromOptions - Reads the task section of the deck (`task: {type: ..., <type>: {...}}`)

  Collective

  Input Parameter:
. task - the task

  Options Database Keys:
+ -task_type <quadratic> - the workload
. -task_noise <sigma>    - level of the task's stochasticity (gradient noise for quadratic)
- -task_view             - views the task at the end of `SATaskSetUp()`

  Notes:
  The keys are read through the deck getters (sadeck.h) in the section options prefix + "task_": with no prefix,
  `task_type`, `task_noise`, `task_classify_batch`, ...; with the prefix "actor_", `actor_task_type`, ... The type
  reads its own keys in "<prefix>task_<type>_" and gives its own objects the task's prefix (the model of a classify
  task reads "<prefix>model_").

  Level: beginner

.seealso: `SATaskSetType()`, `SATaskSetOptionsPrefix()`
@*/
PetscErrorCode SATaskSetFromOptions(SATask task)
{
  const char *def, *type;

  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  def = ((PetscObject) task)->type_name ? ((PetscObject) task)->type_name : SATASKQUADRATIC;
  PetscCall(SATaskUpdateDeckPrefix_Private(task));
  task->setupcalled = PETSC_FALSE; /* new options give a new problem instance */
  PetscCall(SADeckGetType(task->deckprefix, SATaskList, def, &type));
  PetscCall(SATaskSetType(task, type));
  PetscCall(SADeckGetReal(task->deckprefix, "noise", task->noise, 0.0, PETSC_MAX_REAL, &task->noise, NULL));
  if (task->ops->setfromoptions) PetscCall((*task->ops->setfromoptions)(task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskSetSeeds - Sets the keys of the task's streams

  Logically Collective

  Input Parameters:
+ task          - the task
. campaign_seed - keys the problem instance (shared by all members)
- member_seed   - keys initialisation and batches of this member (shared with its twin)

  Level: intermediate

.seealso: `SAStreamCreate()`
@*/
PetscErrorCode SATaskSetSeeds(SATask task, PetscInt64 campaign_seed, PetscInt64 member_seed)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  task->campaign_seed = campaign_seed;
  task->member_seed   = member_seed;
  task->setupcalled   = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskSetNoise - Sets the level of the task's own stochasticity (a controlled-stochasticity axis)

  Logically Collective

  Input Parameters:
+ task  - the task
- noise - the level (quadratic: standard deviation of the gradient noise per coordinate)

  Options Database Key:
. -task_noise <sigma> - the level

  Level: intermediate

.seealso: `SATaskGetNoise()`
@*/
PetscErrorCode SATaskSetNoise(SATask task, PetscReal noise)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  PetscCheck(noise >= 0, PetscObjectComm((PetscObject) task), PETSC_ERR_ARG_OUTOFRANGE,
             "Task noise must be >= 0, got %g", (double) noise);
  task->noise = noise;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskGetNoise - Returns the level of the task's stochasticity

  Not Collective

  Input Parameter:
. task - the task

  Output Parameter:
. noise - the level

  Level: intermediate

.seealso: `SATaskSetNoise()`
@*/
PetscErrorCode SATaskGetNoise(SATask task, PetscReal *noise)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  *noise = task->noise;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskSetUp - Builds the problem instance (data, analytic operator) for the set seeds

  Collective

  Input Parameter:
. task - the task

  Options Database Key:
. -task_view - views the task once it is set up (behind the options prefix)

  Level: intermediate

.seealso: `SATaskSetFromOptions()`, `SATaskView()`
@*/
PetscErrorCode SATaskSetUp(SATask task)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  if (task->setupcalled) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(task->ops->setup, PetscObjectComm((PetscObject) task), PETSC_ERR_ORDER,
             "Call SATaskSetType() or SATaskSetFromOptions() first");
  PetscCall((*task->ops->setup)(task));
  task->setupcalled = PETSC_TRUE;
  PetscCall(PetscObjectViewFromOptions((PetscObject) task, NULL, "-task_view"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskCreateParameters - Creates theta (all trainable parameters, one Vec on the group communicator)

  Collective

  Input Parameter:
. task - the task

  Output Parameter:
. theta - the parameter vector, sharded over the group

  Level: intermediate

.seealso: `SATaskInitialGuess()`
@*/
PetscErrorCode SATaskCreateParameters(SATask task, Vec *theta)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  PetscCall(SATaskSetUp(task));
  PetscCall((*task->ops->createparameters)(task, theta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskInitialGuess - Fills theta_0 of the member (from its init stream)

  Collective

  Input Parameters:
+ task  - the task
- theta - the parameter vector

  Level: intermediate

.seealso: `SATaskCreateParameters()`
@*/
PetscErrorCode SATaskInitialGuess(SATask task, Vec theta)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  PetscCall(SATaskSetUp(task));
  PetscCall((*task->ops->initialguess)(task, theta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskLossGradient - Loss and gradient on a frozen batch

  Collective

  Input Parameters:
+ task  - the task
. theta - the parameters
- batch - the batch (step and noise scale)

  Output Parameters:
+ loss - the loss of the batch (may be Inf/NaN: divergence is data)
- grad - the gradient, layout of theta

  Level: intermediate

.seealso: `SATaskHessianMult()`, `SATaskEvaluate()`
@*/
PetscErrorCode SATaskLossGradient(SATask task, Vec theta, const SABatch *batch, PetscReal *loss, Vec grad)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  PetscCall(PetscLogEventBegin(SATASK_LossGradient, 0, 0, 0, 0));
  PetscCall((*task->ops->lossgradient)(task, theta, batch, loss, grad));
  PetscCall(PetscLogEventEnd(SATASK_LossGradient, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskHessianMult - Exact Hessian-vector product of the batch loss at theta

  Collective

  Input Parameters:
+ task  - the task
. theta - the parameters
. batch - the batch
- v     - the direction

  Output Parameter:
. Hv - the product

  Level: intermediate

.seealso: `SATaskLossGradient()`
@*/
PetscErrorCode SATaskHessianMult(SATask task, Vec theta, const SABatch *batch, Vec v, Vec Hv)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  PetscCheck(task->ops->hessianmult, PetscObjectComm((PetscObject) task), PETSC_ERR_SUP,
             "Task %s has no Hessian-vector product", ((PetscObject) task)->type_name);
  PetscCall(PetscLogEventBegin(SATASK_HessianMult, 0, 0, 0, 0));
  PetscCall((*task->ops->hessianmult)(task, theta, batch, v, Hv));
  PetscCall(PetscLogEventEnd(SATASK_HessianMult, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskEvaluate - Clean (noise-free / held-out) loss and performance of theta

  Collective

  Input Parameters:
+ task  - the task
- theta - the parameters

  Output Parameters:
+ loss - the loss
- perf - performance, higher is better, in [0,1]

  Level: intermediate

.seealso: `SATaskLossGradient()`
@*/
PetscErrorCode SATaskEvaluate(SATask task, Vec theta, PetscReal *loss, PetscReal *perf)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  PetscCall(PetscLogEventBegin(SATASK_Evaluate, 0, 0, 0, 0));
  PetscCall((*task->ops->evaluate)(task, theta, loss, perf));
  PetscCall(PetscLogEventEnd(SATASK_Evaluate, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskDestroy - Drops a reference to a task, and destroys it with the last one

  Collective

  Input Parameter:
. task - the task (set to NULL)

  Notes:
  `SASolverSetTask()` takes over the caller's reference; call `PetscObjectReference()` first to keep using the task
  after the solver is destroyed.

  Level: beginner

.seealso: `SATaskCreate()`, `PetscObjectReference()`
@*/
PetscErrorCode SATaskDestroy(SATask *task)
{
  PetscFunctionBeginUser;
  if (!*task) PetscFunctionReturn(PETSC_SUCCESS);
  PetscValidHeaderSpecific(*task, SATASK_CLASSID, 1);
  if (--((PetscObject) (*task))->refct > 0) {
    *task = NULL;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if ((*task)->ops->destroy) PetscCall((*(*task)->ops->destroy)(*task));
  PetscCall(PetscHeaderDestroy(task));
  PetscFunctionReturn(PETSC_SUCCESS);
}
