/*
  satask.h - SATask: the learning problem of a member (loss, gradient, Hessian-vector product,
  evaluation) on its group's parameter layout.
*/
#pragma once
#include <stabaudit/sasys.h>
#include <stabaudit/sastream.h>

/*S
  SATask - a learning problem: data (or an analytic loss), its loss and gradient on a batch,
  Hessian-vector products and an evaluation metric ("performance", higher is better, in [0,1])

  Level: beginner

.seealso: `SATaskCreate()`, `SATaskSetType()`, `SATaskLossGradient()`
S*/
typedef struct _p_SATask *SATask;
typedef const char       *SATaskType;
#define SATASKQUADRATIC "quadratic"
#define SATASKCLASSIFY  "classify"

/*S
  SABatch - the frozen description of the data a step sees; with the member's streams it fully
  determines the sample (minibatch indices, gradient noise), so a batch can be replayed

  Level: intermediate
S*/
typedef struct {
  PetscInt  step;        /* optimizer step this batch belongs to (stream address) */
  PetscReal noise_scale; /* multiplier of the task's own stochasticity (1 = unperturbed) */
} SABatch;

/*S
  SAObservableInfo - name, long_name and units of an observable (its netCDF variable)

  Level: intermediate
S*/
typedef struct {
  const char *name;      /* netCDF variable name */
  const char *long_name; /* CF long_name */
  const char *units;     /* CF units ("1" if dimensionless) */
} SAObservableInfo;

PETSC_EXTERN PetscFunctionList SATaskList;
PETSC_EXTERN PetscClassId      SATASK_CLASSID;

PETSC_EXTERN PetscErrorCode SATaskInitializePackage(void);
PETSC_EXTERN PetscErrorCode SATaskFinalizePackage(void);
PETSC_EXTERN PetscErrorCode SATaskRegister(const char[], PetscErrorCode (*)(SATask));
PETSC_EXTERN PetscErrorCode SATaskCreate(MPI_Comm, SATask *);
PETSC_EXTERN PetscErrorCode SATaskSetType(SATask, SATaskType);
PETSC_EXTERN PetscErrorCode SATaskGetType(SATask, SATaskType *);
PETSC_EXTERN PetscErrorCode SATaskSetFromOptions(SATask);
PETSC_EXTERN PetscErrorCode SATaskSetSeeds(SATask, PetscInt64, PetscInt64);
PETSC_EXTERN PetscErrorCode SATaskSetNoise(SATask, PetscReal);
PETSC_EXTERN PetscErrorCode SATaskGetNoise(SATask, PetscReal *);
PETSC_EXTERN PetscErrorCode SATaskSetUp(SATask);
PETSC_EXTERN PetscErrorCode SATaskCreateParameters(SATask, Vec *);
PETSC_EXTERN PetscErrorCode SATaskInitialGuess(SATask, Vec);
PETSC_EXTERN PetscErrorCode SATaskLossGradient(SATask, Vec, const SABatch *, PetscReal *, Vec);
PETSC_EXTERN PetscErrorCode SATaskHessianMult(SATask, Vec, const SABatch *, Vec, Vec);
PETSC_EXTERN PetscErrorCode SATaskEvaluate(SATask, Vec, PetscReal *, PetscReal *);
PETSC_EXTERN PetscErrorCode SATaskGetObservables(SATask, PetscInt *, const SAObservableInfo **);
PETSC_EXTERN PetscErrorCode SATaskComputeObservables(SATask, Vec, Vec, const SABatch *, PetscReal[]);
PETSC_EXTERN PetscErrorCode SATaskView(SATask, PetscViewer);
PETSC_EXTERN PetscErrorCode SATaskDestroy(SATask *);
PETSC_EXTERN PetscErrorCode SATaskQuadraticGetEigenvalueRange(SATask, PetscReal *, PetscReal *);
