/*
  probe_compute.c - the measurements of SAProbe: at one step, the EPS/SVD solves (warm-started symmetric
  Hessian solves, the Jacobian spectrum) and the trace and density estimates that fill one probe row.

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
#include <slepceps.h>
#include <slepcsvd.h>
#include <netcdf.h>

/* stream addresses of step t: 1 + 4096 t + slot (address 0 is the classify task's probe-batch permutation);
   slots 0 top, 1 bottom, 2 preconditioned start, 8.. Jacobian start blocks, 1024.. trace, 2048.. SLQ vectors */
#define SA_PROBE_ADDR(t, slot) (1 + 4096 * (PetscInt64) (t) + (slot))
#define SA_PROBE_MAXSTEP       ((PetscInt) 1 << 20)
#define SA_PROBE_SLOT_TRACE    1024
#define SA_PROBE_SLOT_SLQ      2048

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
  char     prefix[256];

  PetscFunctionBeginUser;
  PetscCall(EPSCreate(PetscObjectComm((PetscObject) p), &eps));
  PetscCall(EPSSetOperators(eps, A, NULL));
  PetscCall(EPSSetProblemType(eps, EPS_HEP));
  PetscCall(EPSSetType(eps, EPSKRYLOVSCHUR));
  PetscCall(EPSSetWhichEigenpairs(eps, which));
  PetscCall(EPSSetDimensions(eps, k, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(EPSSetTolerances(eps, p->tol, p->maxit));
  PetscCall(SAProbeDeckSection_Private(p, "probe_", prefix, sizeof(prefix)));
  PetscCall(EPSSetOptionsPrefix(eps, prefix));
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
  PetscCall(PetscLogEventBegin(SAPROBE_Solve, 0, 0, 0, 0));
  PetscCall(EPSSolve(eps));
  PetscCall(PetscLogEventEnd(SAPROBE_Solve, 0, 0, 0, 0));
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
  char           prefix[256];
  PetscReal     *re = row + p->col[SA_PROBE_C_JRE].offset, *im = row + p->col[SA_PROBE_C_JIM].offset,
            *sv = row + p->col[SA_PROBE_C_JSV].offset;

  PetscFunctionBeginUser;
  PetscCall(MatGetSize(J, &N, NULL));
  PetscCall(SAStreamCreate(p->campaign_seed, p->member_seed, SA_STREAM_PROBE, &s));
  PetscCall(MatCreateVecs(J, &x0, NULL));
  PetscCall(SAStepJacobianGetNumBlocks(J, &nb));
  PetscCall(VecCreateMPI(PetscObjectComm((PetscObject) p), PETSC_DECIDE, N / nb, &blk));
  {
    PetscInt nl, nlj; /* theta's local layout: the same split as the blocks of J */

    PetscCall(VecDestroy(&blk));
    PetscCall(MatGetLocalSize(J, &nlj, NULL));
    nl = nlj / nb;
    PetscCall(VecCreateMPI(PetscObjectComm((PetscObject) p), nl, N / nb, &blk));
  }
  for (PetscInt b = 0; b < nb; b++) { /* a layout-independent start: block b from its own stream address */
    PetscCall(SAStreamVecNormal(&s, SA_PROBE_ADDR(step, 8 + b), blk));
    PetscCall(SAStepJacobianSetBlock(J, x0, b, blk));
  }
  PetscCall(EPSCreate(PetscObjectComm((PetscObject) p), &eps));
  PetscCall(EPSSetOperators(eps, J, NULL));
  PetscCall(EPSSetProblemType(eps, EPS_NHEP));
  PetscCall(EPSSetType(eps, EPSKRYLOVSCHUR));
  PetscCall(EPSSetWhichEigenpairs(eps, EPS_LARGEST_MAGNITUDE));
  PetscCall(EPSSetDimensions(eps, k, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(EPSSetTolerances(eps, p->tol, p->maxit));
  PetscCall(SAProbeDeckSection_Private(p, "probe_jac_", prefix, sizeof(prefix)));
  PetscCall(EPSSetOptionsPrefix(eps, prefix));
  PetscCall(EPSSetFromOptions(eps));
  PetscCall(EPSSetInitialSpace(eps, 1, &x0));
  PetscCall(PetscLogEventBegin(SAPROBE_Solve, 0, 0, 0, 0));
  PetscCall(EPSSolve(eps));
  PetscCall(PetscLogEventEnd(SAPROBE_Solve, 0, 0, 0, 0));
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

  PetscCall(SVDCreate(PetscObjectComm((PetscObject) p), &svd));
  PetscCall(SVDSetOperators(svd, J, NULL));
  PetscCall(SVDSetImplicitTranspose(svd, PETSC_TRUE));
  PetscCall(SVDSetWhichSingularTriplets(svd, SVD_LARGEST));
  PetscCall(SVDSetDimensions(svd, k, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(SVDSetTolerances(svd, p->tol, p->maxit));
  PetscCall(SVDSetOptionsPrefix(svd, prefix));
  PetscCall(SVDSetFromOptions(svd));
  PetscCall(SVDSetInitialSpaces(svd, 1, &x0, 0, NULL));
  PetscCall(PetscLogEventBegin(SAPROBE_Solve, 0, 0, 0, 0));
  PetscCall(SVDSolve(svd));
  PetscCall(PetscLogEventEnd(SAPROBE_Solve, 0, 0, 0, 0));
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
  PetscFunctionBeginUser;
  PetscCall(SAProbeComputeRow_Private(p, NULL, task, opt, theta, step, h, row));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the row of step t; with a solver (inside its monitor) the Jacobian is the solver's linearisation of the step on the
   probe batch (SASolverCreateStepJacobian: the member's learning signal and gradient hooks included) */
PetscErrorCode SAProbeComputeRow_Private(SAProbe p, SASolver solver, SATask task, SAOptimizer opt, Vec theta,
                                         PetscInt step, const SAHyper *h, PetscReal row[])
{
  SABatch   b = SA_BATCH(step);
  SAHyper   hh;
  Mat       H;
  PetscInt  k = p->nev, its = 0, nhvp;
  PetscReal lmax = NC_FILL_DOUBLE;
  SAStream  s;

  PetscFunctionBeginUser;
  if (!p->setup) PetscCall(SAProbeLayout_Private(p));
  PetscCall(PetscLogEventBegin(SAPROBE_Compute, 0, 0, 0, 0));
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
      PetscCall(PetscLogEventEnd(SAPROBE_Compute, 0, 0, 0, 0));
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

    PetscCheck(opt, PetscObjectComm((PetscObject) p), PETSC_ERR_ARG_NULL, "The sharpness probe needs the optimizer");
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

    PetscCheck(opt, PetscObjectComm((PetscObject) p), PETSC_ERR_ARG_NULL, "The jacobian probe needs the optimizer");
    if (solver) PetscCall(SASolverCreateStepJacobian(solver, &b, &J));
    else {
      PetscCall(SAStepJacobianCreate(task, opt, theta, &b, step, NULL, &J));
      PetscCall(SAStepJacobianSetHyper(J, &hh));
    }
    PetscCall(SAProbeJacobianSpectrum(p, J, step, row));
    PetscCall(MatDestroy(&J));
  }
  PetscCall(PetscLogEventEnd(SAPROBE_Compute, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}
