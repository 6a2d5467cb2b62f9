/*
  saoptimizerimpl.h - the SAOptimizer struct, a full PetscObject (PETSCHEADER first: reference count, options prefix,
  composed functions such as "SAOptimizerAdamSetBetas_C", -optimizer_view). STYLE.md B.2 warns that a full PetscObject
  ties the code to PETSc's private header petsc/private/petscimpl.h; the architecture issue asks for it, and only this
  layer-private header includes it.
*/
#pragma once
#include <stabaudit/saoptimizer.h>
#include <petsc/private/petscimpl.h>

struct _SAOptimizerOps {
  PetscErrorCode (*setfromoptions)(SAOptimizer);
  PetscErrorCode (*setup)(SAOptimizer, Vec);                        /* creates the state vectors like theta */
  PetscErrorCode (*update)(SAOptimizer, const SAHyper *, Vec, Vec); /* theta <- F(theta, grad, state) */
  PetscErrorCode (*reset)(SAOptimizer);                             /* zeroes the state */
  /* derivatives of the update map at (theta, state, grad) (grad already clipped):
     jvp:  (dtheta, dstate[], dgrad) -> (dtheta', dstate'[])
     vjp:  (wtheta', wstate'[]) -> (wtheta, wstate[], wgrad); outputs never alias inputs */
  PetscErrorCode (*jvp)(SAOptimizer, const SAHyper *, Vec, Vec[], Vec, Vec, Vec[], Vec, Vec, Vec[]);
  PetscErrorCode (*vjp)(SAOptimizer, const SAHyper *, Vec, Vec[], Vec, Vec, Vec[], Vec, Vec[], Vec);
  PetscErrorCode (*view)(SAOptimizer, PetscViewer);
  PetscErrorCode (*destroy)(SAOptimizer);
  /* capability queries (optimizer_caps.c); a NULL entry is a PETSC_ERR_SUP error there */
  PetscErrorCode (*threshold)(SAOptimizer, const SAHyper *, PetscReal *);                 /* sharpness threshold */
  PetscErrorCode (*sharpnessratio)(SAOptimizer, const SAHyper *, PetscReal, PetscReal *); /* sharpness / threshold */
  PetscErrorCode (*diagprecond)(SAOptimizer, const SAHyper *, Vec, Vec, Vec); /* (theta, grad) -> D, the diagonal */
};

struct _p_SAOptimizer {
  PETSCHEADER(struct _SAOptimizerOps); /* comm, type_name, prefix, refct, composed functions; ops: the implementation */
  PetscInt            caps;            /* SAOptimizerCapability flags, set by the type's create function */
  PetscReal           lr;              /* base learning rate */
  PetscReal           momentum;        /* momentum coefficient */
  PetscReal           weight_decay;    /* weight-decay coefficient (L2, or decoupled for adamw), >= 0 */
  PetscReal           clip;            /* global 2-norm gradient clipping threshold, 0 = off */
  PetscReal           beta1;           /* adam/adamw first-moment decay rate */
  PetscReal           beta2;           /* adam/adamw second-moment decay rate */
  PetscReal           eps;             /* adam/adamw denominator offset */
  SAOptimizerSchedule schedule;        /* learning-rate schedule */
  PetscInt            warmup;          /* warmup_cosine: number of linear warmup steps */
  PetscInt            total_steps;     /* warmup_cosine: step at which the decay ends (0 = unset) */
  PetscReal           min_lr_ratio;    /* warmup_cosine: final lr as a fraction of lr, in [0, 1] */
  PetscInt            step_every;      /* step: steps between decays (0 = unset) */
  PetscReal           step_gamma;      /* step: factor applied at each decay */
  PetscInt            nstate;          /* number of state vectors */
  Vec                 state[4];        /* state vectors, layout of theta */
  const char         *statenames[4];   /* their names in checkpoints */
  PetscBool           setupcalled;     /* SAOptimizerSetUp() done */
  void               *data;            /* implementation context */
};

PETSC_INTERN PetscLogEvent  SAOPTIMIZER_Update;
PETSC_INTERN PetscErrorCode SAOptimizerCheckType_Private(SAOptimizer);
/* the deck section of the optimizer: its options prefix followed by sec ("optimizer_", "optimizer_adam_") */
PETSC_INTERN PetscErrorCode SAOptimizerDeckSection_Private(SAOptimizer, const char[], char[], size_t);
PETSC_INTERN PetscErrorCode SAOptimizerCreate_SGD(SAOptimizer);
PETSC_INTERN PetscErrorCode SAOptimizerCreate_Momentum(SAOptimizer);
PETSC_INTERN PetscErrorCode SAOptimizerCreate_Adam(SAOptimizer);
PETSC_INTERN PetscErrorCode SAOptimizerCreate_AdamW(SAOptimizer);
