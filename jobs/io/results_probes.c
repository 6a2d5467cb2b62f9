/*
  results_probes.c - the probe variables of the campaign dataset results.nc (netCDF-4): dimensions probe (the largest
  number of probes of a member), eig (k) and density_grid; one variable per probe column over (member, probe[, eig |
  density_grid]); probe_step is an int (fill value where a member has fewer probes); density_grid is a coordinate
  variable. The layout is the probe's (SAProbeGetColumns); shards carry the rows in an optional trailing section
  (shard.c).
*/
#include <stabaudit/saio.h>
#include <netcdf_par.h>
#include <string.h>

struct _n_SAProbeNC {
  SAProbe  p;     /* the deck's probe (layout and grid) */
  PetscInt nmax;  /* the probe dimension */
  int      vgrid; /* density_grid coordinate variable */
  int     *vid;   /* one variable per column */
};

/*@C
  SAProbeResultsDefine - Defines the probe dimensions and variables of results.nc (define mode)

  Collective

  Input Parameters:
+ ncid - the dataset (define mode)
. c    - the campaign
- dmem - the member dimension

  Output Parameter:
. ctx - the probe layout for `SAProbeResultsPut()` (NULL when the deck turns no probe on: nothing is defined)

  Level: developer

.seealso: `SAResultsWrite()`, `SAProbeResultsPut()`
@*/
PetscErrorCode SAProbeResultsDefine(int ncid, SACampaign c, int dmem, SAProbeNC *ctx)
{
  SAProbeNC            x;
  SAProbe              p;
  PetscInt             nc, n;
  const SAProbeColumn *col;
  int                  dprobe, deig, dgrid, dims[3];

  PetscFunctionBeginUser;
  *ctx = NULL;
  PetscCall(SAProbeCreateForMember(PETSC_COMM_SELF, c->seed, 0, c->nsteps, -1, &p));
  if (!p) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscNew(&x));
  x->p = p;
  PetscCall(SAProbeNumScheduled(p, c->nsteps, -1, &x->nmax));
  for (PetscInt b = 0; b < c->nperts; b++) {
    PetscCall(SAProbeNumScheduled(p, c->nsteps, c->pertonset[b], &n));
    x->nmax = PetscMax(x->nmax, n);
  }
  PetscCall(SAProbeGetColumns(p, &nc, &col, NULL));
  PetscCall(PetscMalloc1(nc, &x->vid));
  SACallNC(nc_def_dim, (ncid, "probe", (size_t) PetscMax(x->nmax, 1), &dprobe));
  {
    PetscInt         nev, ngrid;
    const PetscReal *grid;

    PetscCall(SAProbeGetNumEigenvalues(p, &nev));
    PetscCall(SAProbeGetDensityGrid(p, &ngrid, &grid));
    SACallNC(nc_def_dim, (ncid, "eig", (size_t) nev, &deig));
    SACallNC(nc_def_dim, (ncid, "density_grid", (size_t) ngrid, &dgrid));
  }
  PetscCall(SANCDefVar(ncid, "density_grid", NC_DOUBLE, 1, &dgrid, "eigenvalue grid of the Hessian density (SLQ)", "1",
                       &x->vgrid));
  dims[0] = dmem;
  dims[1] = dprobe;
  for (PetscInt j = 0; j < nc; j++) {
    nc_type type = strcmp(col[j].name, "probe_step") ? NC_DOUBLE : NC_INT;

    dims[2] = col[j].dim == 1 ? deig : dgrid;
    PetscCall(
      SANCDefVar(ncid, col[j].name, type, col[j].dim ? 3 : 2, dims, col[j].long_name, col[j].units, &x->vid[j]));
  }
  *ctx = x;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeResultsPut - Writes the probe variables of a block of members (data mode, collective)

  Collective

  Input Parameters:
+ comm - the communicator of the dataset
. ncid - the dataset
. ctx  - from `SAProbeResultsDefine()` (NULL: nothing to do)
. idx  - the shard index
. m0   - first member of this rank's block
- nb   - members in the block

  Level: developer

.seealso: `SAProbeResultsDefine()`
@*/
PetscErrorCode SAProbeResultsPut(MPI_Comm comm, int ncid, SAProbeNC ctx, const SAShardIndex *idx, PetscInt m0,
                                 PetscInt nb)
{
  PetscInt             nc, rowlen, P;
  const SAProbeColumn *col;
  PetscReal           *all;
  PetscMPIInt          rank;
  size_t               start[3] = {0, 0, 0}, count[3];

  PetscFunctionBeginUser;
  if (!ctx) PetscFunctionReturn(PETSC_SUCCESS);
  P = PetscMax(ctx->nmax, 1);
  PetscCall(SAProbeGetColumns(ctx->p, &nc, &col, &rowlen));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  SACallNC(nc_var_par_access, (ncid, ctx->vgrid, NC_COLLECTIVE));
  {
    PetscInt         ngrid;
    const PetscReal *grid;

    PetscCall(SAProbeGetDensityGrid(ctx->p, &ngrid, &grid));
    count[0] = rank ? 0 : (size_t) ngrid;
    SACallNC(nc_put_vara_double, (ncid, ctx->vgrid, start, count, grid));
  }
  /* the block's rows: nb x P x rowlen, fill value where a member has fewer probes */
  PetscCall(PetscMalloc1(nb * P * rowlen + 1, &all));
  for (PetscInt i = 0; i < nb * P * rowlen; i++) all[i] = NC_FILL_DOUBLE;
  for (PetscInt i = 0; i < nb; i++) {
    SAMemberResult r;

    PetscCall(SAShardRead(idx, m0 + i, &r));
    if (r.plen == rowlen)
      for (PetscInt k = 0; k < PetscMin(r.nprobe, P); k++)
        PetscCall(PetscArraycpy(all + (i * P + k) * rowlen, r.probe + k * rowlen, rowlen));
    PetscCall(SAMemberResultDestroy(&r));
  }
  for (PetscInt j = 0; j < nc; j++) {
    PetscInt len = col[j].len;
    double  *buf;

    SACallNC(nc_var_par_access, (ncid, ctx->vid[j], NC_COLLECTIVE));
    PetscCall(PetscMalloc1(nb * P * len + 1, &buf));
    for (PetscInt i = 0; i < nb * P; i++)
      for (PetscInt e = 0; e < len; e++) buf[i * len + e] = all[i * rowlen + col[j].offset + e];
    start[0] = (size_t) m0;
    count[0] = (size_t) nb;
    count[1] = (size_t) P;
    count[2] = (size_t) len;
    if (!strcmp(col[j].name, "probe_step")) {
      int *ib;

      PetscCall(PetscMalloc1(nb * P + 1, &ib));
      for (PetscInt i = 0; i < nb * P; i++) ib[i] = buf[i] == NC_FILL_DOUBLE ? NC_FILL_INT : (int) buf[i];
      SACallNC(nc_put_vara_int, (ncid, ctx->vid[j], start, count, ib));
      PetscCall(PetscFree(ib));
    } else SACallNC(nc_put_vara_double, (ncid, ctx->vid[j], start, count, buf));
    PetscCall(PetscFree(buf));
  }
  PetscCall(PetscFree(all));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeResultsDestroy - Frees the context of `SAProbeResultsDefine()`

  Not Collective

  Input Parameter:
. ctx - the context (may be NULL; set to NULL)

  Level: developer

.seealso: `SAProbeResultsDefine()`
@*/
PetscErrorCode SAProbeResultsDestroy(SAProbeNC *ctx)
{
  PetscFunctionBeginUser;
  if (!*ctx) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SAProbeDestroy(&(*ctx)->p));
  PetscCall(PetscFree((*ctx)->vid));
  PetscCall(PetscFree(*ctx));
  PetscFunctionReturn(PETSC_SUCCESS);
}
