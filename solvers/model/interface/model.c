/*
  model.c - SAModel interface: registry, dispatch, logging, validation. No algorithm.
*/
#include <stabaudit/private/samodelimpl.h>
#include <stabaudit/sadeck.h>

PetscFunctionList   SAModelList = NULL;
PetscLogEvent       SAMODEL_Forward, SAMODEL_Backward, SAMODEL_HessianMult;
static PetscClassId SAMODEL_CLASSID;
static PetscBool    SAModelRegisterAllCalled = PETSC_FALSE;

/*@C
  SAModelInitializePackage - Registers the SAModel class, its log events and its types

  Not Collective

  Level: developer

.seealso: `SAInitialize()`
@*/
PetscErrorCode SAModelInitializePackage(void)
{
  PetscFunctionBeginUser;
  if (SAModelRegisterAllCalled) PetscFunctionReturn(PETSC_SUCCESS);
  SAModelRegisterAllCalled = PETSC_TRUE;
  PetscCall(PetscRegisterFinalize(SAModelFinalizePackage));
  PetscCall(PetscClassIdRegister("SAModel", &SAMODEL_CLASSID));
  PetscCall(PetscLogEventRegister("SAModelForward", SAMODEL_CLASSID, &SAMODEL_Forward));
  PetscCall(PetscLogEventRegister("SAModelBackward", SAMODEL_CLASSID, &SAMODEL_Backward));
  PetscCall(PetscLogEventRegister("SAModelHessMult", SAMODEL_CLASSID, &SAMODEL_HessianMult));
  PetscCall(SAModelRegister(SAMODELMLP, SAModelCreate_MLP));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelFinalizePackage - Frees the SAModel registry

  Not Collective

  Level: developer

.seealso: `SAModelInitializePackage()`
@*/
PetscErrorCode SAModelFinalizePackage(void)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFunctionListDestroy(&SAModelList));
  SAModelRegisterAllCalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelRegister - Adds a model type

  Not Collective

  Input Parameters:
+ name   - the type name
- create - fills the ops table

  Level: advanced

.seealso: `SAModelSetType()`
@*/
PetscErrorCode SAModelRegister(const char name[], PetscErrorCode (*create)(SAModel))
{
  PetscFunctionBeginUser;
  PetscCall(PetscFunctionListAdd(&SAModelList, name, create));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelCreate - Creates a model on a member's group communicator

  Collective

  Input Parameter:
. comm - the group communicator

  Output Parameter:
. model - the model

  Level: beginner

.seealso: `SAModelSetFromOptions()`, `SAModelDestroy()`
@*/
PetscErrorCode SAModelCreate(MPI_Comm comm, SAModel *model)
{
  PetscFunctionBeginUser;
  PetscCall(SAModelInitializePackage());
  PetscCall(PetscNew(model));
  (*model)->comm = comm;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelSetType - Chooses the architecture

  Collective

  Input Parameters:
+ model - the model
- type  - e.g. `SAMODELMLP`

  Options Database Key:
. -model_type <mlp> - the architecture

  Level: beginner

.seealso: `SAModelSetFromOptions()`
@*/
PetscErrorCode SAModelSetType(SAModel model, SAModelType type)
{
  PetscErrorCode (*create)(SAModel);
  PetscBool match;

  PetscFunctionBeginUser;
  PetscCall(PetscStrcmp(model->type_name, type, &match));
  if (match) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFunctionListFind(SAModelList, type, &create));
  PetscCheck(create, model->comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "Unknown SAModel type: %s", type);
  if (model->ops.destroy) PetscCall((*model->ops.destroy)(model));
  PetscCall(PetscMemzero(&model->ops, sizeof(model->ops)));
  PetscCall(PetscStrncpy(model->type_name, type, sizeof(model->type_name)));
  model->setupcalled = PETSC_FALSE;
  PetscCall((*create)(model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelGetType - Returns the architecture

  Not Collective

  Input Parameter:
. model - the model

  Output Parameter:
. type - the type

  Level: beginner

.seealso: `SAModelSetType()`
@*/
PetscErrorCode SAModelGetType(SAModel model, SAModelType *type)
{
  PetscFunctionBeginUser;
  *type = model->type_name;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelSetFromOptions - Reads the model section of the deck (`model: {type: mlp, hidden: [...], ...}`)

  Collective

  Input Parameter:
. model - the model

  Options Database Keys:
+ -model_type <mlp> - the architecture
- -model_dropout <p> - dropout probability on hidden units, in [0, 0.95]

  Notes:
  The type reads its own keys (docs/workloads.md).

  Level: beginner

.seealso: `SAModelSetType()`
@*/
PetscErrorCode SAModelSetFromOptions(SAModel model)
{
  const char *const types[] = {SAMODELMLP};
  PetscInt          idx     = 0;

  PetscFunctionBeginUser;
  PetscCall(SADeckGetEnum("model_", "type", types, 1, &idx, NULL));
  PetscCall(SAModelSetType(model, types[idx]));
  PetscCall(SADeckGetReal("model_", "dropout", model->dropout, 0.0, 0.95, &model->dropout, NULL));
  if (model->ops.setfromoptions) PetscCall((*model->ops.setfromoptions)(model));
  model->setupcalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelSetUp - Fixes the input and output sizes and the parameter layout

  Collective

  Input Parameters:
+ model - the model
. nin   - input features
- nout  - outputs (classes)

  Level: intermediate

.seealso: `SAModelGetNumParameters()`, `SAModelGetLayers()`
@*/
PetscErrorCode SAModelSetUp(SAModel model, PetscInt nin, PetscInt nout)
{
  PetscFunctionBeginUser;
  PetscCheck(model->ops.setup, model->comm, PETSC_ERR_ORDER, "Call SAModelSetType() or SAModelSetFromOptions() first");
  PetscCheck(nin >= 1 && nout >= 1, model->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "Need nin, nout >= 1, got %" PetscInt_FMT ", %" PetscInt_FMT, nin, nout);
  model->nin  = nin;
  model->nout = nout;
  PetscCall((*model->ops.setup)(model));
  model->setupcalled = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelGetNumParameters - Number of trainable parameters (length of theta)

  Not Collective

  Input Parameter:
. model - the model (set up)

  Output Parameter:
. P - the number

  Level: beginner

.seealso: `SAModelSetUp()`
@*/
PetscErrorCode SAModelGetNumParameters(SAModel model, PetscInt *P)
{
  PetscFunctionBeginUser;
  PetscCheck(model->setupcalled, model->comm, PETSC_ERR_ORDER, "Call SAModelSetUp() first");
  *P = model->P;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelGetLayers - The dense layers: widths and the offsets of each layer's weights and biases in theta

  Not Collective

  Input Parameter:
. model - the model (set up)

  Output Parameters:
+ L    - layers with weights
. w    - widths w[0..L] (owned by the model)
. offW - offW[l-1]: offset of W_l, a (w[l], w[l-1]) row-major block
- offb - offb[l-1]: offset of b_l (w[l] entries)

  Level: intermediate

.seealso: `SAModelSetUp()`
@*/
PetscErrorCode SAModelGetLayers(SAModel model, PetscInt *L, const int **w, const size_t **offW, const size_t **offb)
{
  PetscFunctionBeginUser;
  PetscCheck(model->setupcalled, model->comm, PETSC_ERR_ORDER, "Call SAModelSetUp() first");
  if (L) *L = model->L;
  if (w) *w = model->w;
  if (offW) *offW = model->offW;
  if (offb) *offb = model->offb;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelGetNumHiddenLayers - Hidden layers as configured (available before `SAModelSetUp()`)

  Not Collective

  Input Parameter:
. model - the model (options read)

  Output Parameter:
. n - the number

  Level: intermediate

.seealso: `SAModelGetLayers()`
@*/
PetscErrorCode SAModelGetNumHiddenLayers(SAModel model, PetscInt *n)
{
  PetscFunctionBeginUser;
  *n = model->L - 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelSetDropout - Sets the dropout probability on hidden units

  Logically Collective

  Input Parameters:
+ model - the model
- p     - the probability, in [0, 1)

  Options Database Key:
. -model_dropout <p> - the probability

  Level: intermediate

.seealso: `SAModelGetDropout()`
@*/
PetscErrorCode SAModelSetDropout(SAModel model, PetscReal p)
{
  PetscFunctionBeginUser;
  PetscCheck(p >= 0 && p < 1, model->comm, PETSC_ERR_ARG_OUTOFRANGE, "Dropout probability must be in [0, 1), got %g",
             (double) p);
  model->dropout = p;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelGetDropout - Dropout probability on hidden units

  Not Collective

  Input Parameter:
. model - the model

  Output Parameter:
. p - the probability (0 = no dropout)

  Level: intermediate

.seealso: `SAModelSetFromOptions()`
@*/
PetscErrorCode SAModelGetDropout(SAModel model, PetscReal *p)
{
  PetscFunctionBeginUser;
  *p = model->dropout;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelInitialGuess - Fills theta_0 (on any layout) from an init stream addressed by the global parameter index

  Collective

  Input Parameters:
+ model - the model (set up)
. init  - the member's init stream
- theta - the parameters

  Level: intermediate

.seealso: `SAModelSetUp()`
@*/
PetscErrorCode SAModelInitialGuess(SAModel model, const SAStream *init, Vec theta)
{
  PetscFunctionBeginUser;
  PetscCheck(model->setupcalled, model->comm, PETSC_ERR_ORDER, "Call SAModelSetUp() first");
  PetscCall((*model->ops.initialguess)(model, init, theta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelGetWorkspaceSize - Doubles of kernel workspace needed for B rows

  Not Collective

  Input Parameters:
+ model - the model (set up)
- B     - rows

  Output Parameter:
. n - the size

  Level: developer

.seealso: `SAModelForward()`
@*/
PetscErrorCode SAModelGetWorkspaceSize(SAModel model, PetscInt B, size_t *n)
{
  PetscFunctionBeginUser;
  PetscCall((*model->ops.workspace)(model, B, n));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelForward - Forward pass of B rows on a full copy of theta; keeps its state in ws

  Not Collective

  Input Parameters:
+ model - the model
. ws    - workspace (`SAModelGetWorkspaceSize()`)
. theta - all P parameters
. X     - (B, nin) row-major inputs
. y     - B labels, or NULL (no loss)
. masks - per hidden layer (B, width) dropout factors, or NULL
- B     - rows

  Output Parameter:
. loss - the loss SUMMED over the rows (0 when y is NULL)

  Level: intermediate

.seealso: `SAModelBackward()`, `SAModelHessianMult()`
@*/
PetscErrorCode SAModelForward(SAModel model, PetscReal ws[], const PetscReal theta[], const PetscReal X[],
                              const int y[], const PetscReal *const masks[], PetscInt B, PetscReal *loss)
{
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(SAMODEL_Forward, 0, 0, 0, 0));
  PetscCall((*model->ops.forward)(model, ws, theta, X, y, masks, B, loss));
  PetscCall(PetscLogEventEnd(SAMODEL_Forward, 0, 0, 0, 0));
  PetscCall(PetscLogFlops(2.0 * B * model->P));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelBackward - Adds the gradient of the summed loss of the last forward's rows to grad

  Not Collective

  Input Parameters:
+ model - the model
. ws    - workspace holding the forward state
. theta - the parameters of the forward
. X     - its rows
. y     - their labels
. masks - its dropout masks, or NULL
- B     - rows

  Output Parameter:
. grad - P entries, ACCUMULATED

  Level: intermediate

.seealso: `SAModelForward()`
@*/
PetscErrorCode SAModelBackward(SAModel model, PetscReal ws[], const PetscReal theta[], const PetscReal X[],
                               const int y[], const PetscReal *const masks[], PetscInt B, PetscReal grad[])
{
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(SAMODEL_Backward, 0, 0, 0, 0));
  PetscCall((*model->ops.backward)(model, ws, theta, X, y, masks, B, grad));
  PetscCall(PetscLogEventEnd(SAMODEL_Backward, 0, 0, 0, 0));
  PetscCall(PetscLogFlops(4.0 * B * model->P));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelSetSignalModifier - Changes the output-layer loss gradient of the following backward passes and HVPs

  Not Collective

  Input Parameters:
+ model - the model
. scale - per-row factors of the output gradient (B entries), or NULL
- add   - (B, nout) row-major terms added to it after scaling, or NULL

  Notes:
  Learning-signal perturbations (sign flips, signal noise, label smoothing) use this: the output gradient
  D = dloss/dz of row n becomes scale[n] D + add[n, :] before it is propagated. Backward passes give the gradient of
  that modified chain, and Hessian-vector products its derivative along v: they start from the same modified delta and
  from scale[n] R{D} (add does not depend on the parameters), so an HVP is the exact directional derivative of the
  gradient that `SAModelBackward()` gives under the same modifier. The arrays are borrowed and must cover the rows of
  every backward and HVP until the modifier is cleared with `SAModelSetSignalModifier(model, NULL, NULL)`. Forward
  passes and losses are not affected.

  Level: developer

.seealso: `SAModelBackward()`, `SAModelHessianMult()`
@*/
PetscErrorCode SAModelSetSignalModifier(SAModel model, const PetscReal scale[], const PetscReal add[])
{
  PetscFunctionBeginUser;
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
. X     - the rows
. y     - their labels
. masks - the dropout masks, or NULL
- B     - rows

  Output Parameter:
. Hv - P entries, ACCUMULATED

  Notes:
  With a signal modifier set (`SAModelSetSignalModifier()`), the product is the derivative along v of the modified
  gradient that `SAModelBackward()` gives under the same modifier.

  Level: intermediate

.seealso: `SAModelForward()`, `SAModelSetSignalModifier()`
@*/
PetscErrorCode SAModelHessianMult(SAModel model, PetscReal ws[], const PetscReal theta[], const PetscReal v[],
                                  const PetscReal X[], const int y[], const PetscReal *const masks[], PetscInt B,
                                  PetscReal Hv[])
{
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(SAMODEL_HessianMult, 0, 0, 0, 0));
  PetscCall((*model->ops.hessianmult)(model, ws, theta, v, X, y, masks, B, Hv));
  PetscCall(PetscLogEventEnd(SAMODEL_HessianMult, 0, 0, 0, 0));
  PetscCall(PetscLogFlops(8.0 * B * model->P));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelCorrect - Number of rows of the last forward whose predicted class equals the label

  Not Collective

  Input Parameters:
+ model - the model
. ws    - workspace holding the forward state
. y     - labels
- B     - rows

  Output Parameter:
. n - correct predictions

  Level: intermediate

.seealso: `SAModelForward()`
@*/
PetscErrorCode SAModelCorrect(SAModel model, const PetscReal ws[], const int y[], PetscInt B, PetscInt *n)
{
  PetscFunctionBeginUser;
  PetscCall((*model->ops.correct)(model, ws, y, B, n));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelHiddenActivations - Copies the last hidden layer's activations of the last forward

  Not Collective

  Input Parameters:
+ model - the model
. ws    - workspace holding the forward state
- B     - rows

  Output Parameter:
. out - (B, w[L-1]) row-major

  Level: intermediate

.seealso: `SAModelForward()`
@*/
PetscErrorCode SAModelHiddenActivations(SAModel model, const PetscReal ws[], PetscInt B, PetscReal out[])
{
  PetscFunctionBeginUser;
  PetscCall((*model->ops.hidden)(model, ws, B, out));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelView - Prints the model

  Collective

  Input Parameters:
+ model  - the model
- viewer - an ASCII viewer

  Level: beginner

.seealso: `SAModelCreate()`
@*/
PetscErrorCode SAModelView(SAModel model, PetscViewer viewer)
{
  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, "SAModel %s, %" PetscInt_FMT " parameters, dropout %g\n", model->type_name,
                                   model->P, (double) model->dropout));
  if (model->ops.view) PetscCall((*model->ops.view)(model, viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelDestroy - Destroys a model

  Collective

  Input Parameter:
. model - the model (set to NULL)

  Level: beginner

.seealso: `SAModelCreate()`
@*/
PetscErrorCode SAModelDestroy(SAModel *model)
{
  PetscFunctionBeginUser;
  if (!*model) PetscFunctionReturn(PETSC_SUCCESS);
  if ((*model)->ops.destroy) PetscCall((*(*model)->ops.destroy)(*model));
  PetscCall(PetscFree(*model));
  PetscFunctionReturn(PETSC_SUCCESS);
}
