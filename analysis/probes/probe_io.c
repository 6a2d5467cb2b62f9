/*
  probe_io.c - the probe's part of a member checkpoint (HDF5): its rows and warm-start vectors. The probe variables
  of results.nc are written by the campaign layer (jobs/io/results_probes.c), from the probe's public layout.

  Checkpoint (inside the member's HDF5 file, next to theta): attributes probe_nrows, probe_rowlen, probe_ntop,
  probe_nbot, probe_npre; the rows as the vector "probe_rows" (nrows x rowlen, flattened); the warm-start
  eigenvectors "probe_top_<i>", "probe_bot_<i>", "probe_pre" (theta's layout). Restoring them makes a resumed or
  branched member's probes bitwise equal to an uninterrupted run's.
*/
#include <stabaudit/private/saprobeimpl.h>
#include <petscviewerhdf5.h>
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
- v - the checkpoint's HDF5 viewer (`SASolverWriteCheckpoint()`)

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
  PetscCall(SAProbeViewArray(v, PetscObjectComm((PetscObject) p), "probe_rows", p->nrows * p->rowlen, p->rows));
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

    PetscCall(VecCreateMPI(PetscObjectComm((PetscObject) p), PETSC_DECIDE, n, &rv));
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
