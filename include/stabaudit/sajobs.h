/*
  sajobs.h - HPC campaigns: preemption signals (SIGTERM/SIGUSR1 -> checkpoint and requeue),
  SLURM job scripts (stabaudit jobs) and cost planning by calibration (stabaudit plan).
*/
#pragma once
#include <stabaudit/sacampaign.h>

/* exit status of a run that stopped on a preemption signal after checkpointing: EX_TEMPFAIL of
   sysexits.h ("try again later"); the generated job scripts requeue the job on it */
#define SA_EXIT_REQUEUE 75

PETSC_EXTERN PetscErrorCode SAPreemptInstall(void);
PETSC_EXTERN PetscErrorCode SAPreemptRequested(MPI_Comm, PetscBool *);
PETSC_EXTERN PetscErrorCode SAPreemptGetSignal(int *);
PETSC_EXTERN PetscErrorCode SAPreemptReset(void);

/*S
  SAJobs - the SLURM job scripts of a campaign (stabaudit jobs)

  Level: beginner

.seealso: `SAJobsCreate()`, `SAJobsWrite()`
S*/
typedef struct _p_SAJobs *SAJobs;

PETSC_EXTERN PetscErrorCode SAJobsCreate(MPI_Comm, SAJobs *);
PETSC_EXTERN PetscErrorCode SAJobsSetFromOptions(SAJobs);
PETSC_EXTERN PetscErrorCode SAJobsWrite(SAJobs, SACampaign, const char[]);
PETSC_EXTERN PetscErrorCode SAJobsSubmit(SAJobs);
PETSC_EXTERN PetscErrorCode SAJobsDestroy(SAJobs *);

/*S
  SAPlanCost - the calibrated cost of a campaign (stabaudit plan)

  Level: beginner
S*/
typedef struct {
  PetscInt   nmembers;     /* members */
  PetscInt64 steps;        /* optimizer steps to take (with twin branching) */
  PetscReal  sec_per_step; /* measured seconds per optimizer step on one group (mean over configurations) */
  PetscReal  core_hours;   /* estimated core-hours: steps * sec_per_step * group_size / 3600 */
  PetscReal  mem_per_rank; /* measured peak resident memory per rank (bytes) */
  PetscInt   group_size;   /* ranks per member used by the calibration */
  PetscReal  walltime;     /* target wall time (s), 0 if none */
  PetscInt   ranks;        /* suggested number of ranks for the target wall time */
  PetscInt   nodes;        /* suggested nodes (ranks / ranks per node, rounded up) */
  PetscReal  predicted;    /* predicted wall time (s) on the suggested layout */
} SAPlanCost;

PETSC_EXTERN PetscErrorCode SAPlanCalibrate(SACampaign, MPI_Comm, PetscInt, PetscInt, SAPlanCost *);
