/*
  model.c - SAModel interface: class registration, registry, dispatch, options prefix, logging, validation. No
  algorithm.
*/
#include <stabaudit/private/samodelimpl.h>
#include <stabaudit/sadeck.h>
#include <string.h>

PetscFunctionList SAModelList = NULL;
PetscLogEvent     SAMODEL_Forward, SAMODEL_Backward, SAMODEL_HessianMult;
PetscClassId      SAMODEL_CLASSID;
static PetscBool  SAModelRegisterAllCalled = PETSC_FALSE;

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
- create - fills the ops table (and composes the type's own functions on the object)

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
  SAModel m;

  PetscFunctionBeginUser;
  PetscAssertPointer(model, 2);
  *model = NULL;
  PetscCall(SAModelInitializePackage());
  PetscCall(PetscHeaderCreate(m, SAMODEL_CLASSID, "SAModel", "network", "SAModel", comm, SAModelDestroy, SAModelView));
  PetscCall(PetscStrncpy(m->deckprefix, "model_", sizeof(m->deckprefix)));
  *model = m;
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
  PetscValidHeaderSpecific(model, SAMODEL_CLASSID, 1);
  PetscCall(PetscObjectTypeCompare((PetscObject) model, type, &match));
  if (match) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFunctionListFind(SAModelList, type, &create));
  PetscCheck(create, PetscObjectComm((PetscObject) model), PETSC_ERR_ARG_UNKNOWN_TYPE, "Unknown SAModel type: %s",
             type);
  if (model->ops->destroy) PetscCall((*model->ops->destroy)(model));
  PetscCall(PetscMemzero(model->ops, sizeof(struct _SAModelOps)));
  model->data        = NULL;
  model->setupcalled = PETSC_FALSE;
  PetscCall(PetscObjectChangeTypeName((PetscObject) model, type));
  PetscCall((*create)(model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelGetType - Returns the architecture

  Not Collective

  Input Parameter:
. model - the model

  Output Parameter:
. type - the type (NULL before one is set)

  Level: beginner

.seealso: `SAModelSetType()`
@*/
PetscErrorCode SAModelGetType(SAModel model, SAModelType *type)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(model, SAMODEL_CLASSID, 1);
  PetscAssertPointer(type, 2);
  *type = ((PetscObject) model)->type_name;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelSetOptionsPrefix - Sets the prefix of the model's deck keys and options

  Logically Collective

  Input Parameters:
+ model  - the model
- prefix - the prefix (no leading hyphen), e.g. "critic_", or NULL

  Notes:
  The model reads its deck section `model_*` behind this prefix: with "critic_", `-critic_model_hidden`,
  `-critic_model_type`, ... (deck keys `critic_model_hidden`, ...) and `-critic_model_view`. Call before
  `SAModelSetFromOptions()`.

  Level: intermediate

.seealso: `SAModelAppendOptionsPrefix()`, `SAModelGetOptionsPrefix()`, `SAModelSetFromOptions()`
@*/
PetscErrorCode SAModelSetOptionsPrefix(SAModel model, const char prefix[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(model, SAMODEL_CLASSID, 1);
  PetscCall(PetscObjectSetOptionsPrefix((PetscObject) model, prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelAppendOptionsPrefix - Appends to the prefix of the model's deck keys and options

  Logically Collective

  Input Parameters:
+ model  - the model
- prefix - the text appended (no leading hyphen)

  Level: intermediate

.seealso: `SAModelSetOptionsPrefix()`
@*/
PetscErrorCode SAModelAppendOptionsPrefix(SAModel model, const char prefix[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(model, SAMODEL_CLASSID, 1);
  PetscCall(PetscObjectAppendOptionsPrefix((PetscObject) model, prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelGetOptionsPrefix - Returns the prefix of the model's deck keys and options

  Not Collective

  Input Parameter:
. model - the model

  Output Parameter:
. prefix - the prefix, or NULL when none is set (owned by the model)

  Level: intermediate

.seealso: `SAModelSetOptionsPrefix()`
@*/
PetscErrorCode SAModelGetOptionsPrefix(SAModel model, const char *prefix[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(model, SAMODEL_CLASSID, 1);
  PetscCall(PetscObjectGetOptionsPrefix((PetscObject) model, prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelSetFromOptions - Reads the model section of the deck (`model: {type: mlp, hidden: [...], ...}`)

  Collective

  Input Parameter:
. model - the model

  Options Database Keys:
+ -model_type <mlp> - the architecture
- -model_view - views the model at the end of `SAModelSetUp()`

  Notes:
  The keys are read through the deck getters (sadeck.h) in the section options prefix + "model_": with no prefix,
  `model_type`, `model_hidden`, ...; with the prefix "critic_", `critic_model_type`, ... The type reads its own keys
  (docs/workloads.md): the mlp reads `model_dropout`, `model_hidden`, `model_activation`, `model_loss`, `model_init`,
  `model_init_scale`.

  Level: beginner

.seealso: `SAModelSetType()`, `SAModelSetOptionsPrefix()`
@*/
PetscErrorCode SAModelSetFromOptions(SAModel model)
{
  const char *def, *type, *prefix;

  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(model, SAMODEL_CLASSID, 1);
  PetscCall(PetscObjectGetOptionsPrefix((PetscObject) model, &prefix));
  PetscCall(PetscSNPrintf(model->deckprefix, sizeof(model->deckprefix), "%smodel_", prefix ? prefix : ""));
  def = ((PetscObject) model)->type_name ? ((PetscObject) model)->type_name : SAMODELMLP;
  PetscCall(SADeckGetType(model->deckprefix, SAModelList, def, &type));
  PetscCall(SAModelSetType(model, type));
  if (model->ops->setfromoptions) PetscCall((*model->ops->setfromoptions)(model));
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

  Options Database Key:
. -model_view - views the model (behind the options prefix)

  Level: intermediate

.seealso: `SAModelGetNumParameters()`, `SAModelMLPGetLayers()`
@*/
PetscErrorCode SAModelSetUp(SAModel model, PetscInt nin, PetscInt nout)
{
  MPI_Comm comm;

  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(model, SAMODEL_CLASSID, 1);
  comm = PetscObjectComm((PetscObject) model);
  PetscCheck(model->ops->setup, comm, PETSC_ERR_ORDER, "Call SAModelSetType() or SAModelSetFromOptions() first");
  PetscCheck(nin >= 1 && nout >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "Need nin, nout >= 1, got %" PetscInt_FMT ", %" PetscInt_FMT, nin, nout);
  model->nin  = nin;
  model->nout = nout;
  PetscCall((*model->ops->setup)(model));
  model->setupcalled = PETSC_TRUE;
  PetscCall(PetscObjectViewFromOptions((PetscObject) model, NULL, "-model_view"));
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
  PetscValidHeaderSpecific(model, SAMODEL_CLASSID, 1);
  PetscAssertPointer(P, 2);
  PetscCheck(model->setupcalled, PetscObjectComm((PetscObject) model), PETSC_ERR_ORDER, "Call SAModelSetUp() first");
  *P = model->P;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelSetDropout - Sets the dropout probability of the model's units

  Logically Collective

  Input Parameters:
+ model - the model (type set)
- p     - the probability, in [0, 1)

  Options Database Key:
. -model_dropout <p> - the probability (read by the types that have dropout)

  Notes:
  Generic, because many architectures drop units out (an mlp its hidden units, a transformer its attention and
  residual paths), but not all do: a type implements it by composing "SAModelSetDropout_C" on the object, and a type
  without dropout answers `PETSC_ERR_SUP`. The masks themselves come with the batch (`SAModelBatch`).

  Level: intermediate

.seealso: `SAModelGetDropout()`
@*/
PetscErrorCode SAModelSetDropout(SAModel model, PetscReal p)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(model, SAMODEL_CLASSID, 1);
  PetscCheck(p >= 0 && p < 1, PetscObjectComm((PetscObject) model), PETSC_ERR_ARG_OUTOFRANGE,
             "Dropout probability must be in [0, 1), got %g", (double) p);
  PetscUseMethod(model, "SAModelSetDropout_C", (SAModel, PetscReal), (model, p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelGetDropout - Dropout probability of the model's units

  Not Collective

  Input Parameter:
. model - the model (type set)

  Output Parameter:
. p - the probability (0 = no dropout, also for a type that has none)

  Level: intermediate

.seealso: `SAModelSetDropout()`
@*/
PetscErrorCode SAModelGetDropout(SAModel model, PetscReal *p)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(model, SAMODEL_CLASSID, 1);
  PetscAssertPointer(p, 2);
  *p = 0.0;
  PetscTryMethod(model, "SAModelGetDropout_C", (SAModel, PetscReal *), (model, p));
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
  PetscValidHeaderSpecific(model, SAMODEL_CLASSID, 1);
  PetscCheck(model->setupcalled, PetscObjectComm((PetscObject) model), PETSC_ERR_ORDER, "Call SAModelSetUp() first");
  PetscCall((*model->ops->initialguess)(model, init, theta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelGetWorkspaceSize - Doubles of kernel workspace needed for a batch of n samples

  Not Collective

  Input Parameters:
+ model - the model (set up)
- n     - samples

  Output Parameter:
. size - the size

  Level: developer

.seealso: `SAModelForward()`
@*/
PetscErrorCode SAModelGetWorkspaceSize(SAModel model, PetscInt n, size_t *size)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(model, SAMODEL_CLASSID, 1);
  PetscCall((*model->ops->workspace)(model, n, size));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* for the types: a batch of another type than the one they take is an error naming both */
PetscErrorCode SAModelCheckBatchType_Private(SAModel model, const SAModelBatch *batch, const char type[])
{
  PetscBool match;

  PetscFunctionBeginUser;
  PetscAssertPointer(batch, 2);
  if (batch->type == type) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscStrcmp(batch->type, type, &match));
  PetscCheck(match, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "SAModel type %s takes batches of type %s, not of type %s",
             ((PetscObject) model)->type_name, type, batch->type ? batch->type : "(null)");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelView - Prints the model

  Collective

  Input Parameters:
+ model  - the model
- viewer - an ASCII viewer, or NULL (stdout of the model's communicator)

  Options Database Key:
. -model_view - views the model at the end of `SAModelSetUp()` (behind the options prefix)

  Level: beginner

.seealso: `SAModelCreate()`
@*/
PetscErrorCode SAModelView(SAModel model, PetscViewer viewer)
{
  PetscBool iascii;

  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(model, SAMODEL_CLASSID, 1);
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(PetscObjectComm((PetscObject) model), &viewer));
  PetscCall(PetscObjectTypeCompare((PetscObject) viewer, PETSCVIEWERASCII, &iascii));
  if (!iascii) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscObjectPrintClassNamePrefixType((PetscObject) model, viewer));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  PetscCall(PetscViewerASCIIPrintf(
    viewer, "%" PetscInt_FMT " parameters, %" PetscInt_FMT " inputs, %" PetscInt_FMT " outputs\n", model->P, model->nin,
    model->nout));
  if (model->ops->view) PetscCall((*model->ops->view)(model, viewer));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelDestroy - Drops a reference to a model, and destroys it with the last one

  Collective

  Input Parameter:
. model - the model (set to NULL)

  Level: beginner

.seealso: `SAModelCreate()`, `PetscObjectReference()`
@*/
PetscErrorCode SAModelDestroy(SAModel *model)
{
  PetscFunctionBeginUser;
  if (!*model) PetscFunctionReturn(PETSC_SUCCESS);
  PetscValidHeaderSpecific(*model, SAMODEL_CLASSID, 1);
  if (--((PetscObject) (*model))->refct > 0) {
    *model = NULL;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if ((*model)->ops->destroy) PetscCall((*(*model)->ops->destroy)(*model));
  PetscCall(PetscHeaderDestroy(model));
  PetscFunctionReturn(PETSC_SUCCESS);
}
