/*
  dataset.c - loaders of the classification data sets (SADataset).

  Method card
  -----------
  - fashion_mnist: /usr/share/datasets/fashion-mnist/{train,t10k}-{labels-idx1,images-idx3}-ubyte.gz
    (Debian package dataset-fashion-mnist), gzipped IDX files: a big-endian header (magic 0x00000801
    with the count for labels, 0x00000803 with count, rows, cols for images) followed by unsigned
    bytes. The pixels 0..255 stay bytes (X8: 47 MB instead of 376 MB of doubles for the training
    images, which matters with one copy per rank and for copying batch rows from random positions);
    SADatasetGetRows() returns them as doubles. 60000 train / 10000 test images of 28x28, 10 classes.
  - digits, iris, wine, breast_cancer: the scikit-learn copies of the UCI files in <dir>/sklearn/
    (scripts/setup.sh extracts them from the python3-sklearn .deb). The CSV files start with a header
    "N,D,class0,...,classK-1", then N rows "f1,...,fD,label"; digits.csv.gz has no header, 1797 rows of
    64 ints in 0..16 and the label. Every file is read whole through zlib (gzread() passes plain files
    through unchanged); the counts are checked against the header and the published sizes, the labels
    against [0, nclass).
  - split and subset: a Philox permutation (SAStreamPermutation()) of the stream (seed, 0,
    SA_STREAM_SPLIT) chooses the samples, at step 0 for the test part of a split and step 1 for a
    subset; the chosen samples keep their original order.
  - standardisation: per-feature mean and population standard deviation of the training part,
    applied to both parts; a constant feature is only centred (std taken as 1). Double features are
    transformed in place; byte features keep their bytes and the statistics, and SADatasetGetRows()
    applies the same expression (x - mean) / sdev when it reads a row, so the values are the same bits.
  Shapes: n = samples, d = features; X is (n, d) row-major.
*/
#include <stabaudit/sadataset.h>
#include <stabaudit/sastream.h>
#include <zlib.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SA_DEFAULT_DATA_DIR
#  define SA_DEFAULT_DATA_DIR "data"
#endif

#define SA_FASHION_DIR   "/usr/share/datasets/fashion-mnist"
#define SA_FASHION_HINT  "install it with `make setup` (scripts/setup.sh) or `apt-get install dataset-fashion-mnist`"
#define SA_SKLEARN_HINT  "run `make setup` (scripts/setup.sh), which extracts it from the Debian package python3-sklearn"
#define SA_DATASET_NAMES "fashion_mnist, digits, iris, wine, breast_cancer"

typedef struct {
  const char *name;   /* name given to SADatasetLoad() */
  const char *file;   /* file under <dir>/sklearn/; NULL for fashion_mnist */
  PetscBool   header; /* the file starts with "N,D,class0,..." */
  PetscInt    n;      /* samples (of the training part for fashion_mnist) */
  PetscInt    ntest;  /* samples of the test part (fashion_mnist only) */
  PetscInt    d;      /* features */
  PetscInt    nclass; /* classes */
} SADatasetInfo;

/* published sizes: scikit-learn's dataset descriptions (load_iris, load_wine, load_breast_cancer,
   load_digits) and the Fashion-MNIST README */
static const SADatasetInfo SADatasetTable[] = {{"fashion_mnist", NULL, PETSC_FALSE, 60000, 10000, 784, 10},
                                               {"digits", "digits.csv.gz", PETSC_FALSE, 1797, 0, 64, 10},
                                               {"iris", "iris.csv", PETSC_TRUE, 150, 0, 4, 3},
                                               {"wine", "wine_data.csv", PETSC_TRUE, 178, 0, 13, 3},
                                               {"breast_cancer", "breast_cancer.csv", PETSC_TRUE, 569, 0, 30, 2}};

/* the 32-bit big-endian integer at p (IDX headers) */
static uint32_t SADatasetBE32(const unsigned char *p)
{
  return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | (uint32_t) p[3];
}

/* a missing or unreadable data file is a user-input error naming the file and how to get it */
static PetscErrorCode SADatasetCheckReadable(const char name[], const char path[], const char hint[])
{
  int err = 0;

  PetscFunctionBeginUser;
  if (access(path, R_OK)) err = errno;
  PetscCheck(!err, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "Data set %s: cannot read %s (%s); %s", name, path,
             strerror(err), hint);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* reads the whole (decompressed) content of a file into a new buffer with a NUL appended */
static PetscErrorCode SADatasetReadFile(const char path[], const char hint[], char **buf, size_t *len)
{
  gzFile gz;
  size_t cap = (size_t) 1 << 20, n = 0;
  int    got = 0, errnum = Z_OK, err;
  char   zmsg[256] = "", *b;

  PetscFunctionBeginUser;
  *buf  = NULL;
  *len  = 0;
  errno = 0;
  gz    = gzopen(path, "rb");
  err   = errno;
  PetscCheck(gz, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "Cannot open data file %s (%s); %s", path,
             err ? strerror(err) : "out of memory", hint);
  PetscCall(PetscMalloc(cap, &b));
  for (;;) {
    if (cap - n < 2) {
      cap *= 2;
      PetscCall(PetscRealloc(cap, &b));
    }
    got = gzread(gz, b + n, (unsigned) PetscMin(cap - n - 1, (size_t) 1 << 30));
    if (got <= 0) break;
    n += (size_t) got;
  }
  /* a stream cut short ends with got = 0 and Z_BUF_ERROR ("unexpected end of file"), not with -1 */
  PetscCall(PetscStrncpy(zmsg, gzerror(gz, &errnum), sizeof(zmsg)));
  (void) gzclose(gz);
  if (got < 0 || errnum != Z_OK) PetscCall(PetscFree(b));
  PetscCheck(got >= 0 && errnum == Z_OK, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT,
             "Data file %s is corrupt (zlib: %s); %s", path, zmsg, hint);
  b[n] = '\0';
  *buf = b;
  *len = n;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SADatasetLoadFashion(const SADatasetInfo *info, PetscBool test_part, SADataset *ds)
{
  const char          *part = test_part ? "t10k" : "train";
  const PetscInt       n    = test_part ? info->ntest : info->n;
  const size_t         nlab = (size_t) n, npix = (size_t) n * (size_t) info->d;
  char                 flab[PETSC_MAX_PATH_LEN], fimg[PETSC_MAX_PATH_LEN], msg[256] = "", *buf;
  const unsigned char *u;
  size_t               len;

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(flab, sizeof(flab), "%s/%s-labels-idx1-ubyte.gz", SA_FASHION_DIR, part));
  PetscCall(PetscSNPrintf(fimg, sizeof(fimg), "%s/%s-images-idx3-ubyte.gz", SA_FASHION_DIR, part));
  PetscCall(SADatasetCheckReadable(info->name, flab, SA_FASHION_HINT));
  PetscCall(SADatasetCheckReadable(info->name, fimg, SA_FASHION_HINT));
  ds->n = n;

  PetscCall(SADatasetReadFile(flab, SA_FASHION_HINT, &buf, &len));
  u = (const unsigned char *) buf;
  if (len < 8 || SADatasetBE32(u) != 0x801 || SADatasetBE32(u + 4) != nlab || len != 8 + nlab) {
    PetscCall(PetscSNPrintf(msg, sizeof(msg),
                            "expected an IDX label file (magic 0x00000801) of %" PetscInt_FMT
                            " labels, %zu bytes; found magic 0x%08x, %u labels, %zu bytes",
                            n, 8 + nlab, len >= 4 ? (unsigned) SADatasetBE32(u) : 0u,
                            len >= 8 ? (unsigned) SADatasetBE32(u + 4) : 0u, len));
  } else {
    PetscCall(PetscMalloc1(n, &ds->y));
    for (PetscInt i = 0; i < n; i++) {
      ds->y[i] = (PetscInt) u[8 + i];
      if (ds->y[i] >= info->nclass) {
        PetscCall(PetscSNPrintf(msg, sizeof(msg),
                                "label %" PetscInt_FMT " of sample %" PetscInt_FMT " outside [0, %" PetscInt_FMT ")",
                                ds->y[i], i, info->nclass));
        break;
      }
    }
  }
  PetscCall(PetscFree(buf));
  if (msg[0]) PetscCall(SADatasetDestroy(ds));
  PetscCheck(!msg[0], PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "Data file %s is corrupt: %s; %s", flab, msg,
             SA_FASHION_HINT);

  PetscCall(SADatasetReadFile(fimg, SA_FASHION_HINT, &buf, &len));
  u = (const unsigned char *) buf;
  if (len < 16 || SADatasetBE32(u) != 0x803 || SADatasetBE32(u + 4) != nlab || SADatasetBE32(u + 8) != 28 ||
      SADatasetBE32(u + 12) != 28 || len != 16 + npix) {
    PetscCall(PetscSNPrintf(
      msg, sizeof(msg),
      "expected an IDX image file (magic 0x00000803) of %" PetscInt_FMT
      " images of 28x28, %zu bytes; found magic 0x%08x, %u images of %ux%u, %zu bytes",
      n, 16 + npix, len >= 4 ? (unsigned) SADatasetBE32(u) : 0u, len >= 8 ? (unsigned) SADatasetBE32(u + 4) : 0u,
      len >= 12 ? (unsigned) SADatasetBE32(u + 8) : 0u, len >= 16 ? (unsigned) SADatasetBE32(u + 12) : 0u, len));
  } else {
    PetscCall(PetscMalloc1(npix, &ds->X8));
    PetscCall(PetscArraycpy(ds->X8, u + 16, npix));
  }
  PetscCall(PetscFree(buf));
  if (msg[0]) PetscCall(SADatasetDestroy(ds));
  PetscCheck(!msg[0], PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "Data file %s is corrupt: %s; %s", fimg, msg,
             SA_FASHION_HINT);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Parses an sklearn CSV text (NUL-terminated; modified in place) into ds (n, d, nclass already set).
   The first problem found is written into msg, which stays empty when the file is fine. */
static PetscErrorCode SADatasetParseCSV(const SADatasetInfo *info, char *text, SADataset *ds, char msg[], size_t lmsg)
{
  char     *p    = text;
  PetscInt  line = 0, row = 0;
  PetscBool needheader = info->header;

  PetscFunctionBeginUser;
  msg[0] = '\0';
  PetscCall(PetscMalloc1((size_t) info->n * (size_t) info->d, &ds->X));
  PetscCall(PetscMalloc1(info->n, &ds->y));
  while (*p) {
    char      *eol = strchr(p, '\n'), *next, *end;
    PetscReal *x;
    size_t     l;
    long       lab;

    next = eol ? eol + 1 : p + strlen(p);
    if (eol) *eol = '\0';
    l = strlen(p);
    while (l > 0 && (p[l - 1] == '\r' || p[l - 1] == ' ')) p[--l] = '\0';
    line++;
    if (!*p) { /* blank line */
      p = next;
      continue;
    }
    if (needheader) {
      long     hn, hd;
      PetscInt hk = 0;

      hn = strtol(p, &end, 10);
      if (end != p && *end == ',') {
        char *q = end + 1;
        hd      = strtol(q, &end, 10);
        if (end != q && *end == ',') {
          for (char *c = end; *c; c++) hk += *c == ',';
          if (hn != (long) info->n || hd != (long) info->d || hk != info->nclass)
            PetscCall(PetscSNPrintf(msg, lmsg,
                                    "header '%.80s' announces %ld samples, %ld features, %" PetscInt_FMT
                                    " classes; expected %" PetscInt_FMT ", %" PetscInt_FMT ", %" PetscInt_FMT,
                                    p, hn, hd, hk, info->n, info->d, info->nclass));
          p          = next;
          needheader = PETSC_FALSE;
          if (msg[0]) break;
          continue;
        }
      }
      PetscCall(PetscSNPrintf(msg, lmsg, "line %" PetscInt_FMT " '%.80s' is not a header 'N,D,class0,...'", line, p));
      break;
    }
    if (row == info->n) {
      PetscCall(PetscSNPrintf(msg, lmsg, "line %" PetscInt_FMT ": more than %" PetscInt_FMT " rows", line, info->n));
      break;
    }
    x = ds->X + (size_t) row * (size_t) info->d;
    for (PetscInt j = 0; j < info->d && !msg[0]; j++) {
      x[j] = (PetscReal) strtod(p, &end);
      if (end == p || *end != ',')
        PetscCall(PetscSNPrintf(msg, lmsg,
                                "line %" PetscInt_FMT ": field %" PetscInt_FMT " '%.20s' is not a number followed by "
                                "',' (expected %" PetscInt_FMT " features and a label)",
                                line, j + 1, p, info->d));
      else if (PetscIsInfOrNanReal(x[j]))
        PetscCall(
          PetscSNPrintf(msg, lmsg, "line %" PetscInt_FMT ": field %" PetscInt_FMT " is not finite", line, j + 1));
      else p = end + 1;
    }
    if (msg[0]) break;
    lab = strtol(p, &end, 10);
    if (end == p || *end) {
      PetscCall(PetscSNPrintf(msg, lmsg,
                              "line %" PetscInt_FMT ": label '%.20s' is not an integer (expected %" PetscInt_FMT
                              " features and a label)",
                              line, p, info->d));
      break;
    }
    if (lab < 0 || lab >= (long) info->nclass) {
      PetscCall(PetscSNPrintf(msg, lmsg, "line %" PetscInt_FMT ": label %ld outside [0, %" PetscInt_FMT ")", line, lab,
                              info->nclass));
      break;
    }
    ds->y[row++] = (PetscInt) lab;
    p            = next;
  }
  if (!msg[0] && row != info->n)
    PetscCall(PetscSNPrintf(msg, lmsg, "%" PetscInt_FMT " rows, expected %" PetscInt_FMT, row, info->n));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SADatasetLoadSklearn(const SADatasetInfo *info, const char dir[], SADataset *ds)
{
  char   path[PETSC_MAX_PATH_LEN], msg[256], *text;
  size_t len;

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/sklearn/%s", dir, info->file));
  PetscCall(SADatasetCheckReadable(info->name, path, SA_SKLEARN_HINT));
  PetscCall(SADatasetReadFile(path, SA_SKLEARN_HINT, &text, &len));
  if (strlen(text) != len) {
    PetscCall(PetscStrncpy(msg, "it contains NUL bytes (not a CSV text)", sizeof(msg)));
  } else {
    ds->n = info->n;
    PetscCall(SADatasetParseCSV(info, text, ds, msg, sizeof(msg)));
  }
  PetscCall(PetscFree(text));
  if (msg[0]) PetscCall(SADatasetDestroy(ds));
  PetscCheck(!msg[0], PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "Data file %s is corrupt: %s; %s", path, msg,
             SA_SKLEARN_HINT);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SADatasetLoad - Loads a classification data set into memory

  Not Collective; every rank that calls it reads the files itself

  Input Parameters:
+ name      - the data set: fashion_mnist, digits, iris, wine or breast_cancer
. dir       - the data directory, holding sklearn/{iris.csv,wine_data.csv,breast_cancer.csv,digits.csv.gz};
              NULL or "" means SA_DEFAULT_DATA_DIR (the repository's data/); not used for fashion_mnist
- test_part - for fashion_mnist, `PETSC_TRUE` loads the 10000 test images (t10k) instead of the 60000
              training images; must be `PETSC_FALSE` for the other sets (split them with `SADatasetSplit()`)

  Output Parameter:
. ds - the data set; free it with `SADatasetDestroy()`

  Notes:
  Fashion-MNIST is always read from /usr/share/datasets/fashion-mnist (Debian package
  dataset-fashion-mnist), 784 pixel features in 0..255 and 10 classes. The scikit-learn sets are
  digits (1797 x 64, 10 classes), iris (150 x 4, 3), wine (178 x 13, 3) and breast_cancer
  (569 x 30, 2; 0 = malignant, 1 = benign); scripts/setup.sh (`make setup`) extracts them.

  An unknown name, a missing or a corrupt file raise `PETSC_ERR_USER_INPUT` with a message naming the
  file and how to install it. On any error `ds` holds no memory.

  Level: beginner

.seealso: `SADataset`, `SADatasetSplit()`, `SADatasetSubset()`, `SADatasetStandardize()`, `SADatasetDestroy()`
@*/
PetscErrorCode SADatasetLoad(const char name[], const char dir[], PetscBool test_part, SADataset *ds)
{
  const SADatasetInfo *info = NULL;
  const PetscInt       nset = (PetscInt) (sizeof(SADatasetTable) / sizeof(SADatasetTable[0]));

  PetscFunctionBeginUser;
  PetscAssertPointer(name, 1);
  PetscAssertPointer(ds, 4);
  PetscCall(PetscMemzero(ds, sizeof(*ds)));
  for (PetscInt k = 0; k < nset && !info; k++) {
    PetscBool match;

    PetscCall(PetscStrcmp(name, SADatasetTable[k].name, &match));
    if (match) info = &SADatasetTable[k];
  }
  PetscCheck(info, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "Unknown data set '%s'; allowed: %s", name, SA_DATASET_NAMES);
  PetscCheck(!test_part || !info->file, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
             "Data set %s has no separate test part; split it with SADatasetSplit()", name);
  PetscCall(PetscStrncpy(ds->name, info->name, sizeof(ds->name)));
  ds->d      = info->d;
  ds->nclass = info->nclass;
  if (!info->file) PetscCall(SADatasetLoadFashion(info, test_part, ds));
  else PetscCall(SADatasetLoadSklearn(info, dir && dir[0] ? dir : SA_DEFAULT_DATA_DIR, ds));
  PetscFunctionReturn(PETSC_SUCCESS);
}

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
