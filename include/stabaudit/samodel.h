/*
  samodel.h - SAModel: a network (a PetscObject) with its parameter layout, initialisation and the batch kernels
  (forward, backward, exact Hessian-vector product) on a full copy of theta, applied to a typed batch (SAModelBatch).
*/
#pragma once
#include <stabaudit/sasys.h>
#include <stabaudit/sastream.h>

/*S
  SAModel - a network: one flat theta of P parameters, its initialisation, and forward/backward/HVP kernels on a
  typed batch (`SAModelBatch`). Sums over the samples of the batch: data-parallel callers add the shards and divide
  once.

  Notes:
  A PetscObject (class id `SAMODEL_CLASSID`): reference counted (`PetscObjectReference()`, `SAModelDestroy()`), with
  an options prefix (`SAModelSetOptionsPrefix()`) in front of its deck keys `model_*`, and type-specific functions
  composed on the object (`SAModelMLPGetLayers()`).

  Level: beginner

.seealso: `SAModelCreate()`, `SAModelSetFromOptions()`, `SAModelForward()`, `SAModelBatch`
S*/
typedef struct _p_SAModel *SAModel;
typedef const char        *SAModelType;
#define SAMODELMLP "mlp"

/* hidden layers an mlp may have (-model_hidden) */
#define SAMODELMLP_MAXHIDDEN 16

/*S
  SAModelBatch - the samples a model's kernels work on, tagged with their type

  Fields:
+ type  - what x, y and masks hold (`SAMODELBATCHROWS`, ...); a model type accepts the batch types it knows and
          refuses others with `PETSC_ERR_ARG_WRONG`
. n     - samples (rows, sequences, transitions, ... by type)
. x     - the inputs, laid out as the batch type says
. y     - the targets, or NULL (no loss: the forward pass gives 0)
. masks - dropout factors per layer that drops out, each laid out as the batch type says, or NULL (no dropout)
- extra - further data of the batch type, or NULL

  Batch types:
. `SAMODELBATCHROWS` "rows" - x: (n, nin) row-major `PetscReal` features; y: n `int` class labels in [0, nout), or
  NULL; masks: NULL or one (n, width) row-major `PetscReal` array of factors per hidden layer (the mlp's hidden
  widths, `SAModelMLPGetLayers()`); extra: NULL. Fill it with `SAModelBatchSetRows()`.

  Notes:
  The batch borrows its arrays; nothing is copied. A sub-batch of rows [lo, hi) of a rows batch is the batch of
  n = hi - lo rows starting at row lo of x, y and of each mask.

  Level: intermediate

.seealso: `SAModelForward()`, `SAModelBatchSetRows()`
S*/
typedef struct {
  const char             *type;  /* SAMODELBATCHROWS, ... */
  PetscInt                n;     /* samples */
  const void             *x;     /* inputs */
  const void             *y;     /* targets, or NULL */
  const PetscReal *const *masks; /* per-layer dropout factors, or NULL */
  const void             *extra; /* type-specific, or NULL */
} SAModelBatch;
#define SAMODELBATCHROWS "rows"

PETSC_EXTERN PetscClassId      SAMODEL_CLASSID;
PETSC_EXTERN PetscFunctionList SAModelList;

PETSC_EXTERN PetscErrorCode SAModelInitializePackage(void);
PETSC_EXTERN PetscErrorCode SAModelFinalizePackage(void);
PETSC_EXTERN PetscErrorCode SAModelRegister(const char[], PetscErrorCode (*)(SAModel));
PETSC_EXTERN PetscErrorCode SAModelCreate(MPI_Comm, SAModel *);
PETSC_EXTERN PetscErrorCode SAModelSetType(SAModel, SAModelType);
PETSC_EXTERN PetscErrorCode SAModelGetType(SAModel, SAModelType *);
PETSC_EXTERN PetscErrorCode SAModelSetOptionsPrefix(SAModel, const char[]);
PETSC_EXTERN PetscErrorCode SAModelAppendOptionsPrefix(SAModel, const char[]);
PETSC_EXTERN PetscErrorCode SAModelGetOptionsPrefix(SAModel, const char *[]);
PETSC_EXTERN PetscErrorCode SAModelSetFromOptions(SAModel);
PETSC_EXTERN PetscErrorCode SAModelSetUp(SAModel, PetscInt, PetscInt);
PETSC_EXTERN PetscErrorCode SAModelGetNumParameters(SAModel, PetscInt *);
PETSC_EXTERN PetscErrorCode SAModelSetDropout(SAModel, PetscReal);
PETSC_EXTERN PetscErrorCode SAModelGetDropout(SAModel, PetscReal *);
PETSC_EXTERN PetscErrorCode SAModelInitialGuess(SAModel, const SAStream *, Vec);
PETSC_EXTERN PetscErrorCode SAModelGetWorkspaceSize(SAModel, PetscInt, size_t *);
PETSC_EXTERN PetscErrorCode SAModelBatchSetRows(SAModelBatch *, PetscInt, const PetscReal[], const int[],
                                                const PetscReal *const[]);
PETSC_EXTERN PetscErrorCode SAModelForward(SAModel, PetscReal[], const PetscReal[], const SAModelBatch *, PetscReal *);
PETSC_EXTERN PetscErrorCode SAModelBackward(SAModel, PetscReal[], const PetscReal[], const SAModelBatch *, PetscReal[]);
PETSC_EXTERN PetscErrorCode SAModelSetSignalModifier(SAModel, const PetscReal[], const PetscReal[]);
PETSC_EXTERN PetscErrorCode SAModelHessianMult(SAModel, PetscReal[], const PetscReal[], const PetscReal[],
                                               const SAModelBatch *, PetscReal[]);
PETSC_EXTERN PetscErrorCode SAModelCorrect(SAModel, const PetscReal[], const SAModelBatch *, PetscInt *);
PETSC_EXTERN PetscErrorCode SAModelHiddenActivations(SAModel, const PetscReal[], const SAModelBatch *, PetscReal[]);
PETSC_EXTERN PetscErrorCode SAModelView(SAModel, PetscViewer);
PETSC_EXTERN PetscErrorCode SAModelDestroy(SAModel *);

/* type-specific: SAMODELMLP (composed functions; other types answer PETSC_ERR_SUP) */
PETSC_EXTERN PetscErrorCode SAModelMLPGetLayers(SAModel, PetscInt *, const int **, const size_t **, const size_t **);
PETSC_EXTERN PetscErrorCode SAModelMLPGetNumHiddenLayers(SAModel, PetscInt *);
