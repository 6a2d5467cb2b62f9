/*
  saoptimizer.h - SAOptimizer: the update rule of a member, with state sharded like theta.
*/
#pragma once
#include <stabaudit/sasys.h>

/*S
  SAOptimizer - an optimizer (update rule and its state vectors, sharded like theta)

  Level: beginner

.seealso: `SAOptimizerCreate()`, `SAOptimizerUpdate()`
S*/
typedef struct _p_SAOptimizer *SAOptimizer;
typedef const char            *SAOptimizerType;
#define SAOPTIMIZERSGD      "sgd"
#define SAOPTIMIZERMOMENTUM "momentum"

/*S
  SAHyper - the hyper-parameters in force at one step, after schedules and perturbations

  Level: intermediate
S*/
typedef struct {
  PetscReal lr;       /* learning rate */
  PetscReal momentum; /* momentum coefficient (heavy ball / Nesterov), 0 for sgd */
} SAHyper;

PETSC_EXTERN PetscFunctionList SAOptimizerList;

PETSC_EXTERN PetscErrorCode SAOptimizerInitializePackage(void);
PETSC_EXTERN PetscErrorCode SAOptimizerFinalizePackage(void);
PETSC_EXTERN PetscErrorCode SAOptimizerRegister(const char[], PetscErrorCode (*)(SAOptimizer));
PETSC_EXTERN PetscErrorCode SAOptimizerCreate(MPI_Comm, SAOptimizer *);
PETSC_EXTERN PetscErrorCode SAOptimizerSetType(SAOptimizer, SAOptimizerType);
PETSC_EXTERN PetscErrorCode SAOptimizerGetType(SAOptimizer, SAOptimizerType *);
PETSC_EXTERN PetscErrorCode SAOptimizerSetFromOptions(SAOptimizer);
PETSC_EXTERN PetscErrorCode SAOptimizerSetLearningRate(SAOptimizer, PetscReal);
PETSC_EXTERN PetscErrorCode SAOptimizerGetLearningRate(SAOptimizer, PetscReal *);
PETSC_EXTERN PetscErrorCode SAOptimizerSetMomentum(SAOptimizer, PetscReal);
PETSC_EXTERN PetscErrorCode SAOptimizerGetMomentum(SAOptimizer, PetscReal *);
PETSC_EXTERN PetscErrorCode SAOptimizerSetUp(SAOptimizer, Vec);
PETSC_EXTERN PetscErrorCode SAOptimizerGetHyper(SAOptimizer, PetscInt, SAHyper *);
PETSC_EXTERN PetscErrorCode SAOptimizerUpdate(SAOptimizer, const SAHyper *, Vec, Vec);
PETSC_EXTERN PetscErrorCode SAOptimizerGetState(SAOptimizer, PetscInt *, Vec **, const char *const **);
PETSC_EXTERN PetscErrorCode SAOptimizerReset(SAOptimizer);
PETSC_EXTERN PetscErrorCode SAOptimizerView(SAOptimizer, PetscViewer);
PETSC_EXTERN PetscErrorCode SAOptimizerDestroy(SAOptimizer *);
