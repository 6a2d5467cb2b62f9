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
  Hessian-vector products: exact, Pearlmutter's R-operator on the same batch (SAModelHessianMult), of the loss whose
  gradient SATaskLossGradient gives: with the batch's learning-signal modifier (sign flips, signal noise, label
  smoothing) set as for the gradient, so Hv is the derivative of that gradient along v.
  Controlled stochasticity: task_noise > 0 adds isotropic Gaussian noise of that standard deviation
  (times the batch's noise scale) to the gradient, from the batch stream addressed by (step, index).
  Performance: test accuracy in [0, 1] (SATaskEvaluate), the clean loss is the test loss.
  Files: this one (create, options, data, set-up, destroy, ops table, public functions), classify_batch.c,
  classify_grad.c, classify_eval.c; their shared context and functions are in classifyimpl.h.
*/
#include "classifyimpl.h"

static const char *const SAClassifySets[] = {"digits", "fashion_mnist", "iris", "wine", "breast_cancer"};

/* the data of a campaign, loaded once per process */
typedef struct {
  char      key[PETSC_MAX_PATH_LEN + 128]; /* what was loaded */
  SADataset train, test;                   /* standardised splits */
  PetscBool loaded;
} SAClassifyCache;
static SAClassifyCache SAClassifyData;

static const char *const SAClassifyNoiseModes[] = {"isotropic", "scaled"};

static PetscErrorCode SATaskSetFromOptions_Classify(SATask task)
{
  SATask_Classify *c = (SATask_Classify *) task->data;
  const char      *prefix;

  PetscFunctionBeginUser;
  PetscCall(SATaskGetDeckSection_Private(task, "classify_", c->sec, sizeof(c->sec)));
  PetscCall(SADeckGetEnum(c->sec, "dataset", SAClassifySets, 5, &c->set, NULL));
  PetscCall(SADeckGetString(c->sec, "data_dir", SA_DEFAULT_DATA_DIR, c->dir, sizeof(c->dir), NULL));
  PetscCall(SADeckGetReal(c->sec, "test_fraction", c->test_fraction, 0.01, 0.9, &c->test_fraction, NULL));
  PetscCall(SADeckGetInt(c->sec, "subset", c->subset, 0, PETSC_MAX_INT, &c->subset, NULL));
  PetscCall(SADeckGetInt(c->sec, "batch", c->batch, 0, 1000000, &c->batch, NULL));
  if (!c->model) PetscCall(SAModelCreate(PetscObjectComm((PetscObject) task), &c->model));
  PetscCall(PetscObjectGetOptionsPrefix((PetscObject) task, &prefix));
  PetscCall(SAModelSetOptionsPrefix(c->model, prefix)); /* the task's model reads <prefix>model_* */
  PetscCall(SAModelSetFromOptions(c->model));
  PetscCall(SAModelGetDropout(c->model, &c->dropout));
  PetscCall(SADeckGetInt(c->sec, "micro_batches", c->K, 2, 64, &c->K, NULL));
  PetscCall(SADeckGetReal(c->sec, "label_smoothing", c->label_smoothing, 0.0, 0.999, &c->label_smoothing, NULL));
  PetscCall(SADeckGetEnum(c->sec, "noise_mode", SAClassifyNoiseModes, 2, &c->noise_mode, NULL));
  task->caps = SA_TASK_CAP_LABELS | SA_TASK_CAP_INPUTS | SA_TASK_CAP_SIGNAL | SA_TASK_CAP_LAYERS;
  if (c->batch > 0) task->caps |= SA_TASK_CAP_MINIBATCH;
  if (c->batch && c->batch < c->K) {
    char key[320];

    PetscCall(PetscSNPrintf(key, sizeof(key), "%smicro_batches", c->sec));
    PetscCall(SADeckFail(
      key, "%" PetscInt_FMT " micro-batches need a batch of at least as many samples (batch %" PetscInt_FMT ")", c->K,
      c->batch));
  }
  {
    PetscInt L, o = 0;

    PetscCall(SAModelMLPGetNumHiddenLayers(c->model, &L));
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
PetscErrorCode SAClassifyReserve_Private(SATask_Classify *c, PetscInt nrows)
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

    PetscCall(SAModelMLPGetLayers(c->model, &L, &w, &oW, &ob));
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
  PetscCheck(c->train->nclass <= SA_CLASSIFY_MAXC, PetscObjectComm((PetscObject) task), PETSC_ERR_SUP,
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
  if (c->batch > c->train->n) {
    char key[320];

    PetscCall(PetscSNPrintf(key, sizeof(key), "%sbatch", c->sec));
    PetscCall(
      SADeckFail(key, "batch %" PetscInt_FMT " exceeds the %" PetscInt_FMT " training samples", c->batch, c->train->n));
  }
  PetscCall(VecCreateMPI(PetscObjectComm((PetscObject) task), PETSC_DECIDE, c->P, &tmp));
  PetscCall(VecScatterCreateToAll(tmp, &c->toall, &c->full));
  PetscCall(VecDuplicate(c->full, &c->vfull));
  PetscCallMPI(MPI_Comm_size(PetscObjectComm((PetscObject) task), &size));
  PetscCall(PetscMalloc1(size, &c->counts));
  PetscCall(VecGetOwnershipRange(tmp, &rs, &re));
  {
    PetscMPIInt n = (PetscMPIInt) (re - rs);
    PetscCallMPI(MPI_Allgather(&n, 1, MPI_INT, c->counts, 1, MPI_INT, PetscObjectComm((PetscObject) task)));
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
  PetscCall(VecCreateMPI(PetscObjectComm((PetscObject) task), PETSC_DECIDE, c->P, theta));
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

static PetscErrorCode SATaskView_Classify(SATask task, PetscViewer viewer)
{
  SATask_Classify *c = (SATask_Classify *) task->data;

  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, "classify: %s, %" PetscInt_FMT " parameters, batch %" PetscInt_FMT "\n",
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
  PetscCall(PetscObjectComposeFunction((PetscObject) task, "SATaskSetDropout_C", NULL));
  PetscCall(PetscObjectComposeFunction((PetscObject) task, "SATaskSetBatchSize_C", NULL));
  PetscCall(PetscObjectComposeFunction((PetscObject) task, "SATaskClassifySetDropout_C", NULL));
  PetscCall(PetscObjectComposeFunction((PetscObject) task, "SATaskClassifySetBatchSize_C", NULL));
  PetscCall(PetscObjectComposeFunction((PetscObject) task, "SATaskClassifyGetBatchRows_C", NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* composed as "SATaskSetBatchSize_C" and "SATaskClassifySetBatchSize_C" */
static PetscErrorCode SATaskSetBatchSize_Classify(SATask task, PetscInt batch)
{
  SATask_Classify *c = (SATask_Classify *) task->data;

  PetscFunctionBeginUser;
  PetscCheck(batch >= 0, PetscObjectComm((PetscObject) task), PETSC_ERR_ARG_OUTOFRANGE,
             "Batch size must be >= 0, got %" PetscInt_FMT, batch);
  PetscCheck(!batch || batch >= c->K, PetscObjectComm((PetscObject) task), PETSC_ERR_ARG_OUTOFRANGE,
             "Batch size %" PetscInt_FMT " is smaller than the %" PetscInt_FMT " micro-batches", batch, c->K);
  c->batch = batch;
  if (batch > 0) task->caps |= SA_TASK_CAP_MINIBATCH;
  else task->caps &= ~SA_TASK_CAP_MINIBATCH;
  task->setupcalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* composed as "SATaskSetDropout_C" and "SATaskClassifySetDropout_C" (SAModelSetDropout checks the range) */
static PetscErrorCode SATaskSetDropout_Classify(SATask task, PetscReal p)
{
  SATask_Classify *c = (SATask_Classify *) task->data;

  PetscFunctionBeginUser;
  PetscCall(SAModelSetDropout(c->model, p));
  c->dropout        = p;
  task->setupcalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* composed as "SATaskClassifyGetBatchRows_C" */
static PetscErrorCode SATaskClassifyGetBatchRows_Classify(SATask task, const SABatch *batch, PetscInt *B, PetscInt *n,
                                                          PetscInt *k0, const PetscReal **X, const int **y)
{
  SATask_Classify *c;
  PetscInt         nl, b;

  PetscFunctionBeginUser;
  PetscCall(SATaskSetUp(task));
  c          = (SATask_Classify *) task->data;
  c->fwdstep = -1;
  PetscCall(SAClassifyBatchRows_Private(task, batch, &nl, &b));
  if (B) *B = b;
  if (n) *n = nl;
  if (k0) *k0 = c->k0;
  if (X) *X = c->Xb;
  if (y) *y = c->yb;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SATaskCreate_Classify(SATask task)
{
  SATask_Classify *c;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&c));
  c->set           = 0;
  c->test_fraction = 0.2;
  c->batch         = 64;
  c->K             = 4;
  c->fwdstep       = -1;
  c->permepoch     = -1;
  task->data       = c;
  PetscCall(SATaskGetDeckSection_Private(task, "classify_", c->sec, sizeof(c->sec)));
  task->ops->setfromoptions     = SATaskSetFromOptions_Classify;
  task->ops->setup              = SATaskSetUp_Classify;
  task->ops->createparameters   = SATaskCreateParameters_Classify;
  task->ops->initialguess       = SATaskInitialGuess_Classify;
  task->ops->randomguess        = SATaskRandomGuess_Classify;
  task->ops->lossgradient       = SAClassifyLossGradient_Private;
  task->ops->hessianmult        = SAClassifyHessianMult_Private;
  task->ops->evaluate           = SAClassifyEvaluate_Private;
  task->ops->view               = SATaskView_Classify;
  task->ops->computeobservables = SAClassifyComputeObservables_Private;
  task->ops->destroy            = SATaskDestroy_Classify;
  PetscCall(PetscObjectComposeFunction((PetscObject) task, "SATaskSetDropout_C", SATaskSetDropout_Classify));
  PetscCall(PetscObjectComposeFunction((PetscObject) task, "SATaskSetBatchSize_C", SATaskSetBatchSize_Classify));
  PetscCall(PetscObjectComposeFunction((PetscObject) task, "SATaskClassifySetDropout_C", SATaskSetDropout_Classify));
  PetscCall(
    PetscObjectComposeFunction((PetscObject) task, "SATaskClassifySetBatchSize_C", SATaskSetBatchSize_Classify));
  PetscCall(PetscObjectComposeFunction((PetscObject) task, "SATaskClassifyGetBatchRows_C",
                                       SATaskClassifyGetBatchRows_Classify));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskClassifySetBatchSize - Sets the minibatch size of a classify task (a controlled-stochasticity axis)

  Logically Collective

  Input Parameters:
+ task  - the task (after `SATaskSetFromOptions()`, before `SATaskSetUp()`)
- batch - the minibatch size, 0 = full batch

  Notes:
  Composed on the object by the classify type ("SATaskClassifySetBatchSize_C") and called with `PetscTryMethod()`,
  as `KSPGMRESSetRestart()` is: on a task of another type it does nothing. `SATaskSetBatchSize()` takes any task type
  that has minibatches and refuses one that has none.

  Level: intermediate

.seealso: `SATaskSetBatchSize()`, `SATaskClassifySetDropout()`
@*/
PetscErrorCode SATaskClassifySetBatchSize(SATask task, PetscInt batch)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  PetscValidLogicalCollectiveInt(task, batch, 2);
  PetscTryMethod(task, "SATaskClassifySetBatchSize_C", (SATask, PetscInt), (task, batch));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskClassifySetDropout - Sets the dropout probability of the hidden units of a classify task

  Logically Collective

  Input Parameters:
+ task - the task (after `SATaskSetFromOptions()`, before `SATaskSetUp()`)
- p    - the probability, in [0, 1)

  Notes:
  Composed on the object by the classify type ("SATaskClassifySetDropout_C") and called with `PetscTryMethod()`: on a
  task of another type it does nothing. `SATaskSetDropout()` takes any task type that has dropout and refuses one
  that has none.

  Level: intermediate

.seealso: `SATaskSetDropout()`, `SATaskClassifySetBatchSize()`
@*/
PetscErrorCode SATaskClassifySetDropout(SATask task, PetscReal p)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  PetscValidLogicalCollectiveReal(task, p, 2);
  PetscTryMethod(task, "SATaskClassifySetDropout_C", (SATask, PetscReal), (task, p));
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
  covariate shift, class imbalance, data order and batch scaling. Composed on the object by the classify type
  ("SATaskClassifyGetBatchRows_C"); another task type raises `PETSC_ERR_SUP` (`PetscUseMethod()`).

  Level: developer

.seealso: `SATaskLossGradient()`, `SABatch`
@*/
PetscErrorCode SATaskClassifyGetBatchRows(SATask task, const SABatch *batch, PetscInt *B, PetscInt *n, PetscInt *k0,
                                          const PetscReal **X, const int **y)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  PetscAssertPointer(batch, 2);
  PetscUseMethod(task, "SATaskClassifyGetBatchRows_C",
                 (SATask, const SABatch *, PetscInt *, PetscInt *, PetscInt *, const PetscReal **, const int **),
                 (task, batch, B, n, k0, X, y));
  PetscFunctionReturn(PETSC_SUCCESS);
}
