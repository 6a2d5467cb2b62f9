/*
  sasolver.h - SASolver: the step loop of one member, its hooks and monitors, the linearisation of its step (the step
  Jacobian) and its checkpoint.

  Layer: solvers (train). Knows tasks and optimizers; perturbations attach through the hooks and measurements
  (probes, Lyapunov tangents, twin distance) through the monitors, so this header includes neither.
*/
#pragma once
#include <stabaudit/satask.h>
#include <stabaudit/saoptimizer.h>
#include <petscmat.h>

/*S
  SASolver - trains one member: the step pipeline (parameter hooks, batch hooks, loss and gradient, gradient hooks,
  record, divergence check, hyper-parameter hooks, monitors, update) and its record of observables at every recorded
  step

  Level: beginner

.seealso: `SASolverCreate()`, `SASolverStep()`, `SASolverAddHooks()`, `SASolverMonitorSet()`
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

/*S
  SASolverHooks - the hook points of a step, each optional (NULL); a hook acts on step t's quantity in place

  Notes:
  params acts on theta before the step; batch on the step's batch description; gradient on the loss gradient after it
  is computed (it must be a linear, self-adjoint map of the gradient, such as a scale: the step Jacobian applies the
  same hook to the Hessian-vector product, see `SASolverGetStepJacobian()`); hyper on the hyper-parameters (and may
  change the optimizer state) once the step is known not to have diverged.

  Level: intermediate

.seealso: `SASolverAddHooks()`
S*/
typedef struct {
  PetscErrorCode (*params)(SASolver, PetscInt, Vec, void *);
  PetscErrorCode (*batch)(SASolver, PetscInt, SABatch *, void *);
  PetscErrorCode (*gradient)(SASolver, PetscInt, Vec, void *);
  PetscErrorCode (*hyper)(SASolver, PetscInt, SAOptimizer, SAHyper *, void *);
} SASolverHooks;

/*S
  SASolverStepInfo - the state of step t that monitors see: after the hooks, before the update

  Level: intermediate

.seealso: `SASolverMonitorSet()`
S*/
typedef struct {
  PetscInt       step;     /* t */
  PetscInt       nsteps;   /* the member's last step (no update at t = nsteps) */
  PetscBool      diverged; /* the step diverged: the run ends, hyper is NULL, theta and grad may be non-finite */
  Vec            theta;    /* theta_t (read only) */
  Vec            grad;     /* the gradient the update uses (after the gradient hooks; read only) */
  const SABatch *batch;    /* the step's batch (after the batch hooks) */
  const SAHyper *hyper;    /* the hyper-parameters of the update (after the hyper hooks); NULL if diverged */
  PetscReal      loss;     /* the step's loss (the group's rank 0 value) */
  PetscInt       row;      /* recorded row of the step, -1 if the step is not recorded */
  PetscReal     *record;   /* that row of the records (a monitor may fill its own observables), NULL if none */
} SASolverStepInfo;

typedef PetscErrorCode (*SASolverMonitorFn)(SASolver, const SASolverStepInfo *, void *);
typedef PetscErrorCode (*SASolverCtxDestroyFn)(void **);
typedef PetscErrorCode (*SASolverCheckpointFn)(void *, PetscViewer, Vec);

PETSC_EXTERN PetscClassId   SASOLVER_CLASSID;
PETSC_EXTERN PetscErrorCode SASolverInitializePackage(void);
PETSC_EXTERN PetscErrorCode SASolverCreate(MPI_Comm, SASolver *);
PETSC_EXTERN PetscErrorCode SASolverSetOptionsPrefix(SASolver, const char[]);
PETSC_EXTERN PetscErrorCode SASolverAppendOptionsPrefix(SASolver, const char[]);
PETSC_EXTERN PetscErrorCode SASolverGetOptionsPrefix(SASolver, const char *[]);
PETSC_EXTERN PetscErrorCode SASolverView(SASolver, PetscViewer);
PETSC_EXTERN PetscErrorCode SASolverSetTask(SASolver, SATask);
PETSC_EXTERN PetscErrorCode SASolverGetTask(SASolver, SATask *);
PETSC_EXTERN PetscErrorCode SASolverSetOptimizer(SASolver, SAOptimizer);
PETSC_EXTERN PetscErrorCode SASolverGetOptimizer(SASolver, SAOptimizer *);
PETSC_EXTERN PetscErrorCode SASolverSetSteps(SASolver, PetscInt, PetscInt);
PETSC_EXTERN PetscErrorCode SASolverGetSteps(SASolver, PetscInt *, PetscInt *);
PETSC_EXTERN PetscErrorCode SASolverSetExplosionFactor(SASolver, PetscReal);
PETSC_EXTERN PetscErrorCode SASolverAddHooks(SASolver, const SASolverHooks *, void *, SASolverCtxDestroyFn);
PETSC_EXTERN PetscErrorCode SASolverMonitorSet(SASolver, SASolverMonitorFn, void *, SASolverCtxDestroyFn);
PETSC_EXTERN PetscErrorCode SASolverMonitorSetCheckpoint(SASolver, void *, SASolverCheckpointFn, SASolverCheckpointFn);
PETSC_EXTERN PetscErrorCode SASolverMonitorCancel(SASolver);
PETSC_EXTERN PetscErrorCode SASolverSetUp(SASolver);
PETSC_EXTERN PetscErrorCode SASolverStep(SASolver);
PETSC_EXTERN PetscErrorCode SASolverIsDone(SASolver, PetscBool *);
PETSC_EXTERN PetscErrorCode SASolverGetStep(SASolver, PetscInt *);
PETSC_EXTERN PetscErrorCode SASolverGetReason(SASolver, SAConvergedReason *, PetscInt *);
PETSC_EXTERN PetscErrorCode SASolverGetRecords(SASolver, PetscInt *, PetscInt *, PetscReal **);
PETSC_EXTERN PetscErrorCode SASolverGetFinalPerformance(SASolver, PetscReal *);
PETSC_EXTERN PetscErrorCode SASolverGetTheta(SASolver, Vec *);
PETSC_EXTERN PetscErrorCode SASolverSetState(SASolver, PetscInt, SAConvergedReason, PetscInt, const PetscReal[]);
PETSC_EXTERN PetscErrorCode SASolverGetStepJacobian(SASolver, Mat *);
PETSC_EXTERN PetscErrorCode SASolverCreateStepJacobian(SASolver, const SABatch *, Mat *);
PETSC_EXTERN PetscErrorCode SASolverWriteCheckpoint(SASolver, PetscInt, const char[]);
PETSC_EXTERN PetscErrorCode SASolverReadCheckpoint(SASolver, const char[], PetscInt *);
PETSC_EXTERN PetscErrorCode SASolverDestroy(SASolver *);

/* the step Jacobian as an operator (solvers/solver/stepjacobian.c) */
PETSC_EXTERN PetscErrorCode SAStepJacobianCreate(SATask, SAOptimizer, Vec, const SABatch *, PetscInt, Vec, Mat *);
PETSC_EXTERN PetscErrorCode SAStepJacobianSetHyper(Mat, const SAHyper *);
PETSC_EXTERN PetscErrorCode SAStepJacobianGetHyper(Mat, SAHyper *);
PETSC_EXTERN PetscErrorCode SAStepJacobianSetGradientMap(Mat, PetscErrorCode (*)(void *, Vec), void *);
PETSC_EXTERN PetscErrorCode SAStepJacobianGetNumBlocks(Mat, PetscInt *);
PETSC_EXTERN PetscErrorCode SAStepJacobianGetBlock(Mat, Vec, PetscInt, Vec);
PETSC_EXTERN PetscErrorCode SAStepJacobianSetBlock(Mat, Vec, PetscInt, Vec);
PETSC_EXTERN PetscErrorCode SAStepJacobianGetHVPCount(Mat, PetscInt *);

/* checkpoint files (solvers/solver/checkpoint.c) */
#define SA_CHECKPOINT_FORMAT_VERSION 1

/*S
  SACheckpointInfo - scalars and records stored in a checkpoint next to theta and the optimizer state

  Level: developer
S*/
typedef struct {
  PetscInt          member;        /* member id */
  PetscInt          step;          /* the state is theta_step (before step 'step' is taken) */
  SAConvergedReason reason;        /* SA_CONVERGED_ITERATING unless the run already ended */
  PetscInt          diverged_step; /* -1 unless diverged */
  PetscInt          nrec, nobs;    /* size of rec */
  PetscReal        *rec;           /* records so far (nrec x nobs) */
} SACheckpointInfo;

PETSC_EXTERN PetscErrorCode SACheckpointWrite(MPI_Comm, const char[], const SACheckpointInfo *, Vec, PetscInt, Vec[],
                                              const char *const[], PetscInt, void *const[],
                                              const SASolverCheckpointFn[]);
PETSC_EXTERN PetscErrorCode SACheckpointRead(MPI_Comm, const char[], SACheckpointInfo *, Vec, PetscInt, Vec[],
                                             const char *const[], PetscInt, void *const[],
                                             const SASolverCheckpointFn[]);
