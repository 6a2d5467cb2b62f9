/*
  test_datasets.c - the classification data sets: sizes, class counts and known values of the five
  sets, deterministic splits and subsets, standardisation, and clear errors for bad names and
  missing or corrupt files. Needs `make setup` (scripts/setup.sh) to have run.

  Reference values, all checked against the files themselves (Debian 12 packages
  python3-sklearn 1.2.1+dfsg-1 and dataset-fashion-mnist 0.0~git20200523.55506a9-1):
  - class counts of the sklearn sets, counted with
      tail -n +2 data/sklearn/iris.csv | awk -F, '{print $NF}' | sort -n | uniq -c      (same for wine, breast_cancer)
      zcat data/sklearn/digits.csv.gz | awk -F, '{print $NF}' | sort -n | uniq -c
    and equal to the published ones: iris 50/50/50 and wine 59/71/48 and breast_cancer 212 malignant /
    357 benign (sklearn/datasets/descr/{iris,wine_data,breast_cancer}.rst); digits
    178,182,177,183,181,182,181,179,174,180 (the UCI optdigits test set, optdigits.names).
  - first rows: head -2 data/sklearn/{iris,wine_data,breast_cancer}.csv and
      zcat data/sklearn/digits.csv.gz | head -1 | tr ',' '\n' | cat -n
  - Fashion-MNIST (6000 per class in train, 1000 in test; first labels 9 = ankle boot in both parts):
      zcat /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz | od -A d -t u1 -j 8 -N 4   -> 9 0 0 3
      zcat /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz  | od -A d -t u1 -j 8 -N 4   -> 9 2 1 1
      zcat /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz | od -A d -t u1 -j 16 -N 784
    (image 0: pixels 99, 100, 127 are 13, 73, 136), and with python3 gzip+struct: train image 0 has
    pixel sum 76247 and its maximum 255 at pixel 417; test image 0 has pixel 221 = 37 and sum 33456.
*/
#include <stabaudit/sadataset.h>
#include <slepcsys.h>
#include "satest.h"
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>

static char tmpdir[PETSC_MAX_PATH_LEN]; /* this rank's scratch data directory (holds sklearn/) */

static PetscErrorCode CheckShape(const SADataset *ds, const char name[], PetscInt n, PetscInt d, PetscInt nclass,
                                 const PetscInt counts[])
{
  PetscInt c[16] = {0};

  PetscFunctionBeginUser;
  PetscCheck(!strcmp(ds->name, name), PETSC_COMM_SELF, PETSC_ERR_PLIB, "name %s, expected %s", ds->name, name);
  PetscCheck(ds->n == n && ds->d == d && ds->nclass == nclass, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "%s: %" PetscInt_FMT " x %" PetscInt_FMT ", %" PetscInt_FMT " classes; expected %" PetscInt_FMT
             " x %" PetscInt_FMT ", %" PetscInt_FMT,
             name, ds->n, ds->d, ds->nclass, n, d, nclass);
  for (PetscInt i = 0; i < n; i++) {
    PetscCheck(ds->y[i] >= 0 && ds->y[i] < nclass, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "%s: label %" PetscInt_FMT " of sample %" PetscInt_FMT " out of range", name, ds->y[i], i);
    c[ds->y[i]]++;
  }
  for (PetscInt k = 0; k < nclass; k++)
    PetscCheck(c[k] == counts[k], PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "%s: class %" PetscInt_FMT " has %" PetscInt_FMT " samples, expected %" PetscInt_FMT, name, k, c[k],
               counts[k]);
  {
    PetscReal *x;

    PetscCall(PetscMalloc1(d, &x));
    for (PetscInt i = 0; i < n; i++) {
      PetscCall(SADatasetGetRow(ds, i, x));
      for (PetscInt j = 0; j < d; j++)
        PetscCheck(!PetscIsInfOrNanReal(x[j]), PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: feature not finite", name);
    }
    PetscCall(PetscFree(x));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckRow(const SADataset *ds, PetscInt i, PetscInt m, const PetscInt j[], const PetscReal v[],
                               PetscInt label)
{
  PetscReal x[1024];

  PetscFunctionBeginUser;
  PetscCheck(ds->d <= 1024, PETSC_COMM_SELF, PETSC_ERR_PLIB, "CheckRow: at most 1024 features");
  PetscCall(SADatasetGetRow(ds, i, x));
  for (PetscInt k = 0; k < m; k++)
    PetscCheck(x[j[k]] == v[k], PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "%s: sample %" PetscInt_FMT " feature %" PetscInt_FMT " is %g, expected %g", ds->name, i, j[k],
               (double) x[j[k]], (double) v[k]);
  PetscCheck(ds->y[i] == label, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "%s: sample %" PetscInt_FMT " has label %" PetscInt_FMT ", expected %" PetscInt_FMT, ds->name, i, ds->y[i],
             label);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckSklearn(void)
{
  SADataset      ds;
  const PetscInt ciris[] = {50, 50, 50}, cwine[] = {59, 71, 48}, cbc[] = {212, 357};
  const PetscInt cdig[] = {178, 182, 177, 183, 181, 182, 181, 179, 174, 180};

  PetscFunctionBeginUser;
  PetscCall(SADatasetLoad("iris", NULL, PETSC_FALSE, &ds));
  PetscCall(CheckShape(&ds, "iris", 150, 4, 3, ciris));
  {
    const PetscInt  j[] = {0, 1, 2, 3};
    const PetscReal a[] = {5.1, 3.5, 1.4, 0.2}, b[] = {5.9, 3.0, 5.1, 1.8};
    PetscCall(CheckRow(&ds, 0, 4, j, a, 0));
    PetscCall(CheckRow(&ds, 149, 4, j, b, 2));
  }
  PetscCall(SADatasetDestroy(&ds));

  PetscCall(SADatasetLoad("wine", SA_DEFAULT_DATA_DIR, PETSC_FALSE, &ds));
  PetscCall(CheckShape(&ds, "wine", 178, 13, 3, cwine));
  {
    const PetscInt  j[] = {0, 1, 4, 12};
    const PetscReal a[] = {14.23, 1.71, 127, 1065}, b[] = {14.13, 4.1, 96, 560};
    PetscCall(CheckRow(&ds, 0, 4, j, a, 0));
    PetscCall(CheckRow(&ds, 177, 4, j, b, 2));
  }
  PetscCall(SADatasetDestroy(&ds));

  PetscCall(SADatasetLoad("breast_cancer", "", PETSC_FALSE, &ds));
  PetscCall(CheckShape(&ds, "breast_cancer", 569, 30, 2, cbc));
  {
    const PetscInt  j[] = {0, 4, 29};
    const PetscReal a[] = {17.99, 0.1184, 0.1189}, b[] = {7.76, 0.05263, 0.07039};
    PetscCall(CheckRow(&ds, 0, 3, j, a, 0));
    PetscCall(CheckRow(&ds, 568, 3, j, b, 1));
  }
  PetscCall(SADatasetDestroy(&ds));

  PetscCall(SADatasetLoad("digits", NULL, PETSC_FALSE, &ds));
  PetscCall(CheckShape(&ds, "digits", 1797, 64, 10, cdig));
  {
    /* zcat digits.csv.gz | head -1: 0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,...,0,0,6,13,10,0,0,0,0 */
    const PetscInt  j[] = {0, 2, 3, 4, 10, 18, 60, 63};
    const PetscReal a[] = {0, 5, 13, 9, 13, 15, 10, 0};
    PetscCall(CheckRow(&ds, 0, 8, j, a, 0));
  }
  for (PetscInt k = 0; k < ds.n * ds.d; k++)
    PetscCheck(ds.X[k] >= 0 && ds.X[k] <= 16 && ds.X[k] == PetscFloorReal(ds.X[k]), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "digits: pixel %g is not an integer in 0..16", (double) ds.X[k]);
  PetscCall(SADatasetDestroy(&ds));
  PetscCheck(!ds.X && !ds.y && ds.n == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "SADatasetDestroy() must zero the struct");
  PetscCall(SADatasetDestroy(&ds)); /* twice is fine */
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckFashion(void)
{
  SADataset      ds;
  const PetscInt ctrain[] = {6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000};
  const PetscInt ctest[]  = {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000};
  PetscReal      sum = 0, max = -1, x[784];
  PetscInt       imax = -1;

  PetscFunctionBeginUser;
  PetscCall(SADatasetLoad("fashion_mnist", NULL, PETSC_FALSE, &ds));
  PetscCheck(ds.X8 && !ds.X && !ds.mean, PETSC_COMM_SELF, PETSC_ERR_PLIB, "Fashion-MNIST must be held as raw bytes");
  PetscCall(CheckShape(&ds, "fashion_mnist", 60000, 784, 10, ctrain));
  {
    const PetscInt  j[] = {0, 99, 100, 127, 783};
    const PetscReal a[] = {0, 13, 73, 136, 0};
    PetscCall(CheckRow(&ds, 0, 5, j, a, 9)); /* 9 = ankle boot */
    PetscCheck(ds.y[1] == 0 && ds.y[2] == 0 && ds.y[3] == 3, PETSC_COMM_SELF, PETSC_ERR_PLIB, "train labels 1..3");
  }
  PetscCall(SADatasetGetRow(&ds, 0, x));
  for (PetscInt j = 0; j < 784; j++) {
    sum += x[j];
    if (x[j] > max) {
      max  = x[j];
      imax = j;
    }
  }
  PetscCheck(sum == 76247 && max == 255 && imax == 417, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "train image 0: sum %g max %g at %" PetscInt_FMT ", expected 76247, 255 at 417", (double) sum,
             (double) max, imax);
  for (PetscInt i = 0; i < ds.n; i += 997) { /* rows read back as the doubles of their bytes */
    PetscCall(SADatasetGetRow(&ds, i, x));
    for (PetscInt j = 0; j < 784; j++)
      PetscCheck(x[j] == (PetscReal) ds.X8[i * 784 + j], PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "sample %" PetscInt_FMT " pixel %" PetscInt_FMT ": %g, byte %d", i, j, (double) x[j],
                 (int) ds.X8[i * 784 + j]);
  }
  PetscCall(SADatasetDestroy(&ds));

  PetscCall(SADatasetLoad("fashion_mnist", "/nonexistent", PETSC_TRUE, &ds)); /* dir is not used for Fashion-MNIST */
  PetscCall(CheckShape(&ds, "fashion_mnist", 10000, 784, 10, ctest));
  {
    const PetscInt  j[] = {221};
    const PetscReal a[] = {37};
    PetscCall(CheckRow(&ds, 0, 1, j, a, 9));
    PetscCheck(ds.y[1] == 2 && ds.y[2] == 1 && ds.y[3] == 1, PETSC_COMM_SELF, PETSC_ERR_PLIB, "test labels 1..3");
  }
  sum = 0;
  PetscCall(SADatasetGetRow(&ds, 0, x));
  for (PetscInt j = 0; j < 784; j++) sum += x[j];
  PetscCheck(sum == 33456, PETSC_COMM_SELF, PETSC_ERR_PLIB, "test image 0: sum %g, expected 33456", (double) sum);
  PetscCall(SADatasetDestroy(&ds));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* a data set whose feature 0 is the sample index, so parts can be traced back */
static PetscErrorCode MakeIndexed(PetscInt n, SADataset *ds)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(ds, sizeof(*ds)));
  PetscCall(PetscStrncpy(ds->name, "indexed", sizeof(ds->name)));
  ds->n      = n;
  ds->d      = 2;
  ds->nclass = 3;
  PetscCall(PetscMalloc1(2 * n, &ds->X));
  PetscCall(PetscMalloc1(n, &ds->y));
  for (PetscInt i = 0; i < n; i++) {
    ds->X[2 * i]     = (PetscReal) i;
    ds->X[2 * i + 1] = (PetscReal) (i * i);
    ds->y[i]         = i % 3;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* every row of part is a row of the indexed set, in increasing order; marks them in seen[] */
static PetscErrorCode CheckPart(const SADataset *part, PetscInt n, PetscInt seen[])
{
  PetscFunctionBeginUser;
  PetscCheck(part->d == 2 && part->nclass == 3 && !strcmp(part->name, "indexed"), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "part lost its shape");
  for (PetscInt i = 0; i < part->n; i++) {
    PetscInt k = (PetscInt) part->X[2 * i];

    PetscCheck(k >= 0 && k < n && part->X[2 * i + 1] == (PetscReal) (k * k) && part->y[i] == k % 3, PETSC_COMM_SELF,
               PETSC_ERR_PLIB, "row %" PetscInt_FMT " of a part is not a copy of a sample", i);
    PetscCheck(i == 0 || part->X[2 * i - 2] < part->X[2 * i], PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "part is not in the original order");
    seen[k]++;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SameData(const SADataset *a, const SADataset *b, PetscBool *same)
{
  PetscFunctionBeginUser;
  *same = (PetscBool) (a->n == b->n && a->d == b->d);
  for (PetscInt k = 0; *same && k < a->n * a->d; k++) *same = (PetscBool) (a->X[k] == b->X[k]);
  for (PetscInt i = 0; *same && i < a->n; i++) *same = (PetscBool) (a->y[i] == b->y[i]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckSplitSubset(void)
{
  const PetscInt n = 101;
  SADataset      all, tr1, te1, tr2, te2, tr3, te3, iris, sub1, sub2;
  PetscInt      *seen;
  PetscBool      same;

  PetscFunctionBeginUser;
  PetscCall(MakeIndexed(n, &all));
  PetscCall(PetscMalloc1(n, &seen));
  PetscCall(SADatasetSplit(&all, 0.25, 42, &tr1, &te1));
  PetscCall(SADatasetSplit(&all, 0.25, 42, &tr2, &te2));
  PetscCall(SADatasetSplit(&all, 0.25, 43, &tr3, &te3));
  PetscCheck(te1.n == 25 && tr1.n == 76, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "round(0.25 * 101) = 25 test samples expected, got %" PetscInt_FMT " + %" PetscInt_FMT, te1.n, tr1.n);
  PetscCall(PetscArrayzero(seen, n));
  PetscCall(CheckPart(&tr1, n, seen));
  PetscCall(CheckPart(&te1, n, seen));
  for (PetscInt i = 0; i < n; i++)
    PetscCheck(seen[i] == 1, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "sample %" PetscInt_FMT " is in %" PetscInt_FMT " parts (must be disjoint and covering)", i, seen[i]);
  PetscCall(SameData(&te1, &te2, &same));
  PetscCheck(same, PETSC_COMM_SELF, PETSC_ERR_PLIB, "same seed must give the same test part");
  PetscCall(SameData(&tr1, &tr2, &same));
  PetscCheck(same, PETSC_COMM_SELF, PETSC_ERR_PLIB, "same seed must give the same training part");
  PetscCall(SameData(&te1, &te3, &same));
  PetscCheck(!same, PETSC_COMM_SELF, PETSC_ERR_PLIB, "different seeds must give different test parts");
  PetscCall(SADatasetDestroy(&tr1));
  PetscCall(SADatasetDestroy(&te1));
  PetscCall(SADatasetDestroy(&tr2));
  PetscCall(SADatasetDestroy(&te2));
  PetscCall(SADatasetDestroy(&tr3));
  PetscCall(SADatasetDestroy(&te3));

  /* the ends: nothing or everything in the test part */
  PetscCall(SADatasetSplit(&all, 0, 1, &tr1, &te1));
  PetscCall(SADatasetSplit(&all, 1, 1, &tr2, &te2));
  PetscCheck(te1.n == 0 && tr1.n == n && te2.n == n && tr2.n == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "fractions 0, 1");
  PetscCall(SameData(&tr1, &all, &same));
  PetscCheck(same, PETSC_COMM_SELF, PETSC_ERR_PLIB, "fraction 0 must keep everything in order");
  PetscCall(SADatasetDestroy(&tr1));
  PetscCall(SADatasetDestroy(&te1));
  PetscCall(SADatasetDestroy(&tr2));
  PetscCall(SADatasetDestroy(&te2));

  /* a real set: sizes and labels add up */
  PetscCall(SADatasetLoad("iris", NULL, PETSC_FALSE, &iris));
  PetscCall(SADatasetSplit(&iris, 0.2, 7, &tr1, &te1));
  PetscCheck(te1.n == 30 && tr1.n == 120 && te1.d == 4 && tr1.nclass == 3, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "iris split 0.2: %" PetscInt_FMT " + %" PetscInt_FMT, tr1.n, te1.n);
  {
    PetscInt c[3] = {0, 0, 0};
    for (PetscInt i = 0; i < tr1.n; i++) c[tr1.y[i]]++;
    for (PetscInt i = 0; i < te1.n; i++) c[te1.y[i]]++;
    PetscCheck(c[0] == 50 && c[1] == 50 && c[2] == 50, PETSC_COMM_SELF, PETSC_ERR_PLIB, "iris split lost labels");
  }
  PetscCall(SADatasetDestroy(&tr1));
  PetscCall(SADatasetDestroy(&te1));
  PetscCall(SADatasetDestroy(&iris));

  /* subsets */
  PetscCall(MakeIndexed(n, &sub1));
  PetscCall(MakeIndexed(n, &sub2));
  PetscCall(SADatasetSubset(&sub1, 10, 5));
  PetscCall(SADatasetSubset(&sub2, 10, 5));
  PetscCheck(sub1.n == 10, PETSC_COMM_SELF, PETSC_ERR_PLIB, "subset size %" PetscInt_FMT, sub1.n);
  PetscCall(PetscArrayzero(seen, n));
  PetscCall(CheckPart(&sub1, n, seen));
  PetscCall(SameData(&sub1, &sub2, &same));
  PetscCheck(same, PETSC_COMM_SELF, PETSC_ERR_PLIB, "same seed must give the same subset");
  PetscCall(SADatasetDestroy(&sub2));
  PetscCall(MakeIndexed(n, &sub2));
  PetscCall(SADatasetSubset(&sub2, 10, 6));
  PetscCall(SameData(&sub1, &sub2, &same));
  PetscCheck(!same, PETSC_COMM_SELF, PETSC_ERR_PLIB, "different seeds must give different subsets");
  PetscCall(SADatasetSubset(&sub2, 1000, 6)); /* nmax >= n: unchanged */
  PetscCheck(sub2.n == 10, PETSC_COMM_SELF, PETSC_ERR_PLIB, "nmax >= n must not change the set");
  PetscCall(SADatasetSubset(&sub2, 0, 6));
  PetscCheck(sub2.n == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "nmax = 0 must empty the set");
  PetscCall(SADatasetDestroy(&sub1));
  PetscCall(SADatasetDestroy(&sub2));
  PetscCall(PetscFree(seen));
  PetscCall(SADatasetDestroy(&all));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* per-feature mean and population std of ds */
static PetscErrorCode Moments(const SADataset *ds, PetscInt j, PetscReal *mean, PetscReal *sdev)
{
  PetscReal m = 0, v = 0;

  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < ds->n; i++) m += ds->X[i * ds->d + j];
  m /= ds->n;
  for (PetscInt i = 0; i < ds->n; i++) v += PetscSqr(ds->X[i * ds->d + j] - m);
  *mean = m;
  *sdev = PetscSqrtReal(v / ds->n);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckStandardize(void)
{
  SADataset all, tr, te, rawtr, rawte;
  PetscInt  nconst = 0;

  PetscFunctionBeginUser;
  /* digits: pixels that are 0 in every training image (pixel 0, for one) are constant features */
  PetscCall(SADatasetLoad("digits", NULL, PETSC_FALSE, &all));
  PetscCall(SADatasetSplit(&all, 0.3, 11, &tr, &te));
  PetscCall(SADatasetSplit(&all, 0.3, 11, &rawtr, &rawte)); /* unstandardised copies */
  PetscCall(SADatasetStandardize(&tr, &te));
  for (PetscInt j = 0; j < tr.d; j++) {
    PetscReal m, s, m0, s0, lo = rawtr.X[j], hi = rawtr.X[j];

    for (PetscInt i = 0; i < rawtr.n; i++) {
      lo = PetscMin(lo, rawtr.X[i * rawtr.d + j]);
      hi = PetscMax(hi, rawtr.X[i * rawtr.d + j]);
    }
    PetscCall(Moments(&tr, j, &m, &s));
    PetscCall(Moments(&rawtr, j, &m0, &s0));
    PetscCheck(PetscAbsReal(m) < 1e-12, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "feature %" PetscInt_FMT ": mean %g after standardising", j, (double) m);
    if (lo == hi) {
      nconst++;
      s0 = 1;
      m0 = lo;
      PetscCheck(s == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "constant feature %" PetscInt_FMT " must become 0", j);
    } else
      PetscCheck(PetscAbsReal(s - 1) < 1e-12, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "feature %" PetscInt_FMT ": std %g after standardising", j, (double) s);
    /* the test part is transformed with the training statistics */
    for (PetscInt i = 0; i < te.n; i++)
      PetscCheck(PetscAbsReal(te.X[i * te.d + j] - (rawte.X[i * te.d + j] - m0) / s0) < 1e-12, PETSC_COMM_SELF,
                 PETSC_ERR_PLIB, "test sample %" PetscInt_FMT " feature %" PetscInt_FMT " not standardised", i, j);
  }
  PetscCheck(nconst >= 1, PETSC_COMM_SELF, PETSC_ERR_PLIB, "digits should have a constant pixel (pixel 0)");
  PetscCall(SADatasetDestroy(&tr));
  PetscCall(SADatasetDestroy(&te));
  PetscCall(SADatasetDestroy(&rawtr));
  PetscCall(SADatasetDestroy(&rawte));
  PetscCall(SADatasetDestroy(&all));

  /* a constant 0.1 (its computed mean is not exactly 0.1) is centred exactly and not scaled; the test
     part uses the training statistics */
  PetscCall(MakeIndexed(7, &tr));
  PetscCall(MakeIndexed(2, &te));
  for (PetscInt i = 0; i < tr.n; i++) tr.X[2 * i + 1] = 0.1;
  te.X[1] = 0.3;
  te.X[2] = 3; /* feature 0 of the training part: 0..6, mean 3, std 2 */
  PetscCall(SADatasetStandardize(&tr, &te));
  for (PetscInt i = 0; i < tr.n; i++)
    PetscCheck(tr.X[2 * i + 1] == 0 && PetscAbsReal(tr.X[2 * i] - (i - 3) / 2.0) < 1e-15, PETSC_COMM_SELF,
               PETSC_ERR_PLIB, "sample %" PetscInt_FMT ": (%g, %g)", i, (double) tr.X[2 * i], (double) tr.X[2 * i + 1]);
  PetscCheck(PetscAbsReal(te.X[1] - 0.2) < 1e-15 && te.X[2] == 0 && te.X[0] == -1.5, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "test part: %g %g %g", (double) te.X[0], (double) te.X[1], (double) te.X[2]);
  PetscCall(SADatasetStandardize(&tr, NULL));
  PetscCall(SADatasetDestroy(&tr));
  PetscCall(SADatasetDestroy(&te));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the call must fail with code `code` and a message containing must1 and must2; ds must be left empty */
static PetscErrorCode ExpectError(PetscErrorCode ierr, PetscErrorCode code, const SADataset *ds, const char must1[],
                                  const char must2[])
{
  const char *text;
  char       *specific = NULL;

  PetscFunctionBeginUser;
  PetscCheck(ierr == code, PETSC_COMM_SELF, PETSC_ERR_PLIB, "expected error %d, got %d (looking for '%s')", (int) code,
             (int) ierr, must1);
  PetscCall(PetscErrorMessage(ierr, &text, &specific));
  PetscCheck(specific && strstr(specific, must1) && strstr(specific, must2), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "message '%s' lacks '%s' or '%s'", specific ? specific : "(none)", must1, must2);
  PetscCheck(!ds || (!ds->X && !ds->X8 && !ds->y), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "a failed load must leave no memory");
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode WriteFile(const char name[], const void *data, size_t len)
{
  char  path[PETSC_MAX_PATH_LEN];
  FILE *fp;

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/sklearn/%s", tmpdir, name));
  fp = fopen(path, "wb");
  PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot write %s", path);
  PetscCheck(fwrite(data, 1, len, fp) == len, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "cannot write %s", path);
  PetscCheck(!fclose(fp), PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "cannot close %s", path);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* loads `name` from the scratch directory, expecting a corrupt-file error mentioning must */
static PetscErrorCode ExpectCorrupt(const char name[], const char file[], const char must[])
{
  SADataset      ds;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SADatasetLoad(name, tmpdir, PETSC_FALSE, &ds);
  PetscCall(PetscPopErrorHandler());
  PetscCall(ExpectError(ierr, PETSC_ERR_USER_INPUT, &ds, file, must));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckErrors(void)
{
  SADataset      ds, all, tr;
  PetscErrorCode ierr;
  char          *gz;
  size_t         len;

  PetscFunctionBeginUser;
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SADatasetLoad("mnist", NULL, PETSC_FALSE, &ds);
  PetscCall(PetscPopErrorHandler());
  PetscCall(ExpectError(ierr, PETSC_ERR_USER_INPUT, &ds, "mnist", "fashion_mnist, digits, iris, wine, breast_cancer"));

  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SADatasetLoad("iris", "/nonexistent", PETSC_FALSE, &ds);
  PetscCall(PetscPopErrorHandler());
  PetscCall(ExpectError(ierr, PETSC_ERR_USER_INPUT, &ds, "/nonexistent/sklearn/iris.csv", "make setup"));

  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SADatasetLoad("digits", "/nonexistent", PETSC_FALSE, &ds);
  PetscCall(PetscPopErrorHandler());
  PetscCall(ExpectError(ierr, PETSC_ERR_USER_INPUT, &ds, "/nonexistent/sklearn/digits.csv.gz", "python3-sklearn"));

  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SADatasetLoad("wine", NULL, PETSC_TRUE, &ds);
  PetscCall(PetscPopErrorHandler());
  PetscCall(ExpectError(ierr, PETSC_ERR_ARG_WRONG, &ds, "wine", "SADatasetSplit"));

  PetscCall(MakeIndexed(10, &all));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SADatasetSplit(&all, 1.5, 1, &tr, &ds);
  PetscCall(PetscPopErrorHandler());
  PetscCall(ExpectError(ierr, PETSC_ERR_ARG_OUTOFRANGE, NULL, "1.5", "[0, 1]"));
  PetscCall(SADatasetDestroy(&all));

  /* corrupt files in a scratch data directory */
  {
    const char bad_header[] = "150,5,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n";
    const char bad_label[]  = "150,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0.2,3\n";
    const char bad_field[]  = "150,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n4.9,3.0,x,0.2,0\n";
    const char short_row[]  = "150,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0\n";
    const char few_rows[]   = "150,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\r\n\n4.9,3.0,1.4,0.2,1\n";

    PetscCall(WriteFile("iris.csv", bad_header, strlen(bad_header)));
    PetscCall(ExpectCorrupt("iris", "sklearn/iris.csv", "5 features"));
    PetscCall(WriteFile("iris.csv", bad_label, strlen(bad_label)));
    PetscCall(ExpectCorrupt("iris", "sklearn/iris.csv", "line 3: label 3 outside [0, 3)"));
    PetscCall(WriteFile("iris.csv", bad_field, strlen(bad_field)));
    PetscCall(ExpectCorrupt("iris", "sklearn/iris.csv", "line 3: field 3 'x"));
    PetscCall(WriteFile("iris.csv", short_row, strlen(short_row)));
    PetscCall(ExpectCorrupt("iris", "sklearn/iris.csv", "line 2"));
    PetscCall(WriteFile("iris.csv", few_rows, strlen(few_rows)));
    PetscCall(ExpectCorrupt("iris", "sklearn/iris.csv", "2 rows, expected 150"));
  }
  {
    /* the real digits.csv.gz cut in half: zlib reports the truncation */
    FILE *fp;
    char  path[PETSC_MAX_PATH_LEN];

    PetscCall(PetscSNPrintf(path, sizeof(path), "%s/sklearn/digits.csv.gz", SA_DEFAULT_DATA_DIR));
    fp = fopen(path, "rb");
    PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot read %s", path);
    PetscCall(PetscMalloc1(1 << 20, &gz));
    len = fread(gz, 1, 1 << 20, fp);
    (void) fclose(fp);
    PetscCall(WriteFile("digits.csv.gz", gz, len / 2));
    PetscCall(ExpectCorrupt("digits", "sklearn/digits.csv.gz", "zlib"));
    PetscCall(PetscFree(gz));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void test_sklearn(void) { CU_ASSERT_EQUAL(CheckSklearn(), PETSC_SUCCESS); }
static void test_fashion(void) { CU_ASSERT_EQUAL(CheckFashion(), PETSC_SUCCESS); }
static void test_split_subset(void) { CU_ASSERT_EQUAL(CheckSplitSubset(), PETSC_SUCCESS); }
/* a copy of a byte set held as doubles */
static PetscErrorCode ToDoubles(const SADataset *src, SADataset *dst)
{
  PetscFunctionBeginUser;
  *dst    = *src;
  dst->X8 = NULL;
  PetscCall(PetscMalloc1(src->n * src->d, &dst->X));
  PetscCall(PetscMalloc1(src->n, &dst->y));
  PetscCall(SADatasetGetRows(src, 0, src->n, dst->X));
  PetscCall(PetscArraycpy(dst->y, src->y, src->n));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Fashion-MNIST is held as bytes and standardised when read: its rows must be bitwise the rows of the same data held
  as doubles and standardised in place (a subset of the training part and the test part, constant pixels included).
*/
static PetscErrorCode CheckBytesStandardize(void)
{
  SADataset      tr, te, dtr, dte, tmp;
  PetscReal     *x;
  PetscInt       nconst = 0;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(SADatasetLoad("fashion_mnist", NULL, PETSC_FALSE, &tr));
  PetscCall(SADatasetLoad("fashion_mnist", NULL, PETSC_TRUE, &te));
  PetscCall(SADatasetSubset(&tr, 3000, 5));
  PetscCall(SADatasetSubset(&te, 500, 5));
  PetscCheck(tr.X8 && te.X8 && tr.n == 3000, PETSC_COMM_SELF, PETSC_ERR_PLIB, "a subset of bytes stays bytes");
  for (PetscInt i = 0; i < tr.n; i++) tr.X8[i * tr.d] = 7; /* a constant feature: centred, not scaled */
  PetscCall(ToDoubles(&tr, &dtr));
  PetscCall(ToDoubles(&te, &dte));
  PetscCall(SADatasetStandardize(&tr, &te));
  PetscCall(SADatasetStandardize(&dtr, &dte));
  PetscCheck(tr.X8 && tr.mean && te.mean && !dtr.mean, PETSC_COMM_SELF, PETSC_ERR_PLIB, "bytes keep the statistics");
  for (PetscInt j = 0; j < tr.d; j++) nconst += tr.sdev[j] == 1;
  PetscCheck(nconst >= 1 && tr.mean[0] == 7 && tr.sdev[0] == 1, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "constant feature 0: mean %g, sdev %g; expected 7, 1", (double) tr.mean[0], (double) tr.sdev[0]);
  PetscCall(PetscMalloc1(tr.n * tr.d, &x));
  PetscCall(SADatasetGetRows(&tr, 0, tr.n, x));
  PetscCheck(!memcmp(x, dtr.X, sizeof(PetscReal) * tr.n * tr.d), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "standardised byte rows differ from the standardised doubles (training part)");
  PetscCall(SADatasetGetRows(&te, 0, te.n, x));
  PetscCheck(!memcmp(x, dte.X, sizeof(PetscReal) * te.n * te.d), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "standardised byte rows differ from the standardised doubles (test part)");
  PetscCall(SADatasetGetRows(&te, 7, 2, x)); /* an inner range */
  PetscCheck(!memcmp(x, dte.X + 7 * te.d, sizeof(PetscReal) * 2 * te.d), PETSC_COMM_SELF, PETSC_ERR_PLIB, "rows 7-8");
  /* misuse: standardising twice, subsetting a standardised set, rows out of range, mixed forms */
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SADatasetStandardize(&tr, NULL);
  PetscCall(PetscPopErrorHandler());
  PetscCall(ExpectError(ierr, PETSC_ERR_ARG_WRONGSTATE, NULL, "fashion_mnist", "standardised already"));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SADatasetSubset(&te, 10, 1);
  PetscCall(PetscPopErrorHandler());
  PetscCall(ExpectError(ierr, PETSC_ERR_ARG_WRONGSTATE, NULL, "fashion_mnist", "before SADatasetStandardize"));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SADatasetGetRows(&te, te.n - 1, 2, x);
  PetscCall(PetscPopErrorHandler());
  PetscCall(ExpectError(ierr, PETSC_ERR_ARG_OUTOFRANGE, NULL, "outside the 500 samples", "fashion_mnist"));
  PetscCall(SADatasetLoad("fashion_mnist", NULL, PETSC_TRUE, &tmp));
  PetscCall(SADatasetSubset(&tmp, 10, 1));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SADatasetStandardize(&tmp, &dte);
  PetscCall(PetscPopErrorHandler());
  PetscCall(ExpectError(ierr, PETSC_ERR_ARG_INCOMP, NULL, "fashion_mnist", "different forms"));
  PetscCall(SADatasetDestroy(&tmp));
  PetscCall(PetscFree(x));
  PetscCall(SADatasetDestroy(&tr));
  PetscCall(SADatasetDestroy(&te));
  PetscCall(SADatasetDestroy(&dtr));
  PetscCall(SADatasetDestroy(&dte));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void test_standardize(void) { CU_ASSERT_EQUAL(CheckStandardize(), PETSC_SUCCESS); }
static void test_bytes_standardize(void) { CU_ASSERT_EQUAL(CheckBytesStandardize(), PETSC_SUCCESS); }
static void test_errors(void) { CU_ASSERT_EQUAL(CheckErrors(), PETSC_SUCCESS); }

static PetscErrorCode RemoveScratch(void)
{
  const char *files[] = {"iris.csv", "digits.csv.gz"};
  char        path[PETSC_MAX_PATH_LEN];

  PetscFunctionBeginUser;
  for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
    PetscCall(PetscSNPrintf(path, sizeof(path), "%s/sklearn/%s", tmpdir, files[k]));
    (void) unlink(path);
  }
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/sklearn", tmpdir));
  (void) rmdir(path);
  (void) rmdir(tmpdir);
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  PetscMPIInt rank;
  int         nfail_all;
  CU_pSuite   s;
  char        sub[PETSC_MAX_PATH_LEN];

  PetscCall(SlepcInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SAInitialize());
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  /* every rank loads the files itself, so each gets its own scratch directory */
  PetscCall(PetscStrncpy(tmpdir, "/tmp/sa_test_datasets_XXXXXX", sizeof(tmpdir)));
  PetscCheck(mkdtemp(tmpdir), PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "mkdtemp failed");
  PetscCall(PetscSNPrintf(sub, sizeof(sub), "%s/sklearn", tmpdir));
  PetscCheck(!mkdir(sub, 0700), PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot create %s", sub);
  if (CU_initialize_registry() != CUE_SUCCESS) return EXIT_FAILURE;
  s = CU_add_suite("datasets", NULL, NULL);
  CU_add_test(s, "sklearn sets: sizes, class counts, first rows", test_sklearn);
  CU_add_test(s, "fashion_mnist train and test parts", test_fashion);
  CU_add_test(s, "split and subset are deterministic, disjoint, covering", test_split_subset);
  CU_add_test(s, "standardisation from the training part", test_standardize);
  CU_add_test(s, "Fashion-MNIST bytes standardised when read = doubles standardised in place", test_bytes_standardize);
  CU_add_test(s, "bad names, missing and corrupt files", test_errors);
  PetscCall(SATestRunSuite(PETSC_COMM_WORLD, &nfail_all));
  PetscCall(RemoveScratch());
  PetscCall(SAFinalize());
  PetscCall(SlepcFinalize());
  return nfail_all ? EXIT_FAILURE : EXIT_SUCCESS;
}
