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
  PetscInt   nmembers;                 /* members */
  PetscInt64 steps;                    /* optimizer steps to take (with twin branching, none diverging) */
  PetscInt64 checkpoints;              /* checkpoints to write (in flight every checkpoint_every, branch points) */
  PetscInt64 probes;                   /* probed steps (deck section probe:) */
  PetscReal  sec_per_step;             /* measured seconds per step on one group (mean over configurations) */
  PetscReal  sec_per_checkpoint;       /* measured seconds per checkpoint (mean over configurations) */
  PetscReal  member_seconds;           /* sum over members of set-up, steps, checkpoints and probes (s, one group) */
  PetscReal  core_hours;               /* member_seconds * group_size / 3600 */
  PetscReal  mem_per_rank;             /* measured peak resident memory per rank (bytes) */
  PetscReal  longest;                  /* seconds of the longest member (a full trajectory) */
  PetscInt   group_size;               /* ranks per member in the calibration */
  PetscInt   ranks;                    /* ranks of the layout to predict (0: none) */
  PetscReal  predicted;                /* predicted wall time (s) on that layout */
  PetscReal  walltime;                 /* target wall time (s), 0 if none */
  PetscInt   suggested_group_size;     /* suggested layout for the target */
  PetscInt   suggested_nodes;          /* nodes */
  PetscInt   suggested_tasks_per_node; /* ranks per node */
  PetscReal  suggested_predicted;      /* its predicted wall time (s) */
} SAPlanCost;

PETSC_EXTERN PetscErrorCode SAPlanCalibrate(SACampaign, MPI_Comm, const char[], PetscInt, PetscReal, PetscInt,
                                            SAPlanCost *);
PETSC_EXTERN PetscErrorCode SAPlanSuggest(SAPlanCost *, PetscReal, PetscInt);
PETSC_EXTERN PetscErrorCode SAPlanView(const SAPlanCost *, MPI_Comm);
PETSC_EXTERN PetscErrorCode SAPlanGetOptions(PetscInt *, PetscReal *, PetscReal *, PetscInt *, PetscInt *);
PETSC_EXTERN PetscErrorCode SAJobsParseTime(const char[], PetscReal *);
