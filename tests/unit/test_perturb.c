/*
  test_perturb.c - every perturbation kind checked quantitatively through the public interface, on the
  classify task (digits, data parallel over all ranks) and the quadratic task:

  - data kinds: the fraction of flipped labels within its binomial bound, fixed per sample and nested under a ramp;
    input noise mean and variance within their sampling bounds; the covariate shift is the same affine map at every
    magnitude; class-imbalance resampling frequencies within their binomial bounds; another shuffle stream; the
    scaled batch size;
  - learning-signal kinds: a flip of every sample negates the gradient exactly; signal noise and label smoothing
    change the gradient linearly in their magnitude and leave the recorded loss alone; loss scale and clip_off;
  - parametric kinds: the relative norm of a kick (all parameters or one layer) is the magnitude; layer reset is an
    interpolation towards one fixed fresh draw of one layer; pruning zeroes exactly floor(f P) parameters, the
    smallest; precision leaves values representable in bfloat16/float16 within half a unit in the last place;
    init_scale multiplies theta;
  - optimization kinds: lr_scale under plain SGD scales the update exactly; momentum_shift, adam_eps and
    optimizer_reset set what they say;
  - onset, duration and shape on the quadratic: gradient descent under lr_scale with each shape equals the
    closed-form recursion e_{t+1} = (I - lr_t A) e_t with lr_t from the envelope formulas written out here.

  - the class: reference counting, the options prefix as the deck block (set, append, get, the block name),
    -<block>_perturb_view, and the kinds' own setters (composed functions: SAPerturbWeightKickSetLayer,
    SAPerturbLayerResetSetLayer, SAPerturbPrecisionSetFormat), which do nothing on another kind.

  Statistical bounds are 5 standard deviations of the estimator (a false failure has probability < 1e-6 per
  check); exact identities use 1e-12 relative (reduction order only) or bitwise where no arithmetic differs.
*/
#include <stabaudit/saperturb.h>
#include <slepcsys.h>
#include <stdint.h>
#include <string.h>
#include "satest.h"

#define SEED_CAMPAIGN 11
#define SEED_MEMBER   3

static const char *const TaskOpts[] = {
  "-task_type", "classify", "-task_classify_dataset", "digits", "-task_classify_batch", "64", "-model_hidden",
  "16,8",       NULL};

static PetscErrorCode CreateTask(const char *const kv[], SATask *task, Vec *theta)
{
  PetscFunctionBeginUser;
  PetscCall(SATestSetOptions(kv));
  PetscCall(SATaskCreate(PETSC_COMM_WORLD, task));
  PetscCall(SATaskSetFromOptions(*task));
  PetscCall(SATestClearOptions(kv));
  PetscCall(SATaskSetSeeds(*task, SEED_CAMPAIGN, SEED_MEMBER));
  PetscCall(SATaskSetUp(*task));
  if (theta) {
    PetscCall(SATaskCreateParameters(*task, theta));
    PetscCall(SATaskInitialGuess(*task, *theta));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CreateOptimizer(const char *type, SAOptimizer *opt)
{
  const char *const kv[] = {"-optimizer_type", type, "-optimizer_clip", "1.0", NULL};

  PetscFunctionBeginUser;
  PetscCall(SATestCreateOptimizer(PETSC_COMM_WORLD, kv, opt));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* a perturbation block "t" of the given kind and magnitude, onset 0, with extra keys (without the "-t_" prefix) */
static PetscErrorCode CreatePerturb(const char *kind, const char *mag, const char *const extra[], SATask task,
                                    SAOptimizer opt, SAPerturb *p)
{
  char key[64];

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsSetValue(NULL, "-t_kind", kind));
  PetscCall(PetscOptionsSetValue(NULL, "-t_magnitudes", mag));
  PetscCall(PetscOptionsSetValue(NULL, "-t_onset", "0"));
  for (PetscInt i = 0; extra && extra[i]; i += 2) {
    PetscCall(PetscSNPrintf(key, sizeof(key), "-t_%s", extra[i]));
    PetscCall(PetscOptionsSetValue(NULL, key, extra[i + 1]));
  }
  PetscCall(SAPerturbCreate(PETSC_COMM_WORLD, p));
  PetscCall(SAPerturbSetOptionsPrefix(*p, "t_"));
  PetscCall(SAPerturbSetFromOptions(*p));
  PetscCall(SAPerturbSetSeeds(*p, SEED_CAMPAIGN, SEED_MEMBER));
  PetscCall(SAPerturbCheckTask(*p, task, opt));
  PetscCall(PetscOptionsClearValue(NULL, "-t_kind"));
  PetscCall(PetscOptionsClearValue(NULL, "-t_magnitudes"));
  PetscCall(PetscOptionsClearValue(NULL, "-t_onset"));
  for (PetscInt i = 0; extra && extra[i]; i += 2) {
    PetscCall(PetscSNPrintf(key, sizeof(key), "-t_%s", extra[i]));
    PetscCall(PetscOptionsClearValue(NULL, key));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the batch description a perturbation makes of the neutral batch of step t */
static PetscErrorCode PerturbedBatch(SAPerturb p, PetscInt t, PetscInt probe, SABatch *b)
{
  PetscFunctionBeginUser;
  *b       = SA_BATCH(t);
  b->probe = probe;
  PetscCall(SAPerturbApplyBatch(p, t, b));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* copies of the local rows of a batch */
static PetscErrorCode GetRows(SATask task, const SABatch *b, PetscInt *B, PetscInt *n, PetscInt *d, PetscReal **X,
                              int **y)
{
  const PetscReal *Xr;
  const int       *yr;
  PetscInt         k0, dd;
  PetscMPIInt      size;

  PetscFunctionBeginUser;
  PetscCall(SATaskClassifyGetBatchRows(task, b, B, n, &k0, &Xr, &yr));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  dd = 64; /* digits: 8 x 8 pixels */
  if (d) *d = dd;
  if (X) {
    PetscCall(PetscMalloc1(PetscMax(1, *n * dd), X));
    PetscCall(PetscArraycpy(*X, Xr, *n * dd));
  }
  if (y) {
    PetscCall(PetscMalloc1(PetscMax(1, *n), y));
    PetscCall(PetscArraycpy(*y, yr, *n));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SumAll(PetscReal v[], PetscInt n)
{
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, v, (PetscMPIInt) n, MPIU_REAL, MPI_SUM, PETSC_COMM_WORLD));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------------------------------------------- */
/* environment / data                                                                                   */
/* ---------------------------------------------------------------------------------------------------- */

static PetscErrorCode CheckLabelNoise(void)
{
  SATask    task;
  SAPerturb p;
  SABatch   b;
  PetscInt  B, n, n2, d;
  int      *y0, *y1, *y2, *yh;
  PetscReal f = 0.3, cnt[3] = {0, 0, 0}, bound;

  PetscFunctionBeginUser;
  PetscCall(CreateTask(TaskOpts, &task, NULL));
  PetscCall(CreatePerturb("label_noise", "0.3", NULL, task, NULL, &p));
  b       = SA_BATCH(0);
  b.probe = -1; /* the whole training set, in order */
  PetscCall(GetRows(task, &b, &B, &n, &d, NULL, &y0));
  PetscCall(PerturbedBatch(p, 0, -1, &b));
  PetscCall(GetRows(task, &b, &B, &n, &d, NULL, &y1));
  PetscCall(PerturbedBatch(p, 17, -1, &b)); /* another step: the same samples are mislabelled */
  PetscCall(GetRows(task, &b, &B, &n2, &d, NULL, &y2));
  b.label_noise = 0.5 * f; /* a ramp half-way: a subset of the same samples */
  PetscCall(GetRows(task, &b, &B, &n2, &d, NULL, &yh));
  for (PetscInt k = 0; k < n; k++) {
    PetscCheck(y1[k] >= 0 && y1[k] < 10, PETSC_COMM_SELF, PETSC_ERR_PLIB, "label %d out of range", y1[k]);
    PetscCheck(y1[k] == y2[k], PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "label noise not fixed per sample (row %" PetscInt_FMT ")", k);
    PetscCheck(yh[k] == y0[k] || yh[k] == y1[k], PETSC_COMM_SELF, PETSC_ERR_PLIB, "half-way flips are not nested");
    cnt[0] += y1[k] != y0[k];
    cnt[1] += yh[k] != y0[k];
  }
  PetscCall(SumAll(cnt, 2));
  bound = 5 * PetscSqrtReal(f * (1 - f) / B);
  PetscCheck(PetscAbsReal(cnt[0] / B - f) <= bound, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "flipped fraction %g, expected %g +- %g", (double) (cnt[0] / B), (double) f, (double) bound);
  bound = 5 * PetscSqrtReal(0.5 * f * (1 - 0.5 * f) / B);
  PetscCheck(PetscAbsReal(cnt[1] / B - 0.5 * f) <= bound, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "half-way flipped fraction %g, expected %g +- %g", (double) (cnt[1] / B), (double) (0.5 * f),
             (double) bound);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  label_noise: %g of %" PetscInt_FMT " labels flipped (0.3 +- %.3f)\n",
                        (double) (cnt[0] / B), B, (double) (5 * PetscSqrtReal(f * (1 - f) / B))));
  PetscCall(PetscFree(y0));
  PetscCall(PetscFree(y1));
  PetscCall(PetscFree(y2));
  PetscCall(PetscFree(yh));
  PetscCall(SAPerturbDestroy(&p));
  PetscCall(SATaskDestroy(&task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckInputNoiseAndShift(void)
{
  SATask     task;
  SAPerturb  pn, ps;
  SABatch    b, bs;
  PetscInt   B, n, d;
  PetscReal *X0, *X1, *Xs1, *Xs2, s = 0.5, mom[3] = {0, 0, 0}, N, mean, var, err = 0, nrm = 0;

  PetscFunctionBeginUser;
  PetscCall(CreateTask(TaskOpts, &task, NULL));
  PetscCall(CreatePerturb("input_noise", "0.5", NULL, task, NULL, &pn));
  b       = SA_BATCH(4);
  b.probe = -1;
  PetscCall(GetRows(task, &b, &B, &n, &d, &X0, NULL));
  PetscCall(PerturbedBatch(pn, 4, -1, &b));
  PetscCall(GetRows(task, &b, &B, &n, &d, &X1, NULL));
  for (PetscInt i = 0; i < n * d; i++) {
    mom[0] += X1[i] - X0[i];
    mom[1] += (X1[i] - X0[i]) * (X1[i] - X0[i]);
  }
  mom[2] = (PetscReal) (n * d);
  PetscCall(SumAll(mom, 3));
  N    = mom[2];
  mean = mom[0] / N;
  var  = mom[1] / N - mean * mean;
  PetscCheck(PetscAbsReal(mean) <= 5 * s / PetscSqrtReal(N), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "input noise mean %g, bound %g", (double) mean, (double) (5 * s / PetscSqrtReal(N)));
  PetscCheck(PetscAbsReal(var / (s * s) - 1) <= 5 * PetscSqrtReal(2.0 / N), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "input noise variance %g, expected %g", (double) var, (double) (s * s));

  /* covariate shift: x + a (R x + b), the same R and b at every magnitude and step */
  PetscCall(CreatePerturb("covariate_shift", "0.5", NULL, task, NULL, &ps));
  PetscCall(PerturbedBatch(ps, 4, -1, &bs));
  PetscCall(GetRows(task, &bs, &B, &n, &d, &Xs1, NULL));
  bs.covariate_shift = 1.0;
  bs.step            = 9;
  PetscCall(GetRows(task, &bs, &B, &n, &d, &Xs2, NULL));
  for (PetscInt i = 0; i < n * d; i++) {
    err += PetscSqr((Xs2[i] - X0[i]) - 2 * (Xs1[i] - X0[i]));
    nrm += PetscSqr(Xs1[i] - X0[i]);
  }
  {
    PetscReal v[2] = {err, nrm};
    PetscCall(SumAll(v, 2));
    PetscCheck(v[1] > 0 && PetscSqrtReal(v[0] / v[1]) <= 1e-12, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "covariate shift is not one affine map: relative error %g (shift norm %g)",
               (double) PetscSqrtReal(v[0] / PetscMax(v[1], 1e-300)), (double) PetscSqrtReal(v[1]));
  }
  PetscCall(PetscFree(X0));
  PetscCall(PetscFree(X1));
  PetscCall(PetscFree(Xs1));
  PetscCall(PetscFree(Xs2));
  PetscCall(SAPerturbDestroy(&pn));
  PetscCall(SAPerturbDestroy(&ps));
  PetscCall(SATaskDestroy(&task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckClassImbalanceOrderBatch(void)
{
  SATask    task;
  SAPerturb pi, po, pb;
  SABatch   b;
  PetscInt  B, n, d, steps = 200, nc[10] = {0};
  int      *y, *y0, *yo;
  PetscReal cnt[10] = {0}, w[10], Z = 0, a = 9, N, same[2] = {0, 0};

  PetscFunctionBeginUser;
  PetscCall(CreateTask(TaskOpts, &task, NULL));
  PetscCall(CreatePerturb("class_imbalance", "9", NULL, task, NULL, &pi));
  b       = SA_BATCH(0);
  b.probe = -1;
  PetscCall(GetRows(task, &b, &B, &n, &d, NULL, &y));
  { /* class sizes of the training split */
    PetscReal c[10] = {0};
    for (PetscInt k = 0; k < n; k++) c[y[k]] += 1;
    PetscCall(SumAll(c, 10));
    for (PetscInt q = 0; q < 10; q++) nc[q] = (PetscInt) c[q];
  }
  PetscCall(PetscFree(y));
  for (PetscInt t = 0; t < steps; t++) {
    PetscCall(PerturbedBatch(pi, t, 0, &b));
    PetscCall(GetRows(task, &b, &B, &n, &d, NULL, &y));
    for (PetscInt k = 0; k < n; k++) cnt[y[k]] += 1;
    PetscCall(PetscFree(y));
  }
  PetscCall(SumAll(cnt, 10));
  N = (PetscReal) steps * 64;
  for (PetscInt q = 0; q < 10; q++) Z += (w[q] = nc[q] * PetscPowReal(1 + a, -q / 9.0));
  for (PetscInt q = 0; q < 10; q++) {
    PetscReal pq = w[q] / Z;
    PetscCheck(PetscAbsReal(cnt[q] - N * pq) <= 5 * PetscSqrtReal(N * pq * (1 - pq)), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "class %" PetscInt_FMT ": %g draws, expected %g", q, (double) cnt[q], (double) (N * pq));
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "  class_imbalance 9: class 0 drawn %g times, class 9 %g (expected %.0f, %.0f)\n",
                        (double) cnt[0], (double) cnt[9], (double) (N * w[0] / Z), (double) (N * w[9] / Z)));

  /* data_order: another shuffle stream from onset (different samples), the same one at every call */
  PetscCall(CreatePerturb("data_order", "2", NULL, task, NULL, &po));
  b = SA_BATCH(3);
  PetscCall(GetRows(task, &b, &B, &n, &d, NULL, &y0));
  PetscCall(PerturbedBatch(po, 3, 0, &b));
  PetscCall(GetRows(task, &b, &B, &n, &d, NULL, &yo));
  PetscCall(GetRows(task, &b, &B, &n, &d, NULL, &y));
  for (PetscInt k = 0; k < n; k++) {
    same[0] += y[k] == yo[k];
    same[1] += y0[k] == yo[k];
  }
  PetscCall(SumAll(same, 2));
  PetscCheck(same[0] == B && same[1] < 0.5 * B, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "data_order: %g of %" PetscInt_FMT " labels repeat, %g equal the member's own order", (double) same[0], B,
             (double) same[1]);
  PetscCall(PetscFree(y));
  PetscCall(PetscFree(y0));
  PetscCall(PetscFree(yo));

  /* batch_scale: 64 x 1.5 = 96 samples */
  PetscCall(CreatePerturb("batch_scale", "1.5", NULL, task, NULL, &pb));
  PetscCall(PerturbedBatch(pb, 3, 0, &b));
  PetscCall(GetRows(task, &b, &B, &n, &d, NULL, NULL));
  PetscCheck(B == 96, PETSC_COMM_SELF, PETSC_ERR_PLIB, "batch_scale 1.5 gave a batch of %" PetscInt_FMT, B);
  PetscCall(SAPerturbDestroy(&pi));
  PetscCall(SAPerturbDestroy(&po));
  PetscCall(SAPerturbDestroy(&pb));
  PetscCall(SATaskDestroy(&task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------------------------------------------- */
/* learning signal                                                                                      */
/* ---------------------------------------------------------------------------------------------------- */

/* ||a - b - c (d - e)|| / ||d - e||, c a scalar; NULL b or e means 0 */
static PetscErrorCode RelDiff(Vec a, Vec b, PetscReal c, Vec d, Vec e, PetscReal *rel)
{
  Vec       r, s;
  PetscReal nr, ns;

  PetscFunctionBeginUser;
  PetscCall(VecDuplicate(a, &r));
  PetscCall(VecDuplicate(a, &s));
  PetscCall(VecCopy(d, s));
  if (e) PetscCall(VecAXPY(s, -1.0, e));
  PetscCall(VecCopy(a, r));
  if (b) PetscCall(VecAXPY(r, -1.0, b));
  PetscCall(VecAXPY(r, -c, s));
  PetscCall(VecNorm(r, NORM_2, &nr));
  PetscCall(VecNorm(s, NORM_2, &ns));
  *rel = ns > 0 ? nr / ns : PETSC_MAX_REAL;
  PetscCall(VecDestroy(&r));
  PetscCall(VecDestroy(&s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckSignal(void)
{
  SATask    task;
  SAPerturb pf, pn, ps;
  SABatch   b;
  Vec       theta, g0, g1, g2;
  PetscReal L0, L1, L2, rel;

  PetscFunctionBeginUser;
  PetscCall(CreateTask(TaskOpts, &task, &theta));
  PetscCall(VecDuplicate(theta, &g0));
  PetscCall(VecDuplicate(theta, &g1));
  PetscCall(VecDuplicate(theta, &g2));
  b = SA_BATCH(5);
  PetscCall(SATaskLossGradient(task, theta, &b, &L0, g0));

  /* every sample flipped: the gradient changes sign (exactly: only the sign of D changes) */
  PetscCall(CreatePerturb("signal_flip", "1", NULL, task, NULL, &pf));
  PetscCall(PerturbedBatch(pf, 5, 0, &b));
  PetscCall(SATaskLossGradient(task, theta, &b, &L1, g1));
  PetscCall(RelDiff(g1, NULL, -1.0, g0, NULL, &rel));
  PetscCheck(rel == 0.0 && L1 == L0, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "signal_flip 1: |g + g0| / |g0| = %g, loss %g vs %g", (double) rel, (double) L1, (double) L0);
  b.signal_flip = 0.0; /* fraction 0: the clean gradient, bitwise */
  PetscCall(SATaskLossGradient(task, theta, &b, &L1, g1));
  PetscCall(RelDiff(g1, NULL, 1.0, g0, NULL, &rel));
  PetscCheck(rel == 0.0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "signal_flip 0 changed the gradient (%g)", (double) rel);

  /* signal noise: the change of the gradient is linear in sigma (the same z), the loss is the clean one */
  PetscCall(CreatePerturb("signal_noise", "0.3", NULL, task, NULL, &pn));
  PetscCall(PerturbedBatch(pn, 5, 0, &b));
  PetscCall(SATaskLossGradient(task, theta, &b, &L1, g1));
  b.signal_noise = 0.6;
  PetscCall(SATaskLossGradient(task, theta, &b, &L2, g2));
  PetscCall(RelDiff(g2, g0, 2.0, g1, g0, &rel));
  PetscCheck(rel <= 1e-12 && L1 == L0 && L2 == L0, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "signal_noise not linear in sigma (%g) or loss changed", (double) rel);

  /* label smoothing: D = (1 - eps)(p - onehot) + eps (p - 1/C), linear in eps */
  PetscCall(CreatePerturb("label_smoothing", "0.1", NULL, task, NULL, &ps));
  PetscCall(PerturbedBatch(ps, 5, 0, &b));
  PetscCall(SATaskLossGradient(task, theta, &b, &L1, g1));
  b.label_smoothing = 0.2;
  PetscCall(SATaskLossGradient(task, theta, &b, &L2, g2));
  PetscCall(RelDiff(g2, g0, 2.0, g1, g0, &rel));
  PetscCheck(rel <= 1e-12 && L1 == L0 && L2 == L0, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "label_smoothing not linear in eps (%g) or loss changed", (double) rel);
  {
    SAPerturb pl;

    /* loss_scale: the gradient times the magnitude */
    PetscCall(CreatePerturb("loss_scale", "2.5", NULL, task, NULL, &pl));
    PetscCall(VecCopy(g0, g1));
    PetscCall(SAPerturbApplySignal(pl, 5, g1));
    PetscCall(RelDiff(g1, NULL, 2.5, g0, NULL, &rel));
    PetscCheck(rel <= 1e-15, PETSC_COMM_SELF, PETSC_ERR_PLIB, "loss_scale: %g", (double) rel);
    PetscCall(SAPerturbDestroy(&pl));
  }
  PetscCall(SAPerturbDestroy(&pf));
  PetscCall(SAPerturbDestroy(&pn));
  PetscCall(SAPerturbDestroy(&ps));
  PetscCall(VecDestroy(&g0));
  PetscCall(VecDestroy(&g1));
  PetscCall(VecDestroy(&g2));
  PetscCall(VecDestroy(&theta));
  PetscCall(SATaskDestroy(&task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------------------------------------------- */
/* parametric                                                                                           */
/* ---------------------------------------------------------------------------------------------------- */

/* squared norm of x over global indices [lo, hi) (all of x if hi <= lo) */
static PetscErrorCode RangeNorm(Vec x, PetscInt lo, PetscInt hi, PetscReal *nrm)
{
  const PetscScalar *a;
  PetscInt           rs, re;
  PetscReal          s = 0;

  PetscFunctionBeginUser;
  PetscCall(VecGetOwnershipRange(x, &rs, &re));
  if (hi <= lo) lo = rs, hi = re;
  PetscCall(VecGetArrayRead(x, &a));
  for (PetscInt i = PetscMax(lo, rs); i < PetscMin(hi, re); i++) s += a[i - rs] * a[i - rs];
  PetscCall(VecRestoreArrayRead(x, &a));
  PetscCall(SumAll(&s, 1));
  *nrm = PetscSqrtReal(s);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckKickAndReset(void)
{
  SATask             task;
  SAPerturb          pk, pl, pr1, pr2;
  Vec                theta, t1, th, dif;
  PetscInt           nl, rs, re;
  const PetscInt    *lo, *hi;
  PetscReal          n0, nd, nout;
  const char *const  layer2[] = {"layer", "2", NULL};
  const PetscScalar *a, *b, *c;

  PetscFunctionBeginUser;
  PetscCall(CreateTask(TaskOpts, &task, &theta));
  PetscCall(SATaskGetLayers(task, &nl, &lo, &hi));
  PetscCheck(nl == 3, PETSC_COMM_SELF, PETSC_ERR_PLIB, "16,8 hidden: %" PetscInt_FMT " layers", nl);
  PetscCall(VecDuplicate(theta, &t1));
  PetscCall(VecDuplicate(theta, &th));
  PetscCall(VecDuplicate(theta, &dif));
  /* whole kick */
  PetscCall(CreatePerturb("weight_kick", "0.2", NULL, task, NULL, &pk));
  PetscCall(VecCopy(theta, t1));
  PetscCall(SAPerturbApplyParams(pk, 0, t1));
  PetscCall(VecWAXPY(dif, -1.0, theta, t1));
  PetscCall(VecNorm(dif, NORM_2, &nd));
  PetscCall(VecNorm(theta, NORM_2, &n0));
  PetscCheck(PetscAbsReal(nd / n0 - 0.2) <= 1e-13, PETSC_COMM_SELF, PETSC_ERR_PLIB, "kick relative norm %.17g",
             (double) (nd / n0));
  /* layer 2 only */
  PetscCall(CreatePerturb("weight_kick", "0.2", layer2, task, NULL, &pl));
  PetscCall(VecCopy(theta, t1));
  PetscCall(SAPerturbApplyParams(pl, 0, t1));
  PetscCall(VecWAXPY(dif, -1.0, theta, t1));
  PetscCall(RangeNorm(dif, lo[1], hi[1], &nd));
  PetscCall(RangeNorm(theta, lo[1], hi[1], &n0));
  PetscCall(VecNorm(dif, NORM_2, &nout));
  PetscCheck(PetscAbsReal(nd / n0 - 0.2) <= 1e-13 && PetscAbsReal(nout - nd) <= 1e-15 * nd, PETSC_COMM_SELF,
             PETSC_ERR_PLIB, "layer kick: relative norm %.17g, outside the layer %g", (double) (nd / n0),
             (double) (nout - nd));
  /* layer reset: m = 0.5 is half-way to the fresh draw of m = 1; other layers untouched */
  PetscCall(CreatePerturb("layer_reset", "1", layer2, task, NULL, &pr1));
  PetscCall(CreatePerturb("layer_reset", "0.5", layer2, task, NULL, &pr2));
  PetscCall(VecCopy(theta, t1));
  PetscCall(SAPerturbApplyParams(pr1, 0, t1));
  PetscCall(VecCopy(theta, th));
  PetscCall(SAPerturbApplyParams(pr2, 0, th));
  PetscCall(VecGetOwnershipRange(theta, &rs, &re));
  PetscCall(VecGetArrayRead(theta, &a));
  PetscCall(VecGetArrayRead(t1, &b));
  PetscCall(VecGetArrayRead(th, &c));
  {
    PetscReal changed = 0;
    for (PetscInt i = rs; i < re; i++) {
      PetscBool in = (PetscBool) (i >= lo[1] && i < hi[1]);

      if (!in)
        PetscCheck(b[i - rs] == a[i - rs] && c[i - rs] == a[i - rs], PETSC_COMM_SELF, PETSC_ERR_PLIB,
                   "layer reset changed parameter %" PetscInt_FMT " outside layer 2", i);
      else {
        PetscCheck(PetscAbsReal(c[i - rs] - 0.5 * (a[i - rs] + b[i - rs])) <= 1e-15 * (1 + PetscAbsReal(b[i - rs])),
                   PETSC_COMM_SELF, PETSC_ERR_PLIB, "layer reset 0.5 is not half-way at %" PetscInt_FMT, i);
        changed += b[i - rs] != a[i - rs];
      }
    }
    PetscCall(SumAll(&changed, 1));
    /* every weight of layer 2 (8 x 16) is redrawn; its 8 biases start at 0 and are drawn as 0 again */
    PetscCheck(changed == hi[1] - lo[1] - 8, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "layer reset changed %g entries, expected the %" PetscInt_FMT " weights", (double) changed,
               hi[1] - lo[1] - 8);
  }
  PetscCall(VecRestoreArrayRead(th, &c));
  PetscCall(VecRestoreArrayRead(t1, &b));
  PetscCall(VecRestoreArrayRead(theta, &a));
  PetscCall(SAPerturbDestroy(&pk));
  PetscCall(SAPerturbDestroy(&pl));
  PetscCall(SAPerturbDestroy(&pr1));
  PetscCall(SAPerturbDestroy(&pr2));
  PetscCall(VecDestroy(&t1));
  PetscCall(VecDestroy(&th));
  PetscCall(VecDestroy(&dif));
  PetscCall(VecDestroy(&theta));
  PetscCall(SATaskDestroy(&task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckPruneAndPrecision(void)
{
  SATask            task;
  SAPerturb         pp, pb, pf, p3, pi;
  Vec               theta, t, z;
  SAStream          s;
  PetscInt          P, rs, re;
  PetscScalar      *a;
  PetscReal         zeros = 0, maxz = 0, mink = PETSC_MAX_REAL;
  const char *const f16[] = {"format", "float16", NULL};

  PetscFunctionBeginUser;
  PetscCall(CreateTask(TaskOpts, &task, &theta));
  PetscCall(VecDuplicate(theta, &t));
  PetscCall(VecDuplicate(theta, &z));
  PetscCall(SAStreamCreate(SEED_CAMPAIGN, SEED_MEMBER, SA_STREAM_TEST, &s));
  PetscCall(SAStreamVecNormal(&s, 0, z));
  PetscCall(VecAXPY(theta, 1e-3, z)); /* no zero entries (the biases start at 0) */
  PetscCall(VecGetSize(theta, &P));
  PetscCall(VecGetOwnershipRange(theta, &rs, &re));

  /* prune 0.3: exactly floor(0.3 P) zeros, none larger than a survivor */
  PetscCall(CreatePerturb("prune", "0.3", NULL, task, NULL, &pp));
  PetscCall(VecCopy(theta, t));
  PetscCall(SAPerturbApplyParams(pp, 0, t));
  {
    const PetscScalar *o, *q;
    PetscCall(VecGetArrayRead(theta, &o));
    PetscCall(VecGetArrayRead(t, &q));
    for (PetscInt i = 0; i < re - rs; i++) {
      if (q[i] == 0) {
        zeros += 1;
        maxz = PetscMax(maxz, PetscAbsReal(o[i]));
      } else {
        PetscCheck(q[i] == o[i], PETSC_COMM_SELF, PETSC_ERR_PLIB, "prune changed a survivor");
        mink = PetscMin(mink, PetscAbsReal(o[i]));
      }
    }
    PetscCall(VecRestoreArrayRead(t, &q));
    PetscCall(VecRestoreArrayRead(theta, &o));
  }
  PetscCall(SumAll(&zeros, 1));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &maxz, 1, MPIU_REAL, MPI_MAX, PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &mink, 1, MPIU_REAL, MPI_MIN, PETSC_COMM_WORLD));
  PetscCheck(zeros == PetscFloorReal(0.3 * P) && maxz <= mink, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "prune: %g zeros of %" PetscInt_FMT " (expected %g), largest pruned %g, smallest kept %g", (double) zeros,
             P, (double) PetscFloorReal(0.3 * P), (double) maxz, (double) mink);

  /* precision: representable in the format, within half a unit in the last place */
  PetscCall(CreatePerturb("precision", "7", NULL, task, NULL, &pb));
  PetscCall(CreatePerturb("precision", "10", f16, task, NULL, &pf));
  PetscCall(CreatePerturb("precision", "3", NULL, task, NULL, &p3));
  for (PetscInt k = 0; k < 3; k++) {
    const PetscScalar *o;
    PetscInt           bits = k == 0 ? 7 : (k == 1 ? 10 : 3);

    PetscCall(VecCopy(theta, t));
    PetscCall(VecScale(t, 1e3)); /* float16 range matters: values up to a few hundred */
    PetscCall(SAPerturbApplyParams(k == 0 ? pb : (k == 1 ? pf : p3), 0, t));
    PetscCall(VecGetArrayRead(theta, &o));
    PetscCall(VecGetArray(t, &a));
    for (PetscInt i = 0; i < re - rs; i++) {
      PetscReal x = 1e3 * o[i], y = a[i];
      float     fy = (float) y;
      uint32_t  u;

      memcpy(&u, &fy, sizeof(u));
      PetscCheck(PetscAbsReal(y - x) <= ldexp(PetscAbsReal(x), (int) -bits - 1) + 1e-300, PETSC_COMM_SELF,
                 PETSC_ERR_PLIB, "precision %" PetscInt_FMT " bits: %.17g rounded to %.17g", bits, (double) x,
                 (double) y);
      if (k == 1) {
#if defined(__FLT16_MANT_DIG__)
        PetscCheck((double) (_Float16) y == y, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%.17g is not a float16", (double) y);
#endif
        PetscCheck((double) fy == y && (u & 0x1FFFu) == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                   "%.17g has more than 10 mantissa bits", (double) y);
      } else
        PetscCheck((double) fy == y && (u & ((1u << (23 - bits)) - 1)) == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                   "%.17g has more than %" PetscInt_FMT " mantissa bits", (double) y, bits);
    }
    PetscCall(VecRestoreArray(t, &a));
    PetscCall(VecRestoreArrayRead(theta, &o));
  }
  { /* float16 overflow and subnormals, bfloat16 ties to even */
    PetscReal y;
    PetscCall(SAPerturbRoundToFormat(70000.0, 10, -14, 15, &y));
    PetscCheck(PetscIsInfReal(y), PETSC_COMM_SELF, PETSC_ERR_PLIB, "70000 in float16: %g", (double) y);
    PetscCall(SAPerturbRoundToFormat(65504.0, 10, -14, 15, &y));
    PetscCheck(y == 65504.0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "65504 in float16: %g", (double) y);
    PetscCall(SAPerturbRoundToFormat(ldexp(1.0, -24) * 0.75, 10, -14, 15, &y)); /* rounds to the smallest subnormal */
    PetscCheck(y == ldexp(1.0, -24), PETSC_COMM_SELF, PETSC_ERR_PLIB, "subnormal: %g", (double) y);
    PetscCall(SAPerturbRoundToFormat(1.0 + ldexp(1.0, -8), 7, -126, 127, &y)); /* a tie: to the even 1.0 */
    PetscCheck(y == 1.0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "tie to even: %.17g", (double) y);
  }
  /* init_scale: theta times the magnitude */
  PetscCall(CreatePerturb("init_scale", "2", NULL, task, NULL, &pi));
  PetscCall(VecCopy(theta, t));
  PetscCall(SAPerturbApplyParams(pi, 0, t));
  PetscCall(VecAXPY(t, -2.0, theta));
  {
    PetscReal n;
    PetscCall(VecNorm(t, NORM_INFINITY, &n));
    PetscCheck(n == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "init_scale 2: %g", (double) n);
  }
  PetscCall(SAPerturbDestroy(&pp));
  PetscCall(SAPerturbDestroy(&pb));
  PetscCall(SAPerturbDestroy(&pf));
  PetscCall(SAPerturbDestroy(&p3));
  PetscCall(SAPerturbDestroy(&pi));
  PetscCall(VecDestroy(&t));
  PetscCall(VecDestroy(&z));
  PetscCall(VecDestroy(&theta));
  PetscCall(SATaskDestroy(&task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------------------------------------------- */
/* optimization                                                                                         */
/* ---------------------------------------------------------------------------------------------------- */

static PetscErrorCode CheckOptimizationKinds(void)
{
  SATask             task;
  SAOptimizer        sgd, mom, adam;
  SAPerturb          p;
  Vec                theta, g, t0, t1, *st;
  SAHyper            h;
  PetscInt           ns;
  const char *const *names;
  PetscReal          L, rel, n0, n1;
  SABatch            b      = SA_BATCH(0);
  const char *const  ramp[] = {"duration", "4", "shape", "ramp", NULL};

  PetscFunctionBeginUser;
  PetscCall(CreateTask(TaskOpts, &task, &theta));
  PetscCall(VecDuplicate(theta, &g));
  PetscCall(VecDuplicate(theta, &t0));
  PetscCall(VecDuplicate(theta, &t1));
  PetscCall(SATaskLossGradient(task, theta, &b, &L, g));
  PetscCall(VecScale(g, 1e-3)); /* below the clipping threshold 1 */

  /* lr_scale under plain SGD: the update is exactly m times the twin's */
  PetscCall(CreateOptimizer("sgd", &sgd));
  PetscCall(SAOptimizerSetUp(sgd, theta));
  PetscCall(CreatePerturb("lr_scale", "3", NULL, task, sgd, &p));
  PetscCall(VecSet(t0, 0.0)); /* from theta = 0 the new theta is the update itself: no cancellation */
  PetscCall(SAOptimizerGetHyper(sgd, 0, &h));
  PetscCall(SAOptimizerUpdate(sgd, &h, t0, g));
  PetscCall(VecSet(t1, 0.0));
  PetscCall(SAPerturbApplyOptimizer(p, 0, sgd, &h));
  PetscCall(SAOptimizerUpdate(sgd, &h, t1, g));
  PetscCall(RelDiff(t1, NULL, 3.0, t0, NULL, &rel));
  PetscCheck(rel <= 1e-14, PETSC_COMM_SELF, PETSC_ERR_PLIB, "lr_scale 3 under sgd: %g", (double) rel);
  PetscCall(SAPerturbDestroy(&p));

  /* momentum_shift (ramp over 4 steps: (k+1)/4 of the way), optimizer_reset */
  PetscCall(CreateOptimizer("momentum", &mom));
  PetscCall(SAOptimizerSetUp(mom, theta));
  PetscCall(CreatePerturb("momentum_shift", "0.1", ramp, task, mom, &p));
  for (PetscInt t = 0; t < 6; t++) {
    PetscReal m0, e = PetscMin(1.0, (t + 1) / 4.0);

    PetscCall(SAOptimizerGetHyper(mom, t, &h));
    m0 = h.momentum;
    PetscCall(SAPerturbApplyOptimizer(p, t, mom, &h));
    PetscCheck(PetscAbsReal(h.momentum - ((t < 4 ? (1 - e) * m0 + e * 0.1 : m0))) <= 1e-15, PETSC_COMM_SELF,
               PETSC_ERR_PLIB, "momentum_shift at step %" PetscInt_FMT ": %g", t, (double) h.momentum);
  }
  PetscCall(SAPerturbDestroy(&p));
  PetscCall(SAOptimizerGetHyper(mom, 0, &h));
  PetscCall(VecCopy(theta, t0));
  PetscCall(SAOptimizerUpdate(mom, &h, t0, g));
  PetscCall(SAOptimizerGetState(mom, &ns, &st, &names));
  PetscCall(VecNorm(st[0], NORM_2, &n0));
  PetscCall(CreatePerturb("optimizer_reset", "0.25", NULL, task, mom, &p));
  PetscCall(SAPerturbApplyOptimizer(p, 0, mom, &h));
  PetscCall(VecNorm(st[0], NORM_2, &n1));
  PetscCheck(n0 > 0 && PetscAbsReal(n1 - 0.75 * n0) <= 1e-15 * n0, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "optimizer_reset 0.25: velocity %g -> %g", (double) n0, (double) n1);
  PetscCall(SAPerturbDestroy(&p));

  /* adam: momentum_shift sets beta1, adam_eps sets eps, optimizer_reset 1 zeroes m and v; clip_off */
  PetscCall(CreateOptimizer("adam", &adam));
  PetscCall(SAOptimizerSetUp(adam, theta));
  PetscCall(VecCopy(theta, t0));
  PetscCall(SAOptimizerGetHyper(adam, 0, &h));
  PetscCall(SAOptimizerUpdate(adam, &h, t0, g));
  PetscCall(CreatePerturb("momentum_shift", "0.5", NULL, task, adam, &p));
  PetscCall(SAPerturbApplyOptimizer(p, 1, adam, &h));
  PetscCheck(h.beta1 == 0.5, PETSC_COMM_SELF, PETSC_ERR_PLIB, "adam beta1 %g", (double) h.beta1);
  PetscCall(SAPerturbDestroy(&p));
  PetscCall(CreatePerturb("adam_eps", "0.01", NULL, task, adam, &p));
  PetscCall(SAPerturbApplyOptimizer(p, 1, adam, &h));
  PetscCheck(h.eps == 0.01, PETSC_COMM_SELF, PETSC_ERR_PLIB, "adam eps %g", (double) h.eps);
  PetscCall(SAPerturbDestroy(&p));
  PetscCall(CreatePerturb("clip_off", "0", NULL, task, adam, &p));
  PetscCall(SAPerturbApplyOptimizer(p, 1, adam, &h));
  PetscCheck(h.clip == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "clip_off 0: clip %g", (double) h.clip);
  PetscCall(SAPerturbDestroy(&p));
  PetscCall(CreatePerturb("optimizer_reset", "1", NULL, task, adam, &p));
  PetscCall(SAPerturbApplyOptimizer(p, 1, adam, &h)); /* a one-step pulse at onset 0: nothing at step 1 */
  PetscCall(SAOptimizerGetState(adam, &ns, &st, &names));
  PetscCall(VecNorm(st[0], NORM_INFINITY, &n1));
  PetscCheck(n1 > 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "optimizer_reset acted outside its window");
  PetscCall(SAPerturbApplyOptimizer(p, 0, adam, &h));
  PetscCall(SAOptimizerGetState(adam, &ns, &st, &names));
  for (PetscInt i = 0; i < ns; i++) {
    PetscCall(VecNorm(st[i], NORM_INFINITY, &n1));
    PetscCheck(n1 == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "optimizer_reset 1 left %s at %g", names[i], (double) n1);
  }
  PetscCheck(ns == 2, PETSC_COMM_SELF, PETSC_ERR_PLIB, "adam has %" PetscInt_FMT " state vectors", ns);
  PetscCall(SAPerturbDestroy(&p));
  PetscCall(SAOptimizerDestroy(&sgd));
  PetscCall(SAOptimizerDestroy(&mom));
  PetscCall(SAOptimizerDestroy(&adam));
  PetscCall(VecDestroy(&g));
  PetscCall(VecDestroy(&t0));
  PetscCall(VecDestroy(&t1));
  PetscCall(VecDestroy(&theta));
  PetscCall(SATaskDestroy(&task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------------------------------------------- */
/* onset, duration and shape on the quadratic: closed form                                              */
/* ---------------------------------------------------------------------------------------------------- */

/* the envelope written out from docs/perturbations.md (independent of SAPerturbGetEnvelope) */
static PetscReal Envelope(PetscInt t, PetscInt onset, PetscInt dur, PetscInt shape, PetscReal tau)
{
  PetscInt k = t - onset;

  if (k < 0 || (dur > 0 && k >= dur)) return 0.0;
  if (shape == 0) return 1.0;
  if (shape == 1) return PetscMin(1.0, (k + 1.0) / (dur > 0 ? (PetscReal) dur : tau));
  return PetscExpReal(-k / tau);
}

static PetscErrorCode CheckQuadraticWindows(void)
{
  const char *const qopts[]  = {"-task_type",
                                "quadratic",
                                "-task_quadratic_dim",
                                "40",
                                "-task_quadratic_lambda_max",
                                "1.0",
                                "-task_quadratic_lambda_min",
                                "0.05",
                                NULL};
  const char *const shapes[] = {"step", "ramp", "exp"};
  PetscInt          durs[]   = {1, 5, -1};

  PetscFunctionBeginUser;
  for (PetscInt sh = 0; sh < 3; sh++)
    for (PetscInt di = 0; di < 3; di++) {
      SASolver    s;
      SATask      task, ref;
      SAOptimizer opt;
      SAPerturb   p;
      Vec         theta, e, Ae, star;
      char        dur[16];
      const char *extra[] = {"duration", dur, "shape", shapes[sh], "tau", "3", NULL};
      PetscReal   lr = 0.5, m = 3.0, rel, L;
      PetscInt    onset = 4, nsteps = 14;
      SABatch     b = SA_BATCH(0);

      PetscCall(PetscSNPrintf(dur, sizeof(dur), "%" PetscInt_FMT, durs[di]));
      PetscCall(CreateTask(qopts, &task, NULL));
      PetscCall(PetscOptionsSetValue(NULL, "-optimizer_lr", "0.5"));
      PetscCall(CreateOptimizer("sgd", &opt));
      PetscCall(PetscOptionsClearValue(NULL, "-optimizer_lr"));
      PetscCall(SAOptimizerSetClip(opt, 0));
      PetscCall(CreatePerturb("lr_scale", "3", extra, task, opt, &p));
      PetscCall(SAPerturbSetWindow(p, onset, durs[di], (SAPerturbShape) sh));
      PetscCall(SASolverCreate(PETSC_COMM_WORLD, &s));
      PetscCall(SASolverSetTask(s, task));
      PetscCall(SASolverSetOptimizer(s, opt));
      PetscCall(SAPerturbAttach(p, s));
      PetscCall(SASolverSetSteps(s, nsteps, 1));
      PetscCall(SASolverSetUp(s));
      for (PetscInt t = 0; t < nsteps; t++) PetscCall(SASolverStep(s));
      PetscCall(SASolverGetTheta(s, &theta));

      /* reference: theta_{t+1} = theta_t - lr_t grad(theta_t), lr_t = lr (1 + (m - 1) env(t)), noise-free gradient */
      PetscCall(CreateTask(qopts, &ref, &e));
      PetscCall(VecDuplicate(e, &Ae));
      PetscCall(VecDuplicate(e, &star));
      for (PetscInt t = 0; t < nsteps; t++) {
        PetscReal lrt = lr * (1 + (m - 1) * Envelope(t, onset, durs[di], sh, 3.0));

        b.step = t;
        PetscCall(SATaskLossGradient(ref, e, &b, &L, Ae));
        PetscCall(VecAXPY(e, -lrt, Ae));
      }
      PetscCall(RelDiff(theta, NULL, 1.0, e, NULL, &rel));
      PetscCheck(rel <= 1e-12, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "lr_scale shape %s duration %" PetscInt_FMT ": solver and closed-form recursion differ by %g",
                 shapes[sh], durs[di], (double) rel);
      PetscCall(VecDestroy(&e));
      PetscCall(VecDestroy(&Ae));
      PetscCall(VecDestroy(&star));
      PetscCall(SATaskDestroy(&ref));
      PetscCall(SASolverDestroy(&s));
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------------------------------------------- */
/* controlled stochasticity: gradient noise scaled to the measured noise                                */
/* ---------------------------------------------------------------------------------------------------- */

/* With noise_mode scaled the gradient noise is sigma sqrt(tr(Sigma_B) / P) xi, xi the same N(0, I) draw as the
   isotropic mode's; tr(Sigma_B) = S / K from K equal micro-batches, and the recorded gradient noise scale is
   (B / K) S / |G|^2 with G the clean batch gradient, so the factor must be sqrt(gns |G|^2 / (B P)). */
static PetscErrorCode CheckScaledNoise(void)
{
  const char *const       iso[] = {"-task_classify_noise_mode", "isotropic", NULL};
  const char *const       scl[] = {"-task_classify_noise_mode", "scaled", NULL};
  SATask                  ti, ts;
  Vec                     theta, g0, gi, gs;
  SABatch                 b = SA_BATCH(6);
  PetscReal               L, sigma = 0.5, ni, ns, G, vals[64], gns = -1, expect;
  PetscInt                nobs, P;
  const SAObservableInfo *info;

  PetscFunctionBeginUser;
  PetscCall(SATestSetOptions(iso));
  PetscCall(CreateTask(TaskOpts, &ti, &theta));
  PetscCall(SATestClearOptions(iso));
  PetscCall(SATestSetOptions(scl));
  PetscCall(CreateTask(TaskOpts, &ts, NULL));
  PetscCall(SATestClearOptions(scl));
  PetscCall(VecDuplicate(theta, &g0));
  PetscCall(VecDuplicate(theta, &gi));
  PetscCall(VecDuplicate(theta, &gs));
  PetscCall(VecGetSize(theta, &P));
  PetscCall(SATaskLossGradient(ti, theta, &b, &L, g0));
  PetscCall(SATaskGetObservables(ti, &nobs, &info));
  PetscCall(SATaskComputeObservables(ti, theta, g0, &b, vals));
  for (PetscInt i = 0; i < nobs; i++)
    if (!strcmp(info[i].name, "grad_noise_scale")) gns = vals[i];
  PetscCheck(gns > 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "no grad_noise_scale observable");
  PetscCall(SATaskSetNoise(ti, sigma));
  PetscCall(SATaskSetNoise(ts, sigma));
  PetscCall(SATaskLossGradient(ti, theta, &b, &L, gi));
  PetscCall(SATaskLossGradient(ts, theta, &b, &L, gs));
  PetscCall(VecAXPY(gi, -1.0, g0));
  PetscCall(VecAXPY(gs, -1.0, g0));
  PetscCall(VecNorm(gi, NORM_2, &ni));
  PetscCall(VecNorm(gs, NORM_2, &ns));
  PetscCall(VecNorm(g0, NORM_2, &G));
  expect = PetscSqrtReal(gns * G * G / (64.0 * P));
  PetscCheck(PetscAbsReal(ns / ni - expect) <= 1e-10 * expect, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "scaled noise factor %.15g, expected %.15g", (double) (ns / ni), (double) expect);
  PetscCall(VecScale(gi, expect));
  PetscCall(VecAXPY(gi, -1.0, gs));
  PetscCall(VecNorm(gi, NORM_2, &ni));
  PetscCheck(ni <= 1e-10 * ns, PETSC_COMM_SELF, PETSC_ERR_PLIB, "scaled noise is not the isotropic draw rescaled (%g)",
             (double) (ni / ns));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  noise_mode scaled: factor sqrt(tr(Sigma_B)/P) = %.3e\n", (double) expect));
  PetscCall(VecDestroy(&g0));
  PetscCall(VecDestroy(&gi));
  PetscCall(VecDestroy(&gs));
  PetscCall(VecDestroy(&theta));
  PetscCall(SATaskDestroy(&ti));
  PetscCall(SATaskDestroy(&ts));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---------------------------------------------------------------------------------------------------- */
/* SAPerturb as a PetscObject                                                                           */
/* ---------------------------------------------------------------------------------------------------- */

/* the text a viewer writes to a file of this test (ascii:FILE), read back on rank 0 and broadcast */
static PetscErrorCode ReadViewFile(const char fname[], char buf[], size_t len)
{
  PetscMPIInt rank;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  buf[0] = 0;
  if (!rank) {
    FILE  *fp = fopen(fname, "r");
    size_t n  = 0;

    PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot read %s", fname);
    n      = fread(buf, 1, len - 1, fp);
    buf[n] = 0;
    (void) fclose(fp);
    (void) remove(fname);
  }
  PetscCallMPI(MPI_Bcast(buf, (PetscMPIInt) len, MPI_CHAR, 0, PETSC_COMM_WORLD));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* SAPerturbView() of p into buf */
static PetscErrorCode ViewToString(SAPerturb p, char buf[], size_t len)
{
  PetscViewer v;
  PetscMPIInt size;
  char        fname[64];

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscSNPrintf(fname, sizeof(fname), "test_perturb_view_np%d.txt", (int) size));
  PetscCall(PetscViewerASCIIOpen(PETSC_COMM_WORLD, fname, &v));
  PetscCall(SAPerturbView(p, v));
  PetscCall(PetscViewerDestroy(&v));
  PetscCall(ReadViewFile(fname, buf, len));
  PetscFunctionReturn(PETSC_SUCCESS);
}

#define CHECK_VIEW(buf, what) \
  PetscCheck(strstr((buf), (what)), PETSC_COMM_SELF, PETSC_ERR_PLIB, "view lacks '%s':\n%s", (what), (buf))

/* reference counting, the options prefix as the deck block, -<block>_perturb_view */
static PetscErrorCode CheckPetscObject(void)
{
  SAPerturb         p, q = NULL;
  PetscInt          refct, n, onset, dur;
  PetscClassId      cid;
  PetscBool         same;
  SAPerturbType     type;
  SAPerturbShape    shape;
  const PetscReal  *mags;
  const char       *prefix, *name;
  char              buf[4096], fname[64], viewopt[80];
  PetscMPIInt       size;
  const char *const kv[] = {
    "-early_spike_kind", "lr_spike", "-early_spike_magnitudes", "2,3", "-early_spike_onset", "4", NULL};

  PetscFunctionBeginUser;
  /* a PetscObject of its class: references, each released by one destroy */
  PetscCall(SAPerturbCreate(PETSC_COMM_WORLD, &p));
  PetscCall(PetscObjectGetClassId((PetscObject) p, &cid));
  PetscCheck(cid == SAPERTURB_CLASSID, PETSC_COMM_SELF, PETSC_ERR_PLIB, "class id %d", (int) cid);
  PetscCall(SAPerturbSetType(p, SAPERTURBPRUNE));
  PetscCall(PetscObjectTypeCompare((PetscObject) p, SAPERTURBPRUNE, &same));
  PetscCheck(same, PETSC_COMM_SELF, PETSC_ERR_PLIB, "PetscObjectTypeCompare does not see kind prune");
  PetscCall(PetscObjectReference((PetscObject) p));
  q = p;
  PetscCall(PetscObjectGetReference((PetscObject) q, &refct));
  PetscCheck(refct == 2, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%" PetscInt_FMT " references, expected 2", refct);
  PetscCall(SAPerturbDestroy(&p));
  PetscCheck(!p, PETSC_COMM_SELF, PETSC_ERR_PLIB, "destroy did not clear the handle");
  PetscCall(PetscObjectGetReference((PetscObject) q, &refct));
  PetscCheck(refct == 1, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%" PetscInt_FMT " references left, expected 1", refct);
  PetscCall(SAPerturbGetType(q, &type)); /* still alive (valgrind: no access to freed memory) */
  PetscCheck(!strcmp(type, SAPERTURBPRUNE), PETSC_COMM_SELF, PETSC_ERR_PLIB, "kind %s after one destroy", type);
  PetscCall(SAPerturbDestroy(&q));
  PetscCheck(!q, PETSC_COMM_SELF, PETSC_ERR_PLIB, "last destroy did not clear the handle");
  PetscCall(SAPerturbDestroy(&q)); /* NULL is allowed */
  PetscCall(SAPerturbDestroy(NULL));

  /* options prefix round trip: set, append, get; the block name and the keys follow it */
  PetscCall(SAPerturbCreate(PETSC_COMM_WORLD, &p));
  PetscCall(SAPerturbGetOptionsPrefix(p, &prefix));
  PetscCall(SAPerturbGetName(p, &name));
  PetscCheck(!prefix && !strcmp(name, ""), PETSC_COMM_SELF, PETSC_ERR_PLIB, "fresh perturbation has a prefix");
  PetscCall(SAPerturbSetOptionsPrefix(p, "early_"));
  PetscCall(SAPerturbAppendOptionsPrefix(p, "spike_"));
  PetscCall(SAPerturbGetOptionsPrefix(p, &prefix));
  PetscCall(SAPerturbGetName(p, &name));
  PetscCheck(prefix && !strcmp(prefix, "early_spike_") && !strcmp(name, "early_spike"), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "prefix '%s', name '%s'", prefix ? prefix : "(null)", name);
  PetscCall(PetscObjectGetOptionsPrefix((PetscObject) p, &prefix));
  PetscCheck(prefix && !strcmp(prefix, "early_spike_"), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "PetscObjectGetOptionsPrefix: '%s'", prefix ? prefix : "(null)");
  PetscCall(PetscObjectSetOptionsPrefix((PetscObject) p, "late_")); /* the name follows the object's prefix */
  PetscCall(SAPerturbGetName(p, &name));
  PetscCheck(!strcmp(name, "late"), PETSC_COMM_SELF, PETSC_ERR_PLIB, "name '%s' after a PETSc prefix change", name);
  PetscCall(SAPerturbSetOptionsPrefix(p, "early_spike_"));

  /* the block's keys under the prefix, and -early_spike_perturb_view prints the perturbation */
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscSNPrintf(fname, sizeof(fname), "test_perturb_optview_np%d.txt", (int) size));
  PetscCall(PetscSNPrintf(viewopt, sizeof(viewopt), "ascii:%s", fname));
  PetscCall(SATestSetOptions(kv));
  PetscCall(PetscOptionsSetValue(NULL, "-early_spike_perturb_view", viewopt));
  PetscCall(SAPerturbSetFromOptions(p));
  PetscCall(SATestClearOptions(kv));
  PetscCall(PetscOptionsClearValue(NULL, "-early_spike_perturb_view"));
  PetscCall(SAPerturbGetType(p, &type));
  PetscCall(SAPerturbGetMagnitudes(p, &n, &mags));
  PetscCall(SAPerturbGetWindow(p, &onset, &dur, &shape));
  PetscCheck(!strcmp(type, SAPERTURBLRSPIKE) && n == 2 && mags[0] == 2 && mags[1] == 3 && onset == 4 && dur == 1,
             PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "block early_spike read as kind %s, %" PetscInt_FMT " magnitudes, onset %" PetscInt_FMT, type, n, onset);
  PetscCall(ReadViewFile(fname, buf, sizeof(buf)));
  CHECK_VIEW(buf, "SAPerturb Object: (early_spike_)");
  CHECK_VIEW(buf, "block early_spike, kind lr_spike, dimension optimization");
  CHECK_VIEW(buf, "magnitude 2. in ["); /* PETSc prints %g of an integer with a trailing "." */
  CHECK_VIEW(buf, "swept 2. 3.");
  CHECK_VIEW(buf, "window: onset 4, duration 1, shape step");
  PetscCall(SAPerturbSetMagnitude(p, 3));
  PetscCall(ViewToString(p, buf, sizeof(buf)));
  CHECK_VIEW(buf, "magnitude 3. in [");
  PetscCall(SAPerturbDestroy(&p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the kinds' own setters (composed functions): on their kind they change what it does and what it reports; on
   another kind a setter does nothing (PetscTryMethod) and a getter fails (PetscUseMethod) */
static PetscErrorCode CheckKindSetters(void)
{
  SATask            task;
  SAPerturb         pk, pl, pr, pb, pf, pp;
  Vec               theta, t1, t2;
  PetscInt          nl, layer, rs, re;
  const PetscInt   *lo, *hi;
  const char       *format;
  PetscBool         eq;
  PetscErrorCode    ierr;
  char              buf[4096], before[4096];
  const char *const layer2[] = {"layer", "2", NULL}, *const f16[] = {"format", "float16", NULL};

  PetscFunctionBeginUser;
  PetscCall(CreateTask(TaskOpts, &task, &theta));
  PetscCall(SATaskGetLayers(task, &nl, &lo, &hi));
  PetscCall(VecDuplicate(theta, &t1));
  PetscCall(VecDuplicate(theta, &t2));
  PetscCall(VecGetOwnershipRange(theta, &rs, &re));

  /* weight_kick: the setter's layer 2 is the deck's layer 2, bitwise (same block, same stream) */
  PetscCall(CreatePerturb("weight_kick", "0.2", NULL, task, NULL, &pk));
  PetscCall(CreatePerturb("weight_kick", "0.2", layer2, task, NULL, &pl));
  PetscCall(SAPerturbWeightKickGetLayer(pk, &layer));
  PetscCheck(layer == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "default kick layer %" PetscInt_FMT, layer);
  PetscCall(ViewToString(pk, buf, sizeof(buf)));
  CHECK_VIEW(buf, "weight_kick: layer 0 (all parameters)");
  PetscCall(SAPerturbWeightKickSetLayer(pk, 2));
  PetscCall(SAPerturbWeightKickGetLayer(pk, &layer));
  PetscCheck(layer == 2, PETSC_COMM_SELF, PETSC_ERR_PLIB, "kick layer %" PetscInt_FMT " after setting 2", layer);
  PetscCall(ViewToString(pk, buf, sizeof(buf)));
  CHECK_VIEW(buf, "weight_kick: layer 2");
  PetscCall(VecCopy(theta, t1));
  PetscCall(SAPerturbApplyParams(pk, 0, t1));
  PetscCall(VecCopy(theta, t2));
  PetscCall(SAPerturbApplyParams(pl, 0, t2));
  PetscCall(VecEqual(t1, t2, &eq));
  PetscCheck(eq, PETSC_COMM_SELF, PETSC_ERR_PLIB, "SAPerturbWeightKickSetLayer(2) differs from the deck's layer 2");
  {
    const PetscScalar *a, *b;
    PetscReal          outside = 0;

    PetscCall(VecGetArrayRead(theta, &a));
    PetscCall(VecGetArrayRead(t1, &b));
    for (PetscInt i = rs; i < re; i++)
      if (i < lo[1] || i >= hi[1]) outside += b[i - rs] != a[i - rs];
    PetscCall(VecRestoreArrayRead(t1, &b));
    PetscCall(VecRestoreArrayRead(theta, &a));
    PetscCall(SumAll(&outside, 1));
    PetscCheck(outside == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "layer-2 kick changed %g parameters outside it",
               (double) outside);
  }
  /* after SAPerturbCheckTask() the layer is checked against the task's (3 layers) */
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SAPerturbWeightKickSetLayer(pk, nl + 1);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr == PETSC_ERR_ARG_OUTOFRANGE, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "kick layer %" PetscInt_FMT ": error %d", nl + 1, (int) ierr);

  /* layer_reset: layer 2 from the deck, set to 1: only layer 1 moves */
  PetscCall(CreatePerturb("layer_reset", "1", layer2, task, NULL, &pr));
  PetscCall(SAPerturbLayerResetGetLayer(pr, &layer));
  PetscCheck(layer == 2, PETSC_COMM_SELF, PETSC_ERR_PLIB, "reset layer %" PetscInt_FMT " from the deck", layer);
  PetscCall(SAPerturbLayerResetSetLayer(pr, 1));
  PetscCall(ViewToString(pr, buf, sizeof(buf)));
  CHECK_VIEW(buf, "layer_reset: layer 1");
  PetscCall(VecCopy(theta, t1));
  PetscCall(SAPerturbApplyParams(pr, 0, t1));
  {
    const PetscScalar *a, *b;
    PetscReal          cnt[2] = {0, 0}; /* changed inside layer 1, changed outside it */

    PetscCall(VecGetArrayRead(theta, &a));
    PetscCall(VecGetArrayRead(t1, &b));
    for (PetscInt i = rs; i < re; i++) cnt[i >= lo[0] && i < hi[0] ? 0 : 1] += b[i - rs] != a[i - rs];
    PetscCall(VecRestoreArrayRead(t1, &b));
    PetscCall(VecRestoreArrayRead(theta, &a));
    PetscCall(SumAll(cnt, 2));
    PetscCheck(cnt[0] > 0 && cnt[1] == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "layer reset set to layer 1 changed %g inside it and %g outside", (double) cnt[0], (double) cnt[1]);
  }

  /* precision: bfloat16 from the deck, set to float16: the deck's float16, bitwise */
  PetscCall(CreatePerturb("precision", "10", NULL, task, NULL, &pb));
  PetscCall(CreatePerturb("precision", "10", f16, task, NULL, &pf));
  PetscCall(SAPerturbPrecisionGetFormat(pb, &format));
  PetscCheck(!strcmp(format, "bfloat16"), PETSC_COMM_SELF, PETSC_ERR_PLIB, "default format %s", format);
  PetscCall(SAPerturbPrecisionSetFormat(pb, "float16"));
  PetscCall(SAPerturbPrecisionGetFormat(pb, &format));
  PetscCheck(!strcmp(format, "float16"), PETSC_COMM_SELF, PETSC_ERR_PLIB, "format %s after setting float16", format);
  PetscCall(ViewToString(pb, buf, sizeof(buf)));
  CHECK_VIEW(buf, "precision: format float16");
  PetscCall(VecCopy(theta, t1));
  PetscCall(VecScale(t1, 1e5)); /* beyond float16's range: overflows there, not in bfloat16 */
  PetscCall(VecCopy(t1, t2));
  PetscCall(SAPerturbApplyParams(pb, 0, t1));
  PetscCall(SAPerturbApplyParams(pf, 0, t2));
  PetscCall(VecEqual(t1, t2, &eq));
  PetscCheck(eq, PETSC_COMM_SELF, PETSC_ERR_PLIB, "SAPerturbPrecisionSetFormat(float16) differs from the deck's");
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SAPerturbPrecisionSetFormat(pb, "float8");
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr == PETSC_ERR_ARG_OUTOFRANGE, PETSC_COMM_SELF, PETSC_ERR_PLIB, "format float8: error %d", (int) ierr);

  /* on another kind a setter does nothing: prune is unchanged in what it does and reports */
  PetscCall(CreatePerturb("prune", "0.3", NULL, task, NULL, &pp));
  PetscCall(ViewToString(pp, before, sizeof(before)));
  PetscCall(VecCopy(theta, t1));
  PetscCall(SAPerturbApplyParams(pp, 0, t1));
  PetscCall(SAPerturbWeightKickSetLayer(pp, 2));
  PetscCall(SAPerturbLayerResetSetLayer(pp, 1));
  PetscCall(SAPerturbPrecisionSetFormat(pp, "float16"));
  PetscCall(SAPerturbPrecisionSetFormat(pk, "float16")); /* weight_kick: no format */
  PetscCall(SAPerturbWeightKickGetLayer(pk, &layer));
  PetscCheck(layer == 2, PETSC_COMM_SELF, PETSC_ERR_PLIB, "a precision setter changed a kick");
  PetscCall(ViewToString(pp, buf, sizeof(buf)));
  PetscCheck(!strcmp(buf, before), PETSC_COMM_SELF, PETSC_ERR_PLIB, "setters of other kinds changed prune:\n%s\n%s",
             before, buf);
  PetscCall(VecCopy(theta, t2));
  PetscCall(SAPerturbApplyParams(pp, 0, t2));
  PetscCall(VecEqual(t1, t2, &eq));
  PetscCheck(eq, PETSC_COMM_SELF, PETSC_ERR_PLIB, "setters of other kinds changed what prune does");
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SAPerturbWeightKickGetLayer(pp, &layer);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr == PETSC_ERR_SUP, PETSC_COMM_SELF, PETSC_ERR_PLIB, "kick layer of a prune: error %d", (int) ierr);
  /* a change of kind removes the old kind's setters */
  PetscCall(SAPerturbSetType(pk, SAPERTURBPRUNE));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SAPerturbWeightKickGetLayer(pk, &layer);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr == PETSC_ERR_SUP, PETSC_COMM_SELF, PETSC_ERR_PLIB, "kick setter left after a change of kind: %d",
             (int) ierr);

  PetscCall(SAPerturbDestroy(&pk));
  PetscCall(SAPerturbDestroy(&pl));
  PetscCall(SAPerturbDestroy(&pr));
  PetscCall(SAPerturbDestroy(&pb));
  PetscCall(SAPerturbDestroy(&pf));
  PetscCall(SAPerturbDestroy(&pp));
  PetscCall(VecDestroy(&t1));
  PetscCall(VecDestroy(&t2));
  PetscCall(VecDestroy(&theta));
  PetscCall(SATaskDestroy(&task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CreateNothing(SAPerturb p)
{
  PetscFunctionBeginUser;
  (void) p;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the lists of kinds and task types are the registries themselves (sorted): a kind registered here is listed, and the
   error for an unknown task type lists the registered ones; no type is forgotten by a hand-kept list */
static PetscErrorCode CheckRegistries(void)
{
  const char **kinds, *text, *const bad[] = {"-task_type", "nosuch", NULL};
  char          *msg = NULL;
  PetscInt       n, n2, found = 0;
  SATask         task;
  SATaskType     type;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(SAPerturbGetKinds(&n, &kinds));
  PetscCheck(n == 22 && !kinds[n], PETSC_COMM_SELF, PETSC_ERR_PLIB, "%" PetscInt_FMT " kinds, expected 22", n);
  for (PetscInt i = 0; i < n; i++) {
    PetscCheck(!i || strcmp(kinds[i - 1], kinds[i]) < 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "kinds not sorted: %s, %s",
               kinds[i - 1], kinds[i]);
    found += !strcmp(kinds[i], SAPERTURBLRSPIKE) || !strcmp(kinds[i], SAPERTURBLABELSMOOTHING);
  }
  PetscCheck(found == 2, PETSC_COMM_SELF, PETSC_ERR_PLIB, "lr_spike or label_smoothing not listed");
  PetscCall(PetscFree(kinds));
  PetscCall(SAPerturbRegister("zz_test_kind", CreateNothing));
  PetscCall(SAPerturbGetKinds(&n2, &kinds));
  PetscCheck(n2 == n + 1 && !strcmp(kinds[n], "zz_test_kind"), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "a registered kind is not listed");
  PetscCall(PetscFree(kinds));

  PetscCall(SATaskCreate(PETSC_COMM_WORLD, &task));
  PetscCall(SATaskSetFromOptions(task));
  PetscCall(SATaskGetType(task, &type));
  PetscCheck(!strcmp(type, SATASKQUADRATIC), PETSC_COMM_SELF, PETSC_ERR_PLIB, "default task type %s", type);
  PetscCall(SATestSetOptions(bad));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SATaskSetFromOptions(task);
  PetscCall(PetscPopErrorHandler());
  PetscCall(SATestClearOptions(bad));
  PetscCheck(ierr == PETSC_ERR_USER_INPUT, PETSC_COMM_SELF, PETSC_ERR_PLIB, "-task_type nosuch: error %d", (int) ierr);
  PetscCall(PetscErrorMessage(ierr, &text, &msg));
  PetscCheck(msg && strstr(msg, "one of classify, quadratic"), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "-task_type nosuch: '%s' does not list the registered types", msg ? msg : "");
  PetscCall(SATaskDestroy(&task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void test_registries(void) { CU_ASSERT_EQUAL(CheckRegistries(), PETSC_SUCCESS); }
static void test_label_noise(void) { CU_ASSERT_EQUAL(CheckLabelNoise(), PETSC_SUCCESS); }
static void test_input_shift(void) { CU_ASSERT_EQUAL(CheckInputNoiseAndShift(), PETSC_SUCCESS); }
static void test_imbalance(void) { CU_ASSERT_EQUAL(CheckClassImbalanceOrderBatch(), PETSC_SUCCESS); }
static void test_signal(void) { CU_ASSERT_EQUAL(CheckSignal(), PETSC_SUCCESS); }
static void test_kick_reset(void) { CU_ASSERT_EQUAL(CheckKickAndReset(), PETSC_SUCCESS); }
static void test_prune_precision(void) { CU_ASSERT_EQUAL(CheckPruneAndPrecision(), PETSC_SUCCESS); }
static void test_optimization(void) { CU_ASSERT_EQUAL(CheckOptimizationKinds(), PETSC_SUCCESS); }
static void test_windows(void) { CU_ASSERT_EQUAL(CheckQuadraticWindows(), PETSC_SUCCESS); }
static void test_scaled_noise(void) { CU_ASSERT_EQUAL(CheckScaledNoise(), PETSC_SUCCESS); }
static void test_object(void) { CU_ASSERT_EQUAL(CheckPetscObject(), PETSC_SUCCESS); }
static void test_kind_setters(void) { CU_ASSERT_EQUAL(CheckKindSetters(), PETSC_SUCCESS); }

int main(int argc, char **argv)
{
  int       nfail_all;
  CU_pSuite s;

  PetscCall(SlepcInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SAInitialize());
  if (CU_initialize_registry() != CUE_SUCCESS) return EXIT_FAILURE;
  s = CU_add_suite("perturb", NULL, NULL);
  CU_add_test(s, "label_noise: binomial fraction, fixed per sample, nested under a ramp", test_label_noise);
  CU_add_test(s, "input_noise moments, covariate_shift one affine map", test_input_shift);
  CU_add_test(s, "class_imbalance frequencies, data_order, batch_scale", test_imbalance);
  CU_add_test(s, "signal_flip, signal_noise, label_smoothing, loss_scale", test_signal);
  CU_add_test(s, "weight_kick (all, one layer), layer_reset", test_kick_reset);
  CU_add_test(s, "prune, precision (bfloat16, float16), init_scale", test_prune_precision);
  CU_add_test(s, "lr_scale, momentum_shift, optimizer_reset, adam_eps, clip_off", test_optimization);
  CU_add_test(s, "onset, duration and shape: GD on the quadratic in closed form", test_windows);
  CU_add_test(s, "gradient noise scaled to the measured noise (noise_mode scaled)", test_scaled_noise);
  CU_add_test(s, "kinds and task types are listed from their registries", test_registries);
  CU_add_test(s, "a PetscObject: references, options prefix as the block, -<block>_perturb_view", test_object);
  CU_add_test(s, "kind setters (composed functions): weight_kick, layer_reset, precision; no-ops elsewhere",
              test_kind_setters);
  PetscCall(SATestRunSuite(PETSC_COMM_WORLD, &nfail_all));
  PetscCall(SAFinalize());
  PetscCall(SlepcFinalize());
  return nfail_all ? EXIT_FAILURE : EXIT_SUCCESS;
}
