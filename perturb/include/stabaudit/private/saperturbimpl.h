#pragma once
#include <stabaudit/saperturb.h>
/* an SAPerturb is a PetscObject: PETSCHEADER, PetscHeaderCreate/Destroy and PetscTryMethod are declared only in
   PETSc's private header */
#include <petsc/private/petscimpl.h>

/* the hooks of the step pipeline; a kind fills the ones it acts on (amp = envelope * magnitude already folded
   in by the kind from p->magnitude and the envelope it receives) */
struct _SAPerturbOps {
  PetscErrorCode (*setfromoptions)(SAPerturb);                        /* kind-specific keys */
  PetscErrorCode (*checktask)(SAPerturb, SATask, SAOptimizer);        /* rejects workloads it makes no sense for */
  PetscErrorCode (*params)(SAPerturb, PetscInt, PetscReal, Vec);      /* parametric: theta before the step */
  PetscErrorCode (*batch)(SAPerturb, PetscInt, PetscReal, SABatch *); /* environment: batch sampling */
  PetscErrorCode (*signal)(SAPerturb, PetscInt, PetscReal, Vec);      /* learning signal: the loss gradient */
  PetscErrorCode (*optimizer)(SAPerturb, PetscInt, PetscReal, SAOptimizer, SAHyper *); /* optimization */
  PetscErrorCode (*view)(SAPerturb, PetscViewer);
  PetscErrorCode (*destroy)(SAPerturb);
};

/* the PETSc header holds the communicator (PetscObjectComm(): PETSc's duplicate of the member's group communicator),
   the reference count, the options prefix (the block name + "_", e.g. "early_spike_"), the type name (the kind) and
   the composed functions (the kinds' own setters, e.g. "SAPerturbWeightKickSetLayer_C"); ops is the kind's table */
struct _p_SAPerturb {
  PETSCHEADER(struct _SAPerturbOps);
  char           name[128]; /* the block name: the options prefix without its trailing "_" (SAPerturbGetName) */
  SADimension    dimension; /* set by the kind */
  PetscReal      mag_lo;    /* smallest allowed magnitude (set by the kind) */
  PetscReal      mag_hi;    /* largest allowed magnitude (set by the kind) */
  PetscInt       nmag;      /* number of swept magnitudes */
  PetscReal     *mags;      /* the swept magnitudes (deck key 'magnitudes') */
  PetscReal      magnitude; /* the magnitude of this member */
  PetscInt       onset;     /* first perturbed step */
  PetscInt       duration;  /* 1 = one-step pulse, N = window, -1 = persistent */
  SAPerturbShape shape;     /* envelope inside the window */
  PetscReal      tau;       /* decay time of the exp shape, in steps */
  SAStream       rng;       /* stream keyed by (campaign seed, member seed, purpose perturb+name) */
  PetscInt64     pkey;      /* its campaign-side key, handed to tasks in SABatch.pkey */
  SATask         task;      /* the member's task (borrowed, set by SAPerturbCheckTask) */
  SAOptimizer    opt;       /* the member's optimizer (borrowed, set by SAPerturbCheckTask) */
  void          *data;      /* kind context */
};

/* the options prefix of p, "" when none is set: the deck block's keys are read under it and its stream is keyed by it
 */
static inline const char *SAPerturbPrefix(SAPerturb p)
{
  return ((PetscObject) p)->prefix ? ((PetscObject) p)->prefix : "";
}

PETSC_INTERN PetscLogEvent  SAPERTURB_Apply;
PETSC_INTERN PetscErrorCode SAPerturbCreate_LRScale(SAPerturb);
PETSC_INTERN PetscErrorCode SAPerturbCreate_LRSpike(SAPerturb);
PETSC_INTERN PetscErrorCode SAPerturbCreate_NoiseScale(SAPerturb);
PETSC_INTERN PetscErrorCode SAPerturbCreate_WeightKick(SAPerturb);
PETSC_INTERN PetscErrorCode SAPerturbCreate_LossScale(SAPerturb);
PETSC_INTERN PetscErrorCode SAPerturbCreate_MomentumShift(SAPerturb);
PETSC_INTERN PetscErrorCode SAPerturbCreate_BatchScale(SAPerturb);
PETSC_INTERN PetscErrorCode SAPerturbCreate_OptimizerReset(SAPerturb);
PETSC_INTERN PetscErrorCode SAPerturbCreate_AdamEps(SAPerturb);
PETSC_INTERN PetscErrorCode SAPerturbCreate_LabelNoise(SAPerturb);
PETSC_INTERN PetscErrorCode SAPerturbCreate_InputNoise(SAPerturb);
PETSC_INTERN PetscErrorCode SAPerturbCreate_CovariateShift(SAPerturb);
PETSC_INTERN PetscErrorCode SAPerturbCreate_ClassImbalance(SAPerturb);
PETSC_INTERN PetscErrorCode SAPerturbCreate_DataOrder(SAPerturb);
PETSC_INTERN PetscErrorCode SAPerturbCreate_LayerReset(SAPerturb);
PETSC_INTERN PetscErrorCode SAPerturbCreate_Prune(SAPerturb);
PETSC_INTERN PetscErrorCode SAPerturbCreate_Precision(SAPerturb);
PETSC_INTERN PetscErrorCode SAPerturbCreate_InitScale(SAPerturb);
PETSC_INTERN PetscErrorCode SAPerturbCreate_SignalNoise(SAPerturb);
PETSC_INTERN PetscErrorCode SAPerturbCreate_SignalFlip(SAPerturb);
PETSC_INTERN PetscErrorCode SAPerturbCreate_ClipOff(SAPerturb);
PETSC_INTERN PetscErrorCode SAPerturbCreate_LabelSmoothing(SAPerturb);
PETSC_INTERN PetscErrorCode SAPerturbFailKind(SAPerturb, const char[], ...) PETSC_ATTRIBUTE_FORMAT(2, 3);
PETSC_INTERN PetscErrorCode SAPerturbRequireCaps(SAPerturb, SATask, PetscInt, const char[]);
PETSC_INTERN PetscErrorCode SAPerturbRequireOptimizerCaps(SAPerturb, SAOptimizer, PetscInt, const char[]);
