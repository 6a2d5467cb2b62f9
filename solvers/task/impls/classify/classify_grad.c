/*
  classify_grad.c - SATASKCLASSIFY: gathering theta to every rank, the loss gradient (batch mean, learning signal,
  gradient noise), the exact Hessian-vector product of the same loss, the micro-batch gradients, and the
  reduce-scatter of the summed products into the shard layout.
*/
#include "classifyimpl.h"

/*
  Gathers theta (and v) to every rank. It also completes the HVP reuse record of the last gradient lazily: the gradient
  notes only the id and state of its theta Vec (copying P values per step cost 5-10% of a large step), and the copy
  into fwdtheta is made here when that Vec, unchanged, is gathered (SATaskHessianMult gathers theta first). Gathering
  any other Vec, or that Vec after a change, drops the reuse instead (ws is then recomputed when needed).
  On one rank the copy into full is skipped when full already holds that Vec unchanged (same ids and states of both:
  many HVPs at one theta, or a gradient and an HVP in turn, gather the same theta again).
*/
PetscErrorCode SAClassifyGather_Private(SATask_Classify *c, Vec x, Vec full)
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
  PetscCallMPI(MPI_Comm_size(PetscObjectComm((PetscObject) task), &size));
  PetscCall(VecGetLocalSize(out, &n));
  PetscCall(VecGetArray(out, &a));
  if (size > 1) {
    PetscCall(PetscLogEventBegin(SATASK_Exchange, 0, 0, 0, 0));
    PetscCallMPI(MPI_Reduce_scatter(c->gfull, a, c->counts, MPIU_REAL, MPI_SUM, PetscObjectComm((PetscObject) task)));
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
PetscErrorCode SAClassifyMicroGradients_Private(SATask task, Vec theta, const SABatch *batch, PetscReal *G2out,
                                                PetscReal *Sout, PetscReal *cohout)
{
  SATask_Classify   *c = (SATask_Classify *) task->data;
  PetscInt           L = c->L, K = c->K, P = c->P, nl, B, k0;
  const PetscScalar *t;
  const double      *masks[SA_MLP_MAXL] = {NULL};
  PetscMPIInt        rank, size;

  PetscFunctionBeginUser;
  PetscCall(SAClassifyGather_Private(c, theta, c->full));
  c->fwdstep = -1; /* ws is overwritten below */
  PetscCall(SAClassifyBatchRows_Private(task, batch, &nl, &B));
  PetscCall(SAClassifyMasks_Private(c, nl, masks));
  PetscCallMPI(MPI_Comm_rank(PetscObjectComm((PetscObject) task), &rank));
  PetscCallMPI(MPI_Comm_size(PetscObjectComm((PetscObject) task), &size));
  k0 = (B * rank) / size;
  if (!c->micro) PetscCall(PetscMalloc1(K * P, &c->micro));
  PetscCall(PetscArrayzero(c->micro, K * P));
  PetscCall(VecGetArrayRead(c->full, &t));
  for (PetscInt j = 0; j < K; j++) {
    PetscInt lo = PetscMax((B * j) / K, k0) - k0, hi = PetscMin((B * (j + 1)) / K, k0 + nl) - k0;

    if (hi > lo) {
      const double *sub[SA_MLP_MAXL] = {NULL};
      PetscReal     l;
      SAModelBatch  mb;

      for (PetscInt q = 1; q < L; q++) sub[q - 1] = masks[q - 1] ? masks[q - 1] + lo * c->w[q] : NULL;
      PetscCall(SAModelBatchSetRows(&mb, hi - lo, &c->Xb[lo * c->w[0]], &c->yb[lo], c->dropout > 0 ? sub : NULL));
      PetscCall(SAModelForward(c->model, c->ws, t, &mb, &l));
      PetscCall(SAModelBackward(c->model, c->ws, t, &mb, &c->micro[j * P]));
    }
  }
  PetscCall(VecRestoreArrayRead(c->full, &t));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, c->micro, (PetscMPIInt) (K * P), MPIU_REAL, MPI_SUM,
                             PetscObjectComm((PetscObject) task)));
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
  the learning-signal factors and terms of SAClassifySignal_Private times 1/B): the backward pass is linear in D, so the
  gradient comes out as a mean with no pass over P values (exact, so bitwise the same as scaling afterwards, when B is
  a power of two). The HVP sets the modifier of SAClassifySignal_Private as it is (no 1/B) and scales its sum by 1/B
  after: the derivative of this mean gradient either way.
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

PetscErrorCode SAClassifyLossGradient_Private(SATask task, Vec theta, const SABatch *batch, PetscReal *loss, Vec grad)
{
  SATask_Classify   *c = (SATask_Classify *) task->data;
  PetscInt           nl, B;
  const double      *masks[SA_MLP_MAXL] = {NULL};
  const PetscScalar *t;
  PetscScalar       *gout;
  PetscReal          lsum = 0;
  PetscMPIInt        size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PetscObjectComm((PetscObject) task), &size));
  /* a group of one rank works on theta and grad directly: no gather, no reduce-scatter copy (same values) */
  if (size > 1) PetscCall(SAClassifyGather_Private(c, theta, c->full));
  PetscCall(SAClassifyBatchRows_Private(task, batch, &nl, &B));
  PetscCall(SAClassifyMasks_Private(c, nl, masks));
  PetscCall(VecGetArrayRead(size > 1 ? c->full : theta, &t));
  if (size > 1) gout = c->gfull;
  else PetscCall(VecGetArray(grad, &gout));
  PetscCall(PetscArrayzero(gout, c->P));
  if (nl > 0) {
    PetscBool    sig;
    SAModelBatch mb;

    PetscCall(SAModelBatchSetRows(&mb, nl, c->Xb, c->yb, c->dropout > 0 ? masks : NULL));
    PetscCall(SAModelForward(c->model, c->ws, t, &mb, &lsum));
    PetscCall(SAClassifySignal_Private(task, batch, nl, &sig));
    PetscCall(SAClassifyMeanSignal(c, nl, B, sig));
    PetscCall(SAModelBackward(c->model, c->ws, t, &mb, gout));
    PetscCall(SAModelSetSignalModifier(c->model, NULL, NULL));
  }
  PetscCall(VecRestoreArrayRead(size > 1 ? c->full : theta, &t));
  /* ws holds the forward state of (batch, theta): on several ranks fwdtheta is filled lazily by
     SAClassifyGather_Private; one rank records the Vec's id and state only (theta is not copied,
     SAClassifyHessianMult_Private compares them) */
  c->fwdstep  = 0;
  c->fwdbatch = *batch;
  if (size > 1) {
    PetscCall(PetscObjectGetId((PetscObject) theta, &c->fwdid));
    PetscCall(VecGetState(theta, &c->fwdstate));
  } else {
    PetscCall(PetscObjectGetId((PetscObject) theta, &c->fwdoid));
    PetscCall(VecGetState(theta, &c->fwdost));
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &lsum, 1, MPIU_REAL, MPI_SUM, PetscObjectComm((PetscObject) task)));
  *loss = lsum / B;
  if (size > 1) PetscCall(SAClassifyReduceScatter(task, 1, grad)); /* already a mean */
  else PetscCall(VecRestoreArray(grad, &gout));
  if (task->noise * batch->noise_scale != 0.0 && !batch->probe) { /* controlled stochasticity: gradient noise */
    SAStream  ns;
    PetscReal sigma = task->noise * batch->noise_scale;

    if (c->noise_mode == 1) { /* scaled to the measured noise: sigma sqrt(tr(Sigma_B) / P), Sigma_B = cov of the batch
                                 mean gradient, estimated as S / K from the micro-batches */
      PetscReal S;

      PetscCall(SAClassifyMicroGradients_Private(task, theta, batch, NULL, &S, NULL));
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
  PetscBool          reuse, sig = PETSC_FALSE;

  PetscFunctionBeginUser;
  PetscCheck(Hv != theta && Hv != v, PetscObjectComm((PetscObject) task), PETSC_ERR_ARG_IDN,
             "Hv must differ from theta and v");
  PetscCall(PetscObjectGetId((PetscObject) theta, &id));
  PetscCall(VecGetState(theta, &st));
  reuse = (PetscBool) (c->fwdstep == 0 && !memcmp(&c->fwdbatch, batch, sizeof(SABatch)) && id == c->fwdoid &&
                       st == c->fwdost);
  if (reuse) PetscCall(SAClassifyLocalRows_Private(task, batch, &nl, &B));
  else PetscCall(SAClassifyBatchRows_Private(task, batch, &nl, &B));
  PetscCall(SAClassifyMasks_Private(c, nl, masks));
  PetscCall(VecGetArrayRead(theta, &t));
  PetscCall(VecGetArrayRead(v, &vv));
  PetscCall(VecGetArray(Hv, &h));
  PetscCall(PetscArrayzero(h, c->P));
  if (nl > 0) {
    SAModelBatch mb;

    PetscCall(SAModelBatchSetRows(&mb, nl, c->Xb, c->yb, c->dropout > 0 ? masks : NULL));
    if (!reuse) {
      PetscReal lignored;

      PetscCall(SAModelForward(c->model, c->ws, t, &mb, &lignored));
      c->fwdstep  = 0;
      c->fwdbatch = *batch;
      c->fwdoid   = id;
      c->fwdost   = st;
    }
    PetscCall(SAClassifySignal_Private(task, batch, nl, &sig)); /* the modifier of the gradient, without its 1/B */
    PetscCall(SAModelHessianMult(c->model, c->ws, t, vv, &mb, h));
    if (sig) PetscCall(SAModelSetSignalModifier(c->model, NULL, NULL));
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

PetscErrorCode SAClassifyHessianMult_Private(SATask task, Vec theta, const SABatch *batch, Vec v, Vec Hv)
{
  SATask_Classify   *c  = (SATask_Classify *) task->data;
  PetscInt           nl = 0, B = 1;
  const double      *masks[SA_MLP_MAXL] = {NULL};
  const PetscScalar *t, *vv;
  PetscBool          reuse, sig = PETSC_FALSE;
  PetscMPIInt        size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PetscObjectComm((PetscObject) task), &size));
  if (size == 1) { /* no gather, no full-length product */
    PetscCall(SAClassifyHessianMultOne(task, theta, batch, v, Hv));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(SAClassifyGather_Private(c, theta, c->full));
  PetscCall(SAClassifyGather_Private(c, v, c->vfull));
  PetscCall(VecGetArrayRead(c->full, &t));
  /* the forward state of the same batch at the same theta is still in ws: reuse it (the HVP only reads it) */
  reuse = (PetscBool) (c->fwdstep == 0 && !memcmp(&c->fwdbatch, batch, sizeof(SABatch)) && c->fwdtheta &&
                       !memcmp(c->fwdtheta, t, sizeof(PetscScalar) * c->P));
  if (reuse) PetscCall(SAClassifyLocalRows_Private(task, batch, &nl, &B));
  else PetscCall(SAClassifyBatchRows_Private(task, batch, &nl, &B));
  PetscCall(SAClassifyMasks_Private(c, nl, masks));
  PetscCall(PetscArrayzero(c->gfull, c->P));
  PetscCall(VecGetArrayRead(c->vfull, &vv));
  if (nl > 0) {
    SAModelBatch mb;

    PetscCall(SAModelBatchSetRows(&mb, nl, c->Xb, c->yb, c->dropout > 0 ? masks : NULL));
    if (!reuse) {
      PetscReal lignored;

      PetscCall(SAModelForward(c->model, c->ws, t, &mb, &lignored));
      if (!c->fwdtheta) PetscCall(PetscMalloc1(c->P, &c->fwdtheta));
      PetscCall(PetscArraycpy(c->fwdtheta, t, c->P));
      c->fwdstep  = 0;
      c->fwdbatch = *batch;
    }
    PetscCall(SAClassifySignal_Private(task, batch, nl, &sig)); /* the modifier of the gradient, without its 1/B */
    PetscCall(SAModelHessianMult(c->model, c->ws, t, vv, &mb, c->gfull));
    if (sig) PetscCall(SAModelSetSignalModifier(c->model, NULL, NULL));
  }
  PetscCall(VecRestoreArrayRead(c->vfull, &vv));
  PetscCall(VecRestoreArrayRead(c->full, &t));
  PetscCall(SAClassifyReduceScatter(task, B, Hv));
  PetscFunctionReturn(PETSC_SUCCESS);
}
