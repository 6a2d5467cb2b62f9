/*
  dataset_prep.c - preparing a loaded data set (SADataset): split into training and test parts and subsets (a Philox
  permutation of the split stream chooses the samples, which keep their order), standardisation with the training
  part's statistics (byte features keep their bytes and are standardised as rows are read), row access, destroy.
  See dataset.c's method card. Shapes: n = samples, d = features; X is (n, d) row-major.
*/
#include <stabaudit/sadataset.h>
#include <stabaudit/sastream.h>
#include <zlib.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* a byte set keeps its statistics apart from its rows: choose its samples before standardising it */
static PetscErrorCode SADatasetCheckRaw(const SADataset *ds)
{
  PetscFunctionBeginUser;
  PetscCheck(!ds->mean, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE,
             "Data set %s is standardised already: split or subset it before SADatasetStandardize()", ds->name);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* dst = the m samples idx[] of src (deep copy, in the order of idx) */
static PetscErrorCode SADatasetExtract(const SADataset *src, PetscInt m, const PetscInt idx[], SADataset *dst)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(dst, sizeof(*dst)));
  PetscCall(PetscStrncpy(dst->name, src->name, sizeof(dst->name)));
  dst->n      = m;
  dst->d      = src->d;
  dst->nclass = src->nclass;
  if (src->X8) PetscCall(PetscMalloc1((size_t) m * (size_t) src->d, &dst->X8));
  else PetscCall(PetscMalloc1((size_t) m * (size_t) src->d, &dst->X));
  PetscCall(PetscMalloc1(m, &dst->y));
  for (PetscInt i = 0; i < m; i++) {
    const size_t to = (size_t) i * (size_t) src->d, from = (size_t) idx[i] * (size_t) src->d;

    if (src->X8) PetscCall(PetscArraycpy(dst->X8 + to, src->X8 + from, src->d));
    else PetscCall(PetscArraycpy(dst->X + to, src->X + from, src->d));
    dst->y[i] = src->y[idx[i]];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* idx = the samples chosen by the first m entries of the permutation at (seed, step), in increasing order;
   idx has length n and its first m entries are the chosen samples, the other n - m the rest, also sorted */
static PetscErrorCode SADatasetChoose(PetscInt n, PetscInt m, PetscInt64 seed, PetscInt64 step, PetscInt idx[])
{
  SAStream   s;
  PetscBool *chosen;
  PetscInt   k = 0;

  PetscFunctionBeginUser;
  PetscCall(SAStreamCreate(seed, 0, SA_STREAM_SPLIT, &s));
  PetscCall(SAStreamPermutation(&s, step, n, idx));
  PetscCall(PetscCalloc1(n, &chosen));
  for (PetscInt i = 0; i < m; i++) chosen[idx[i]] = PETSC_TRUE;
  for (PetscInt i = 0; i < n; i++)
    if (chosen[i]) idx[k++] = i;
  for (PetscInt i = 0; i < n; i++)
    if (!chosen[i]) idx[k++] = i;
  PetscCall(PetscFree(chosen));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADatasetSplit - Splits a data set into a training and a test part chosen by a seeded permutation

  Not Collective; the result depends only on (all, test_fraction, seed), so it is the same on every rank

  Input Parameters:
+ all           - the data set to split (not changed)
. test_fraction - fraction of the samples in the test part, in [0, 1]; the test part has round(test_fraction * n)
- seed          - the seed of the split

  Output Parameters:
+ train - the other samples (deep copy; free with `SADatasetDestroy()`)
- test  - the test samples (deep copy; free with `SADatasetDestroy()`)

  Notes:
  The test part is the first round(test_fraction * n) entries of the permutation of the stream
  `SAStreamCreate(seed, 0, SA_STREAM_SPLIT)` at step 0. Both parts keep the original order of the
  samples. The split is not stratified. The previous contents of train and test are overwritten, not freed.

  Level: beginner

.seealso: `SADataset`, `SADatasetLoad()`, `SADatasetSubset()`, `SAStreamPermutation()`
@*/
PetscErrorCode SADatasetSplit(const SADataset *all, PetscReal test_fraction, PetscInt64 seed, SADataset *train,
                              SADataset *test)
{
  PetscInt *idx, ntest;

  PetscFunctionBeginUser;
  PetscAssertPointer(all, 1);
  PetscAssertPointer(train, 4);
  PetscAssertPointer(test, 5);
  PetscCheck(train != test && train != all && test != all, PETSC_COMM_SELF, PETSC_ERR_ARG_IDN,
             "all, train and test must be three different SADataset structs");
  PetscCheck(test_fraction >= 0 && test_fraction <= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "Test fraction %g must be in [0, 1]", (double) test_fraction);
  PetscCall(SADatasetCheckRaw(all));
  ntest = (PetscInt) PetscFloorReal(test_fraction * (PetscReal) all->n + (PetscReal) 0.5);
  ntest = PetscMin(ntest, all->n);
  PetscCall(PetscMalloc1(all->n, &idx));
  PetscCall(SADatasetChoose(all->n, ntest, seed, 0, idx));
  PetscCall(SADatasetExtract(all, ntest, idx, test));
  PetscCall(SADatasetExtract(all, all->n - ntest, idx + ntest, train));
  PetscCall(PetscFree(idx));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADatasetSubset - Keeps at most nmax samples of a data set, chosen by a seeded permutation

  Not Collective; the result depends only on (ds, nmax, seed)

  Input Parameters:
+ ds   - the data set, changed in place
. nmax - the largest number of samples to keep, >= 0; nothing changes when nmax >= ds->n
- seed - the seed of the choice

  Notes:
  The kept samples are the first nmax entries of the permutation of the stream
  `SAStreamCreate(seed, 0, SA_STREAM_SPLIT)` at step 1 (a split uses step 0), in their original order.
  The memory of the dropped samples is released.

  Level: beginner

.seealso: `SADataset`, `SADatasetLoad()`, `SADatasetSplit()`
@*/
PetscErrorCode SADatasetSubset(SADataset *ds, PetscInt nmax, PetscInt64 seed)
{
  SADataset sub;
  PetscInt *idx;

  PetscFunctionBeginUser;
  PetscAssertPointer(ds, 1);
  PetscCheck(nmax >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Subset size %" PetscInt_FMT " must be >= 0", nmax);
  if (nmax >= ds->n) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SADatasetCheckRaw(ds));
  PetscCall(PetscMalloc1(ds->n, &idx));
  PetscCall(SADatasetChoose(ds->n, nmax, seed, 1, idx));
  PetscCall(SADatasetExtract(ds, nmax, idx, &sub));
  PetscCall(PetscFree(idx));
  PetscCall(SADatasetDestroy(ds));
  *ds = sub;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* x = (x - mean) / sdev, feature by feature: the one expression of both forms (doubles in place, bytes when read) */
static inline void SADatasetStandardizeRow(PetscInt d, const PetscReal mean[], const PetscReal sdev[], PetscReal x[])
{
  for (PetscInt j = 0; j < d; j++) x[j] = (x[j] - mean[j]) / sdev[j];
}

/*
  x (m, d) = the bytes u (m, d) as doubles, standardised with (mean, sdev) unless mean is NULL: the expression of
  SADatasetStandardizeRow() on blocks of 8 features (GCC vector extensions; subtraction and division are correctly
  rounded in every lane, so the bits are those of the scalar loop); one clone per ISA, chosen at load time.
*/
typedef double SADatasetV8 __attribute__((vector_size(8 * sizeof(double))));
__attribute__((target_clones("avx512f", "avx2", "default"))) static void
SADatasetBytesToRows(size_t m, size_t d, const unsigned char *restrict u, const PetscReal *restrict mean,
                     const PetscReal *restrict sdev, PetscReal *restrict x)
{
  for (size_t i = 0; i < m; i++, u += d, x += d) {
    size_t j = 0;

    if (!mean) {
      for (; j < d; j++) x[j] = (PetscReal) u[j];
      continue;
    }
    for (; j + 8 <= d; j += 8) {
      SADatasetV8 v = {u[j], u[j + 1], u[j + 2], u[j + 3], u[j + 4], u[j + 5], u[j + 6], u[j + 7]}, mv, sv;

      memcpy(&mv, mean + j, sizeof(mv));
      memcpy(&sv, sdev + j, sizeof(sv));
      v = (v - mv) / sv;
      memcpy(x + j, &v, sizeof(v));
    }
    for (; j < d; j++) x[j] = ((PetscReal) u[j] - mean[j]) / sdev[j];
  }
}

/*@C
  SADatasetStandardize - Standardises every feature with the mean and standard deviation of the training part

  Not Collective

  Input Parameters:
+ train - the training part, n >= 1; its features become (x - mean) / std
- test  - the test part with the same number of features, transformed with the training statistics; or NULL

  Notes:
  The standard deviation is the population one (divided by n), so the training features end with mean 0
  and standard deviation 1. A feature that is constant in the training part is only centred (std taken as 1).
  A set held as doubles is transformed in place. A set held as bytes (`X8`, Fashion-MNIST) keeps its bytes and
  stores the statistics in `mean` and `sdev`; `SADatasetGetRows()` applies them, with the same expression, when it
  reads a row. Both parts must be held in the same form; a byte set is standardised once, after any split or subset.

  Level: beginner

.seealso: `SADataset`, `SADatasetLoad()`, `SADatasetSplit()`
@*/
PetscErrorCode SADatasetStandardize(SADataset *train, SADataset *test)
{
  const PetscInt d = train ? train->d : 0;
  PetscReal     *mean, *sdev, *lo, *hi, *x;

  PetscFunctionBeginUser;
  PetscAssertPointer(train, 1);
  PetscCheck(train->n >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "Cannot standardise with an empty training part");
  PetscCheck(!test || test->d == d, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ,
             "Test part has %" PetscInt_FMT " features, training part %" PetscInt_FMT, test ? test->d : 0, d);
  PetscCheck(!test || !train->X8 == !test->X8, PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP,
             "Training and test parts of %s are held in different forms (bytes and doubles)", train->name);
  PetscCheck(!train->mean && (!test || !test->mean), PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE,
             "Data set %s is standardised already", train->name);
  PetscCall(PetscMalloc5(d, &mean, d, &sdev, d, &lo, d, &hi, d, &x));
  PetscCall(SADatasetGetRow(train, 0, x));
  for (PetscInt j = 0; j < d; j++) {
    mean[j] = sdev[j] = 0;
    lo[j] = hi[j] = x[j];
  }
  for (PetscInt i = 0; i < train->n; i++) {
    PetscCall(SADatasetGetRow(train, i, x));
    for (PetscInt j = 0; j < d; j++) {
      mean[j] += x[j];
      lo[j] = PetscMin(lo[j], x[j]);
      hi[j] = PetscMax(hi[j], x[j]);
    }
  }
  for (PetscInt j = 0; j < d; j++) mean[j] /= (PetscReal) train->n;
  for (PetscInt i = 0; i < train->n; i++) {
    PetscCall(SADatasetGetRow(train, i, x));
    for (PetscInt j = 0; j < d; j++) sdev[j] += (x[j] - mean[j]) * (x[j] - mean[j]);
  }
  for (PetscInt j = 0; j < d; j++) {
    sdev[j] = PetscSqrtReal(sdev[j] / (PetscReal) train->n);
    if (lo[j] == hi[j] || sdev[j] == 0) { /* constant: centre exactly, do not scale */
      mean[j] = lo[j];
      sdev[j] = 1;
    }
  }
  for (int part = 0; part < 2; part++) {
    SADataset *ds = part ? test : train;

    if (!ds) continue;
    if (ds->X8) { /* bytes stay; SADatasetGetRows() applies the statistics */
      PetscCall(PetscMalloc2(d, &ds->mean, d, &ds->sdev));
      PetscCall(PetscArraycpy(ds->mean, mean, d));
      PetscCall(PetscArraycpy(ds->sdev, sdev, d));
    } else {
      for (PetscInt i = 0; i < ds->n; i++) SADatasetStandardizeRow(d, mean, sdev, ds->X + (size_t) i * (size_t) d);
    }
  }
  PetscCall(PetscFree5(mean, sdev, lo, hi, x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADatasetGetRows - Copies the features of consecutive samples as doubles

  Not Collective

  Input Parameters:
+ ds - the data set
. i0 - the first sample, 0 <= i0 and i0 + m <= ds->n
- m  - the number of samples

  Output Parameter:
. x - (m, d) row-major: the features of samples i0 .. i0 + m - 1, standardised if `SADatasetStandardize()` was called

  Notes:
  For a set held as doubles this is a copy of its rows. For one held as bytes (Fashion-MNIST) each byte becomes a
  double and, after standardisation, (x - mean) / sdev with the training statistics: the same expression that
  standardises a double set in place, so both forms give the same bits.

  Level: beginner

.seealso: `SADataset`, `SADatasetGetRow()`, `SADatasetStandardize()`
@*/
PetscErrorCode SADatasetGetRows(const SADataset *ds, PetscInt i0, PetscInt m, PetscReal x[])
{
  const size_t d = (size_t) ds->d;

  PetscFunctionBeginUser;
  PetscCheck(i0 >= 0 && m >= 0 && i0 + m <= ds->n, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "Rows [%" PetscInt_FMT ", %" PetscInt_FMT ") outside the %" PetscInt_FMT " samples of %s", i0, i0 + m,
             ds->n, ds->name);
  if (ds->X) PetscCall(PetscArraycpy(x, ds->X + (size_t) i0 * d, (size_t) m * d));
  else SADatasetBytesToRows((size_t) m, d, ds->X8 + (size_t) i0 * d, ds->mean, ds->sdev, x);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADatasetGetRow - Copies the features of one sample as doubles

  Not Collective

  Input Parameters:
+ ds - the data set
- i  - the sample, 0 <= i < ds->n

  Output Parameter:
. x - its d features, standardised if `SADatasetStandardize()` was called

  Level: beginner

.seealso: `SADataset`, `SADatasetGetRows()`
@*/
PetscErrorCode SADatasetGetRow(const SADataset *ds, PetscInt i, PetscReal x[])
{
  PetscFunctionBeginUser;
  PetscCall(SADatasetGetRows(ds, i, 1, x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADatasetDestroy - Frees the arrays of a data set and zeroes it

  Not Collective

  Input Parameter:
. ds - the data set; a zeroed or already destroyed one is fine

  Level: beginner

.seealso: `SADataset`, `SADatasetLoad()`
@*/
PetscErrorCode SADatasetDestroy(SADataset *ds)
{
  PetscFunctionBeginUser;
  if (!ds) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree(ds->X));
  PetscCall(PetscFree(ds->X8));
  PetscCall(PetscFree2(ds->mean, ds->sdev));
  PetscCall(PetscFree(ds->y));
  PetscCall(PetscMemzero(ds, sizeof(*ds)));
  PetscFunctionReturn(PETSC_SUCCESS);
}
