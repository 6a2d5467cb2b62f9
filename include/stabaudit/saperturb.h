/*
  saperturb.h - SAPerturb: a structured disturbance injected into a member's training, along one
  of four dimensions, at one hook of the step pipeline.
*/
#pragma once
#include <stabaudit/sasys.h>
#include <stabaudit/sadimension.h>
#include <stabaudit/sastream.h>
#include <stabaudit/sasolver.h>

/*S
  SAPerturb - a controlled perturbation: kind (registered type), dimension, magnitude, onset,
  duration and shape; it acts through hooks of the step pipeline

  Notes:
  A `PetscObject` (`SAPERTURB_CLASSID`): reference counted, its options prefix is its deck block, kinds with
  parameters of their own compose their setters (`SAPerturbWeightKickSetLayer()`, `SAPerturbLayerResetSetLayer()`,
  `SAPerturbPrecisionSetFormat()`), -<block>_perturb_view prints it.

  Level: beginner

.seealso: `SAPerturbCreate()`, `SAPerturbSetFromOptions()`, `SAPerturbApplyParams()`
S*/
typedef struct _p_SAPerturb *SAPerturb;
typedef const char          *SAPerturbType;
#define SAPERTURBLRSCALE    "lr_scale"
#define SAPERTURBLRSPIKE    "lr_spike"
#define SAPERTURBNOISESCALE "noise_scale"
#define SAPERTURBWEIGHTKICK "weight_kick"
#define SAPERTURBLOSSSCALE  "loss_scale"
/* optimization */
#define SAPERTURBMOMENTUMSHIFT  "momentum_shift"
#define SAPERTURBBATCHSCALE     "batch_scale"
#define SAPERTURBOPTIMIZERRESET "optimizer_reset"
#define SAPERTURBADAMEPS        "adam_eps"
/* environment / data */
#define SAPERTURBLABELNOISE     "label_noise"
#define SAPERTURBINPUTNOISE     "input_noise"
#define SAPERTURBCOVARIATESHIFT "covariate_shift"
#define SAPERTURBCLASSIMBALANCE "class_imbalance"
#define SAPERTURBDATAORDER      "data_order"
/* parametric */
#define SAPERTURBLAYERRESET "layer_reset"
#define SAPERTURBPRUNE      "prune"
#define SAPERTURBPRECISION  "precision"
#define SAPERTURBINITSCALE  "init_scale"
/* learning signal */
#define SAPERTURBSIGNALNOISE    "signal_noise"
#define SAPERTURBSIGNALFLIP     "signal_flip"
#define SAPERTURBCLIPOFF        "clip_off"
#define SAPERTURBLABELSMOOTHING "label_smoothing"

/* time envelope of a perturbation inside its window */
typedef enum { SA_SHAPE_STEP = 0, SA_SHAPE_RAMP = 1, SA_SHAPE_EXP = 2 } SAPerturbShape;
PETSC_EXTERN const char *const SAPerturbShapes[];

#define SA_MAX_MAGNITUDES_PER_BLOCK 256
PETSC_EXTERN PetscFunctionList SAPerturbList;
PETSC_EXTERN PetscClassId      SAPERTURB_CLASSID;

PETSC_EXTERN PetscErrorCode SAPerturbInitializePackage(void);
PETSC_EXTERN PetscErrorCode SAPerturbFinalizePackage(void);
PETSC_EXTERN PetscErrorCode SAPerturbRegister(const char[], PetscErrorCode (*)(SAPerturb));
PETSC_EXTERN PetscErrorCode SAPerturbCreate(MPI_Comm, SAPerturb *);
PETSC_EXTERN PetscErrorCode SAPerturbSetType(SAPerturb, SAPerturbType);
PETSC_EXTERN PetscErrorCode SAPerturbGetType(SAPerturb, SAPerturbType *);
PETSC_EXTERN PetscErrorCode SAPerturbSetOptionsPrefix(SAPerturb, const char[]);
PETSC_EXTERN PetscErrorCode SAPerturbAppendOptionsPrefix(SAPerturb, const char[]);
PETSC_EXTERN PetscErrorCode SAPerturbGetOptionsPrefix(SAPerturb, const char *[]);
PETSC_EXTERN PetscErrorCode SAPerturbGetName(SAPerturb, const char **);
PETSC_EXTERN PetscErrorCode SAPerturbSetFromOptions(SAPerturb);
PETSC_EXTERN PetscErrorCode SAPerturbCheckTask(SAPerturb, SATask, SAOptimizer);
PETSC_EXTERN PetscErrorCode SAPerturbGetKinds(PetscInt *, const char ***);
PETSC_EXTERN PetscErrorCode SAPerturbRoundToFormat(PetscReal, PetscInt, PetscInt, PetscInt, PetscReal *);
PETSC_EXTERN PetscErrorCode SAPerturbSetMagnitude(SAPerturb, PetscReal);
PETSC_EXTERN PetscErrorCode SAPerturbGetMagnitude(SAPerturb, PetscReal *);
PETSC_EXTERN PetscErrorCode SAPerturbGetMagnitudes(SAPerturb, PetscInt *, const PetscReal **);
PETSC_EXTERN PetscErrorCode SAPerturbSetWindow(SAPerturb, PetscInt, PetscInt, SAPerturbShape);
PETSC_EXTERN PetscErrorCode SAPerturbGetWindow(SAPerturb, PetscInt *, PetscInt *, SAPerturbShape *);
PETSC_EXTERN PetscErrorCode SAPerturbGetDimension(SAPerturb, SADimension *);
PETSC_EXTERN PetscErrorCode SAPerturbSetSeeds(SAPerturb, PetscInt64, PetscInt64);
PETSC_EXTERN PetscErrorCode SAPerturbGetEnvelope(SAPerturb, PetscInt, PetscReal *);
PETSC_EXTERN PetscErrorCode SAPerturbApplyParams(SAPerturb, PetscInt, Vec);
PETSC_EXTERN PetscErrorCode SAPerturbApplyBatch(SAPerturb, PetscInt, SABatch *);
PETSC_EXTERN PetscErrorCode SAPerturbApplySignal(SAPerturb, PetscInt, Vec);
PETSC_EXTERN PetscErrorCode SAPerturbApplyOptimizer(SAPerturb, PetscInt, SAOptimizer, SAHyper *);
PETSC_EXTERN PetscErrorCode SAPerturbAttach(SAPerturb, SASolver);
PETSC_EXTERN PetscErrorCode SAPerturbView(SAPerturb, PetscViewer);
PETSC_EXTERN PetscErrorCode SAPerturbDestroy(SAPerturb *);

/* setters of the kinds' own parameters (composed functions: on another kind a setter does nothing, a getter fails) */
PETSC_EXTERN PetscErrorCode SAPerturbWeightKickSetLayer(SAPerturb, PetscInt);
PETSC_EXTERN PetscErrorCode SAPerturbWeightKickGetLayer(SAPerturb, PetscInt *);
PETSC_EXTERN PetscErrorCode SAPerturbLayerResetSetLayer(SAPerturb, PetscInt);
PETSC_EXTERN PetscErrorCode SAPerturbLayerResetGetLayer(SAPerturb, PetscInt *);
PETSC_EXTERN PetscErrorCode SAPerturbPrecisionSetFormat(SAPerturb, const char[]);
PETSC_EXTERN PetscErrorCode SAPerturbPrecisionGetFormat(SAPerturb, const char **);
