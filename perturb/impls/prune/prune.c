/*
  prune.c - SAPERTURBPRUNE (dimension: parametric).

  Method card: at every step of the window, before the step, the floor(f P) parameters of smallest magnitude are set
  to 0, f = m env, P the number of parameters (global magnitude pruning over all of theta; ties by index). Every rank
  of the group gathers |theta| and selects the same set, so the result does not depend on the layout. Default: a
  one-step pulse (persistent: pruned again after every step). Magnitudes (fractions) in [0, 1].
*/
#include <stabaudit/private/saperturbimpl.h>

static PetscErrorCode SAPerturbParams_Prune(SAPerturb p, PetscInt step, PetscReal env, Vec theta)
{
  Vec                full;
  VecScatter         sc;
  PetscInt           P, nz, rs, re, *idx;
  PetscReal         *mag;
  const PetscScalar *f;
  PetscScalar       *a;

  PetscFunctionBeginUser;
  PetscCall(VecGetSize(theta, &P));
  nz = (PetscInt) PetscFloorReal(p->magnitude * env * P);
  if (nz <= 0) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(VecScatterCreateToAll(theta, &sc, &full));
  PetscCall(VecScatterBegin(sc, theta, full, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(sc, theta, full, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(PetscMalloc2(P, &mag, P, &idx));
  PetscCall(VecGetArrayRead(full, &f));
  for (PetscInt i = 0; i < P; i++) {
    mag[i] = PetscAbsScalar(f[i]);
    idx[i] = i;
  }
  PetscCall(VecRestoreArrayRead(full, &f));
  /* order by (|theta_i|, i): a total order, so every rank and every layout selects the same set */
  PetscCall(PetscSortRealWithArrayInt(P, mag, idx));
  for (PetscInt s = 0; s < P;) { /* equal magnitudes: sort their indices */
    PetscInt e = s + 1;
    while (e < P && mag[e] == mag[s]) e++;
    if (e - s > 1) PetscCall(PetscSortInt(e - s, idx + s));
    s = e;
  }
  PetscCall(VecGetOwnershipRange(theta, &rs, &re));
  PetscCall(VecGetArray(theta, &a));
  for (PetscInt k = 0; k < PetscMin(nz, P); k++)
    if (idx[k] >= rs && idx[k] < re) a[idx[k] - rs] = 0.0;
  PetscCall(VecRestoreArray(theta, &a));
  PetscCall(PetscFree2(mag, idx));
  PetscCall(VecScatterDestroy(&sc));
  PetscCall(VecDestroy(&full));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_Prune(SAPerturb p)
{
  PetscFunctionBeginUser;
  p->dimension   = SA_DIM_PARAMETRIC;
  p->mag_lo      = 0;
  p->mag_hi      = 1;
  p->duration    = 1;
  p->ops->params = SAPerturbParams_Prune;
  PetscFunctionReturn(PETSC_SUCCESS);
}
