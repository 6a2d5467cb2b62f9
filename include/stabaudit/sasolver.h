/*
  sasolver.h - SASolver: the step loop of one member (hooks, observables, divergence detection).
*/
#pragma once
#include <stabaudit/satask.h>
#include <stabaudit/saoptimizer.h>
#include <stabaudit/saperturb.h>
#include <stabaudit/saprobe.h>
#include <stabaudit/saanalysis.h>

/*S
  SASolver - trains one member: the step pipeline (parametric hook, batch, loss and gradient,
  learning-signal hook, record, divergence check, optimizer hook and update) and its record of
  observables at every recorded step

  Level: beginner

.seealso: `SASolverCreate()`, `SASolverStep()`, `SASolverGetRecords()`
S*/
typedef struct _p_SASolver *SASolver;

/* the observables every workload records, first in each record row; the task's own follow */
typedef enum {
  SA_OBS_LOSS        = 0,
  SA_OBS_PERFORMANCE = 1,
  SA_OBS_GRAD_NORM   = 2,
  SA_OBS_UPDATE_NORM = 3,
  SA_OBS_THETA_NORM  = 4,
  SA_OBS_LR          = 5,
  SA_OBS_EVAL_LOSS   = 6,
  SA_OBS_EFF_LR      = 7,
  SA_OBS_TWIN_DIST   = 8,
  SA_OBS_COUNT       = 9
} SAObservable;

PETSC_EXTERN const SAObservableInfo SAObservables[];

PETSC_EXTERN PetscErrorCode SASolverInitializePackage(void);
PETSC_EXTERN PetscErrorCode SASolverCreate(MPI_Comm, SASolver *);
PETSC_EXTERN PetscErrorCode SASolverSetTask(SASolver, SATask);
PETSC_EXTERN PetscErrorCode SASolverGetTask(SASolver, SATask *);
PETSC_EXTERN PetscErrorCode SASolverSetOptimizer(SASolver, SAOptimizer);
PETSC_EXTERN PetscErrorCode SASolverGetOptimizer(SASolver, SAOptimizer *);
PETSC_EXTERN PetscErrorCode SASolverSetPerturb(SASolver, SAPerturb);
PETSC_EXTERN PetscErrorCode SASolverSetSteps(SASolver, PetscInt, PetscInt);
PETSC_EXTERN PetscErrorCode SASolverSetExplosionFactor(SASolver, PetscReal);
PETSC_EXTERN PetscErrorCode SASolverSetTwinTrajectory(SASolver, const char[], PetscBool, PetscInt);
PETSC_EXTERN PetscErrorCode SASolverSetUp(SASolver);
PETSC_EXTERN PetscErrorCode SASolverStep(SASolver);
PETSC_EXTERN PetscErrorCode SASolverIsDone(SASolver, PetscBool *);
PETSC_EXTERN PetscErrorCode SASolverGetStep(SASolver, PetscInt *);
PETSC_EXTERN PetscErrorCode SASolverGetReason(SASolver, SAConvergedReason *, PetscInt *);
PETSC_EXTERN PetscErrorCode SASolverGetRecords(SASolver, PetscInt *, PetscInt *, PetscReal **);
PETSC_EXTERN PetscErrorCode SASolverGetObservable(SASolver, PetscInt, const SAObservableInfo **);
PETSC_EXTERN PetscErrorCode SASolverGetFinalPerformance(SASolver, PetscReal *);
PETSC_EXTERN PetscErrorCode SASolverGetTheta(SASolver, Vec *);
PETSC_EXTERN PetscErrorCode SASolverSetState(SASolver, PetscInt, SAConvergedReason, PetscInt, const PetscReal[]);
PETSC_EXTERN PetscErrorCode SASolverSetProbe(SASolver, SAProbe);
PETSC_EXTERN PetscErrorCode SASolverGetProbe(SASolver, SAProbe *);
PETSC_EXTERN PetscErrorCode SASolverSetLyap(SASolver, SALyap);
PETSC_EXTERN PetscErrorCode SASolverGetLyap(SASolver, SALyap *);
PETSC_EXTERN PetscErrorCode SASolverWriteCheckpoint(SASolver, PetscInt, const char[]);
PETSC_EXTERN PetscErrorCode SASolverDestroy(SASolver *);
