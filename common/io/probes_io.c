/*
  probes_io.c - probe rows and warm-start vectors in member checkpoints (HDF5), and the probe variables of the
  campaign dataset results.nc (netCDF-4). Shards carry the rows in an optional trailing section (shard.c).

  Checkpoint (inside the member's HDF5 file, next to theta): attributes probe_nrows, probe_rowlen, probe_ntop,
  probe_nbot, probe_npre; the rows as the vector "probe_rows" (nrows x rowlen, flattened); the warm-start
  eigenvectors "probe_top_<i>", "probe_bot_<i>", "probe_pre" (theta's layout). Restoring them makes a resumed or
  branched member's probes bitwise equal to an uninterrupted run's.
  Dataset: dimensions probe (the largest number of probes of a member), eig (k) and density_grid; one variable
  per probe column over (member, probe[, eig | density_grid]); probe_step is an int (fill value where a member
  has fewer probes); density_grid is a coordinate variable.
*/
#include <stabaudit/private/saprobeimpl.h>
#include <stabaudit/saio.h>
#include <petscviewerhdf5.h>
#include <netcdf_par.h>
#include <string.h>

/* rows of n entries on rank 0 of comm as one global Vec named name */
static PetscErrorCode SAProbeViewArray(PetscViewer v, MPI_Comm comm, const char name[], PetscInt n, const PetscReal a[])
{
  Vec         rv;
  PetscMPIInt rank;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(VecCreateMPI(comm, rank ? 0 : n, n, &rv));
  PetscCall(PetscObjectSetName((PetscObject) rv, name));
  if (!rank) {
    PetscScalar *x;

    PetscCall(VecGetArray(rv, &x));
    for (PetscInt i = 0; i < n; i++) x[i] = a[i];
    PetscCall(VecRestoreArray(rv, &x));
  }
  PetscCall(VecView(rv, v));
  PetscCall(VecDestroy(&rv));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeCheckpointWrite - Writes the probe rows and warm-start vectors into an open checkpoint

  Collective on the group

  Input Parameters:
+ p - the member's probe (NULL: nothing is written)
- v - the checkpoint's HDF5 viewer (`SACheckpointWrite()`)

  Level: developer

.seealso: `SAProbeCheckpointRead()`, `SACheckpointWrite()`
@*/
PetscErrorCode SAProbeCheckpointWrite(SAProbe p, PetscViewer v)
{
  PetscInt ints[5];
  char     name[32];

  PetscFunctionBeginUser;
  if (!p) PetscFunctionReturn(PETSC_SUCCESS);
  ints[0] = p->nrows;
  ints[1] = p->rowlen;
  ints[2] = p->ntop;
  ints[3] = p->nbot;
  ints[4] = p->wpre ? 1 : 0;
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "probe_nrows", PETSC_INT, &ints[0]));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "probe_rowlen", PETSC_INT, &ints[1]));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "probe_ntop", PETSC_INT, &ints[2]));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "probe_nbot", PETSC_INT, &ints[3]));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "probe_npre", PETSC_INT, &ints[4]));
  PetscCall(SAProbeViewArray(v, p->comm, "probe_rows", p->nrows * p->rowlen, p->rows));
  for (PetscInt i = 0; i < p->ntop; i++) {
    PetscCall(PetscSNPrintf(name, sizeof(name), "probe_top_%" PetscInt_FMT, i));
    PetscCall(PetscObjectSetName((PetscObject) p->wtop[i], name));
    PetscCall(VecView(p->wtop[i], v));
  }
  for (PetscInt i = 0; i < p->nbot; i++) {
    PetscCall(PetscSNPrintf(name, sizeof(name), "probe_bot_%" PetscInt_FMT, i));
    PetscCall(PetscObjectSetName((PetscObject) p->wbot[i], name));
    PetscCall(VecView(p->wbot[i], v));
  }
  if (p->wpre) {
    PetscCall(PetscObjectSetName((PetscObject) p->wpre, "probe_pre"));
    PetscCall(VecView(p->wpre, v));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAProbeLoadVec(PetscViewer v, Vec theta, const char name[], Vec *w)
{
  PetscFunctionBeginUser;
  if (!*w) PetscCall(VecDuplicate(theta, w));
  PetscCall(PetscObjectSetName((PetscObject) *w, name));
  PetscCall(VecLoad(*w, v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeCheckpointRead - Restores probe rows (by their step) and warm-start vectors from an open checkpoint

  Collective on the group

  Input Parameters:
+ p     - the member's probe (NULL: nothing is read)
. v     - the checkpoint's HDF5 viewer (`SACheckpointRead()`)
- theta - a vector of theta's layout (for the warm-start vectors)

  Notes:
  A checkpoint without probe data (written with probes off) leaves the probe as it is. The rows of a twin's
  branch point fill the rows of the same steps of the perturbed member.

  Level: developer

.seealso: `SAProbeCheckpointWrite()`, `SAProbeSetRecords()`
@*/
PetscErrorCode SAProbeCheckpointRead(SAProbe p, PetscViewer v, Vec theta)
{
  PetscBool has;
  PetscInt  ints[5], n;
  char      name[32];
  Vec       rv;

  PetscFunctionBeginUser;
  if (!p) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscViewerHDF5HasAttribute(v, NULL, "probe_rowlen", &has));
  if (!has) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscViewerHDF5ReadAttribute(v, NULL, "probe_nrows", PETSC_INT, NULL, &ints[0]));
  PetscCall(PetscViewerHDF5ReadAttribute(v, NULL, "probe_rowlen", PETSC_INT, NULL, &ints[1]));
  PetscCall(PetscViewerHDF5ReadAttribute(v, NULL, "probe_ntop", PETSC_INT, NULL, &ints[2]));
  PetscCall(PetscViewerHDF5ReadAttribute(v, NULL, "probe_nbot", PETSC_INT, NULL, &ints[3]));
  PetscCall(PetscViewerHDF5ReadAttribute(v, NULL, "probe_npre", PETSC_INT, NULL, &ints[4]));
  n = ints[0] * ints[1];
  if (n > 0) {
    VecScatter         sc;
    Vec                all;
    const PetscScalar *a;
    PetscReal         *rows;

    PetscCall(VecCreateMPI(p->comm, PETSC_DECIDE, n, &rv));
    PetscCall(PetscObjectSetName((PetscObject) rv, "probe_rows"));
    PetscCall(VecLoad(rv, v));
    PetscCall(VecScatterCreateToAll(rv, &sc, &all));
    PetscCall(VecScatterBegin(sc, rv, all, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterEnd(sc, rv, all, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(PetscMalloc1(n, &rows));
    PetscCall(VecGetArrayRead(all, &a));
    for (PetscInt i = 0; i < n; i++) rows[i] = PetscRealPart(a[i]);
    PetscCall(VecRestoreArrayRead(all, &a));
    PetscCall(SAProbeSetRecords(p, ints[0], ints[1], rows));
    PetscCall(PetscFree(rows));
    PetscCall(VecScatterDestroy(&sc));
    PetscCall(VecDestroy(&all));
    PetscCall(VecDestroy(&rv));
  }
  PetscCall(SAProbeResetWarmStart(p));
  if (!p->warm) PetscFunctionReturn(PETSC_SUCCESS);
  p->ntop = PetscMin(ints[2], p->nev);
  p->nbot = PetscMin(ints[3], p->nev);
  for (PetscInt i = 0; i < p->ntop; i++) {
    PetscCall(PetscSNPrintf(name, sizeof(name), "probe_top_%" PetscInt_FMT, i));
    PetscCall(SAProbeLoadVec(v, theta, name, &p->wtop[i]));
  }
  for (PetscInt i = 0; i < p->nbot; i++) {
    PetscCall(PetscSNPrintf(name, sizeof(name), "probe_bot_%" PetscInt_FMT, i));
    PetscCall(SAProbeLoadVec(v, theta, name, &p->wbot[i]));
  }
  if (ints[4]) PetscCall(SAProbeLoadVec(v, theta, "probe_pre", &p->wpre));
  PetscFunctionReturn(PETSC_SUCCESS);
}

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
  SACallNC(nc_def_dim, (ncid, "eig", (size_t) p->nev, &deig));
  SACallNC(nc_def_dim, (ncid, "density_grid", (size_t) p->ngrid, &dgrid));
  PetscCall(SANCDefVar(ncid, "density_grid", NC_DOUBLE, 1, &dgrid, "eigenvalue grid of the Hessian density (SLQ)", "1",
                       &x->vgrid));
  dims[0] = dmem;
  dims[1] = dprobe;
  for (PetscInt j = 0; j < nc; j++) {
    nc_type type = j == SA_PROBE_C_STEP ? NC_INT : NC_DOUBLE;

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
  count[0] = rank ? 0 : (size_t) ctx->p->ngrid;
  SACallNC(nc_put_vara_double, (ncid, ctx->vgrid, start, count, ctx->p->grid));
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
    if (j == SA_PROBE_C_STEP) {
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
