/*
  sasolverimpl.h - the SASolver struct (solvers/solver/: solver.c the step loop, hooks.c the hooks, monitors and
  checkpoint, stepjacobian.c the linearised step). SASolver is a full PetscObject (PETSCHEADER first: reference count,
  options prefix, -solver_view); STYLE.md B.2 warns that this ties the code to PETSc's private header
  petsc/private/petscimpl.h: the architecture issue asks for it, and only this layer-private header includes it.
*/
#pragma once
#include <stabaudit/sasolver.h>
#include <petsc/private/petscimpl.h>

#define SA_SOLVER_MAXHOOKS    8
#define SA_SOLVER_MAXMONITORS 8

typedef struct {
  SASolverHooks        hooks;
  void                *ctx;
  SASolverCtxDestroyFn destroy;
} SASolverHookSet;

typedef struct {
  SASolverMonitorFn    fn;
  void                *ctx;
  SASolverCtxDestroyFn destroy;
  SASolverCheckpointFn view, load; /* its part of the checkpoint, NULL: none */
} SASolverMonitorEntry;

/* the solver has one implementation; PETSCHEADER needs an ops table */
struct _SASolverOps {
  PetscErrorCode (*view)(SASolver, PetscViewer);
};

struct _p_SASolver {
  PETSCHEADER(struct _SASolverOps);   /* comm: the member's group communicator */
  SATask               task;          /* the learning problem */
  SAOptimizer          opt;           /* the update rule */
  Vec                  theta;         /* all trainable parameters, sharded over the group */
  Vec                  grad;          /* gradient, layout of theta */
  Vec                  prev;          /* theta before the update (recorded steps only) */
  PetscInt             nsteps;        /* optimizer steps */
  PetscInt             record_every;  /* interval of recorded steps */
  PetscInt             nrec;          /* recorded steps: nsteps / record_every + 1 */
  PetscInt             step;          /* the state is theta_step */
  PetscReal            explode;       /* loss explosion factor */
  PetscReal            loss0;         /* clean loss of theta_0 */
  PetscReal            final_perf;    /* performance at the last step reached */
  SAConvergedReason    reason;        /* iterating, completed or diverged */
  PetscInt             diverged_step; /* step at which training diverged, -1 if not */
  PetscInt             nobs;          /* observables per record: SA_OBS_COUNT common + the task's */
  PetscReal           *rec;           /* records, nrec x nobs, NC_FILL_DOUBLE where not reached */
  PetscBool            setupcalled;   /* SASolverSetUp() done */
  PetscInt             nhooks;        /* hook sets, called in the order added */
  SASolverHookSet      hooks[SA_SOLVER_MAXHOOKS];
  PetscInt             nmon; /* monitors, called in the order set */
  SASolverMonitorEntry mon[SA_SOLVER_MAXMONITORS];
  /* the step in progress, valid while the monitors run (SASolverGetStepJacobian) */
  PetscBool inmonitor;
  PetscBool stepdiverged;
  SABatch   batch;
  SAHyper   hyper;
  Mat       J; /* the step Jacobian of the step in progress, made on first request */
};

PETSC_INTERN PetscErrorCode SASolverApplyGradientHooks_Private(SASolver, PetscInt, Vec);
PETSC_INTERN PetscErrorCode SASolverGradientMap_Private(void *, Vec);
