/*
  analyze.c - `stabaudit analyze DIR`: reads DIR/results.nc (members distributed over the ranks in
  contiguous blocks), runs the stability analysis and writes DIR/analysis.nc (netCDF-4, CF-1.13, written as
  analysis.nc.tmp and renamed). results.nc is opened read-only. Schema and options: docs/analysis.md.
  M = members, R = records, C = configurations, O = observables in results.nc, p = observables of the
  meta-states, k = components, G = (configuration, perturbation) groups, B = perturbation blocks,
  D = detectors.

  This file holds the options and the driver; the steps are in analyze_read.c (results.nc), analyze_members.c
  (collapse, recovery, FTLE per member), analyze_margins.c (groups, cells, stability margins), analyze_warnings.c
  (meta-states, detectors, warnings and their scores), analyze_findings.c (findings and the printed summary) and
  analyze_write.c (analysis.nc); their shared structures are in analyzeimpl.h.
*/
#include "analyzeimpl.h"

const char *const SADetectorNames[] = {"metastate", "loss_zscore", "variance_trend", "ar1_trend", NULL};

/*@C
  SAAnalysisOptionsDefault - Fills the analysis options with their documented defaults (docs/analysis.md)

  Not Collective

  Output Parameter:
. o - the options

  Level: beginner

.seealso: `SAAnalyze()`
@*/
PetscErrorCode SAAnalysisOptionsDefault(SAAnalysisOptions *o)
{
  PetscFunctionBeginUser;
  o->delta       = 0.2;
  o->window      = 50;
  o->ftle_window = 0;
  o->level       = 0.95;
  o->nboot       = 1000;
  o->margin_log  = PETSC_TRUE;
  o->varfrac     = 0.9;
  o->k           = 0;
  o->alpha       = 0.05;
  o->m           = 2;
  o->horizon     = 50;
  o->det_window  = 5;
  o->ridge       = 1e-6;
  o->seed        = 2026;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAAnalyze - Runs the stability analysis of a finished campaign: DIR/results.nc -> DIR/analysis.nc

  Collective

  Input Parameters:
+ comm    - the ranks (members are distributed over them in contiguous blocks)
. dir     - the campaign directory
. o       - the options (`SAAnalysisOptionsDefault()`, then the command line)
- history - the history line stored in analysis.nc

  Notes:
  results.nc is only read; analysis.nc is written as analysis.nc.tmp and renamed, so the command can be re-run.
  Prints the summary, the stability margins and the findings table on rank 0.

  Level: beginner

.seealso: `SAAnalysisOptionsDefault()`, `SAMarginEstimate()`, `SAMetaStateFit()`
@*/
PetscErrorCode SAAnalyze(MPI_Comm comm, const char dir[], const SAAnalysisOptions *o, const char history[])
{
  SACampaignData d;
  SAMemberData   r;
  SAGroups       g;
  SAMetaData    *ms;
  SAFindings    *f;
  char           path[PETSC_MAX_PATH_LEN];

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/results.nc", dir));
  PetscCall(SACampaignDataRead_Private(comm, path, &d));
  PetscCall(PetscNew(&ms));
  PetscCall(PetscNew(&f));
  PetscCall(SAMemberAnalyze_Private(&d, o, &r));
  PetscCall(SAMemberReduce_Private(comm, &d, &r));
  PetscCall(PetscMalloc2(d.nb * d.R * PetscMax(d.O, 1) + 1, &ms->lat, d.nb * d.R * SA_D + 1, &ms->sc));
  PetscCall(SAMetaStates_Private(comm, &d, &r, o, ms));
  PetscCall(SAWarnings_Private(comm, &d, &r, o, ms));
  PetscCall(SAGroupsBuild_Private(&d, &r, o, &g));
  PetscCall(SAMatchedConcordance_Private(&d, &r, &g, o, ms));
  PetscCall(SAFindingsCompute_Private(&d, &r, &g, o, f));
  PetscCall(SAAnalysisWrite_Private(comm, dir, &d, &r, &g, ms, f, o, history));
  PetscCall(SAAnalysisPrint_Private(comm, dir, &d, &r, &g, ms, f, o));
  PetscCall(PetscFree2(ms->lat, ms->sc));
  PetscCall(PetscFree(ms));
  PetscCall(PetscFree(f));
  PetscCall(SAGroupsDestroy_Private(&g));
  PetscCall(SAMemberDataDestroy_Private(&r));
  PetscCall(SACampaignDataDestroy_Private(&d));
  PetscFunctionReturn(PETSC_SUCCESS);
}
