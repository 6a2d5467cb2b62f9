/*
  classify_batch.c - SATASKCLASSIFY: the batch rows of a rank: which samples a batch description selects (probe,
  full batch, epoch permutations, class imbalance), their copies after data perturbations (label noise, covariate
  shift, input noise), the dropout masks and the learning-signal modifier of the output-layer gradient.
*/
#include "classifyimpl.h"

/* the number of samples of a batch: a probe batch, the full training set, or the (scaled) minibatch */
PetscInt SAClassifyBatchSize_Private(SATask_Classify *c, const SABatch *batch)
{
  if (batch->probe > 0) return PetscMin(batch->probe, c->train->n);
  if (batch->probe < 0 || !c->batch) return c->train->n;
  return PetscMax(1, (PetscInt) PetscFloorReal(c->batch * batch->batch_scale + 0.5));
}

/* the number of batch rows of this rank and the batch size */
PetscErrorCode SAClassifyLocalRows_Private(SATask task, const SABatch *batch, PetscInt *nlocal, PetscInt *B)
{
  SATask_Classify *c = (SATask_Classify *) task->data;
  PetscMPIInt      rank, size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PetscObjectComm((PetscObject) task), &rank));
  PetscCallMPI(MPI_Comm_size(PetscObjectComm((PetscObject) task), &size));
  *B      = SAClassifyBatchSize_Private(c, batch);
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
PetscErrorCode SAClassifyBatchRows_Private(SATask task, const SABatch *batch, PetscInt *nlocal, PetscInt *B)
{
  SATask_Classify *c = (SATask_Classify *) task->data;
  PetscMPIInt      rank, size;
  PetscInt         n = c->train->n, d = c->train->d, C = c->train->nclass, k0, k1;
  SAStream         bs, ps, ls, ns;
  PetscReal        wc[SA_CLASSIFY_MAXC];

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(SATASK_BatchRows, 0, 0, 0, 0));
  PetscCallMPI(MPI_Comm_rank(PetscObjectComm((PetscObject) task), &rank));
  PetscCallMPI(MPI_Comm_size(PetscObjectComm((PetscObject) task), &size));
  *B = SAClassifyBatchSize_Private(c, batch);
  k0 = (*B * rank) / size;
  k1 = (*B * (rank + 1)) / size;
  PetscCall(SAClassifyReserve_Private(c, PetscMax(1, k1 - k0)));
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
  The learning signal of the local rows (after SAClassifyBatchRows_Private): the output-layer loss gradient D of row k
  becomes s_k D + eps (onehot(y_k) - 1/C) + sigma z_k, with s_k = -1 for the flipped samples (a uniform draw of the
  signal stream at (step, k) below the flip fraction), eps the label smoothing in force and z_k ~ N(0, I_C) at (step, k
  C + c). Returns whether any is active (the model's modifier is set then).
*/
PetscErrorCode SAClassifySignal_Private(SATask task, const SABatch *batch, PetscInt nl, PetscBool *active)
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

PetscErrorCode SAClassifyMasks_Private(SATask_Classify *c, PetscInt nlocal, const double *masks[])
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
