/*
  checkpoint.c - member checkpoints in HDF5 through PetscViewerHDF5 (parallel on the group).

  A checkpoint holds theta ("theta"), each optimizer state vector (by its name), the records so
  far ("records", nrec x nobs flattened) and the attributes sa_format_version, sa_git_sha,
  member, step, reason, diverged_step, nrec, nobs; then each part given by the caller (the solver's monitors:
  the probe rows and warm starts of SAProbeCheckpointWrite(), the Lyapunov tangents lyap_q_<i>_<block>, lyap_logsum
  and the attributes lyap_k, lyap_steps, lyap_counted, lyap_failed, lyap_blocks of SALyapCheckpointWrite()), which
  read them back, or leave themselves as they are when the file has no such part. The step counter is the whole
  random state: streams are addressed by (step, index). Written to "<path>.tmp" and committed (SAFileCommit()), so a
  kill never leaves a half-written checkpoint under the real name.
*/
#include <stabaudit/sasolver.h>
#include <petscviewerhdf5.h>
#include <string.h>
#include <stdio.h>

static const char *const SACkptIntNames[] = {"member", "step", "reason", "diverged_step", "nrec", "nobs"};

/*@C
  SACheckpointWrite - Writes a member checkpoint atomically

  Collective on the group

  Input Parameters:
+ comm   - the group communicator
. path   - the checkpoint file
. info   - scalars and records
. theta  - the parameters
. nstate - number of optimizer state vectors
. state  - the state vectors
. names  - their names
. nparts - number of further parts
. ctx    - their contexts
- fn     - their writers, fn[i](ctx[i], viewer, theta)

  Level: developer

.seealso: `SACheckpointRead()`
@*/
PetscErrorCode SACheckpointWrite(MPI_Comm comm, const char path[], const SACheckpointInfo *info, Vec theta,
                                 PetscInt nstate, Vec state[], const char *const names[], PetscInt nparts,
                                 void *const ctx[], const SASolverCheckpointFn fn[])
{
  PetscViewer v;
  char        tmp[PETSC_MAX_PATH_LEN];
  PetscMPIInt rank;
  PetscInt    ver = SA_CHECKPOINT_FORMAT_VERSION, ints[6], n = info->nrec * info->nobs;
  const char *sha, *thetaname;
  Vec         rv;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(SA_CheckpointWrite, 0, 0, 0, 0));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(SAFileTmpName(path, tmp, sizeof(tmp)));
  PetscCall(SAGetGitSha(&sha));
  PetscCall(PetscViewerHDF5Open(comm, tmp, FILE_MODE_WRITE, &v));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "sa_format_version", PETSC_INT, &ver));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "sa_git_sha", PETSC_STRING, sha));
  ints[0] = info->member;
  ints[1] = info->step;
  ints[2] = (PetscInt) info->reason;
  ints[3] = info->diverged_step;
  ints[4] = info->nrec;
  ints[5] = info->nobs;
  for (PetscInt i = 0; i < 6; i++)
    PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, SACkptIntNames[i], PETSC_INT, &ints[i]));
  PetscCall(PetscObjectGetName((PetscObject) theta, &thetaname));
  PetscCall(PetscObjectSetName((PetscObject) theta, "theta"));
  PetscCall(VecView(theta, v));
  for (PetscInt i = 0; i < nstate; i++) {
    PetscCall(PetscObjectSetName((PetscObject) state[i], names[i]));
    PetscCall(VecView(state[i], v));
  }
  PetscCall(VecCreateMPI(comm, rank ? 0 : n, n, &rv));
  PetscCall(PetscObjectSetName((PetscObject) rv, "records"));
  if (!rank) {
    PetscScalar *a;
    PetscCall(VecGetArray(rv, &a));
    PetscCall(PetscArraycpy(a, info->rec, n));
    PetscCall(VecRestoreArray(rv, &a));
  }
  PetscCall(VecView(rv, v));
  PetscCall(VecDestroy(&rv));
  for (PetscInt i = 0; i < nparts; i++) PetscCall((*fn[i])(ctx[i], v, theta));
  PetscCall(PetscViewerDestroy(&v));
  PetscCall(SAFileCommit(comm, tmp, path));
  PetscCall(PetscLogEventEnd(SA_CheckpointWrite, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SACheckpointRead - Reads a member checkpoint into existing vectors

  Collective on the group

  Input Parameters:
+ comm   - the group communicator
. path   - the checkpoint file
. theta  - receives the parameters (layout of the member)
. nstate - number of optimizer state vectors
. state  - receive the state
. names  - their names
. nparts - number of further parts
. ctx    - their contexts
- fn     - their readers, fn[i](ctx[i], viewer, theta)

  Output Parameter:
. info - scalars and records (info->rec allocated; free with `PetscFree()`)

  Notes:
  A checkpoint of another format version is an error naming the file.

  Level: developer

.seealso: `SACheckpointWrite()`
@*/
PetscErrorCode SACheckpointRead(MPI_Comm comm, const char path[], SACheckpointInfo *info, Vec theta, PetscInt nstate,
                                Vec state[], const char *const names[], PetscInt nparts, void *const ctx[],
                                const SASolverCheckpointFn fn[])
{
  PetscViewer v;
  PetscInt    ver = -1, ints[6], n;
  Vec         rv;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(SA_CheckpointRead, 0, 0, 0, 0));
  PetscCall(PetscViewerHDF5Open(comm, path, FILE_MODE_READ, &v));
  PetscCall(PetscViewerHDF5ReadAttribute(v, NULL, "sa_format_version", PETSC_INT, NULL, &ver));
  PetscCheck(ver == SA_CHECKPOINT_FORMAT_VERSION, comm, PETSC_ERR_FILE_UNEXPECTED,
             "Checkpoint %s has format version %" PetscInt_FMT ", this stabaudit reads version %d", path, ver,
             SA_CHECKPOINT_FORMAT_VERSION);
  for (PetscInt i = 0; i < 6; i++)
    PetscCall(PetscViewerHDF5ReadAttribute(v, NULL, SACkptIntNames[i], PETSC_INT, NULL, &ints[i]));
  info->member        = ints[0];
  info->step          = ints[1];
  info->reason        = (SAConvergedReason) ints[2];
  info->diverged_step = ints[3];
  info->nrec          = ints[4];
  info->nobs          = ints[5];
  PetscCall(PetscObjectSetName((PetscObject) theta, "theta"));
  PetscCall(VecLoad(theta, v));
  for (PetscInt i = 0; i < nstate; i++) {
    PetscCall(PetscObjectSetName((PetscObject) state[i], names[i]));
    PetscCall(VecLoad(state[i], v));
  }
  n = info->nrec * info->nobs;
  PetscCall(VecCreateMPI(comm, PETSC_DECIDE, n, &rv));
  PetscCall(PetscObjectSetName((PetscObject) rv, "records"));
  PetscCall(VecLoad(rv, v));
  PetscCall(PetscMalloc1(n, &info->rec));
  {
    VecScatter         sc;
    Vec                all;
    const PetscScalar *a;

    PetscCall(VecScatterCreateToAll(rv, &sc, &all));
    PetscCall(VecScatterBegin(sc, rv, all, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterEnd(sc, rv, all, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecGetArrayRead(all, &a));
    PetscCall(PetscArraycpy(info->rec, a, n));
    PetscCall(VecRestoreArrayRead(all, &a));
    PetscCall(VecScatterDestroy(&sc));
    PetscCall(VecDestroy(&all));
  }
  PetscCall(VecDestroy(&rv));
  for (PetscInt i = 0; i < nparts; i++) PetscCall((*fn[i])(ctx[i], v, theta));
  PetscCall(PetscViewerDestroy(&v));
  PetscCall(PetscLogEventEnd(SA_CheckpointRead, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}
