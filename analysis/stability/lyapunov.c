/*
  lyapunov.c - SALyap: the leading k Lyapunov exponents along a trajectory by QR (Benettin) propagation of k
  tangent vectors through the update-map Jacobians J_t of the steps (SASolverGetStepJacobian(), sasolver.h):
  W = J_t Q at every step, Q R = W (modified Gram-Schmidt) every `every` steps, lambda_i = sum log R_ii / steps,
  accumulated after a transient of `transient` steps. k = exponents, n = size of J.
  In training (SALyapCreateForMember(), deck section lyap:) SALyapAttach() makes it a monitor of the member's solver,
  which steps it through the Jacobian of every update as applied (SALyapMonitor()); the state
  (tangents, log-sums, counters) travels with the member's checkpoints (SALyapCheckpointWrite/Read), the tangents
  stored block by block in theta's layout so that a checkpoint can be read on another group size. A tangent whose
  norm is zero or not finite (a diverging run) stops the accumulation: the exponents are then NaN (fill in files).
*/
#include <stabaudit/private/salyapimpl.h>
#include <stabaudit/sasolver.h>
#include <stabaudit/sadeck.h>
#include <petscviewerhdf5.h>

PetscClassId         SALYAP_CLASSID;
static PetscLogEvent SALYAP_Step, SALYAP_QR;

/*@C
  SALyapInitializePackage - Registers the SALyap class and its log events

  Not Collective

  Notes:
  Called by `SALyapCreate()`. Events: SALyapStep (one step of the tangents), SALyapQR (a re-orthonormalisation).

  Level: developer

.seealso: `SALyapCreate()`
@*/
PetscErrorCode SALyapInitializePackage(void)
{
  static PetscBool done = PETSC_FALSE;

  PetscFunctionBeginUser;
  if (done) PetscFunctionReturn(PETSC_SUCCESS);
  done = PETSC_TRUE;
  PetscCall(PetscClassIdRegister("SALyap", &SALYAP_CLASSID));
  PetscCall(PetscLogEventRegister("SALyapStep", SALYAP_CLASSID, &SALYAP_Step));
  PetscCall(PetscLogEventRegister("SALyapQR", SALYAP_CLASSID, &SALYAP_QR));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SALyapCreate - Creates the Lyapunov-spectrum accumulator (k = 1, QR at every step, no transient)

  Collective

  Input Parameter:
. comm - the member's group communicator (that of the Jacobians)

  Output Parameter:
. ly - the object

  Notes:
  The accumulator is a `PetscObject` of class `SALYAP_CLASSID`: `PetscObjectReference()` adds a reference,
  `SALyapDestroy()` drops one.

  Level: beginner

.seealso: `SALyapStep()`, `SALyapGetExponents()`, `SALyapDestroy()`, `SALyapSetFromOptions()`
@*/
PetscErrorCode SALyapCreate(MPI_Comm comm, SALyap *ly)
{
  SALyap q;

  PetscFunctionBeginUser;
  PetscValidPointer(ly, 2);
  *ly = NULL;
  PetscCall(SALyapInitializePackage());
  PetscCall(PetscHeaderCreate(q, SALYAP_CLASSID, "SALyap", "Lyapunov spectrum by QR", "SALyap", comm, SALyapDestroy,
                              SALyapView));
  q->k     = 1;
  q->every = 1;
  q->seed  = 2026;
  *ly      = q;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SALyapSetFromOptions - Reads the number of exponents, the QR interval and the transient from the deck (section
  lyap:)

  Collective

  Input Parameter:
. ly - the object

  Options Database Keys:
+ -lyap_k <k>           - exponents, 1..1024
. -lyap_every <n>       - re-orthonormalise every n steps (>= 1)
. -lyap_transient <n>   - steps not counted (>= 0)
- -lyap_view [viewer]   - view the object once its options are read

  Notes:
  With an options prefix (`SALyapSetOptionsPrefix()`) every key is the prefix followed by the key above
  ("actor_": -actor_lyap_k). Call before the first `SALyapStep()`.

  Level: beginner

.seealso: `SALyapSetParameters()`, `SALyapCreateForMember()`, `SALyapView()`
@*/
PetscErrorCode SALyapSetFromOptions(SALyap ly)
{
  const char *prefix;
  char        sec[128];
  PetscInt    k, every, transient;

  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(ly, SALYAP_CLASSID, 1);
  PetscCall(PetscObjectGetOptionsPrefix((PetscObject) ly, &prefix));
  PetscCall(PetscSNPrintf(sec, sizeof(sec), "%slyap_", prefix ? prefix : ""));
  PetscCall(SADeckGetInt(sec, "k", ly->k, 1, 1024, &k, NULL));
  PetscCall(SADeckGetInt(sec, "every", ly->every, 1, PETSC_MAX_INT, &every, NULL));
  PetscCall(SADeckGetInt(sec, "transient", ly->transient, 0, PETSC_MAX_INT, &transient, NULL));
  PetscCall(SALyapSetParameters(ly, k, every, transient, ly->seed));
  PetscCall(PetscObjectViewFromOptions((PetscObject) ly, NULL, "-lyap_view"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SALyapSetOptionsPrefix - Sets the prefix of the object's deck keys and options

  Logically Collective

  Input Parameters:
+ ly     - the object
- prefix - the prefix (no leading dash; NULL or "" for none)

  Level: intermediate

.seealso: `SALyapAppendOptionsPrefix()`, `SALyapGetOptionsPrefix()`, `SALyapSetFromOptions()`
@*/
PetscErrorCode SALyapSetOptionsPrefix(SALyap ly, const char prefix[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(ly, SALYAP_CLASSID, 1);
  PetscCall(PetscObjectSetOptionsPrefix((PetscObject) ly, prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SALyapAppendOptionsPrefix - Appends to the prefix of the object's deck keys and options

  Logically Collective

  Input Parameters:
+ ly     - the object
- prefix - the text to append (no leading dash)

  Level: intermediate

.seealso: `SALyapSetOptionsPrefix()`, `SALyapGetOptionsPrefix()`
@*/
PetscErrorCode SALyapAppendOptionsPrefix(SALyap ly, const char prefix[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(ly, SALYAP_CLASSID, 1);
  PetscCall(PetscObjectAppendOptionsPrefix((PetscObject) ly, prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SALyapGetOptionsPrefix - Returns the prefix of the object's deck keys and options

  Not Collective

  Input Parameter:
. ly - the object

  Output Parameter:
. prefix - the prefix (NULL when none is set; owned by the object)

  Level: intermediate

.seealso: `SALyapSetOptionsPrefix()`
@*/
PetscErrorCode SALyapGetOptionsPrefix(SALyap ly, const char *prefix[])
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(ly, SALYAP_CLASSID, 1);
  PetscCall(PetscObjectGetOptionsPrefix((PetscObject) ly, prefix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SALyapView - Prints the settings and the state of the accumulator: k, QR interval, transient, steps taken and
  counted, and the exponents so far

  Collective

  Input Parameters:
+ ly     - the object
- viewer - an ASCII viewer (NULL: standard output of the object's communicator); other viewers print nothing

  Options Database Key:
. -lyap_view [viewer] - view at the end of `SALyapSetFromOptions()` (so at `SALyapCreateForMember()`)

  Level: beginner

.seealso: `SALyapSetFromOptions()`, `SALyapGetExponents()`
@*/
PetscErrorCode SALyapView(SALyap ly, PetscViewer viewer)
{
  PetscBool iascii;

  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(ly, SALYAP_CLASSID, 1);
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(PetscObjectComm((PetscObject) ly), &viewer));
  PetscCall(PetscObjectTypeCompare((PetscObject) viewer, PETSCVIEWERASCII, &iascii));
  if (!iascii) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SAObjectViewHeader((PetscObject) ly, viewer));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  PetscCall(PetscViewerASCIIPrintf(viewer,
                                   "k %" PetscInt_FMT ", QR every %" PetscInt_FMT ", transient %" PetscInt_FMT
                                   ", seeds %" PetscInt64_FMT " %" PetscInt64_FMT "\n",
                                   ly->k, ly->every, ly->transient, ly->seed, ly->mseed));
  PetscCall(PetscViewerASCIIPrintf(viewer, "steps %" PetscInt_FMT ", counted %" PetscInt_FMT "%s\n", ly->steps,
                                   ly->counted, ly->failed ? ", stopped (a tangent norm was zero or not finite)" : ""));
  if (ly->counted && ly->logsum && !ly->failed) {
    PetscCall(PetscViewerASCIIPrintf(viewer, "exponents:"));
    PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_FALSE));
    for (PetscInt i = 0; i < ly->k; i++)
      PetscCall(PetscViewerASCIIPrintf(viewer, " %g", (double) (ly->logsum[i] / ly->counted)));
    PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
    PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_TRUE));
  }
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SALyapSetParameters - Sets the number of exponents, the QR interval, the transient and the seed of the tangents

  Logically Collective

  Input Parameters:
+ ly        - the object
. k         - exponents (>= 1)
. every     - re-orthonormalise every this many steps (>= 1)
. transient - steps whose growth is not counted (the tangents align with the leading directions first)
- seed      - seed of the random initial tangents

  Level: beginner

.seealso: `SALyapCreateForMember()`
@*/
PetscErrorCode SALyapSetParameters(SALyap ly, PetscInt k, PetscInt every, PetscInt transient, PetscInt64 seed)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(ly, SALYAP_CLASSID, 1);
  PetscCheck(!ly->Q, PetscObjectComm((PetscObject) ly), PETSC_ERR_ORDER,
             "Set the parameters before the first SALyapStep()");
  PetscCheck(k >= 1 && every >= 1 && transient >= 0, PetscObjectComm((PetscObject) ly), PETSC_ERR_ARG_OUTOFRANGE,
             "Need k >= 1, every >= 1, transient >= 0; got %" PetscInt_FMT ", %" PetscInt_FMT ", %" PetscInt_FMT, k,
             every, transient);
  ly->k         = k;
  ly->every     = every;
  ly->transient = transient;
  ly->seed      = seed;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Q R = W by modified Gram-Schmidt; adds log R_ii to logsum when counting; a zero or non-finite norm sets failed */
static PetscErrorCode SALyapQR(SALyap ly, PetscBool count)
{
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(SALYAP_QR, 0, 0, 0, 0));
  for (PetscInt i = 0; i < ly->k; i++) {
    PetscReal r;
    for (PetscInt j = 0; j < i; j++) {
      PetscScalar d;
      PetscCall(VecDot(ly->W[i], ly->Q[j], &d));
      PetscCall(VecAXPY(ly->W[i], -d, ly->Q[j]));
    }
    PetscCall(VecNorm(ly->W[i], NORM_2, &r));
    if (!(r > 0) || PetscIsInfOrNanReal(r)) { /* numerical failure is data (a diverging run), not an error */
      ly->failed = PETSC_TRUE;
      break;
    }
    if (count) ly->logsum[i] += PetscLogReal(r);
    PetscCall(VecCopy(ly->W[i], ly->Q[i]));
    PetscCall(VecScale(ly->Q[i], 1.0 / r));
  }
  PetscCall(PetscLogEventEnd(SALYAP_QR, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SALyapStep - Propagates the tangent vectors through the Jacobian of one step

  Collective

  Input Parameters:
+ ly - the object
- J  - the step's update-map Jacobian (`SASolverGetStepJacobian()`, `SAStepJacobianCreate()`); the first call
       takes its layout and draws k orthonormal random tangents

  Level: beginner

.seealso: `SALyapGetExponents()`
@*/
PetscErrorCode SALyapStep(SALyap ly, Mat J)
{
  PetscFunctionBeginUser;
  if (ly->failed) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscLogEventBegin(SALYAP_Step, 0, 0, 0, 0));
  if (!ly->Q) {
    Vec      v;
    SAStream s;

    PetscCall(MatCreateVecs(J, &v, NULL));
    PetscCall(VecDuplicateVecs(v, ly->k, &ly->Q));
    PetscCall(VecDuplicateVecs(v, ly->k, &ly->W));
    PetscCall(PetscCalloc1(ly->k, &ly->logsum));
    PetscCall(SAStreamCreate(ly->seed, ly->mseed, SA_STREAM_ANALYSIS, &s));
    for (PetscInt i = 0; i < ly->k; i++) PetscCall(SAStreamVecNormal(&s, i, ly->W[i]));
    PetscCall(SALyapQR(ly, PETSC_FALSE));
    PetscCall(VecDestroy(&v));
  }
  for (PetscInt i = 0; i < ly->k; i++) PetscCall(MatMult(J, ly->Q[i], ly->W[i]));
  ly->steps++;
  if (ly->steps % ly->every == 0) {
    /* the growth since the last QR is counted when the whole interval is after the transient */
    PetscBool count = ly->steps - ly->every >= ly->transient ? PETSC_TRUE : PETSC_FALSE;
    PetscCall(SALyapQR(ly, count));
    if (count) ly->counted += ly->every;
  } else {
    for (PetscInt i = 0; i < ly->k; i++) PetscCall(VecCopy(ly->W[i], ly->Q[i]));
  }
  PetscCall(PetscLogEventEnd(SALYAP_Step, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SALyapGetExponents - The exponents accumulated so far (per optimizer step, in decreasing order of growth)

  Not Collective

  Input Parameter:
. ly - the object

  Output Parameters:
+ lam     - k exponents (NaN before any counted step, and after a tangent norm was zero or not finite)
- counted - steps counted (may be NULL)

  Level: beginner

.seealso: `SALyapStep()`
@*/
PetscErrorCode SALyapGetExponents(SALyap ly, PetscReal lam[], PetscInt *counted)
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < ly->k; i++)
    lam[i] = ly->counted && ly->logsum && !ly->failed ? ly->logsum[i] / ly->counted : NAN;
  if (counted) *counted = ly->counted;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SALyapCreateForMember - Creates the Lyapunov accumulator of a member from the deck (section lyap:), or NULL when the
  deck does not ask for the spectrum (lyap_k 0, the default)

  Collective

  Input Parameters:
+ comm     - the member's group communicator
. campaign - campaign seed
- member   - member seed (a twin and its perturbed members share it, and so their initial tangents)

  Output Parameter:
. ly - the object, or NULL

  Options Database Keys:
+ -lyap_k <k>         - exponents per member, 0..1024 (0: none)
. -lyap_every <n>     - re-orthonormalise every n steps (>= 1)
. -lyap_transient <n> - steps not counted (>= 0)
- -lyap_view [viewer] - view the accumulator (read only when lyap_k > 0)

  Notes:
  The keys are read here to decide whether the member has an accumulator, then again by `SALyapSetFromOptions()`
  on the object (no options prefix: the same keys, the same values).

  Level: developer

.seealso: `SALyapAttach()`, `SALyapStep()`
@*/
PetscErrorCode SALyapCreateForMember(MPI_Comm comm, PetscInt64 campaign, PetscInt64 member, SALyap *ly)
{
  PetscInt k = 0, every = 1, transient = 0;

  PetscFunctionBeginUser;
  *ly = NULL;
  PetscCall(SADeckGetInt("lyap_", "k", k, 0, 1024, &k, NULL));
  PetscCall(SADeckGetInt("lyap_", "every", every, 1, PETSC_MAX_INT, &every, NULL));
  PetscCall(SADeckGetInt("lyap_", "transient", transient, 0, PETSC_MAX_INT, &transient, NULL));
  if (!k) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SALyapCreate(comm, ly));
  PetscCall(SALyapSetParameters(*ly, k, every, transient, campaign));
  (*ly)->mseed = member;
  PetscCall(SALyapSetFromOptions(*ly));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SALyapGetNumExponents - The number of exponents k

  Not Collective

  Input Parameter:
. ly - the object

  Output Parameter:
. k - exponents

  Level: beginner

.seealso: `SALyapGetExponents()`
@*/
PetscErrorCode SALyapGetNumExponents(SALyap ly, PetscInt *k)
{
  PetscFunctionBeginUser;
  *k = ly->k;
  PetscFunctionReturn(PETSC_SUCCESS);
}

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
  SALyapDestroy - Drops a reference to the object, and destroys it when that was the last one

  Collective

  Input Parameter:
. ly - the object (may be NULL; set to NULL)

  Level: beginner

.seealso: `SALyapCreate()`
@*/
PetscErrorCode SALyapDestroy(SALyap *ly)
{
  PetscFunctionBeginUser;
  if (!*ly) PetscFunctionReturn(PETSC_SUCCESS);
  PetscValidHeaderSpecific(*ly, SALYAP_CLASSID, 1);
  if (--((PetscObject) (*ly))->refct > 0) {
    *ly = NULL;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if ((*ly)->Q) {
    PetscCall(VecDestroyVecs((*ly)->k, &(*ly)->Q));
    PetscCall(VecDestroyVecs((*ly)->k, &(*ly)->W));
  }
  PetscCall(PetscFree((*ly)->logsum));
  PetscCall(PetscHeaderDestroy(ly));
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

static PetscErrorCode SALyapDestroyCtx(void **ctx)
{
  SALyap ly = (SALyap) *ctx;

  PetscFunctionBeginUser;
  PetscCall(SALyapDestroy(&ly));
  *ctx = NULL;
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
  PetscCall(SASolverMonitorSet(s, SALyapMonitor, ly, SALyapDestroyCtx));
  PetscCall(SASolverMonitorSetCheckpoint(s, ly, SALyapCheckpointWriteCtx, SALyapCheckpointReadCtx));
  PetscFunctionReturn(PETSC_SUCCESS);
}
