/*
  sadeck.h - decks: YAML files loaded into PETSc's options database, with typed, range-checked
  getters that register every key they read, so unknown keys, wrong types and out-of-range
  values are reported with the file, the key and what is allowed.
*/
#pragma once
#include <stabaudit/sasys.h>

/* how a key takes part in a campaign (used to decide whether a directory can be resumed/extended) */
typedef enum {
  SA_KEY_RESULT     = 0, /* changes results: must not change between runs on one directory */
  SA_KEY_EXTENSIBLE = 1, /* a list that may grow (seeds, magnitudes, sweep values, perturbations) */
  SA_KEY_CONTROL    = 2, /* run control (output directory, checkpoint interval, group size): free */
  SA_KEY_COMMAND    = 3  /* an option of one command (stabaudit jobs, plan): checked, never in the resolved deck */
} SAKeyRole;

PETSC_EXTERN PetscErrorCode SADeckLoad(MPI_Comm, const char[], int, char **);
PETSC_EXTERN PetscErrorCode SADeckReset(void);
PETSC_EXTERN PetscErrorCode SADeckPushRole(SAKeyRole);
PETSC_EXTERN PetscErrorCode SADeckPopRole(SAKeyRole);
PETSC_EXTERN PetscErrorCode SADeckGetInt(const char[], const char[], PetscInt, PetscInt, PetscInt, PetscInt *,
                                         PetscBool *);
PETSC_EXTERN PetscErrorCode SADeckGetReal(const char[], const char[], PetscReal, PetscReal, PetscReal, PetscReal *,
                                          PetscBool *);
PETSC_EXTERN PetscErrorCode SADeckGetBool(const char[], const char[], PetscBool, PetscBool *, PetscBool *);
PETSC_EXTERN PetscErrorCode SADeckGetType(const char[], PetscFunctionList, const char[], const char **);
PETSC_EXTERN PetscErrorCode SADeckGetEnum(const char[], const char[], const char *const[], PetscInt, PetscInt *,
                                          PetscBool *);
PETSC_EXTERN PetscErrorCode SADeckGetString(const char[], const char[], const char[], char[], size_t, PetscBool *);
PETSC_EXTERN PetscErrorCode SADeckGetRealArray(const char[], const char[], PetscReal, PetscReal, PetscInt *,
                                               PetscReal[], PetscBool *);
PETSC_EXTERN PetscErrorCode SADeckGetIntArray(const char[], const char[], PetscInt, PetscInt, PetscInt *, PetscInt[],
                                              PetscBool *);
PETSC_EXTERN PetscErrorCode SADeckGetNameArray(const char[], const char[], PetscInt *, char ***, PetscBool *);
PETSC_EXTERN PetscErrorCode SADeckCheckFile(const char[], const char[], const char[], const char[]);
PETSC_EXTERN PetscErrorCode SADeckCheckUnused(MPI_Comm);
PETSC_EXTERN PetscErrorCode SADeckGetResolved(char **);
PETSC_EXTERN PetscErrorCode SADeckCompareResolved(const char[], const char[], const char[]);
PETSC_EXTERN PetscErrorCode SADeckError(PetscErrorCode, const char **);
PETSC_EXTERN PetscErrorCode SADeckFail(const char[], const char[], ...) PETSC_ATTRIBUTE_FORMAT(2, 3);
