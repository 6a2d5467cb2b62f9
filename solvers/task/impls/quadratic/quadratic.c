/*
  quadratic.c - SATASKQUADRATIC, the analytic workload that tests the whole engine.

  Method card
  -----------
  loss(theta) = 1/2 (theta - theta*)^T A (theta - theta*),  A = Q diag(lambda) Q^T  (SPD)
  - lambda: n eigenvalues, log- or linearly spaced in [lambda_min, lambda_max] (the ends exact),
    or read from a file; Q = H_1 H_2 ... H_k, a product of k Householder reflectors
    H_j = I - 2 u_j u_j^T with u_j Gaussian from the task stream: a random orthogonal basis that is
    applied matrix-free in O(k n) and scales to any n.
  - theta* from the task stream (shared by all members); theta_0 = theta* + init_distance * z with
    z ~ N(0, I) from the member's init stream.
  - gradient A (theta - theta*) + noise * noise_scale * xi_t, xi_t ~ N(0, I) from the member's batch
    stream addressed by (step, coordinate): stochastic gradient descent with known noise.
  - observable distance_to_minimum = ||theta - theta*||.
  - Hessian-vector product A v (exact); performance exp(-loss / loss(theta_0)) in [0, 1]
    (exp(-loss) when init_distance = 0 puts theta_0 at the minimiser).
  Gradient descent with lr > 2 / lambda_max diverges (|1 - lr lambda_max| > 1): the test oracle for
  divergence records.
*/
#include <stabaudit/private/sataskimpl.h>
#include <stabaudit/sadeck.h>

#define SA_QUAD_MAXREFL 16

typedef struct {
  PetscInt   n;                        /* dimension (number of parameters) */
  PetscReal  lmin, lmax;               /* eigenvalue range */
  PetscInt   spectrum;                 /* 0 log, 1 linear, 2 file */
  char       file[PETSC_MAX_PATH_LEN]; /* eigenvalue file (spectrum: file) */
  PetscInt   k;                        /* number of Householder reflectors in Q */
  PetscReal  init_distance;            /* theta_0 - theta* = init_distance * N(0, I) */
  PetscReal *filevals;                 /* eigenvalues read from file, length n */
  Vec        lambda;                   /* eigenvalues, layout of theta */
  Vec        u[SA_QUAD_MAXREFL];       /* unit reflector vectors */
  Vec        star;                     /* the minimiser theta* */
  Vec        w1, w2;                   /* work vectors */
  PetscReal  loss_ref;                 /* loss of the member's theta_0 (performance scale) */
  char       sec[288];                 /* deck section: options prefix + "task_quadratic_" */
} SATask_Quadratic;

static const char *const SAQuadSpectra[] = {"log", "linear", "file"};

static const SAObservableInfo SAQuadObservables[] = {
  {"distance_to_minimum", "2-norm of theta - theta* (distance to the minimiser)", "1"}};

static PetscErrorCode SATaskReadSpectrum_Quadratic(SATask task)
{
  SATask_Quadratic *q = (SATask_Quadratic *) task->data;
  FILE             *fp;
  double            x;
  PetscInt          n = 0, cap = 64;
  char              key[320];

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(key, sizeof(key), "%sspectrum_file", q->sec));
  PetscCall(SADeckCheckFile(q->sec, "spectrum_file", q->file, "give a text file of positive eigenvalues"));
  fp = fopen(q->file, "r");
  PetscCall(PetscFree(q->filevals));
  PetscCall(PetscMalloc1(cap, &q->filevals));
  while (fscanf(fp, "%lf", &x) == 1) {
    if (n == cap) {
      cap *= 2;
      PetscCall(PetscRealloc(sizeof(PetscReal) * cap, &q->filevals));
    }
    q->filevals[n++] = (PetscReal) x;
  }
  if (!feof(fp))
    PetscCall(SADeckFail(key, "spectrum file '%s': entry %" PetscInt_FMT " is not a number", q->file, n + 1));
  fclose(fp);
  if (n <= 0) PetscCall(SADeckFail(key, "spectrum file '%s' holds no eigenvalues", q->file));
  for (PetscInt i = 0; i < n; i++)
    if (!(q->filevals[i] > 0))
      PetscCall(SADeckFail(key, "spectrum file '%s': eigenvalue %" PetscInt_FMT " is %g; all must be > 0", q->file,
                           i + 1, (double) q->filevals[i]));
  q->n    = n;
  q->lmin = q->lmax = q->filevals[0];
  for (PetscInt i = 1; i < n; i++) {
    q->lmin = PetscMin(q->lmin, q->filevals[i]);
    q->lmax = PetscMax(q->lmax, q->filevals[i]);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SATaskSetFromOptions_Quadratic(SATask task)
{
  SATask_Quadratic *q = (SATask_Quadratic *) task->data;
  char              key[320];

  PetscFunctionBeginUser;
  PetscCall(SATaskGetDeckSection_Private(task, "quadratic_", q->sec, sizeof(q->sec)));
  PetscCall(SADeckGetInt(q->sec, "dim", q->n, 1, 100000000, &q->n, NULL));
  PetscCall(SADeckGetEnum(q->sec, "spectrum", SAQuadSpectra, 3, &q->spectrum, NULL));
  PetscCall(SADeckGetReal(q->sec, "lambda_min", q->lmin, PETSC_SMALL, PETSC_MAX_REAL, &q->lmin, NULL));
  PetscCall(SADeckGetReal(q->sec, "lambda_max", q->lmax, PETSC_SMALL, PETSC_MAX_REAL, &q->lmax, NULL));
  PetscCall(SADeckGetString(q->sec, "spectrum_file", "", q->file, sizeof(q->file), NULL));
  PetscCall(SADeckGetInt(q->sec, "reflectors", q->k, 0, SA_QUAD_MAXREFL, &q->k, NULL));
  PetscCall(SADeckGetReal(q->sec, "init_distance", q->init_distance, 0.0, PETSC_MAX_REAL, &q->init_distance, NULL));
  if (q->spectrum == 2) {
    if (!q->file[0]) {
      PetscCall(PetscSNPrintf(key, sizeof(key), "%sspectrum", q->sec));
      PetscCall(SADeckFail(key, "is 'file' but %sspectrum_file is not set", q->sec));
    }
    PetscCall(SATaskReadSpectrum_Quadratic(task));
  } else {
    if (q->lmin > q->lmax) {
      PetscCall(PetscSNPrintf(key, sizeof(key), "%slambda_min", q->sec));
      PetscCall(SADeckFail(key, "%g must be <= %slambda_max (%g)", (double) q->lmin, q->sec, (double) q->lmax));
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SATaskDestroyVecs_Quadratic(SATask_Quadratic *q)
{
  PetscFunctionBeginUser;
  PetscCall(VecDestroy(&q->lambda));
  PetscCall(VecDestroy(&q->star));
  PetscCall(VecDestroy(&q->w1));
  PetscCall(VecDestroy(&q->w2));
  for (PetscInt j = 0; j < SA_QUAD_MAXREFL; j++) PetscCall(VecDestroy(&q->u[j]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* x <- Q^T x (transpose = 1) or Q x (transpose = 0), Q = H_1 ... H_k */
static PetscErrorCode SAQuadApplyQ(SATask_Quadratic *q, PetscBool transpose, Vec x)
{
  PetscScalar d;

  PetscFunctionBeginUser;
  for (PetscInt jj = 0; jj < q->k; jj++) {
    PetscInt j = transpose ? jj : q->k - 1 - jj;

    PetscCall(VecDot(x, q->u[j], &d));
    PetscCall(VecAXPY(x, -2.0 * d, q->u[j]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* loss and A d for d = theta - theta*; result in q->w1 (A d) */
static PetscErrorCode SAQuadLossAd(SATask_Quadratic *q, Vec theta, PetscReal *loss)
{
  PetscScalar dot;

  PetscFunctionBeginUser;
  PetscCall(VecWAXPY(q->w1, -1.0, q->star, theta));
  PetscCall(SAQuadApplyQ(q, PETSC_TRUE, q->w1));
  PetscCall(VecPointwiseMult(q->w2, q->lambda, q->w1));
  PetscCall(VecDot(q->w1, q->w2, &dot));
  *loss = 0.5 * PetscRealPart(dot);
  PetscCall(SAQuadApplyQ(q, PETSC_FALSE, q->w2));
  PetscCall(VecCopy(q->w2, q->w1));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SATaskSetUp_Quadratic(SATask task)
{
  SATask_Quadratic *q = (SATask_Quadratic *) task->data;
  SAStream          ts;
  PetscInt          rs, re;
  PetscScalar      *l;

  PetscFunctionBeginUser;
  PetscCall(SATaskDestroyVecs_Quadratic(q));
  PetscCall(VecCreateMPI(PetscObjectComm((PetscObject) task), PETSC_DECIDE, q->n, &q->lambda));
  PetscCall(VecDuplicate(q->lambda, &q->star));
  PetscCall(VecDuplicate(q->lambda, &q->w1));
  PetscCall(VecDuplicate(q->lambda, &q->w2));
  PetscCall(VecGetOwnershipRange(q->lambda, &rs, &re));
  PetscCall(VecGetArray(q->lambda, &l));
  for (PetscInt i = rs; i < re; i++) {
    PetscReal t = q->n > 1 ? (PetscReal) i / (PetscReal) (q->n - 1) : 1.0;

    if (q->spectrum == 2) l[i - rs] = q->filevals[i];
    else if (i == q->n - 1) l[i - rs] = q->lmax;
    else if (i == 0) l[i - rs] = q->lmin;
    else if (q->spectrum == 0) l[i - rs] = q->lmin * PetscPowReal(q->lmax / q->lmin, t);
    else l[i - rs] = q->lmin + (q->lmax - q->lmin) * t;
  }
  PetscCall(VecRestoreArray(q->lambda, &l));
  PetscCall(SAStreamCreate(task->campaign_seed, 0, SA_STREAM_TASK, &ts));
  for (PetscInt j = 0; j < q->k; j++) {
    PetscCall(VecDuplicate(q->lambda, &q->u[j]));
    PetscCall(SAStreamVecNormal(&ts, j, q->u[j]));
    PetscCall(VecNormalize(q->u[j], NULL));
  }
  PetscCall(SAStreamVecNormal(&ts, SA_QUAD_MAXREFL, q->star));
  {
    Vec theta0;

    PetscCall(VecDuplicate(q->lambda, &theta0));
    PetscCall((*task->ops->initialguess)(task, theta0));
    PetscCall(SAQuadLossAd(q, theta0, &q->loss_ref));
    PetscCall(VecDestroy(&theta0));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SATaskCreateParameters_Quadratic(SATask task, Vec *theta)
{
  SATask_Quadratic *q = (SATask_Quadratic *) task->data;

  PetscFunctionBeginUser;
  PetscCall(VecDuplicate(q->lambda, theta));
  PetscCall(PetscObjectSetName((PetscObject) *theta, "theta"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SATaskInitialGuess_Quadratic(SATask task, Vec theta)
{
  SATask_Quadratic *q = (SATask_Quadratic *) task->data;
  SAStream          is;

  PetscFunctionBeginUser;
  PetscCall(SAStreamCreate(task->campaign_seed, task->member_seed, SA_STREAM_INIT, &is));
  PetscCall(SAStreamVecNormal(&is, 0, theta));
  PetscCall(VecAYPX(theta, q->init_distance, q->star));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SATaskLossGradient_Quadratic(SATask task, Vec theta, const SABatch *batch, PetscReal *loss,
                                                   Vec grad)
{
  SATask_Quadratic *q     = (SATask_Quadratic *) task->data;
  PetscReal         sigma = batch->probe ? 0.0 : task->noise * batch->noise_scale; /* a probe batch is noise-free */

  PetscFunctionBeginUser;
  PetscCall(SAQuadLossAd(q, theta, loss));
  PetscCall(VecCopy(q->w1, grad));
  if (sigma != 0.0) {
    SAStream bs;

    PetscCall(SAStreamCreate(task->campaign_seed, task->member_seed, SA_STREAM_BATCH, &bs));
    PetscCall(SAStreamVecNormal(&bs, batch->step, q->w2));
    PetscCall(VecAXPY(grad, sigma, q->w2));
  }
  PetscCall(PetscLogFlops(4.0 * q->k * q->n + 6.0 * q->n));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SATaskHessianMult_Quadratic(SATask task, Vec theta, const SABatch *batch, Vec v, Vec Hv)
{
  SATask_Quadratic *q = (SATask_Quadratic *) task->data;

  PetscFunctionBeginUser;
  PetscCall(VecCopy(v, q->w1));
  PetscCall(SAQuadApplyQ(q, PETSC_TRUE, q->w1));
  PetscCall(VecPointwiseMult(Hv, q->lambda, q->w1));
  PetscCall(SAQuadApplyQ(q, PETSC_FALSE, Hv));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SATaskEvaluate_Quadratic(SATask task, Vec theta, PetscReal *loss, PetscReal *perf)
{
  SATask_Quadratic *q = (SATask_Quadratic *) task->data;

  PetscFunctionBeginUser;
  PetscCall(SAQuadLossAd(q, theta, loss));
  *perf = PetscIsInfOrNanReal(*loss) ? 0.0 : PetscExpReal(-*loss / (q->loss_ref > 0 ? q->loss_ref : 1.0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SATaskComputeObservables_Quadratic(SATask task, Vec theta, Vec grad, const SABatch *batch,
                                                         PetscReal vals[])
{
  SATask_Quadratic *q = (SATask_Quadratic *) task->data;

  PetscFunctionBeginUser;
  PetscCall(VecWAXPY(q->w1, -1.0, q->star, theta));
  PetscCall(VecNorm(q->w1, NORM_2, &vals[0]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SATaskView_Quadratic(SATask task, PetscViewer viewer)
{
  SATask_Quadratic *q = (SATask_Quadratic *) task->data;

  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(
    viewer, "quadratic: dim %" PetscInt_FMT ", spectrum %s in [%g, %g], %" PetscInt_FMT " reflectors\n", q->n,
    SAQuadSpectra[q->spectrum], (double) q->lmin, (double) q->lmax, q->k));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SATaskDestroy_Quadratic(SATask task)
{
  SATask_Quadratic *q = (SATask_Quadratic *) task->data;

  PetscFunctionBeginUser;
  PetscCall(SATaskDestroyVecs_Quadratic(q));
  PetscCall(PetscFree(q->filevals));
  PetscCall(PetscFree(task->data));
  PetscCall(PetscObjectComposeFunction((PetscObject) task, "SATaskQuadraticGetEigenvalueRange_C", NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SATaskQuadraticGetEigenvalueRange_Quadratic(SATask task, PetscReal *lmin, PetscReal *lmax)
{
  SATask_Quadratic *q = (SATask_Quadratic *) task->data;

  PetscFunctionBeginUser;
  if (lmin) *lmin = q->lmin;
  if (lmax) *lmax = q->lmax;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATaskQuadraticGetEigenvalueRange - Returns the smallest and largest eigenvalue of A

  Not Collective

  Input Parameter:
. task - a quadratic task

  Output Parameters:
+ lmin - smallest eigenvalue (may be NULL)
- lmax - largest eigenvalue (gradient descent diverges for lr > 2 / lmax; may be NULL)

  Notes:
  Composed on the object by the quadratic type ("SATaskQuadraticGetEigenvalueRange_C"): another task type raises
  `PETSC_ERR_SUP` (`PetscUseMethod()`).

  Level: intermediate

.seealso: `SATASKQUADRATIC`
@*/
PetscErrorCode SATaskQuadraticGetEigenvalueRange(SATask task, PetscReal *lmin, PetscReal *lmax)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(task, SATASK_CLASSID, 1);
  PetscUseMethod(task, "SATaskQuadraticGetEigenvalueRange_C", (SATask, PetscReal *, PetscReal *), (task, lmin, lmax));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SATaskCreate_Quadratic(SATask task)
{
  SATask_Quadratic *q;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&q));
  q->n             = 100;
  q->lmin          = 0.01;
  q->lmax          = 1.0;
  q->k             = 4;
  q->init_distance = 1.0;
  task->data       = q;
  PetscCall(SATaskGetDeckSection_Private(task, "quadratic_", q->sec, sizeof(q->sec)));
  task->ops->setfromoptions     = SATaskSetFromOptions_Quadratic;
  task->ops->setup              = SATaskSetUp_Quadratic;
  task->ops->createparameters   = SATaskCreateParameters_Quadratic;
  task->ops->initialguess       = SATaskInitialGuess_Quadratic;
  task->ops->lossgradient       = SATaskLossGradient_Quadratic;
  task->ops->hessianmult        = SATaskHessianMult_Quadratic;
  task->ops->evaluate           = SATaskEvaluate_Quadratic;
  task->ops->computeobservables = SATaskComputeObservables_Quadratic;
  task->ops->view               = SATaskView_Quadratic;
  task->nobs                    = 1;
  task->obs                     = SAQuadObservables;
  task->ops->destroy            = SATaskDestroy_Quadratic;
  PetscCall(PetscObjectComposeFunction((PetscObject) task, "SATaskQuadraticGetEigenvalueRange_C",
                                       SATaskQuadraticGetEigenvalueRange_Quadratic));
  PetscFunctionReturn(PETSC_SUCCESS);
}
