/*
  classifyimpl.h - private header of SATASKCLASSIFY (solvers/task/impls/classify): the context SATask_Classify and the
  functions shared by its files. classify.c creates, sets up and destroys the task and holds its ops table, its composed
  functions and the public SATaskClassify* functions (which call them); classify_batch.c builds the batch rows of a rank
  (sampling, data perturbations, dropout masks, learning signal); classify_grad.c gathers theta, computes the loss
  gradient, the Hessian-vector product and the micro-batch gradients and reduce-scatters them; classify_eval.c evaluates
  on the test set and computes the observables (norms, gradient noise scale, coherence, representation CKA).
*/
#pragma once
#include <stabaudit/private/sataskimpl.h>
#include <stabaudit/sadeck.h>
#include <stabaudit/sadataset.h>
#include <stabaudit/samodel.h>

#define SA_MLP_MAXL      SAMODELMLP_MAXHIDDEN /* hidden layers of the mlp */
#define SA_CLASSIFY_MAXC 256                  /* classes (per-class work arrays of the perturbations) */

typedef struct {
  PetscInt         set;                      /* index in SAClassifySets */
  char             dir[PETSC_MAX_PATH_LEN];  /* data directory */
  PetscReal        test_fraction;            /* test share of the UCI sets */
  PetscInt         subset;                   /* at most this many training samples (0 = all) */
  PetscInt         batch;                    /* minibatch size, 0 = full batch */
  SAModel          model;                    /* the network (model: section of the deck) */
  PetscReal        dropout;                  /* dropout probability on hidden units */
  int              L;                        /* layers */
  int              w[SA_MLP_MAXL + 2];       /* widths w[0..L] */
  size_t           offW[SA_MLP_MAXL + 1];    /* offW[l-1]: offset of W_l in theta */
  size_t           offb[SA_MLP_MAXL + 1];    /* offb[l-1]: offset of b_l in theta */
  PetscInt         K;                        /* micro-batches for the gradient noise scale and coherence */
  PetscInt         nprobe;                   /* probe samples (first test samples) for representation drift */
  PetscReal       *micro;                    /* K x P micro-batch gradient sums */
  PetscReal       *fwdtheta;                 /* the full theta of the forward state now in ws (HVP reuse) */
  PetscInt         fwdstep;                  /* 0 when ws holds the forward state of fwdbatch, -1 otherwise */
  PetscObjectId    fwdid;                    /* fwdtheta is still to be copied from the Vec of this id (0: no) ... */
  PetscObjectState fwdstate;                 /* ... at this state (SAClassifyGather copies it, lazily) */
  PetscObjectId    fwdoid;                   /* one rank: the forward state in ws is of the theta Vec of this id ... */
  PetscObjectState fwdost;                   /* ... at this state (the HVP reuses it with no copy or comparison) */
  PetscObjectId    gsrc[2];                  /* one rank: full [0], vfull [1] hold this Vec ... */
  PetscObjectState gsrcst[2];                /* ... at this state, */
  PetscObjectId    gdst[2];                  /* and have this id ... */
  PetscObjectState gdstst[2];                /* ... and state (SAClassifyGather then skips the copy) */
  SABatch          fwdbatch;                 /* the batch of that forward state */
  Vec              gnoise;                   /* gradient noise (task_noise > 0), layout of theta */
  PetscReal       *probe0;                   /* (nprobe, width) activations of the probe at theta_0 */
  PetscReal       *probe;                    /* the same at the current theta, and CKA work space */
  SAObservableInfo obs[2 * SA_MLP_MAXL + 8]; /* the observables of this architecture */
  char             obsname[2 * SA_MLP_MAXL + 8][2][96]; /* their names and long names */
  PetscInt         P;                                   /* parameters */
  SADataset       *train, *test;                        /* the cached data */
  Vec              full;                                /* all of theta on every rank (sequential) */
  Vec              vfull;                               /* a gathered direction (HVP) */
  VecScatter       toall;                               /* shard layout -> full copy */
  PetscReal       *gfull;                               /* full-length gradient / Hv of the local rows */
  PetscReal       *ws;                                  /* kernel workspace */
  size_t           wslen;                               /* its length */
  PetscInt         wsrows;                              /* rows it was sized for */
  PetscReal       *Xb;                                  /* the local rows of the batch */
  int             *yb;                                  /* their labels */
  PetscInt        *bidx;                                /* their training-sample indices */
  PetscReal       *maskbuf;                             /* dropout masks of the local rows */
  PetscInt        *perm;                                /* the current epoch permutation */
  PetscInt         permepoch;                           /* its epoch (-1 = none) */
  PetscMPIInt     *counts;                              /* shard sizes for MPI_Reduce_scatter */
  PetscReal        label_smoothing;                     /* label-smoothing epsilon of the loss gradient */
  PetscInt         noise_mode;                          /* 0 isotropic task_noise, 1 scaled to the measured noise */
  PetscInt         k0;                                  /* global batch position of this rank's first row */
  PetscInt64       permkey;                             /* shuffle-stream key of the cached permutation */
  PetscInt        *cls_start;                           /* (C + 1) offsets of each class in cls_idx */
  PetscInt        *cls_idx;                             /* training indices grouped by class */
  PetscReal       *shiftR;                              /* (d, d) covariate-shift matrix, row-major */
  PetscReal       *shiftb;                              /* (d) its offset */
  PetscInt64       shiftkey;                            /* the stream key they were drawn from (0 = none) */
  PetscReal       *sigscale;                            /* (rows) output-gradient factors (signal perturbations) */
  PetscReal       *sigadd;                              /* (rows, C) output-gradient terms */
  PetscBool        sigaddon;                            /* sigadd is in use for the current batch */
  PetscReal       *xtmp;                                /* (d) scratch */
  char             sec[288];                            /* deck section: options prefix + "task_classify_" */
} SATask_Classify;

/* classify.c */
PETSC_INTERN PetscErrorCode SAClassifyReserve_Private(SATask_Classify *, PetscInt);

/* classify_batch.c */
PETSC_INTERN PetscInt       SAClassifyBatchSize_Private(SATask_Classify *, const SABatch *);
PETSC_INTERN PetscErrorCode SAClassifyLocalRows_Private(SATask, const SABatch *, PetscInt *, PetscInt *);
PETSC_INTERN PetscErrorCode SAClassifyBatchRows_Private(SATask, const SABatch *, PetscInt *, PetscInt *);
PETSC_INTERN PetscErrorCode SAClassifySignal_Private(SATask, const SABatch *, PetscInt, PetscBool *);
PETSC_INTERN PetscErrorCode SAClassifyMasks_Private(SATask_Classify *, PetscInt, const double *[]);

/* classify_grad.c */
PETSC_INTERN PetscErrorCode SAClassifyGather_Private(SATask_Classify *, Vec, Vec);
PETSC_INTERN PetscErrorCode SAClassifyMicroGradients_Private(SATask, Vec, const SABatch *, PetscReal *, PetscReal *,
                                                             PetscReal *);
PETSC_INTERN PetscErrorCode SAClassifyLossGradient_Private(SATask, Vec, const SABatch *, PetscReal *, Vec);
PETSC_INTERN PetscErrorCode SAClassifyHessianMult_Private(SATask, Vec, const SABatch *, Vec, Vec);

/* classify_eval.c */
PETSC_INTERN PetscErrorCode SAClassifyEvaluate_Private(SATask, Vec, PetscReal *, PetscReal *);
PETSC_INTERN PetscErrorCode SAClassifyComputeObservables_Private(SATask, Vec, Vec, const SABatch *, PetscReal[]);
