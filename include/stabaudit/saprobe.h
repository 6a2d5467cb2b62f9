/*
  saprobe.h - spectral probes of a member's training dynamics (analysis/probes): matrix-free Hessian and
  update-map Jacobian operators on the member's group communicator, and the SAProbe that measures their spectra
  with SLEPc (Hessian top/bottom eigenpairs, sharpness, Hutchinson trace, stochastic Lanczos quadrature density,
  Jacobian eigenvalues and singular values). See docs/probes.md.
*/
#pragma once
#include <stabaudit/satask.h>
#include <stabaudit/saoptimizer.h>
#include <petscmat.h>

/* ---- matrix-free operators ------------------------------------------------------------------------------- */
PETSC_EXTERN PetscErrorCode SAProbeCreateHessian(SATask, Vec, const SABatch *, Mat *);
PETSC_EXTERN PetscErrorCode SAProbeCreatePreconditionedHessian(SATask, SAOptimizer, Vec, const SABatch *, PetscInt,
                                                               Mat *);
PETSC_EXTERN PetscErrorCode SAProbeCreateJacobian(SATask, SAOptimizer, Vec, const SABatch *, PetscInt, Mat *);
PETSC_EXTERN PetscErrorCode SAProbeJacobianSetHyper(Mat, const SAHyper *);
PETSC_EXTERN PetscErrorCode SAProbeJacobianGetHyper(Mat, SAHyper *);
PETSC_EXTERN PetscErrorCode SAProbeJacobianGetNumBlocks(Mat, PetscInt *);
PETSC_EXTERN PetscErrorCode SAProbeJacobianGetBlock(Mat, Vec, PetscInt, Vec);
PETSC_EXTERN PetscErrorCode SAProbeJacobianSetBlock(Mat, Vec, PetscInt, Vec);
PETSC_EXTERN PetscErrorCode SAProbeOperatorGetHVPCount(Mat, PetscInt *);
PETSC_EXTERN PetscErrorCode SAProbeOperatorResetHVPCount(Mat);
