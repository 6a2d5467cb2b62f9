/*
  probe_set.c - SAProbe's setters and getters: kinds, eigenvalue count, tolerances, batch, warm starts, trace and
  density settings, seeds, the row layout (probe.c holds the object, its deck keys, schedule and view).
*/
#include <stabaudit/private/saprobeimpl.h>
#include <stabaudit/sadeck.h>

/*@C
  SAProbeSetSeeds - Sets the seeds of the member's probe stream

  Logically Collective

  Input Parameters:
+ p        - the probe
. campaign - campaign seed
- member   - member seed

  Level: intermediate

.seealso: `SATaskSetSeeds()`
@*/
PetscErrorCode SAProbeSetSeeds(SAProbe p, PetscInt64 campaign, PetscInt64 member)
{
  PetscFunctionBeginUser;
  p->campaign_seed = campaign;
  p->member_seed   = member;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeSetKind - Turns one kind of measurement on or off

  Logically Collective

  Input Parameters:
+ p    - the probe
. kind - the kind
- on   - whether to measure it

  Options Database Key:
. -probe_kinds <list> - the kinds

  Level: intermediate

.seealso: `SAProbeGetKind()`
@*/
PetscErrorCode SAProbeSetKind(SAProbe p, SAProbeKind kind, PetscBool on)
{
  PetscFunctionBeginUser;
  PetscCheck(kind >= 0 && kind < SA_PROBE_NKINDS, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Unknown kind %d",
             (int) kind);
  p->kind[kind] = on;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeGetKind - Whether a kind of measurement is on

  Not Collective

  Input Parameters:
+ p    - the probe
- kind - the kind

  Output Parameter:
. on - whether it is measured

  Level: intermediate

.seealso: `SAProbeSetKind()`
@*/
PetscErrorCode SAProbeGetKind(SAProbe p, SAProbeKind kind, PetscBool *on)
{
  PetscFunctionBeginUser;
  PetscCheck(kind >= 0 && kind < SA_PROBE_NKINDS, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Unknown kind %d",
             (int) kind);
  *on = p->kind[kind];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeSetNumEigenvalues - Sets k, the eigenvalues (and singular values) per solve

  Logically Collective

  Input Parameters:
+ p   - the probe
- nev - k, 1..64

  Options Database Key:
. -probe_nev <k> - default 5

  Level: intermediate

.seealso: `SAProbeGetNumEigenvalues()`
@*/
PetscErrorCode SAProbeSetNumEigenvalues(SAProbe p, PetscInt nev)
{
  PetscFunctionBeginUser;
  PetscCheck(nev >= 1 && nev <= 64, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "nev must be in [1, 64], got %" PetscInt_FMT, nev);
  PetscCall(SAProbeResetWarmStart(p));
  p->nev = nev;
  PetscCall(SAProbeLayout_Private(p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeGetNumEigenvalues - Returns k, the eigenvalues per solve (the length of the eig dimension)

  Not Collective

  Input Parameter:
. p - the probe

  Output Parameter:
. nev - k

  Level: intermediate

.seealso: `SAProbeSetNumEigenvalues()`
@*/
PetscErrorCode SAProbeGetNumEigenvalues(SAProbe p, PetscInt *nev)
{
  PetscFunctionBeginUser;
  *nev = p->nev;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeSetTolerances - Sets the relative tolerance and iteration limit of the eigen- and SVD solves

  Logically Collective

  Input Parameters:
+ p     - the probe
. tol   - relative tolerance
- maxit - maximum iterations

  Options Database Keys:
+ -probe_tol <tol>  - default 1e-6
- -probe_max_it <n> - default 1000

  Level: intermediate

.seealso: `SAProbeSetFromOptions()`
@*/
PetscErrorCode SAProbeSetTolerances(SAProbe p, PetscReal tol, PetscInt maxit)
{
  PetscFunctionBeginUser;
  p->tol   = tol;
  p->maxit = maxit;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeSetBatch - Sets the frozen probe batch

  Logically Collective

  Input Parameters:
+ p     - the probe
- batch - > 0: that many samples of the probe stream; -1: the full training set

  Options Database Key:
. -probe_batch <n> - default 256

  Level: intermediate

.seealso: `SABatch`
@*/
PetscErrorCode SAProbeSetBatch(SAProbe p, PetscInt batch)
{
  PetscFunctionBeginUser;
  PetscCheck(batch > 0 || batch == -1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "probe batch must be > 0 or -1, got %" PetscInt_FMT, batch);
  p->batch = batch;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeSetWarmStart - Whether the Hessian solves start from the previous probe's eigenvectors

  Logically Collective

  Input Parameters:
+ p  - the probe
- on - warm start

  Options Database Key:
. -probe_warm_start <bool> - default true

  Level: intermediate

.seealso: `SAProbeResetWarmStart()`
@*/
PetscErrorCode SAProbeSetWarmStart(SAProbe p, PetscBool on)
{
  PetscFunctionBeginUser;
  p->warm = on;
  if (!on) PetscCall(SAProbeResetWarmStart(p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeSetTraceVectors - Sets the number of Hutchinson vectors

  Logically Collective

  Input Parameters:
+ p  - the probe
- nv - vectors (2..1024)

  Options Database Key:
. -probe_trace_vectors <n> - default 32

  Level: intermediate

.seealso: `SAProbeHutchinson()`
@*/
PetscErrorCode SAProbeSetTraceVectors(SAProbe p, PetscInt nv)
{
  PetscFunctionBeginUser;
  PetscCheck(nv >= 2 && nv <= 1024, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "trace vectors must be in [2, 1024], got %" PetscInt_FMT, nv);
  p->ntrace = nv;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeSetDensity - Sets the stochastic Lanczos quadrature and its grid

  Logically Collective

  Input Parameters:
+ p     - the probe
. nv    - SLQ vectors
. m     - Lanczos steps per vector
. ngrid - grid points
. gmin  - grid start
. gmax  - grid end (> gmin)
- sigma - Gaussian width (> 0)

  Level: intermediate

.seealso: `SAProbeLanczosQuadrature()`, `SAProbeDensity()`
@*/
PetscErrorCode SAProbeSetDensity(SAProbe p, PetscInt nv, PetscInt m, PetscInt ngrid, PetscReal gmin, PetscReal gmax,
                                 PetscReal sigma)
{
  PetscFunctionBeginUser;
  PetscCheck(nv >= 1 && nv <= 2048 && m >= 1 && ngrid >= 1 && gmax > gmin && sigma > 0, PETSC_COMM_SELF,
             PETSC_ERR_ARG_OUTOFRANGE, "bad density parameters");
  p->nslq  = nv;
  p->mslq  = m;
  p->ngrid = ngrid;
  p->gmin  = gmin;
  p->gmax  = gmax;
  p->sigma = sigma;
  PetscCall(SAProbeLayout_Private(p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeGetColumns - The layout of a probe row

  Not Collective

  Input Parameter:
. p - the probe

  Output Parameters:
+ ncol   - number of columns
. cols   - the columns (name, long_name, units, offset, length, dimension)
- rowlen - entries per row

  Level: intermediate

.seealso: `SAProbeCompute()`
@*/
PetscErrorCode SAProbeGetColumns(SAProbe p, PetscInt *ncol, const SAProbeColumn **cols, PetscInt *rowlen)
{
  PetscFunctionBeginUser;
  if (!p->setup) PetscCall(SAProbeLayout_Private(p));
  if (ncol) *ncol = SA_PROBE_C_COUNT;
  if (cols) *cols = p->col;
  if (rowlen) *rowlen = p->rowlen;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeGetDensityGrid - The grid of the density column

  Not Collective

  Input Parameter:
. p - the probe

  Output Parameters:
+ n    - grid points
- grid - the points (owned by the probe)

  Level: intermediate

.seealso: `SAProbeSetDensity()`
@*/
PetscErrorCode SAProbeGetDensityGrid(SAProbe p, PetscInt *n, const PetscReal **grid)
{
  PetscFunctionBeginUser;
  if (!p->setup) PetscCall(SAProbeLayout_Private(p));
  *n    = p->ngrid;
  *grid = p->grid;
  PetscFunctionReturn(PETSC_SUCCESS);
}
