/*
  sadataset.h - the classification data sets: Fashion-MNIST (Debian dataset-fashion-mnist) and the
  UCI sets shipped with scikit-learn (digits, iris, wine, breast_cancer; extracted into
  data/sklearn/ by scripts/setup.sh). Loaded into plain row-major arrays (doubles, or bytes for the
  pixels of Fashion-MNIST, standardised when read), identically on every rank.
*/
#pragma once
#include <stabaudit/sasys.h>

/*S
  SADataset - a labelled classification data set held in memory: n samples of d features, nclass classes

  Level: beginner

.seealso: `SADatasetLoad()`, `SADatasetSplit()`, `SADatasetSubset()`, `SADatasetStandardize()`, `SADatasetDestroy()`
S*/
typedef struct {
  char           name[64]; /* fashion_mnist, digits, iris, wine, breast_cancer */
  PetscInt       n;        /* number of samples */
  PetscInt       d;        /* number of features */
  PetscInt       nclass;   /* number of classes */
  PetscReal     *X;        /* features (n, d) row-major, X[i * d + j] = feature j of sample i; or NULL and: */
  unsigned char *X8;       /* byte features (n, d) row-major (Fashion-MNIST); read them with SADatasetGetRows() */
  PetscReal     *mean;     /* (d) with X8: feature = (X8 - mean) / sdev when read; NULL: the raw bytes */
  PetscReal     *sdev;     /* (d) */
  PetscInt      *y;        /* labels, length n, each in [0, nclass) */
} SADataset;

PETSC_EXTERN PetscErrorCode SADatasetLoad(const char[], const char[], PetscBool, SADataset *);
PETSC_EXTERN PetscErrorCode SADatasetSplit(const SADataset *, PetscReal, PetscInt64, SADataset *, SADataset *);
PETSC_EXTERN PetscErrorCode SADatasetSubset(SADataset *, PetscInt, PetscInt64);
PETSC_EXTERN PetscErrorCode SADatasetStandardize(SADataset *, SADataset *);
PETSC_EXTERN PetscErrorCode SADatasetGetRows(const SADataset *, PetscInt, PetscInt, PetscReal[]);
PETSC_EXTERN PetscErrorCode SADatasetGetRow(const SADataset *, PetscInt, PetscReal[]);
PETSC_EXTERN PetscErrorCode SADatasetDestroy(SADataset *);
