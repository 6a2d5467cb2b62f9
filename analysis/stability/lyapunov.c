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
