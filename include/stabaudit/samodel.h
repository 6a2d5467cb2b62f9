/*
  samodel.h - SAModel: a network architecture with its parameter layout, initialisation and the
  batch kernels (forward, backward, exact Hessian-vector product) on a full copy of theta.
*/
#pragma once
#include <stabaudit/sasys.h>
#include <stabaudit/sastream.h>

/*S
  SAModel - a network: parameter layout (one flat theta, layers as offset views), initialisation,
  and forward/backward/HVP kernels on rows of a batch. Sums over the rows: data-parallel callers
  add the shards and divide once.

  Level: beginner

.seealso: `SAModelCreate()`, `SAModelSetFromOptions()`, `SAModelForward()`
S*/
typedef struct _p_SAModel *SAModel;
typedef const char        *SAModelType;
#define SAMODELMLP "mlp"

PETSC_EXTERN PetscFunctionList SAModelList;

PETSC_EXTERN PetscErrorCode SAModelInitializePackage(void);
PETSC_EXTERN PetscErrorCode SAModelFinalizePackage(void);
PETSC_EXTERN PetscErrorCode SAModelRegister(const char[], PetscErrorCode (*)(SAModel));
PETSC_EXTERN PetscErrorCode SAModelCreate(MPI_Comm, SAModel *);
PETSC_EXTERN PetscErrorCode SAModelSetType(SAModel, SAModelType);
PETSC_EXTERN PetscErrorCode SAModelGetType(SAModel, SAModelType *);
PETSC_EXTERN PetscErrorCode SAModelSetFromOptions(SAModel);
PETSC_EXTERN PetscErrorCode SAModelSetUp(SAModel, PetscInt, PetscInt);
PETSC_EXTERN PetscErrorCode SAModelGetNumParameters(SAModel, PetscInt *);
PETSC_EXTERN PetscErrorCode SAModelGetLayers(SAModel, PetscInt *, const int **, const size_t **, const size_t **);
PETSC_EXTERN PetscErrorCode SAModelGetNumHiddenLayers(SAModel, PetscInt *);
PETSC_EXTERN PetscErrorCode SAModelSetDropout(SAModel, PetscReal);
PETSC_EXTERN PetscErrorCode SAModelGetDropout(SAModel, PetscReal *);
PETSC_EXTERN PetscErrorCode SAModelInitialGuess(SAModel, const SAStream *, Vec);
PETSC_EXTERN PetscErrorCode SAModelGetWorkspaceSize(SAModel, PetscInt, size_t *);
PETSC_EXTERN PetscErrorCode SAModelForward(SAModel, PetscReal[], const PetscReal[], const PetscReal[], const int[],
                                           const PetscReal *const[], PetscInt, PetscReal *);
PETSC_EXTERN PetscErrorCode SAModelBackward(SAModel, PetscReal[], const PetscReal[], const PetscReal[], const int[],
                                            const PetscReal *const[], PetscInt, PetscReal[]);
PETSC_EXTERN PetscErrorCode SAModelSetSignalModifier(SAModel, const PetscReal[], const PetscReal[]);
PETSC_EXTERN PetscErrorCode SAModelHessianMult(SAModel, PetscReal[], const PetscReal[], const PetscReal[],
                                               const PetscReal[], const int[], const PetscReal *const[], PetscInt,
                                               PetscReal[]);
PETSC_EXTERN PetscErrorCode SAModelCorrect(SAModel, const PetscReal[], const int[], PetscInt, PetscInt *);
PETSC_EXTERN PetscErrorCode SAModelHiddenActivations(SAModel, const PetscReal[], PetscInt, PetscReal[]);
PETSC_EXTERN PetscErrorCode SAModelView(SAModel, PetscViewer);
PETSC_EXTERN PetscErrorCode SAModelDestroy(SAModel *);
