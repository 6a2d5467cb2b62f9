/*
  analyze.c - `stabaudit analyze DIR`: reads DIR/results.nc (members distributed over the ranks in
  contiguous blocks), runs the stability analysis and writes DIR/analysis.nc (netCDF-4, CF-1.13, written as
  analysis.nc.tmp and renamed). results.nc is opened read-only. Schema and options: docs/analysis.md.
  M = members, R = records, C = configurations, O = observables in results.nc, p = observables of the
  meta-states, k = components, G = (configuration, perturbation) groups, B = perturbation blocks,
  D = detectors.
*/
#include <stabaudit/saanalysis.h>
#include <stabaudit/saio.h>
#include <netcdf_par.h>
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#define SA_NAME         SA_NC_NAME_LEN
#define SA_MAXOBS       128
#define SA_MAXAXES      16
#define SA_FILLD(x)     (PetscIsInfOrNanReal(x) ? NC_FILL_DOUBLE : (double) (x))
#define SA_ISFILL(x)    ((x) >= 9.0e36 || (x) <= -9.0e36)
#define SA_ISFILLINT(i) ((i) == NC_FILL_INT)

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

/* the campaign as read from results.nc: metadata on every rank, series of the local block */
typedef struct {
  PetscInt  M, R, C, O, m0, nb, naxes, iperf, iloss, itd, ilr, stoch[SA_MAXAXES], nlyap;
  double   *lyap; /* lyap_exponent(member, lyap) of results.nc when the campaign computed it, else NULL */
  PetscInt *step;
  int      *config, *dim, *onset, *twin, *reason, *divstep;
  double   *mag, *final, *perf, *axval, *obs; /* perf: M x R; obs: O x nb x R (local) */
  char     *pert, *clabel, (*obsname)[SA_NAME], (*axname)[SA_NAME], title[256];
} SACampaignData;

static PetscErrorCode SAReadVar(int ncid, const char path[], const char name[], nc_type type, void *buf,
                                const size_t *start, const size_t *count)
{
  int vid, st;

  PetscFunctionBeginUser;
  st = nc_inq_varid(ncid, name, &vid);
  PetscCheck(st == NC_NOERR, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED,
             "%s has no variable '%s' (not a stabaudit results.nc? see docs/output-schema.md)", path, name);
  if (type == NC_INT) SACallNC(nc_get_vara_int, (ncid, vid, start, count, (int *) buf));
  else if (type == NC_DOUBLE) SACallNC(nc_get_vara_double, (ncid, vid, start, count, (double *) buf));
  else SACallNC(nc_get_vara_text, (ncid, vid, start, count, (char *) buf));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SACampaignDataRead(MPI_Comm comm, const char path[], SACampaignData *d)
{
  int         ncid, nvars, dmem, dstep, dcfg;
  size_t      len, start[2] = {0, 0}, count[2];
  PetscMPIInt rank, size;
  int        *ibuf;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscMemzero(d, sizeof(*d)));
  PetscCheck(!access(path, R_OK), comm, PETSC_ERR_USER_INPUT,
             "stabaudit analyze: cannot read %s (%s); run 'stabaudit run DECK -o DIR' to completion first", path,
             strerror(errno));
  SACallNC(nc_open_par, (path, NC_NOWRITE, comm, MPI_INFO_NULL, &ncid));
  SACallNC(nc_inq_dimid, (ncid, SA_NC_DIM_MEMBER, &dmem));
  SACallNC(nc_inq_dimid, (ncid, SA_NC_DIM_STEP, &dstep));
  SACallNC(nc_inq_dimid, (ncid, SA_NC_DIM_CONFIG, &dcfg));
  SACallNC(nc_inq_dimlen, (ncid, dmem, &len));
  d->M = (PetscInt) len;
  SACallNC(nc_inq_dimlen, (ncid, dstep, &len));
  d->R = (PetscInt) len;
  SACallNC(nc_inq_dimlen, (ncid, dcfg, &len));
  d->C  = (PetscInt) len;
  d->m0 = d->M * rank / size;
  d->nb = d->M * (rank + 1) / size - d->m0;
  if (nc_get_att_text(ncid, NC_GLOBAL, "title", d->title) == NC_NOERR) {
    SACallNC(nc_inq_attlen, (ncid, NC_GLOBAL, "title", &len));
    d->title[PetscMin(len, sizeof(d->title) - 1)] = 0;
  }
  PetscCall(PetscMalloc1(d->R, &d->step));
  PetscCall(PetscMalloc1(d->R, &ibuf));
  count[0] = (size_t) d->R;
  PetscCall(SAReadVar(ncid, path, SA_NC_STEP, NC_INT, ibuf, start, count));
  for (PetscInt k = 0; k < d->R; k++) d->step[k] = ibuf[k];
  PetscCall(PetscFree(ibuf));
  PetscCall(PetscMalloc6(d->M, &d->config, d->M, &d->dim, d->M, &d->onset, d->M, &d->twin, d->M, &d->reason, d->M,
                         &d->divstep));
  PetscCall(PetscMalloc3(d->M, &d->mag, d->M, &d->final, d->M * d->R, &d->perf));
  PetscCall(PetscCalloc1(d->M * SA_NAME + 1, &d->pert));
  PetscCall(PetscCalloc1(d->C * SA_NAME + 1, &d->clabel));
  count[0] = (size_t) d->M;
  count[1] = SA_NAME;
  PetscCall(SAReadVar(ncid, path, SA_NC_CONFIG, NC_INT, d->config, start, count));
  PetscCall(SAReadVar(ncid, path, SA_NC_DIMENSION, NC_INT, d->dim, start, count));
  PetscCall(SAReadVar(ncid, path, SA_NC_ONSET, NC_INT, d->onset, start, count));
  PetscCall(SAReadVar(ncid, path, SA_NC_TWIN, NC_INT, d->twin, start, count));
  PetscCall(SAReadVar(ncid, path, SA_NC_REASON, NC_INT, d->reason, start, count));
  PetscCall(SAReadVar(ncid, path, SA_NC_DIVSTEP, NC_INT, d->divstep, start, count));
  PetscCall(SAReadVar(ncid, path, SA_NC_MAGNITUDE, NC_DOUBLE, d->mag, start, count));
  PetscCall(SAReadVar(ncid, path, SA_NC_FINALPERF, NC_DOUBLE, d->final, start, count));
  PetscCall(SAReadVar(ncid, path, SA_NC_PERTURB, NC_CHAR, d->pert, start, count));
  count[0] = (size_t) d->C;
  PetscCall(SAReadVar(ncid, path, SA_NC_CONFIGLABEL, NC_CHAR, d->clabel, start, count));
  for (PetscInt i = 0; i < d->M; i++) d->pert[i * SA_NAME + SA_NAME - 1] = 0;
  for (PetscInt i = 0; i < d->C; i++) d->clabel[i * SA_NAME + SA_NAME - 1] = 0;
  count[0] = (size_t) d->M;
  count[1] = (size_t) d->R;
  PetscCall(SAReadVar(ncid, path, "performance", NC_DOUBLE, d->perf, start, count));
  for (PetscInt i = 0; i < d->M * d->R; i++)
    if (SA_ISFILL(d->perf[i])) d->perf[i] = NAN;

  /* configuration axes and (member, step) observables, found by their dimensions */
  SACallNC(nc_inq_nvars, (ncid, &nvars));
  PetscCall(PetscMalloc2(SA_MAXOBS, &d->obsname, SA_MAXAXES, &d->axname));
  PetscCall(PetscMalloc1(SA_MAXAXES * d->C + 1, &d->axval));
  d->iperf = d->iloss = d->itd = d->ilr = -1;
  for (int v = 0; v < nvars; v++) {
    char    name[NC_MAX_NAME + 1];
    int     nd, dims[NC_MAX_VAR_DIMS];
    nc_type t;

    SACallNC(nc_inq_var, (ncid, v, name, &t, &nd, dims, NULL));
    if (t != NC_DOUBLE) continue;
    if (nd == 1 && dims[0] == dcfg && !strncmp(name, "config_", 7) && d->naxes < SA_MAXAXES) {
      char   ln[256] = "";
      size_t ll      = 0;

      PetscCall(PetscStrncpy(d->axname[d->naxes], name + 7, SA_NAME));
      if (nc_inq_attlen(ncid, v, "long_name", &ll) == NC_NOERR && ll < sizeof(ln)) {
        SACallNC(nc_get_att_text, (ncid, v, "long_name", ln));
        ln[ll] = 0;
      }
      /* a controlled-stochasticity axis: says so in its long_name (docs/output-schema.md), or by name */
      d->stoch[d->naxes] = strstr(ln, "stochasticity") || !strcmp(name, "config_noise") ||
                           !strcmp(name, "config_dropout") || !strcmp(name, "config_batch");
      start[0] = 0;
      count[0] = (size_t) d->C;
      SACallNC(nc_get_vara_double, (ncid, v, start, count, d->axval + d->naxes * d->C));
      d->naxes++;
    } else if (nd == 2 && dims[0] == dmem && dims[1] == dstep) {
      PetscCheck(d->O < SA_MAXOBS, comm, PETSC_ERR_SUP, "More than %d observables in %s", SA_MAXOBS, path);
      PetscCall(PetscStrncpy(d->obsname[d->O], name, SA_NAME));
      if (!strcmp(name, "performance")) d->iperf = d->O;
      if (!strcmp(name, "loss")) d->iloss = d->O;
      if (!strcmp(name, "twin_distance")) d->itd = d->O;
      if (!strcmp(name, "lr")) d->ilr = d->O;
      d->O++;
    }
  }
  PetscCheck(d->iperf >= 0 && d->iloss >= 0, comm, PETSC_ERR_FILE_UNEXPECTED,
             "%s lacks the per-step 'performance' or 'loss' variable", path);
  PetscCall(PetscMalloc1(d->O * d->nb * d->R + 1, &d->obs));
  start[0] = (size_t) d->m0;
  start[1] = 0;
  count[0] = (size_t) d->nb;
  count[1] = (size_t) d->R;
  for (PetscInt o = 0; o < d->O; o++) {
    int vid;
    SACallNC(nc_inq_varid, (ncid, d->obsname[o], &vid));
    SACallNC(nc_get_vara_double, (ncid, vid, start, count, d->obs + o * d->nb * d->R));
  }
  for (PetscInt i = 0; i < d->O * d->nb * d->R; i++)
    if (SA_ISFILL(d->obs[i])) d->obs[i] = NAN;
  for (PetscInt i = 0; i < d->M; i++) {
    if (SA_ISFILL(d->mag[i])) d->mag[i] = NAN;
    if (SA_ISFILL(d->final[i])) d->final[i] = NAN;
  }
  /* the Lyapunov spectrum computed during training (SALyap), copied to analysis.nc */
  {
    int    vid, nd, dims[NC_MAX_VAR_DIMS];
    size_t k;
    if (nc_inq_varid(ncid, "lyap_exponent", &vid) == NC_NOERR) {
      SACallNC(nc_inq_var, (ncid, vid, NULL, NULL, &nd, dims, NULL));
      PetscCheck(nd == 2 && dims[0] == dmem, comm, PETSC_ERR_FILE_UNEXPECTED,
                 "%s: lyap_exponent must have dimensions (member, lyap)", path);
      SACallNC(nc_inq_dimlen, (ncid, dims[1], &k));
      d->nlyap = (PetscInt) k;
      PetscCall(PetscMalloc1(d->M * d->nlyap + 1, &d->lyap));
      start[0] = start[1] = 0;
      count[0]            = (size_t) d->M;
      count[1]            = k;
      SACallNC(nc_get_vara_double, (ncid, vid, start, count, d->lyap));
      for (PetscInt i = 0; i < d->M * d->nlyap; i++)
        if (SA_ISFILL(d->lyap[i])) d->lyap[i] = NAN;
    }
  }
  SACallNC(nc_close, (ncid));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SACampaignDataDestroy(SACampaignData *d)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(d->step));
  PetscCall(PetscFree6(d->config, d->dim, d->onset, d->twin, d->reason, d->divstep));
  PetscCall(PetscFree3(d->mag, d->final, d->perf));
  PetscCall(PetscFree(d->pert));
  PetscCall(PetscFree(d->clabel));
  PetscCall(PetscFree2(d->obsname, d->axname));
  PetscCall(PetscFree(d->axval));
  PetscCall(PetscFree(d->obs));
  PetscCall(PetscFree(d->lyap));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* series of local member i, observable o */
#define OBS(d, o, i) ((d)->obs + ((o) * (d)->nb + (i)) * (d)->R)

/* per-member results, complete on every rank after SAMemberReduce */
typedef struct {
  PetscInt  *collapsed, *cstep, *irrev, *recov, *baseline, *warn; /* warn: M x D */
  PetscReal *drawdown, *gap, *ftle, *ftle_se;
} SAMemberData;

static PetscReal SAMedianOf(PetscInt n, const PetscReal v[])
{
  PetscReal q = NAN;
  if (n > 0) SAQuantile(n, v, 0.5, &q);
  return q;
}

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

static void SADispersion(PetscInt n, const PetscReal v[], PetscReal *med, PetscReal *iqr, PetscReal *sd)
{
  PetscReal q1 = NAN, q3 = NAN, m = 0, s = 0;
  PetscInt  c = 0;

  *med = *iqr = *sd = NAN;
  if (!n) return;
  SAQuantile(n, v, 0.5, med);
  SAQuantile(n, v, 0.25, &q1);
  SAQuantile(n, v, 0.75, &q3);
  *iqr = q3 - q1;
  for (PetscInt i = 0; i < n; i++)
    if (!PetscIsNanReal(v[i])) {
      m += v[i];
      c++;
    }
  if (c < 2) return;
  m /= c;
  for (PetscInt i = 0; i < n; i++)
    if (!PetscIsNanReal(v[i])) s += (v[i] - m) * (v[i] - m);
  *sd = PetscSqrtReal(s / (c - 1));
}

static PetscErrorCode SAGroupsBuild(const SACampaignData *d, const SAMemberData *r, const SAAnalysisOptions *o,
                                    SAGroups *g)
{
  PetscReal *x, *y, z = SANormalQuantile(1 - (1 - o->level) / 2);
  PetscInt  *mlist;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(g, sizeof(*g)));
  PetscCall(PetscMalloc2(d->M + 1, &g->bname, d->M + 1, &g->bdim));
  for (PetscInt i = 0; i < d->M; i++) {
    PetscInt b;
    if (d->twin[i] < 0) continue;
    for (b = 0; b < g->B; b++)
      if (!strcmp(g->bname[b], d->pert + i * SA_NAME)) break;
    if (b == g->B) {
      PetscCall(PetscStrncpy(g->bname[b], d->pert + i * SA_NAME, SA_NAME));
      g->bdim[b] = d->dim[i];
      g->B++;
    }
  }
  g->G = g->B * d->C;
  PetscCall(PetscMalloc4(g->G + 1, &g->gcfg, g->G + 1, &g->gblock, g->G + 1, &g->gdim, g->G + 1, &g->gn));
  PetscCall(PetscMalloc4(g->G + 1, &g->margin, g->G + 1, &g->gmed, g->G + 1, &g->giqr, g->G + 1, &g->gstd));
  PetscCall(PetscMalloc4(d->M + 1, &g->cgroup, d->M + 1, &g->cn, d->M + 1, &g->ck, d->M + 1, &g->cmag));
  PetscCall(PetscMalloc3(d->M + 1, &g->cp, d->M + 1, &g->clo, d->M + 1, &g->chi));
  PetscCall(PetscMalloc4(d->C + 1, &g->cfmed, d->C + 1, &g->cfiqr, d->C + 1, &g->cfstd, d->C + 1, &g->cpc));
  PetscCall(PetscMalloc3(d->M + 1, &x, d->M + 1, &y, d->M + 1, &mlist));
  for (PetscInt c = 0; c < d->C; c++) {
    PetscInt n = 0, nc = 0, np = 0;
    for (PetscInt i = 0; i < d->M; i++)
      if (d->config[i] == c && d->twin[i] < 0) x[n++] = d->final[i];
    SADispersion(n, x, &g->cfmed[c], &g->cfiqr[c], &g->cfstd[c]);
    for (PetscInt i = 0; i < d->M; i++)
      if (d->config[i] == c && d->twin[i] >= 0) {
        np++;
        nc += r->collapsed[i] ? 1 : 0;
      }
    g->cpc[c] = np ? (PetscReal) nc / np : NAN;
  }
  for (PetscInt c = 0; c < d->C; c++)
    for (PetscInt b = 0; b < g->B; b++) {
      PetscInt gi = c * g->B + b, n = 0;
      SAStream s;

      g->gcfg[gi]   = c;
      g->gblock[gi] = b;
      g->gdim[gi]   = g->bdim[b];
      for (PetscInt i = 0; i < d->M; i++)
        if (d->config[i] == c && d->twin[i] >= 0 && !strcmp(d->pert + i * SA_NAME, g->bname[b])) {
          mlist[n] = i;
          x[n]     = d->mag[i];
          y[n]     = r->collapsed[i] ? 1 : 0;
          n++;
        }
      g->gn[gi] = n;
      PetscCall(SAStreamCreate(o->seed, gi, SA_STREAM_ANALYSIS, &s));
      PetscCall(SAMarginEstimate(n, x, y, o->margin_log, o->nboot, o->level, &s, &g->margin[gi]));
      {
        PetscReal *f;
        PetscCall(PetscMalloc1(n + 1, &f));
        for (PetscInt j = 0; j < n; j++) f[j] = d->final[mlist[j]];
        SADispersion(n, f, &g->gmed[gi], &g->giqr[gi], &g->gstd[gi]);
        PetscCall(PetscFree(f));
      }
      /* cells: distinct magnitudes in increasing order */
      for (PetscInt j = 0; j < n; j++) {
        PetscBool seen = PETSC_FALSE;
        PetscReal mg   = x[j];
        for (PetscInt l = 0; l < j; l++)
          if (x[l] == mg) seen = PETSC_TRUE;
        if (seen) continue;
        PetscInt cc = g->ncell++, kk = 0, nn = 0;
        for (PetscInt l = 0; l < n; l++)
          if (x[l] == mg) {
            nn++;
            kk += y[l] > 0.5;
          }
        g->cgroup[cc] = gi;
        g->cmag[cc]   = mg;
        g->cn[cc]     = nn;
        g->ck[cc]     = kk;
        g->cp[cc]     = (PetscReal) kk / nn;
        PetscCall(SAWilsonInterval(kk, nn, z, &g->clo[cc], &g->chi[cc]));
      }
    }
  PetscCall(PetscFree3(x, y, mlist));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAGroupsDestroy(SAGroups *g)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree2(g->bname, g->bdim));
  PetscCall(PetscFree4(g->gcfg, g->gblock, g->gdim, g->gn));
  PetscCall(PetscFree4(g->margin, g->gmed, g->giqr, g->gstd));
  PetscCall(PetscFree4(g->cgroup, g->cn, g->ck, g->cmag));
  PetscCall(PetscFree3(g->cp, g->clo, g->chi));
  PetscCall(PetscFree4(g->cfmed, g->cfiqr, g->cfstd, g->cpc));
  PetscFunctionReturn(PETSC_SUCCESS);
}

#define SA_D SA_ANALYSIS_NDETECTORS

/* meta-states, detector scores, thresholds and scores of the warnings */
typedef struct {
  PetscInt   p, k, sel[SA_MAXOBS], nbase;
  PetscReal  mean[SA_MAXOBS], sd[SA_MAXOBS], sigma[SA_MAXOBS], V[SA_MAXOBS * SA_MAXOBS], explained[SA_MAXOBS];
  PetscReal *lat, *sc; /* local: nb x R x k, nb x R x D (detector 0 = deviation) */
  PetscReal  thr[SA_D], prec[SA_D], rec[SA_D], auc[SA_D], far[SA_D], lmed[SA_D], lq1[SA_D], lq3[SA_D];
  PetscInt   npairs[SA_D], nwarn[SA_D], ntp[SA_D], ncoll;
  PetscReal  mconc[SA_D], mlo[SA_D], mhi[SA_D]; /* matched-dose concordance and interval (SAMatchedConcordance) */
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

/*
  Matched-dose concordance of each detector: over every pair (i, j) of perturbed members of one cell (configuration,
  block, magnitude: the same dose) where i collapses and j does not, the fraction in which i was warned strictly
  earlier (1), at the same record or neither (1/2), later (0). A warning of i after its collapse counts as none (as
  in precision and recall); no warning is later than any warning. 0.5: the detector does not tell which of equally
  perturbed members will collapse; NaN without such pairs. Its interval is a percentile bootstrap over the cells that
  have pairs (resampled with replacement: the pairs of one cell share members). Every rank computes it from the
  reduced member arrays and the same stream.
*/
static PetscErrorCode SAMatchedConcordance(const SACampaignData *d, const SAMemberData *r, const SAGroups *g,
                                           const SAAnalysisOptions *o, SAMetaData *ms)
{
  PetscInt  *ml, *rep, *cpairs, K = 0; /* cells with pairs (group, magnitude): the same for every detector */
  PetscReal *csum, *boot;              /* csum: K x SA_D */

  PetscFunctionBeginUser;
  PetscCall(
    PetscMalloc5(d->M + 1, &ml, d->M + 1, &rep, d->M + 1, &cpairs, SA_D * (d->M + 1), &csum, o->nboot + 1, &boot));
  for (PetscInt gi = 0; gi < g->G; gi++) {
    PetscInt n = 0;
    for (PetscInt i = 0; i < d->M; i++)
      if (d->config[i] == g->gcfg[gi] && d->twin[i] >= 0 && !strcmp(d->pert + i * SA_NAME, g->bname[g->gblock[gi]]))
        ml[n++] = i;
    for (PetscInt a = 0; a < n; a++) rep[a] = -1;
    for (PetscInt a = 0; a < n; a++) {
      PetscInt i = ml[a], a0 = 0, k;
      if (!r->collapsed[i]) continue;
      for (PetscInt det = 0; det < SA_D; det++) {
        PetscInt  wi = r->warn[i * SA_D + det], pi = 0;
        PetscReal si = 0;
        if (wi > r->cstep[i]) wi = -1; /* after the collapse: not a warning */
        for (PetscInt b = 0; b < n; b++) {
          PetscInt j = ml[b], wj = r->warn[j * SA_D + det];
          if (r->collapsed[j] || d->mag[j] != d->mag[i]) continue;
          if (wi == wj) si += 0.5;
          else if (wi >= 0 && (wj < 0 || wi < wj)) si += 1;
          pi++;
        }
        if (!pi) break; /* no survivor at this dose */
        if (!det) {
          while (d->mag[ml[a0]] != d->mag[i]) a0++; /* the cell's first member */
          if (rep[a0] < 0) {
            rep[a0]   = K;
            cpairs[K] = 0;
            for (PetscInt q = 0; q < SA_D; q++) csum[K * SA_D + q] = 0;
            K++;
          }
          cpairs[rep[a0]] += pi;
        }
        k = rep[a0];
        csum[k * SA_D + det] += si;
      }
    }
  }
  for (PetscInt det = 0; det < SA_D; det++) {
    PetscReal sum = 0;
    PetscInt  np = 0, nr = 0;
    SAStream  s;

    for (PetscInt k = 0; k < K; k++) {
      sum += csum[k * SA_D + det];
      np += cpairs[k];
    }
    ms->mpairs[det] = np;
    ms->mcells[det] = K;
    ms->mconc[det]  = np ? sum / np : NAN;
    ms->mlo[det] = ms->mhi[det] = NAN;
    /* interval: cells resampled with replacement (pairs of one cell share members, so the cell is the unit) */
    PetscCall(SAStreamCreate(o->seed, 400000 + det, SA_STREAM_ANALYSIS, &s));
    for (PetscInt rr = 0; K > 1 && rr < o->nboot; rr++) {
      PetscReal bs = 0;
      PetscInt  bp = 0;
      for (PetscInt q = 0; q < K; q++) {
        PetscInt64 k;
        PetscCall(SAStreamInteger(&s, rr, q, 0, K - 1, &k));
        bs += csum[k * SA_D + det];
        bp += cpairs[k];
      }
      boot[nr++] = bs / bp;
    }
    if (nr >= 2) {
      PetscCall(SAQuantile(nr, boot, (1 - o->level) / 2, &ms->mlo[det]));
      PetscCall(SAQuantile(nr, boot, 1 - (1 - o->level) / 2, &ms->mhi[det]));
    }
  }
  PetscCall(PetscFree5(ml, rep, cpairs, csum, boot));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAMemberAnalyze(const SACampaignData *d, const SAAnalysisOptions *o, SAMemberData *r)
{
  PetscInt M = d->M;

  PetscFunctionBeginUser;
  PetscCall(
    PetscCalloc6(M, &r->collapsed, M, &r->cstep, M, &r->irrev, M, &r->recov, M, &r->baseline, M * SA_D, &r->warn));
  PetscCall(PetscCalloc4(M, &r->drawdown, M, &r->gap, M, &r->ftle, M, &r->ftle_se));
  for (PetscInt i = 0; i < d->nb; i++) {
    PetscInt         m = d->m0 + i, npts;
    SACollapseResult cr;

    PetscCall(SACollapseDetect(d->R, d->step, OBS(d, d->iperf, i), OBS(d, d->iloss, i),
                               SA_ISFILLINT(d->divstep[m]) ? -1 : d->divstep[m], o->delta, o->window, &cr));
    r->collapsed[m] = cr.collapsed;
    r->cstep[m]     = cr.collapse_step;
    r->irrev[m]     = cr.irreversible;
    r->recov[m]     = cr.recovery_steps;
    r->drawdown[m]  = cr.max_drawdown;
    r->gap[m] = r->ftle[m] = r->ftle_se[m] = NAN;
    if (d->twin[m] >= 0) {
      PetscCall(
        SATwinGapArea(d->R, d->step, OBS(d, d->iperf, i), d->perf + d->twin[m] * d->R, d->onset[m], &r->gap[m]));
      if (d->itd >= 0) {
        PetscInt t1 = o->ftle_window > 0 ? d->onset[m] + o->ftle_window : d->step[d->R - 1];
        PetscCall(SAFTLEFit(d->R, d->step, OBS(d, d->itd, i), d->onset[m], t1, &r->ftle[m], &r->ftle_se[m], &npts));
      }
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAMemberReduceInt(MPI_Comm comm, PetscInt n, PetscInt v[])
{
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, v, (PetscMPIInt) n, MPIU_INT, MPI_SUM, comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAMemberReduceReal(MPI_Comm comm, PetscInt n, PetscReal v[])
{
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, v, (PetscMPIInt) n, MPIU_REAL, MPI_SUM, comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* every member's scalars on every rank: each rank filled its block, the others are 0 */
static PetscErrorCode SAMemberReduce(MPI_Comm comm, const SACampaignData *d, SAMemberData *r)
{
  PetscInt M = d->M;

  PetscFunctionBeginUser;
  PetscCall(SAMemberReduceInt(comm, M, r->collapsed));
  PetscCall(SAMemberReduceInt(comm, M, r->cstep));
  PetscCall(SAMemberReduceInt(comm, M, r->irrev));
  PetscCall(SAMemberReduceInt(comm, M, r->recov));
  PetscCall(SAMemberReduceReal(comm, M, r->drawdown));
  PetscCall(SAMemberReduceReal(comm, M, r->gap));
  PetscCall(SAMemberReduceReal(comm, M, r->ftle));
  PetscCall(SAMemberReduceReal(comm, M, r->ftle_se));
  /* the baseline ensemble: twins that did not collapse */
  for (PetscInt m = 0; m < M; m++) r->baseline[m] = d->twin[m] < 0 && !r->collapsed[m];
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAMemberDataDestroy(SAMemberData *r)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree6(r->collapsed, r->cstep, r->irrev, r->recov, r->baseline, r->warn));
  PetscCall(PetscFree4(r->drawdown, r->gap, r->ftle, r->ftle_se));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* standardisation, SVD, latent states and the Mahalanobis deviation (detector 0) */
static PetscErrorCode SAMetaStates(MPI_Comm comm, const SACampaignData *d, const SAMemberData *r,
                                   const SAAnalysisOptions *o, SAMetaData *ms)
{
  PetscInt   R = d->R, nb = d->nb, C = d->C, p, k, nrow              = 0, nrowall;
  PetscReal  st[3 * SA_MAXOBS], *X, *sum, *cnt, cov[64 * 64], ccount = 0, tr = 0;
  PetscBool *rowok;

  PetscFunctionBeginUser;
  ms->k = 0;
  for (PetscInt i = 0; i < nb * R; i++) ms->sc[i * SA_D] = NAN;
  /* twin statistics of each candidate observable (twin_distance and lr excluded) */
  PetscCall(PetscMemzero(st, sizeof(st)));
  for (PetscInt i = 0; i < nb; i++) {
    if (!r->baseline[d->m0 + i]) continue;
    for (PetscInt o2 = 0; o2 < d->O; o2++)
      for (PetscInt t = 0; t < R; t++) {
        PetscReal v = OBS(d, o2, i)[t];
        if (PetscIsInfOrNanReal(v)) continue;
        st[3 * o2] += 1;
        st[3 * o2 + 1] += v;
        st[3 * o2 + 2] += v * v;
      }
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, st, (PetscMPIInt) (3 * d->O), MPIU_REAL, MPI_SUM, comm));
  p = 0;
  for (PetscInt o2 = 0; o2 < d->O; o2++) {
    PetscReal n = st[3 * o2], mu, var;
    if (o2 == d->itd || o2 == d->ilr || n < 2) continue;
    mu  = st[3 * o2 + 1] / n;
    var = (st[3 * o2 + 2] - n * mu * mu) / (n - 1);
    if (!(var > 1e-24 * (1 + mu * mu))) continue; /* constant on the baseline: carries no state */
    ms->sel[p]  = o2;
    ms->mean[p] = mu;
    ms->sd[p]   = PetscSqrtReal(var);
    p++;
  }
  ms->p = p;
  PetscCall(PetscMalloc2(nb * R * (p + 1) + 1, &X, nb * R + 1, &rowok));
  for (PetscInt i = 0; i < nb; i++)
    for (PetscInt t = 0; t < R; t++) {
      PetscBool ok = PETSC_TRUE;
      for (PetscInt j = 0; j < p; j++)
        if (PetscIsInfOrNanReal(OBS(d, ms->sel[j], i)[t])) ok = PETSC_FALSE;
      rowok[i * R + t] = ok;
      if (ok && r->baseline[d->m0 + i]) {
        for (PetscInt j = 0; j < p; j++) X[nrow * p + j] = (OBS(d, ms->sel[j], i)[t] - ms->mean[j]) / ms->sd[j];
        nrow++;
      }
    }
  PetscCallMPI(MPI_Allreduce(&nrow, &nrowall, 1, MPIU_INT, MPI_SUM, comm));
  if (p < 1 || nrowall < p + 2) {
    PetscCall(PetscSNPrintf(ms->note, sizeof(ms->note),
                            "meta-states skipped: %" PetscInt_FMT " baseline rows for %" PetscInt_FMT " observables",
                            nrowall, p));
    PetscCall(PetscFree2(X, rowok));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(SAMetaStateFit(comm, nrow, p, X, o->varfrac, o->k, &ms->k, ms->sigma, ms->V, ms->explained));
  k = ms->k;
  PetscCheck(k <= 64, comm, PETSC_ERR_SUP, "At most 64 meta-state components, got %" PetscInt_FMT, k);
  /* latent states of every local member */
  for (PetscInt i = 0; i < nb; i++)
    for (PetscInt t = 0; t < R; t++)
      for (PetscInt j = 0; j < k; j++) {
        PetscReal z = 0;
        if (!rowok[i * R + t]) z = NAN;
        else
          for (PetscInt l = 0; l < p; l++) z += (OBS(d, ms->sel[l], i)[t] - ms->mean[l]) / ms->sd[l] * ms->V[j * p + l];
        ms->lat[(i * R + t) * k + j] = z;
      }
  /* baseline means per (config, step) [C*R slots] and pooled over configs [R slots, after them] */
  PetscCall(PetscCalloc2((C + 1) * R * k, &sum, (C + 1) * R, &cnt));
  for (PetscInt i = 0; i < nb; i++) {
    PetscInt c = d->config[d->m0 + i];
    if (!r->baseline[d->m0 + i]) continue;
    for (PetscInt t = 0; t < R; t++) {
      const PetscReal *z = &ms->lat[(i * R + t) * k];
      if (PetscIsNanReal(z[0])) continue;
      cnt[c * R + t] += 1;
      cnt[C * R + t] += 1;
      for (PetscInt j = 0; j < k; j++) {
        sum[(c * R + t) * k + j] += z[j];
        sum[(C * R + t) * k + j] += z[j];
      }
    }
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, sum, (PetscMPIInt) ((C + 1) * R * k), MPIU_REAL, MPI_SUM, comm));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, cnt, (PetscMPIInt) ((C + 1) * R), MPIU_REAL, MPI_SUM, comm));
  /* the mean a member is compared with: its configuration's baseline if it has 2 or more, else the pooled one;
     a baseline twin is compared with the mean of the others (leave-one-out) */
#define SA_MEAN(i, t, mu, ok)                                                                               \
  do {                                                                                                      \
    PetscInt         c_ = d->config[d->m0 + (i)], s_ = cnt[c_ * R + (t)] >= 2 ? c_ * R + (t) : C * R + (t); \
    PetscReal        n_ = cnt[s_];                                                                          \
    const PetscReal *z_ = &ms->lat[((i) *R + (t)) * k];                                                     \
    ok                  = n_ >= 2;                                                                          \
    for (PetscInt j_ = 0; j_ < k && ok; j_++)                                                               \
      mu[j_] = r->baseline[d->m0 + (i)] ? (sum[s_ * k + j_] - z_[j_]) / (n_ - 1) : sum[s_ * k + j_] / n_;   \
  } while (0)
  PetscCall(PetscMemzero(cov, sizeof(cov)));
  for (PetscInt i = 0; i < nb; i++) {
    if (!r->baseline[d->m0 + i]) continue;
    for (PetscInt t = 0; t < R; t++) {
      PetscReal        mu[64];
      PetscBool        ok;
      const PetscReal *z = &ms->lat[(i * R + t) * k];
      if (PetscIsNanReal(z[0])) continue;
      SA_MEAN(i, t, mu, ok);
      if (!ok) continue;
      for (PetscInt a = 0; a < k; a++)
        for (PetscInt b = 0; b < k; b++) cov[a * k + b] += (z[a] - mu[a]) * (z[b] - mu[b]);
      ccount += 1;
    }
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, cov, (PetscMPIInt) (k * k), MPIU_REAL, MPI_SUM, comm));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &ccount, 1, MPIU_REAL, MPI_SUM, comm));
  if (ccount < k + 1) {
    PetscCall(PetscSNPrintf(ms->note, sizeof(ms->note),
                            "deviation skipped: %g baseline residuals for %" PetscInt_FMT
                            " components (needs 2 baseline twins per step)",
                            (double) ccount, k));
  } else {
    for (PetscInt a = 0; a < k * k; a++) cov[a] /= ccount;
    for (PetscInt a = 0; a < k; a++) tr += cov[a * k + a];
    for (PetscInt a = 0; a < k; a++) cov[a * k + a] += o->ridge * tr / k;
    PetscCall(SACholeskyFactor(k, cov));
    for (PetscInt i = 0; i < nb; i++)
      for (PetscInt t = 0; t < R; t++) {
        PetscReal        mu[64];
        PetscBool        ok;
        const PetscReal *z = &ms->lat[(i * R + t) * k];
        if (PetscIsNanReal(z[0])) {
          /* a diverged member has no state: the deviation is infinite once its observables are not finite */
          if (PetscIsInfOrNanReal(OBS(d, d->iloss, i)[t])) ms->sc[(i * R + t) * SA_D] = PETSC_INFINITY;
          continue;
        }
        SA_MEAN(i, t, mu, ok);
        if (ok) PetscCall(SAMahalanobis(k, z, mu, cov, &ms->sc[(i * R + t) * SA_D]));
      }
  }
#undef SA_MEAN
  PetscCall(PetscFree2(sum, cnt));
  PetscCall(PetscFree2(X, rowok));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the simple detectors (1..3), thresholds calibrated on the baseline, warnings and their scores */
static PetscErrorCode SAWarnings(MPI_Comm comm, const SACampaignData *d, SAMemberData *r, const SAAnalysisOptions *o,
                                 SAMetaData *ms)
{
  PetscInt    R = d->R, nb = d->nb, M = d->M, w = o->det_window, nbl = 0, nball;
  PetscReal  *tmp, *ind, *rs, *rsall, *score;
  PetscMPIInt size, rank, *counts, *displs;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscMalloc4(R, &tmp, R, &ind, R, &score, nb + 1, &rs));
  for (PetscInt i = 0; i < nb; i++) {
    PetscCall(SADetectorLossZ(R, OBS(d, d->iloss, i), w, tmp));
    for (PetscInt t = 0; t < R; t++) ms->sc[(i * R + t) * SA_D + 1] = tmp[t];
    PetscCall(SADetectorRollingVariance(R, OBS(d, d->iperf, i), w, ind));
    PetscCall(SADetectorKendallTrend(R, ind, w, tmp));
    for (PetscInt t = 0; t < R; t++) ms->sc[(i * R + t) * SA_D + 2] = tmp[t];
    PetscCall(SADetectorRollingAR1(R, OBS(d, d->iperf, i), w, ind));
    PetscCall(SADetectorKendallTrend(R, ind, w, tmp));
    for (PetscInt t = 0; t < R; t++) ms->sc[(i * R + t) * SA_D + 3] = tmp[t];
  }
  for (PetscInt i = 0; i < nb; i++) nbl += r->baseline[d->m0 + i];
  PetscCallMPI(MPI_Allreduce(&nbl, &nball, 1, MPIU_INT, MPI_SUM, comm));
  ms->nbase = nball;
  PetscCall(PetscMalloc3(nball + 1, &rsall, size, &counts, size, &displs));
  {
    PetscMPIInt n = (PetscMPIInt) nbl;
    PetscCallMPI(MPI_Allgather(&n, 1, MPI_INT, counts, 1, MPI_INT, comm));
    displs[0] = 0;
    for (PetscMPIInt q = 1; q < size; q++) displs[q] = displs[q - 1] + counts[q - 1];
  }
  for (PetscInt det = 0; det < SA_D; det++) {
    PetscInt j = 0;
    for (PetscInt i = 0; i < nb; i++) {
      if (!r->baseline[d->m0 + i]) continue;
      for (PetscInt t = 0; t < R; t++) score[t] = ms->sc[(i * R + t) * SA_D + det];
      PetscCall(SAWarningRunStatistic(R, score, o->m, &rs[j++]));
    }
    PetscCallMPI(MPI_Allgatherv(rs, (PetscMPIInt) nbl, MPIU_REAL, rsall, counts, displs, MPIU_REAL, comm));
    if (det == 0 && ms->k == 0) ms->thr[det] = PETSC_INFINITY;
    else PetscCall(SAWarningCalibrate(nball, rsall, o->alpha, &ms->thr[det]));
    for (PetscInt i = 0; i < nb; i++) {
      PetscInt ws = -1;
      for (PetscInt t = 0; t < R; t++) score[t] = ms->sc[(i * R + t) * SA_D + det];
      PetscInt k0 = 0;
      /* a perturbed member is watched from its onset: before it, it is its twin */
      if (d->twin[d->m0 + i] >= 0)
        while (k0 < R && d->step[k0] < d->onset[d->m0 + i]) k0++;
      if (ms->thr[det] < PETSC_INFINITY) PetscCall(SAWarningFirst(R, d->step, score, ms->thr[det], o->m, k0, &ws));
      r->warn[(d->m0 + i) * SA_D + det] = ws;
    }
  }
  PetscCall(SAMemberReduceInt(comm, M * SA_D, r->warn));
  /* scores over the campaign */
  ms->ncoll = 0;
  for (PetscInt m = 0; m < M; m++) ms->ncoll += r->collapsed[m];
  for (PetscInt det = 0; det < SA_D; det++) {
    PetscInt   tp = 0, nw = 0, nfa = 0, nl = 0, np = 0;
    PetscReal *lead, *sv = NULL, *svall = NULL;
    PetscBool *lb = NULL;

    PetscCall(PetscMalloc1(M + 1, &lead));
    for (PetscInt m = 0; m < M; m++) {
      PetscInt ws = r->warn[m * SA_D + det];
      if (ws < 0) continue;
      if (r->baseline[m]) nfa++;
      if (r->collapsed[m] && ws > r->cstep[m]) continue; /* after the collapse: not a warning */
      nw++;
      if (r->collapsed[m]) {
        tp++;
        lead[nl++] = r->cstep[m] - ws;
      }
    }
    ms->nwarn[det] = nw;
    ms->ntp[det]   = tp;
    ms->prec[det]  = nw ? (PetscReal) tp / nw : NAN;
    ms->rec[det]   = ms->ncoll ? (PetscReal) tp / ms->ncoll : NAN;
    ms->far[det]   = nball ? (PetscReal) nfa / nball : NAN;
    ms->lmed[det] = ms->lq1[det] = ms->lq3[det] = NAN;
    if (nl) {
      PetscCall(SAQuantile(nl, lead, 0.5, &ms->lmed[det]));
      PetscCall(SAQuantile(nl, lead, 0.25, &ms->lq1[det]));
      PetscCall(SAQuantile(nl, lead, 0.75, &ms->lq3[det]));
    }
    PetscCall(PetscFree(lead));
    /* AUROC of "collapse within H steps" over (member, step) pairs before the collapse: gathered on rank 0 */
    PetscCall(PetscMalloc1(2 * nb * R + 1, &sv));
    for (PetscInt i = 0; i < nb; i++) {
      PetscInt m = d->m0 + i;
      for (PetscInt t = 0; t < R; t++) {
        PetscReal s = ms->sc[(i * R + t) * SA_D + det];
        if (PetscIsNanReal(s) || (r->collapsed[m] && d->step[t] >= r->cstep[m])) continue;
        if (d->twin[m] >= 0 && d->step[t] < d->onset[m]) continue; /* before the onset a perturbed member is its twin */
        sv[2 * np]     = s;
        sv[2 * np + 1] = r->collapsed[m] && r->cstep[m] - d->step[t] <= o->horizon ? 1 : 0;
        np++;
      }
    }
    {
      PetscMPIInt n2 = (PetscMPIInt) (2 * np), *c2 = NULL, *d2 = NULL;
      PetscInt    tot = 0;
      if (!rank) PetscCall(PetscMalloc2(size, &c2, size, &d2));
      PetscCallMPI(MPI_Gather(&n2, 1, MPI_INT, c2, 1, MPI_INT, 0, comm));
      if (!rank) {
        d2[0] = 0;
        for (PetscMPIInt q = 1; q < size; q++) d2[q] = d2[q - 1] + c2[q - 1];
        tot = (d2[size - 1] + c2[size - 1]) / 2;
        PetscCall(PetscMalloc2(2 * tot + 1, &svall, tot + 1, &lb));
      }
      PetscCallMPI(MPI_Gatherv(sv, n2, MPIU_REAL, svall, c2, d2, MPIU_REAL, 0, comm));
      if (!rank) {
        PetscReal *s1;
        PetscCall(PetscMalloc1(tot + 1, &s1));
        for (PetscInt q = 0; q < tot; q++) {
          s1[q] = svall[2 * q];
          lb[q] = svall[2 * q + 1] > 0.5 ? PETSC_TRUE : PETSC_FALSE;
        }
        PetscCall(SAAUROC(tot, s1, lb, &ms->auc[det]));
        PetscCall(PetscFree(s1));
        PetscCall(PetscFree2(svall, lb));
        PetscCall(PetscFree2(c2, d2));
      }
      PetscCallMPI(MPI_Bcast(&ms->auc[det], 1, MPIU_REAL, 0, comm));
      PetscCallMPI(MPI_Allreduce(&np, &ms->npairs[det], 1, MPIU_INT, MPI_SUM, comm));
    }
    PetscCall(PetscFree(sv));
  }
  PetscCall(PetscFree3(rsall, counts, displs));
  PetscCall(PetscFree4(tmp, ind, score, rs));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscBool SAMarginUsable(const SAMargin *mg)
{
  return mg->status == SA_MARGIN_FIT || mg->status == SA_MARGIN_SEPARATED || mg->status == SA_MARGIN_QUASI_SEPARATED
           ? PETSC_TRUE
           : PETSC_FALSE;
}

static PetscErrorCode SAFindingsCompute(const SACampaignData *d, const SAMemberData *r, const SAGroups *g,
                                        const SAAnalysisOptions *o, SAFindings *f)
{
  PetscReal x[1024], y[1024];
  SAStream  s;

  PetscFunctionBeginUser;
  PetscCheck(g->B <= 64 && d->C <= 1024, PETSC_COMM_SELF, PETSC_ERR_SUP,
             "Findings support at most 64 perturbation blocks and 1024 configurations");
  f->B = g->B;
  f->A = 0;
  for (PetscInt a = 0; a < d->naxes; a++)
    if (d->stoch[a]) f->axis[f->A++] = a;
  for (PetscInt b = 0; b < g->B; b++) {
    PetscInt n = 0;
    for (PetscInt c = 0; c < d->C; c++) {
      const SAMargin *mg = &g->margin[c * g->B + b];
      if (!SAMarginUsable(mg) || PetscIsNanReal(g->cfmed[c])) continue;
      x[n] = g->cfmed[c];
      y[n] = mg->margin;
      n++;
    }
    PetscCall(SAStreamCreate(o->seed, 100000 + b, SA_STREAM_ANALYSIS, &s));
    f->f1[4 * b] = n;
    PetscCall(
      SASpearmanBootstrap(n, x, y, o->nboot, o->level, &s, &f->f1[4 * b + 1], &f->f1[4 * b + 2], &f->f1[4 * b + 3]));
    for (PetscInt ai = 0; ai < f->A; ai++) {
      PetscInt  a = f->axis[ai], q = 4 * (ai * g->B + b), st[1024], stc[1024];
      PetscReal yc[1024];

      /* with other sweep axes, compare configurations only within a stratum of equal values on those axes */
      for (PetscInt c = 0; c < d->C; c++) {
        stc[c] = c;
        for (PetscInt c2 = 0; c2 < c && stc[c] == c; c2++) {
          PetscBool same = PETSC_TRUE;
          for (PetscInt a2 = 0; a2 < d->naxes; a2++)
            if (a2 != a && d->axval[a2 * d->C + c2] != d->axval[a2 * d->C + c]) same = PETSC_FALSE;
          if (same) stc[c] = c2;
        }
      }
      n = 0;
      for (PetscInt c = 0; c < d->C; c++) {
        const SAMargin *mg = &g->margin[c * g->B + b];
        if (!SAMarginUsable(mg)) continue;
        x[n]  = d->axval[a * d->C + c];
        y[n]  = mg->margin;
        st[n] = stc[c];
        n++;
      }
      PetscCall(SAStreamCreate(o->seed, 200000 + ai * 64 + b, SA_STREAM_ANALYSIS, &s));
      f->f2m[q] = n;
      if (d->naxes > 1)
        PetscCall(
          SASpearmanStratified(n, x, y, st, o->nboot, o->level, &s, &f->f2m[q + 1], &f->f2m[q + 2], &f->f2m[q + 3]));
      else
        PetscCall(SASpearmanBootstrap(n, x, y, o->nboot, o->level, &s, &f->f2m[q + 1], &f->f2m[q + 2], &f->f2m[q + 3]));
      n = 0;
      for (PetscInt c = 0; c < d->C; c++) {
        PetscInt gi = c * g->B + b, nc = 0;
        if (!g->gn[gi]) continue;
        for (PetscInt cc = 0; cc < g->ncell; cc++)
          if (g->cgroup[cc] == gi) nc += g->ck[cc];
        x[n]  = d->axval[a * d->C + c];
        yc[n] = (PetscReal) nc / g->gn[gi];
        st[n] = stc[c];
        n++;
      }
      PetscCall(SAStreamCreate(o->seed, 300000 + ai * 64 + b, SA_STREAM_ANALYSIS, &s));
      f->f2c[q] = n;
      if (d->naxes > 1)
        PetscCall(
          SASpearmanStratified(n, x, yc, st, o->nboot, o->level, &s, &f->f2c[q + 1], &f->f2c[q + 2], &f->f2c[q + 3]));
      else
        PetscCall(
          SASpearmanBootstrap(n, x, yc, o->nboot, o->level, &s, &f->f2c[q + 1], &f->f2c[q + 2], &f->f2c[q + 3]));
    }
  }
  (void) r;
  PetscFunctionReturn(PETSC_SUCCESS);
}

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

static PetscErrorCode SAAnalysisWrite(MPI_Comm comm, const char dir[], const SACampaignData *d, const SAMemberData *r,
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
  PetscCall(PetscSNPrintf(tmp, sizeof(tmp), "%s/analysis.nc.tmp", dir));
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
  if (d->nlyap > 0) SACallNC(nc_def_dim, (ncid, "lyap", (size_t) d->nlyap, &dly));
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
  DEF("step", NC_INT, 1, ds, 0, 0, "optimizer step");
  DEF("member", NC_INT, 1, dm, 0, 0, "member id");
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
  PetscCall(SANCAttText(ncid, v, "coordinates", "step member"));
  DEF("deviation", NC_DOUBLE, 2, dm, ds, 0, "Mahalanobis distance of the latent state from the baseline ensemble");
  PetscCall(SANCAttText(ncid, v, "coordinates", "step member"));
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
    PetscCall(SANCAttText(ncid, v, "coordinates", "step member"));
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
  PetscCall(SAPutI(ncid, VID("step"), R, tmpi, PETSC_MIN_INT, rank));
  for (PetscInt m = 0; m < M; m++) tmpi[m] = m;
  PetscCall(SAPutI(ncid, VID("member"), M, tmpi, PETSC_MIN_INT, rank));
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
  if (!rank) {
    PetscCall(SAFileSync(tmp));
    PetscCheck(!rename(tmp, path), PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "Cannot rename %s to %s: %s", tmp, path,
               strerror(errno));
  }
  PetscCallMPI(MPI_Barrier(comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const char *const SADimensionNames[] = {"none", "optimization", "environment", "parametric", "learning_signal"};

static const char *SADimName(PetscInt dim) { return dim >= 0 && dim <= 4 ? SADimensionNames[dim] : "?"; }

static PetscErrorCode SAAnalysisPrint(MPI_Comm comm, const char dir[], const SACampaignData *d, const SAMemberData *r,
                                      const SAGroups *g, const SAMetaData *ms, const SAFindings *f,
                                      const SAAnalysisOptions *o)
{
  PetscInt   nt = 0, np = 0, nct = 0, ncp = 0, nf = 0;
  PetscReal *fv, med = NAN;
  char       lab[SA_NAME]; /* a configuration label as printed (SAConfigLabelShorten) */

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(d->M + 1, &fv));
  for (PetscInt m = 0; m < d->M; m++) {
    if (d->twin[m] < 0) {
      nt++;
      nct += r->collapsed[m];
    } else {
      np++;
      ncp += r->collapsed[m];
      if (!PetscIsNanReal(r->ftle[m])) fv[nf++] = r->ftle[m];
    }
  }
  if (nf) med = SAMedianOf(nf, fv);
  PetscCall(PetscFree(fv));
  PetscCall(PetscPrintf(comm,
                        "stabaudit analyze: %s/results.nc: %" PetscInt_FMT " members (%" PetscInt_FMT
                        " twins, %" PetscInt_FMT " in the baseline), %" PetscInt_FMT " records, %" PetscInt_FMT
                        " configurations\n",
                        dir, d->M, nt, ms->nbase, d->R, d->C));
  PetscCall(PetscPrintf(comm,
                        "collapses: %" PetscInt_FMT " of %" PetscInt_FMT " perturbed members, %" PetscInt_FMT
                        " of %" PetscInt_FMT " twins (delta %g, W %" PetscInt_FMT " steps)\n",
                        ncp, np, nct, nt, (double) o->delta, o->window));
  if (d->nlyap > 0) {
    PetscReal *l1, q = NAN;
    PetscInt   nl = 0;
    PetscCall(PetscMalloc1(d->M, &l1));
    for (PetscInt m = 0; m < d->M; m++)
      if (!PetscIsNanReal(d->lyap[m * d->nlyap])) l1[nl++] = d->lyap[m * d->nlyap];
    if (nl) PetscCall(SAQuantile(nl, l1, 0.5, &q));
    PetscCall(PetscPrintf(comm,
                          "lyapunov: %" PetscInt_FMT " exponents for %" PetscInt_FMT " members; median lambda_1 %.4g\n",
                          d->nlyap, nl, (double) q));
    PetscCall(PetscFree(l1));
  }
  if (d->itd < 0) PetscCall(PetscPrintf(comm, "ftle: results.nc has no twin_distance variable: no FTLE\n"));
  else
    PetscCall(
      PetscPrintf(comm, "ftle: median %.4g per step over %" PetscInt_FMT " perturbed members\n", (double) med, nf));
  if (ms->k > 0) {
    PetscReal cum = 0;
    for (PetscInt j = 0; j < ms->k; j++) cum += ms->explained[j];
    PetscCall(PetscPrintf(comm,
                          "meta-states: %" PetscInt_FMT " components of %" PetscInt_FMT " observables explain %.1f%%;",
                          ms->k, ms->p, 100 * (double) cum));
    for (PetscInt j = 0; j < PetscMin(ms->k, 3); j++) {
      PetscInt best = 0;
      for (PetscInt i = 1; i < ms->p; i++)
        if (PetscAbsReal(ms->V[j * ms->p + i]) > PetscAbsReal(ms->V[j * ms->p + best])) best = i;
      PetscCall(PetscPrintf(comm, " %" PetscInt_FMT ": %s %+.2f", j + 1, d->obsname[ms->sel[best]],
                            (double) ms->V[j * ms->p + best]));
    }
    PetscCall(PetscPrintf(comm, "\n"));
  }
  if (ms->note[0]) PetscCall(PetscPrintf(comm, "note: %s\n", ms->note));

  PetscCall(PetscPrintf(comm, "\nstability margins (%.0f%% intervals)\n", 100 * (double) o->level));
  PetscCall(PetscPrintf(comm, "%-24s %-14s %-15s %5s %5s %11s %25s  %s\n", "configuration", "perturbation", "dimension",
                        "n", "coll", "margin", "interval", "status"));
  for (PetscInt q = 0; q < g->G; q++) {
    const SAMargin *mg = &g->margin[q];
    PetscInt        nc = 0;
    char            iv[64];
    if (!g->gn[q]) continue;
    for (PetscInt c = 0; c < g->ncell; c++)
      if (g->cgroup[c] == q) nc += g->ck[c];
    if (mg->status == SA_MARGIN_CENSORED_ABOVE) PetscCall(PetscSNPrintf(iv, sizeof(iv), "> %.4g", (double) mg->low));
    else if (mg->status == SA_MARGIN_CENSORED_BELOW)
      PetscCall(PetscSNPrintf(iv, sizeof(iv), "< %.4g", (double) mg->high));
    else if (mg->status == SA_MARGIN_NODATA || mg->status == SA_MARGIN_NONMONOTONE)
      PetscCall(PetscSNPrintf(iv, sizeof(iv), "-"));
    else if (PetscIsNanReal(mg->low) || PetscIsNanReal(mg->high)) {
      char a[32] = "(open", b[32] = "open)";
      if (!PetscIsNanReal(mg->low)) PetscCall(PetscSNPrintf(a, sizeof(a), "[%.4g", (double) mg->low));
      if (!PetscIsNanReal(mg->high)) PetscCall(PetscSNPrintf(b, sizeof(b), "%.4g]", (double) mg->high));
      PetscCall(PetscSNPrintf(iv, sizeof(iv), "%s, %s", a, b));
    } else PetscCall(PetscSNPrintf(iv, sizeof(iv), "[%.4g, %.4g]", (double) mg->low, (double) mg->high));
    PetscCall(SAConfigLabelShorten(d->clabel + g->gcfg[q] * SA_NAME, lab, sizeof(lab)));
    PetscCall(PetscPrintf(comm, "%-24s %-14s %-15s %5" PetscInt_FMT " %5" PetscInt_FMT " %11.5g %25s  %s\n", lab,
                          g->bname[g->gblock[q]], SADimName(g->gdim[q]), g->gn[q], nc, (double) mg->margin, iv,
                          SAMarginStatuses[mg->status]));
  }

  PetscCall(PetscPrintf(comm, "\nfindings\n"));
  PetscCall(PetscPrintf(comm,
                        "(1) Spearman rank correlation of a configuration's final performance (twin median) and its "
                        "stability margin\n"));
  for (PetscInt b = 0; b < g->B; b++) {
    if (f->f1[4 * b] >= 3) {
      PetscCall(PetscPrintf(comm, "    %-14s %-15s rho %+.3f [%+.3f, %+.3f]  n = %" PetscInt_FMT "\n", g->bname[b],
                            SADimName(g->bdim[b]), (double) f->f1[4 * b + 1], (double) f->f1[4 * b + 2],
                            (double) f->f1[4 * b + 3], (PetscInt) f->f1[4 * b]));
      continue;
    }
    /* too few configurations for a correlation: the values themselves */
    PetscCall(PetscPrintf(comm, "    %-14s %-15s n = %" PetscInt_FMT " (no correlation below 3):", g->bname[b],
                          SADimName(g->bdim[b]), (PetscInt) f->f1[4 * b]));
    for (PetscInt c = 0; c < d->C; c++) {
      const SAMargin *mg = &g->margin[c * g->B + b];
      if (!SAMarginUsable(mg)) continue;
      PetscCall(SAConfigLabelShorten(d->clabel + c * SA_NAME, lab, sizeof(lab)));
      PetscCall(PetscPrintf(comm, " %s: perf %.3f margin %.4g;", lab, (double) g->cfmed[c], (double) mg->margin));
    }
    PetscCall(PetscPrintf(comm, "\n"));
  }
  if (!f->A)
    PetscCall(PetscPrintf(comm, "(2) no controlled-stochasticity axis in the sweep: finding 2 not available\n"));
  for (PetscInt a = 0; a < f->A; a++) {
    PetscCall(PetscPrintf(comm, "(2) against the stochasticity level '%s' (Spearman%s; the values when n < 3):\n",
                          d->axname[f->axis[a]],
                          d->naxes > 1 ? " within strata of the other sweep axes, n-weighted mean" : ""));
    for (PetscInt b = 0; b < g->B; b++) {
      PetscInt q = 4 * (a * g->B + b);
      if (f->f2c[q] >= 3) {
        PetscCall(PetscPrintf(comm,
                              "    %-14s margin rho %+.3f [%+.3f, %+.3f] n = %" PetscInt_FMT
                              "; collapse probability rho %+.3f [%+.3f, %+.3f] n = %" PetscInt_FMT "\n",
                              g->bname[b], (double) f->f2m[q + 1], (double) f->f2m[q + 2], (double) f->f2m[q + 3],
                              (PetscInt) f->f2m[q], (double) f->f2c[q + 1], (double) f->f2c[q + 2],
                              (double) f->f2c[q + 3], (PetscInt) f->f2c[q]));
        continue;
      }
      PetscCall(PetscPrintf(comm, "    %-14s", g->bname[b]));
      for (PetscInt c = 0; c < d->C; c++) {
        PetscInt        gi = c * g->B + b, nc = 0;
        const SAMargin *mg = &g->margin[gi];
        if (!g->gn[gi]) continue;
        for (PetscInt cc = 0; cc < g->ncell; cc++)
          if (g->cgroup[cc] == gi) nc += g->ck[cc];
        PetscCall(SAConfigLabelShorten(d->clabel + c * SA_NAME, lab, sizeof(lab)));
        PetscCall(PetscPrintf(comm, " %s: collapsed %" PetscInt_FMT "/%" PetscInt_FMT ", margin %s%.4g;", lab, nc,
                              g->gn[gi], mg->status == SA_MARGIN_CENSORED_ABOVE ? "> " : "",
                              (double) (mg->status == SA_MARGIN_CENSORED_ABOVE ? mg->low : mg->margin)));
      }
      PetscCall(PetscPrintf(comm, "\n"));
    }
  }
  PetscCall(PetscPrintf(comm,
                        "(3) early warnings (false-alarm rate %g on %" PetscInt_FMT " baseline twins, %" PetscInt_FMT
                        " consecutive records; AUROC of a collapse within %" PetscInt_FMT " steps; %" PetscInt_FMT
                        " collapses)\n",
                        (double) o->alpha, ms->nbase, o->m, o->horizon, ms->ncoll));
  PetscCall(PetscPrintf(comm, "    %-15s %6s %9s %7s %8s %15s %7s %7s %11s %9s %16s %11s\n", "detector", "warned",
                        "precision", "recall", "lead", "lead IQR", "AUROC", "pairs", "false alarm", "matched C",
                        "interval", "pairs/cells"));
  for (PetscInt q = 0; q < SA_D; q++)
    PetscCall(PetscPrintf(comm,
                          "    %-15s %6" PetscInt_FMT " %9.3f %7.3f %8.4g [%5.4g, %5.4g] %7.3f %7" PetscInt_FMT
                          " %11.3f %9.3f [%6.3f, %6.3f] %5" PetscInt_FMT "/%-5" PetscInt_FMT "\n",
                          SADetectorNames[q], ms->nwarn[q], (double) ms->prec[q], (double) ms->rec[q],
                          (double) ms->lmed[q], (double) ms->lq1[q], (double) ms->lq3[q], (double) ms->auc[q],
                          ms->npairs[q], (double) ms->far[q], (double) ms->mconc[q], (double) ms->mlo[q],
                          (double) ms->mhi[q], ms->mpairs[q], ms->mcells[q]));
  PetscCall(PetscPrintf(comm, "    (matched C: among members given the same dose, how often the one that collapsed "
                              "was warned first; 0.5 = no better than chance)\n"));
  PetscCall(PetscPrintf(comm, "wrote %s/analysis.nc\n", dir));
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
  PetscCall(SACampaignDataRead(comm, path, &d));
  PetscCall(PetscNew(&ms));
  PetscCall(PetscNew(&f));
  PetscCall(SAMemberAnalyze(&d, o, &r));
  PetscCall(SAMemberReduce(comm, &d, &r));
  PetscCall(PetscMalloc2(d.nb * d.R * PetscMax(d.O, 1) + 1, &ms->lat, d.nb * d.R * SA_D + 1, &ms->sc));
  PetscCall(SAMetaStates(comm, &d, &r, o, ms));
  PetscCall(SAWarnings(comm, &d, &r, o, ms));
  PetscCall(SAGroupsBuild(&d, &r, o, &g));
  PetscCall(SAMatchedConcordance(&d, &r, &g, o, ms));
  PetscCall(SAFindingsCompute(&d, &r, &g, o, f));
  PetscCall(SAAnalysisWrite(comm, dir, &d, &r, &g, ms, f, o, history));
  PetscCall(SAAnalysisPrint(comm, dir, &d, &r, &g, ms, f, o));
  PetscCall(PetscFree2(ms->lat, ms->sc));
  PetscCall(PetscFree(ms));
  PetscCall(PetscFree(f));
  PetscCall(SAGroupsDestroy(&g));
  PetscCall(SAMemberDataDestroy(&r));
  PetscCall(SACampaignDataDestroy(&d));
  PetscFunctionReturn(PETSC_SUCCESS);
}
