#pragma once
#include <stabaudit/saoptimizer.h>

struct _SAOptimizerOps {
  PetscErrorCode (*setfromoptions)(SAOptimizer);
  PetscErrorCode (*setup)(SAOptimizer, Vec);                        /* creates the state vectors like theta */
  PetscErrorCode (*update)(SAOptimizer, const SAHyper *, Vec, Vec); /* theta <- F(theta, grad, state) */
  PetscErrorCode (*reset)(SAOptimizer);                             /* zeroes the state */
  PetscErrorCode (*view)(SAOptimizer, PetscViewer);
  PetscErrorCode (*destroy)(SAOptimizer);
};

struct _p_SAOptimizer {
  MPI_Comm               comm;          /* the member's group communicator */
  char                   type_name[64]; /* registered type */
  struct _SAOptimizerOps ops;           /* the implementation */
  PetscReal              lr;            /* base learning rate */
  PetscReal              momentum;      /* momentum coefficient */
  PetscInt               nstate;        /* number of state vectors */
  Vec                    state[4];      /* state vectors, layout of theta */
  const char            *statenames[4]; /* their names in checkpoints */
  PetscBool              setupcalled;   /* SAOptimizerSetUp() done */
  void                  *data;          /* implementation context */
};

PETSC_INTERN PetscLogEvent  SAOPTIMIZER_Update;
PETSC_INTERN PetscErrorCode SAOptimizerCreate_SGD(SAOptimizer);
PETSC_INTERN PetscErrorCode SAOptimizerCreate_Momentum(SAOptimizer);
