/*
  twin.c - SATwin: the twin distance as a solver monitor.

  A twin writes theta at every recorded step to DIR/trajectories/t<twin>.bin; a perturbed member reads its twin's record
  of the same step and records twin_distance = ||theta - theta_twin|| / ||theta_twin||. Record r of the file is theta at
  step r * record_every, in global index order, float64, at byte offset 8 r P: each rank writes or reads its
  contiguous part with MPI-IO, so the file does not depend on the group size and re-writing a record after a restart
  is idempotent. A perturbed member reads a record only after its twin has finished (the ensemble schedules it so).
  Where the record is missing (twin diverged earlier, or finished in an older campaign without perturbations) or not
  finite, twin_distance is the fill value; before onset it is the fill value too (the member equals its twin bitwise
  there, which the tests check).
*/
#include <stabaudit/saanalysis.h>
#include <netcdf.h>

struct _p_SATwin {
  MPI_Comm  comm;
  char      path[PETSC_MAX_PATH_LEN]; /* the trajectory file, opened at the first recorded step */
  PetscBool write, opened;
  PetscInt  mode;  /* 0 none (the perturbed member's twin file is absent), 1 write (a twin), 2 read (a member) */
  MPI_File  file;  /* the twin's trajectory */
  PetscInt  onset; /* first step at which a member computes the distance */
  Vec       twin;  /* the twin's theta at the step (mode 2) */
};

/*@C
  SATwinCreate - Opens a twin's trajectory file for the twin itself or for one of its perturbed members

  Collective

  Input Parameters:
+ comm  - the member's group communicator
. path  - the file, DIR/trajectories/t<twin>.bin
. write - PETSC_TRUE for the twin (it writes theta at each recorded step), PETSC_FALSE for a perturbed member (it
          reads the twin's theta and records twin_distance; an absent file gives no distance)
- onset - first step at which a perturbed member computes the distance (its perturbation's onset)

  Output Parameter:
. tw - the monitor context (`SATwinAttach()`)

  Notes:
  The file is opened at the first recorded step the monitor sees, so that a perturbed member opens its twin's file
  once the twin has finished.

  Level: developer

.seealso: `SATwinAttach()`, `SATwinMonitor()`
@*/
PetscErrorCode SATwinCreate(MPI_Comm comm, const char path[], PetscBool write, PetscInt onset, SATwin *tw)
{
  SATwin t;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&t));
  t->comm  = comm;
  t->onset = onset;
  t->write = write;
  PetscCall(PetscStrncpy(t->path, path, sizeof(t->path)));
  *tw = t;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATwinMonitor - Writes theta (a twin) or records twin_distance (a perturbed member) at the recorded steps

  Collective

  Input Parameters:
+ s    - the solver
. info - the step's state (recorded steps only are used, diverged or not)
- ctx  - the `SATwin`

  Level: developer

.seealso: `SATwinCreate()`, `SATwinAttach()`
@*/
PetscErrorCode SATwinMonitor(SASolver s, const SASolverStepInfo *info, void *ctx)
{
  SATwin      tw = (SATwin) ctx;
  PetscInt    rs, re, P;
  MPI_Offset  off;
  MPI_Status  st;
  PetscMPIInt n;

  PetscFunctionBeginUser;
  if (info->row < 0) PetscFunctionReturn(PETSC_SUCCESS);
  if (!tw->opened) {
    tw->opened = PETSC_TRUE;
    if (tw->write) {
      PetscCallMPI(MPI_File_open(tw->comm, tw->path, MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL, &tw->file));
      tw->mode = 1;
    } else if (MPI_File_open(tw->comm, tw->path, MPI_MODE_RDONLY, MPI_INFO_NULL, &tw->file) == MPI_SUCCESS) {
      tw->mode = 2; /* absent: no distance */
    }
  }
  if (!tw->mode) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(VecGetOwnershipRange(info->theta, &rs, &re));
  PetscCall(VecGetSize(info->theta, &P));
  off = ((MPI_Offset) info->row * P + rs) * (MPI_Offset) sizeof(PetscReal);
  n   = (PetscMPIInt) (re - rs);
  if (tw->mode == 1) {
    const PetscScalar *a;

    PetscCall(VecGetArrayRead(info->theta, &a));
    PetscCallMPI(MPI_File_write_at_all(tw->file, off, a, n, MPIU_REAL, &st));
    PetscCall(VecRestoreArrayRead(info->theta, &a));
  } else if (info->step >= tw->onset) {
    PetscScalar *a;
    int          got, ok;
    PetscReal    nt, nd;

    if (!tw->twin) PetscCall(VecDuplicate(info->theta, &tw->twin));
    PetscCall(VecGetArray(tw->twin, &a));
    PetscCallMPI(MPI_File_read_at_all(tw->file, off, a, n, MPIU_REAL, &st));
    PetscCallMPI(MPI_Get_count(&st, MPIU_REAL, &got));
    PetscCall(VecRestoreArray(tw->twin, &a));
    ok = got == n;
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_LAND, tw->comm));
    if (ok) {
      PetscCall(VecNorm(tw->twin, NORM_2, &nt));
      PetscCall(VecAXPY(tw->twin, -1.0, info->theta));
      PetscCall(VecNorm(tw->twin, NORM_2, &nd));
      if (nt > 0 && !PetscIsInfOrNanReal(nt) && !PetscIsInfOrNanReal(nd)) info->record[SA_OBS_TWIN_DIST] = nd / nt;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SATwinDestroyCtx(void **ctx)
{
  SATwin tw = (SATwin) *ctx;

  PetscFunctionBeginUser;
  PetscCall(SATwinDestroy(&tw));
  *ctx = NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATwinAttach - Attaches the twin-distance monitor to a member's solver (the solver takes ownership)

  Logically Collective

  Input Parameters:
+ tw - the monitor context (`SATwinCreate()`)
- s  - the solver

  Level: developer

.seealso: `SATwinCreate()`, `SASolverMonitorSet()`
@*/
PetscErrorCode SATwinAttach(SATwin tw, SASolver s)
{
  PetscFunctionBeginUser;
  PetscCall(SASolverMonitorSet(s, SATwinMonitor, tw, SATwinDestroyCtx));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SATwinDestroy - Closes the trajectory file and frees the context

  Collective

  Input Parameter:
. tw - the context (set to NULL)

  Level: developer

.seealso: `SATwinCreate()`
@*/
PetscErrorCode SATwinDestroy(SATwin *tw)
{
  PetscFunctionBeginUser;
  if (!*tw) PetscFunctionReturn(PETSC_SUCCESS);
  if ((*tw)->mode) PetscCallMPI(MPI_File_close(&(*tw)->file));
  PetscCall(VecDestroy(&(*tw)->twin));
  PetscCall(PetscFree(*tw));
  PetscFunctionReturn(PETSC_SUCCESS);
}
