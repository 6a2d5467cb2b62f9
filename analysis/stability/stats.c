/*
  stats.c - the statistics of the stability analysis: Wilson intervals, the logistic margin fit with its
  bootstrap interval, quantiles (the rank statistics are in stats_rank.c).
  N = sample size. Pure arithmetic on arrays; the only randomness is the bootstrap, from an SAStream.
*/
#include <stabaudit/private/sastatsimpl.h>
#include <math.h>
#include <stdlib.h>

const char *const SAMarginStatuses[] = {"fit",    "separated",       "censored_above", "censored_below", "nonmonotone",
                                        "nodata", "quasi_separated", "SAMarginStatus", "SA_MARGIN_",     NULL};

int SACompareReal_Private(const void *a, const void *b)
{
  PetscReal x = *(const PetscReal *) a, y = *(const PetscReal *) b;
  return (x > y) - (x < y);
}

/*@C
  SAWilsonInterval - Wilson score interval of a binomial proportion

  Not Collective

  Input Parameters:
+ k - successes
. n - trials (> 0)
- z - normal quantile of the two-sided level (1.96 for 95%)

  Output Parameters:
+ lo - lower end
- hi - upper end

  Level: beginner

.seealso: `SAMarginEstimate()`
@*/
PetscErrorCode SAWilsonInterval(PetscInt k, PetscInt n, PetscReal z, PetscReal *lo, PetscReal *hi)
{
  PetscReal p, d, c, h;

  PetscFunctionBeginUser;
  PetscCheck(n > 0 && k >= 0 && k <= n, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "Wilson interval needs 0 <= k <= n, n > 0; got k %" PetscInt_FMT " n %" PetscInt_FMT, k, n);
  p   = (PetscReal) k / n;
  d   = 1 + z * z / n;
  c   = (p + z * z / (2 * n)) / d;
  h   = z * PetscSqrtReal(p * (1 - p) / n + z * z / (4.0 * n * n)) / d;
  *lo = PetscMax(0, c - h);
  *hi = PetscMin(1, c + h);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SANormalQuantile - Quantile of the standard normal distribution (Acklam's approximation, rel. error 1.2e-9)

  Not Collective

  Input Parameter:
. p - probability in (0, 1)

  Level: developer

.seealso: `SAWilsonInterval()`
@*/
PetscReal SANormalQuantile(PetscReal p)
{
  const PetscReal a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                         1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  const PetscReal b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
                         -1.328068155288572e+01};
  const PetscReal c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                         -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  const PetscReal d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00};
  PetscReal       q, r;

  if (p < 0.02425) {
    q = PetscSqrtReal(-2 * PetscLogReal(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - 0.02425) return -SANormalQuantile(1 - p);
  q = p - 0.5;
  r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/*@C
  SALogisticFit - Maximum-likelihood logistic regression logit P(y = 1) = a + b x by Newton's method

  Not Collective

  Input Parameters:
+ n - number of observations
. x - predictor
- y - outcomes in {0, 1}

  Output Parameters:
+ a         - intercept
. b         - slope
- converged - whether Newton converged (it does not when the outcomes are separated by x)

  Level: developer

.seealso: `SAMarginEstimate()`
@*/
PetscErrorCode SALogisticFit(PetscInt n, const PetscReal x[], const PetscReal y[], PetscReal *a, PetscReal *b,
                             PetscBool *converged)
{
  PetscReal A = 0, B = 0, xm = 0, xs = 0;

  PetscFunctionBeginUser;
  *converged = PETSC_FALSE;
  for (PetscInt i = 0; i < n; i++) xm += x[i] / n;
  for (PetscInt i = 0; i < n; i++) xs += (x[i] - xm) * (x[i] - xm) / n;
  xs = xs > 0 ? PetscSqrtReal(xs) : 1;
  /* Newton on the standardised predictor u = (x - xm) / xs */
  for (PetscInt it = 0; it < 100; it++) {
    PetscReal g0 = 0, g1 = 0, h00 = 0, h01 = 0, h11 = 0, det, dA, dB;

    for (PetscInt i = 0; i < n; i++) {
      PetscReal u = (x[i] - xm) / xs, p = 1 / (1 + PetscExpReal(-(A + B * u))), w = p * (1 - p);
      g0 += y[i] - p;
      g1 += (y[i] - p) * u;
      h00 += w;
      h01 += w * u;
      h11 += w * u * u;
    }
    det = h00 * h11 - h01 * h01;
    if (!(det > 1e-300)) break;
    dA = (h11 * g0 - h01 * g1) / det;
    dB = (h00 * g1 - h01 * g0) / det;
    A += dA;
    B += dB;
    if (PetscAbsReal(B) > 1e6) break; /* separation: the slope runs away */
    if (PetscAbsReal(dA) + PetscAbsReal(dB) < 1e-12 * (1 + PetscAbsReal(A) + PetscAbsReal(B))) {
      *converged = PETSC_TRUE;
      break;
    }
  }
  *b = B / xs;
  *a = A - B * xm / xs;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* nonparametric bracket of the crossing m: the largest magnitude <= m whose Wilson upper end is below 1/2 and the
   smallest >= m whose Wilson lower end is above 1/2 (NaN: open) */
static PetscErrorCode SAMarginBracket(PetscInt n, const PetscReal x[], const PetscReal y[], PetscReal m, PetscReal z,
                                      PetscReal *low, PetscReal *high)
{
  PetscFunctionBeginUser;
  *low = *high = NAN;
  for (PetscInt i = 0; i < n; i++) {
    PetscInt  k = 0, c = 0;
    PetscReal lo, hi;
    PetscBool first = PETSC_TRUE;

    for (PetscInt j = 0; j < i; j++)
      if (x[j] == x[i]) first = PETSC_FALSE;
    if (!first) continue;
    for (PetscInt j = 0; j < n; j++)
      if (x[j] == x[i]) {
        c++;
        k += y[j] > 0.5;
      }
    PetscCall(SAWilsonInterval(k, c, z, &lo, &hi));
    if (x[i] <= m && hi < 0.5 && (PetscIsNanReal(*low) || x[i] > *low)) *low = x[i];
    if (x[i] >= m && lo > 0.5 && (PetscIsNanReal(*high) || x[i] < *high)) *high = x[i];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* margin of one (re)sample; status as SAMarginStatus, value in the fit scale */
static PetscErrorCode SAMarginOne(PetscInt n, const PetscReal x[], const PetscReal y[], PetscReal z, SAMargin *mg)
{
  PetscReal xmin = PETSC_MAX_REAL, xmax = -PETSC_MAX_REAL, x0max = -PETSC_MAX_REAL, x1min = PETSC_MAX_REAL;
  PetscInt  n1 = 0;
  PetscBool conv;

  PetscFunctionBeginUser;
  mg->margin = mg->low = mg->high = mg->a = mg->b = NAN;
  for (PetscInt i = 0; i < n; i++) {
    xmin = PetscMin(xmin, x[i]);
    xmax = PetscMax(xmax, x[i]);
    if (y[i] > 0.5) {
      n1++;
      x1min = PetscMin(x1min, x[i]);
    } else x0max = PetscMax(x0max, x[i]);
  }
  if (n < 2 || xmin == xmax) {
    mg->status = SA_MARGIN_NODATA;
  } else if (n1 == 0) {
    mg->status = SA_MARGIN_CENSORED_ABOVE;
    mg->low    = xmax;
  } else if (n1 == n) {
    mg->status = SA_MARGIN_CENSORED_BELOW;
    mg->high   = xmin;
  } else if (x0max < x1min) {
    mg->status = SA_MARGIN_SEPARATED;
    mg->margin = 0.5 * (x0max + x1min);
    mg->low    = x0max;
    mg->high   = x1min;
  } else {
    PetscCall(SALogisticFit(n, x, y, &mg->a, &mg->b, &conv));
    if (!(mg->b > 0)) mg->status = SA_MARGIN_NONMONOTONE;
    else if (!conv) {
      /* quasi-complete separation (e.g. no collapse below the top magnitude, some at it): the slope runs away and
         the bootstrap would only repeat the data's structure; the interval is the Wilson bracket */
      mg->status = SA_MARGIN_QUASI_SEPARATED;
      mg->margin = -mg->a / mg->b;
      PetscCall(SAMarginBracket(n, x, y, mg->margin, z, &mg->low, &mg->high));
    } else {
      mg->status = SA_MARGIN_FIT;
      mg->margin = -mg->a / mg->b;
    }
    /* a crossing outside the tested magnitudes is not extrapolated: censored, bounded by the Wilson bracket */
    if (mg->status != SA_MARGIN_NONMONOTONE && (mg->margin > xmax || mg->margin < xmin)) {
      PetscReal lo, hi;
      PetscCall(SAMarginBracket(n, x, y, mg->margin, z, &lo, &hi));
      mg->status = mg->margin > xmax ? SA_MARGIN_CENSORED_ABOVE : SA_MARGIN_CENSORED_BELOW;
      mg->low    = mg->status == SA_MARGIN_CENSORED_ABOVE ? lo : NAN;
      mg->high   = mg->status == SA_MARGIN_CENSORED_BELOW ? hi : NAN;
      mg->margin = NAN;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAMarginEstimate - Stability margin: the magnitude at which the collapse probability crosses 1/2

  Not Collective

  Input Parameters:
+ n         - members (magnitude, collapsed) pairs
. mag       - magnitudes
. collapsed - outcomes in {0, 1}
. uselog    - fit in log(magnitude); ignored (linear fit, mg->logscale false) when a magnitude is not positive
. nboot     - bootstrap replicates for the interval of a fitted margin
. level     - confidence level, e.g. 0.95
- rng       - stream of the bootstrap draws (step = replicate, index = draw)

  Output Parameter:
. mg - the margin, its interval and how it was obtained (`SAMarginStatus`), in magnitude units

  Notes:
  Overlapping outcomes: maximum-likelihood logistic fit, margin = -a/b, percentile bootstrap interval over
  replicates that give a margin (separated replicates give the midpoint of their gap). Outcomes separated by
  magnitude (no overlap): the logistic MLE does not exist; the margin is the midpoint of the gap between the
  largest magnitude without collapse and the smallest with, and the gap is the interval. Quasi-complete
  separation (outcomes overlap at one magnitude only, so the slope diverges): the margin is the fit's crossing and
  the interval is the nonparametric Wilson bracket (largest magnitude below it whose Wilson interval lies below
  1/2, smallest above it whose interval lies above 1/2; an end is NaN, open, if no magnitude qualifies). No collapse (or
only collapses) in range: censored, reported as such and never extrapolated.

  Level: beginner

.seealso: `SALogisticFit()`, `SAWilsonInterval()`
@*/
PetscErrorCode SAMarginEstimate(PetscInt n, const PetscReal mag[], const PetscReal collapsed[], PetscBool uselog,
                                PetscInt nboot, PetscReal level, const SAStream *rng, SAMargin *mg)
{
  PetscReal *x, *xb, *yb, *mb, z = SANormalQuantile(1 - (1 - level) / 2);
  PetscInt   nm = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc4(n + 1, &x, n + 1, &xb, n + 1, &yb, nboot + 1, &mb));
  for (PetscInt i = 0; i < n; i++)
    if (!(mag[i] > 0)) uselog = PETSC_FALSE; /* a magnitude 0 (e.g. clip_off): linear scale for this group */
  for (PetscInt i = 0; i < n; i++) x[i] = uselog ? PetscLogReal(mag[i]) : mag[i];
  PetscCall(SAMarginOne(n, x, collapsed, z, mg));
  if (mg->status == SA_MARGIN_FIT) {
    for (PetscInt r = 0; r < nboot; r++) {
      SAMargin one;

      for (PetscInt i = 0; i < n; i++) {
        PetscInt64 j;

        PetscCall(SAStreamInteger(rng, r, i, 0, n - 1, &j));
        xb[i] = x[j];
        yb[i] = collapsed[j];
      }
      PetscCall(SAMarginOne(n, xb, yb, z, &one));
      if (one.status == SA_MARGIN_FIT || one.status == SA_MARGIN_SEPARATED || one.status == SA_MARGIN_QUASI_SEPARATED)
        mb[nm++] = one.margin;
    }
    if (nm >= 2) {
      PetscCall(SAQuantile(nm, mb, (1 - level) / 2, &mg->low));
      PetscCall(SAQuantile(nm, mb, 1 - (1 - level) / 2, &mg->high));
    }
  }
  mg->logscale = uselog;
  if (uselog) {
    mg->margin = PetscExpReal(mg->margin);
    mg->low    = PetscExpReal(mg->low);
    mg->high   = PetscExpReal(mg->high);
  }
  PetscCall(PetscFree4(x, xb, yb, mb));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAQuantile - Empirical quantile (linear interpolation between order statistics, type 7) of the finite values

  Not Collective

  Input Parameters:
+ n - number of values
. v - the values (not modified; NaN are ignored)
- p - probability in [0, 1]

  Output Parameter:
. q - the quantile (NaN if no finite value)

  Level: developer

.seealso: `SAWarningCalibrate()`
@*/
PetscErrorCode SAQuantile(PetscInt n, const PetscReal v[], PetscReal p, PetscReal *q)
{
  PetscReal *s, h;
  PetscInt   m = 0, j;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(n + 1, &s));
  for (PetscInt i = 0; i < n; i++)
    if (!PetscIsNanReal(v[i])) s[m++] = v[i];
  if (!m) *q = NAN;
  else {
    qsort(s, (size_t) m, sizeof(PetscReal), SACompareReal_Private);
    h  = p * (m - 1);
    j  = (PetscInt) PetscFloorReal(h);
    *q = j + 1 < m ? s[j] + (h - j) * (s[j + 1] - s[j]) : s[m - 1];
  }
  PetscCall(PetscFree(s));
  PetscFunctionReturn(PETSC_SUCCESS);
}
