/*
  classify.c - SATASKCLASSIFY: supervised classification with a multilayer perceptron on a real
  data set (Fashion-MNIST from Debian, or the UCI sets shipped with scikit-learn).

  Method card
  -----------
  Data: loaded once per process and cached (every member of a campaign shares it); Fashion-MNIST
  has its own test set, the UCI sets are split by a permutation keyed by the campaign seed;
  optional subset; features standardised with the training split's statistics.
  Model: widths d - hidden... - C, activation tanh | relu | gelu on hidden layers, linear logits,
  softmax cross-entropy or MSE on one-hot targets; He or Xavier initialisation times init_scale from
  the member's init stream (addressed by the global parameter index, so theta_0 does not depend on
  the layout); optional dropout on hidden activations with masks from the dropout stream addressed
  by (step, sample position x width + unit).
  Minibatches: sample position g = step * batch + k walks through epoch permutations
  (SAStreamPermutation of the batch stream, epoch = g / ntrain); batch 0 = full batch (gradient
  descent).
  Data parallelism inside the member's group (ZeRO-style): theta is sharded over the group; each
  step gathers the full weights (VecScatterCreateToAll), every rank runs the pure-C kernels
  (solvers/kernels/mlp_kernels.c, BLAS dgemm) on its contiguous share of the batch rows, and the
  summed gradient is reduce-scattered back into the shard layout (MPI_Reduce_scatter); the
  optimizer then updates only the local shard. Loss and gradient are batch means.
  Hessian-vector products: exact, Pearlmutter's R-operator on the same batch (SAModelHessianMult).
  Controlled stochasticity: task_noise > 0 adds isotropic Gaussian noise of that standard deviation
  (times the batch's noise scale) to the gradient, from the batch stream addressed by (step, index).
  Performance: test accuracy in [0, 1] (SATaskEvaluate), the clean loss is the test loss.
*/
#include <stabaudit/private/sataskimpl.h>
#include <stabaudit/sadeck.h>
#include <stabaudit/sadataset.h>
#include <stabaudit/samodel.h>

#define SA_MLP_MAXL      16
#define SA_CLASSIFY_MAXC 256 /* classes (per-class work arrays of the perturbations) */

static const char *const SAClassifySets[] = {"digits", "fashion_mnist", "iris", "wine", "breast_cancer"};

/* the data of a campaign, loaded once per process */
typedef struct {
  char      key[PETSC_MAX_PATH_LEN + 128]; /* what was loaded */
  SADataset train, test;                   /* standardised splits */
  PetscBool loaded;
} SAClassifyCache;
static SAClassifyCache SAClassifyData;

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
} SATask_Classify;

static const char *const SAClassifyNoiseModes[] = {"isotropic", "scaled"};

static PetscErrorCode SATaskSetFromOptions_Classify(SATask task)
{
  SATask_Classify *c = (SATask_Classify *) task->data;

  PetscFunctionBeginUser;
  PetscCall(SADeckGetEnum("task_classify_", "dataset", SAClassifySets, 5, &c->set, NULL));
  PetscCall(SADeckGetString("task_classify_", "data_dir", SA_DEFAULT_DATA_DIR, c->dir, sizeof(c->dir), NULL));
  PetscCall(SADeckGetReal("task_classify_", "test_fraction", c->test_fraction, 0.01, 0.9, &c->test_fraction, NULL));
  PetscCall(SADeckGetInt("task_classify_", "subset", c->subset, 0, PETSC_MAX_INT, &c->subset, NULL));
  PetscCall(SADeckGetInt("task_classify_", "batch", c->batch, 0, 1000000, &c->batch, NULL));
  if (!c->model) PetscCall(SAModelCreate(task->comm, &c->model));
  PetscCall(SAModelSetFromOptions(c->model));
  PetscCall(SAModelGetDropout(c->model, &c->dropout));
  PetscCall(SADeckGetInt("task_classify_", "micro_batches", c->K, 2, 64, &c->K, NULL));
  PetscCall(
    SADeckGetReal("task_classify_", "label_smoothing", c->label_smoothing, 0.0, 0.999, &c->label_smoothing, NULL));
  PetscCall(SADeckGetEnum("task_classify_", "noise_mode", SAClassifyNoiseModes, 2, &c->noise_mode, NULL));
  task->caps = SA_TASK_CAP_LABELS | SA_TASK_CAP_INPUTS | SA_TASK_CAP_SIGNAL | SA_TASK_CAP_LAYERS;
  if (c->batch > 0) task->caps |= SA_TASK_CAP_MINIBATCH;
  if (c->batch && c->batch < c->K)
    PetscCall(SADeckFail("task_classify_micro_batches",
                         "%" PetscInt_FMT
                         " micro-batches need a batch of at least as many samples (batch %" PetscInt_FMT ")",
                         c->K, c->batch));
  {
    PetscInt L, o = 0;

    PetscCall(SAModelGetNumHiddenLayers(c->model, &L));
    L += 1;
    task->nlayers = L;

    for (PetscInt l = 1; l <= L; l++, o++) {
      PetscCall(PetscSNPrintf(c->obsname[o][0], 96, "weight_norm_%" PetscInt_FMT, l));
      PetscCall(PetscSNPrintf(c->obsname[o][1], 96, "2-norm of the weights and biases of layer %" PetscInt_FMT, l));
    }
    for (PetscInt l = 1; l <= L; l++, o++) {
      PetscCall(PetscSNPrintf(c->obsname[o][0], 96, "grad_norm_%" PetscInt_FMT, l));
      PetscCall(PetscSNPrintf(c->obsname[o][1], 96, "2-norm of the loss gradient of layer %" PetscInt_FMT, l));
    }
    PetscCall(PetscStrncpy(c->obsname[o][0], "grad_noise_scale", 96));
    PetscCall(PetscStrncpy(c->obsname[o++][1], "gradient noise scale tr(Sigma)/|G|^2 from micro-batch gradients", 96));
    PetscCall(PetscStrncpy(c->obsname[o][0], "grad_coherence", 96));
    PetscCall(PetscStrncpy(c->obsname[o++][1], "mean cosine between the micro-batch gradients of the step", 96));
    PetscCall(PetscStrncpy(c->obsname[o][0], "rep_cka_init", 96));
    PetscCall(PetscStrncpy(c->obsname[o++][1], "linear CKA of last-hidden-layer probe activations with theta_0", 96));
    for (PetscInt i = 0; i < o; i++) {
      c->obs[i].name      = c->obsname[i][0];
      c->obs[i].long_name = c->obsname[i][1];
      c->obs[i].units     = "1";
    }
    task->nobs = o;
    task->obs  = c->obs;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAClassifyFreeCache(void)
{
  PetscFunctionBeginUser;
  if (SAClassifyData.loaded) {
    PetscCall(SADatasetDestroy(&SAClassifyData.train));
    PetscCall(SADatasetDestroy(&SAClassifyData.test));
  }
  SAClassifyData.loaded = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* loads (or reuses) the campaign's data: the split and subset are keyed by the campaign seed */
static PetscErrorCode SAClassifyLoad(SATask task)
{
  SATask_Classify *c = (SATask_Classify *) task->data;
  char             key[sizeof(SAClassifyData.key)];
  const char      *name       = SAClassifySets[c->set];
  static PetscBool registered = PETSC_FALSE;

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(key, sizeof(key), "%s|%s|%.17g|%" PetscInt_FMT "|%" PetscInt64_FMT, name, c->dir,
                          (double) c->test_fraction, c->subset, task->campaign_seed));
  if (!SAClassifyData.loaded || strcmp(key, SAClassifyData.key)) {
    PetscCall(SAClassifyFreeCache());
    if (!strcmp(name, "fashion_mnist")) {
      PetscCall(SADatasetLoad(name, c->dir, PETSC_FALSE, &SAClassifyData.train));
      PetscCall(SADatasetLoad(name, c->dir, PETSC_TRUE, &SAClassifyData.test));
    } else {
      SADataset all;

      PetscCall(SADatasetLoad(name, c->dir, PETSC_FALSE, &all));
      PetscCall(
        SADatasetSplit(&all, c->test_fraction, task->campaign_seed, &SAClassifyData.train, &SAClassifyData.test));
      PetscCall(SADatasetDestroy(&all));
    }
    if (c->subset > 0) PetscCall(SADatasetSubset(&SAClassifyData.train, c->subset, task->campaign_seed));
    PetscCall(SADatasetStandardize(&SAClassifyData.train, &SAClassifyData.test));
    PetscCall(PetscStrncpy(SAClassifyData.key, key, sizeof(SAClassifyData.key)));
    SAClassifyData.loaded = PETSC_TRUE;
    if (!registered) {
      PetscCall(PetscRegisterFinalize(SAClassifyFreeCache));
      registered = PETSC_TRUE;
    }
  }
  c->train = &SAClassifyData.train;
  c->test  = &SAClassifyData.test;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAClassifyFreeWork(SATask_Classify *c)
{
  PetscFunctionBeginUser;
  PetscCall(VecDestroy(&c->full));
  PetscCall(VecDestroy(&c->vfull));
  PetscCall(VecScatterDestroy(&c->toall));
  PetscCall(PetscFree(c->gfull));
  PetscCall(PetscFree(c->ws));
  PetscCall(PetscFree(c->Xb));
  PetscCall(PetscFree(c->yb));
  PetscCall(PetscFree(c->bidx));
  PetscCall(PetscFree(c->maskbuf));
  PetscCall(PetscFree(c->perm));
  PetscCall(PetscFree(c->counts));
  PetscCall(PetscFree(c->micro));
  PetscCall(PetscFree(c->fwdtheta));
  PetscCall(VecDestroy(&c->gnoise));
  c->fwdstep = -1;
  PetscCall(PetscFree(c->probe0));
  PetscCall(PetscFree(c->probe));
  PetscCall(PetscFree(c->cls_start));
  PetscCall(PetscFree(c->cls_idx));
  PetscCall(PetscFree(c->shiftR));
  PetscCall(PetscFree(c->shiftb));
  PetscCall(PetscFree(c->sigscale));
  PetscCall(PetscFree(c->sigadd));
  PetscCall(PetscFree(c->xtmp));
  c->shiftkey = 0;
  c->wsrows   = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* makes room for nrows local rows */
static PetscErrorCode SAClassifyReserve(SATask_Classify *c, PetscInt nrows)
{
  PetscInt hid = 0;

  PetscFunctionBeginUser;
  if (nrows <= c->wsrows) PetscFunctionReturn(PETSC_SUCCESS);
  c->fwdstep = -1; /* the forward state is lost */
  for (int l = 1; l < c->L; l++) hid += c->w[l];
  PetscCall(PetscFree(c->ws));
  PetscCall(PetscFree(c->Xb));
  PetscCall(PetscFree(c->yb));
  PetscCall(PetscFree(c->bidx));
  PetscCall(PetscFree(c->maskbuf));
  PetscCall(PetscFree(c->sigscale));
  PetscCall(PetscFree(c->sigadd));
  PetscCall(SAModelGetWorkspaceSize(c->model, nrows, &c->wslen));
  PetscCall(PetscMalloc1(nrows, &c->sigscale));
  PetscCall(PetscMalloc1(nrows * c->w[c->L], &c->sigadd));
  PetscCall(PetscMalloc1(c->wslen, &c->ws));
  PetscCall(PetscMalloc1(nrows * c->w[0], &c->Xb));
  PetscCall(PetscMalloc1(nrows, &c->yb));
  PetscCall(PetscMalloc1(nrows, &c->bidx));
  PetscCall(PetscMalloc1(PetscMax(1, nrows * hid), &c->maskbuf));
  c->wsrows = nrows;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SATaskSetUp_Classify(SATask task)
{
  SATask_Classify *c = (SATask_Classify *) task->data;
  PetscMPIInt      size;
  PetscInt         rs, re;
  Vec              tmp;

  PetscFunctionBeginUser;
  PetscCall(SAClassifyFreeWork(c));
  PetscCall(SAClassifyLoad(task));
  PetscCall(SAModelSetUp(c->model, c->train->d, c->train->nclass));
  {
    PetscInt      L;
    const int    *w;
    const size_t *oW, *ob;

    PetscCall(SAModelGetLayers(c->model, &L, &w, &oW, &ob));
    c->L = (int) L;
    for (PetscInt l = 0; l <= L; l++) c->w[l] = w[l];
    for (PetscInt l = 0; l < L; l++) c->offW[l] = oW[l], c->offb[l] = ob[l];
    PetscCall(SAModelGetNumParameters(c->model, &c->P));
    for (PetscInt l = 0; l < L; l++) {
      task->layer_lo[l] = (PetscInt) oW[l];
      task->layer_hi[l] = (PetscInt) ob[l] + w[l + 1];
    }
  }
  task->nclass = c->train->nclass;
  PetscCheck(c->train->nclass <= SA_CLASSIFY_MAXC, task->comm, PETSC_ERR_SUP,
             "%" PetscInt_FMT " classes; at most %d are supported", c->train->nclass, SA_CLASSIFY_MAXC);
  { /* training indices grouped by class (class-imbalance resampling) */
    PetscInt C = c->train->nclass, *fill;

    PetscCall(PetscCalloc1(C + 1, &c->cls_start));
    PetscCall(PetscMalloc1(c->train->n, &c->cls_idx));
    PetscCall(PetscMalloc1(C, &fill));
    for (PetscInt i = 0; i < c->train->n; i++) c->cls_start[c->train->y[i] + 1]++;
    for (PetscInt k = 0; k < C; k++) c->cls_start[k + 1] += c->cls_start[k];
    for (PetscInt k = 0; k < C; k++) fill[k] = c->cls_start[k];
    for (PetscInt i = 0; i < c->train->n; i++) c->cls_idx[fill[c->train->y[i]]++] = i;
    PetscCall(PetscFree(fill));
  }
  PetscCall(PetscMalloc1(c->train->d, &c->xtmp));
  if (c->batch > c->train->n)
    PetscCall(SADeckFail("task_classify_batch",
                         "batch %" PetscInt_FMT " exceeds the %" PetscInt_FMT " training samples", c->batch,
                         c->train->n));
  PetscCall(VecCreateMPI(task->comm, PETSC_DECIDE, c->P, &tmp));
  PetscCall(VecScatterCreateToAll(tmp, &c->toall, &c->full));
  PetscCall(VecDuplicate(c->full, &c->vfull));
  PetscCallMPI(MPI_Comm_size(task->comm, &size));
  PetscCall(PetscMalloc1(size, &c->counts));
  PetscCall(VecGetOwnershipRange(tmp, &rs, &re));
  {
    PetscMPIInt n = (PetscMPIInt) (re - rs);
    PetscCallMPI(MPI_Allgather(&n, 1, MPI_INT, c->counts, 1, MPI_INT, task->comm));
  }
  PetscCall(VecDestroy(&tmp));
  PetscCall(PetscMalloc1(c->P, &c->gfull));
  PetscCall(PetscMalloc1(c->train->n, &c->perm));
  c->permepoch = -1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SATaskCreateParameters_Classify(SATask task, Vec *theta)
{
  SATask_Classify *c = (SATask_Classify *) task->data;

  PetscFunctionBeginUser;
  PetscCall(VecCreateMPI(task->comm, PETSC_DECIDE, c->P, theta));
  PetscCall(PetscObjectSetName((PetscObject) *theta, "theta"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* He: std = scale * sqrt(2 / fan_in); Xavier: std = scale * sqrt(2 / (fan_in + fan_out)); biases 0 */
static PetscErrorCode SATaskInitialGuess_Classify(SATask task, Vec theta)
{
  SATask_Classify *c = (SATask_Classify *) task->data;
  SAStream         is;

  PetscFunctionBeginUser;
  PetscCall(SAStreamCreate(task->campaign_seed, task->member_seed, SA_STREAM_INIT, &is));
  PetscCall(SAModelInitialGuess(c->model, &is, theta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SATaskRandomGuess_Classify(SATask task, const SAStream *s, Vec theta)
{
  SATask_Classify *c = (SATask_Classify *) task->data;

  PetscFunctionBeginUser;
  PetscCall(SAModelInitialGuess(c->model, s, theta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the number of samples of a batch: a probe batch, the full training set, or the (scaled) minibatch */
static PetscInt SAClassifyBatchSize(SATask_Classify *c, const SABatch *batch)
{
  if (batch->probe > 0) return PetscMin(batch->probe, c->train->n);
  if (batch->probe < 0 || !c->batch) return c->train->n;
  return PetscMax(1, (PetscInt) PetscFloorReal(c->batch * batch->batch_scale + 0.5));
}

/* the number of batch rows of this rank and the batch size */
static PetscErrorCode SAClassifyLocalRows(SATask task, const SABatch *batch, PetscInt *nlocal, PetscInt *B)
{
  SATask_Classify *c = (SATask_Classify *) task->data;
  PetscMPIInt      rank, size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(task->comm, &rank));
  PetscCallMPI(MPI_Comm_size(task->comm, &size));
  *B      = SAClassifyBatchSize(c, batch);
  *nlocal = (*B * (rank + 1)) / size - (*B * rank) / size;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* a stream of the perturbation that set the batch's fields, one per use */
static PetscErrorCode SAClassifyPerturbStream(SATask task, const SABatch *batch, PetscInt64 use, SAStream *s)
{
  PetscFunctionBeginUser;
  /* unsigned arithmetic: the key mixes with wrap-around, which signed integers do not define */
  PetscCall(SAStreamCreate((PetscInt64) ((uint64_t) batch->pkey ^ ((uint64_t) use * 0x9E3779B97F4A7C15ULL)),
                           task->member_seed, SA_STREAM_PERTURB, s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the covariate-shift transform x -> x + a (R x + b), R_jl ~ N(0, 1/d), b_j ~ N(0, 1), fixed per (member, block) */
static PetscErrorCode SAClassifyShiftSetUp(SATask task, const SABatch *batch)
{
  SATask_Classify *c = (SATask_Classify *) task->data;
  PetscInt         d = c->train->d;
  SAStream         s;

  PetscFunctionBeginUser;
  if (c->shiftkey == batch->pkey && c->shiftR) PetscFunctionReturn(PETSC_SUCCESS);
  if (!c->shiftR) PetscCall(PetscMalloc1(d * d, &c->shiftR));
  if (!c->shiftb) PetscCall(PetscMalloc1(d, &c->shiftb));
  PetscCall(SAClassifyPerturbStream(task, batch, 3, &s));
  PetscCall(SAStreamNormalArray(&s, 0, 0, d * d, c->shiftR));
  for (PetscInt i = 0; i < d * d; i++) c->shiftR[i] /= PetscSqrtReal((PetscReal) d);
  PetscCall(SAStreamNormalArray(&s, 1, 0, d, c->shiftb));
  c->shiftkey = batch->pkey;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  The batch rows of this rank: global positions [k0, k1) of the batch, copied with labels and masks.
  Sample of position k: a probe batch takes the first B entries of a permutation of the probe stream; the full batch
  takes sample k; a minibatch walks through epoch permutations, g = step * B + k, epoch g / n, of the shuffle stream
  (another one from data_order onsets); with class imbalance a position draws a class c with probability proportional
  to n_c (1 + a)^(-c / (C - 1)), then a uniform sample of that class. Data perturbations then change the copy: label
  noise (fixed per training sample), covariate shift, input noise (fresh per step and position).
*/
static PetscErrorCode SAClassifyBatchRows(SATask task, const SABatch *batch, PetscInt *nlocal, PetscInt *B)
{
  SATask_Classify *c = (SATask_Classify *) task->data;
  PetscMPIInt      rank, size;
  PetscInt         n = c->train->n, d = c->train->d, C = c->train->nclass, k0, k1;
  SAStream         bs, ps, ls, ns;
  PetscReal        wc[SA_CLASSIFY_MAXC];

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(SATASK_BatchRows, 0, 0, 0, 0));
  PetscCallMPI(MPI_Comm_rank(task->comm, &rank));
  PetscCallMPI(MPI_Comm_size(task->comm, &size));
  *B = SAClassifyBatchSize(c, batch);
  k0 = (*B * rank) / size;
  k1 = (*B * (rank + 1)) / size;
  PetscCall(SAClassifyReserve(c, PetscMax(1, k1 - k0)));
  c->k0 = k0;
  if (batch->probe > 0) {
    PetscCall(SAStreamCreate(task->campaign_seed, task->member_seed, SA_STREAM_PROBE, &bs));
    if (c->permepoch != -2) PetscCall(SAStreamPermutation(&bs, 0, n, c->perm));
    c->permepoch = -2; /* the probe permutation */
  } else {
    PetscCall(SAStreamCreate(task->campaign_seed ^ batch->order_key, task->member_seed, SA_STREAM_EPOCH, &bs));
    if (batch->order_key != c->permkey) c->permepoch = -1;
    c->permkey = batch->order_key;
  }
  /* the perturbations' streams and the class weights, once per batch */
  if (batch->imbalance > 0) {
    PetscCall(SAClassifyPerturbStream(task, batch, 5, &ps));
    for (PetscInt q = 0; q < C; q++)
      wc[q] = (c->cls_start[q + 1] - c->cls_start[q]) *
              PetscPowReal(1.0 + batch->imbalance, -(PetscReal) q / PetscMax(1, C - 1));
  }
  if (batch->label_noise > 0) PetscCall(SAClassifyPerturbStream(task, batch, 1, &ls));
  if (batch->input_noise > 0) PetscCall(SAClassifyPerturbStream(task, batch, 2, &ns));
  if (batch->covariate_shift > 0) PetscCall(SAClassifyShiftSetUp(task, batch));
  for (PetscInt k = k0; k < k1; k++) { /* the samples first, then the copies */
    PetscInt i;

    if (batch->probe > 0) i = c->perm[k];
    else if (batch->probe < 0 || !c->batch) i = k;
    else if (batch->imbalance > 0) {
      PetscInt   cls;
      PetscInt64 r;

      PetscCall(SAStreamCategorical(&ps, batch->step, 2 * k, C, wc, &cls));
      PetscCall(SAStreamInteger(&ps, batch->step, 2 * k + 1, c->cls_start[cls], c->cls_start[cls + 1] - 1, &r));
      i = c->cls_idx[r];
    } else {
      PetscInt64 g = (PetscInt64) batch->step * *B + k, e = g / n;

      if (e != c->permepoch) {
        PetscCall(SAStreamPermutation(&bs, e, n, c->perm));
        c->permepoch = (PetscInt) e;
      }
      i = c->perm[g % n];
    }
    c->bidx[k - k0] = i;
  }
  for (PetscInt k = k0; k < k1; k++) {
    const PetscInt i = c->bidx[k - k0];

    PetscCall(SADatasetGetRow(c->train, i, &c->Xb[(k - k0) * d]));
    c->yb[k - k0] = (int) c->train->y[i];
    if (batch->label_noise > 0) { /* fixed per training sample: the same samples are mislabelled at every visit */
      PetscReal u;

      PetscCall(SAStreamUniform(&ls, 0, i, &u));
      if (u < batch->label_noise) {
        PetscInt64 off;

        PetscCall(SAStreamInteger(&ls, 1, i, 1, C - 1, &off));
        c->yb[k - k0] = (int) ((c->train->y[i] + off) % C);
      }
    }
    if (batch->covariate_shift > 0) {
      PetscReal *x = &c->Xb[(k - k0) * d];

      for (PetscInt j = 0; j < d; j++) {
        PetscReal t = c->shiftb[j];
        for (PetscInt l = 0; l < d; l++) t += c->shiftR[j * d + l] * x[l];
        c->xtmp[j] = x[j] + batch->covariate_shift * t;
      }
      PetscCall(PetscArraycpy(x, c->xtmp, d));
    }
    if (batch->input_noise > 0) {
      PetscReal *x = &c->Xb[(k - k0) * d];

      PetscCall(SAStreamNormalArray(&ns, batch->step, (PetscInt64) k * d, d, c->xtmp));
      for (PetscInt j = 0; j < d; j++) x[j] += batch->input_noise * c->xtmp[j];
    }
  }
  if (c->dropout > 0) {
    SAStream   ds;
    PetscReal  keep = 1.0 - c->dropout, *m = c->maskbuf;
    PetscInt64 H = 0, off = 0;

    for (int l = 1; l < c->L; l++) H += c->w[l];
    PetscCall(SAStreamCreate(task->campaign_seed, task->member_seed, SA_STREAM_DROPOUT, &ds));
    for (int l = 1; l < c->L; l++) { /* unit j of layer l for batch position k: index k H + off_l + j */
      for (PetscInt k = k0; k < k1; k++)
        for (int j = 0; j < c->w[l]; j++, m++) {
          PetscBool on;

          PetscCall(SAStreamBernoulli(&ds, batch->step, (PetscInt64) k * H + off + j, keep, &on));
          *m = on ? 1.0 / keep : 0.0;
        }
      off += c->w[l];
    }
  }
  *nlocal = k1 - k0;
  PetscCall(PetscLogEventEnd(SATASK_BatchRows, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  The learning signal of the local rows (after SAClassifyBatchRows): the output-layer loss gradient D of row k becomes
  s_k D + eps (onehot(y_k) - 1/C) + sigma z_k, with s_k = -1 for the flipped samples (a uniform draw of the signal
  stream at (step, k) below the flip fraction), eps the label smoothing in force and z_k ~ N(0, I_C) at (step, k C + c).
  Returns whether any is active (the model's modifier is set then).
*/
static PetscErrorCode SAClassifySignal(SATask task, const SABatch *batch, PetscInt nl, PetscBool *active)
{
  SATask_Classify *c   = (SATask_Classify *) task->data;
  PetscInt         C   = c->w[c->L];
  PetscReal        eps = batch->label_smoothing >= 0 ? batch->label_smoothing : c->label_smoothing;
  SAStream         fs, ns;

  PetscFunctionBeginUser;
  *active     = (PetscBool) (eps > 0 || batch->signal_flip > 0 || batch->signal_noise > 0);
  c->sigaddon = (PetscBool) (eps > 0 || batch->signal_noise > 0); /* flips alone need no added term */
  if (!*active) PetscFunctionReturn(PETSC_SUCCESS);
  if (batch->signal_flip > 0) PetscCall(SAClassifyPerturbStream(task, batch, 6, &fs));
  if (batch->signal_noise > 0) PetscCall(SAClassifyPerturbStream(task, batch, 7, &ns));
  for (PetscInt r = 0; r < nl; r++) {
    PetscInt k = c->k0 + r;

    c->sigscale[r] = 1.0;
    if (batch->signal_flip > 0) {
      PetscReal u;

      PetscCall(SAStreamUniform(&fs, batch->step, k, &u));
      if (u < batch->signal_flip) c->sigscale[r] = -1.0;
    }
    if (!c->sigaddon) continue;
    for (PetscInt q = 0; q < C; q++) c->sigadd[r * C + q] = eps * ((q == c->yb[r] ? 1.0 : 0.0) - 1.0 / C);
    if (batch->signal_noise > 0) {
      PetscReal z[SA_CLASSIFY_MAXC];

      PetscCall(SAStreamNormalArray(&ns, batch->step, (PetscInt64) k * C, C, z));
      for (PetscInt q = 0; q < C; q++) c->sigadd[r * C + q] += batch->signal_noise * z[q];
    }
  }
  PetscCall(SAModelSetSignalModifier(c->model, c->sigscale, c->sigaddon ? c->sigadd : NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAClassifyMasks(SATask_Classify *c, PetscInt nlocal, const double *masks[])
{
  PetscFunctionBeginUser;
  if (c->dropout > 0) {
    const double *m = c->maskbuf;
    for (int l = 1; l < c->L; l++) {
      masks[l - 1] = m;
      m += nlocal * c->w[l];
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Gathers theta (and v) to every rank. It also completes the HVP reuse record of the last gradient lazily: the gradient
  notes only the id and state of its theta Vec (copying P values per step cost 5-10% of a large step), and the copy
  into fwdtheta is made here when that Vec, unchanged, is gathered (SATaskHessianMult gathers theta first). Gathering
  any other Vec, or that Vec after a change, drops the reuse instead (ws is then recomputed when needed).
  On one rank the copy into full is skipped when full already holds that Vec unchanged (same ids and states of both:
  many HVPs at one theta, or a gradient and an HVP in turn, gather the same theta again).
*/
static PetscErrorCode SAClassifyGather(SATask_Classify *c, Vec x, Vec full)
{
  PetscObjectId    id, fid;
  PetscObjectState st, fst;
  PetscMPIInt      size;
  const int        k = full == c->full ? 0 : (full == c->vfull ? 1 : -1);

  PetscFunctionBeginUser;
  PetscCall(PetscObjectGetId((PetscObject) x, &id));
  PetscCall(VecGetState(x, &st));
  PetscCall(PetscObjectGetId((PetscObject) full, &fid));
  PetscCall(VecGetState(full, &fst));
  PetscCallMPI(MPI_Comm_size(PetscObjectComm((PetscObject) x), &size));
  if (size > 1 || k < 0 || c->gsrc[k] != id || c->gsrcst[k] != st || c->gdst[k] != fid || c->gdstst[k] != fst) {
    PetscCall(PetscLogEventBegin(SATASK_Exchange, 0, 0, 0, 0));
    PetscCall(VecScatterBegin(c->toall, x, full, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterEnd(c->toall, x, full, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(PetscLogEventEnd(SATASK_Exchange, 0, 0, 0, 0));
    if (k >= 0) {
      c->gsrc[k]   = id;
      c->gsrcst[k] = st;
      c->gdst[k]   = fid;
      PetscCall(VecGetState(full, &c->gdstst[k]));
    }
  }
  if (c->fwdid) {
    const PetscScalar *f;

    if (id == c->fwdid && st == c->fwdstate && c->fwdstep == 0) {
      if (!c->fwdtheta) PetscCall(PetscMalloc1(c->P, &c->fwdtheta));
      PetscCall(VecGetArrayRead(full, &f));
      PetscCall(PetscArraycpy(c->fwdtheta, f, c->P));
      PetscCall(VecRestoreArrayRead(full, &f));
    } else c->fwdstep = -1;
    c->fwdid = 0;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* sums the local full-length gfull over the group into the shard layout of out, divided by B (B = 1: not scaled) */
static PetscErrorCode SAClassifyReduceScatter(SATask task, PetscInt B, Vec out)
{
  SATask_Classify *c = (SATask_Classify *) task->data;
  PetscScalar     *a;
  PetscMPIInt      size;
  PetscInt         n;
  const PetscReal  s = 1.0 / B;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(task->comm, &size));
  PetscCall(VecGetLocalSize(out, &n));
  PetscCall(VecGetArray(out, &a));
  if (size > 1) {
    PetscCall(PetscLogEventBegin(SATASK_Exchange, 0, 0, 0, 0));
    PetscCallMPI(MPI_Reduce_scatter(c->gfull, a, c->counts, MPIU_REAL, MPI_SUM, task->comm));
    PetscCall(PetscLogEventEnd(SATASK_Exchange, 0, 0, 0, 0));
    if (B != 1)
      for (PetscInt i = 0; i < n; i++) a[i] *= s;
  } else if (B != 1) { /* one rank: copy and scale in one pass */
    for (PetscInt i = 0; i < n; i++) a[i] = s * c->gfull[i];
  } else PetscCall(PetscArraycpy(a, c->gfull, n));
  PetscCall(VecRestoreArray(out, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  The K micro-batch mean gradients of the step's batch (global positions [B j / K, B (j+1) / K)) in c->micro (K x P,
  summed over the group), and from them: G2 = |G|^2 of their mean, S = sum_j |g_j - G|^2 / (K - 1) (the trace of the
  sample covariance of a micro-batch mean) and the mean pairwise cosine (coherence). Overwrites ws and c->full (theta).
*/
static PetscErrorCode SAClassifyMicroGradients(SATask task, Vec theta, const SABatch *batch, PetscReal *G2out,
                                               PetscReal *Sout, PetscReal *cohout)
{
  SATask_Classify   *c = (SATask_Classify *) task->data;
  PetscInt           L = c->L, K = c->K, P = c->P, nl, B, k0;
  const PetscScalar *t;
  const double      *masks[SA_MLP_MAXL] = {NULL};
  PetscMPIInt        rank, size;

  PetscFunctionBeginUser;
  PetscCall(SAClassifyGather(c, theta, c->full));
  c->fwdstep = -1; /* ws is overwritten below */
  PetscCall(SAClassifyBatchRows(task, batch, &nl, &B));
  PetscCall(SAClassifyMasks(c, nl, masks));
  PetscCallMPI(MPI_Comm_rank(task->comm, &rank));
  PetscCallMPI(MPI_Comm_size(task->comm, &size));
  k0 = (B * rank) / size;
  if (!c->micro) PetscCall(PetscMalloc1(K * P, &c->micro));
  PetscCall(PetscArrayzero(c->micro, K * P));
  PetscCall(VecGetArrayRead(c->full, &t));
  for (PetscInt j = 0; j < K; j++) {
    PetscInt lo = PetscMax((B * j) / K, k0) - k0, hi = PetscMin((B * (j + 1)) / K, k0 + nl) - k0;

    if (hi > lo) {
      const double *sub[SA_MLP_MAXL] = {NULL};
      PetscReal     l;

      for (PetscInt q = 1; q < L; q++) sub[q - 1] = masks[q - 1] ? masks[q - 1] + lo * c->w[q] : NULL;
      PetscCall(
        SAModelForward(c->model, c->ws, t, &c->Xb[lo * c->w[0]], &c->yb[lo], c->dropout > 0 ? sub : NULL, hi - lo, &l));
      PetscCall(SAModelBackward(c->model, c->ws, t, &c->Xb[lo * c->w[0]], &c->yb[lo], c->dropout > 0 ? sub : NULL,
                                hi - lo, &c->micro[j * P]));
    }
  }
  PetscCall(VecRestoreArrayRead(c->full, &t));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, c->micro, (PetscMPIInt) (K * P), MPIU_REAL, MPI_SUM, task->comm));
  {
    PetscReal G2 = 0, S = 0, coh = 0, nrm[64];
    PetscInt  npairs = 0;

    for (PetscInt j = 0; j < K; j++) {
      PetscReal bj = (PetscReal) ((B * (j + 1)) / K - (B * j) / K);
      for (PetscInt i = 0; i < P; i++) c->micro[j * P + i] /= bj;
    }
    for (PetscInt i = 0; i < P; i++) {
      PetscReal Gi = 0;
      for (PetscInt j = 0; j < K; j++) Gi += c->micro[j * P + i];
      Gi /= K;
      G2 += Gi * Gi;
      for (PetscInt j = 0; j < K; j++) S += (c->micro[j * P + i] - Gi) * (c->micro[j * P + i] - Gi);
    }
    S /= (K - 1);
    for (PetscInt j = 0; j < K; j++) {
      nrm[j] = 0;
      for (PetscInt i = 0; i < P; i++) nrm[j] += c->micro[j * P + i] * c->micro[j * P + i];
      nrm[j] = PetscSqrtReal(nrm[j]);
    }
    for (PetscInt j = 0; j < K; j++)
      for (PetscInt m = j + 1; m < K; m++) {
        PetscReal d = 0;
        for (PetscInt i = 0; i < P; i++) d += c->micro[j * P + i] * c->micro[m * P + i];
        coh += (nrm[j] > 0 && nrm[m] > 0) ? d / (nrm[j] * nrm[m]) : 0.0;
        npairs++;
      }
    if (G2out) *G2out = G2;
    if (Sout) *Sout = S;
    if (cohout) *cohout = coh / npairs;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  The batch mean 1/B is applied to the output-layer gradient D through the model's signal modifier (scale[n] = 1/B, or
  the learning-signal factors and terms of SAClassifySignal times 1/B): the backward pass is linear in D, so the
  gradient comes out as a mean with no pass over P values (exact, so bitwise the same as scaling afterwards, when B is
  a power of two).
*/
static PetscErrorCode SAClassifyMeanSignal(SATask_Classify *c, PetscInt nl, PetscInt B, PetscBool sig)
{
  const PetscReal s = 1.0 / B;

  PetscFunctionBeginUser;
  if (sig) {
    for (PetscInt i = 0; i < nl; i++) c->sigscale[i] *= s;
    if (c->sigaddon)
      for (PetscInt i = 0; i < nl * c->w[c->L]; i++) c->sigadd[i] *= s;
  } else {
    for (PetscInt i = 0; i < nl; i++) c->sigscale[i] = s;
    PetscCall(SAModelSetSignalModifier(c->model, c->sigscale, NULL));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SATaskLossGradient_Classify(SATask task, Vec theta, const SABatch *batch, PetscReal *loss,
                                                  Vec grad)
{
  SATask_Classify   *c = (SATask_Classify *) task->data;
  PetscInt           nl, B;
  const double      *masks[SA_MLP_MAXL] = {NULL};
  const PetscScalar *t;
  PetscScalar       *gout;
  PetscReal          lsum = 0;
  PetscMPIInt        size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(task->comm, &size));
  /* a group of one rank works on theta and grad directly: no gather, no reduce-scatter copy (same values) */
  if (size > 1) PetscCall(SAClassifyGather(c, theta, c->full));
  PetscCall(SAClassifyBatchRows(task, batch, &nl, &B));
  PetscCall(SAClassifyMasks(c, nl, masks));
  PetscCall(VecGetArrayRead(size > 1 ? c->full : theta, &t));
  if (size > 1) gout = c->gfull;
  else PetscCall(VecGetArray(grad, &gout));
  PetscCall(PetscArrayzero(gout, c->P));
  if (nl > 0) {
    PetscBool sig;

    PetscCall(SAModelForward(c->model, c->ws, t, c->Xb, c->yb, c->dropout > 0 ? masks : NULL, nl, &lsum));
    PetscCall(SAClassifySignal(task, batch, nl, &sig));
    PetscCall(SAClassifyMeanSignal(c, nl, B, sig));
    PetscCall(SAModelBackward(c->model, c->ws, t, c->Xb, c->yb, c->dropout > 0 ? masks : NULL, nl, gout));
    PetscCall(SAModelSetSignalModifier(c->model, NULL, NULL));
  }
  PetscCall(VecRestoreArrayRead(size > 1 ? c->full : theta, &t));
  /* ws holds the forward state of (batch, theta): on several ranks fwdtheta is filled lazily by SAClassifyGather; one
     rank records the Vec's id and state only (theta is not copied, SATaskHessianMult_Classify compares them) */
  c->fwdstep  = 0;
  c->fwdbatch = *batch;
  if (size > 1) {
    PetscCall(PetscObjectGetId((PetscObject) theta, &c->fwdid));
    PetscCall(VecGetState(theta, &c->fwdstate));
  } else {
    PetscCall(PetscObjectGetId((PetscObject) theta, &c->fwdoid));
    PetscCall(VecGetState(theta, &c->fwdost));
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &lsum, 1, MPIU_REAL, MPI_SUM, task->comm));
  *loss = lsum / B;
  if (size > 1) PetscCall(SAClassifyReduceScatter(task, 1, grad)); /* already a mean */
  else PetscCall(VecRestoreArray(grad, &gout));
  if (task->noise * batch->noise_scale != 0.0 && !batch->probe) { /* controlled stochasticity: gradient noise */
    SAStream  ns;
    PetscReal sigma = task->noise * batch->noise_scale;

    if (c->noise_mode == 1) { /* scaled to the measured noise: sigma sqrt(tr(Sigma_B) / P), Sigma_B = cov of the batch
                                 mean gradient, estimated as S / K from the micro-batches */
      PetscReal S;

      PetscCall(SAClassifyMicroGradients(task, theta, batch, NULL, &S, NULL));
      sigma *= PetscSqrtReal(S / (c->K * c->P));
    }
    if (!c->gnoise) PetscCall(VecDuplicate(grad, &c->gnoise));
    PetscCall(SAStreamCreate(task->campaign_seed, task->member_seed, SA_STREAM_BATCH, &ns));
    PetscCall(SAStreamVecNormal(&ns, batch->step, c->gnoise));
    PetscCall(VecAXPY(grad, sigma, c->gnoise));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  One rank: works on the arrays of theta, v and Hv directly, like the gradient (no gather of theta and v, no full-length
  product to zero and copy). The forward state in ws is reused when it is of the same batch and of the theta Vec of the
  same id and state (recorded by the gradient or by the forward below): no copy or comparison of P values. Hv is zeroed,
  accumulated into and scaled by 1/B in place (the same products as SAClassifyReduceScatter's copy, so the same bits).
*/
static PetscErrorCode SAClassifyHessianMultOne(SATask task, Vec theta, const SABatch *batch, Vec v, Vec Hv)
{
  SATask_Classify   *c  = (SATask_Classify *) task->data;
  PetscInt           nl = 0, B = 1;
  const double      *masks[SA_MLP_MAXL] = {NULL};
  const PetscScalar *t, *vv;
  PetscScalar       *h;
  PetscObjectId      id;
  PetscObjectState   st;
  PetscBool          reuse;

  PetscFunctionBeginUser;
  PetscCheck(Hv != theta && Hv != v, task->comm, PETSC_ERR_ARG_IDN, "Hv must differ from theta and v");
  PetscCall(PetscObjectGetId((PetscObject) theta, &id));
  PetscCall(VecGetState(theta, &st));
  reuse = (PetscBool) (c->fwdstep == 0 && !memcmp(&c->fwdbatch, batch, sizeof(SABatch)) && id == c->fwdoid &&
                       st == c->fwdost);
  if (reuse) PetscCall(SAClassifyLocalRows(task, batch, &nl, &B));
  else PetscCall(SAClassifyBatchRows(task, batch, &nl, &B));
  PetscCall(SAClassifyMasks(c, nl, masks));
  PetscCall(VecGetArrayRead(theta, &t));
  PetscCall(VecGetArrayRead(v, &vv));
  PetscCall(VecGetArray(Hv, &h));
  PetscCall(PetscArrayzero(h, c->P));
  if (nl > 0) {
    if (!reuse) {
      PetscReal lignored;

      PetscCall(SAModelForward(c->model, c->ws, t, c->Xb, c->yb, c->dropout > 0 ? masks : NULL, nl, &lignored));
      c->fwdstep  = 0;
      c->fwdbatch = *batch;
      c->fwdoid   = id;
      c->fwdost   = st;
    }
    PetscCall(SAModelHessianMult(c->model, c->ws, t, vv, c->Xb, c->yb, c->dropout > 0 ? masks : NULL, nl, h));
  }
  if (B != 1) {
    const PetscReal s = 1.0 / B;

    for (PetscInt i = 0; i < c->P; i++) h[i] = s * h[i];
  }
  PetscCall(VecRestoreArray(Hv, &h));
  PetscCall(VecRestoreArrayRead(v, &vv));
  PetscCall(VecRestoreArrayRead(theta, &t));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SATaskHessianMult_Classify(SATask task, Vec theta, const SABatch *batch, Vec v, Vec Hv)
{
  SATask_Classify   *c  = (SATask_Classify *) task->data;
  PetscInt           nl = 0, B = 1;
  const double      *masks[SA_MLP_MAXL] = {NULL};
  const PetscScalar *t, *vv;
  PetscBool          reuse;
  PetscMPIInt        size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(task->comm, &size));
  if (size == 1) { /* no gather, no full-length product */
    PetscCall(SAClassifyHessianMultOne(task, theta, batch, v, Hv));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(SAClassifyGather(c, theta, c->full));
  PetscCall(SAClassifyGather(c, v, c->vfull));
  PetscCall(VecGetArrayRead(c->full, &t));
  /* the forward state of the same batch at the same theta is still in ws: reuse it (the HVP only reads it) */
  reuse = (PetscBool) (c->fwdstep == 0 && !memcmp(&c->fwdbatch, batch, sizeof(SABatch)) && c->fwdtheta &&
                       !memcmp(c->fwdtheta, t, sizeof(PetscScalar) * c->P));
  if (reuse) PetscCall(SAClassifyLocalRows(task, batch, &nl, &B));
  else PetscCall(SAClassifyBatchRows(task, batch, &nl, &B));
  PetscCall(SAClassifyMasks(c, nl, masks));
  PetscCall(PetscArrayzero(c->gfull, c->P));
  PetscCall(VecGetArrayRead(c->vfull, &vv));
  if (nl > 0) {
    if (!reuse) {
      PetscReal lignored;

      PetscCall(SAModelForward(c->model, c->ws, t, c->Xb, c->yb, c->dropout > 0 ? masks : NULL, nl, &lignored));
      if (!c->fwdtheta) PetscCall(PetscMalloc1(c->P, &c->fwdtheta));
      PetscCall(PetscArraycpy(c->fwdtheta, t, c->P));
      c->fwdstep  = 0;
      c->fwdbatch = *batch;
    }
    PetscCall(SAModelHessianMult(c->model, c->ws, t, vv, c->Xb, c->yb, c->dropout > 0 ? masks : NULL, nl, c->gfull));
  }
  PetscCall(VecRestoreArrayRead(c->vfull, &vv));
  PetscCall(VecRestoreArrayRead(c->full, &t));
  PetscCall(SAClassifyReduceScatter(task, B, Hv));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* test loss and accuracy: the test rows are split over the group, in chunks */
static PetscErrorCode SAClassifyTest(SATask task, Vec theta, PetscReal *loss, PetscReal *acc)
{
  SATask_Classify   *c = (SATask_Classify *) task->data;
  PetscMPIInt        rank, size;
  PetscInt           n = c->test->n, r0, r1, chunk = 512;
  PetscReal          sums[2] = {0, 0};
  const PetscScalar *t;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(task->comm, &rank));
  PetscCallMPI(MPI_Comm_size(task->comm, &size));
  r0 = (n * rank) / size;
  r1 = (n * (rank + 1)) / size;
  PetscCall(SAClassifyGather(c, theta, c->full));
  c->fwdstep = -1; /* ws is overwritten below */
  PetscCall(SAClassifyReserve(c, chunk));
  PetscCall(VecGetArrayRead(c->full, &t));
  for (PetscInt s = r0; s < r1; s += chunk) {
    PetscInt m = PetscMin(chunk, r1 - s);

    for (PetscInt k = 0; k < m; k++) c->yb[k] = (int) c->test->y[s + k];
    {
      PetscReal l;
      PetscInt  ok;

      PetscCall(SADatasetGetRows(c->test, s, m, c->Xb));
      PetscCall(SAModelForward(c->model, c->ws, t, c->Xb, c->yb, NULL, m, &l));
      PetscCall(SAModelCorrect(c->model, c->ws, c->yb, m, &ok));
      sums[0] += l;
      sums[1] += ok;
    }
  }
  PetscCall(VecRestoreArrayRead(c->full, &t));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPIU_REAL, MPI_SUM, task->comm));
  *loss = sums[0] / n;
  *acc  = sums[1] / n;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SATaskEvaluate_Classify(SATask task, Vec theta, PetscReal *loss, PetscReal *perf)
{
  PetscFunctionBeginUser;
  PetscCall(SAClassifyTest(task, theta, loss, perf));
  if (PetscIsInfOrNanReal(*loss)) *perf = 0.0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* last-hidden-layer activations of the probe (the first nprobe test samples) at the gathered theta */
static PetscErrorCode SAClassifyProbe(SATask_Classify *c, const PetscScalar *t, PetscReal out[])
{
  PetscFunctionBeginUser;
  PetscCall(SAClassifyReserve(c, c->nprobe));
  {
    PetscReal l;

    PetscCall(SADatasetGetRows(c->test, 0, c->nprobe, c->Xb));
    PetscCall(SAModelForward(c->model, c->ws, t, c->Xb, NULL, NULL, c->nprobe, &l));
  }
  PetscCall(SAModelHiddenActivations(c->model, c->ws, c->nprobe, out));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* linear CKA of two (n, h) activation matrices: ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F), columns centred */
static PetscReal SAClassifyCKA(const PetscReal *X0, const PetscReal *Y0, PetscInt n, PetscInt h, PetscReal *work)
{
  PetscReal *X = work, *Y = work + n * h, xy = 0, xx = 0, yy = 0;

  for (PetscInt j = 0; j < h; j++) {
    PetscReal mx = 0, my = 0;
    for (PetscInt i = 0; i < n; i++) mx += X0[i * h + j], my += Y0[i * h + j];
    mx /= n;
    my /= n;
    for (PetscInt i = 0; i < n; i++) X[i * h + j] = X0[i * h + j] - mx, Y[i * h + j] = Y0[i * h + j] - my;
  }
  for (PetscInt a = 0; a < h; a++)
    for (PetscInt b = 0; b < h; b++) {
      PetscReal sxy = 0, sxx = 0, syy = 0;
      for (PetscInt i = 0; i < n; i++) {
        sxy += Y[i * h + a] * X[i * h + b];
        sxx += X[i * h + a] * X[i * h + b];
        syy += Y[i * h + a] * Y[i * h + b];
      }
      xy += sxy * sxy;
      xx += sxx * sxx;
      yy += syy * syy;
    }
  return (xx > 0 && yy > 0) ? xy / PetscSqrtReal(xx * yy) : 0.0;
}

/*
  Observables at a recorded step: per-layer weight and gradient norms; from K micro-batches of the
  step's batch (global positions [B j / K, B (j+1) / K)), the gradient noise scale
  b tr(S_b) / |G|^2 with S_b the sample covariance of the micro-batch mean gradients (b = B / K
  samples each; B_simple of McCandlish et al. 2018) and the mean pairwise cosine of the micro-batch
  gradients (coherence); the linear CKA between the last hidden layer's activations on a probe
  batch at theta and at theta_0 (representation drift; restart-safe: theta_0 is recomputed).
*/
static PetscErrorCode SATaskComputeObservables_Classify(SATask task, Vec theta, Vec grad, const SABatch *batch,
                                                        PetscReal vals[])
{
  SATask_Classify   *c = (SATask_Classify *) task->data;
  PetscInt           L = c->L, K = c->K, rs, re, B = SAClassifyBatchSize(c, batch);
  PetscReal          loc[2 * SA_MLP_MAXL + 2] = {0};
  const PetscScalar *a, *g, *t;

  PetscFunctionBeginUser;
  PetscCall(VecGetOwnershipRange(theta, &rs, &re));
  PetscCall(VecGetArrayRead(theta, &a));
  PetscCall(VecGetArrayRead(grad, &g));
  for (PetscInt l = 1; l <= L; l++) {
    PetscInt lo = (PetscInt) c->offW[l - 1], hi = (PetscInt) c->offb[l - 1] + c->w[l];

    for (PetscInt i = PetscMax(rs, lo); i < PetscMin(re, hi); i++) {
      loc[l - 1] += a[i - rs] * a[i - rs];
      loc[L + l - 1] += g[i - rs] * g[i - rs];
    }
  }
  PetscCall(VecRestoreArrayRead(grad, &g));
  PetscCall(VecRestoreArrayRead(theta, &a));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, loc, (PetscMPIInt) (2 * L), MPIU_REAL, MPI_SUM, task->comm));
  for (PetscInt i = 0; i < 2 * L; i++) vals[i] = PetscSqrtReal(loc[i]);
  {
    PetscReal G2, S, coh;

    PetscCall(SAClassifyMicroGradients(task, theta, batch, &G2, &S, &coh));
    vals[2 * L]     = G2 > 0 ? ((PetscReal) B / K) * S / G2 : 0.0;
    vals[2 * L + 1] = coh;
  }
  PetscCall(VecGetArrayRead(c->full, &t));
  {
    PetscInt h = c->w[L - 1];

    if (!c->probe0) {
      Vec                t0;
      const PetscScalar *a0;

      c->nprobe = PetscMin(256, c->test->n);
      PetscCall(PetscMalloc1(c->nprobe * h, &c->probe0));
      PetscCall(PetscMalloc1(3 * c->nprobe * h, &c->probe));
      PetscCall(VecDuplicate(theta, &t0));
      PetscCall(SATaskInitialGuess(task, t0));
      PetscCall(SAClassifyGather(c, t0, c->vfull));
      PetscCall(VecDestroy(&t0));
      PetscCall(VecGetArrayRead(c->vfull, &a0));
      PetscCall(SAClassifyProbe(c, a0, c->probe0));
      PetscCall(VecRestoreArrayRead(c->vfull, &a0));
    }
    PetscCall(SAClassifyProbe(c, t, c->probe));
    vals[2 * L + 2] = SAClassifyCKA(c->probe0, c->probe, c->nprobe, h, c->probe + c->nprobe * h);
  }
  PetscCall(VecRestoreArrayRead(c->full, &t));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SATaskView_Classify(SATask task, PetscViewer viewer)
{
  SATask_Classify *c = (SATask_Classify *) task->data;

  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, "  classify: %s, %" PetscInt_FMT " parameters, batch %" PetscInt_FMT "\n",
                                   SAClassifySets[c->set], c->P, c->batch));
  if (c->model) PetscCall(SAModelView(c->model, viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SATaskDestroy_Classify(SATask task)
{
  SATask_Classify *c = (SATask_Classify *) task->data;

  PetscFunctionBeginUser;
  PetscCall(SAClassifyFreeWork(c));
  PetscCall(SAModelDestroy(&c->model));
  PetscCall(PetscFree(task->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SATaskCreate_Classify(SATask task)
{
  SATask_Classify *c;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&c));
  c->set                       = 0;
  c->test_fraction             = 0.2;
  c->batch                     = 64;
  c->K                         = 4;
  c->fwdstep                   = -1;
  c->permepoch                 = -1;
  task->data                   = c;
  task->ops.setfromoptions     = SATaskSetFromOptions_Classify;
  task->ops.setup              = SATaskSetUp_Classify;
  task->ops.createparameters   = SATaskCreateParameters_Classify;
  task->ops.initialguess       = SATaskInitialGuess_Classify;
  task->ops.randomguess        = SATaskRandomGuess_Classify;
  task->ops.lossgradient       = SATaskLossGradient_Classify;
  task->ops.hessianmult        = SATaskHessianMult_Classify;
  task->ops.evaluate           = SATaskEvaluate_Classify;
  task->ops.view               = SATaskView_Classify;
  task->ops.computeobservables = SATaskComputeObservables_Classify;
  task->ops.destroy            = SATaskDestroy_Classify;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the public SATaskClassify* functions take only classify tasks */
static PetscErrorCode SAClassifyCheckType(SATask task)
{
  PetscBool match;

  PetscFunctionBeginUser;
  PetscCall(PetscStrcmp(task->type_name, SATASKCLASSIFY, &match));
  PetscCheck(match, task->comm, PETSC_ERR_ARG_WRONG, "Task type %s is not classify", task->type_name);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskClassifySetBatchSize - Sets the minibatch size of a classify task (a controlled-stochasticity axis)

  Logically Collective

  Input Parameters:
+ task  - the task, of type classify (after `SATaskSetFromOptions()`, before `SATaskSetUp()`)
- batch - the minibatch size, 0 = full batch

  Level: intermediate

.seealso: `SATaskClassifySetDropout()`
@*/
PetscErrorCode SATaskClassifySetBatchSize(SATask task, PetscInt batch)
{
  SATask_Classify *c;

  PetscFunctionBeginUser;
  PetscCall(SAClassifyCheckType(task));
  c = (SATask_Classify *) task->data;
  PetscCheck(batch >= 0, task->comm, PETSC_ERR_ARG_OUTOFRANGE, "Batch size must be >= 0, got %" PetscInt_FMT, batch);
  PetscCheck(!batch || batch >= c->K, task->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "Batch size %" PetscInt_FMT " is smaller than the %" PetscInt_FMT " micro-batches", batch, c->K);
  c->batch = batch;
  if (batch > 0) task->caps |= SA_TASK_CAP_MINIBATCH;
  else task->caps &= ~SA_TASK_CAP_MINIBATCH;
  task->setupcalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskClassifySetDropout - Sets the dropout probability of the hidden units (a controlled-stochasticity axis)

  Logically Collective

  Input Parameters:
+ task - the task, of type classify (after `SATaskSetFromOptions()`, before `SATaskSetUp()`)
- p    - the probability, in [0, 1)

  Level: intermediate

.seealso: `SATaskClassifySetBatchSize()`
@*/
PetscErrorCode SATaskClassifySetDropout(SATask task, PetscReal p)
{
  SATask_Classify *c;

  PetscFunctionBeginUser;
  PetscCall(SAClassifyCheckType(task));
  c = (SATask_Classify *) task->data;
  PetscCall(SAModelSetDropout(c->model, p));
  c->dropout        = p;
  task->setupcalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskClassifyGetBatchRows - The samples this rank sees for a batch description (after data perturbations)

  Collective

  Input Parameters:
+ task  - the task, of type classify (set up)
- batch - the batch description

  Output Parameters:
+ B     - the batch size (all ranks of the group)
. n     - rows on this rank
. k0    - global batch position of its first row
. X     - (n, d) row-major features, owned by the task, valid until its next call
- y     - (n) labels, owned by the task

  Notes:
  What the loss-gradient of the same batch uses, so users and tests can see the effect of label noise, input noise,
  covariate shift, class imbalance, data order and batch scaling.

  Level: developer

.seealso: `SATaskLossGradient()`, `SABatch`
@*/
PetscErrorCode SATaskClassifyGetBatchRows(SATask task, const SABatch *batch, PetscInt *B, PetscInt *n, PetscInt *k0,
                                          const PetscReal **X, const int **y)
{
  SATask_Classify *c;
  PetscInt         nl, b;

  PetscFunctionBeginUser;
  PetscCall(SAClassifyCheckType(task));
  PetscCall(SATaskSetUp(task));
  c          = (SATask_Classify *) task->data;
  c->fwdstep = -1;
  PetscCall(SAClassifyBatchRows(task, batch, &nl, &b));
  if (B) *B = b;
  if (n) *n = nl;
  if (k0) *k0 = c->k0;
  if (X) *X = c->Xb;
  if (y) *y = c->yb;
  PetscFunctionReturn(PETSC_SUCCESS);
}
