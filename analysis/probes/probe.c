/*
  probe.c - SAProbe: scheduled spectral probes of one member (deck section probe:), each filling one row of
  named columns that the campaign files store per (member, probe).

  Method card
  -----------
  At a scheduled step t (every K steps, at the member's perturbation onset, at the end) with theta_t and the
  optimizer state that belongs to it, on the frozen probe batch b = SA_BATCH(t) with probe = the deck's batch
  (> 0 samples of the probe stream, -1 the full training set) and noise_scale = 0 (no task noise):
  - hessian:   top-k (largest algebraic) and bottom-k (smallest algebraic) eigenpairs of H with SLEPc EPS
               (Hermitian; Krylov-Schur unless -probe_eps_type says otherwise; -probe_eps_* options apply),
               relative tolerance tol, warm start (EPSSetInitialSpace) from the previous probe's eigenvectors;
               records eigenvalues, residual norms |H x - lambda x| (|x| = 1), iterations and HVPs.
  - sharpness: sgd and momentum: lambda_max(H) lr / (2 (1 + mu)) (heavy-ball threshold lr lambda < 2 (1 + mu);
               mu = 0 for sgd: lr lambda / 2); adam/adamw: lambda_max(P^{-1} H) (1 - beta1) / (2 + 2 beta1),
               P = diag(sqrt(v_hat) + eps) / lr (Cohen et al. 2022), with the symmetric operator
               P^{-1/2} H P^{-1/2}. A ratio >= 1 is the edge of stability.
  - trace:     Hutchinson with n_t Rademacher vectors; estimate and standard error.
  - density:   stochastic Lanczos quadrature (n_v vectors x m steps, full reorthogonalisation), Gaussian width
               sigma, on a fixed grid of the deck (the same for all members: a dataset dimension).
  - jacobian:  the k eigenvalues of largest magnitude of the whole-step Jacobian J (EPS non-Hermitian,
               -probe_jac_eps_* options), the spectral radius |lambda_1|, and the k largest singular values
               (SLEPc SVD with implicit transpose, J^T by the VJP; -probe_jac_svd_* options).
  Random vectors (initial vectors, Rademacher vectors) come from the member's probe stream addressed by
  (1 + 4096 t + slot, global index), t < 2^20: results do not depend on the number of ranks beyond solver tolerance.
  Columns a kind does not fill, and eigenvalues that did not converge, hold the netCDF fill value; so does every
  column when the Hessian-vector product of a random vector is not finite (one HVP checks this first).
*/
#include <stabaudit/private/saprobeimpl.h>
#include <stabaudit/sadeck.h>
#include <slepceps.h>
#include <slepcsvd.h>
#include <netcdf.h>

/* stream addresses of step t: 1 + 4096 t + slot (address 0 is the classify task's probe-batch permutation);
   slots 0 top, 1 bottom, 2 preconditioned start, 8.. Jacobian start blocks, 1024.. trace, 2048.. SLQ vectors */
#define SA_PROBE_ADDR(t, slot) (1 + 4096 * (PetscInt64) (t) + (slot))
#define SA_PROBE_MAXSTEP       ((PetscInt) 1 << 20)
#define SA_PROBE_SLOT_TRACE    1024
#define SA_PROBE_SLOT_SLQ      2048

const char *const SAProbeKinds[] = {"hessian", "sharpness", "trace", "density", "jacobian"};

/*@C
  SAProbeCreate - Creates a probe (all kinds off) on a member's group communicator

  Collective

  Input Parameter:
. comm - the group communicator

  Output Parameter:
. p - the probe

  Level: beginner

.seealso: `SAProbeSetFromOptions()`, `SAProbeCompute()`
@*/
PetscErrorCode SAProbeCreate(MPI_Comm comm, SAProbe *p)
{
  SAProbe q;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&q));
  q->comm     = comm;
  q->every    = 0;
  q->at_onset = PETSC_TRUE;
  q->at_end   = PETSC_TRUE;
  q->nev      = 5;
  q->tol      = 1e-6;
  q->maxit    = 1000;
  q->batch    = 256;
  q->warm     = PETSC_TRUE;
  q->ntrace   = 32;
  q->nslq     = 4;
  q->mslq     = 40;
  q->ngrid    = 201;
  q->gmin     = -1.0;
  q->gmax     = 10.0;
  q->sigma    = 0.05;
  *p          = q;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAProbeLayout(SAProbe p)
{
  const PetscInt k = p->nev, G = p->ngrid;
  struct {
    const char *name, *long_name, *units;
    PetscInt    len, dim;
  } c[SA_PROBE_C_COUNT] = {
    {"probe_step", "optimizer step of the probe", "1", 1, 0},
    {"hessian_eig", "largest Hessian eigenvalues of the probe-batch loss (descending)", "1", k, 1},
    {"hessian_residual", "residual norm |H x - lambda x| of the largest eigenpairs (|x| = 1)", "1", k, 1},
    {"hessian_hvps", "Hessian-vector products of the top and bottom eigen-solves", "1", 1, 0},
    {"hessian_iterations", "EPS iterations of the top and bottom eigen-solves", "1", 1, 0},
    {"hessian_eig_min", "smallest Hessian eigenvalues (ascending; negative = negative curvature)", "1", k, 1},
    {"sharpness", "lambda_max of H (sgd, momentum) or of P^-1 H (adam, adamw)", "1", 1, 0},
    {"sharpness_ratio", "edge-of-stability ratio: sharpness over the optimizer's stability threshold", "1", 1, 0},
    {"hessian_trace", "Hutchinson estimate of the Hessian trace", "1", 1, 0},
    {"hessian_trace_stderr", "standard error of the Hutchinson trace estimate", "1", 1, 0},
    {"jacobian_radius", "spectral radius of the one-step update-map Jacobian", "1", 1, 0},
    {"jacobian_eig_re", "real part of the update-map Jacobian eigenvalues of largest magnitude", "1", k, 1},
    {"jacobian_eig_im", "imaginary part of the update-map Jacobian eigenvalues of largest magnitude", "1", k, 1},
    {"jacobian_sv", "largest singular values of the update-map Jacobian (one-step amplification)", "1", k, 1},
    {"hessian_density", "SLQ spectral density of the Hessian (Gaussian-broadened)", "1", G, 2},
  };
  PetscInt off = 0;

  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < SA_PROBE_C_COUNT; i++) {
    p->col[i].name      = c[i].name;
    p->col[i].long_name = c[i].long_name;
    p->col[i].units     = c[i].units;
    p->col[i].offset    = off;
    p->col[i].len       = c[i].len;
    p->col[i].dim       = c[i].dim;
    off += c[i].len;
  }
  p->rowlen = off;
  PetscCall(PetscFree(p->grid));
  PetscCall(PetscMalloc1(G, &p->grid));
  for (PetscInt g = 0; g < G; g++) p->grid[g] = G > 1 ? p->gmin + (p->gmax - p->gmin) * g / (G - 1) : p->gmin;
  p->setup = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeSetFromOptions - Reads the probe section of the deck

  Collective

  Input Parameter:
. p - the probe

  Options Database Keys:
+ -probe_kinds <hessian,sharpness,trace,density,jacobian> - what to measure (default none: probes off)
. -probe_every <K>            - probe every K steps (0 = only at onset and end; default 0)
. -probe_at_onset <bool>      - also probe at the member's perturbation onset (default true)
. -probe_at_end <bool>        - also probe at the last step (default true)
. -probe_nev <k>              - eigenvalues per solve, 1..64 (default 5)
. -probe_tol <tol>            - relative tolerance of the EPS/SVD solves (default 1e-6)
. -probe_max_it <n>           - maximum iterations (default 1000)
. -probe_batch <n>            - probe batch: n > 0 samples of the probe stream, -1 the full training set (256)
. -probe_warm_start <bool>    - warm-start the Hessian solves from the previous probe (default true)
. -probe_trace_vectors <n>    - Hutchinson vectors (2..1024, default 32)
. -probe_density_vectors <n>  - SLQ vectors (1..2048, default 4)
. -probe_density_steps <m>    - Lanczos steps per SLQ vector (default 40)
. -probe_density_points <G>   - density grid points (default 201)
. -probe_density_min <a>      - grid start (default -1)
. -probe_density_max <b>      - grid end (default 10)
- -probe_density_sigma <s>    - Gaussian width (default 0.05)

  Notes:
  SLEPc options of the solvers: -probe_eps_* (Hessian and sharpness), -probe_jac_eps_* and -probe_jac_svd_*
  (Jacobian). A key outside its range or an unknown kind is a deck error naming the key.

  Level: beginner

.seealso: `SAProbeCreate()`
@*/
PetscErrorCode SAProbeSetFromOptions(SAProbe p)
{
  PetscInt  n = 0;
  char    **names;
  PetscBool set;

  PetscFunctionBeginUser;
  PetscCall(SADeckGetNameArray("probe_", "kinds", &n, &names, &set));
  if (set) {
    for (PetscInt k = 0; k < SA_PROBE_NKINDS; k++) p->kind[k] = PETSC_FALSE;
    for (PetscInt i = 0; i < n; i++) {
      PetscInt k;

      for (k = 0; k < SA_PROBE_NKINDS; k++)
        if (!strcmp(names[i], SAProbeKinds[k])) break;
      if (k == SA_PROBE_NKINDS)
        PetscCall(SADeckFail("probe_kinds", "unknown kind '%s'; allowed: hessian, sharpness, trace, density, jacobian",
                             names[i]));
      p->kind[k] = PETSC_TRUE;
    }
    PetscCall(PetscStrArrayDestroy(&names));
  }
  PetscCall(SADeckGetInt("probe_", "every", p->every, 0, PETSC_MAX_INT, &p->every, NULL));
  PetscCall(SADeckGetBool("probe_", "at_onset", p->at_onset, &p->at_onset, NULL));
  PetscCall(SADeckGetBool("probe_", "at_end", p->at_end, &p->at_end, NULL));
  PetscCall(SADeckGetInt("probe_", "nev", p->nev, 1, 64, &p->nev, NULL));
  PetscCall(SADeckGetReal("probe_", "tol", p->tol, 1e-15, 0.1, &p->tol, NULL));
  PetscCall(SADeckGetInt("probe_", "max_it", p->maxit, 1, PETSC_MAX_INT, &p->maxit, NULL));
  PetscCall(SADeckGetInt("probe_", "batch", p->batch, -1, PETSC_MAX_INT, &p->batch, NULL));
  if (p->batch == 0) PetscCall(SADeckFail("probe_batch", "must be > 0 (samples) or -1 (full training set), got 0"));
  PetscCall(SADeckGetBool("probe_", "warm_start", p->warm, &p->warm, NULL));
  PetscCall(SADeckGetInt("probe_", "trace_vectors", p->ntrace, 2, 1024, &p->ntrace, NULL));
  PetscCall(SADeckGetInt("probe_", "density_vectors", p->nslq, 1, 2048, &p->nslq, NULL));
  PetscCall(SADeckGetInt("probe_", "density_steps", p->mslq, 1, 10000, &p->mslq, NULL));
  PetscCall(SADeckGetInt("probe_", "density_points", p->ngrid, 1, 100000, &p->ngrid, NULL));
  PetscCall(SADeckGetReal("probe_", "density_min", p->gmin, PETSC_MIN_REAL, PETSC_MAX_REAL, &p->gmin, NULL));
  PetscCall(SADeckGetReal("probe_", "density_max", p->gmax, PETSC_MIN_REAL, PETSC_MAX_REAL, &p->gmax, NULL));
  PetscCall(SADeckGetReal("probe_", "density_sigma", p->sigma, PETSC_SMALL, PETSC_MAX_REAL, &p->sigma, NULL));
  if (!(p->gmax > p->gmin))
    PetscCall(
      SADeckFail("probe_density_max", "must be > probe_density_min (%g), got %g", (double) p->gmin, (double) p->gmax));
  PetscCall(SAProbeLayout(p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

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
  PetscCall(SAProbeLayout(p));
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
  SAProbeSetSchedule - Sets when the member is probed

  Logically Collective

  Input Parameters:
+ p        - the probe
. every    - every K steps (0: no periodic probes)
. at_onset - also at the perturbation onset
- at_end   - also at the last step

  Level: intermediate

.seealso: `SAProbeIsScheduled()`
@*/
PetscErrorCode SAProbeSetSchedule(SAProbe p, PetscInt every, PetscBool at_onset, PetscBool at_end)
{
  PetscFunctionBeginUser;
  PetscCheck(every >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "every must be >= 0");
  p->every    = every;
  p->at_onset = at_onset;
  p->at_end   = at_end;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeGetSchedule - Returns when the member is probed

  Not Collective

  Input Parameter:
. p - the probe

  Output Parameters:
+ every    - the period (0: none)
. at_onset - at the perturbation onset
- at_end   - at the last step

  Level: intermediate

.seealso: `SAProbeSetSchedule()`
@*/
PetscErrorCode SAProbeGetSchedule(SAProbe p, PetscInt *every, PetscBool *at_onset, PetscBool *at_end)
{
  PetscFunctionBeginUser;
  if (every) *every = p->every;
  if (at_onset) *at_onset = p->at_onset;
  if (at_end) *at_end = p->at_end;
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
  PetscCall(SAProbeLayout(p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeIsScheduled - Whether a step is probed

  Not Collective

  Input Parameters:
+ p      - the probe
. step   - the step t
. nsteps - the member's last step
- onset  - the member's perturbation onset (-1: none)

  Output Parameter:
. yes - whether to probe at t (never when no kind is on)

  Level: intermediate

.seealso: `SAProbeSetSchedule()`, `SAProbeNumScheduled()`
@*/
PetscErrorCode SAProbeIsScheduled(SAProbe p, PetscInt step, PetscInt nsteps, PetscInt onset, PetscBool *yes)
{
  PetscBool any = PETSC_FALSE;

  PetscFunctionBeginUser;
  for (PetscInt k = 0; k < SA_PROBE_NKINDS; k++) any = (PetscBool) (any || p->kind[k]);
  *yes = (PetscBool) (any && ((p->every > 0 && step % p->every == 0) || (p->at_onset && onset >= 0 && step == onset) ||
                              (p->at_end && step == nsteps)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeNumScheduled - The number of probes of a member over steps 0..nsteps

  Not Collective

  Input Parameters:
+ p      - the probe
. nsteps - the last step
- onset  - the perturbation onset (-1: none)

  Output Parameter:
. n - the number of probed steps

  Level: intermediate

.seealso: `SAProbeIsScheduled()`
@*/
PetscErrorCode SAProbeNumScheduled(SAProbe p, PetscInt nsteps, PetscInt onset, PetscInt *n)
{
  PetscFunctionBeginUser;
  *n = 0;
  for (PetscInt t = 0; t <= nsteps; t++) {
    PetscBool yes;

    PetscCall(SAProbeIsScheduled(p, t, nsteps, onset, &yes));
    if (yes) (*n)++;
  }
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
  if (!p->setup) PetscCall(SAProbeLayout(p));
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
  if (!p->setup) PetscCall(SAProbeLayout(p));
  *n    = p->ngrid;
  *grid = p->grid;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeResetWarmStart - Forgets the eigenvectors kept for warm starts

  Collective

  Input Parameter:
. p - the probe

  Level: intermediate

.seealso: `SAProbeSetWarmStart()`
@*/
PetscErrorCode SAProbeResetWarmStart(SAProbe p)
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < 64; i++) {
    PetscCall(VecDestroy(&p->wtop[i]));
    PetscCall(VecDestroy(&p->wbot[i]));
  }
  PetscCall(VecDestroy(&p->wpre));
  p->ntop = p->nbot = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* one symmetric eigen-solve: k eigenpairs of A of the given end of the spectrum; eigenvalues and absolute
   residuals (fill value when not converged); warm vectors in/out (nwarm valid on input, converged count out) */
static PetscErrorCode SAProbeSymmetricSolve(SAProbe p, Mat A, EPSWhich which, PetscInt k, PetscInt64 addr, Vec warm[],
                                            PetscInt *nwarm, PetscReal eig[], PetscReal res[], PetscInt *its)
{
  EPS      eps;
  PetscInt nconv, it;
  Vec      x0;

  PetscFunctionBeginUser;
  PetscCall(EPSCreate(p->comm, &eps));
  PetscCall(EPSSetOperators(eps, A, NULL));
  PetscCall(EPSSetProblemType(eps, EPS_HEP));
  PetscCall(EPSSetType(eps, EPSKRYLOVSCHUR));
  PetscCall(EPSSetWhichEigenpairs(eps, which));
  PetscCall(EPSSetDimensions(eps, k, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(EPSSetTolerances(eps, p->tol, p->maxit));
  PetscCall(EPSSetOptionsPrefix(eps, "probe_"));
  PetscCall(EPSSetFromOptions(eps));
  if (p->warm && *nwarm > 0) {
    EPSType   type;
    PetscBool ks;

    /* Krylov-Schur (and the other single-vector Krylov solvers) start from the first vector of the initial space
       only: give them the sum of the previous eigenvectors, whose Krylov space holds all of them; block solvers
       get the vectors themselves */
    PetscCall(EPSGetType(eps, &type));
    PetscCall(PetscStrcmp(type, EPSKRYLOVSCHUR, &ks));
    if (ks || *nwarm == 1) {
      PetscCall(VecDuplicate(warm[0], &x0));
      PetscCall(VecCopy(warm[0], x0));
      for (PetscInt i = 1; i < *nwarm; i++) PetscCall(VecAXPY(x0, 1.0, warm[i]));
      PetscCall(EPSSetInitialSpace(eps, 1, &x0));
      PetscCall(VecDestroy(&x0));
    } else PetscCall(EPSSetInitialSpace(eps, *nwarm, warm));
  } else {
    SAStream s;

    PetscCall(SAStreamCreate(p->campaign_seed, p->member_seed, SA_STREAM_PROBE, &s));
    PetscCall(MatCreateVecs(A, &x0, NULL));
    PetscCall(SAStreamVecNormal(&s, addr, x0));
    PetscCall(EPSSetInitialSpace(eps, 1, &x0));
    PetscCall(VecDestroy(&x0));
  }
  PetscCall(EPSSolve(eps));
  PetscCall(EPSGetConverged(eps, &nconv));
  PetscCall(EPSGetIterationNumber(eps, &it));
  *its += it;
  for (PetscInt i = 0; i < k; i++) {
    if (i < nconv) {
      PetscScalar kr;

      if (!warm[i]) PetscCall(MatCreateVecs(A, &warm[i], NULL));
      PetscCall(EPSGetEigenpair(eps, i, &kr, NULL, warm[i], NULL));
      eig[i] = PetscRealPart(kr);
      if (res) PetscCall(EPSComputeError(eps, i, EPS_ERROR_ABSOLUTE, &res[i]));
    } else {
      eig[i] = NC_FILL_DOUBLE;
      if (res) res[i] = NC_FILL_DOUBLE;
    }
  }
  *nwarm = PetscMin(nconv, k);
  PetscCall(EPSDestroy(&eps));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* eigenvalues of largest magnitude and largest singular values of the Jacobian */
static PetscErrorCode SAProbeJacobianSpectrum(SAProbe p, Mat J, PetscInt step, PetscReal *row)
{
  const PetscInt k = p->nev;
  EPS            eps;
  SVD            svd;
  PetscInt       nconv, nb, N;
  Vec            x0, blk;
  SAStream       s;
  PetscReal     *re = row + p->col[SA_PROBE_C_JRE].offset, *im = row + p->col[SA_PROBE_C_JIM].offset,
            *sv = row + p->col[SA_PROBE_C_JSV].offset;

  PetscFunctionBeginUser;
  PetscCall(MatGetSize(J, &N, NULL));
  PetscCall(SAStreamCreate(p->campaign_seed, p->member_seed, SA_STREAM_PROBE, &s));
  PetscCall(MatCreateVecs(J, &x0, NULL));
  PetscCall(SAProbeJacobianGetNumBlocks(J, &nb));
  PetscCall(VecCreateMPI(p->comm, PETSC_DECIDE, N / nb, &blk));
  {
    PetscInt nl, nlj; /* theta's local layout: the same split as the blocks of J */

    PetscCall(VecDestroy(&blk));
    PetscCall(MatGetLocalSize(J, &nlj, NULL));
    nl = nlj / nb;
    PetscCall(VecCreateMPI(p->comm, nl, N / nb, &blk));
  }
  for (PetscInt b = 0; b < nb; b++) { /* a layout-independent start: block b from its own stream address */
    PetscCall(SAStreamVecNormal(&s, SA_PROBE_ADDR(step, 8 + b), blk));
    PetscCall(SAProbeJacobianSetBlock(J, x0, b, blk));
  }
  PetscCall(EPSCreate(p->comm, &eps));
  PetscCall(EPSSetOperators(eps, J, NULL));
  PetscCall(EPSSetProblemType(eps, EPS_NHEP));
  PetscCall(EPSSetType(eps, EPSKRYLOVSCHUR));
  PetscCall(EPSSetWhichEigenpairs(eps, EPS_LARGEST_MAGNITUDE));
  PetscCall(EPSSetDimensions(eps, k, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(EPSSetTolerances(eps, p->tol, p->maxit));
  PetscCall(EPSSetOptionsPrefix(eps, "probe_jac_"));
  PetscCall(EPSSetFromOptions(eps));
  PetscCall(EPSSetInitialSpace(eps, 1, &x0));
  PetscCall(EPSSolve(eps));
  PetscCall(EPSGetConverged(eps, &nconv));
  for (PetscInt i = 0; i < k; i++) {
    if (i < nconv) {
      PetscScalar kr, ki;

      PetscCall(EPSGetEigenvalue(eps, i, &kr, &ki));
      re[i] = PetscRealPart(kr);
      im[i] = PetscRealPart(ki);
    } else re[i] = im[i] = NC_FILL_DOUBLE;
  }
  row[p->col[SA_PROBE_C_JRADIUS].offset] = nconv > 0 ? PetscSqrtReal(re[0] * re[0] + im[0] * im[0]) : NC_FILL_DOUBLE;
  PetscCall(EPSDestroy(&eps));

  PetscCall(SVDCreate(p->comm, &svd));
  PetscCall(SVDSetOperators(svd, J, NULL));
  PetscCall(SVDSetImplicitTranspose(svd, PETSC_TRUE));
  PetscCall(SVDSetWhichSingularTriplets(svd, SVD_LARGEST));
  PetscCall(SVDSetDimensions(svd, k, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(SVDSetTolerances(svd, p->tol, p->maxit));
  PetscCall(SVDSetOptionsPrefix(svd, "probe_jac_"));
  PetscCall(SVDSetFromOptions(svd));
  PetscCall(SVDSetInitialSpaces(svd, 1, &x0, 0, NULL));
  PetscCall(SVDSolve(svd));
  PetscCall(SVDGetConverged(svd, &nconv));
  for (PetscInt i = 0; i < k; i++) {
    if (i < nconv) PetscCall(SVDGetSingularTriplet(svd, i, &sv[i], NULL, NULL));
    else sv[i] = NC_FILL_DOUBLE;
  }
  PetscCall(SVDDestroy(&svd));
  PetscCall(VecDestroy(&blk));
  PetscCall(VecDestroy(&x0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeCompute - Probes a member at one step and fills one row

  Collective

  Input Parameters:
+ p     - the probe
. task  - the task (set up)
. opt   - the optimizer, set up, with the state that belongs to theta (needed by sharpness and jacobian; may be
          NULL otherwise)
. theta - the parameters
. step  - the step t
- h     - the hyper-parameters of the step (NULL: `SAOptimizerGetHyper()` of t)

  Output Parameter:
. row - the row (`SAProbeGetColumns()`), fill value where not measured or not converged

  Level: intermediate

.seealso: `SAProbeSetFromOptions()`, `SAProbeGetColumns()`
@*/
PetscErrorCode SAProbeCompute(SAProbe p, SATask task, SAOptimizer opt, Vec theta, PetscInt step, const SAHyper *h,
                              PetscReal row[])
{
  SABatch   b = SA_BATCH(step);
  SAHyper   hh;
  Mat       H;
  PetscInt  k = p->nev, its = 0, nhvp;
  PetscReal lmax = NC_FILL_DOUBLE;
  SAStream  s;

  PetscFunctionBeginUser;
  if (!p->setup) PetscCall(SAProbeLayout(p));
  PetscCheck(step >= 0 && step < SA_PROBE_MAXSTEP, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "Probe step %" PetscInt_FMT " not in [0, 2^20)", step);
  for (PetscInt i = 0; i < p->rowlen; i++) row[i] = NC_FILL_DOUBLE;
  row[p->col[SA_PROBE_C_STEP].offset] = (PetscReal) step;
  b.probe                             = p->batch;
  b.noise_scale                       = 0.0;
  if (opt) {
    if (h) hh = *h;
    else PetscCall(SAOptimizerGetHyper(opt, step, &hh));
  }
  PetscCall(SAStreamCreate(p->campaign_seed, p->member_seed, SA_STREAM_PROBE, &s));
  PetscCall(SAProbeCreateHessian(task, theta, &b, &H));
  { /* numerical failure is data: a non-finite Hessian (an exploding member) leaves the row at the fill value */
    Vec       x, y;
    PetscReal nrm;

    PetscCall(MatCreateVecs(H, &x, &y));
    PetscCall(SAStreamVecNormal(&s, SA_PROBE_ADDR(step, 3), x));
    PetscCall(MatMult(H, x, y));
    PetscCall(VecNorm(y, NORM_2, &nrm));
    PetscCall(VecDestroy(&x));
    PetscCall(VecDestroy(&y));
    if (PetscIsInfOrNanReal(nrm)) {
      PetscCall(PetscInfo(NULL, "Probe at step %" PetscInt_FMT ": non-finite Hessian, row left empty\n", step));
      PetscCall(MatDestroy(&H));
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  }
  PetscCall(SAProbeOperatorResetHVPCount(H)); /* hessian_hvps counts the solves only */
  if (p->kind[SA_PROBE_HESSIAN]) {
    PetscCall(SAProbeSymmetricSolve(p, H, EPS_LARGEST_REAL, k, SA_PROBE_ADDR(step, 0), p->wtop, &p->ntop,
                                    row + p->col[SA_PROBE_C_EIG].offset, row + p->col[SA_PROBE_C_RES].offset, &its));
    PetscCall(SAProbeSymmetricSolve(p, H, EPS_SMALLEST_REAL, k, SA_PROBE_ADDR(step, 1), p->wbot, &p->nbot,
                                    row + p->col[SA_PROBE_C_EIGMIN].offset, NULL, &its));
    PetscCall(SAProbeOperatorGetHVPCount(H, &nhvp));
    row[p->col[SA_PROBE_C_HVPS].offset] = (PetscReal) nhvp;
    row[p->col[SA_PROBE_C_ITS].offset]  = (PetscReal) its;
    lmax                                = row[p->col[SA_PROBE_C_EIG].offset];
  }
  if (p->kind[SA_PROBE_SHARPNESS]) {
    PetscInt caps;

    PetscCheck(opt, p->comm, PETSC_ERR_ARG_NULL, "The sharpness probe needs the optimizer");
    PetscCall(SAOptimizerGetCapabilities(opt, &caps));
    if (caps & SA_OPT_CAP_DIAG_PRECOND) { /* the threshold applies to the preconditioned sharpness */
      Mat       S;
      PetscReal e, r;
      PetscInt  n1 = p->wpre ? 1 : 0, it2 = 0;

      PetscCall(SAProbeCreatePreconditionedHessian(task, opt, theta, &b, step, &S));
      PetscCall(SAProbeSymmetricSolve(p, S, EPS_LARGEST_REAL, 1, SA_PROBE_ADDR(step, 2), &p->wpre, &n1, &e, &r, &it2));
      PetscCall(MatDestroy(&S));
      row[p->col[SA_PROBE_C_SHARP].offset] = e;
      if (e != NC_FILL_DOUBLE) PetscCall(SAOptimizerSharpnessRatio(opt, &hh, e, &row[p->col[SA_PROBE_C_RATIO].offset]));
    } else {
      if (lmax == NC_FILL_DOUBLE) {
        PetscReal e, r;
        PetscInt  it2 = 0;

        PetscCall(
          SAProbeSymmetricSolve(p, H, EPS_LARGEST_REAL, 1, SA_PROBE_ADDR(step, 0), p->wtop, &p->ntop, &e, &r, &it2));
        lmax = e;
      }
      row[p->col[SA_PROBE_C_SHARP].offset] = lmax;
      if (lmax != NC_FILL_DOUBLE)
        PetscCall(SAOptimizerSharpnessRatio(opt, &hh, lmax, &row[p->col[SA_PROBE_C_RATIO].offset]));
    }
  }
  if (p->kind[SA_PROBE_TRACE])
    PetscCall(SAProbeHutchinson(H, p->ntrace, &s, SA_PROBE_ADDR(step, SA_PROBE_SLOT_TRACE),
                                &row[p->col[SA_PROBE_C_TRACE].offset], &row[p->col[SA_PROBE_C_TRACE_SE].offset]));
  if (p->kind[SA_PROBE_DENSITY]) {
    PetscReal *nodes, *w;
    PetscInt   N, m;

    PetscCall(MatGetSize(H, &N, NULL));
    m = PetscMin(p->mslq, N);
    PetscCall(PetscMalloc2(p->nslq * m, &nodes, p->nslq * m, &w));
    PetscCall(SAProbeLanczosQuadrature(H, p->nslq, m, &s, SA_PROBE_ADDR(step, SA_PROBE_SLOT_SLQ), nodes, w));
    PetscCall(SAProbeDensity(p->nslq * m, nodes, w, p->nslq, p->sigma, p->ngrid, p->grid,
                             row + p->col[SA_PROBE_C_DENSITY].offset));
    PetscCall(PetscFree2(nodes, w));
  }
  PetscCall(MatDestroy(&H));
  if (p->kind[SA_PROBE_JACOBIAN]) {
    Mat J;

    PetscCheck(opt, p->comm, PETSC_ERR_ARG_NULL, "The jacobian probe needs the optimizer");
    PetscCall(SAProbeCreateJacobian(task, opt, theta, &b, step, &J));
    PetscCall(SAProbeJacobianSetHyper(J, &hh));
    PetscCall(SAProbeJacobianSpectrum(p, J, step, row));
    PetscCall(MatDestroy(&J));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeSetMember - Prepares the probe's record of one member: one row per scheduled step

  Collective

  Input Parameters:
+ p      - the probe (kinds and schedule set)
. nsteps - the member's last step
- onset  - the member's perturbation onset (-1: none)

  Level: intermediate

.seealso: `SAProbeStep()`, `SAProbeGetRecords()`
@*/
PetscErrorCode SAProbeSetMember(SAProbe p, PetscInt nsteps, PetscInt onset)
{
  PetscInt k = 0;

  PetscFunctionBeginUser;
  if (!p->setup) PetscCall(SAProbeLayout(p));
  p->nsteps = nsteps;
  p->onset  = onset;
  PetscCall(SAProbeNumScheduled(p, nsteps, onset, &p->nrows));
  PetscCall(PetscFree(p->rowstep));
  PetscCall(PetscFree(p->rows));
  PetscCall(PetscMalloc1(p->nrows + 1, &p->rowstep));
  PetscCall(PetscMalloc1(p->nrows * p->rowlen + 1, &p->rows));
  for (PetscInt i = 0; i < p->nrows * p->rowlen; i++) p->rows[i] = NC_FILL_DOUBLE;
  for (PetscInt t = 0; t <= nsteps; t++) {
    PetscBool yes;

    PetscCall(SAProbeIsScheduled(p, t, nsteps, onset, &yes));
    if (yes) p->rowstep[k++] = t;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeStep - Probes the member at step t if the schedule says so, into the row of that step

  Collective

  Input Parameters:
+ p     - the probe (`SAProbeSetMember()` called)
. task  - the task
. opt   - the optimizer, with the state that belongs to theta
. theta - the parameters at step t
. step  - t
- h     - the hyper-parameters of step t after perturbations (NULL: `SAOptimizerGetHyper()`)

  Notes:
  Called by `SASolverStep()` just before the update. The probe uses its own vectors and the frozen probe batch:
  the training trajectory is the same with and without probes.

  Level: intermediate

.seealso: `SAProbeSetMember()`, `SASolverSetProbe()`
@*/
PetscErrorCode SAProbeStep(SAProbe p, SATask task, SAOptimizer opt, Vec theta, PetscInt step, const SAHyper *h)
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < p->nrows; i++)
    if (p->rowstep[i] == step) PetscCall(SAProbeCompute(p, task, opt, theta, step, h, p->rows + i * p->rowlen));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeGetRecords - Returns the member's probe rows

  Not Collective

  Input Parameter:
. p - the probe (may be NULL: no probes)

  Output Parameters:
+ nrows  - rows (scheduled probes; 0 if p is NULL)
. rowlen - entries per row
- rows   - the rows, nrows x rowlen, owned by the probe (fill value where not probed yet)

  Level: intermediate

.seealso: `SAProbeSetRecords()`, `SAProbeGetColumns()`
@*/
PetscErrorCode SAProbeGetRecords(SAProbe p, PetscInt *nrows, PetscInt *rowlen, PetscReal **rows)
{
  PetscFunctionBeginUser;
  *nrows  = p ? p->nrows : 0;
  *rowlen = p ? p->rowlen : 0;
  *rows   = p ? p->rows : NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeSetRecords - Restores probe rows (from a checkpoint, possibly the twin's branch point) by their step

  Not Collective

  Input Parameters:
+ p      - the probe (`SAProbeSetMember()` called)
. n      - number of rows given
. rowlen - their length (must be the probe's)
- rows   - the rows; a row whose probe_step is one of the member's scheduled steps is copied into that row,
           a row of an unscheduled step or never computed (fill value) is ignored

  Level: developer

.seealso: `SAProbeGetRecords()`
@*/
PetscErrorCode SAProbeSetRecords(SAProbe p, PetscInt n, PetscInt rowlen, const PetscReal rows[])
{
  PetscFunctionBeginUser;
  PetscCheck(rowlen == p->rowlen, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED,
             "Probe rows of length %" PetscInt_FMT ", the deck gives %" PetscInt_FMT, rowlen, p->rowlen);
  for (PetscInt i = 0; i < n; i++) {
    PetscReal t = rows[i * rowlen + p->col[SA_PROBE_C_STEP].offset];

    if (t == NC_FILL_DOUBLE) continue;
    for (PetscInt j = 0; j < p->nrows; j++)
      if ((PetscReal) p->rowstep[j] == t) PetscCall(PetscArraycpy(p->rows + j * rowlen, rows + i * rowlen, rowlen));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeCreateForMember - Creates the probe of a member from the deck, or NULL when the deck turns no probe on

  Collective

  Input Parameters:
+ comm     - the member's group communicator
. campaign - campaign seed
. member   - member seed
. nsteps   - the member's last step
- onset    - its perturbation onset (-1: none)

  Output Parameter:
. p - the probe (NULL if probe_kinds is empty)

  Level: developer

.seealso: `SACampaignCreateSolver()`, `SASolverSetProbe()`
@*/
PetscErrorCode SAProbeCreateForMember(MPI_Comm comm, PetscInt64 campaign, PetscInt64 member, PetscInt nsteps,
                                      PetscInt onset, SAProbe *p)
{
  PetscBool any = PETSC_FALSE;

  PetscFunctionBeginUser;
  PetscCall(SAProbeCreate(comm, p));
  PetscCall(SAProbeSetFromOptions(*p));
  for (PetscInt k = 0; k < SA_PROBE_NKINDS; k++) any = (PetscBool) (any || (*p)->kind[k]);
  if (!any) {
    PetscCall(SAProbeDestroy(p));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(SAProbeSetSeeds(*p, campaign, member));
  PetscCall(SAProbeSetMember(*p, nsteps, onset));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeView - Prints the probe's settings

  Collective

  Input Parameters:
+ p      - the probe
- viewer - an ASCII viewer

  Level: beginner

.seealso: `SAProbeCreate()`
@*/
PetscErrorCode SAProbeView(SAProbe p, PetscViewer viewer)
{
  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, "SAProbe:"));
  for (PetscInt k = 0; k < SA_PROBE_NKINDS; k++)
    if (p->kind[k]) PetscCall(PetscViewerASCIIPrintf(viewer, " %s", SAProbeKinds[k]));
  PetscCall(PetscViewerASCIIPrintf(
    viewer, "; every %" PetscInt_FMT ", nev %" PetscInt_FMT ", tol %g, batch %" PetscInt_FMT ", warm start %s\n",
    p->every, p->nev, (double) p->tol, p->batch, p->warm ? "on" : "off"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeDestroy - Destroys a probe

  Collective

  Input Parameter:
. p - the probe (set to NULL)

  Level: beginner

.seealso: `SAProbeCreate()`
@*/
PetscErrorCode SAProbeDestroy(SAProbe *p)
{
  PetscFunctionBeginUser;
  if (!*p) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SAProbeResetWarmStart(*p));
  PetscCall(PetscFree((*p)->grid));
  PetscCall(PetscFree((*p)->rowstep));
  PetscCall(PetscFree((*p)->rows));
  PetscCall(PetscFree(*p));
  PetscFunctionReturn(PETSC_SUCCESS);
}
