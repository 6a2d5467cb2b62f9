/*
  lyapunov_io.c - SALyap in a member's run: its part of the checkpoint (tangents block by block in theta's layout,
  log-sums, counters) and its solver monitor (lyapunov.c holds the accumulator).
*/
#include <stabaudit/private/salyapimpl.h>
#include <stabaudit/sasolver.h>
#include <stabaudit/sadeck.h>
#include <petscviewerhdf5.h>

/*@C
  SALyapCheckpointWrite - Writes the state (tangents, log-sums, counters) into an open checkpoint

  Collective on the group

  Input Parameters:
+ ly    - the object (NULL: nothing is written)
. v     - the checkpoint's HDF5 viewer (`SACheckpointWrite()`)
- theta - a vector of theta's layout: each tangent is written block by block in it (lyap_q_<i>_<b>)

  Level: developer

.seealso: `SALyapCheckpointRead()`
@*/
PetscErrorCode SALyapCheckpointWrite(SALyap ly, PetscViewer v, Vec theta)
{
  PetscInt ints[5], nloc, qloc = 0;
  char     name[48];

  PetscFunctionBeginUser;
  if (!ly) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(VecGetLocalSize(theta, &nloc));
  if (ly->Q) PetscCall(VecGetLocalSize(ly->Q[0], &qloc));
  ints[0] = ly->k;
  ints[1] = ly->steps;
  ints[2] = ly->counted;
  ints[3] = ly->failed ? 1 : 0;
  ints[4] = 0; /* blocks of J's layout (1 + optimizer state vectors); 0 before the first step */
  if (ly->Q) {
    PetscMPIInt ok;

    ints[4] = nloc > 0 ? qloc / nloc : 0;
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &ints[4], 1, MPIU_INT, MPI_MAX, PetscObjectComm((PetscObject) ly)));
    ok = qloc == ints[4] * nloc ? 1 : 0;
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_LAND, PetscObjectComm((PetscObject) ly)));
    PetscCheck(ok, PetscObjectComm((PetscObject) ly), PETSC_ERR_ARG_INCOMP,
               "Tangents of local size %" PetscInt_FMT " are not %" PetscInt_FMT
               " blocks of theta's local size %" PetscInt_FMT,
               qloc, ints[4], nloc);
  }
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "lyap_k", PETSC_INT, &ints[0]));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "lyap_steps", PETSC_INT, &ints[1]));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "lyap_counted", PETSC_INT, &ints[2]));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "lyap_failed", PETSC_INT, &ints[3]));
  PetscCall(PetscViewerHDF5WriteAttribute(v, NULL, "lyap_blocks", PETSC_INT, &ints[4]));
  if (!ly->Q) PetscFunctionReturn(PETSC_SUCCESS);
  {
    PetscMPIInt rank;
    Vec         lv;

    PetscCallMPI(MPI_Comm_rank(PetscObjectComm((PetscObject) ly), &rank));
    PetscCall(VecCreateMPI(PetscObjectComm((PetscObject) ly), rank ? 0 : ly->k, ly->k, &lv));
    PetscCall(PetscObjectSetName((PetscObject) lv, "lyap_logsum"));
    if (!rank) {
      PetscScalar *a;

      PetscCall(VecGetArray(lv, &a));
      for (PetscInt i = 0; i < ly->k; i++) a[i] = ly->logsum[i];
      PetscCall(VecRestoreArray(lv, &a));
    }
    PetscCall(VecView(lv, v));
    PetscCall(VecDestroy(&lv));
  }
  {
    Vec w;

    PetscCall(VecDuplicate(theta, &w));
    for (PetscInt i = 0; i < ly->k; i++) {
      const PetscScalar *q;
      PetscScalar       *a;

      PetscCall(VecGetArrayRead(ly->Q[i], &q));
      for (PetscInt b = 0; b < ints[4]; b++) {
        PetscCall(VecGetArray(w, &a));
        PetscCall(PetscArraycpy(a, q + b * nloc, nloc));
        PetscCall(VecRestoreArray(w, &a));
        PetscCall(PetscSNPrintf(name, sizeof(name), "lyap_q_%" PetscInt_FMT "_%" PetscInt_FMT, i, b));
        PetscCall(PetscObjectSetName((PetscObject) w, name));
        PetscCall(VecView(w, v));
      }
      PetscCall(VecRestoreArrayRead(ly->Q[i], &q));
    }
    PetscCall(VecDestroy(&w));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SALyapCheckpointRead - Restores the state (tangents, log-sums, counters) from an open checkpoint

  Collective on the group

  Input Parameters:
+ ly    - the object (NULL: nothing is read)
. v     - the checkpoint's HDF5 viewer (`SACheckpointRead()`)
- theta - a vector of theta's layout (of the group that reads)

  Notes:
  A checkpoint without Lyapunov state leaves the object as it is (the tangents start at the next step). A twin's
  branch point gives the perturbed member the twin's tangents and log-sums, so that branching is bitwise equal to
  training from step 0.

  Level: developer

.seealso: `SALyapCheckpointWrite()`
@*/
PetscErrorCode SALyapCheckpointRead(SALyap ly, PetscViewer v, Vec theta)
{
  PetscBool has;
  PetscInt  ints[5], nloc;
  char      name[48];

  PetscFunctionBeginUser;
  if (!ly) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscViewerHDF5HasAttribute(v, NULL, "lyap_k", &has));
  if (!has) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscViewerHDF5ReadAttribute(v, NULL, "lyap_k", PETSC_INT, NULL, &ints[0]));
  PetscCall(PetscViewerHDF5ReadAttribute(v, NULL, "lyap_steps", PETSC_INT, NULL, &ints[1]));
  PetscCall(PetscViewerHDF5ReadAttribute(v, NULL, "lyap_counted", PETSC_INT, NULL, &ints[2]));
  PetscCall(PetscViewerHDF5ReadAttribute(v, NULL, "lyap_failed", PETSC_INT, NULL, &ints[3]));
  PetscCall(PetscViewerHDF5ReadAttribute(v, NULL, "lyap_blocks", PETSC_INT, NULL, &ints[4]));
  PetscCheck(ints[0] == ly->k, PetscObjectComm((PetscObject) ly), PETSC_ERR_FILE_UNEXPECTED,
             "Checkpoint holds %" PetscInt_FMT " Lyapunov tangents, the deck asks for lyap_k %" PetscInt_FMT, ints[0],
             ly->k);
  if (ly->Q) {
    PetscCall(VecDestroyVecs(ly->k, &ly->Q));
    PetscCall(VecDestroyVecs(ly->k, &ly->W));
  }
  PetscCall(PetscFree(ly->logsum));
  ly->steps   = ints[1];
  ly->counted = ints[2];
  ly->failed  = ints[3] ? PETSC_TRUE : PETSC_FALSE;
  if (!ints[4]) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(VecGetLocalSize(theta, &nloc));
  {
    Vec                lv, all, q;
    VecScatter         sc;
    const PetscScalar *a;

    PetscCall(VecCreateMPI(PetscObjectComm((PetscObject) ly), PETSC_DECIDE, ly->k, &lv));
    PetscCall(PetscObjectSetName((PetscObject) lv, "lyap_logsum"));
    PetscCall(VecLoad(lv, v));
    PetscCall(VecScatterCreateToAll(lv, &sc, &all));
    PetscCall(VecScatterBegin(sc, lv, all, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterEnd(sc, lv, all, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(PetscMalloc1(ly->k, &ly->logsum));
    PetscCall(VecGetArrayRead(all, &a));
    for (PetscInt i = 0; i < ly->k; i++) ly->logsum[i] = PetscRealPart(a[i]);
    PetscCall(VecRestoreArrayRead(all, &a));
    PetscCall(VecScatterDestroy(&sc));
    PetscCall(VecDestroy(&all));
    PetscCall(VecDestroy(&lv));
    PetscCall(VecCreate(PetscObjectComm((PetscObject) ly), &q)); /* the layout of MatCreateVecs() on the Jacobian */
    PetscCall(VecSetSizes(q, ints[4] * nloc, PETSC_DETERMINE));
    PetscCall(VecSetType(q, VECSTANDARD));
    PetscCall(VecDuplicateVecs(q, ly->k, &ly->Q));
    PetscCall(VecDuplicateVecs(q, ly->k, &ly->W));
    PetscCall(VecDestroy(&q));
  }
  {
    Vec w;

    PetscCall(VecDuplicate(theta, &w));
    for (PetscInt i = 0; i < ly->k; i++) {
      PetscScalar       *qa;
      const PetscScalar *a;

      PetscCall(VecGetArray(ly->Q[i], &qa));
      for (PetscInt b = 0; b < ints[4]; b++) {
        PetscCall(PetscSNPrintf(name, sizeof(name), "lyap_q_%" PetscInt_FMT "_%" PetscInt_FMT, i, b));
        PetscCall(PetscObjectSetName((PetscObject) w, name));
        PetscCall(VecLoad(w, v));
        PetscCall(VecGetArrayRead(w, &a));
        PetscCall(PetscArraycpy(qa + b * nloc, a, nloc));
        PetscCall(VecRestoreArrayRead(w, &a));
      }
      PetscCall(VecRestoreArray(ly->Q[i], &qa));
    }
    PetscCall(VecDestroy(&w));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SALyapMonitor - The accumulator as a solver monitor: propagates the tangents through the Jacobian of every update

  Collective

  Input Parameters:
+ s    - the solver
. info - the step's state
- ctx  - the accumulator

  Notes:
  Steps t < nsteps that did not diverge: `SALyapStep()` on `SASolverGetStepJacobian()`, the Jacobian of the update as
  applied (the step's batch, its learning signal and gradient hooks, its final hyper-parameters).

  Level: intermediate

.seealso: `SALyapAttach()`, `SASolverMonitorSet()`
@*/
PetscErrorCode SALyapMonitor(SASolver s, const SASolverStepInfo *info, void *ctx)
{
  Mat J;

  PetscFunctionBeginUser;
  if (info->diverged || info->step >= info->nsteps) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SASolverGetStepJacobian(s, &J));
  PetscCall(SALyapStep((SALyap) ctx, J));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SALyapCheckpointWriteCtx(void *ctx, PetscViewer v, Vec theta)
{
  PetscFunctionBeginUser;
  PetscCall(SALyapCheckpointWrite((SALyap) ctx, v, theta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SALyapCheckpointReadCtx(void *ctx, PetscViewer v, Vec theta)
{
  PetscFunctionBeginUser;
  PetscCall(SALyapCheckpointRead((SALyap) ctx, v, theta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SALyapAttach - Attaches the member's accumulator to its solver as a monitor with a part of the checkpoint

  Logically Collective

  Input Parameters:
+ ly - the accumulator (`SALyapCreateForMember()`); the solver takes ownership
- s  - the solver

  Level: intermediate

.seealso: `SALyapMonitor()`, `SASolverMonitorSetCheckpoint()`
@*/
PetscErrorCode SALyapAttach(SALyap ly, SASolver s)
{
  PetscFunctionBeginUser;
  PetscCall(SASolverMonitorSet(s, SALyapMonitor, ly, SAObjectDestroyCtx));
  PetscCall(SASolverMonitorSetCheckpoint(s, ly, SALyapCheckpointWriteCtx, SALyapCheckpointReadCtx));
  PetscFunctionReturn(PETSC_SUCCESS);
}
