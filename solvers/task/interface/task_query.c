/*
  task_query.c - SATask's generic setters of the sweep axes (composed functions), its observables, capabilities,
  parameter layers and view (task.c holds the object, its options and the evaluation interface).
*/
#include <stabaudit/private/sataskimpl.h>
#include <stabaudit/sadeck.h>

/*@C
  SATaskSetDropout - Sets the dropout probability of the task's hidden units (a controlled-stochasticity axis)

  Logically Collective

  Input Parameters:
+ task - the task (after `SATaskSetFromOptions()`, before `SATaskSetUp()`)
- p    - the probability, in [0, 1)

  Notes:
  A task type with dropout composes "SATaskSetDropout_C" on the object in its create (`PetscObjectComposeFunction()`);
  on a type without it this raises `PETSC_ERR_SUP` ("Task type ... has no dropout"), as `PetscUseMethod()` does, which
  the campaign turns into a deck error of the sweep axis.

  Level: intermediate

.seealso: `SATaskSetBatchSize()`, `SATaskSetNoise()`, `SATaskClassifySetDropout()`
@*/
PetscErrorCode SATaskSetDropout(SATask task, PetscReal p)
{
  PetscErrorCode (*f)(SATask, PetscReal) = NULL;

  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  PetscValidLogicalCollectiveReal(task, p, 2);
  PetscCall(PetscObjectQueryFunction((PetscObject) task, "SATaskSetDropout_C", &f));
  PetscCheck(f, PetscObjectComm((PetscObject) task), PETSC_ERR_SUP, "Task type %s has no dropout",
             ((PetscObject) task)->type_name);
  PetscCheck(p >= 0 && p < 1, PetscObjectComm((PetscObject) task), PETSC_ERR_ARG_OUTOFRANGE,
             "Dropout probability must be in [0, 1), got %g", (double) p);
  PetscCall((*f)(task, p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskSetBatchSize - Sets the minibatch size of the task (a controlled-stochasticity axis)

  Logically Collective

  Input Parameters:
+ task  - the task (after `SATaskSetFromOptions()`, before `SATaskSetUp()`)
- batch - the minibatch size, 0 = full batch

  Notes:
  A task type with minibatches composes "SATaskSetBatchSize_C" on the object in its create; on a type without them
  this raises `PETSC_ERR_SUP` ("Task type ... has no batch size"), as `PetscUseMethod()` does.

  Level: intermediate

.seealso: `SATaskSetDropout()`, `SATaskSetNoise()`, `SATaskClassifySetBatchSize()`
@*/
PetscErrorCode SATaskSetBatchSize(SATask task, PetscInt batch)
{
  PetscErrorCode (*f)(SATask, PetscInt) = NULL;

  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  PetscValidLogicalCollectiveInt(task, batch, 2);
  PetscCall(PetscObjectQueryFunction((PetscObject) task, "SATaskSetBatchSize_C", &f));
  PetscCheck(f, PetscObjectComm((PetscObject) task), PETSC_ERR_SUP, "Task type %s has no batch size",
             ((PetscObject) task)->type_name);
  PetscCheck(batch >= 0, PetscObjectComm((PetscObject) task), PETSC_ERR_ARG_OUTOFRANGE,
             "Batch size must be >= 0, got %" PetscInt_FMT, batch);
  PetscCall((*f)(task, batch));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskGetObservables - The workload's own observables (recorded after the common ones)

  Not Collective

  Input Parameter:
. task - the task (type set)

  Output Parameters:
+ n    - their number
- info - their names, long names and units (static storage)

  Level: intermediate

.seealso: `SATaskComputeObservables()`, `SAObservables`
@*/
PetscErrorCode SATaskGetObservables(SATask task, PetscInt *n, const SAObservableInfo **info)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  *n    = task->nobs;
  *info = task->obs;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskComputeObservables - Computes the workload's own observables at theta on a batch

  Collective

  Input Parameters:
+ task  - the task
. theta - the parameters
. grad  - the loss gradient of the step's batch at theta
- batch - the step's batch

  Output Parameter:
. vals - the values, in the order of `SATaskGetObservables()`

  Level: intermediate

.seealso: `SATaskGetObservables()`
@*/
PetscErrorCode SATaskComputeObservables(SATask task, Vec theta, Vec grad, const SABatch *batch, PetscReal vals[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  if (task->nobs) PetscCall((*task->ops->computeobservables)(task, theta, grad, batch, vals));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskGetCapabilities - What the task's data and loss offer to perturbations

  Not Collective

  Input Parameter:
. task - the task (after `SATaskSetFromOptions()`)

  Output Parameter:
. caps - a bitwise OR of `SATaskCapability` values

  Notes:
  Perturbation kinds check these in their task check, so that a kind that makes no sense for a workload (label
  noise on an analytic quadratic, a batch-size change in full-batch mode) is a deck error, not a silent no-op.

  Level: intermediate

.seealso: `SATaskCapability`, `SAPerturbCheckTask()`
@*/
PetscErrorCode SATaskGetCapabilities(SATask task, PetscInt *caps)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  *caps = task->caps;
  if (task->noise > 0) *caps |= SA_TASK_CAP_NOISE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskGetLayers - The ranges of theta's global indices that hold each parameter layer

  Not Collective

  Input Parameter:
. task - the task (after `SATaskSetFromOptions()`)

  Output Parameters:
+ n  - number of layers (0 for a task without layers)
. lo - lo[l] first global index of layer l + 1 (weights then biases), owned by the task
- hi - hi[l] one past its last

  Level: intermediate

.seealso: `SATaskGetCapabilities()`
@*/
PetscErrorCode SATaskGetLayers(SATask task, PetscInt *n, const PetscInt **lo, const PetscInt **hi)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  *n = task->nlayers;
  if (lo) *lo = task->layer_lo;
  if (hi) *hi = task->layer_hi;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskRandomGuess - A fresh random initialisation of the parameters drawn from a given stream

  Collective

  Input Parameters:
+ task - the task (set up)
- s    - the stream (e.g. a perturbation's)

  Output Parameter:
. theta - the parameters, drawn from the task's initial distribution

  Notes:
  `SATaskInitialGuess()` is this with the member's init stream. Used by parametric perturbations that
  re-initialise a layer.

  Level: developer

.seealso: `SATaskInitialGuess()`, `SATaskGetLayers()`
@*/
PetscErrorCode SATaskRandomGuess(SATask task, const SAStream *s, Vec theta)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  PetscCheck(task->ops->randomguess, PetscObjectComm((PetscObject) task), PETSC_ERR_SUP,
             "Task type %s has no random initialisation", ((PetscObject) task)->type_name);
  PetscCall((*task->ops->randomguess)(task, s, theta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskView - Prints the task

  Collective

  Input Parameters:
+ task   - the task
- viewer - an ASCII viewer, or NULL (stdout of the task's communicator)

  Options Database Key:
. -task_view - views the task at the end of `SATaskSetUp()` (behind the options prefix)

  Level: beginner

.seealso: `SATaskCreate()`, `SATaskSetUp()`
@*/
PetscErrorCode SATaskView(SATask task, PetscViewer viewer)
{
  PetscBool iascii;

  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(PetscObjectComm((PetscObject) task), &viewer));
  PetscValidHeaderSpecific(viewer, PETSC_VIEWER_CLASSID, 2);
  PetscCall(PetscObjectTypeCompare((PetscObject) viewer, PETSCVIEWERASCII, &iascii));
  if (!iascii) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscObjectPrintClassNamePrefixType((PetscObject) task, viewer));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  PetscCall(PetscViewerASCIIPrintf(
    viewer, "noise %g, seeds %" PetscInt64_FMT " (campaign), %" PetscInt64_FMT " (member)%s\n", (double) task->noise,
    task->campaign_seed, task->member_seed, task->setupcalled ? "" : ", not set up"));
  PetscCall(PetscViewerASCIIPrintf(
    viewer, "%" PetscInt_FMT " parameter layers, %" PetscInt_FMT " observables, capability bits %" PetscInt_FMT "\n",
    task->nlayers, task->nobs, task->caps));
  if (task->ops->view) PetscCall((*task->ops->view)(task, viewer));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}
