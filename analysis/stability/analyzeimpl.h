/*
  analyzeimpl.h - private to analysis/stability/analyze*.c (the implementation of `stabaudit analyze`, SAAnalyze()):
  the campaign, member, group, meta-state and findings structures and the functions the files share.
  Not installed; nothing outside analysis/stability includes it.
*/
#pragma once
#include <stabaudit/saanalysis.h>
#include <stabaudit/sancnames.h>
#include <netcdf_par.h>

#define SA_NAME         SA_NC_NAME_LEN
#define SA_MAXOBS       128
#define SA_MAXAXES      16
#define SA_FILLD(x)     (PetscIsInfOrNanReal(x) ? NC_FILL_DOUBLE : (double) (x))
#define SA_ISFILL(x)    ((x) >= 9.0e36 || (x) <= -9.0e36)
#define SA_ISFILLINT(i) ((i) == NC_FILL_INT)

/* the campaign as read from results.nc: metadata on every rank, series of the local block */
typedef struct {
  PetscInt  M, R, C, O, m0, nb, naxes, iperf, iloss, itd, ilr, stoch[SA_MAXAXES], nlyap;
  double   *lyap; /* lyap_exponent(member, lyap) of results.nc when the campaign computed it, else NULL */
  PetscInt *step;
  int      *config, *dim, *onset, *twin, *reason, *divstep;
  double   *mag, *final, *perf, *axval, *obs; /* perf: M x R; obs: O x nb x R (local) */
  char     *pert, *clabel, (*obsname)[SA_NAME], (*axname)[SA_NAME], title[256];
} SACampaignData;

/* series of local member i, observable o */
#define OBS(d, o, i) ((d)->obs + ((o) * (d)->nb + (i)) * (d)->R)

/* per-member results, complete on every rank after SAMemberReduce_Private */
typedef struct {
  PetscInt  *collapsed, *cstep, *irrev, *recov, *baseline, *warn; /* warn: M x D */
  PetscReal *drawdown, *gap, *ftle, *ftle_se;
} SAMemberData;

/* groups of members: (configuration, perturbation block) */
typedef struct {
  PetscInt  G, B, ncell;
  PetscInt *gcfg, *gblock, *gdim, *gn;    /* G */
  char (*bname)[SA_NAME];                 /* B */
  PetscInt  *bdim;                        /* B */
  SAMargin  *margin;                      /* G */
  PetscReal *gmed, *giqr, *gstd;          /* G: final performance of the group's members */
  PetscInt  *cgroup, *cn, *ck;            /* ncell */
  PetscReal *cmag, *cp, *clo, *chi;       /* ncell */
  PetscReal *cfmed, *cfiqr, *cfstd, *cpc; /* C: twins' final performance; collapse prob. of perturbed members */
} SAGroups;

#define SA_D SA_ANALYSIS_NDETECTORS

/* meta-states, detector scores, thresholds and scores of the warnings */
typedef struct {
  PetscInt   p, k, sel[SA_MAXOBS], nbase;
  PetscReal  mean[SA_MAXOBS], sd[SA_MAXOBS], sigma[SA_MAXOBS], V[SA_MAXOBS * SA_MAXOBS], explained[SA_MAXOBS];
  PetscReal *lat, *sc; /* local: nb x R x k, nb x R x D (detector 0 = deviation) */
  PetscReal  thr[SA_D], prec[SA_D], rec[SA_D], auc[SA_D], far[SA_D], lmed[SA_D], lq1[SA_D], lq3[SA_D];
  PetscInt   npairs[SA_D], nwarn[SA_D], ntp[SA_D], ncoll;
  PetscReal  mconc[SA_D], mlo[SA_D], mhi[SA_D]; /* matched-dose concordance, interval: SAMatchedConcordance_Private */
  PetscInt   mpairs[SA_D], mcells[SA_D];
  char       note[256];
} SAMetaData;

/* findings: (1) per block, (2) per (stochasticity axis, block) */
typedef struct {
  PetscInt  B, A, axis[SA_MAXAXES];
  PetscReal f1[4 * 64];               /* per block: n, rho, lo, hi */
  PetscReal f2m[4 * SA_MAXAXES * 64]; /* per (axis, block): n, rho, lo, hi of margin vs level */
  PetscReal f2c[4 * SA_MAXAXES * 64]; /* per (axis, block): n, rho, lo, hi of collapse probability vs level */
} SAFindings;

/* analyze_read.c: results.nc */
PETSC_INTERN PetscErrorCode SACampaignDataRead_Private(MPI_Comm, const char[], SACampaignData *);
PETSC_INTERN PetscErrorCode SACampaignDataDestroy_Private(SACampaignData *);

/* analyze_members.c: collapse, recovery, twin gap and FTLE of each member */
PETSC_INTERN PetscErrorCode SAMemberAnalyze_Private(const SACampaignData *, const SAAnalysisOptions *, SAMemberData *);
PETSC_INTERN PetscErrorCode SAMemberReduceInt_Private(MPI_Comm, PetscInt, PetscInt[]);
PETSC_INTERN PetscErrorCode SAMemberReduce_Private(MPI_Comm, const SACampaignData *, SAMemberData *);
PETSC_INTERN PetscErrorCode SAMemberDataDestroy_Private(SAMemberData *);

/* analyze_margins.c: groups, cells and stability margins */
PETSC_INTERN PetscErrorCode SAGroupsBuild_Private(const SACampaignData *, const SAMemberData *,
                                                  const SAAnalysisOptions *, SAGroups *);
PETSC_INTERN PetscErrorCode SAGroupsDestroy_Private(SAGroups *);

/* analyze_warnings.c: meta-states, detectors, warnings and their scores */
PETSC_INTERN PetscErrorCode SAMetaStates_Private(MPI_Comm, const SACampaignData *, const SAMemberData *,
                                                 const SAAnalysisOptions *, SAMetaData *);
PETSC_INTERN PetscErrorCode SAWarnings_Private(MPI_Comm, const SACampaignData *, SAMemberData *,
                                               const SAAnalysisOptions *, SAMetaData *);
PETSC_INTERN PetscErrorCode SAMatchedConcordance_Private(const SACampaignData *, const SAMemberData *, const SAGroups *,
                                                         const SAAnalysisOptions *, SAMetaData *);

/* analyze_findings.c: findings 1 and 2 and the printed summary */
PETSC_INTERN PetscErrorCode SAFindingsCompute_Private(const SACampaignData *, const SAMemberData *, const SAGroups *,
                                                      const SAAnalysisOptions *, SAFindings *);
PETSC_INTERN PetscErrorCode SAAnalysisPrint_Private(MPI_Comm, const char[], const SACampaignData *,
                                                    const SAMemberData *, const SAGroups *, const SAMetaData *,
                                                    const SAFindings *, const SAAnalysisOptions *);

/* analyze_write.c: analysis.nc */
PETSC_INTERN PetscErrorCode SAAnalysisWrite_Private(MPI_Comm, const char[], const SACampaignData *,
                                                    const SAMemberData *, const SAGroups *, const SAMetaData *,
                                                    const SAFindings *, const SAAnalysisOptions *, const char[]);
