/*
  analyze_write.c - writes DIR/analysis.nc for SAAnalyze() (netCDF-4, CF-1.13, in parallel: rank 0 the tables, every
  rank its block of (member, step) variables), as analysis.nc.tmp renamed when complete. Schema: docs/analysis.md.
*/
#include "analyzeimpl.h"
#include <stdio.h>
#include <string.h>

/* rank 0 writes a whole 1-d variable of doubles (NaN written as fill) or ints */
static PetscErrorCode SAPutD(int ncid, int vid, PetscInt n, const PetscReal v[], PetscMPIInt rank)
{
  double *b;
  size_t  start = 0, count = (size_t) n;

  PetscFunctionBeginUser;
  if (rank || !n) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscMalloc1(n, &b));
  for (PetscInt i = 0; i < n; i++) b[i] = SA_FILLD(v[i]);
  SACallNC(nc_put_vara_double, (ncid, vid, &start, &count, b));
  PetscCall(PetscFree(b));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPutI(int ncid, int vid, PetscInt n, const PetscInt v[], PetscInt fillbelow, PetscMPIInt rank)
{
  int   *b;
  size_t start = 0, count = (size_t) n;

  PetscFunctionBeginUser;
  if (rank || !n) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscMalloc1(n, &b));
  for (PetscInt i = 0; i < n; i++) b[i] = v[i] < fillbelow ? NC_FILL_INT : (int) v[i];
  SACallNC(nc_put_vara_int, (ncid, vid, &start, &count, b));
  PetscCall(PetscFree(b));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAPutText(int ncid, int vid, PetscInt n, const char *txt, PetscMPIInt rank)
{
  size_t start[2] = {0, 0}, count[2] = {(size_t) n, SA_NAME};

  PetscFunctionBeginUser;
  if (rank || !n) PetscFunctionReturn(PETSC_SUCCESS);
  SACallNC(nc_put_vara_text, (ncid, vid, start, count, txt));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAAnalysisWrite_Private(MPI_Comm comm, const char dir[], const SACampaignData *d, const SAMemberData *r,
                                       const SAGroups *g, const SAMetaData *ms, const SAFindings *f,
                                       const SAAnalysisOptions *o, const char history[])
{
  PetscMPIInt rank;
  char        path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN], source[1024], buf[2048], *opts, *names;
  int         ncid, dm, ds, dc, dn, dd, dly = -1, dk = -1, dp = -1, dg = -1, dl = -1, db = -1, da = -1, dims[3], v;
  PetscInt    M = d->M, R = d->R, k = ms->k, p = ms->p, D = SA_D;
  PetscReal  *tmpd;
  PetscInt   *tmpi;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/analysis.nc", dir));
  PetscCall(SAFileTmpName(path, tmp, sizeof(tmp)));
  PetscCall(SAGetProvenance(source, sizeof(source)));
  PetscCall(PetscOptionsGetAll(NULL, &opts));
  PetscCall(PetscMalloc2(PetscMax(M * PetscMax(D, 1), PetscMax(M, g->ncell)) + 64, &tmpd,
                         PetscMax(M * D, PetscMax(g->G, g->ncell)) + 64, &tmpi));
  PetscCall(PetscCalloc1(SA_NAME * (PetscMax(PetscMax(g->G, SA_MAXOBS), PetscMax(D, SA_MAXAXES)) + 1), &names));
  SACallNC(nc_create_par, (tmp, NC_NETCDF4 | NC_CLOBBER, comm, MPI_INFO_NULL, &ncid));
  SACallNC(nc_def_dim, (ncid, SA_NC_DIM_MEMBER, (size_t) M, &dm));
  SACallNC(nc_def_dim, (ncid, SA_NC_DIM_STEP, (size_t) R, &ds));
  SACallNC(nc_def_dim, (ncid, SA_NC_DIM_CONFIG, (size_t) d->C, &dc));
  SACallNC(nc_def_dim, (ncid, SA_NC_DIM_NAME, SA_NAME, &dn));
  SACallNC(nc_def_dim, (ncid, "detector", (size_t) D, &dd));
  if (d->nlyap > 0) SACallNC(nc_def_dim, (ncid, SA_NC_DIM_LYAP, (size_t) d->nlyap, &dly));
  if (k > 0) {
    SACallNC(nc_def_dim, (ncid, "component", (size_t) k, &dk));
    SACallNC(nc_def_dim, (ncid, "observable", (size_t) p, &dp));
  }
  if (g->G > 0) SACallNC(nc_def_dim, (ncid, "group", (size_t) g->G, &dg));
  if (g->ncell > 0) SACallNC(nc_def_dim, (ncid, "cell", (size_t) g->ncell, &dl));
  if (g->B > 0) SACallNC(nc_def_dim, (ncid, "perturbation", (size_t) g->B, &db));
  if (f->A > 0 && g->B > 0) SACallNC(nc_def_dim, (ncid, "stochasticity", (size_t) f->A, &da));

    /* definitions: the order of the table in docs/analysis.md */
#define SA_F2_STRATA                                                                                        \
  "within strata of equal values on the other sweep axes: n-weighted mean of the per-stratum correlations " \
  "(strata of 3 or more configurations), bootstrap within strata (SASpearmanStratified)"
#define DEF(name, type, nd, d0, d1, d2, ln)                         \
  do {                                                              \
    dims[0] = d0;                                                   \
    dims[1] = d1;                                                   \
    dims[2] = d2;                                                   \
    PetscCall(SANCDefVar(ncid, name, type, nd, dims, ln, "1", &v)); \
  } while (0)
  DEF(SA_NC_STEP, NC_INT, 1, ds, 0, 0, "optimizer step");
  DEF(SA_NC_MEMBER, NC_INT, 1, dm, 0, 0, "member id");
  DEF("detector_name", NC_CHAR, 2, dd, dn, 0, "early-warning detector");
  DEF("collapsed", NC_INT, 1, dm, 0, 0, "the member collapsed (1) or not (0)");
  DEF("collapse_step", NC_INT, 1, dm, 0, 0, "optimizer step of the collapse");
  DEF("irreversible", NC_INT, 1, dm, 0, 0, "the collapse never recovered (1) or did (0)");
  DEF("recovery_steps", NC_INT, 1, dm, 0, 0, "steps from the collapse back to (1 - delta) of the running maximum");
  DEF("max_drawdown", NC_DOUBLE, 1, dm, 0, 0, "largest relative drop of performance below its running maximum");
  DEF("twin_gap_area", NC_DOUBLE, 1, dm, 0, 0, "area between the twin's and the member's performance after onset");
  DEF("final_performance", NC_DOUBLE, 1, dm, 0, 0, "performance at the last step reached (0 if diverged)");
  DEF("ftle", NC_DOUBLE, 1, dm, 0, 0, "finite-time Lyapunov exponent per step: slope of log twin_distance");
  DEF("ftle_stderr", NC_DOUBLE, 1, dm, 0, 0, "standard error of the ftle slope");
  DEF("baseline", NC_INT, 1, dm, 0, 0, "member of the baseline ensemble (an unperturbed twin that did not collapse)");
  if (d->nlyap > 0) DEF("lyap_exponent", NC_DOUBLE, 2, dm, dly, 0, "leading Lyapunov exponents per step (QR, SALyap)");
  DEF("warning_step", NC_INT, 2, dm, dd, 0, "optimizer step at which the detector's warning fired");
  DEF("lead_time", NC_INT, 2, dm, dd, 0, "collapse step minus warning step");
  DEF("warning_score", NC_DOUBLE, 3, dm, ds, dd, "detector score (metastate: the deviation)");
  PetscCall(SANCAttText(ncid, v, "coordinates", SA_NC_STEP " " SA_NC_MEMBER));
  DEF("deviation", NC_DOUBLE, 2, dm, ds, 0, "Mahalanobis distance of the latent state from the baseline ensemble");
  PetscCall(SANCAttText(ncid, v, "coordinates", SA_NC_STEP " " SA_NC_MEMBER));
  DEF("warning_threshold", NC_DOUBLE, 1, dd, 0, 0, "threshold calibrated to the false-alarm rate on the baseline");
  DEF("precision", NC_DOUBLE, 1, dd, 0, 0, "warned members that collapsed / members warned before any collapse");
  DEF("recall", NC_DOUBLE, 1, dd, 0, 0, "collapsed members warned at or before the collapse / collapsed members");
  DEF("auroc", NC_DOUBLE, 1, dd, 0, 0, "AUROC of the score for a collapse within the horizon");
  DEF("auroc_pairs", NC_INT, 1, dd, 0, 0, "(member, step) pairs scored by the AUROC");
  DEF("matched_concordance", NC_DOUBLE, 1, dd, 0, 0,
      "fraction of (collapsed, surviving) pairs at the same dose where the collapsed member was warned first");
  PetscCall(SANCAttText(ncid, v, "comment",
                        "pairs of perturbed members of one (configuration, block, magnitude) cell; ties and "
                        "neither warned count 1/2; a warning after the collapse counts as none; 0.5: no "
                        "discrimination among equally perturbed members"));
  DEF("matched_concordance_low", NC_DOUBLE, 1, dd, 0, 0, "bootstrap interval over cells, lower end");
  DEF("matched_concordance_high", NC_DOUBLE, 1, dd, 0, 0, "bootstrap interval over cells, upper end");
  DEF("matched_pairs", NC_INT, 1, dd, 0, 0, "(collapsed, surviving) pairs of the matched concordance");
  DEF("matched_cells", NC_INT, 1, dd, 0, 0, "cells (configuration, block, magnitude) with such pairs");
  DEF("n_warned", NC_INT, 1, dd, 0, 0, "members warned before any collapse");
  DEF("n_true_positive", NC_INT, 1, dd, 0, 0, "collapsed members warned at or before the collapse");
  DEF("lead_time_median", NC_DOUBLE, 1, dd, 0, 0, "median lead time of the true positives");
  DEF("lead_time_q25", NC_DOUBLE, 1, dd, 0, 0, "lower quartile of the lead time");
  DEF("lead_time_q75", NC_DOUBLE, 1, dd, 0, 0, "upper quartile of the lead time");
  DEF("false_alarm_rate", NC_DOUBLE, 1, dd, 0, 0, "fraction of baseline twins warned");
  DEF("config_label", NC_CHAR, 2, dc, dn, 0, "configuration as swept values");
  DEF("config_final_median", NC_DOUBLE, 1, dc, 0, 0, "median final performance of the configuration's twins");
  DEF("config_final_iqr", NC_DOUBLE, 1, dc, 0, 0, "interquartile range of the twins' final performance");
  DEF("config_final_std", NC_DOUBLE, 1, dc, 0, 0, "standard deviation of the twins' final performance");
  DEF("config_collapse_probability", NC_DOUBLE, 1, dc, 0, 0, "fraction of the perturbed members that collapsed");
  if (k > 0) {
    DEF("observable_name", NC_CHAR, 2, dp, dn, 0, "observable of the meta-states");
    DEF("observable_mean", NC_DOUBLE, 1, dp, 0, 0, "baseline mean used to standardise the observable");
    DEF("observable_std", NC_DOUBLE, 1, dp, 0, 0, "baseline standard deviation used to standardise");
    DEF("loading", NC_DOUBLE, 2, dp, dk, 0, "loading of the observable on the meta-state (right singular vector)");
    DEF("singular_value", NC_DOUBLE, 1, dk, 0, 0, "singular value of the standardised baseline matrix");
    DEF("explained_variance", NC_DOUBLE, 1, dk, 0, 0, "fraction of the baseline sum of squares explained");
    DEF("latent_state", NC_DOUBLE, 3, dm, ds, dk, "latent meta-state: standardised observables times loadings");
    PetscCall(SANCAttText(ncid, v, "coordinates", SA_NC_STEP " " SA_NC_MEMBER));
  }
  if (g->G > 0) {
    DEF("group_config", NC_INT, 1, dg, 0, 0, "configuration index of the group");
    DEF("group_perturbation", NC_CHAR, 2, dg, dn, 0, "perturbation block of the group");
    DEF("group_dimension", NC_INT, 1, dg, 0, 0, "stability dimension of the group's perturbation");
    DEF("group_members", NC_INT, 1, dg, 0, 0, "perturbed members in the group");
    DEF("stability_margin", NC_DOUBLE, 1, dg, 0, 0, "magnitude at which the collapse probability crosses 1/2");
    DEF("stability_margin_low", NC_DOUBLE, 1, dg, 0, 0, "lower end of the margin's interval");
    DEF("stability_margin_high", NC_DOUBLE, 1, dg, 0, 0, "upper end of the margin's interval");
    DEF("margin_status", NC_INT, 1, dg, 0, 0, "how the margin was obtained");
    {
      int fv[7] = {0, 1, 2, 3, 4, 5, 6};
      SACallNC(nc_put_att_int, (ncid, v, "flag_values", NC_INT, 7, fv));
      PetscCall(SANCAttText(ncid, v, "flag_meanings",
                            "fit separated censored_above censored_below nonmonotone nodata quasi_separated"));
    }
    DEF("margin_log_scale", NC_INT, 1, dg, 0, 0, "1: the margin was fitted in log(magnitude), 0: in magnitude");
    DEF("margin_slope", NC_DOUBLE, 1, dg, 0, 0, "logistic slope b of logit p = a + b x");
    DEF("group_final_median", NC_DOUBLE, 1, dg, 0, 0, "median final performance of the group's members");
    DEF("group_final_iqr", NC_DOUBLE, 1, dg, 0, 0, "interquartile range of the group's final performance");
    DEF("group_final_std", NC_DOUBLE, 1, dg, 0, 0, "standard deviation of the group's final performance");
  }
  if (g->ncell > 0) {
    DEF("cell_group", NC_INT, 1, dl, 0, 0, "group of the cell");
    DEF("cell_magnitude", NC_DOUBLE, 1, dl, 0, 0, "perturbation magnitude of the cell");
    DEF("cell_members", NC_INT, 1, dl, 0, 0, "members in the cell");
    DEF("cell_collapsed", NC_INT, 1, dl, 0, 0, "collapsed members in the cell");
    DEF("collapse_probability", NC_DOUBLE, 1, dl, 0, 0, "fraction of the cell's members that collapsed");
    DEF("collapse_probability_low", NC_DOUBLE, 1, dl, 0, 0, "Wilson interval, lower end");
    DEF("collapse_probability_high", NC_DOUBLE, 1, dl, 0, 0, "Wilson interval, upper end");
  }
  if (g->B > 0) {
    DEF("perturbation_name", NC_CHAR, 2, db, dn, 0, "perturbation block");
    DEF("perturbation_dimension", NC_INT, 1, db, 0, 0, "stability dimension of the block");
    DEF("finding1_n", NC_INT, 1, db, 0, 0, "configurations with a margin (finding 1)");
    DEF("finding1_spearman", NC_DOUBLE, 1, db, 0, 0, "Spearman correlation of final performance and margin");
    DEF("finding1_spearman_low", NC_DOUBLE, 1, db, 0, 0, "bootstrap interval, lower end");
    DEF("finding1_spearman_high", NC_DOUBLE, 1, db, 0, 0, "bootstrap interval, upper end");
  }
  if (da >= 0) {
    DEF("stochasticity_axis", NC_CHAR, 2, da, dn, 0, "controlled-stochasticity sweep axis");
    DEF("finding2_margin_n", NC_INT, 2, da, db, 0, "configurations with a margin (finding 2)");
    DEF("finding2_margin_spearman", NC_DOUBLE, 2, da, db, 0, "Spearman correlation of margin and level");
    if (d->naxes > 1) PetscCall(SANCAttText(ncid, v, "comment", SA_F2_STRATA));
    DEF("finding2_margin_spearman_low", NC_DOUBLE, 2, da, db, 0, "bootstrap interval, lower end");
    DEF("finding2_margin_spearman_high", NC_DOUBLE, 2, da, db, 0, "bootstrap interval, upper end");
    DEF("finding2_collapse_n", NC_INT, 2, da, db, 0, "configurations with perturbed members (finding 2)");
    DEF("finding2_collapse_spearman", NC_DOUBLE, 2, da, db, 0,
        "Spearman correlation of collapse probability and level");
    if (d->naxes > 1) PetscCall(SANCAttText(ncid, v, "comment", SA_F2_STRATA));
    DEF("finding2_collapse_spearman_low", NC_DOUBLE, 2, da, db, 0, "bootstrap interval, lower end");
    DEF("finding2_collapse_spearman_high", NC_DOUBLE, 2, da, db, 0, "bootstrap interval, upper end");
  }
#undef DEF
  PetscCall(SANCAttText(ncid, NC_GLOBAL, "Conventions", SA_NC_CONVENTIONS));
  PetscCall(PetscSNPrintf(buf, sizeof(buf), "stability analysis of %s", d->title));
  PetscCall(SANCAttText(ncid, NC_GLOBAL, "title", buf));
  PetscCall(SANCAttText(ncid, NC_GLOBAL, "institution", "stabaudit user"));
  PetscCall(SANCAttText(ncid, NC_GLOBAL, "source", source));
  PetscCall(SANCAttText(ncid, NC_GLOBAL, "history", history));
  PetscCall(SANCAttText(ncid, NC_GLOBAL, "references", "stabaudit docs/analysis.md; DESIGN.md section 8"));
  PetscCall(
    SANCAttText(ncid, NC_GLOBAL, "comment", ms->note[0] ? ms->note : "analysis of results.nc in this directory"));
  PetscCall(SANCAttText(ncid, NC_GLOBAL, "sa_options", opts));
  PetscCall(PetscSNPrintf(
    buf, sizeof(buf),
    "delta %g window %" PetscInt_FMT " ftle_window %" PetscInt_FMT " level %g bootstrap %" PetscInt_FMT
    " margin_log %s variance %g components %" PetscInt_FMT " false_alarm %g consecutive %" PetscInt_FMT
    " horizon %" PetscInt_FMT " detector_window %" PetscInt_FMT " ridge %g seed %" PetscInt64_FMT,
    (double) o->delta, o->window, o->ftle_window, (double) o->level, o->nboot, o->margin_log ? "true" : "false",
    (double) o->varfrac, o->k, (double) o->alpha, o->m, o->horizon, o->det_window, (double) o->ridge, o->seed));
  PetscCall(SANCAttText(ncid, NC_GLOBAL, "sa_analysis_options", buf));
  SACallNC(nc_enddef, (ncid));

  /* rank 0: everything but the (member, step) blocks */
#define VID(name) (nc_inq_varid(ncid, name, &v) == NC_NOERR ? v : -1)
  for (PetscInt t = 0; t < R; t++) tmpi[t] = d->step[t];
  PetscCall(SAPutI(ncid, VID(SA_NC_STEP), R, tmpi, PETSC_MIN_INT, rank));
  for (PetscInt m = 0; m < M; m++) tmpi[m] = m;
  PetscCall(SAPutI(ncid, VID(SA_NC_MEMBER), M, tmpi, PETSC_MIN_INT, rank));
  for (PetscInt q = 0; q < D; q++) PetscCall(PetscStrncpy(names + q * SA_NAME, SADetectorNames[q], SA_NAME));
  PetscCall(SAPutText(ncid, VID("detector_name"), D, names, rank));
  PetscCall(SAPutI(ncid, VID("collapsed"), M, r->collapsed, 0, rank));
  PetscCall(SAPutI(ncid, VID("collapse_step"), M, r->cstep, 0, rank));
  for (PetscInt m = 0; m < M; m++) tmpi[m] = r->collapsed[m] ? r->irrev[m] : -1;
  PetscCall(SAPutI(ncid, VID("irreversible"), M, tmpi, 0, rank));
  PetscCall(SAPutI(ncid, VID("recovery_steps"), M, r->recov, 0, rank));
  PetscCall(SAPutD(ncid, VID("max_drawdown"), M, r->drawdown, rank));
  PetscCall(SAPutD(ncid, VID("twin_gap_area"), M, r->gap, rank));
  PetscCall(SAPutD(ncid, VID("final_performance"), M, d->final, rank));
  PetscCall(SAPutD(ncid, VID("ftle"), M, r->ftle, rank));
  PetscCall(SAPutD(ncid, VID("ftle_stderr"), M, r->ftle_se, rank));
  PetscCall(SAPutI(ncid, VID("baseline"), M, r->baseline, 0, rank));
  if (d->nlyap > 0 && !rank) {
    size_t  st[2] = {0, 0}, ct[2] = {(size_t) M, (size_t) d->nlyap};
    double *lb;
    PetscCall(PetscMalloc1(M * d->nlyap, &lb));
    for (PetscInt q = 0; q < M * d->nlyap; q++) lb[q] = SA_FILLD(d->lyap[q]);
    SACallNC(nc_put_vara_double, (ncid, VID("lyap_exponent"), st, ct, lb));
    PetscCall(PetscFree(lb));
  }
  if (!rank) {
    size_t st[2] = {0, 0}, ct[2] = {(size_t) M, (size_t) D};
    int   *wb, *lb;
    PetscCall(PetscMalloc2(M * D, &wb, M * D, &lb));
    for (PetscInt q = 0; q < M * D; q++) {
      PetscInt m = q / D, ws = r->warn[q];
      wb[q] = ws < 0 ? NC_FILL_INT : (int) ws;
      lb[q] = ws >= 0 && r->collapsed[m] && ws <= r->cstep[m] ? (int) (r->cstep[m] - ws) : NC_FILL_INT;
    }
    SACallNC(nc_put_vara_int, (ncid, VID("warning_step"), st, ct, wb));
    SACallNC(nc_put_vara_int, (ncid, VID("lead_time"), st, ct, lb));
    PetscCall(PetscFree2(wb, lb));
  }
  PetscCall(SAPutD(ncid, VID("warning_threshold"), D, ms->thr, rank));
  PetscCall(SAPutD(ncid, VID("precision"), D, ms->prec, rank));
  PetscCall(SAPutD(ncid, VID("recall"), D, ms->rec, rank));
  PetscCall(SAPutD(ncid, VID("auroc"), D, ms->auc, rank));
  PetscCall(SAPutI(ncid, VID("auroc_pairs"), D, ms->npairs, PETSC_MIN_INT, rank));
  PetscCall(SAPutD(ncid, VID("matched_concordance"), D, ms->mconc, rank));
  PetscCall(SAPutD(ncid, VID("matched_concordance_low"), D, ms->mlo, rank));
  PetscCall(SAPutD(ncid, VID("matched_concordance_high"), D, ms->mhi, rank));
  PetscCall(SAPutI(ncid, VID("matched_pairs"), D, ms->mpairs, PETSC_MIN_INT, rank));
  PetscCall(SAPutI(ncid, VID("matched_cells"), D, ms->mcells, PETSC_MIN_INT, rank));
  PetscCall(SAPutI(ncid, VID("n_warned"), D, ms->nwarn, PETSC_MIN_INT, rank));
  PetscCall(SAPutI(ncid, VID("n_true_positive"), D, ms->ntp, PETSC_MIN_INT, rank));
  PetscCall(SAPutD(ncid, VID("lead_time_median"), D, ms->lmed, rank));
  PetscCall(SAPutD(ncid, VID("lead_time_q25"), D, ms->lq1, rank));
  PetscCall(SAPutD(ncid, VID("lead_time_q75"), D, ms->lq3, rank));
  PetscCall(SAPutD(ncid, VID("false_alarm_rate"), D, ms->far, rank));
  PetscCall(SAPutText(ncid, VID("config_label"), d->C, d->clabel, rank));
  PetscCall(SAPutD(ncid, VID("config_final_median"), d->C, g->cfmed, rank));
  PetscCall(SAPutD(ncid, VID("config_final_iqr"), d->C, g->cfiqr, rank));
  PetscCall(SAPutD(ncid, VID("config_final_std"), d->C, g->cfstd, rank));
  PetscCall(SAPutD(ncid, VID("config_collapse_probability"), d->C, g->cpc, rank));
  if (k > 0) {
    PetscCall(PetscMemzero(names, SA_NAME * SA_MAXOBS));
    for (PetscInt j = 0; j < p; j++) PetscCall(PetscStrncpy(names + j * SA_NAME, d->obsname[ms->sel[j]], SA_NAME));
    PetscCall(SAPutText(ncid, VID("observable_name"), p, names, rank));
    PetscCall(SAPutD(ncid, VID("observable_mean"), p, ms->mean, rank));
    PetscCall(SAPutD(ncid, VID("observable_std"), p, ms->sd, rank));
    if (!rank) {
      size_t  st[2] = {0, 0}, ct[2] = {(size_t) p, (size_t) k};
      double *lb;
      PetscCall(PetscMalloc1(p * k, &lb));
      for (PetscInt i = 0; i < p; i++)
        for (PetscInt j = 0; j < k; j++) lb[i * k + j] = ms->V[j * p + i];
      SACallNC(nc_put_vara_double, (ncid, VID("loading"), st, ct, lb));
      PetscCall(PetscFree(lb));
    }
    PetscCall(SAPutD(ncid, VID("singular_value"), k, ms->sigma, rank));
    PetscCall(SAPutD(ncid, VID("explained_variance"), k, ms->explained, rank));
  }
  if (g->G > 0) {
    PetscCall(SAPutI(ncid, VID("group_config"), g->G, g->gcfg, PETSC_MIN_INT, rank));
    PetscCall(PetscMemzero(names, SA_NAME * g->G));
    for (PetscInt q = 0; q < g->G; q++) PetscCall(PetscStrncpy(names + q * SA_NAME, g->bname[g->gblock[q]], SA_NAME));
    PetscCall(SAPutText(ncid, VID("group_perturbation"), g->G, names, rank));
    PetscCall(SAPutI(ncid, VID("group_dimension"), g->G, g->gdim, PETSC_MIN_INT, rank));
    PetscCall(SAPutI(ncid, VID("group_members"), g->G, g->gn, PETSC_MIN_INT, rank));
    for (PetscInt q = 0; q < g->G; q++) tmpd[q] = g->margin[q].margin;
    PetscCall(SAPutD(ncid, VID("stability_margin"), g->G, tmpd, rank));
    for (PetscInt q = 0; q < g->G; q++) tmpd[q] = g->margin[q].low;
    PetscCall(SAPutD(ncid, VID("stability_margin_low"), g->G, tmpd, rank));
    for (PetscInt q = 0; q < g->G; q++) tmpd[q] = g->margin[q].high;
    PetscCall(SAPutD(ncid, VID("stability_margin_high"), g->G, tmpd, rank));
    for (PetscInt q = 0; q < g->G; q++) tmpi[q] = g->margin[q].status;
    PetscCall(SAPutI(ncid, VID("margin_status"), g->G, tmpi, PETSC_MIN_INT, rank));
    for (PetscInt q = 0; q < g->G; q++) tmpi[q] = g->margin[q].logscale ? 1 : 0;
    PetscCall(SAPutI(ncid, VID("margin_log_scale"), g->G, tmpi, PETSC_MIN_INT, rank));
    for (PetscInt q = 0; q < g->G; q++) tmpd[q] = g->margin[q].b;
    PetscCall(SAPutD(ncid, VID("margin_slope"), g->G, tmpd, rank));
    PetscCall(SAPutD(ncid, VID("group_final_median"), g->G, g->gmed, rank));
    PetscCall(SAPutD(ncid, VID("group_final_iqr"), g->G, g->giqr, rank));
    PetscCall(SAPutD(ncid, VID("group_final_std"), g->G, g->gstd, rank));
  }
  if (g->ncell > 0) {
    PetscCall(SAPutI(ncid, VID("cell_group"), g->ncell, g->cgroup, PETSC_MIN_INT, rank));
    PetscCall(SAPutD(ncid, VID("cell_magnitude"), g->ncell, g->cmag, rank));
    PetscCall(SAPutI(ncid, VID("cell_members"), g->ncell, g->cn, PETSC_MIN_INT, rank));
    PetscCall(SAPutI(ncid, VID("cell_collapsed"), g->ncell, g->ck, PETSC_MIN_INT, rank));
    PetscCall(SAPutD(ncid, VID("collapse_probability"), g->ncell, g->cp, rank));
    PetscCall(SAPutD(ncid, VID("collapse_probability_low"), g->ncell, g->clo, rank));
    PetscCall(SAPutD(ncid, VID("collapse_probability_high"), g->ncell, g->chi, rank));
  }
  if (g->B > 0) {
    PetscCall(PetscMemzero(names, SA_NAME * g->B));
    for (PetscInt b = 0; b < g->B; b++) PetscCall(PetscStrncpy(names + b * SA_NAME, g->bname[b], SA_NAME));
    PetscCall(SAPutText(ncid, VID("perturbation_name"), g->B, names, rank));
    PetscCall(SAPutI(ncid, VID("perturbation_dimension"), g->B, g->bdim, PETSC_MIN_INT, rank));
    for (PetscInt c = 0; c < 4; c++) {
      const char *nm[4] = {"finding1_n", "finding1_spearman", "finding1_spearman_low", "finding1_spearman_high"};
      for (PetscInt b = 0; b < g->B; b++) tmpd[b] = f->f1[4 * b + c];
      if (!c) {
        for (PetscInt b = 0; b < g->B; b++) tmpi[b] = (PetscInt) tmpd[b];
        PetscCall(SAPutI(ncid, VID(nm[c]), g->B, tmpi, PETSC_MIN_INT, rank));
      } else PetscCall(SAPutD(ncid, VID(nm[c]), g->B, tmpd, rank));
    }
  }
  if (da >= 0) {
    const char *nm[8] = {"finding2_margin_n",
                         "finding2_margin_spearman",
                         "finding2_margin_spearman_low",
                         "finding2_margin_spearman_high",
                         "finding2_collapse_n",
                         "finding2_collapse_spearman",
                         "finding2_collapse_spearman_low",
                         "finding2_collapse_spearman_high"};
    PetscCall(PetscMemzero(names, SA_NAME * f->A));
    for (PetscInt a = 0; a < f->A; a++) PetscCall(PetscStrncpy(names + a * SA_NAME, d->axname[f->axis[a]], SA_NAME));
    PetscCall(SAPutText(ncid, VID("stochasticity_axis"), f->A, names, rank));
    for (PetscInt c = 0; c < 8; c++) {
      const PetscReal *src = c < 4 ? f->f2m : f->f2c;
      if (rank) continue;
      size_t st[2] = {0, 0}, ct[2] = {(size_t) f->A, (size_t) g->B};
      if (c % 4 == 0) {
        int ib[SA_MAXAXES * 64];
        for (PetscInt q = 0; q < f->A * g->B; q++) ib[q] = (int) src[4 * q];
        SACallNC(nc_put_vara_int, (ncid, VID(nm[c]), st, ct, ib));
      } else {
        double db2[SA_MAXAXES * 64];
        for (PetscInt q = 0; q < f->A * g->B; q++) db2[q] = SA_FILLD(src[4 * q + c % 4]);
        SACallNC(nc_put_vara_double, (ncid, VID(nm[c]), st, ct, db2));
      }
    }
  }
  /* every rank: its block of (member, step) variables */
  {
    size_t  st[3] = {(size_t) d->m0, 0, 0}, ct[3] = {(size_t) d->nb, (size_t) R, (size_t) D};
    double *b;
    PetscCall(PetscMalloc1(d->nb * R * PetscMax(D, k) + 1, &b));
    for (PetscInt q = 0; q < d->nb * R * D; q++) b[q] = SA_FILLD(ms->sc[q]);
    if (d->nb) SACallNC(nc_put_vara_double, (ncid, VID("warning_score"), st, ct, b));
    for (PetscInt q = 0; q < d->nb * R; q++) b[q] = SA_FILLD(ms->sc[q * D]);
    if (d->nb) SACallNC(nc_put_vara_double, (ncid, VID("deviation"), st, ct, b));
    if (k > 0) {
      ct[2] = (size_t) k;
      for (PetscInt q = 0; q < d->nb * R * k; q++) b[q] = SA_FILLD(ms->lat[q]);
      if (d->nb) SACallNC(nc_put_vara_double, (ncid, VID("latent_state"), st, ct, b));
    }
    PetscCall(PetscFree(b));
  }
#undef VID
  SACallNC(nc_close, (ncid));
  PetscCall(PetscFree(opts));
  PetscCall(PetscFree(names));
  PetscCall(PetscFree2(tmpd, tmpi));
  PetscCall(SAFileCommit(comm, tmp, path));
  PetscFunctionReturn(PETSC_SUCCESS);
}
