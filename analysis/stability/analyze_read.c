/*
  analyze_read.c - reads results.nc for SAAnalyze(): the member tables and campaign metadata on every rank, the
  (member, step) series of the rank's contiguous block of members.
*/
#include "analyzeimpl.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>

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

PetscErrorCode SACampaignDataRead_Private(MPI_Comm comm, const char path[], SACampaignData *d)
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
    if (nc_inq_varid(ncid, SA_NC_LYAP, &vid) == NC_NOERR) {
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

PetscErrorCode SACampaignDataDestroy_Private(SACampaignData *d)
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
