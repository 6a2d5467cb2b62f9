/*
  sacampaign.h - SACampaign: a deck expanded into members (configurations x perturbations x
  magnitudes x seeds, plus one unperturbed twin per configuration and seed).
*/
#pragma once
#include <stabaudit/sasolver.h>
#include <stabaudit/saperturb.h>
#include <stabaudit/saprobe.h>
#include <stabaudit/saanalysis.h>

#define SA_MAX_AXES                 8
#define SA_MAX_VALUES               256
#define SA_MAX_PERTS                64
#define SA_MAX_MAGNITUDES_PER_BLOCK 256

/*S
  SAMember - one training run of a campaign

  Level: beginner
S*/
typedef struct {
  PetscInt  id;        /* stable member id (index in results.nc) */
  PetscInt  config;    /* configuration index (a point of the sweep) */
  PetscInt  seed;      /* member seed (common random numbers with the twin) */
  PetscInt  pert;      /* index of the perturbation block, -1 for an unperturbed twin */
  PetscReal magnitude; /* perturbation magnitude (0 for a twin) */
  PetscInt  twin;      /* id of the unperturbed twin, -1 for a twin */
  char      key[256];  /* identity: configuration, seed, perturbation, magnitude */
} SAMember;

/*S
  SASweepAxis - a configuration axis a deck sweeps (key under 'sweep:')

  Level: intermediate
S*/
typedef struct {
  const char *name;                             /* key under sweep:, e.g. "lr" */
  const char *description;                      /* what it sets */
  PetscReal   lo, hi;                           /* allowed range */
  PetscErrorCode (*apply)(SASolver, PetscReal); /* sets the value on a member's solver */
} SASweepAxis;
PETSC_EXTERN const SASweepAxis SASweepAxes[];

/*S
  SAMemberObjects - a composed member (SACampaignCreateMember()): the solver owns the rest, which is borrowed

  Level: intermediate
S*/
typedef struct {
  SASolver solver; /* the member's step loop with its hooks and monitors */
  SAProbe  probe;  /* its spectral probes (a monitor), NULL without probes */
  SALyap   lyap;   /* its Lyapunov accumulator (a monitor), NULL without lyap: */
} SAMemberObjects;

/*S
  SACampaign - the expanded deck

  Level: beginner
S*/
typedef struct _p_SACampaign *SACampaign;
struct _p_SACampaign {
  MPI_Comm         comm;                               /* all ranks of the campaign */
  char             title[256];                         /* campaign title */
  PetscInt64       seed;                               /* campaign seed */
  PetscInt         nseeds;                             /* number of member seeds */
  PetscInt         seeds[SA_MAX_VALUES];               /* member seeds */
  PetscInt         nsteps;                             /* optimizer steps per member */
  PetscInt         record_every;                       /* interval of recorded steps */
  PetscInt         nrec;                               /* recorded steps: 0, r, ..., nsteps */
  PetscInt         checkpoint_every;                   /* checkpoint interval of members in flight (steps) */
  PetscReal        explode;                            /* loss explosion factor (relative to the initial loss) */
  PetscBool        branch;                             /* perturbed members branch from their twin's checkpoint */
  char             tasktype[64];                       /* workload */
  PetscInt         nobs;                               /* observables per record (common + the workload's) */
  SAObservableInfo obs[64];                            /* their descriptions (strings owned by the campaign) */
  PetscInt         naxes;                              /* swept axes */
  PetscInt         axis[SA_MAX_AXES];                  /* index into SASweepAxes */
  PetscInt         nvalues[SA_MAX_AXES];               /* values per axis */
  PetscReal        values[SA_MAX_AXES][SA_MAX_VALUES]; /* the values */
  PetscInt         nconfigs;                           /* configurations */
  PetscReal       *configvals;                         /* nconfigs x naxes values */
  PetscInt         nperts;                             /* perturbation blocks */
  char            *pertnames[SA_MAX_PERTS];            /* their names (options prefixes without '_') */
  char             pertkind[SA_MAX_PERTS][64];         /* kind of each block */
  SADimension      pertdim[SA_MAX_PERTS];              /* dimension of each block */
  PetscInt         pertonset[SA_MAX_PERTS];            /* onset of each block */
  PetscInt         pertduration[SA_MAX_PERTS];         /* duration of each block */
  PetscInt         pertshape[SA_MAX_PERTS];            /* envelope shape of each block (SAPerturbShape) */
  PetscInt         pertnmag[SA_MAX_PERTS];             /* number of magnitudes of each block */
  PetscReal       *pertmags[SA_MAX_PERTS];             /* the magnitudes of each block */
  PetscInt         nmembers;                           /* members */
  SAMember        *members;                            /* the member table, by id */
};

PETSC_EXTERN PetscErrorCode SACampaignCreate(MPI_Comm, SACampaign *);
PETSC_EXTERN PetscErrorCode SACampaignSetFromOptions(SACampaign);
PETSC_EXTERN PetscErrorCode SACampaignExpand(SACampaign, const char[]);
PETSC_EXTERN PetscErrorCode SACampaignGetMemberTable(SACampaign, char **);
PETSC_EXTERN PetscErrorCode SACampaignCreateSolver(SACampaign, PetscInt, MPI_Comm, SASolver *);
PETSC_EXTERN PetscErrorCode SACampaignCreateMember(SACampaign, PetscInt, MPI_Comm, const char[], SAMemberObjects *);
PETSC_EXTERN PetscErrorCode SACampaignGetConfigLabel(SACampaign, PetscInt, char[], size_t);
PETSC_EXTERN PetscErrorCode SACampaignView(SACampaign, PetscViewer);
PETSC_EXTERN PetscErrorCode SACampaignDestroy(SACampaign *);
