/*
  saoptimizer.h - SAOptimizer: the update rule of a member, with state sharded like theta.

  The update map: for a frozen gradient g, SAOptimizerUpdate(opt, &h, theta, g) is the map
    (theta, state) -> (theta', state')
  where state is the list of vectors returned by SAOptimizerGetState() (velocity for momentum; adam_m, adam_v for
  adam and adamw; none for sgd), updated in place together with theta. Everything else the rule uses is in the
  SAHyper h of the step (SAOptimizerGetHyper(), then perturbations), including the step index that drives the
  Adam bias correction, so (theta, state, h, g) determines the result and a checkpoint needs no other scalar.
  With h.clip > 0 the map first rescales g in place (global 2-norm clipping).

  Code outside solvers/optimizer asks what a rule offers (SAOptimizerGetCapabilities(): momentum coefficient, beta1,
  eps, state, diagonal preconditioner) and the rule's own answers (SAOptimizerGetStabilityThreshold(),
  SAOptimizerSharpnessRatio(), SAOptimizerGetDiagonalPreconditioner()) instead of comparing type names.
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
#define SAOPTIMIZERADAM     "adam"
#define SAOPTIMIZERADAMW    "adamw"

/*E
  SAOptimizerSchedule - learning-rate schedule applied by `SAOptimizerGetHyper()`

  Values:
+ SA_SCHEDULE_CONSTANT      - lr_t = lr
. SA_SCHEDULE_WARMUP_COSINE - linear warmup over `warmup` steps, then cosine decay to lr * min_lr_ratio at `total_steps`
- SA_SCHEDULE_STEP          - lr_t = lr * gamma^floor(t / every)

  Level: intermediate

.seealso: `SAOptimizerSetSchedule()`, `SAOptimizerSetWarmupCosine()`, `SAOptimizerSetStepDecay()`
E*/
typedef enum { SA_SCHEDULE_CONSTANT = 0, SA_SCHEDULE_WARMUP_COSINE = 1, SA_SCHEDULE_STEP = 2 } SAOptimizerSchedule;
PETSC_EXTERN const char *const SAOptimizerSchedules[];

/*S
  SAHyper - the hyper-parameters in force at one step, after schedules and perturbations

  Notes:
  Filled by `SAOptimizerGetHyper()` (base values, schedule applied to lr), then changed per step by perturbations
  (`SAPerturbApplyOptimizer()`), then passed to `SAOptimizerUpdate()`. Fields an update rule does not use are
  still filled with the optimizer's values (e.g. beta1 for sgd).

  Level: intermediate

.seealso: `SAOptimizerGetHyper()`, `SAOptimizerUpdate()`
S*/
typedef struct {
  PetscReal lr;           /* learning rate of this step (base lr times the schedule factor) */
  PetscReal momentum;     /* momentum coefficient (heavy ball / Nesterov), 0 for sgd, adam and adamw */
  PetscInt  step;         /* optimizer step index t >= 0; adam/adamw bias correction uses t + 1 */
  PetscReal beta1;        /* adam/adamw decay rate of the first moment m, in [0, 1) */
  PetscReal beta2;        /* adam/adamw decay rate of the second moment v, in [0, 1) */
  PetscReal eps;          /* adam/adamw denominator offset, added to sqrt(v_hat), > 0 */
  PetscReal weight_decay; /* L2 coefficient added to the gradient (sgd, momentum, adam); decoupled for adamw; >= 0 */
  PetscReal clip;         /* gradient clipping threshold on the global 2-norm, 0 = no clipping */
} SAHyper;

/*E
  SAOptimizerCapability - what an update rule offers, as bit flags OR-ed together by `SAOptimizerGetCapabilities()`

  Values:
+ SA_OPT_CAP_STATE        - keeps state vectors (`SAOptimizerGetState()` lists at least one after set up):
                            momentum, adam, adamw
. SA_OPT_CAP_MOMENTUM     - uses the momentum coefficient `SAHyper` momentum (heavy ball, Nesterov) and accepts
                            `SAOptimizerSetMomentum()`: momentum only
. SA_OPT_CAP_BETA1        - uses a first-moment decay rate `SAHyper` beta1 (an exponential average of the gradient,
                            the momentum of the Adam family): adam, adamw
. SA_OPT_CAP_EPS          - uses the denominator offset `SAHyper` eps: adam, adamw
- SA_OPT_CAP_DIAG_PRECOND - preconditions the step by a diagonal, `SAOptimizerGetDiagonalPreconditioner()`; its
                            stability threshold applies to the preconditioned sharpness: adam, adamw

  Notes:
  SA_OPT_CAP_MOMENTUM and SA_OPT_CAP_BETA1 are distinct on purpose: both are "momentum" in the wide sense, but they
  live in different `SAHyper` fields with different meanings (mu multiplies the velocity, beta1 averages the
  gradient). A caller that acts on "the momentum of the rule" (the momentum_shift perturbation) tests
  SA_OPT_CAP_MOMENTUM first, then SA_OPT_CAP_BETA1. sgd has no capability.

  Level: intermediate

.seealso: `SAOptimizerGetCapabilities()`
E*/
typedef enum {
  SA_OPT_CAP_STATE        = 1 << 0,
  SA_OPT_CAP_MOMENTUM     = 1 << 1,
  SA_OPT_CAP_BETA1        = 1 << 2,
  SA_OPT_CAP_EPS          = 1 << 3,
  SA_OPT_CAP_DIAG_PRECOND = 1 << 4
} SAOptimizerCapability;

PETSC_EXTERN PetscFunctionList SAOptimizerList;
PETSC_EXTERN PetscClassId      SAOPTIMIZER_CLASSID;

PETSC_EXTERN PetscErrorCode SAOptimizerInitializePackage(void);
PETSC_EXTERN PetscErrorCode SAOptimizerFinalizePackage(void);
PETSC_EXTERN PetscErrorCode SAOptimizerRegister(const char[], PetscErrorCode (*)(SAOptimizer));
PETSC_EXTERN PetscErrorCode SAOptimizerCreate(MPI_Comm, SAOptimizer *);
PETSC_EXTERN PetscErrorCode SAOptimizerSetType(SAOptimizer, SAOptimizerType);
PETSC_EXTERN PetscErrorCode SAOptimizerGetType(SAOptimizer, SAOptimizerType *);
PETSC_EXTERN PetscErrorCode SAOptimizerSetFromOptions(SAOptimizer);
PETSC_EXTERN PetscErrorCode SAOptimizerSetOptionsPrefix(SAOptimizer, const char[]);
PETSC_EXTERN PetscErrorCode SAOptimizerAppendOptionsPrefix(SAOptimizer, const char[]);
PETSC_EXTERN PetscErrorCode SAOptimizerGetOptionsPrefix(SAOptimizer, const char *[]);
PETSC_EXTERN PetscErrorCode SAOptimizerSetLearningRate(SAOptimizer, PetscReal);
PETSC_EXTERN PetscErrorCode SAOptimizerGetLearningRate(SAOptimizer, PetscReal *);
PETSC_EXTERN PetscErrorCode SAOptimizerSetMomentum(SAOptimizer, PetscReal);
PETSC_EXTERN PetscErrorCode SAOptimizerGetMomentum(SAOptimizer, PetscReal *);
PETSC_EXTERN PetscErrorCode SAOptimizerSetWeightDecay(SAOptimizer, PetscReal);
PETSC_EXTERN PetscErrorCode SAOptimizerGetWeightDecay(SAOptimizer, PetscReal *);
PETSC_EXTERN PetscErrorCode SAOptimizerSetClip(SAOptimizer, PetscReal);
PETSC_EXTERN PetscErrorCode SAOptimizerGetClip(SAOptimizer, PetscReal *);
PETSC_EXTERN PetscErrorCode SAOptimizerSetSchedule(SAOptimizer, SAOptimizerSchedule);
PETSC_EXTERN PetscErrorCode SAOptimizerGetSchedule(SAOptimizer, SAOptimizerSchedule *);
PETSC_EXTERN PetscErrorCode SAOptimizerSetWarmupCosine(SAOptimizer, PetscInt, PetscInt, PetscReal);
PETSC_EXTERN PetscErrorCode SAOptimizerGetWarmupCosine(SAOptimizer, PetscInt *, PetscInt *, PetscReal *);
PETSC_EXTERN PetscErrorCode SAOptimizerSetStepDecay(SAOptimizer, PetscInt, PetscReal);
PETSC_EXTERN PetscErrorCode SAOptimizerGetStepDecay(SAOptimizer, PetscInt *, PetscReal *);
PETSC_EXTERN PetscErrorCode SAOptimizerAdamSetBetas(SAOptimizer, PetscReal, PetscReal);
PETSC_EXTERN PetscErrorCode SAOptimizerSetUp(SAOptimizer, Vec);
PETSC_EXTERN PetscErrorCode SAOptimizerGetHyper(SAOptimizer, PetscInt, SAHyper *);
PETSC_EXTERN PetscErrorCode SAOptimizerUpdate(SAOptimizer, const SAHyper *, Vec, Vec);
PETSC_EXTERN PetscErrorCode SAOptimizerUpdateMap(SAOptimizer, const SAHyper *, Vec, Vec[], Vec, Vec, Vec[]);
PETSC_EXTERN PetscErrorCode SAOptimizerUpdateJacobianMult(SAOptimizer, const SAHyper *, Vec, Vec[], Vec, Vec, Vec[],
                                                          Vec, Vec, Vec[]);
PETSC_EXTERN PetscErrorCode SAOptimizerUpdateJacobianMultTranspose(SAOptimizer, const SAHyper *, Vec, Vec[], Vec, Vec,
                                                                   Vec[], Vec, Vec[], Vec);
PETSC_EXTERN PetscErrorCode SAOptimizerGetState(SAOptimizer, PetscInt *, Vec **, const char *const **);
PETSC_EXTERN PetscErrorCode SAOptimizerGetCapabilities(SAOptimizer, PetscInt *);
PETSC_EXTERN PetscErrorCode SAOptimizerGetStabilityThreshold(SAOptimizer, const SAHyper *, PetscReal *);
PETSC_EXTERN PetscErrorCode SAOptimizerSharpnessRatio(SAOptimizer, const SAHyper *, PetscReal, PetscReal *);
PETSC_EXTERN PetscErrorCode SAOptimizerGetDiagonalPreconditioner(SAOptimizer, const SAHyper *, Vec, Vec, Vec);
PETSC_EXTERN PetscErrorCode SAOptimizerReset(SAOptimizer);
PETSC_EXTERN PetscErrorCode SAOptimizerView(SAOptimizer, PetscViewer);
PETSC_EXTERN PetscErrorCode SAOptimizerDestroy(SAOptimizer *);
