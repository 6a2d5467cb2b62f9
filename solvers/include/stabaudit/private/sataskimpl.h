/*
  sataskimpl.h - private struct of SATask (train layer only). SATask is a PetscObject (like KSP and SAModel): its
  struct starts with PETSCHEADER, which needs PETSc's private header petsc/private/petscimpl.h, included here and
  nowhere else in the task. Communicator, type name and options prefix are the object's (PetscObjectComm(),
  ((PetscObject) task)->type_name, PetscObjectGetOptionsPrefix()); type-specific setters are composed functions
  ("SATaskSetDropout_C", "SATaskSetBatchSize_C", "SATaskClassify*_C", "SATaskQuadratic*_C").
*/
#pragma once
#include <petsc/private/petscimpl.h>
#include <stabaudit/satask.h>

struct _SATaskOps {
  PetscErrorCode (*setfromoptions)(SATask);          /* reads <prefix>task_<type>_* (SATaskGetDeckSection_Private) */
  PetscErrorCode (*setup)(SATask);                   /* builds the problem instance */
  PetscErrorCode (*createparameters)(SATask, Vec *); /* theta with the group layout */
  PetscErrorCode (*initialguess)(SATask, Vec);       /* theta_0 of the member */
  PetscErrorCode (*lossgradient)(SATask, Vec, const SABatch *, PetscReal *, Vec); /* loss and gradient on a batch */
  PetscErrorCode (*hessianmult)(SATask, Vec, const SABatch *, Vec, Vec);          /* exact Hessian-vector product */
  PetscErrorCode (*evaluate)(SATask, Vec, PetscReal *, PetscReal *);              /* clean loss and performance */
  PetscErrorCode (*computeobservables)(SATask, Vec, Vec, const SABatch *,
                                       PetscReal[]);            /* the workload's own observables */
  PetscErrorCode (*randomguess)(SATask, const SAStream *, Vec); /* a fresh initialisation from a given stream */
  PetscErrorCode (*view)(SATask, PetscViewer);
  PetscErrorCode (*destroy)(SATask); /* frees data and removes the type's composed functions */
};

struct _p_SATask {
  PETSCHEADER(struct _SATaskOps);
  char                    deckprefix[256]; /* object prefix + "task_": the section of its deck keys */
  PetscInt64              campaign_seed;   /* key of the task stream (problem instance) */
  PetscInt64              member_seed;     /* key of the init and batch streams */
  PetscReal               noise;           /* level of the task's stochasticity (controlled-stochasticity axis) */
  PetscBool               setupcalled;     /* SATaskSetUp() done */
  PetscInt                nobs;            /* number of workload observables (set by the type) */
  const SAObservableInfo *obs;             /* their descriptions (static storage of the type) */
  PetscInt                caps;            /* SATaskCapability bits (set by the type, may depend on its options) */
  PetscInt                nlayers;         /* parameter layers (0 = none) */
  PetscInt                layer_lo[32];    /* first global index of each layer's parameters */
  PetscInt                layer_hi[32];    /* one past its last */
  PetscInt                nclass;          /* classes of a classification task (0 otherwise; after SATaskSetUp) */
  void                   *data;            /* implementation context */
};

PETSC_INTERN PetscLogEvent  SATASK_LossGradient, SATASK_HessianMult, SATASK_Evaluate, SATASK_BatchRows, SATASK_Exchange;
PETSC_INTERN PetscErrorCode SATaskCreate_Quadratic(SATask);
PETSC_INTERN PetscErrorCode SATaskCreate_Classify(SATask);
PETSC_INTERN PetscErrorCode SATaskGetDeckSection_Private(SATask, const char[], char[], size_t);
