/*
  sastream.h - counter-based random streams (Random123 Philox4x32-10).

  A stream is keyed by (campaign seed, member seed, purpose) and every number is addressed by
  (step, index): the value never depends on which rank draws it, in which order, or how many
  values were drawn before. There is no hidden state to checkpoint.
*/
#pragma once
#include <stabaudit/sasys.h>

/* What a stream is used for; part of its key so different uses never share numbers */
typedef enum {
  SA_STREAM_TASK    = 1, /* problem instance (quadratic basis, theta*), shared by all members */
  SA_STREAM_INIT    = 2, /* parameter initialisation of a member */
  SA_STREAM_BATCH   = 3, /* minibatch sampling / gradient noise */
  SA_STREAM_EPOCH   = 4, /* epoch permutations */
  SA_STREAM_DROPOUT = 5, /* dropout masks */
  SA_STREAM_PERTURB = 6, /* perturbation draws (kick directions, flipped labels, ...) */
  SA_STREAM_PROBE   = 7, /* probe vectors and frozen probe batches */
  SA_STREAM_SPLIT   = 8, /* train/test splits and subsets */
  SA_STREAM_TEST    = 99 /* unit tests */
} SAStreamPurpose;

/*S
  SAStream - a counter-based random stream: value = f(key, step, index), no state

  Level: beginner
S*/
typedef struct {
  uint32_t key[2]; /* Philox key: derived from (campaign seed, member seed) */
  uint32_t tag;    /* purpose, part of the fourth counter word so purposes never collide */
} SAStream;

PETSC_EXTERN PetscErrorCode SAStreamCreate(PetscInt64, PetscInt64, PetscInt, SAStream *);
PETSC_EXTERN PetscErrorCode SAStreamRaw(const SAStream *, PetscInt64, PetscInt64, uint32_t[4]);
PETSC_EXTERN PetscErrorCode SAStreamUniform(const SAStream *, PetscInt64, PetscInt64, PetscReal *);
PETSC_EXTERN PetscErrorCode SAStreamNormal(const SAStream *, PetscInt64, PetscInt64, PetscReal *);
PETSC_EXTERN PetscErrorCode SAStreamUniformArray(const SAStream *, PetscInt64, PetscInt64, PetscInt, PetscReal[]);
PETSC_EXTERN PetscErrorCode SAStreamNormalArray(const SAStream *, PetscInt64, PetscInt64, PetscInt, PetscReal[]);
PETSC_EXTERN PetscErrorCode SAStreamInteger(const SAStream *, PetscInt64, PetscInt64, PetscInt64, PetscInt64,
                                            PetscInt64 *);
PETSC_EXTERN PetscErrorCode SAStreamBernoulli(const SAStream *, PetscInt64, PetscInt64, PetscReal, PetscBool *);
PETSC_EXTERN PetscErrorCode SAStreamCategorical(const SAStream *, PetscInt64, PetscInt64, PetscInt, const PetscReal[],
                                                PetscInt *);
PETSC_EXTERN PetscErrorCode SAStreamPermutation(const SAStream *, PetscInt64, PetscInt, PetscInt[]);
PETSC_EXTERN PetscErrorCode SAStreamVecNormal(const SAStream *, PetscInt64, Vec);
PETSC_EXTERN PetscErrorCode SAStreamHashString(const char[], PetscInt64 *);
