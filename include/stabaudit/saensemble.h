/*
  saensemble.h - SAEnsemble: runs a campaign's members over groups of MPI ranks, with dynamic
  scheduling, twin branching, checkpoints, restart and the campaign dataset.
*/
#pragma once
#include <stabaudit/saio.h>

/*S
  SAEnsemble - the ensemble engine

  Level: beginner

.seealso: `SAEnsembleCreate()`, `SAEnsembleRun()`
S*/
typedef struct _p_SAEnsemble *SAEnsemble;

PETSC_EXTERN PetscErrorCode SAEnsembleInitializePackage(void);
PETSC_EXTERN PetscErrorCode SAEnsembleCreate(MPI_Comm, SAEnsemble *);
PETSC_EXTERN PetscErrorCode SAEnsembleSetCampaign(SAEnsemble, SACampaign);
PETSC_EXTERN PetscErrorCode SAEnsembleSetDirectory(SAEnsemble, const char[]);
PETSC_EXTERN PetscErrorCode SAEnsembleSetCommandLine(SAEnsemble, const char[]);
PETSC_EXTERN PetscErrorCode SAEnsembleSetFromOptions(SAEnsemble);
PETSC_EXTERN PetscErrorCode SAEnsemblePrepareDirectory(SAEnsemble);
PETSC_EXTERN PetscErrorCode SAEnsembleRun(SAEnsemble);
PETSC_EXTERN PetscErrorCode SAEnsembleWriteResults(SAEnsemble);
PETSC_EXTERN PetscErrorCode SAEnsembleSummary(SAEnsemble);
PETSC_EXTERN PetscErrorCode SAEnsembleGetStatus(SAEnsemble, PetscBool *, PetscBool *);
PETSC_EXTERN PetscErrorCode SAEnsembleDestroy(SAEnsemble *);
