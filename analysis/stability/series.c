/*
  series.c - one member's recorded series: collapse and recovery, drawdown, twin gap, FTLE, the simple
  early-warning detectors and the warning rule. n = records, step[k] = optimizer step of record k,
  w = window in records. Missing values are NaN.
*/
#include <stabaudit/saanalysis.h>

/*@C
  SACollapseDetect - Finds the collapse of a performance curve (DESIGN.md 8)

  Not Collective

  Input Parameters:
+ n        - records
. step     - optimizer step of each record (increasing)
. perf     - performance (NaN after a divergence)
. loss     - loss (a non-finite value is a collapse); may be NULL
. divstep  - step at which the run diverged, -1 if it did not
. delta    - relative drop from the running maximum
- W        - steps within which a drop must recover to (1 - delta) of the running maximum to be transient

  Output Parameter:
. res - collapsed, collapse step, irreversible, recovery steps, max drawdown

  Notes:
  A collapse at record k: performance below (1 - delta) times the running maximum up to k, with no record in
  (step[k], step[k] + W] back at that level; irreversible if no later record is; a divergence (non-finite
  loss or performance, or divstep) is an irreversible collapse unless an earlier one was found.

  Level: beginner

.seealso: `SATwinGapArea()`, `SAFTLEFit()`
@*/
PetscErrorCode SACollapseDetect(PetscInt n, const PetscInt step[], const PetscReal perf[], const PetscReal loss[],
                                PetscInt divstep, PetscReal delta, PetscInt W, SACollapseResult *res)
{
  PetscReal runmax = -PETSC_MAX_REAL;
  PetscInt  nfin   = n;

  PetscFunctionBeginUser;
  res->collapsed      = PETSC_FALSE;
  res->irreversible   = PETSC_FALSE;
  res->collapse_step  = -1;
  res->recovery_steps = -1;
  res->max_drawdown   = 0;
  /* the finite prefix */
  for (PetscInt k = 0; k < n; k++) {
    if ((divstep >= 0 && step[k] >= divstep) || PetscIsInfOrNanReal(perf[k]) ||
        (loss && PetscIsInfOrNanReal(loss[k]))) {
      nfin = k;
      break;
    }
  }
  for (PetscInt k = 0; k < nfin; k++) {
    runmax = PetscMax(runmax, perf[k]);
    if (runmax > 0) res->max_drawdown = PetscMax(res->max_drawdown, (runmax - perf[k]) / runmax);
  }
  runmax = -PETSC_MAX_REAL;
  for (PetscInt k = 0; k < nfin && !res->collapsed; k++) {
    PetscReal level;
    PetscInt  j;

    runmax = PetscMax(runmax, perf[k]);
    level  = (1 - delta) * runmax;
    if (!(perf[k] < level)) continue;
    for (j = k + 1; j < nfin; j++)
      if (perf[j] >= level) break;
    if (j < nfin && step[j] - step[k] <= W) {
      k = j - 1; /* a transient dip: resume at the recovery */
      continue;
    }
    res->collapsed     = PETSC_TRUE;
    res->collapse_step = step[k];
    if (j < nfin) res->recovery_steps = step[j] - step[k];
    else res->irreversible = PETSC_TRUE;
  }
  if (!res->collapsed && nfin < n) {
    res->collapsed     = PETSC_TRUE;
    res->irreversible  = PETSC_TRUE;
    res->collapse_step = divstep >= 0 ? PetscMin(divstep, step[nfin]) : step[nfin];
  }
  if (nfin < n) res->max_drawdown = 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATwinGapArea - Area between the twin's and the member's performance curves from the onset on

  Not Collective

  Input Parameters:
+ n     - records
. step  - optimizer steps
. perf  - the member's performance (NaN counts as 0: a diverged run has performance 0)
. twin  - the twin's performance (same convention)
- onset - first perturbed step

  Output Parameter:
. area - trapezoidal integral over steps >= onset of (twin - member); positive when the member is worse

  Level: beginner

.seealso: `SACollapseDetect()`
@*/
PetscErrorCode SATwinGapArea(PetscInt n, const PetscInt step[], const PetscReal perf[], const PetscReal twin[],
                             PetscInt onset, PetscReal *area)
{
  PetscReal prev = 0;
  PetscInt  kp   = -1;

  PetscFunctionBeginUser;
  *area = 0;
  for (PetscInt k = 0; k < n; k++) {
    PetscReal p = PetscIsInfOrNanReal(perf[k]) ? 0 : perf[k], t = PetscIsInfOrNanReal(twin[k]) ? 0 : twin[k];
    if (step[k] < onset) continue;
    if (kp >= 0) *area += 0.5 * (prev + (t - p)) * (step[k] - step[kp]);
    prev = t - p;
    kp   = k;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAFTLEFit - Finite-time Lyapunov exponent: least-squares slope of log d(t) over t0 < t <= t1

  Not Collective

  Input Parameters:
+ n    - records
. step - optimizer steps
. d    - twin distance (non-positive or non-finite values skipped)
. t0   - onset step (excluded: d(t0) is 0 for perturbations that act on the update)
- t1   - last step of the window

  Output Parameters:
+ ftle   - slope per optimizer step (NaN with fewer than 2 points)
. stderr - its standard error (NaN with fewer than 3 points)
- npts   - points used

  Level: beginner

.seealso: `SACollapseDetect()`
@*/
PetscErrorCode SAFTLEFit(PetscInt n, const PetscInt step[], const PetscReal d[], PetscInt t0, PetscInt t1,
                         PetscReal *ftle, PetscReal *stderr, PetscInt *npts)
{
  PetscReal st = 0, sy = 0, stt = 0, sty = 0, tm, ym, b, rss = 0;
  PetscInt  m = 0;

  PetscFunctionBeginUser;
  *ftle = *stderr = NAN;
  for (PetscInt k = 0; k < n; k++)
    if (step[k] > t0 && step[k] <= t1 && d[k] > 0 && !PetscIsInfOrNanReal(d[k])) {
      st += step[k];
      sy += PetscLogReal(d[k]);
      m++;
    }
  *npts = m;
  if (m < 2) PetscFunctionReturn(PETSC_SUCCESS);
  tm = st / m;
  ym = sy / m;
  for (PetscInt k = 0; k < n; k++)
    if (step[k] > t0 && step[k] <= t1 && d[k] > 0 && !PetscIsInfOrNanReal(d[k])) {
      stt += (step[k] - tm) * (step[k] - tm);
      sty += (step[k] - tm) * (PetscLogReal(d[k]) - ym);
    }
  b     = sty / stt;
  *ftle = b;
  if (m < 3) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt k = 0; k < n; k++)
    if (step[k] > t0 && step[k] <= t1 && d[k] > 0 && !PetscIsInfOrNanReal(d[k])) {
      PetscReal r = PetscLogReal(d[k]) - ym - b * (step[k] - tm);
      rss += r * r;
    }
  *stderr = PetscSqrtReal(rss / (m - 2) / stt);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADetectorLossZ - Loss-spike z-score: (loss_k - mean) / std of the w previous records

  Not Collective

  Input Parameters:
+ n    - records
. loss - the loss series (a non-finite loss scores +Inf)
- w    - window (records, >= 2)

  Output Parameter:
. z - the score (NaN for k < w or a constant window)

  Level: beginner

.seealso: `SADetectorRollingVariance()`, `SAWarningFirst()`
@*/
PetscErrorCode SADetectorLossZ(PetscInt n, const PetscReal loss[], PetscInt w, PetscReal z[])
{
  PetscFunctionBeginUser;
  for (PetscInt k = 0; k < n; k++) {
    PetscReal m = 0, v = 0;
    PetscBool ok = PETSC_TRUE;

    z[k] = NAN;
    if (PetscIsInfOrNanReal(loss[k])) {
      z[k] = PETSC_INFINITY;
      continue;
    }
    if (k < w) continue;
    for (PetscInt j = k - w; j < k; j++) {
      if (PetscIsInfOrNanReal(loss[j])) ok = PETSC_FALSE;
      m += loss[j] / w;
    }
    if (!ok) continue;
    for (PetscInt j = k - w; j < k; j++) v += (loss[j] - m) * (loss[j] - m) / (w - 1);
    if (v > 0) z[k] = (loss[k] - m) / PetscSqrtReal(v);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADetectorRollingVariance - Variance of the trailing w records (records k-w+1..k)

  Not Collective

  Input Parameters:
+ n - records
. x - the series
- w - window (records, >= 2)

  Output Parameter:
. v - rolling variance (NaN for k < w - 1 or a window with a missing value)

  Level: beginner

.seealso: `SADetectorKendallTrend()`
@*/
PetscErrorCode SADetectorRollingVariance(PetscInt n, const PetscReal x[], PetscInt w, PetscReal v[])
{
  PetscFunctionBeginUser;
  for (PetscInt k = 0; k < n; k++) {
    PetscReal m = 0, s = 0;
    PetscBool ok = PETSC_TRUE;

    v[k] = NAN;
    if (k < w - 1) continue;
    for (PetscInt j = k - w + 1; j <= k; j++) {
      if (PetscIsInfOrNanReal(x[j])) ok = PETSC_FALSE;
      m += x[j] / w;
    }
    if (!ok) continue;
    for (PetscInt j = k - w + 1; j <= k; j++) s += (x[j] - m) * (x[j] - m) / (w - 1);
    v[k] = s;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADetectorRollingAR1 - Lag-1 autocorrelation of the trailing w records

  Not Collective

  Input Parameters:
+ n - records
. x - the series
- w - window (records, >= 3)

  Output Parameter:
. r - rolling autocorrelation (NaN where undefined)

  Level: beginner

.seealso: `SALag1Autocorrelation()`
@*/
PetscErrorCode SADetectorRollingAR1(PetscInt n, const PetscReal x[], PetscInt w, PetscReal r[])
{
  PetscFunctionBeginUser;
  for (PetscInt k = 0; k < n; k++) {
    PetscBool ok = PETSC_TRUE;

    r[k] = NAN;
    if (k < w - 1) continue;
    for (PetscInt j = k - w + 1; j <= k; j++)
      if (PetscIsInfOrNanReal(x[j])) ok = PETSC_FALSE;
    if (ok) PetscCall(SALag1Autocorrelation(w, x + k - w + 1, &r[k]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADetectorKendallTrend - Kendall tau of the trailing w values of an indicator (its trend)

  Not Collective

  Input Parameters:
+ n   - records
. ind - indicator series (rolling variance, rolling autocorrelation)
- w   - window (records)

  Output Parameter:
. tau - trend score in [-1, 1] (NaN where undefined)

  Level: beginner

.seealso: `SAKendallTau()`
@*/
PetscErrorCode SADetectorKendallTrend(PetscInt n, const PetscReal ind[], PetscInt w, PetscReal tau[])
{
  PetscFunctionBeginUser;
  for (PetscInt k = 0; k < n; k++) {
    tau[k] = NAN;
    if (k >= w - 1) PetscCall(SAKendallTau(w, ind + k - w + 1, &tau[k]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAWarningRunStatistic - Largest level that m consecutive records of a score all exceed

  Not Collective

  Input Parameters:
+ n     - records
. score - the score (NaN breaks a run)
- m     - consecutive records

  Output Parameter:
. r - max over k of min(score[k..k+m-1]); a warning with threshold thr fires iff r > thr (-Inf if no run)

  Level: developer

.seealso: `SAWarningCalibrate()`
@*/
PetscErrorCode SAWarningRunStatistic(PetscInt n, const PetscReal score[], PetscInt m, PetscReal *r)
{
  PetscFunctionBeginUser;
  *r = PETSC_NINFINITY;
  for (PetscInt k = 0; k + m <= n; k++) {
    PetscReal mn = PETSC_INFINITY;
    for (PetscInt j = k; j < k + m; j++) mn = PetscIsNanReal(score[j]) ? PETSC_NINFINITY : PetscMin(mn, score[j]);
    *r = PetscMax(*r, mn);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAWarningCalibrate - Threshold with a false-alarm rate of at most alpha on the calibration members

  Not Collective

  Input Parameters:
+ n     - calibration members (twins)
. r     - their run statistics (`SAWarningRunStatistic()`)
- alpha - false-alarm rate

  Output Parameter:
. thr - the smallest order statistic of r that at most floor(alpha n) members exceed

  Level: developer

.seealso: `SAWarningFirst()`
@*/
PetscErrorCode SAWarningCalibrate(PetscInt n, const PetscReal r[], PetscReal alpha, PetscReal *thr)
{
  PetscReal *s;
  PetscInt   j;

  PetscFunctionBeginUser;
  *thr = PETSC_INFINITY;
  if (n < 1) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscMalloc1(n, &s));
  for (PetscInt i = 0; i < n; i++) s[i] = r[i];
  /* ascending insertion sort: n is a number of twins */
  for (PetscInt i = 1; i < n; i++) {
    PetscReal t = s[i];
    PetscInt  l = i - 1;
    while (l >= 0 && s[l] > t) {
      s[l + 1] = s[l];
      l--;
    }
    s[l + 1] = t;
  }
  j = (PetscInt) PetscCeilReal((1 - alpha) * n - 1e-9) - 1;
  j = PetscMax(0, PetscMin(n - 1, j));
  /* members strictly above s[j]: at most n - 1 - j <= alpha n */
  *thr = s[j];
  PetscCall(PetscFree(s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAWarningFirst - Step at which a warning fires: the score exceeded thr for m consecutive records

  Not Collective

  Input Parameters:
+ n     - records
. step  - optimizer steps
. score - the score
. thr   - threshold
. m     - consecutive records
- k0    - first record considered

  Output Parameter:
. wstep - step of the m-th consecutive exceedance, -1 if none

  Level: beginner

.seealso: `SAWarningCalibrate()`
@*/
PetscErrorCode SAWarningFirst(PetscInt n, const PetscInt step[], const PetscReal score[], PetscReal thr, PetscInt m,
                              PetscInt k0, PetscInt *wstep)
{
  PetscInt run = 0;

  PetscFunctionBeginUser;
  *wstep = -1;
  for (PetscInt k = PetscMax(k0, 0); k < n; k++) {
    run = (!PetscIsNanReal(score[k]) && score[k] > thr) ? run + 1 : 0;
    if (run >= m) {
      *wstep = step[k];
      break;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
