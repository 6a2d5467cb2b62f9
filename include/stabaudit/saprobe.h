/*
  saprobe.h - spectral probes of a member's training dynamics (analysis/probes): matrix-free Hessian and
  update-map Jacobian operators on the member's group communicator, and the SAProbe that measures their spectra
  with SLEPc (Hessian top/bottom eigenpairs, sharpness, Hutchinson trace, stochastic Lanczos quadrature density,
  Jacobian eigenvalues and singular values). See docs/probes.md.
*/
#pragma once
#include <stabaudit/sasolver.h>
#include <petscmat.h>

/* ---- matrix-free operators ------------------------------------------------------------------------------- */
PETSC_EXTERN PetscErrorCode SAProbeCreateHessian(SATask, Vec, const SABatch *, Mat *);
PETSC_EXTERN PetscErrorCode SAProbeCreatePreconditionedHessian(SATask, SAOptimizer, Vec, const SABatch *, PetscInt,
                                                               Mat *);
PETSC_EXTERN PetscErrorCode SAProbeOperatorGetHVPCount(Mat, PetscInt *);
PETSC_EXTERN PetscErrorCode SAProbeOperatorResetHVPCount(Mat);

/* ---- building blocks ------------------------------------------------------------------------------------- */
#include <stabaudit/sastream.h>
PETSC_EXTERN PetscErrorCode SAProbeRademacher(const SAStream *, PetscInt64, Vec);
PETSC_EXTERN PetscErrorCode SAProbeHutchinson(Mat, PetscInt, const SAStream *, PetscInt64, PetscReal *, PetscReal *);
PETSC_EXTERN PetscErrorCode SAProbeLanczosQuadrature(Mat, PetscInt, PetscInt, const SAStream *, PetscInt64, PetscReal[],
                                                     PetscReal[]);
PETSC_EXTERN PetscErrorCode SAProbeDensity(PetscInt, const PetscReal[], const PetscReal[], PetscInt, PetscReal,
                                           PetscInt, const PetscReal[], PetscReal[]);

/* ---- the probe ------------------------------------------------------------------------------------------- */
/*S
  SAProbe - measures the curvature and the local dynamics of a member at scheduled steps: Hessian top-k and
  bottom-k eigenpairs (SLEPc EPS, warm-started), sharpness and its edge-of-stability ratio, Hutchinson trace,
  spectral density (stochastic Lanczos quadrature) and the eigenvalues and singular values of the whole-step
  Jacobian; each probe fills one row of named columns (`SAProbeGetColumns()`)

  Level: beginner

.seealso: `SAProbeCreate()`, `SAProbeCompute()`, `SAProbeCreateHessian()`, `SASolverGetStepJacobian()`
S*/
typedef struct _p_SAProbe *SAProbe;

/*E
  SAProbeKind - what a probe measures

  Level: intermediate
E*/
typedef enum {
  SA_PROBE_HESSIAN   = 0, /* top-k and bottom-k eigenpairs of H (EPS, Hermitian) */
  SA_PROBE_SHARPNESS = 1, /* edge-of-stability ratio (lambda_max lr / 2 (1 + mu); Adam: preconditioned) */
  SA_PROBE_TRACE     = 2, /* Hutchinson trace with Rademacher vectors and its standard error */
  SA_PROBE_DENSITY   = 3, /* stochastic Lanczos quadrature, Gaussian-broadened on a grid */
  SA_PROBE_JACOBIAN  = 4, /* eigenvalues by magnitude (EPS, non-Hermitian) and singular values (SVD) of J */
  SA_PROBE_NKINDS    = 5
} SAProbeKind;
PETSC_EXTERN const char *const SAProbeKinds[];

/*S
  SAProbeColumn - a group of entries of a probe row: one netCDF variable over (member, probe[, eig or
  density_grid])

  Level: intermediate
S*/
typedef struct {
  const char *name;      /* netCDF variable name */
  const char *long_name; /* CF long_name */
  const char *units;     /* CF units */
  PetscInt    offset;    /* first entry in the row */
  PetscInt    len;       /* 1, nev (dimension eig) or the grid size (dimension density_grid) */
  PetscInt    dim;       /* 0 scalar, 1 eig, 2 density_grid */
} SAProbeColumn;

PETSC_EXTERN PetscClassId   SAPROBE_CLASSID;
PETSC_EXTERN PetscErrorCode SAProbeInitializePackage(void);
PETSC_EXTERN PetscErrorCode SAProbeCreate(MPI_Comm, SAProbe *);
PETSC_EXTERN PetscErrorCode SAProbeSetFromOptions(SAProbe);
PETSC_EXTERN PetscErrorCode SAProbeSetOptionsPrefix(SAProbe, const char[]);
PETSC_EXTERN PetscErrorCode SAProbeAppendOptionsPrefix(SAProbe, const char[]);
PETSC_EXTERN PetscErrorCode SAProbeGetOptionsPrefix(SAProbe, const char *[]);
PETSC_EXTERN PetscErrorCode SAProbeSetSeeds(SAProbe, PetscInt64, PetscInt64);
PETSC_EXTERN PetscErrorCode SAProbeSetKind(SAProbe, SAProbeKind, PetscBool);
PETSC_EXTERN PetscErrorCode SAProbeGetKind(SAProbe, SAProbeKind, PetscBool *);
PETSC_EXTERN PetscErrorCode SAProbeSetNumEigenvalues(SAProbe, PetscInt);
PETSC_EXTERN PetscErrorCode SAProbeSetTolerances(SAProbe, PetscReal, PetscInt);
PETSC_EXTERN PetscErrorCode SAProbeSetBatch(SAProbe, PetscInt);
PETSC_EXTERN PetscErrorCode SAProbeSetWarmStart(SAProbe, PetscBool);
PETSC_EXTERN PetscErrorCode SAProbeSetTraceVectors(SAProbe, PetscInt);
PETSC_EXTERN PetscErrorCode SAProbeSetDensity(SAProbe, PetscInt, PetscInt, PetscInt, PetscReal, PetscReal, PetscReal);
PETSC_EXTERN PetscErrorCode SAProbeIsScheduled(SAProbe, PetscInt, PetscInt, PetscInt, PetscBool *);
PETSC_EXTERN PetscErrorCode SAProbeNumScheduled(SAProbe, PetscInt, PetscInt, PetscInt *);
PETSC_EXTERN PetscErrorCode SAProbeGetColumns(SAProbe, PetscInt *, const SAProbeColumn **, PetscInt *);
PETSC_EXTERN PetscErrorCode SAProbeGetDensityGrid(SAProbe, PetscInt *, const PetscReal **);
PETSC_EXTERN PetscErrorCode SAProbeGetNumEigenvalues(SAProbe, PetscInt *);
PETSC_EXTERN PetscErrorCode SAProbeCompute(SAProbe, SATask, SAOptimizer, Vec, PetscInt, const SAHyper *, PetscReal[]);
PETSC_EXTERN PetscErrorCode SAProbeResetWarmStart(SAProbe);
PETSC_EXTERN PetscErrorCode SAProbeSetMember(SAProbe, PetscInt, PetscInt);
PETSC_EXTERN PetscErrorCode SAProbeStep(SAProbe, SATask, SAOptimizer, Vec, PetscInt, const SAHyper *);
PETSC_EXTERN PetscErrorCode SAProbeGetRecords(SAProbe, PetscInt *, PetscInt *, PetscReal **);
PETSC_EXTERN PetscErrorCode SAProbeSetRecords(SAProbe, PetscInt, PetscInt, const PetscReal[]);
PETSC_EXTERN PetscErrorCode SAProbeCreateForMember(MPI_Comm, PetscInt64, PetscInt64, PetscInt, PetscInt, SAProbe *);
PETSC_EXTERN PetscErrorCode SAProbeMonitor(SASolver, const SASolverStepInfo *, void *);
PETSC_EXTERN PetscErrorCode SAProbeAttach(SAProbe, SASolver);
PETSC_EXTERN PetscErrorCode SAProbeCheckpointWrite(SAProbe, PetscViewer);
PETSC_EXTERN PetscErrorCode SAProbeCheckpointRead(SAProbe, PetscViewer, Vec);
PETSC_EXTERN PetscErrorCode SAProbeView(SAProbe, PetscViewer);
PETSC_EXTERN PetscErrorCode SAProbeDestroy(SAProbe *);
