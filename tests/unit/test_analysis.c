/*
  test_analysis.c - known-answer tests of the stability analysis (analysis/stability, saanalysis.h).

  Every check has a known answer and an error budget:
    - planted curves (collapse, recovery, dip, divergence) give exact steps and drawdowns;
    - the FTLE of d_t = d_0 c^t is log c up to roundoff (1e-12); for a 2-d linear map the slower mode
      decays as (0.5 / 1.3)^(2t) relative, below 1e-8 after the 20 skipped steps;
    - Wilson intervals against the closed form printed in Brown, Cai & DasGupta (2001), 4 digits;
    - statistical checks use 4 standard errors of the quantity (delta method, Bartlett, binomial);
    - the QR (Benettin) Lyapunov exponents of gradient descent on a quadratic are log|1 - lr lambda_i|: with a
      transient of 300 steps the tangents are aligned up to (0.916)^300 = 4e-12 (largest ratio of successive
      |1 - lr lambda|), so 1e-8 relative leaves a wide margin over roundoff;
    - the SVD subspace is checked against Wedin's bound sin(theta) <= |E| / (sigma_k(X) - 2 |E|), with
      |E| <= sigma_n (sqrt(N) + sqrt(p) + 6) (Gaussian matrix concentration at 6 standard deviations).
  Random numbers come from Philox streams (SA_STREAM_TEST). The SVD test distributes its rows over
  PETSC_COMM_WORLD; the rest is serial and run identically on every rank. Run on 1 and 2 ranks.
*/
#include <stdlib.h>
#include <math.h>
#include "satest.h"
#include <slepcsys.h>
#include <stabaudit/saanalysis.h>
#include <stabaudit/sastream.h>
#include <stabaudit/satask.h>
#include <stabaudit/saoptimizer.h>
#include <stabaudit/saprobe.h>

#define N_SE 4.0

static PetscInt Steps[64];

static void InitSteps(void)
{
  for (PetscInt k = 0; k < 64; k++) Steps[k] = 10 * k;
}

static void test_collapse_planted(void)
{
  /* rising to 0.9 at record 5, collapse at record 8 (step 80) to 0.3, never recovers */
  PetscReal        perf[20], loss[20];
  SACollapseResult r;

  InitSteps();
  for (PetscInt k = 0; k < 20; k++) {
    perf[k] = k <= 5 ? 0.4 + 0.1 * k : (k < 8 ? 0.88 : 0.3);
    loss[k] = 1 - perf[k];
  }
  CU_ASSERT_FATAL(!SACollapseDetect(20, Steps, perf, loss, -1, 0.2, 50, &r));
  CU_ASSERT(r.collapsed && r.irreversible);
  CU_ASSERT_EQUAL(r.collapse_step, 80);
  CU_ASSERT_EQUAL(r.recovery_steps, -1);
  CU_ASSERT_DOUBLE_EQUAL(r.max_drawdown, (0.9 - 0.3) / 0.9, 1e-14);

  /* recovery after 70 steps (> W = 50): collapsed, not irreversible, recovery 70 */
  for (PetscInt k = 15; k < 20; k++) perf[k] = 0.85;
  CU_ASSERT_FATAL(!SACollapseDetect(20, Steps, perf, NULL, -1, 0.2, 50, &r));
  CU_ASSERT(r.collapsed && !r.irreversible);
  CU_ASSERT_EQUAL(r.collapse_step, 80);
  CU_ASSERT_EQUAL(r.recovery_steps, 70);

  /* the same drop recovered within W = 70: a transient dip, no collapse */
  CU_ASSERT_FATAL(!SACollapseDetect(20, Steps, perf, NULL, -1, 0.2, 70, &r));
  CU_ASSERT(!r.collapsed && !r.irreversible);
  CU_ASSERT_EQUAL(r.collapse_step, -1);
  /* a smaller drop than delta: nothing */
  CU_ASSERT_FATAL(!SACollapseDetect(20, Steps, perf, NULL, -1, 0.7, 0, &r));
  CU_ASSERT(!r.collapsed);

  /* divergence: NaN from record 12 (diverged at step 117) after a healthy curve */
  for (PetscInt k = 0; k < 20; k++) perf[k] = k < 12 ? 0.5 + 0.01 * k : NAN;
  CU_ASSERT_FATAL(!SACollapseDetect(20, Steps, perf, NULL, 117, 0.2, 50, &r));
  CU_ASSERT(r.collapsed && r.irreversible);
  CU_ASSERT_EQUAL(r.collapse_step, 117);
  CU_ASSERT_DOUBLE_EQUAL(r.max_drawdown, 1.0, 0);
}

static void test_twin_gap(void)
{
  /* member 0.2 below the twin from step 30 on, steps 0..100: area 0.2 * 70 */
  PetscReal p[11], t[11], a;

  InitSteps();
  for (PetscInt k = 0; k < 11; k++) {
    t[k] = 0.9;
    p[k] = k >= 3 ? 0.7 : 0.9;
  }
  CU_ASSERT_FATAL(!SATwinGapArea(11, Steps, p, t, 30, &a));
  CU_ASSERT_DOUBLE_EQUAL(a, 0.2 * 70, 1e-12);
  p[10] = NAN; /* diverged at the end: performance 0 */
  CU_ASSERT_FATAL(!SATwinGapArea(11, Steps, p, t, 30, &a));
  CU_ASSERT_DOUBLE_EQUAL(a, 0.2 * 60 + 0.5 * (0.2 + 0.9) * 10, 1e-12);
}

static void test_ftle_linear_map(void)
{
  PetscReal d[40], x[2] = {1e-8, 1e-8}, y[2] = {1e-8, 2e-8}, ftle, se;
  PetscInt  npts;

  InitSteps();
  /* scalar map x -> 1.3 x recorded every 10 steps: d_t = d_0 1.3^t */
  for (PetscInt k = 0; k < 40; k++) d[k] = 1e-9 * PetscPowReal(1.3, (PetscReal) Steps[k]);
  CU_ASSERT_FATAL(!SAFTLEFit(40, Steps, d, 0, 390, &ftle, &se, &npts));
  CU_ASSERT_EQUAL(npts, 39);
  CU_ASSERT_DOUBLE_EQUAL(ftle, PetscLogReal(1.3), 1e-12);
  CU_ASSERT(se < 1e-12);
  /* 2-d map A = R diag(1.3, 0.5) R^T (R a rotation by 0.7) on the difference of two trajectories */
  {
    PetscReal c = PetscCosReal(0.7), s = PetscSinReal(0.7), A[4];
    A[0] = 1.3 * c * c + 0.5 * s * s;
    A[1] = (1.3 - 0.5) * c * s;
    A[2] = A[1];
    A[3] = 1.3 * s * s + 0.5 * c * c;
    for (PetscInt t = 0, k = 0; t <= 60; t++) {
      if (t % 10 == 0) {
        d[k] = PetscSqrtReal(PetscSqr(x[0] - y[0]) + PetscSqr(x[1] - y[1]));
        k++;
      }
      PetscReal x0 = A[0] * x[0] + A[1] * x[1], x1 = A[2] * x[0] + A[3] * x[1];
      PetscReal y0 = A[0] * y[0] + A[1] * y[1], y1 = A[2] * y[0] + A[3] * y[1];
      x[0] = x0;
      x[1] = x1;
      y[0] = y0;
      y[1] = y1;
    }
    CU_ASSERT_FATAL(!SAFTLEFit(7, Steps, d, 10, 60, &ftle, &se, &npts)); /* steps 20..60 */
    CU_ASSERT_EQUAL(npts, 5);
    CU_ASSERT_DOUBLE_EQUAL(ftle, PetscLogReal(1.3), 1e-8);
  }
}

static void test_wilson(void)
{
  PetscReal lo, hi;

  CU_ASSERT_FATAL(!SAWilsonInterval(5, 10, 1.959963984540054, &lo, &hi));
  CU_ASSERT_DOUBLE_EQUAL(lo, 0.2366, 5e-5);
  CU_ASSERT_DOUBLE_EQUAL(hi, 0.7634, 5e-5);
  CU_ASSERT_FATAL(!SAWilsonInterval(0, 20, 1.959963984540054, &lo, &hi));
  CU_ASSERT_DOUBLE_EQUAL(lo, 0, 0);
  CU_ASSERT_DOUBLE_EQUAL(hi, 0.1611, 5e-5);
}

/* planted logistic threshold: P(collapse) = 1 / (1 + exp(-b (x - x0))) */
static void test_margin_planted(void)
{
  const PetscInt  nx = 11, rep = 200, n = nx * rep;
  const PetscReal x0 = 1.1, b = 4.0;
  PetscReal      *x, *y, i00 = 0, i01 = 0, i11 = 0, var_a, var_b, cov, se;
  SAStream        s;
  SAMargin        mg;

  PetscCallVoid(SAStreamCreate(11, 3, SA_STREAM_TEST, &s));
  PetscCallVoid(PetscMalloc2(n, &x, n, &y));
  for (PetscInt i = 0; i < nx; i++)
    for (PetscInt r = 0; r < rep; r++) {
      PetscReal u, p;
      x[i * rep + r] = 0.2 * i;
      p              = 1 / (1 + PetscExpReal(-b * (x[i * rep + r] - x0)));
      PetscCallVoid(SAStreamUniform(&s, i, r, &u));
      y[i * rep + r] = u < p ? 1 : 0;
      /* Fisher information of (a, b) at the truth, a = -b x0 */
      i00 += p * (1 - p);
      i01 += p * (1 - p) * x[i * rep + r];
      i11 += p * (1 - p) * x[i * rep + r] * x[i * rep + r];
    }
  /* delta method: x0 = -a/b, grad = (-1/b, a/b^2) */
  var_a = i11 / (i00 * i11 - i01 * i01);
  var_b = i00 / (i00 * i11 - i01 * i01);
  cov   = -i01 / (i00 * i11 - i01 * i01);
  se    = PetscSqrtReal(var_a / (b * b) + PetscSqr(b * x0) / PetscPowReal(b, 4) * var_b +
                        2 * (-1 / b) * (-b * x0 / (b * b)) * cov);
  PetscCallVoid(SAStreamCreate(11, 4, SA_STREAM_ANALYSIS, &s));
  CU_ASSERT_FATAL(!SAMarginEstimate(n, x, y, PETSC_FALSE, 200, 0.95, &s, &mg));
  CU_ASSERT_EQUAL(mg.status, SA_MARGIN_FIT);
  CU_ASSERT(PetscAbsReal(mg.margin - x0) < N_SE * se);
  CU_ASSERT(PetscAbsReal(mg.b - b) < N_SE * PetscSqrtReal(var_b));
  CU_ASSERT(mg.low < x0 && x0 < mg.high);
  /* the bootstrap interval has the width of the asymptotic one within a factor 1.5 */
  CU_ASSERT(mg.high - mg.low > 2 * 1.96 * se / 1.5 && mg.high - mg.low < 2 * 1.96 * se * 1.5);

  /* separated outcomes (collapse iff x > 1.1): the gap [1.0, 1.2], midpoint 1.1 */
  for (PetscInt i = 0; i < n; i++) y[i] = x[i] > x0 ? 1 : 0;
  CU_ASSERT_FATAL(!SAMarginEstimate(n, x, y, PETSC_FALSE, 50, 0.95, &s, &mg));
  CU_ASSERT_EQUAL(mg.status, SA_MARGIN_SEPARATED);
  CU_ASSERT_DOUBLE_EQUAL(mg.margin, 1.1, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(mg.low, 1.0, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(mg.high, 1.2, 1e-12);
  CU_ASSERT(!mg.logscale);
  /* log scale asked for, but a magnitude is 0 (x = 0 is on the grid): the fit falls back to the linear scale */
  CU_ASSERT_FATAL(!SAMarginEstimate(n, x, y, PETSC_TRUE, 50, 0.95, &s, &mg));
  CU_ASSERT(!mg.logscale);
  CU_ASSERT_DOUBLE_EQUAL(mg.margin, 1.1, 1e-12);
  /* the same in log scale: geometric midpoint */
  for (PetscInt i = 0; i < n; i++) x[i] += 0.5;
  CU_ASSERT_FATAL(!SAMarginEstimate(n, x, y, PETSC_TRUE, 50, 0.95, &s, &mg));
  CU_ASSERT_DOUBLE_EQUAL(mg.margin, PetscSqrtReal(1.5 * 1.7), 1e-12);
  CU_ASSERT(mg.logscale);
  /* quasi-complete separation: no collapse at 2 and 4, 4 of 8 at 8: the slope diverges, the crossing is at 8 and the
     interval is the Wilson bracket [4, open) (0/8 has Wilson upper end 0.32 < 1/2; 4/8 does not exceed 1/2) */
  {
    PetscReal xq[24], yq[24];
    for (PetscInt i = 0; i < 24; i++) {
      xq[i] = i < 8 ? 2 : (i < 16 ? 4 : 8);
      yq[i] = i >= 20 ? 1 : 0;
    }
    CU_ASSERT_FATAL(!SAMarginEstimate(24, xq, yq, PETSC_TRUE, 50, 0.95, &s, &mg));
    CU_ASSERT_EQUAL(mg.status, SA_MARGIN_QUASI_SEPARATED);
    CU_ASSERT_DOUBLE_EQUAL(mg.margin, 8, 1e-3);
    CU_ASSERT_DOUBLE_EQUAL(mg.low, 4, 1e-12);
    CU_ASSERT(PetscIsNanReal(mg.high));
  }
  /* the same with 2 of 8 at 8: the crossing lies beyond 8; censored above, bounded below by the bracket (4) */
  {
    PetscReal xq[24], yq[24];
    for (PetscInt i = 0; i < 24; i++) {
      xq[i] = i < 8 ? 2 : (i < 16 ? 4 : 8);
      yq[i] = i >= 22 ? 1 : 0;
    }
    CU_ASSERT_FATAL(!SAMarginEstimate(24, xq, yq, PETSC_TRUE, 50, 0.95, &s, &mg));
    CU_ASSERT_EQUAL(mg.status, SA_MARGIN_CENSORED_ABOVE);
    CU_ASSERT(PetscIsNanReal(mg.margin));
    CU_ASSERT_DOUBLE_EQUAL(mg.low, 4, 1e-12);
  }
  /* no collapse in range: censored above, never extrapolated */
  for (PetscInt i = 0; i < n; i++) y[i] = 0;
  CU_ASSERT_FATAL(!SAMarginEstimate(n, x, y, PETSC_FALSE, 50, 0.95, &s, &mg));
  CU_ASSERT_EQUAL(mg.status, SA_MARGIN_CENSORED_ABOVE);
  CU_ASSERT(PetscIsNanReal(mg.margin));
  CU_ASSERT_DOUBLE_EQUAL(mg.low, 2.5, 1e-12);
  PetscCallVoid(PetscFree2(x, y));
}

static void test_rank_statistics(void)
{
  PetscReal x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {1, 8, 27, 64, 125, 216}, z[6] = {6, 5, 4, 3, 2, 1}, rho, lo, hi, tau;
  PetscReal sc[4]  = {3, 2, 2, 1}, auc;
  PetscBool lab[4] = {PETSC_TRUE, PETSC_TRUE, PETSC_FALSE, PETSC_FALSE};
  SAStream  s;

  CU_ASSERT_FATAL(!SASpearman(6, x, y, &rho));
  CU_ASSERT_DOUBLE_EQUAL(rho, 1, 1e-14);
  CU_ASSERT_FATAL(!SASpearman(6, x, z, &rho));
  CU_ASSERT_DOUBLE_EQUAL(rho, -1, 1e-14);
  /* a known value: ranks (1,2,3,4,5) vs (2,1,4,3,5): 1 - 6 * 4 / (5 * 24) = 0.8 */
  {
    PetscReal a[5] = {1, 2, 3, 4, 5}, b[5] = {2, 1, 4, 3, 5};
    CU_ASSERT_FATAL(!SASpearman(5, a, b, &rho));
    CU_ASSERT_DOUBLE_EQUAL(rho, 0.8, 1e-14);
    PetscCallVoid(SAStreamCreate(1, 1, SA_STREAM_ANALYSIS, &s));
    CU_ASSERT_FATAL(!SASpearmanBootstrap(5, a, b, 200, 0.9, &s, &rho, &lo, &hi));
    CU_ASSERT(lo <= rho && rho <= hi && hi <= 1);
    /* Kendall: 10 pairs, 2 discordant: (8 - 2) / 10 */
    CU_ASSERT_FATAL(!SAKendallTau(5, b, &tau));
    CU_ASSERT_DOUBLE_EQUAL(tau, 0.6, 1e-14);
  }
  /* stratified Spearman (Simpson's paradox): each stratum rises, the pooled pairs fall; a stratum of 2 pairs has no
     correlation and is left out; the bootstrap resamples within strata, so every replicate is +1 or undefined */
  {
    PetscReal a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[8] = {10, 11, 12, 0, 1, 2, 5, 4}, pooled;
    PetscInt  st[8] = {7, 7, 7, 3, 3, 3, 9, 9};
    CU_ASSERT_FATAL(!SASpearman(6, a, b, &pooled));
    CU_ASSERT(pooled < 0);
    PetscCallVoid(SAStreamCreate(1, 2, SA_STREAM_ANALYSIS, &s));
    CU_ASSERT_FATAL(!SASpearmanStratified(8, a, b, st, 200, 0.9, &s, &rho, &lo, &hi));
    CU_ASSERT_EQUAL(rho, 1.0);
    CU_ASSERT_EQUAL(lo, 1.0);
    CU_ASSERT_EQUAL(hi, 1.0);
  }
  /* n-weighted: a stratum of 4 with rho +1 and one of 3 with rho -1 give (4 - 3) / 7 */
  {
    PetscReal a[7] = {1, 2, 3, 4, 1, 2, 3}, b[7] = {1, 2, 3, 4, 3, 2, 1};
    PetscInt  st[7] = {0, 0, 0, 0, 1, 1, 1};
    PetscCallVoid(SAStreamCreate(1, 3, SA_STREAM_ANALYSIS, &s));
    CU_ASSERT_FATAL(!SASpearmanStratified(7, a, b, st, 100, 0.9, &s, &rho, &lo, &hi));
    CU_ASSERT_DOUBLE_EQUAL(rho, 1.0 / 7.0, 1e-15);
    CU_ASSERT(lo <= rho && rho <= hi);
  }
  /* one stratum: the plain correlation, bitwise; no stratum of 3 or more: NaN */
  {
    PetscReal a[5] = {1, 2, 3, 4, 5}, b[5] = {2, 1, 4, 3, 5}, r1;
    PetscInt  one[5] = {4, 4, 4, 4, 4}, pairs[5] = {0, 0, 1, 1, 2};
    CU_ASSERT_FATAL(!SASpearman(5, a, b, &r1));
    CU_ASSERT_FATAL(!SASpearmanStratified(5, a, b, one, 50, 0.9, &s, &rho, &lo, &hi));
    CU_ASSERT_EQUAL(rho, r1);
    CU_ASSERT_FATAL(!SASpearmanStratified(5, a, b, pairs, 50, 0.9, &s, &rho, &lo, &hi));
    CU_ASSERT(PetscIsNanReal(rho) && PetscIsNanReal(lo) && PetscIsNanReal(hi));
  }
  /* AUROC with a tie: (1 + 1 + 0.5 + 1) / 4 */
  CU_ASSERT_FATAL(!SAAUROC(4, sc, lab, &auc));
  CU_ASSERT_DOUBLE_EQUAL(auc, 0.875, 1e-14);
}

/* lag-1 autocorrelation of an AR(1) series x_t = phi x_{t-1} + e_t: phi within 4 sqrt((1 - phi^2) / n) */
static void test_ar1(void)
{
  const PetscInt  n   = 20000;
  const PetscReal phi = 0.6;
  PetscReal      *x, *e, r, roll[50];
  SAStream        s;

  PetscCallVoid(SAStreamCreate(5, 5, SA_STREAM_TEST, &s));
  PetscCallVoid(PetscMalloc2(n, &x, n, &e));
  PetscCallVoid(SAStreamNormalArray(&s, 0, 0, n, e));
  x[0] = e[0] / PetscSqrtReal(1 - phi * phi);
  for (PetscInt t = 1; t < n; t++) x[t] = phi * x[t - 1] + e[t];
  CU_ASSERT_FATAL(!SALag1Autocorrelation(n, x, &r));
  CU_ASSERT(PetscAbsReal(r - phi) < N_SE * PetscSqrtReal((1 - phi * phi) / n));
  /* the rolling version equals the direct one on its window */
  CU_ASSERT_FATAL(!SADetectorRollingAR1(50, x, 20, roll));
  CU_ASSERT(PetscIsNanReal(roll[18]));
  CU_ASSERT_FATAL(!SALag1Autocorrelation(20, x + 30, &r));
  CU_ASSERT_DOUBLE_EQUAL(roll[49], r, 1e-15);
  PetscCallVoid(PetscFree2(x, e));
}

static void test_detectors(void)
{
  PetscReal loss[8] = {1, 2, 1, 2, 1, 2, 10, NAN}, z[8], v[8], tau[8];

  CU_ASSERT_FATAL(!SADetectorLossZ(8, loss, 4, z));
  CU_ASSERT(PetscIsNanReal(z[3]));
  /* window {1,2,1,2}: mean 1.5, sample std sqrt(1/3) */
  CU_ASSERT_DOUBLE_EQUAL(z[4], (1 - 1.5) / PetscSqrtReal(1.0 / 3), 1e-14);
  CU_ASSERT_DOUBLE_EQUAL(z[6], (10 - 1.5) / PetscSqrtReal(1.0 / 3), 1e-14);
  CU_ASSERT(z[7] == PETSC_INFINITY);
  CU_ASSERT_FATAL(!SADetectorRollingVariance(8, loss, 2, v));
  CU_ASSERT_DOUBLE_EQUAL(v[1], 0.5, 1e-15);
  CU_ASSERT_DOUBLE_EQUAL(v[6], 32, 1e-13);
  CU_ASSERT(PetscIsNanReal(v[7]));
  {
    PetscReal up[6] = {1, 2, 3, 4, 5, 6};
    CU_ASSERT_FATAL(!SADetectorKendallTrend(6, up, 4, tau));
    CU_ASSERT(PetscIsNanReal(tau[2]));
    CU_ASSERT_DOUBLE_EQUAL(tau[5], 1, 1e-15);
  }
}

/* the SVD recovers a planted rank-2 signal; rows on PETSC_COMM_WORLD */
static void test_metastate_planted(void)
{
  const PetscInt  N = 600, p = 8, K = 2;
  const PetscReal sn = 0.01, amp[2] = {10, 5};
  PetscMPIInt     rank, size;
  PetscInt        r0, r1, k;
  PetscReal       Vt[2 * 8], *X, sigma[8], V[64], ex[8], E, sinth = 0;
  SAStream        s;

  PetscCallVoid(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallVoid(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCallVoid(SAStreamCreate(9, 9, SA_STREAM_TEST, &s));
  /* orthonormal planted loadings by Gram-Schmidt of two normal vectors */
  PetscCallVoid(SAStreamNormalArray(&s, 1000000, 0, 2 * p, Vt));
  for (PetscInt j = 0; j < K; j++) {
    PetscReal nr = 0;
    for (PetscInt l = 0; l < j; l++) {
      PetscReal dot = 0;
      for (PetscInt i = 0; i < p; i++) dot += Vt[j * p + i] * Vt[l * p + i];
      for (PetscInt i = 0; i < p; i++) Vt[j * p + i] -= dot * Vt[l * p + i];
    }
    for (PetscInt i = 0; i < p; i++) nr += Vt[j * p + i] * Vt[j * p + i];
    for (PetscInt i = 0; i < p; i++) Vt[j * p + i] /= PetscSqrtReal(nr);
  }
  r0 = N * rank / size;
  r1 = N * (rank + 1) / size;
  PetscCallVoid(PetscMalloc1((r1 - r0) * p + 1, &X));
  for (PetscInt i = r0; i < r1; i++) {
    PetscReal a[2], e[8];
    PetscCallVoid(SAStreamNormalArray(&s, i, 0, 2, a));
    PetscCallVoid(SAStreamNormalArray(&s, i, 2, p, e));
    for (PetscInt j = 0; j < p; j++)
      X[(i - r0) * p + j] = amp[0] * a[0] * Vt[j] + amp[1] * a[1] * Vt[p + j] + sn * e[j];
  }
  CU_ASSERT_FATAL(!SAMetaStateFit(PETSC_COMM_WORLD, r1 - r0, p, X, 0.9, 0, &k, sigma, V, ex));
  CU_ASSERT_EQUAL(k, K);
  CU_ASSERT(ex[0] + ex[1] > 0.999);
  /* Wedin: the distance of each planted loading from the recovered span */
  E = sn * (PetscSqrtReal(N) + PetscSqrtReal(p) + 6);
  for (PetscInt j = 0; j < K; j++) {
    PetscReal res[8], c[2] = {0, 0}, nr = 0;
    for (PetscInt l = 0; l < K; l++)
      for (PetscInt i = 0; i < p; i++) c[l] += V[l * p + i] * Vt[j * p + i];
    for (PetscInt i = 0; i < p; i++) res[i] = Vt[j * p + i] - c[0] * V[i] - c[1] * V[p + i];
    for (PetscInt i = 0; i < p; i++) nr += res[i] * res[i];
    sinth = PetscMax(sinth, PetscSqrtReal(nr));
  }
  CU_ASSERT(sinth <= E / (sigma[1] - 2 * E));
  /* the first loading is the stronger planted one (up to sign, fixed by the convention) */
  {
    PetscReal dot = 0;
    for (PetscInt i = 0; i < p; i++) dot += V[i] * Vt[i];
    CU_ASSERT(PetscAbsReal(dot) > 1 - E / (sigma[1] - 2 * E));
  }
  PetscCallVoid(PetscFree(X));
}

/* Mahalanobis warnings calibrated on twins keep their false-alarm rate on fresh twins */
static void test_false_alarm(void)
{
  const PetscInt  nc = 500, nt = 500, T = 30, m = 3, k = 2;
  const PetscReal alpha = 0.05, Ltrue[4] = {1.4, 0, 0.4, 0.9};
  PetscReal      *zc, *zt, mu[2 * 30], C[4] = {0, 0, 0, 0}, *rc, dev[30], thr, bound;
  PetscInt        fired = 0;
  SAStream        s;

  PetscCallVoid(SAStreamCreate(21, 1, SA_STREAM_TEST, &s));
  PetscCallVoid(PetscMalloc3(nc * T * k, &zc, nt * T * k, &zt, nc, &rc));
  for (PetscInt i = 0; i < nc + nt; i++)
    for (PetscInt t = 0; t < T; t++) {
      PetscReal e[2], *z = i < nc ? &zc[(i * T + t) * k] : &zt[((i - nc) * T + t) * k];
      PetscCallVoid(SAStreamNormalArray(&s, i, 2 * t, 2, e));
      z[0] = PetscSinReal(0.3 * t) + Ltrue[0] * e[0];
      z[1] = PetscCosReal(0.3 * t) + Ltrue[2] * e[0] + Ltrue[3] * e[1];
    }
  /* per-step mean and pooled covariance from the calibration twins */
  for (PetscInt t = 0; t < T; t++) {
    mu[2 * t] = mu[2 * t + 1] = 0;
    for (PetscInt i = 0; i < nc; i++)
      for (PetscInt a = 0; a < k; a++) mu[2 * t + a] += zc[(i * T + t) * k + a] / nc;
  }
  for (PetscInt i = 0; i < nc; i++)
    for (PetscInt t = 0; t < T; t++)
      for (PetscInt a = 0; a < k; a++)
        for (PetscInt b = 0; b < k; b++)
          C[a * k + b] +=
            (zc[(i * T + t) * k + a] - mu[2 * t + a]) * (zc[(i * T + t) * k + b] - mu[2 * t + b]) / (nc * T - T);
  CU_ASSERT_FATAL(!SACholeskyFactor(k, C));
  for (PetscInt i = 0; i < nc; i++) {
    for (PetscInt t = 0; t < T; t++) PetscCallVoid(SAMahalanobis(k, &zc[(i * T + t) * k], &mu[2 * t], C, &dev[t]));
    PetscCallVoid(SAWarningRunStatistic(T, dev, m, &rc[i]));
  }
  CU_ASSERT_FATAL(!SAWarningCalibrate(nc, rc, alpha, &thr));
  for (PetscInt i = 0; i < nt; i++) {
    PetscInt w;
    for (PetscInt t = 0; t < T; t++) PetscCallVoid(SAMahalanobis(k, &zt[(i * T + t) * k], &mu[2 * t], C, &dev[t]));
    PetscCallVoid(SAWarningFirst(T, Steps, dev, thr, m, 0, &w));
    if (w >= 0) fired++;
  }
  bound = N_SE * PetscSqrtReal(alpha * (1 - alpha) * (1.0 / nc + 1.0 / nt)) + 1.0 / nc;
  CU_ASSERT(PetscAbsReal((PetscReal) fired / nt - alpha) < bound);
  /* on the calibration set itself the rate is at most alpha by construction */
  {
    PetscInt over = 0;
    for (PetscInt i = 0; i < nc; i++) over += rc[i] > thr;
    CU_ASSERT(over <= alpha * nc);
  }
  PetscCallVoid(PetscFree3(zc, zt, rc));
}

static int CmpDesc(const void *a, const void *b)
{
  PetscReal x = *(const PetscReal *) a, y = *(const PetscReal *) b;
  return (x < y) - (x > y);
}

/* gradient descent on a quadratic (linear spectrum in [0.1, 1], n = 20, lr = 1.5): J = I - lr A at every step */
static PetscErrorCode LyapunovGD(PetscInt every)
{
  const PetscInt    n = 20, K = 4, T0 = 300, T = 600;
  const PetscReal   lr = 1.5, lmin = 0.1, lmax = 1.0;
  const char *const kv[] = {"-task_type",
                            "quadratic",
                            "-task_quadratic_dim",
                            "20",
                            "-task_quadratic_lambda_min",
                            "0.1",
                            "-task_quadratic_lambda_max",
                            "1.0",
                            "-task_quadratic_spectrum",
                            "linear",
                            "-optimizer_type",
                            "sgd",
                            "-optimizer_lr",
                            "1.5",
                            NULL};
  SATask            task;
  SAOptimizer       opt;
  SALyap            ly;
  Vec               theta, g;
  PetscReal         ref[20], lam[4], loss;
  PetscInt          counted;

  PetscFunctionBeginUser;
  for (PetscInt i = 0; kv[i]; i += 2) PetscCall(PetscOptionsSetValue(NULL, kv[i], kv[i + 1]));
  PetscCall(SATaskCreate(PETSC_COMM_WORLD, &task));
  PetscCall(SATaskSetFromOptions(task));
  PetscCall(SATaskSetSeeds(task, 3, 4));
  PetscCall(SATaskSetNoise(task, 0.0));
  PetscCall(SATaskSetUp(task));
  PetscCall(SAOptimizerCreate(PETSC_COMM_WORLD, &opt));
  PetscCall(SAOptimizerSetFromOptions(opt));
  for (PetscInt i = 0; kv[i]; i += 2) PetscCall(PetscOptionsClearValue(NULL, kv[i]));
  PetscCall(SATaskCreateParameters(task, &theta));
  PetscCall(SATaskInitialGuess(task, theta));
  PetscCall(SAOptimizerSetUp(opt, theta));
  PetscCall(VecDuplicate(theta, &g));
  PetscCall(SALyapCreate(PETSC_COMM_WORLD, &ly));
  PetscCall(SALyapSetParameters(ly, K, every, T0, 17));
  for (PetscInt t = 0; t < T; t++) {
    SABatch b = SA_BATCH(t);
    SAHyper h;
    Mat     J;

    b.probe = -1;
    PetscCall(SAStepJacobianCreate(task, opt, theta, &b, t, NULL, &J));
    PetscCall(SALyapStep(ly, J));
    PetscCall(MatDestroy(&J));
    PetscCall(SATaskLossGradient(task, theta, &b, &loss, g));
    PetscCall(SAOptimizerGetHyper(opt, t, &h));
    PetscCall(SAOptimizerUpdate(opt, &h, theta, g));
  }
  PetscCall(SALyapGetExponents(ly, lam, &counted));
  for (PetscInt i = 0; i < n; i++) ref[i] = PetscLogReal(PetscAbsReal(1 - lr * (lmin + (lmax - lmin) * i / (n - 1))));
  qsort(ref, (size_t) n, sizeof(PetscReal), CmpDesc);
  CU_ASSERT_EQUAL(counted, T - T0);
  for (PetscInt i = 0; i < K; i++) CU_ASSERT(PetscAbsReal(lam[i] - ref[i]) <= 1e-8 * PetscAbsReal(ref[i]));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  every %" PetscInt_FMT ": lambda_1 %.15f (log|1 - lr lambda| %.15f)\n",
                        every, (double) lam[0], (double) ref[0]));
  PetscCall(SALyapDestroy(&ly));
  PetscCall(VecDestroy(&g));
  PetscCall(VecDestroy(&theta));
  PetscCall(SAOptimizerDestroy(&opt));
  PetscCall(SATaskDestroy(&task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void test_lyapunov_gd(void)
{
  CU_ASSERT_FATAL(!LyapunovGD(1));
  CU_ASSERT_FATAL(!LyapunovGD(5));
}

int main(int argc, char **argv)
{
  int       nfail_all;
  CU_pSuite s;

  PetscCall(SlepcInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SAInitialize());
  InitSteps();
  if (CU_initialize_registry() != CUE_SUCCESS) return EXIT_FAILURE;
  s = CU_add_suite("analysis", NULL, NULL);
  CU_add_test(s, "planted collapses, recovery, dips, divergence", test_collapse_planted);
  CU_add_test(s, "area between twin curves", test_twin_gap);
  CU_add_test(s, "FTLE of linear maps", test_ftle_linear_map);
  CU_add_test(s, "Wilson intervals", test_wilson);
  CU_add_test(s, "margin fit recovers a planted logistic threshold", test_margin_planted);
  CU_add_test(s, "Spearman, Kendall, AUROC known values", test_rank_statistics);
  CU_add_test(s, "lag-1 autocorrelation of AR(1)", test_ar1);
  CU_add_test(s, "detector scores", test_detectors);
  CU_add_test(s, "meta-state SVD recovers a planted low-rank signal", test_metastate_planted);
  CU_add_test(s, "calibrated warnings keep their false-alarm rate", test_false_alarm);
  CU_add_test(s, "QR Lyapunov spectrum of GD on the quadratic", test_lyapunov_gd);
  PetscCall(SATestRunSuite(PETSC_COMM_WORLD, &nfail_all));
  PetscCall(SAFinalize());
  PetscCall(SlepcFinalize());
  return nfail_all ? EXIT_FAILURE : EXIT_SUCCESS;
}
