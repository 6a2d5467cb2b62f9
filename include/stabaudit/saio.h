/*
  saio.h - campaign files: shards (append-only member results), checkpoints (HDF5) and the
  campaign dataset results.nc (netCDF-4, CF), with every netCDF name in one place.
*/
#pragma once
#include <stabaudit/sacampaign.h>
#include <stabaudit/saprobe.h>

#define SA_NC_CONVENTIONS "CF-1.13"
#define SA_NC_DIM_MEMBER  "member"
#define SA_NC_DIM_STEP    "step"
#define SA_NC_DIM_CONFIG  "config"
#define SA_NC_DIM_NAME    "name_strlen"
#define SA_NC_STEP        "step"
#define SA_NC_MEMBER      "member"
#define SA_NC_CONFIG      "config"
#define SA_NC_DIMENSION   "dimension"
#define SA_NC_KIND        "kind"
#define SA_NC_PERTURB     "perturbation"
#define SA_NC_MAGNITUDE   "magnitude"
#define SA_NC_ONSET       "onset"
#define SA_NC_DURATION    "duration"
#define SA_NC_SHAPE       "shape"
#define SA_NC_SEED        "seed"
#define SA_NC_TWIN        "twin"
#define SA_NC_REASON      "reason"
#define SA_NC_DIVSTEP     "diverged_step"
#define SA_NC_FINALPERF   "final_performance"
#define SA_NC_CONFIGLABEL "config_label"
#define SA_NC_NAME_LEN    64
#define SA_NC_DIM_LYAP    "lyap"
#define SA_NC_LYAP        "lyap_exponent"
#define SA_NC_LYAPSTEPS   "lyap_steps"

#define SA_CHECKPOINT_FORMAT_VERSION 1

/*S
  SAMemberResult - what a finished member leaves: outcome and the recorded observables

  Level: intermediate
S*/
typedef struct {
  PetscInt          member;            /* member id */
  SAConvergedReason reason;            /* completed or diverged */
  PetscInt          diverged_step;     /* step at which training diverged, -1 if it did not */
  PetscReal         final_performance; /* performance at the last step reached */
  PetscReal         seconds;           /* wall time of this run (log only, not in results.nc) */
  PetscInt          nrec;              /* recorded steps */
  PetscInt          nobs;              /* observables per recorded step */
  PetscReal        *rec;               /* nrec x nobs, NaN-free fill (NC_FILL_DOUBLE) where not reached */
  PetscInt          nprobe, plen;      /* probe rows and their length (0, 0 without probes; docs/probes.md) */
  PetscReal        *probe;             /* nprobe x plen (SAProbeGetRecords()), NULL without probes */
  PetscInt          nlyap;             /* Lyapunov exponents (0 without the lyap: section; docs/analysis.md) */
  PetscInt          lyap_counted;      /* optimizer steps counted in them (0: none, the exponents are NaN) */
  PetscReal        *lyap;              /* nlyap exponents per step (NaN when not computed), NULL when nlyap is 0 */
} SAMemberResult;

/*S
  SAShardIndex - where each finished member's result lies in DIR/shards/

  Level: developer
S*/
typedef struct {
  PetscInt    nfiles;     /* shard files */
  char      **files;      /* their paths */
  PetscInt    nmembers;   /* size of the tables below */
  PetscInt   *file;       /* file index of member m, -1 if not finished */
  PetscInt64 *offset;     /* byte offset of its record */
  PetscInt    nfound;     /* finished members */
  PetscInt    maxsession; /* largest session number seen in file names */
} SAShardIndex;

/*S
  SACheckpointInfo - scalars and records stored in a checkpoint next to theta and the optimizer state

  Level: developer
S*/
typedef struct {
  PetscInt          member;        /* member id */
  PetscInt          step;          /* the state is theta_step (before step 'step' is taken) */
  SAConvergedReason reason;        /* SA_CONVERGED_ITERATING unless the run already ended */
  PetscInt          diverged_step; /* -1 unless diverged */
  PetscInt          nrec, nobs;    /* size of rec */
  PetscReal        *rec;           /* records so far (nrec x nobs) */
  SAProbe           probe;         /* input to write and read: the member's probe (rows, warm starts), or NULL */
  SALyap            lyap;          /* input to write and read: the member's Lyapunov state (tangents, sums), or NULL */
} SACheckpointInfo;

PETSC_EXTERN PetscErrorCode SAShardAppend(const char[], PetscInt, PetscInt, const SAMemberResult *);
PETSC_EXTERN PetscErrorCode SAShardScan(MPI_Comm, const char[], PetscInt, PetscInt, PetscInt, SAShardIndex *);
PETSC_EXTERN PetscErrorCode SAShardRead(const SAShardIndex *, PetscInt, SAMemberResult *);
PETSC_EXTERN PetscErrorCode SAShardIndexDestroy(SAShardIndex *);
PETSC_EXTERN PetscErrorCode SAMemberResultDestroy(SAMemberResult *);

PETSC_EXTERN PetscErrorCode SACheckpointWrite(MPI_Comm, const char[], const SACheckpointInfo *, Vec, PetscInt, Vec[],
                                              const char *const[]);
PETSC_EXTERN PetscErrorCode SACheckpointRead(MPI_Comm, const char[], SACheckpointInfo *, Vec, PetscInt, Vec[],
                                             const char *const[]);

PETSC_EXTERN PetscErrorCode SAResultsWrite(MPI_Comm, const char[], SACampaign, const SAShardIndex *, const char[]);
PETSC_EXTERN PetscErrorCode SANCAttText(int, int, const char[], const char[]);
PETSC_EXTERN PetscErrorCode SANCDefVar(int, const char[], nc_type, int, const int[], const char[], const char[], int *);

/* probes (common/io/probes_io.c) */
typedef struct _n_SAProbeNC *SAProbeNC;
PETSC_EXTERN PetscErrorCode  SAProbeCheckpointWrite(SAProbe, PetscViewer);
PETSC_EXTERN PetscErrorCode  SAProbeCheckpointRead(SAProbe, PetscViewer, Vec);
PETSC_EXTERN PetscErrorCode  SAProbeResultsDefine(int, SACampaign, int, SAProbeNC *);
PETSC_EXTERN PetscErrorCode  SAProbeResultsPut(MPI_Comm, int, SAProbeNC, const SAShardIndex *, PetscInt, PetscInt);
PETSC_EXTERN PetscErrorCode  SAProbeResultsDestroy(SAProbeNC *);
