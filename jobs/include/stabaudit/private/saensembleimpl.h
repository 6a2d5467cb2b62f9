/*
  saensembleimpl.h - SAEnsemble's private struct and the functions its files share (jobs/ensemble/):
  ensemble.c (create, options, run, destroy), ensemble_dir.c (directory, locks, sessions, member table),
  ensemble_sched.c (window counter, status board, schedule, stop words), ensemble_member.c (one member's run),
  ensemble_progress.c (progress messages to world rank 0), ensemble_summary.c (results.nc and the final table).
*/
#pragma once
#include <stabaudit/saensemble.h>
#include <stabaudit/sadeck.h>
#include <stabaudit/sajobs.h>
#include <sys/types.h>

#define SA_TAG_PROGRESS 4242

typedef struct {
  int    member, group, steps, from, reason;
  double seconds;
  int    preempted; /* 1: the member stopped at step 'steps' on a preemption signal (checkpointed) */
} SAProgressMsg;

struct _p_SAEnsemble {
  MPI_Comm       world;                   /* all ranks */
  MPI_Comm       group;                   /* this rank's group */
  PetscMPIInt    wrank, wsize;            /* rank and size in world */
  PetscMPIInt    grank;                   /* rank in the group */
  PetscInt       group_size;              /* ranks per group */
  PetscInt       ngroups;                 /* number of groups */
  PetscInt       mygroup;                 /* this rank's group */
  SACampaign     c;                       /* the expanded campaign */
  char           dir[PETSC_MAX_PATH_LEN]; /* campaign directory */
  char           history[4096];           /* ISO-8601 time and command line */
  PetscBool      keep;                    /* keep branch checkpoints after completion */
  PetscInt       session;                 /* number of this run on the directory */
  int            lockfd;                  /* fcntl lock on DIR/lock (rank 0) */
  SAShardIndex   idx;                     /* finished members at the start */
  PetscInt       nsched;                  /* members to run in this session */
  PetscInt      *order;                   /* their ids in scheduling order */
  PetscInt      *nonsets;                 /* per member: branch points it must write (twins) */
  PetscInt      *onsetstart;              /* per member: where its branch steps start in onsets[] (M + 1 entries) */
  PetscInt      *onsets;                  /* the branch steps of all twins, onsets[onsetstart[m] + k], k < nonsets[m] */
  MPI_Win        win;                     /* [counter, status[M], stop] on world rank 0 */
  int           *winbuf;                  /* its memory (rank 0) */
  PetscInt       nprinted;                /* progress lines printed (world rank 0) */
  PetscLogDouble t0;                      /* session start */
  PetscInt       nrun;                    /* members run by this group in this session */
  PetscInt64     nstepsrun;               /* optimizer steps taken by this group in this session (leader) */
  /* preemption and shards (jobs/hpc/preempt.c, docs/hpc.md) */
  PetscInt  shard_index, shard_count; /* this run trains the twin families f with f % shard_count == shard_index */
  PetscBool preempted;                /* a preemption signal stopped this run (members in flight checkpointed) */
  PetscBool complete;                 /* every member of the campaign is finished (results.nc written) */
  PetscInt *shard;                    /* shard of each member (sharded runs), NULL otherwise */
  PetscInt  nmsg, nmsgsent, nmsgall;  /* progress messages received (rank 0), sent (leader), expected (rank 0) */
};

PETSC_INTERN PetscLogEvent SAENSEMBLE_Member;

/* ensemble_dir.c */
PETSC_INTERN PetscErrorCode SAEnsembleLockByte_Private(SAEnsemble, short, off_t);
PETSC_INTERN PetscErrorCode SAEnsembleShardSetUp_Private(SAEnsemble);
/* ensemble_sched.c */
PETSC_INTERN PetscErrorCode SAEnsembleScheduleSetUp_Private(SAEnsemble);
PETSC_INTERN PetscErrorCode SAEnsembleBoardCreate_Private(SAEnsemble);
PETSC_INTERN PetscErrorCode SAEnsembleBoardDestroy_Private(SAEnsemble);
PETSC_INTERN PetscErrorCode SAEnsembleNextMember_Private(SAEnsemble, PetscInt *);
PETSC_INTERN PetscErrorCode SAEnsembleStatus_Private(SAEnsemble, PetscInt, int, int *);
PETSC_INTERN PetscErrorCode SAEnsembleStopRequested_Private(SAEnsemble, PetscBool, PetscBool *);
/* ensemble_member.c */
PETSC_INTERN PetscErrorCode SAEnsembleRunMember_Private(SAEnsemble, PetscInt);
/* ensemble_progress.c */
PETSC_INTERN PetscErrorCode SAEnsembleSendProgress_Private(SAEnsemble, const SAProgressMsg *);
PETSC_INTERN PetscErrorCode SAEnsemblePoll_Private(SAEnsemble, PetscBool);
PETSC_INTERN PetscErrorCode SAEnsembleProgressEnd_Private(SAEnsemble);
