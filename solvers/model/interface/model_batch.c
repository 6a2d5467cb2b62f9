/*
  model_batch.c - SAModel's kernels on a typed batch (SAModelBatch): forward, backward with the learning-signal
  modifier, exact Hessian-vector product, accuracy, hidden activations (model.c holds the object and its layout).
*/
#include <stabaudit/private/samodelimpl.h>
#include <stabaudit/sadeck.h>

/*@C
  SAModelBatchSetRows - Describes n rows of features as a batch of type `SAMODELBATCHROWS`

  Not Collective

  Input Parameters:
+ n     - rows
. X     - (n, nin) row-major features
. y     - n class labels, or NULL (no loss)
- masks - one (n, width) row-major array of dropout factors per hidden layer, or NULL

  Output Parameter:
. batch - the batch (it borrows the arrays)

  Level: intermediate

.seealso: `SAModelBatch`, `SAModelForward()`
@*/
PetscErrorCode SAModelBatchSetRows(SAModelBatch *batch, PetscInt n, const PetscReal X[], const int y[],
                                   const PetscReal *const masks[])
{
  PetscFunctionBeginUser;
  PetscAssertPointer(batch, 1);
  batch->type  = SAMODELBATCHROWS;
  batch->n     = n;
  batch->x     = X;
  batch->y     = y;
  batch->masks = masks;
  batch->extra = NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelForward - Forward pass of a batch on a full copy of theta; keeps its state in ws

  Not Collective

  Input Parameters:
+ model - the model
. ws    - workspace (`SAModelGetWorkspaceSize()`, for at least batch->n samples)
. theta - all P parameters
- batch - the samples, of a batch type the model takes (the mlp: `SAMODELBATCHROWS`)

  Output Parameter:
. loss - the loss SUMMED over the samples (0 when batch->y is NULL)

  Level: intermediate

.seealso: `SAModelBackward()`, `SAModelHessianMult()`, `SAModelBatch`
@*/
PetscErrorCode SAModelForward(SAModel model, PetscReal ws[], const PetscReal theta[], const SAModelBatch *batch,
                              PetscReal *loss)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(model, SAMODEL_CLASSID, 1);
  PetscAssertPointer(batch, 4);
  PetscCall(PetscLogEventBegin(SAMODEL_Forward, 0, 0, 0, 0));
  PetscCall((*model->ops->forward)(model, ws, theta, batch, loss));
  PetscCall(PetscLogEventEnd(SAMODEL_Forward, 0, 0, 0, 0));
  PetscCall(PetscLogFlops(2.0 * batch->n * model->P));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelBackward - Adds the gradient of the summed loss of the last forward's samples to grad

  Not Collective

  Input Parameters:
+ model - the model
. ws    - workspace holding the forward state
. theta - the parameters of the forward
- batch - the batch of the forward (with its targets)

  Output Parameter:
. grad - P entries, ACCUMULATED

  Level: intermediate

.seealso: `SAModelForward()`
@*/
PetscErrorCode SAModelBackward(SAModel model, PetscReal ws[], const PetscReal theta[], const SAModelBatch *batch,
                               PetscReal grad[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(model, SAMODEL_CLASSID, 1);
  PetscAssertPointer(batch, 4);
  PetscCall(PetscLogEventBegin(SAMODEL_Backward, 0, 0, 0, 0));
  PetscCall((*model->ops->backward)(model, ws, theta, batch, grad));
  PetscCall(PetscLogEventEnd(SAMODEL_Backward, 0, 0, 0, 0));
  PetscCall(PetscLogFlops(4.0 * batch->n * model->P));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelSetSignalModifier - Changes the output-layer loss gradient of the following backward passes and HVPs

  Not Collective

  Input Parameters:
+ model - the model
. scale - per-sample factors of the output gradient (n entries), or NULL
- add   - (n, nout) row-major terms added to it after scaling, or NULL

  Notes:
  Learning-signal perturbations (sign flips, signal noise, label smoothing) use this: the output gradient
  D = dloss/dz of sample i becomes scale[i] D + add[i, :] before it is propagated. Backward passes give the gradient of
  that modified chain, and Hessian-vector products its derivative along v: they start from the same modified delta and
  from scale[i] R{D} (add does not depend on the parameters), so an HVP is the exact directional derivative of the
  gradient that `SAModelBackward()` gives under the same modifier. The arrays are borrowed and must cover the samples
  of every backward and HVP until the modifier is cleared with `SAModelSetSignalModifier(model, NULL, NULL)`. Forward
  passes and losses are not affected.

  Level: developer

.seealso: `SAModelBackward()`, `SAModelHessianMult()`
@*/
PetscErrorCode SAModelSetSignalModifier(SAModel model, const PetscReal scale[], const PetscReal add[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(model, SAMODEL_CLASSID, 1);
  model->sig_scale = scale;
  model->sig_add   = add;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelHessianMult - Adds the exact Hessian-vector product of the summed loss to Hv, reusing the forward state

  Not Collective

  Input Parameters:
+ model - the model
. ws    - workspace holding the forward state
. theta - the parameters of the forward
. v     - the direction (P entries)
- batch - the batch of the forward (with its targets)

  Output Parameter:
. Hv - P entries, ACCUMULATED

  Notes:
  With a signal modifier set (`SAModelSetSignalModifier()`), the product is the derivative along v of the modified
  gradient that `SAModelBackward()` gives under the same modifier.

  Level: intermediate

.seealso: `SAModelForward()`, `SAModelSetSignalModifier()`
@*/
PetscErrorCode SAModelHessianMult(SAModel model, PetscReal ws[], const PetscReal theta[], const PetscReal v[],
                                  const SAModelBatch *batch, PetscReal Hv[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(model, SAMODEL_CLASSID, 1);
  PetscAssertPointer(batch, 5);
  PetscCall(PetscLogEventBegin(SAMODEL_HessianMult, 0, 0, 0, 0));
  PetscCall((*model->ops->hessianmult)(model, ws, theta, v, batch, Hv));
  PetscCall(PetscLogEventEnd(SAMODEL_HessianMult, 0, 0, 0, 0));
  PetscCall(PetscLogFlops(8.0 * batch->n * model->P));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelCorrect - Number of samples of the last forward whose predicted class equals the target

  Not Collective

  Input Parameters:
+ model - the model
. ws    - workspace holding the forward state
- batch - the batch of the forward, with its targets

  Output Parameter:
. n - correct predictions

  Level: intermediate

.seealso: `SAModelForward()`
@*/
PetscErrorCode SAModelCorrect(SAModel model, const PetscReal ws[], const SAModelBatch *batch, PetscInt *n)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(model, SAMODEL_CLASSID, 1);
  PetscAssertPointer(batch, 3);
  PetscCheck(model->ops->correct, PetscObjectComm((PetscObject) model), PETSC_ERR_SUP,
             "SAModel type %s has no predicted class", ((PetscObject) model)->type_name);
  PetscCall((*model->ops->correct)(model, ws, batch, n));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelHiddenActivations - Copies the last hidden layer's activations of the last forward

  Not Collective

  Input Parameters:
+ model - the model
. ws    - workspace holding the forward state
- batch - the batch of the forward

  Output Parameter:
. out - (batch->n, width) row-major: width is the last hidden width of an mlp

  Level: intermediate

.seealso: `SAModelForward()`
@*/
PetscErrorCode SAModelHiddenActivations(SAModel model, const PetscReal ws[], const SAModelBatch *batch, PetscReal out[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(model, SAMODEL_CLASSID, 1);
  PetscAssertPointer(batch, 3);
  PetscCheck(model->ops->hidden, PetscObjectComm((PetscObject) model), PETSC_ERR_SUP,
             "SAModel type %s has no hidden activations", ((PetscObject) model)->type_name);
  PetscCall((*model->ops->hidden)(model, ws, batch, out));
  PetscFunctionReturn(PETSC_SUCCESS);
}
