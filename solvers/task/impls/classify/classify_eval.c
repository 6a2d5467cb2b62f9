/*
  classify_eval.c - SATASKCLASSIFY: evaluation on the test set (loss and accuracy), and the observables of a recorded
  step: per-layer weight and gradient norms, gradient noise scale and coherence, representation drift (linear CKA
  of probe activations against theta_0).
*/
#include "classifyimpl.h"

/* test loss and accuracy: the test rows are split over the group, in chunks */
static PetscErrorCode SAClassifyTest(SATask task, Vec theta, PetscReal *loss, PetscReal *acc)
{
  SATask_Classify   *c = (SATask_Classify *) task->data;
  PetscMPIInt        rank, size;
  PetscInt           n = c->test->n, r0, r1, chunk = 512;
  PetscReal          sums[2] = {0, 0};
  const PetscScalar *t;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PetscObjectComm((PetscObject) task), &rank));
  PetscCallMPI(MPI_Comm_size(PetscObjectComm((PetscObject) task), &size));
  r0 = (n * rank) / size;
  r1 = (n * (rank + 1)) / size;
  PetscCall(SAClassifyGather_Private(c, theta, c->full));
  c->fwdstep = -1; /* ws is overwritten below */
  PetscCall(SAClassifyReserve_Private(c, chunk));
  PetscCall(VecGetArrayRead(c->full, &t));
  for (PetscInt s = r0; s < r1; s += chunk) {
    PetscInt m = PetscMin(chunk, r1 - s);

    for (PetscInt k = 0; k < m; k++) c->yb[k] = (int) c->test->y[s + k];
    {
      PetscReal    l;
      PetscInt     ok;
      SAModelBatch mb;

      PetscCall(SADatasetGetRows(c->test, s, m, c->Xb));
      PetscCall(SAModelBatchSetRows(&mb, m, c->Xb, c->yb, NULL));
      PetscCall(SAModelForward(c->model, c->ws, t, &mb, &l));
      PetscCall(SAModelCorrect(c->model, c->ws, &mb, &ok));
      sums[0] += l;
      sums[1] += ok;
    }
  }
  PetscCall(VecRestoreArrayRead(c->full, &t));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPIU_REAL, MPI_SUM, PetscObjectComm((PetscObject) task)));
  *loss = sums[0] / n;
  *acc  = sums[1] / n;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAClassifyEvaluate_Private(SATask task, Vec theta, PetscReal *loss, PetscReal *perf)
{
  PetscFunctionBeginUser;
  PetscCall(SAClassifyTest(task, theta, loss, perf));
  if (PetscIsInfOrNanReal(*loss)) *perf = 0.0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* last-hidden-layer activations of the probe (the first nprobe test samples) at the gathered theta */
static PetscErrorCode SAClassifyProbe(SATask_Classify *c, const PetscScalar *t, PetscReal out[])
{
  SAModelBatch mb;
  PetscReal    l;

  PetscFunctionBeginUser;
  PetscCall(SAClassifyReserve_Private(c, c->nprobe));
  PetscCall(SADatasetGetRows(c->test, 0, c->nprobe, c->Xb));
  PetscCall(SAModelBatchSetRows(&mb, c->nprobe, c->Xb, NULL, NULL));
  PetscCall(SAModelForward(c->model, c->ws, t, &mb, &l));
  PetscCall(SAModelHiddenActivations(c->model, c->ws, &mb, out));
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
PetscErrorCode SAClassifyComputeObservables_Private(SATask task, Vec theta, Vec grad, const SABatch *batch,
                                                    PetscReal vals[])
{
  SATask_Classify   *c = (SATask_Classify *) task->data;
  PetscInt           L = c->L, K = c->K, rs, re, B = SAClassifyBatchSize_Private(c, batch);
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
  PetscCallMPI(
    MPI_Allreduce(MPI_IN_PLACE, loc, (PetscMPIInt) (2 * L), MPIU_REAL, MPI_SUM, PetscObjectComm((PetscObject) task)));
  for (PetscInt i = 0; i < 2 * L; i++) vals[i] = PetscSqrtReal(loc[i]);
  {
    PetscReal G2, S, coh;

    PetscCall(SAClassifyMicroGradients_Private(task, theta, batch, &G2, &S, &coh));
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
      PetscCall(SAClassifyGather_Private(c, t0, c->vfull));
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
