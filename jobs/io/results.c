/*
  results.c - the campaign dataset DIR/results.nc (netCDF-4, CF-1.13), written in parallel.

  Every rank takes a contiguous block of members, reads their records from the shards and writes
  them with collective nc_put_vara calls. The file is created as results.nc.tmp and renamed when
  closed, so a kill never leaves a half-written results.nc. The schema is in docs/output-schema.md.
*/
#include "results_sections.h"
#include <netcdf_par.h>
#include <string.h>
#include <stdio.h>

#define SA_NVARS 64

/*@C
  SAResultsWrite - Writes DIR/results.nc from the shards of a complete campaign

  Collective

  Input Parameters:
+ comm    - all ranks
. dir     - the campaign directory
. c       - the expanded campaign
. idx     - the shard index (every member finished)
- history - the history line (ISO-8601 time and command line)

  Level: developer

.seealso: `SAShardScan()`
@*/
PetscErrorCode SAResultsWrite(MPI_Comm comm, const char dir[], SACampaign c, const SAShardIndex *idx,
                              const char history[])
{
  PetscMPIInt rank, size;
  char        path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN], source[1024], *opts, *deck = NULL;
  int         ncid, dmem, dstep, dcfg, dname, d2[2], vid[SA_NVARS], vobs[64];
  PetscInt    M = c->nmembers, R = c->nrec, O = c->nobs, m0, m1, nb;
  size_t      start[2], count[2];
  int        *ibuf;
  double     *dbuf, *obs;
  char       *cbuf;
  void       *sections[SA_RESULTS_NSECTIONS] = {NULL};
  enum {
    V_STEP,
    V_MEMBER,
    V_CONFIG,
    V_DIM,
    V_KIND,
    V_PERT,
    V_MAG,
    V_ONSET,
    V_DUR,
    V_SHAPE,
    V_SEED,
    V_TWIN,
    V_REASON,
    V_DIVSTEP,
    V_FINAL,
    V_CLABEL,
    V_AXIS0
  };

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(SA_IOWrite, 0, 0, 0, 0));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCheck(idx->nfound == M, comm, PETSC_ERR_ARG_WRONG,
             "Only %" PetscInt_FMT " of %" PetscInt_FMT " members are finished", idx->nfound, M);
  m0 = (M * rank) / size;
  m1 = (M * (rank + 1)) / size;
  nb = m1 - m0;
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/results.nc", dir));
  PetscCall(SAFileTmpName(path, tmp, sizeof(tmp)));
  PetscCall(SAGetProvenance(source, sizeof(source)));
  PetscCall(PetscOptionsGetAll(NULL, &opts));

  SACallNC(nc_create_par, (tmp, NC_NETCDF4 | NC_CLOBBER, comm, MPI_INFO_NULL, &ncid));
  SACallNC(nc_def_dim, (ncid, SA_NC_DIM_MEMBER, (size_t) M, &dmem));
  SACallNC(nc_def_dim, (ncid, SA_NC_DIM_STEP, (size_t) R, &dstep));
  SACallNC(nc_def_dim, (ncid, SA_NC_DIM_CONFIG, (size_t) c->nconfigs, &dcfg));
  SACallNC(nc_def_dim, (ncid, SA_NC_DIM_NAME, SA_NC_NAME_LEN, &dname));

  PetscCall(SANCDefVar(ncid, SA_NC_STEP, NC_INT, 1, &dstep, "optimizer step", "1", &vid[V_STEP]));
  PetscCall(SANCDefVar(ncid, SA_NC_MEMBER, NC_INT, 1, &dmem, "member id", "1", &vid[V_MEMBER]));
  PetscCall(SANCDefVar(ncid, SA_NC_CONFIG, NC_INT, 1, &dmem, "configuration index", "1", &vid[V_CONFIG]));
  PetscCall(
    SANCDefVar(ncid, SA_NC_DIMENSION, NC_INT, 1, &dmem, "stability dimension of the perturbation", "1", &vid[V_DIM]));
  {
    int fv[5] = {0, 1, 2, 3, 4};
    SACallNC(nc_put_att_int, (ncid, vid[V_DIM], "flag_values", NC_INT, 5, fv));
    PetscCall(
      SANCAttText(ncid, vid[V_DIM], "flag_meanings", "none optimization environment parametric learning_signal"));
  }
  d2[0] = dmem;
  d2[1] = dname;
  PetscCall(SANCDefVar(ncid, SA_NC_KIND, NC_CHAR, 2, d2, "perturbation kind (none for an unperturbed twin)", "1",
                       &vid[V_KIND]));
  PetscCall(SANCDefVar(ncid, SA_NC_PERTURB, NC_CHAR, 2, d2, "perturbation block name in the deck", "1", &vid[V_PERT]));
  PetscCall(SANCDefVar(ncid, SA_NC_MAGNITUDE, NC_DOUBLE, 1, &dmem, "perturbation magnitude", "1", &vid[V_MAG]));
  PetscCall(SANCDefVar(ncid, SA_NC_ONSET, NC_INT, 1, &dmem, "first perturbed optimizer step", "1", &vid[V_ONSET]));
  PetscCall(SANCDefVar(ncid, SA_NC_DURATION, NC_INT, 1, &dmem, "perturbation duration in steps (-1 persistent)", "1",
                       &vid[V_DUR]));
  PetscCall(SANCDefVar(ncid, SA_NC_SHAPE, NC_INT, 1, &dmem, "envelope of the perturbation inside its window", "1",
                       &vid[V_SHAPE]));
  {
    int fv[3] = {SA_SHAPE_STEP, SA_SHAPE_RAMP, SA_SHAPE_EXP};
    SACallNC(nc_put_att_int, (ncid, vid[V_SHAPE], "flag_values", NC_INT, 3, fv));
    PetscCall(SANCAttText(ncid, vid[V_SHAPE], "flag_meanings", "step ramp exp"));
  }
  PetscCall(SANCDefVar(ncid, SA_NC_SEED, NC_INT, 1, &dmem, "member seed", "1", &vid[V_SEED]));
  PetscCall(SANCDefVar(ncid, SA_NC_TWIN, NC_INT, 1, &dmem, "member id of the unperturbed twin (-1 for a twin)", "1",
                       &vid[V_TWIN]));
  PetscCall(SANCDefVar(ncid, SA_NC_REASON, NC_INT, 1, &dmem, "how the training run ended", "1", &vid[V_REASON]));
  {
    int fv[3] = {SA_DIVERGED_LOSS_EXPLODED, SA_DIVERGED_NAN, SA_CONVERGED_MAX_STEPS};
    SACallNC(nc_put_att_int, (ncid, vid[V_REASON], "flag_values", NC_INT, 3, fv));
    PetscCall(SANCAttText(ncid, vid[V_REASON], "flag_meanings", "diverged_loss_exploded diverged_nan completed"));
  }
  PetscCall(SANCDefVar(ncid, SA_NC_DIVSTEP, NC_INT, 1, &dmem, "optimizer step at which training diverged", "1",
                       &vid[V_DIVSTEP]));
  PetscCall(SANCDefVar(ncid, SA_NC_FINALPERF, NC_DOUBLE, 1, &dmem,
                       "performance at the last step reached (0 if diverged)", "1", &vid[V_FINAL]));
  d2[0] = dcfg;
  PetscCall(SANCDefVar(ncid, SA_NC_CONFIGLABEL, NC_CHAR, 2, d2, "configuration as swept values", "1", &vid[V_CLABEL]));
  for (PetscInt a = 0; a < c->naxes; a++) {
    char name[64], ln[160];
    PetscCall(PetscSNPrintf(name, sizeof(name), "config_%s", SASweepAxes[c->axis[a]].name));
    PetscCall(PetscSNPrintf(ln, sizeof(ln), "swept %s", SASweepAxes[c->axis[a]].description));
    PetscCall(SANCDefVar(ncid, name, NC_DOUBLE, 1, &dcfg, ln, "1", &vid[V_AXIS0 + a]));
  }
  d2[0] = dmem;
  d2[1] = dstep;
  for (PetscInt o = 0; o < O; o++)
    PetscCall(SANCDefVar(ncid, c->obs[o].name, NC_DOUBLE, 2, d2, c->obs[o].long_name, c->obs[o].units, &vobs[o]));
  for (PetscInt o = 0; o < O; o++) PetscCall(SANCAttText(ncid, vobs[o], "coordinates", SA_NC_STEP " " SA_NC_MEMBER));

  PetscCall(SANCAttText(ncid, NC_GLOBAL, "Conventions", SA_NC_CONVENTIONS));
  PetscCall(SANCAttText(ncid, NC_GLOBAL, "title", c->title));
  PetscCall(SANCAttText(ncid, NC_GLOBAL, "institution", "stabaudit user"));
  PetscCall(SANCAttText(ncid, NC_GLOBAL, "source", source));
  PetscCall(SANCAttText(ncid, NC_GLOBAL, "history", history));
  PetscCall(SANCAttText(ncid, NC_GLOBAL, "references", "stabaudit docs/output-schema.md"));
  PetscCall(SANCAttText(ncid, NC_GLOBAL, "comment",
                        "controlled perturbation audit: unperturbed twins and perturbed members, one row per member"));
  PetscCall(SANCAttText(ncid, NC_GLOBAL, "sa_options", opts));
  PetscCall(SANCAttText(ncid, NC_GLOBAL, "sa_workload", c->tasktype));
  {
    long long seed = c->seed;
    SACallNC(nc_put_att_longlong, (ncid, NC_GLOBAL, "sa_seed", NC_INT64, 1, &seed));
  }
  {
    FILE *fp;
    char  dpath[PETSC_MAX_PATH_LEN];
    long  len;

    PetscCall(PetscSNPrintf(dpath, sizeof(dpath), "%s/deck.yaml", dir));
    fp = fopen(dpath, "rb");
    if (fp) {
      fseek(fp, 0, SEEK_END);
      len = ftell(fp);
      fseek(fp, 0, SEEK_SET);
      PetscCall(PetscCalloc1(len + 1, &deck));
      if (fread(deck, 1, (size_t) len, fp) != (size_t) len) deck[0] = 0;
      fclose(fp);
      PetscCall(SANCAttText(ncid, NC_GLOBAL, "sa_deck", deck));
      PetscCall(PetscFree(deck));
    }
  }
  for (PetscInt k = 0; k < SA_RESULTS_NSECTIONS; k++) /* the monitors' columns: probes, Lyapunov exponents */
    PetscCall((*SAResultsSections[k].define)(ncid, c, dmem, &sections[k]));
  SACallNC(nc_enddef, (ncid));
  for (PetscInt v = 0; v < V_AXIS0 + c->naxes; v++) SACallNC(nc_var_par_access, (ncid, vid[v], NC_COLLECTIVE));
  for (PetscInt o = 0; o < O; o++) SACallNC(nc_var_par_access, (ncid, vobs[o], NC_COLLECTIVE));

  /* rank 0 writes the step and configuration variables, the others take part with empty counts */
  PetscCall(PetscMalloc1(PetscMax(R, c->nconfigs) + 1, &ibuf));
  PetscCall(PetscMalloc1(PetscMax(c->nconfigs * SA_NC_NAME_LEN, 1), &cbuf));
  PetscCall(PetscMalloc1(PetscMax(c->nconfigs, 1), &dbuf));
  for (PetscInt k = 0; k < R; k++) ibuf[k] = (int) (k * c->record_every);
  start[0] = 0;
  count[0] = rank ? 0 : (size_t) R;
  SACallNC(nc_put_vara_int, (ncid, vid[V_STEP], start, count, ibuf));
  PetscCall(PetscMemzero(cbuf, (size_t) PetscMax(c->nconfigs * SA_NC_NAME_LEN, 1)));
  for (PetscInt k = 0; k < c->nconfigs; k++)
    PetscCall(SACampaignGetConfigLabel(c, k, cbuf + k * SA_NC_NAME_LEN, SA_NC_NAME_LEN));
  start[0] = start[1] = 0;
  count[0]            = rank ? 0 : (size_t) c->nconfigs;
  count[1]            = SA_NC_NAME_LEN;
  SACallNC(nc_put_vara_text, (ncid, vid[V_CLABEL], start, count, cbuf));
  for (PetscInt a = 0; a < c->naxes; a++) {
    for (PetscInt k = 0; k < c->nconfigs; k++) dbuf[k] = c->configvals[k * c->naxes + a];
    count[0] = rank ? 0 : (size_t) c->nconfigs;
    SACallNC(nc_put_vara_double, (ncid, vid[V_AXIS0 + a], start, count, dbuf));
  }
  PetscCall(PetscFree(ibuf));
  PetscCall(PetscFree(cbuf));
  PetscCall(PetscFree(dbuf));

  /* the member block of this rank */
  PetscCall(PetscMalloc1(nb + 1, &ibuf));
  PetscCall(PetscMalloc1(nb + 1, &dbuf));
  PetscCall(PetscCalloc1(nb * SA_NC_NAME_LEN + 1, &cbuf));
  start[0] = (size_t) m0;
  count[0] = (size_t) nb;
#define SA_PUT_INT(V, expr)                                        \
  do {                                                             \
    for (PetscInt i = 0; i < nb; i++) {                            \
      const SAMember *mm = &c->members[m0 + i];                    \
      (void) mm;                                                   \
      ibuf[i] = (int) (expr);                                      \
    }                                                              \
    SACallNC(nc_put_vara_int, (ncid, vid[V], start, count, ibuf)); \
  } while (0)
  SA_PUT_INT(V_MEMBER, mm->id);
  SA_PUT_INT(V_CONFIG, mm->config);
  SA_PUT_INT(V_DIM, mm->pert < 0 ? 0 : c->pertdim[mm->pert]);
  SA_PUT_INT(V_ONSET, mm->pert < 0 ? NC_FILL_INT : c->pertonset[mm->pert]);
  SA_PUT_INT(V_DUR, mm->pert < 0 ? NC_FILL_INT : c->pertduration[mm->pert]);
  SA_PUT_INT(V_SHAPE, mm->pert < 0 ? NC_FILL_INT : c->pertshape[mm->pert]);
  SA_PUT_INT(V_SEED, mm->seed);
  SA_PUT_INT(V_TWIN, mm->twin);
#undef SA_PUT_INT
  for (PetscInt i = 0; i < nb; i++)
    dbuf[i] = c->members[m0 + i].pert < 0 ? NC_FILL_DOUBLE : c->members[m0 + i].magnitude;
  SACallNC(nc_put_vara_double, (ncid, vid[V_MAG], start, count, dbuf));
  count[1] = SA_NC_NAME_LEN;
  start[1] = 0;
  for (PetscInt i = 0; i < nb; i++) {
    const SAMember *mm = &c->members[m0 + i];
    PetscCall(PetscStrncpy(cbuf + i * SA_NC_NAME_LEN, mm->pert < 0 ? "none" : c->pertkind[mm->pert], SA_NC_NAME_LEN));
  }
  SACallNC(nc_put_vara_text, (ncid, vid[V_KIND], start, count, cbuf));
  PetscCall(PetscMemzero(cbuf, (size_t) nb * SA_NC_NAME_LEN + 1));
  for (PetscInt i = 0; i < nb; i++) {
    const SAMember *mm = &c->members[m0 + i];
    PetscCall(PetscStrncpy(cbuf + i * SA_NC_NAME_LEN, mm->pert < 0 ? "" : c->pertnames[mm->pert], SA_NC_NAME_LEN));
  }
  SACallNC(nc_put_vara_text, (ncid, vid[V_PERT], start, count, cbuf));

  /* results from the shards */
  PetscCall(PetscMalloc1(nb * R * O + 1, &obs));
  {
    int    *reason, *divstep;
    double *final;

    PetscCall(PetscMalloc3(nb + 1, &reason, nb + 1, &divstep, nb + 1, &final));
    for (PetscInt i = 0; i < nb; i++) {
      SAMemberResult r;

      PetscCall(SAShardRead(idx, m0 + i, &r));
      reason[i]  = (int) r.reason;
      divstep[i] = r.diverged_step < 0 ? NC_FILL_INT : (int) r.diverged_step;
      final[i]   = r.final_performance;
      for (PetscInt k = 0; k < R; k++)
        for (PetscInt o = 0; o < O; o++) obs[(o * nb + i) * R + k] = r.rec[k * O + o];
      PetscCall(SAMemberResultDestroy(&r));
    }
    SACallNC(nc_put_vara_int, (ncid, vid[V_REASON], start, count, reason));
    SACallNC(nc_put_vara_int, (ncid, vid[V_DIVSTEP], start, count, divstep));
    SACallNC(nc_put_vara_double, (ncid, vid[V_FINAL], start, count, final));
    PetscCall(PetscFree3(reason, divstep, final));
  }
  count[1] = (size_t) R;
  for (PetscInt o = 0; o < O; o++) SACallNC(nc_put_vara_double, (ncid, vobs[o], start, count, obs + o * nb * R));
  for (PetscInt k = 0; k < SA_RESULTS_NSECTIONS; k++)
    if (sections[k]) PetscCall((*SAResultsSections[k].put)(comm, ncid, sections[k], idx, m0, nb));
  for (PetscInt k = 0; k < SA_RESULTS_NSECTIONS; k++)
    if (sections[k]) PetscCall((*SAResultsSections[k].destroy)(&sections[k]));
  SACallNC(nc_close, (ncid));
  PetscCall(PetscFree(obs));
  PetscCall(PetscFree(ibuf));
  PetscCall(PetscFree(dbuf));
  PetscCall(PetscFree(cbuf));
  PetscCall(PetscFree(opts));
  PetscCall(SAFileCommit(comm, tmp, path));
  PetscCall(PetscLogEventEnd(SA_IOWrite, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}
