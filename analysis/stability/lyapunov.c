/*
  lyapunov.c - SALyap: the leading k Lyapunov exponents along a trajectory by QR (Benettin) propagation of k
  tangent vectors through the update-map Jacobians J_t of the steps (SAProbeCreateJacobian(), saprobe.h):
  W = J_t Q at every step, Q R = W (modified Gram-Schmidt) every `every` steps, lambda_i = sum log R_ii / steps,
  accumulated after a transient of `transient` steps. k = exponents, n = size of J.
*/
#include <stabaudit/saanalysis.h>
#include <stabaudit/sadeck.h>

struct _p_SALyap {
  MPI_Comm   comm;
  PetscInt   k, every, transient, steps, counted;
  PetscInt64 seed;
  Vec       *Q, *W;
  PetscReal *logsum;
};

/*@C
  SALyapCreate - Creates the Lyapunov-spectrum accumulator (k = 1, QR at every step, no transient)

  Collective

  Input Parameter:
. comm - the member's group communicator (that of the Jacobians)

  Output Parameter:
. ly - the object

  Level: beginner

.seealso: `SALyapStep()`, `SALyapGetExponents()`, `SALyapDestroy()`
@*/
PetscErrorCode SALyapCreate(MPI_Comm comm, SALyap *ly)
{
  PetscFunctionBeginUser;
  PetscCall(PetscNew(ly));
  (*ly)->comm  = comm;
  (*ly)->k     = 1;
  (*ly)->every = 1;
  (*ly)->seed  = 2026;
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

.seealso: `SALyapSetFromOptions()`
@*/
PetscErrorCode SALyapSetParameters(SALyap ly, PetscInt k, PetscInt every, PetscInt transient, PetscInt64 seed)
{
  PetscFunctionBeginUser;
  PetscCheck(!ly->Q, ly->comm, PETSC_ERR_ORDER, "Set the parameters before the first SALyapStep()");
  PetscCheck(k >= 1 && every >= 1 && transient >= 0, ly->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "Need k >= 1, every >= 1, transient >= 0; got %" PetscInt_FMT ", %" PetscInt_FMT ", %" PetscInt_FMT, k,
             every, transient);
  ly->k         = k;
  ly->every     = every;
  ly->transient = transient;
  ly->seed      = seed;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SALyapSetFromOptions - Reads -lyap_k, -lyap_every and -lyap_transient (deck section lyap:)

  Collective

  Input Parameter:
. ly - the object

  Level: beginner

.seealso: `SALyapSetParameters()`
@*/
PetscErrorCode SALyapSetFromOptions(SALyap ly)
{
  PetscFunctionBeginUser;
  PetscCall(SADeckGetInt("lyap_", "k", ly->k, 1, 1024, &ly->k, NULL));
  PetscCall(SADeckGetInt("lyap_", "every", ly->every, 1, PETSC_MAX_INT, &ly->every, NULL));
  PetscCall(SADeckGetInt("lyap_", "transient", ly->transient, 0, PETSC_MAX_INT, &ly->transient, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Q R = W by modified Gram-Schmidt; adds log R_ii to logsum when counting */
static PetscErrorCode SALyapQR(SALyap ly, PetscBool count)
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < ly->k; i++) {
    PetscReal r;
    for (PetscInt j = 0; j < i; j++) {
      PetscScalar d;
      PetscCall(VecDot(ly->W[i], ly->Q[j], &d));
      PetscCall(VecAXPY(ly->W[i], -d, ly->Q[j]));
    }
    PetscCall(VecNorm(ly->W[i], NORM_2, &r));
    PetscCheck(r > 0, ly->comm, PETSC_ERR_NOT_CONVERGED, "Tangent vector %" PetscInt_FMT " collapsed to zero", i);
    if (count) ly->logsum[i] += PetscLogReal(r);
    PetscCall(VecCopy(ly->W[i], ly->Q[i]));
    PetscCall(VecScale(ly->Q[i], 1.0 / r));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SALyapStep - Propagates the tangent vectors through the Jacobian of one step

  Collective

  Input Parameters:
+ ly - the object
- J  - the step's update-map Jacobian (`SAProbeCreateJacobian()`); the first call takes its layout and draws
       k orthonormal random tangents

  Level: beginner

.seealso: `SALyapGetExponents()`
@*/
PetscErrorCode SALyapStep(SALyap ly, Mat J)
{
  PetscFunctionBeginUser;
  if (!ly->Q) {
    Vec      v;
    SAStream s;

    PetscCall(MatCreateVecs(J, &v, NULL));
    PetscCall(VecDuplicateVecs(v, ly->k, &ly->Q));
    PetscCall(VecDuplicateVecs(v, ly->k, &ly->W));
    PetscCall(PetscCalloc1(ly->k, &ly->logsum));
    PetscCall(SAStreamCreate(ly->seed, 0, SA_STREAM_ANALYSIS, &s));
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
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SALyapGetExponents - The exponents accumulated so far (per optimizer step, in decreasing order of growth)

  Not Collective

  Input Parameter:
. ly - the object

  Output Parameters:
+ lam     - k exponents (NaN before any counted step)
- counted - steps counted (may be NULL)

  Level: beginner

.seealso: `SALyapStep()`
@*/
PetscErrorCode SALyapGetExponents(SALyap ly, PetscReal lam[], PetscInt *counted)
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < ly->k; i++) lam[i] = ly->counted && ly->logsum ? ly->logsum[i] / ly->counted : NAN;
  if (counted) *counted = ly->counted;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SALyapDestroy - Destroys the object

  Collective

  Input Parameter:
. ly - the object (set to NULL)

  Level: beginner

.seealso: `SALyapCreate()`
@*/
PetscErrorCode SALyapDestroy(SALyap *ly)
{
  PetscFunctionBeginUser;
  if (!*ly) PetscFunctionReturn(PETSC_SUCCESS);
  if ((*ly)->Q) {
    PetscCall(VecDestroyVecs((*ly)->k, &(*ly)->Q));
    PetscCall(VecDestroyVecs((*ly)->k, &(*ly)->W));
  }
  PetscCall(PetscFree((*ly)->logsum));
  PetscCall(PetscFree(*ly));
  PetscFunctionReturn(PETSC_SUCCESS);
}
