/*
  saio.h - campaign files: shards (append-only member results), checkpoints (HDF5) and the
  campaign dataset results.nc (netCDF-4, CF), with every netCDF name in one place.
*/
#pragma once
#include <stabaudit/sacampaign.h>
#include <stabaudit/saprobe.h>
#include <stabaudit/saanalysis.h>
#include <stabaudit/sancnames.h>

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

PETSC_EXTERN PetscErrorCode SAShardAppend(const char[], PetscInt, PetscInt, const SAMemberResult *);
PETSC_EXTERN PetscErrorCode SAShardScan(MPI_Comm, const char[], PetscInt, PetscInt, PetscInt, SAShardIndex *);
PETSC_EXTERN PetscErrorCode SAShardRead(const SAShardIndex *, PetscInt, SAMemberResult *);
PETSC_EXTERN PetscErrorCode SAShardIndexDestroy(SAShardIndex *);
PETSC_EXTERN PetscErrorCode SAMemberResultDestroy(SAMemberResult *);

PETSC_EXTERN PetscErrorCode SAResultsWrite(MPI_Comm, const char[], SACampaign, const SAShardIndex *, const char[]);

/* probes (jobs/io/results_probes.c) */
typedef struct _n_SAProbeNC *SAProbeNC;
PETSC_EXTERN PetscErrorCode  SAProbeResultsDefine(int, SACampaign, int, SAProbeNC *);
PETSC_EXTERN PetscErrorCode  SAProbeResultsPut(MPI_Comm, int, SAProbeNC, const SAShardIndex *, PetscInt, PetscInt);
PETSC_EXTERN PetscErrorCode  SAProbeResultsDestroy(SAProbeNC *);
