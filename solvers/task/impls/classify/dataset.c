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
  Split, subset, standardisation and row access are in dataset_prep.c.
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
