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

  Notes:
  A PetscObject (class id `SATASK_CLASSID`): reference counted (`PetscObjectReference()`, `SATaskDestroy()`), with an
  options prefix in front of its deck section (`SATaskSetOptionsPrefix()`) and viewed with -task_view.

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
  PetscInt step;              /* optimizer step this batch belongs to (stream address) */
  PetscInt probe;             /* 0: the step's minibatch; > 0: a frozen probe batch of that many training samples
                                 drawn from the probe stream (independent of step); -1: the full training set */
  PetscReal  noise_scale;     /* multiplier of the task's own stochasticity (1 = unperturbed) */
  PetscReal  batch_scale;     /* minibatch size factor (1 = unperturbed; the size is rounded, at least 1) */
  PetscInt64 order_key;       /* 0: the member's shuffle stream; else the key of another shuffle stream */
  PetscReal  label_noise;     /* fraction of training labels replaced by a uniformly random other class */
  PetscReal  input_noise;     /* std of Gaussian noise added to the standardised inputs */
  PetscReal  covariate_shift; /* strength of a fixed random affine transform of the inputs */
  PetscReal  imbalance;       /* class-imbalance strength of the sampling weights (0 = uniform) */
  PetscReal  signal_noise;    /* std of Gaussian noise added to the output-layer loss gradient of each sample */
  PetscReal  signal_flip;     /* fraction of samples whose output-layer loss gradient changes sign */
  PetscReal  label_smoothing; /* label-smoothing epsilon of the loss gradient; < 0: the task's own */
  PetscInt64 pkey;            /* stream key of the perturbation that set the fields above (per-sample choices) */
} SABatch;

/* an unperturbed batch description of step t: every field at its neutral value */
#define SA_BATCH(t) \
  ((SABatch){.step = (t), .probe = 0, .noise_scale = 1.0, .batch_scale = 1.0, .label_smoothing = -1.0})

/*S
  SAObservableInfo - name, long_name and units of an observable (its netCDF variable)

  Level: intermediate
S*/
typedef struct {
  const char *name;      /* netCDF variable name */
  const char *long_name; /* CF long_name */
  const char *units;     /* CF units ("1" if dimensionless) */
} SAObservableInfo;

/*E
  SATaskCapability - what a task's data and loss offer to perturbations (bits of `SATaskGetCapabilities()`)

  Level: intermediate
E*/
typedef enum {
  SA_TASK_CAP_NOISE     = 1,  /* its own stochasticity, scaled by SABatch.noise_scale (task noise > 0) */
  SA_TASK_CAP_MINIBATCH = 2,  /* minibatches (batch_scale, order_key, imbalance) */
  SA_TASK_CAP_LABELS    = 4,  /* labelled samples (label_noise, label_smoothing) */
  SA_TASK_CAP_INPUTS    = 8,  /* input features (input_noise, covariate_shift) */
  SA_TASK_CAP_SIGNAL    = 16, /* a per-sample output-layer loss gradient (signal_noise, signal_flip) */
  SA_TASK_CAP_LAYERS    = 32  /* parameters in layers with a random initialisation (SATaskGetLayers) */
} SATaskCapability;

PETSC_EXTERN PetscFunctionList SATaskList;
PETSC_EXTERN PetscClassId      SATASK_CLASSID;

PETSC_EXTERN PetscErrorCode SATaskInitializePackage(void);
PETSC_EXTERN PetscErrorCode SATaskFinalizePackage(void);
PETSC_EXTERN PetscErrorCode SATaskRegister(const char[], PetscErrorCode (*)(SATask));
PETSC_EXTERN PetscErrorCode SATaskCreate(MPI_Comm, SATask *);
PETSC_EXTERN PetscErrorCode SATaskSetType(SATask, SATaskType);
PETSC_EXTERN PetscErrorCode SATaskGetType(SATask, SATaskType *);
PETSC_EXTERN PetscErrorCode SATaskSetOptionsPrefix(SATask, const char[]);
PETSC_EXTERN PetscErrorCode SATaskAppendOptionsPrefix(SATask, const char[]);
PETSC_EXTERN PetscErrorCode SATaskGetOptionsPrefix(SATask, const char *[]);
PETSC_EXTERN PetscErrorCode SATaskSetFromOptions(SATask);
PETSC_EXTERN PetscErrorCode SATaskSetSeeds(SATask, PetscInt64, PetscInt64);
PETSC_EXTERN PetscErrorCode SATaskSetNoise(SATask, PetscReal);
PETSC_EXTERN PetscErrorCode SATaskGetNoise(SATask, PetscReal *);
PETSC_EXTERN PetscErrorCode SATaskSetDropout(SATask, PetscReal);
PETSC_EXTERN PetscErrorCode SATaskSetBatchSize(SATask, PetscInt);
PETSC_EXTERN PetscErrorCode SATaskSetUp(SATask);
PETSC_EXTERN PetscErrorCode SATaskCreateParameters(SATask, Vec *);
PETSC_EXTERN PetscErrorCode SATaskInitialGuess(SATask, Vec);
PETSC_EXTERN PetscErrorCode SATaskLossGradient(SATask, Vec, const SABatch *, PetscReal *, Vec);
PETSC_EXTERN PetscErrorCode SATaskHessianMult(SATask, Vec, const SABatch *, Vec, Vec);
PETSC_EXTERN PetscErrorCode SATaskEvaluate(SATask, Vec, PetscReal *, PetscReal *);
PETSC_EXTERN PetscErrorCode SATaskGetObservables(SATask, PetscInt *, const SAObservableInfo **);
PETSC_EXTERN PetscErrorCode SATaskComputeObservables(SATask, Vec, Vec, const SABatch *, PetscReal[]);
PETSC_EXTERN PetscErrorCode SATaskGetCapabilities(SATask, PetscInt *);
PETSC_EXTERN PetscErrorCode SATaskGetLayers(SATask, PetscInt *, const PetscInt **, const PetscInt **);
PETSC_EXTERN PetscErrorCode SATaskRandomGuess(SATask, const SAStream *, Vec);
PETSC_EXTERN PetscErrorCode SATaskView(SATask, PetscViewer);
PETSC_EXTERN PetscErrorCode SATaskDestroy(SATask *);
PETSC_EXTERN PetscErrorCode SATaskQuadraticGetEigenvalueRange(SATask, PetscReal *, PetscReal *);
PETSC_EXTERN PetscErrorCode SATaskClassifySetBatchSize(SATask, PetscInt);
PETSC_EXTERN PetscErrorCode SATaskClassifySetDropout(SATask, PetscReal);
PETSC_EXTERN PetscErrorCode SATaskClassifyGetBatchRows(SATask, const SABatch *, PetscInt *, PetscInt *, PetscInt *,
                                                       const PetscReal **, const int **);
