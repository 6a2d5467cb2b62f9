/*
  weight_kick.c - SAPERTURBWEIGHTKICK (dimension: parametric).

  Method card: at every step of the window, before the step,
    theta <- theta + m * env(t) * ||theta|| * z / ||z||,   z ~ N(0, I) from the perturbation stream
  addressed by the step, so all magnitudes of a block share the kick direction (only its size is
  swept). Default: a one-step pulse. Magnitudes (relative norms) in [0, 100].
*/
#include <stabaudit/private/saperturbimpl.h>

static PetscErrorCode SAPerturbParams_WeightKick(SAPerturb p, PetscInt step, PetscReal env, Vec theta)
{
  Vec       z;
  PetscReal nt, nz;

  PetscFunctionBeginUser;
  PetscCall(VecDuplicate(theta, &z));
  PetscCall(SAStreamVecNormal(&p->rng, step, z));
  PetscCall(VecNorm(theta, NORM_2, &nt));
  PetscCall(VecNorm(z, NORM_2, &nz));
  if (nz > 0) PetscCall(VecAXPY(theta, p->magnitude * env * nt / nz, z));
  PetscCall(VecDestroy(&z));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAPerturbCreate_WeightKick(SAPerturb p)
{
  PetscFunctionBeginUser;
  p->dimension  = SA_DIM_PARAMETRIC;
  p->mag_lo     = 0;
  p->mag_hi     = 100;
  p->duration   = 1;
  p->ops.params = SAPerturbParams_WeightKick;
  PetscFunctionReturn(PETSC_SUCCESS);
}
