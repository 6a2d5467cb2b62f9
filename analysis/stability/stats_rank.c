/*
  stats_rank.c - rank statistics of the stability analysis: Spearman's rho (with bootstrap, and within strata),
  Kendall's tau, lag-1 autocorrelation, AUROC. N = sample size. Pure arithmetic on arrays; the only randomness is the
  bootstrap, from an SAStream.
*/
#include <stabaudit/private/sastatsimpl.h>
#include <math.h>
#include <stdlib.h>

/* mid-ranks (ties share the average rank) */
static PetscErrorCode SARanks(PetscInt n, const PetscReal v[], PetscReal r[])
{
  PetscInt *idx;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(n + 1, &idx));
  for (PetscInt i = 0; i < n; i++) idx[i] = i;
  /* insertion sort of indices: n is a number of configurations or of records */
  for (PetscInt i = 1; i < n; i++) {
    PetscInt t = idx[i], j = i - 1;
    while (j >= 0 && v[idx[j]] > v[t]) {
      idx[j + 1] = idx[j];
      j--;
    }
    idx[j + 1] = t;
  }
  for (PetscInt i = 0; i < n;) {
    PetscInt j = i;
    while (j + 1 < n && v[idx[j + 1]] == v[idx[i]]) j++;
    for (PetscInt l = i; l <= j; l++) r[idx[l]] = 0.5 * (i + j) + 1;
    i = j + 1;
  }
  PetscCall(PetscFree(idx));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscReal SAPearson(PetscInt n, const PetscReal x[], const PetscReal y[])
{
  PetscReal mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;

  for (PetscInt i = 0; i < n; i++) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  for (PetscInt i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / PetscSqrtReal(sxx * syy) : NAN;
}

/*@C
  SASpearman - Spearman rank correlation (Pearson correlation of mid-ranks)

  Not Collective

  Input Parameters:
+ n - number of pairs
. x - first variable
- y - second variable

  Output Parameter:
. rho - the correlation (NaN if a variable is constant or n < 3)

  Level: beginner

.seealso: `SASpearmanBootstrap()`
@*/
PetscErrorCode SASpearman(PetscInt n, const PetscReal x[], const PetscReal y[], PetscReal *rho)
{
  PetscReal *rx, *ry;

  PetscFunctionBeginUser;
  *rho = NAN;
  if (n < 3) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscMalloc2(n, &rx, n, &ry));
  PetscCall(SARanks(n, x, rx));
  PetscCall(SARanks(n, y, ry));
  *rho = SAPearson(n, rx, ry);
  PetscCall(PetscFree2(rx, ry));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASpearmanBootstrap - Spearman correlation with a percentile bootstrap interval (pairs resampled)

  Not Collective

  Input Parameters:
+ n     - number of pairs
. x     - first variable
. y     - second variable
. nboot - replicates
. level - confidence level
- rng   - stream of the draws

  Output Parameters:
+ rho - the correlation of the sample
. lo  - lower end of the interval
- hi  - upper end

  Level: beginner

.seealso: `SASpearman()`
@*/
PetscErrorCode SASpearmanBootstrap(PetscInt n, const PetscReal x[], const PetscReal y[], PetscInt nboot,
                                   PetscReal level, const SAStream *rng, PetscReal *rho, PetscReal *lo, PetscReal *hi)
{
  PetscReal *xb, *yb, *rb;
  PetscInt   nr = 0;

  PetscFunctionBeginUser;
  PetscCall(SASpearman(n, x, y, rho));
  *lo = *hi = NAN;
  if (PetscIsNanReal(*rho)) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscMalloc3(n, &xb, n, &yb, nboot + 1, &rb));
  for (PetscInt r = 0; r < nboot; r++) {
    PetscReal v;
    for (PetscInt i = 0; i < n; i++) {
      PetscInt64 j;
      PetscCall(SAStreamInteger(rng, r, i, 0, n - 1, &j));
      xb[i] = x[j];
      yb[i] = y[j];
    }
    PetscCall(SASpearman(n, xb, yb, &v));
    if (!PetscIsNanReal(v)) rb[nr++] = v;
  }
  if (nr >= 2) {
    PetscCall(SAQuantile(nr, rb, (1 - level) / 2, lo));
    PetscCall(SAQuantile(nr, rb, 1 - (1 - level) / 2, hi));
  }
  PetscCall(PetscFree3(xb, yb, rb));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the n-weighted mean of the per-stratum Spearman correlations (strata without one left out): idx lists the pairs
   stratum by stratum, cnt[i] is the size of pair i's stratum; xs, ys: work space */
static PetscErrorCode SASpearmanStrataMean(PetscInt n, const PetscReal x[], const PetscReal y[], const PetscInt idx[],
                                           const PetscInt cnt[], PetscReal *xs, PetscReal *ys, PetscReal *rho)
{
  PetscReal sum = 0, w = 0;

  PetscFunctionBeginUser;
  for (PetscInt k = 0; k < n;) {
    PetscInt  m = cnt[idx[k]];
    PetscReal r;

    for (PetscInt q = 0; q < m; q++) {
      xs[q] = x[idx[k + q]];
      ys[q] = y[idx[k + q]];
    }
    k += m;
    PetscCall(SASpearman(m, xs, ys, &r));
    if (PetscIsNanReal(r)) continue;
    sum += m * r;
    w += m;
  }
  *rho = w > 0 ? sum / w : NAN;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASpearmanStratified - Spearman correlation within strata (the n-weighted mean of the per-stratum correlations)
  with a percentile bootstrap interval that resamples pairs within each stratum

  Not Collective

  Input Parameters:
+ n      - number of pairs
. x      - first variable
. y      - second variable
. strata - stratum of each pair (any integers; pairs with equal values form a stratum)
. nboot  - replicates
. level  - confidence level
- rng    - stream of the draws

  Output Parameters:
+ rho - sum over strata of n_s rho_s / sum of n_s, over the strata whose correlation is defined (n_s >= 3, neither
        variable constant); NaN if none is
. lo  - lower end of the interval
- hi  - upper end

  Notes:
  With a second sweep axis, pooling the configurations mixes its effect into the correlation (Simpson's paradox: two
  strata with a positive correlation each can pool to a negative one); stratifying by the other axes compares only
  configurations that differ in the axis studied. Replicate r draws pair i's replacement from its own stratum with
  the stream at (r, i). With one stratum the correlation is `SASpearman()`'s.

  Level: intermediate

.seealso: `SASpearmanBootstrap()`, `SASpearman()`
@*/
PetscErrorCode SASpearmanStratified(PetscInt n, const PetscReal x[], const PetscReal y[], const PetscInt strata[],
                                    PetscInt nboot, PetscReal level, const SAStream *rng, PetscReal *rho, PetscReal *lo,
                                    PetscReal *hi)
{
  PetscReal *xb, *yb, *xs, *ys, *rb;
  PetscInt  *idx, *cnt, *off, nr = 0;

  PetscFunctionBeginUser;
  *lo = *hi = NAN;
  PetscCall(PetscMalloc5(n + 1, &xb, n + 1, &yb, n + 1, &xs, n + 1, &ys, nboot + 1, &rb));
  /* idx: pairs grouped by stratum (strata in order of first appearance, pairs in order), off[i]/cnt[i]: where pair
     i's stratum starts in idx and its size */
  PetscCall(PetscMalloc3(n + 1, &idx, n + 1, &cnt, n + 1, &off));
  {
    PetscInt k = 0;
    for (PetscInt i = 0; i < n; i++) {
      PetscBool first = PETSC_TRUE;
      for (PetscInt j = 0; j < i && first; j++) first = (PetscBool) (strata[j] != strata[i]);
      if (!first) continue;
      PetscInt start = k;
      for (PetscInt j = i; j < n; j++)
        if (strata[j] == strata[i]) idx[k++] = j;
      for (PetscInt j = start; j < k; j++) {
        off[idx[j]] = start;
        cnt[idx[j]] = k - start;
      }
    }
  }
  PetscCall(SASpearmanStrataMean(n, x, y, idx, cnt, xs, ys, rho));
  for (PetscInt r = 0; !PetscIsNanReal(*rho) && r < nboot; r++) {
    PetscReal v;
    for (PetscInt i = 0; i < n; i++) {
      PetscInt64 j;
      PetscCall(SAStreamInteger(rng, r, i, 0, cnt[i] - 1, &j));
      xb[i] = x[idx[off[i] + j]];
      yb[i] = y[idx[off[i] + j]];
    }
    PetscCall(SASpearmanStrataMean(n, xb, yb, idx, cnt, xs, ys, &v));
    if (!PetscIsNanReal(v)) rb[nr++] = v;
  }
  if (nr >= 2) {
    PetscCall(SAQuantile(nr, rb, (1 - level) / 2, lo));
    PetscCall(SAQuantile(nr, rb, 1 - (1 - level) / 2, hi));
  }
  PetscCall(PetscFree3(idx, cnt, off));
  PetscCall(PetscFree5(xb, yb, xs, ys, rb));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAKendallTau - Kendall's tau-b of a series against time (its trend), NaN entries skipped

  Not Collective

  Input Parameters:
+ n - length
- x - the series

  Output Parameter:
. tau - in [-1, 1] (NaN with fewer than 3 finite values or a constant series)

  Level: beginner

.seealso: `SADetectorKendallTrend()`
@*/
PetscErrorCode SAKendallTau(PetscInt n, const PetscReal x[], PetscReal *tau)
{
  PetscReal c = 0, d = 0, tx = 0;
  PetscInt  m = 0;

  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < n; i++) {
    if (PetscIsInfOrNanReal(x[i])) continue;
    m++;
    for (PetscInt j = i + 1; j < n; j++) {
      if (PetscIsInfOrNanReal(x[j])) continue;
      if (x[j] > x[i]) c++;
      else if (x[j] < x[i]) d++;
      else tx++;
    }
  }
  if (m < 3 || c + d == 0) *tau = NAN;
  else *tau = (c - d) / PetscSqrtReal((c + d + tx) * (c + d)); /* time has no ties */
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SALag1Autocorrelation - Lag-1 autocorrelation sum (x_t - m)(x_{t+1} - m) / sum (x_t - m)^2

  Not Collective

  Input Parameters:
+ n - length
- x - the series (finite)

  Output Parameter:
. r - the autocorrelation (NaN if n < 3 or the series is constant)

  Level: beginner

.seealso: `SADetectorRollingAR1()`
@*/
PetscErrorCode SALag1Autocorrelation(PetscInt n, const PetscReal x[], PetscReal *r)
{
  PetscReal m = 0, num = 0, den = 0;

  PetscFunctionBeginUser;
  *r = NAN;
  if (n < 3) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt i = 0; i < n; i++) m += x[i] / n;
  for (PetscInt i = 0; i < n; i++) den += (x[i] - m) * (x[i] - m);
  for (PetscInt i = 0; i + 1 < n; i++) num += (x[i] - m) * (x[i + 1] - m);
  if (den > 0) *r = num / den;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAAUROC - Area under the ROC curve: P(score of a positive > score of a negative), ties counted 1/2

  Not Collective

  Input Parameters:
+ n     - number of samples
. score - scores (NaN samples are skipped; +Inf allowed)
- label - PETSC_TRUE for a positive

  Output Parameter:
. auc - the area (NaN without both classes)

  Level: beginner

.seealso: `SAWarningFirst()`
@*/
PetscErrorCode SAAUROC(PetscInt n, const PetscReal score[], const PetscBool label[], PetscReal *auc)
{
  PetscReal *s, *r, sum = 0;
  PetscBool *l;
  PetscInt   m = 0, np = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc3(n + 1, &s, n + 1, &r, n + 1, &l));
  for (PetscInt i = 0; i < n; i++)
    if (!PetscIsNanReal(score[i])) {
      s[m] = score[i];
      l[m] = label[i];
      np += label[i] ? 1 : 0;
      m++;
    }
  *auc = NAN;
  if (np > 0 && np < m) {
    /* Mann-Whitney with mid-ranks: ranks by sorting, O(m log m) */
    PetscInt *idx;
    PetscCall(PetscMalloc1(m, &idx));
    {
      /* sort pairs (value, index) */
      struct pair {
        PetscReal v;
        PetscInt  i;
      } * pr;
      PetscCall(PetscMalloc1(m, &pr));
      for (PetscInt i = 0; i < m; i++) {
        pr[i].v = s[i];
        pr[i].i = i;
      }
      qsort(pr, (size_t) m, sizeof(*pr), SACompareReal_Private); /* v is the first member */
      for (PetscInt i = 0; i < m; i++) idx[i] = pr[i].i;
      PetscCall(PetscFree(pr));
    }
    for (PetscInt i = 0; i < m;) {
      PetscInt j = i;
      while (j + 1 < m && s[idx[j + 1]] == s[idx[i]]) j++;
      for (PetscInt q = i; q <= j; q++) r[idx[q]] = 0.5 * (i + j) + 1;
      i = j + 1;
    }
    for (PetscInt i = 0; i < m; i++)
      if (l[i]) sum += r[i];
    *auc = (sum - 0.5 * np * (np + 1.0)) / ((PetscReal) np * (m - np));
    PetscCall(PetscFree(idx));
  }
  PetscCall(PetscFree3(s, r, l));
  PetscFunctionReturn(PETSC_SUCCESS);
}
