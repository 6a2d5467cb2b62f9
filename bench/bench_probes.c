static char help[] =
  "bench_probes - cost of the Hessian probes on a real MLP Hessian (SATask classify, frozen probe batch), in\n"
  "Hessian-vector products (HVPs) and wall time. Not a test. Three measurements on the same operator and the same\n"
  "starting vector (theta after -bench_train training steps):\n"
  "  1. top-1 and top-k eigenvalues to relative error -bench_rtol against a tight reference solve (EPS\n"
  "     Krylov-Schur, tol 1e-13): SLEPc Krylov-Schur (default settings; its monitor reports the Ritz values after\n"
  "     each restart) against power iteration with deflation (the algorithm of PyHessian, implemented here with\n"
  "     the same HVP): HVPs and time until the estimates first lie within -bench_rtol (oracle stop), and, for\n"
  "     power iteration, also with PyHessian's own stop (relative change of the estimate < -bench_power_tol);\n"
  "  1b. top-1 with honest stops, the same rule for both methods (HVPs of the whole solve): relative change of the\n"
  "     estimate < tau with the loosest tau in 1e-3..1e-9 that reaches -bench_rtol, and the residual rule\n"
  "     |H x - theta x| <= rtol |theta|; Krylov-Schur with SLEPc's ncv and with -bench_ncv;\n"
  "  2. warm starts: -bench_probes consecutive probes (SAProbe, kind hessian: top-k and bottom-k, tol\n"
  "     -bench_probe_tol) -bench_probe_every training steps apart, with and without warm start; total HVPs; and the\n"
  "     relative residual of the previous probe's top-k eigenvectors (Rayleigh-Ritz) on the next operator.\n"
  "Options, defaults in brackets:\n"
  "  -bench_train N         training steps before the measurement [300]\n"
  "  -bench_batch N         probe batch (samples) [256]\n"
  "  -bench_k N             eigenvalues of the top-k measurement [5]\n"
  "  -bench_rtol R          target relative error [1e-6]\n"
  "  -bench_power_tol R     PyHessian stop: relative change of the estimate [1e-6]\n"
  "  -bench_maxhvp N        HVP budget per power-iteration eigenvalue [20000]\n"
  "  -bench_probes N        probes of the warm-start measurement [10]\n"
  "  -bench_probe_every N   training steps between them [20]\n"
  "  -bench_probe_tol R     their EPS tolerance [1e-6]\n"
  "  -bench_ncv N           the small ncv of the top-1 Krylov-Schur runs [6]\n"
  "Task and optimizer keys as in a deck; set here when absent: -task_type classify -task_classify_dataset digits\n"
  "-model_hidden 64 -model_activation tanh -model_loss xent -optimizer_type momentum -optimizer_lr 0.05\n"
  "-optimizer_momentum 0.9. The last output line is 'RESULT key=value ...' for bench/probes.sh.\n";

#include <stabaudit/saprobe.h>
#include <stabaudit/sastream.h>
#include <slepceps.h>
#include <petscblaslapack.h>

typedef struct {
  PetscInt  train, batch, k, maxhvp, nprobes, every, ncv;
  PetscReal rtol, power_tol, probe_tol;
} AppCtx;

/* what the Krylov-Schur monitor looks for */
typedef struct {
  Mat              H;
  PetscInt         k;       /* wanted eigenvalues */
  const PetscReal *ref;     /* reference eigenvalues (descending) */
  PetscReal        rtol;    /* target */
  PetscLogDouble   t0;      /* start time */
  PetscInt         hvps;    /* HVPs when first reached (-1: not yet) */
  PetscLogDouble   seconds; /* time when first reached */
} KSMonitorCtx;

static PetscErrorCode SetDefault(const char name[], const char value[])
{
  PetscBool set;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsHasName(NULL, NULL, name, &set));
  if (!set) PetscCall(PetscOptionsSetValue(NULL, name, value));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ProcessOptions(MPI_Comm comm, AppCtx *app)
{
  PetscFunctionBeginUser;
  app->train     = 300;
  app->batch     = 256;
  app->k         = 5;
  app->rtol      = 1e-6;
  app->power_tol = 1e-6;
  app->maxhvp    = 20000;
  app->nprobes   = 10;
  app->every     = 20;
  app->probe_tol = 1e-6;
  app->ncv       = 6;
  PetscOptionsBegin(comm, "", "bench_probes options", "SA");
  PetscCall(PetscOptionsInt("-bench_train", "training steps first", "bench_probes.c", app->train, &app->train, NULL));
  PetscCall(PetscOptionsInt("-bench_batch", "probe batch", "bench_probes.c", app->batch, &app->batch, NULL));
  PetscCall(PetscOptionsInt("-bench_k", "eigenvalues of top-k", "bench_probes.c", app->k, &app->k, NULL));
  PetscCall(PetscOptionsReal("-bench_rtol", "target relative error", "bench_probes.c", app->rtol, &app->rtol, NULL));
  PetscCall(PetscOptionsReal("-bench_power_tol", "PyHessian relative-change stop", "bench_probes.c", app->power_tol,
                             &app->power_tol, NULL));
  PetscCall(PetscOptionsInt("-bench_maxhvp", "HVP budget per power eigenvalue", "bench_probes.c", app->maxhvp,
                            &app->maxhvp, NULL));
  PetscCall(PetscOptionsInt("-bench_probes", "probes of the warm-start test", "bench_probes.c", app->nprobes,
                            &app->nprobes, NULL));
  PetscCall(
    PetscOptionsInt("-bench_probe_every", "steps between probes", "bench_probes.c", app->every, &app->every, NULL));
  PetscCall(PetscOptionsReal("-bench_probe_tol", "EPS tolerance of the probes", "bench_probes.c", app->probe_tol,
                             &app->probe_tol, NULL));
  PetscCall(
    PetscOptionsInt("-bench_ncv", "small ncv of the top-1 Krylov-Schur", "bench_probes.c", app->ncv, &app->ncv, NULL));
  PetscOptionsEnd();
  PetscCall(SetDefault("-task_type", "classify"));
  PetscCall(SetDefault("-task_classify_dataset", "digits"));
  PetscCall(SetDefault("-model_hidden", "64"));
  PetscCall(SetDefault("-model_activation", "tanh"));
  PetscCall(SetDefault("-model_loss", "xent"));
  PetscCall(SetDefault("-optimizer_type", "momentum"));
  PetscCall(SetDefault("-optimizer_lr", "0.05"));
  PetscCall(SetDefault("-optimizer_momentum", "0.9"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* nsteps training steps from step t0 */
static PetscErrorCode Train(SATask task, SAOptimizer opt, Vec theta, Vec g, PetscInt t0, PetscInt nsteps)
{
  PetscFunctionBeginUser;
  for (PetscInt t = t0; t < t0 + nsteps; t++) {
    SABatch   b = SA_BATCH(t);
    SAHyper   h;
    PetscReal loss;

    PetscCall(SATaskLossGradient(task, theta, &b, &loss, g));
    PetscCall(SAOptimizerGetHyper(opt, t, &h));
    PetscCall(SAOptimizerUpdate(opt, &h, theta, g));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode KSMonitor(EPS eps, PetscInt its, PetscInt nconv, PetscScalar *eigr, PetscScalar *eigi,
                                PetscReal *errest, PetscInt nest, void *ctx)
{
  KSMonitorCtx *m  = (KSMonitorCtx *) ctx;
  PetscBool     ok = (PetscBool) (nest >= m->k);

  PetscFunctionBeginUser;
  if (m->hvps >= 0) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt i = 0; ok && i < m->k; i++)
    ok = (PetscBool) (PetscAbsReal(PetscRealPart(eigr[i]) - m->ref[i]) <= m->rtol * PetscAbsReal(m->ref[i]));
  if (ok) {
    PetscLogDouble t;

    PetscCall(PetscTime(&t));
    PetscCall(SAProbeOperatorGetHVPCount(m->H, &m->hvps));
    m->seconds = t - m->t0;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* what the relative-change convergence test keeps (top-1): the Ritz value of the previous test */
typedef struct {
  PetscReal prev;
} ChangeCtx;

/* convergence test on the change of the Ritz value between two restarts (PyHessian's rule, for Krylov-Schur): the
   error estimate is |theta - theta_prev| / |theta|; nev = 1, so the first pair tested at a restart is the wanted one */
static PetscErrorCode ChangeTest(EPS eps, PetscScalar eigr, PetscScalar eigi, PetscReal res, PetscReal *errest,
                                 void *ctx)
{
  ChangeCtx *c     = (ChangeCtx *) ctx;
  PetscReal  theta = PetscRealPart(eigr);

  PetscFunctionBeginUser;
  (void) eps;
  (void) eigi;
  (void) res;
  *errest = c->prev == 0 ? 1.0 : PetscAbsReal(theta - c->prev) / PetscAbsReal(theta);
  c->prev = theta;
  PetscFunctionReturn(PETSC_SUCCESS);
}

typedef enum {
  KS_ORACLE,   /* tolerance far below the target: HVPs when the monitor first sees the target reached */
  KS_RESIDUAL, /* SLEPc's own test, |H x - theta x| / |theta| < tol (bounds the eigenvalue error by tol |theta|) */
  KS_CHANGE    /* relative change of the Ritz value between restarts < tol (top-1 only) */
} KSMode;

/* Krylov-Schur from x0 with ncv (PETSC_DEFAULT: SLEPc's) and the given stop: HVPs and seconds until the k largest
   Ritz values first lie within rtol (seen at restarts), HVPs of the whole solve, and the largest relative error of
   the k eigenvalues it returns */
static PetscErrorCode KrylovSchur(Mat H, Vec x0, PetscInt k, const PetscReal ref[], PetscReal rtol, PetscInt ncv,
                                  KSMode mode, PetscReal tol, PetscInt *hvps, PetscLogDouble *seconds, PetscInt *total,
                                  PetscReal *err)
{
  EPS          eps;
  KSMonitorCtx m = {H, k, ref, rtol, 0, -1, 0};
  ChangeCtx    c = {0};
  PetscInt     nconv;

  PetscFunctionBeginUser;
  PetscCall(SAProbeOperatorResetHVPCount(H));
  PetscCall(EPSCreate(PetscObjectComm((PetscObject) H), &eps));
  PetscCall(EPSSetOperators(eps, H, NULL));
  PetscCall(EPSSetProblemType(eps, EPS_HEP));
  PetscCall(EPSSetType(eps, EPSKRYLOVSCHUR));
  PetscCall(EPSSetWhichEigenpairs(eps, EPS_LARGEST_REAL));
  PetscCall(EPSSetDimensions(eps, k, ncv, PETSC_DEFAULT));
  PetscCall(EPSSetTolerances(eps, mode == KS_ORACLE ? 1e-3 * rtol : tol, 100000));
  if (mode == KS_CHANGE) PetscCall(EPSSetConvergenceTestFunction(eps, ChangeTest, &c, NULL));
  PetscCall(EPSSetInitialSpace(eps, 1, &x0));
  PetscCall(EPSMonitorSet(eps, KSMonitor, &m, NULL));
  PetscCall(PetscTime(&m.t0));
  PetscCall(EPSSolve(eps));
  PetscCall(SAProbeOperatorGetHVPCount(H, total));
  PetscCall(EPSGetConverged(eps, &nconv));
  *err = nconv >= k ? 0 : PETSC_INFINITY;
  for (PetscInt i = 0; i < PetscMin(k, nconv); i++) {
    PetscScalar kr;

    PetscCall(EPSGetEigenvalue(eps, i, &kr, NULL));
    *err = PetscMax(*err, PetscAbsReal(PetscRealPart(kr) - ref[i]) / PetscAbsReal(ref[i]));
  }
  *hvps    = m.hvps;
  *seconds = m.seconds;
  PetscCall(EPSDestroy(&eps));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Lanczos with full reorthogonalisation from x0 (the first cycle of Krylov-Schur, without restarts): the HVPs after
   which the k largest Ritz values first lie within rtol (one-HVP granularity; the Krylov-Schur monitor only sees
   restarts) */
static PetscErrorCode Lanczos(Mat H, Vec x0, PetscInt k, const PetscReal ref[], PetscReal rtol, PetscInt maxit,
                              PetscInt *hvps, PetscLogDouble *seconds, PetscInt *res_hvps)
{
  Vec           *V, w;
  PetscReal     *alpha, *beta, *d, *e, *work, *z;
  PetscScalar   *dots;
  PetscLogDouble t0, t;

  PetscFunctionBeginUser;
  *hvps     = -1;
  *res_hvps = -1;
  PetscCall(VecDuplicate(x0, &w));
  PetscCall(VecDuplicateVecs(x0, maxit + 1, &V));
  PetscCall(PetscMalloc6(maxit + 1, &alpha, maxit + 1, &beta, maxit + 1, &d, maxit + 1, &e, 2 * maxit + 2, &work,
                         maxit + 1, &dots));
  PetscCall(PetscMalloc1((maxit + 1) * (maxit + 1), &z));
  PetscCall(PetscTime(&t0));
  PetscCall(VecCopy(x0, V[0]));
  PetscCall(VecNormalize(V[0], NULL));
  for (PetscInt j = 0; j < maxit; j++) {
    PetscScalar  a;
    PetscBLASInt bn, info, one = 1;
    PetscBool    ok;

    PetscCall(MatMult(H, V[j], w));
    PetscCall(VecDot(w, V[j], &a));
    alpha[j] = PetscRealPart(a);
    for (PetscInt pass = 0; pass < 2; pass++) {
      PetscCall(VecMDot(w, j + 1, V, dots));
      for (PetscInt i = 0; i <= j; i++) dots[i] = -dots[i];
      PetscCall(VecMAXPY(w, j + 1, dots, V));
    }
    PetscCall(VecNorm(w, NORM_2, &beta[j]));
    for (PetscInt i = 0; i <= j; i++) d[i] = alpha[i];
    for (PetscInt i = 0; i < j; i++) e[i] = beta[i];
    PetscCall(PetscBLASIntCast(j + 1, &bn));
    /* Ritz values and vectors of T_j; the residual of the largest Ritz pair is beta_j |z(j, top)| */
    PetscCallBLAS("LAPACKsteqr", LAPACKREALsteqr_("I", &bn, d, e, z, &bn, work, &info));
    PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "steqr failed");
    (void) one;
    if (*res_hvps < 0 && beta[j] * PetscAbsReal(z[j * (j + 1) + j]) <= rtol * PetscAbsReal(d[j])) *res_hvps = j + 1;
    ok = (PetscBool) (j + 1 >= k && *hvps < 0);
    for (PetscInt i = 0; ok && i < k; i++) /* d ascending: the largest at the end */
      ok = (PetscBool) (PetscAbsReal(d[j - i] - ref[i]) <= rtol * PetscAbsReal(ref[i]));
    if (ok) {
      PetscCall(PetscTime(&t));
      *hvps    = j + 1;
      *seconds = t - t0;
    }
    if (*hvps >= 0 && *res_hvps >= 0) break;
    PetscCall(VecAXPBY(V[j + 1], 1.0 / beta[j], 0.0, w));
  }
  PetscCall(PetscFree6(alpha, beta, d, e, work, dots));
  PetscCall(PetscFree(z));
  PetscCall(VecDestroyVecs(maxit + 1, &V));
  PetscCall(VecDestroy(&w));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* top-k Krylov-Schur solve to tol from x0 (one vector); eigenvectors out; HVPs */
static PetscErrorCode TopK(Mat H, Vec x0, PetscInt k, PetscReal tol, Vec evec[], PetscInt *nconv, PetscInt *hvps)
{
  EPS eps;

  PetscFunctionBeginUser;
  PetscCall(SAProbeOperatorResetHVPCount(H));
  PetscCall(EPSCreate(PetscObjectComm((PetscObject) H), &eps));
  PetscCall(EPSSetOperators(eps, H, NULL));
  PetscCall(EPSSetProblemType(eps, EPS_HEP));
  PetscCall(EPSSetType(eps, EPSKRYLOVSCHUR));
  PetscCall(EPSSetWhichEigenpairs(eps, EPS_LARGEST_REAL));
  PetscCall(EPSSetDimensions(eps, k, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(EPSSetTolerances(eps, tol, 100000));
  PetscCall(EPSSetInitialSpace(eps, 1, &x0));
  PetscCall(EPSSolve(eps));
  PetscCall(EPSGetConverged(eps, nconv));
  *nconv = PetscMin(*nconv, k);
  for (PetscInt i = 0; i < *nconv; i++) PetscCall(EPSGetEigenpair(eps, i, NULL, NULL, evec[i], NULL));
  PetscCall(SAProbeOperatorGetHVPCount(H, hvps));
  PetscCall(EPSDestroy(&eps));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* power iteration with deflation (PyHessian, hessian.eigenvalues): for each i, v <- x0 orthonormalised against the
   eigenvectors found, then v <- normalise(H v) with v orthogonalised each step, lambda = v^T H v; stop when
   |lambda - lambda_prev| / (|lambda_prev| + 1e-6) < power_tol (PyHessian's rule) -- and record the first HVP count
   at which lambda is within rtol of the reference (oracle). Returns per-eigenvalue counts summed over i < k. */
static PetscErrorCode Power(Mat H, Vec x0, PetscInt k, const PetscReal ref[], PetscReal rtol, PetscReal power_tol,
                            PetscInt maxhvp, PetscInt *hvp_oracle, PetscLogDouble *sec_oracle, PetscInt *hvp_stop,
                            PetscLogDouble *sec_stop, PetscReal *err_stop)
{
  Vec           *V, v, Hv;
  PetscInt       done = 0;
  PetscLogDouble t0, t;

  PetscFunctionBeginUser;
  PetscCall(VecDuplicate(x0, &v));
  PetscCall(VecDuplicate(x0, &Hv));
  PetscCall(VecDuplicateVecs(x0, k, &V));
  PetscCall(SAProbeOperatorResetHVPCount(H));
  *hvp_oracle = 0;
  *err_stop   = 0;
  PetscCall(PetscTime(&t0));
  for (PetscInt i = 0; i < k; i++) {
    PetscReal   lambda = 0, prev = 0;
    PetscBool   hit = PETSC_FALSE, stopped = PETSC_FALSE;
    PetscScalar d, dots[64];

    PetscCall(VecCopy(x0, v));
    for (PetscInt it = 0; it < maxhvp && !(hit && stopped); it++) {
      PetscInt n;

      if (done) { /* orthogonalise against the eigenvectors found */
        PetscCall(VecMDot(v, done, V, dots));
        for (PetscInt j = 0; j < done; j++) dots[j] = -dots[j];
        PetscCall(VecMAXPY(v, done, dots, V));
      }
      PetscCall(VecNormalize(v, NULL));
      PetscCall(MatMult(H, v, Hv));
      PetscCall(VecDot(Hv, v, &d));
      prev   = lambda;
      lambda = PetscRealPart(d);
      PetscCall(SAProbeOperatorGetHVPCount(H, &n));
      if (!hit && PetscAbsReal(lambda - ref[i]) <= rtol * PetscAbsReal(ref[i])) {
        hit = PETSC_TRUE;
        PetscCall(PetscTime(&t));
        *hvp_oracle = n;
        *sec_oracle = t - t0;
      }
      if (!stopped && it > 0 && PetscAbsReal(lambda - prev) / (PetscAbsReal(prev) + 1e-6) < power_tol) {
        stopped = PETSC_TRUE;
        PetscCall(PetscTime(&t));
        *hvp_stop = n;
        *sec_stop = t - t0;
        *err_stop = PetscMax(*err_stop, PetscAbsReal(lambda - ref[i]) / PetscAbsReal(ref[i]));
      }
      PetscCall(VecCopy(Hv, v));
    }
    if (!hit) *hvp_oracle = -1; /* budget exhausted */
    if (!stopped) *hvp_stop = -1;
    PetscCall(VecNormalize(v, NULL));
    PetscCall(VecCopy(v, V[done++]));
    if (!hit) break;
  }
  PetscCall(VecDestroyVecs(k, &V));
  PetscCall(VecDestroy(&v));
  PetscCall(VecDestroy(&Hv));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* how good a warm start can be: the Rayleigh-Ritz pairs (theta_i, u_i) of H on span(V[0..n-1]) (n HVPs, not counted
   by the caller's solve) and the largest relative residual |H u_i - theta_i u_i| / |theta_i|, which a solver started
   from that space still has to bring down to its tolerance */
static PetscErrorCode RayleighRitzResidual(Mat H, PetscInt n, Vec V[], PetscReal *maxres)
{
  Vec         *W, u, r;
  PetscScalar *G, *y;
  PetscReal   *ev, *work;
  PetscBLASInt bn, lwork, info;

  PetscFunctionBeginUser;
  *maxres = 0;
  if (n < 1) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(VecDuplicateVecs(V[0], n, &W));
  PetscCall(VecDuplicate(V[0], &u));
  PetscCall(VecDuplicate(V[0], &r));
  PetscCall(PetscMalloc4(n * n, &G, n, &y, n, &ev, 3 * n, &work));
  /* V: the eigenvectors of one Hermitian solve, orthonormal */
  for (PetscInt i = 0; i < n; i++) PetscCall(MatMult(H, V[i], W[i]));
  for (PetscInt j = 0; j < n; j++) PetscCall(VecMDot(W[j], n, V, G + j * n)); /* G(i, j) = v_i^T H v_j */
  PetscCall(PetscBLASIntCast(n, &bn));
  PetscCall(PetscBLASIntCast(3 * n, &lwork));
  PetscCallBLAS("LAPACKsyev", LAPACKsyev_("V", "U", &bn, G, &bn, ev, work, &lwork, &info));
  PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "syev failed");
  for (PetscInt i = 0; i < n; i++) {
    PetscReal nr;

    for (PetscInt j = 0; j < n; j++) y[j] = G[i * n + j];
    PetscCall(VecSet(u, 0.0));
    PetscCall(VecMAXPY(u, n, y, V));
    PetscCall(VecSet(r, 0.0));
    PetscCall(VecMAXPY(r, n, y, W));
    PetscCall(VecAXPY(r, -ev[i], u));
    PetscCall(VecNorm(r, NORM_2, &nr));
    *maxres = PetscMax(*maxres, nr / PetscAbsReal(ev[i]));
  }
  PetscCall(PetscFree4(G, y, ev, work));
  PetscCall(VecDestroy(&r));
  PetscCall(VecDestroy(&u));
  PetscCall(VecDestroyVecs(n, &W));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the tolerances tried for a stopping rule, loosest first */
static const PetscReal StopTols[] = {1e-3, 1e-4, 1e-5, 5e-6, 2e-6, 1e-6, 5e-7, 2e-7,
                                     1e-7, 5e-8, 2e-8, 1e-8, 5e-9, 2e-9, 1e-9};
#define NSTOPTOLS ((PetscInt) (sizeof(StopTols) / sizeof(StopTols[0])))

/* top-1 power iteration from x0 with the two honest stopping rules: PyHessian's relative change < tau with the
   loosest tau of StopTols whose stop lies within rtol of the reference (chosen knowing the answer: generous to power
   iteration), and the residual rule |H v - lambda v| <= rtol |lambda| (|v| = 1), which bounds the error by rtol without
   knowing the answer. HVPs and relative error at each stop (-1 HVPs: not reached in maxhvp). */
static PetscErrorCode PowerStops(Mat H, Vec x0, PetscReal ref, PetscReal rtol, PetscInt maxhvp, PetscReal *tau,
                                 PetscInt *chg_hvps, PetscReal *chg_err, PetscInt *res_hvps, PetscReal *res_err)
{
  Vec        v, Hv, w;
  PetscReal *lam;
  PetscInt   n = 0;

  PetscFunctionBeginUser;
  PetscCall(VecDuplicate(x0, &v));
  PetscCall(VecDuplicate(x0, &Hv));
  PetscCall(VecDuplicate(x0, &w));
  PetscCall(PetscMalloc1(maxhvp, &lam));
  PetscCall(VecCopy(x0, v));
  *res_hvps = -1;
  *res_err  = PETSC_INFINITY;
  for (n = 0; n < maxhvp;) {
    PetscScalar d;
    PetscReal   r;

    PetscCall(VecNormalize(v, NULL));
    PetscCall(MatMult(H, v, Hv));
    PetscCall(VecDot(Hv, v, &d));
    lam[n++] = PetscRealPart(d);
    PetscCall(VecWAXPY(w, -d, v, Hv)); /* the residual H v - lambda v */
    PetscCall(VecNorm(w, NORM_2, &r));
    PetscCall(VecCopy(Hv, v));
    if (r <= rtol * PetscAbsReal(lam[n - 1])) {
      *res_hvps = n;
      *res_err  = PetscAbsReal(lam[n - 1] - ref) / PetscAbsReal(ref);
      break;
    }
  }
  *tau      = 0;
  *chg_hvps = -1;
  *chg_err  = PETSC_INFINITY;
  for (PetscInt j = 0; j < NSTOPTOLS && *chg_hvps < 0; j++)
    for (PetscInt i = 1; i < n; i++)
      if (PetscAbsReal(lam[i] - lam[i - 1]) / (PetscAbsReal(lam[i - 1]) + 1e-6) < StopTols[j]) {
        PetscReal e = PetscAbsReal(lam[i] - ref) / PetscAbsReal(ref);

        if (e <= rtol) {
          *tau      = StopTols[j];
          *chg_hvps = i + 1;
          *chg_err  = e;
        }
        break;
      }
  PetscCall(PetscFree(lam));
  PetscCall(VecDestroy(&w));
  PetscCall(VecDestroy(&v));
  PetscCall(VecDestroy(&Hv));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the same two rules for top-1 Krylov-Schur with ncv: the relative change of the Ritz value between restarts with the
   loosest tau of StopTols that reaches rtol, and SLEPc's residual test at tol = rtol */
static PetscErrorCode KrylovSchurStops(Mat H, Vec x0, const PetscReal ref[], PetscReal rtol, PetscInt ncv,
                                       PetscReal *tau, PetscInt *chg_hvps, PetscReal *chg_err, PetscInt *res_hvps,
                                       PetscReal *res_err)
{
  PetscInt       h;
  PetscLogDouble sec;

  PetscFunctionBeginUser;
  *tau      = 0;
  *chg_hvps = -1;
  *chg_err  = PETSC_INFINITY;
  for (PetscInt j = 0; j < NSTOPTOLS && *chg_hvps < 0; j++) {
    PetscInt  tot;
    PetscReal e;

    PetscCall(KrylovSchur(H, x0, 1, ref, rtol, ncv, KS_CHANGE, StopTols[j], &h, &sec, &tot, &e));
    if (e <= rtol) {
      *tau      = StopTols[j];
      *chg_hvps = tot;
      *chg_err  = e;
    }
  }
  PetscCall(KrylovSchur(H, x0, 1, ref, rtol, ncv, KS_RESIDUAL, rtol, &h, &sec, res_hvps, res_err));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  AppCtx         app;
  MPI_Comm       comm;
  SATask         task;
  SAOptimizer    opt;
  Vec            theta, g, x0;
  Mat            H;
  SABatch        b;
  SAStream       s;
  PetscReal      ref[64];
  PetscInt       N, ks1, ksk, kst1, kstk, po1, pok, ps1, psk, warm = 0, cold = 0;
  PetscLogDouble tks1, tksk, tpo1, tpok, tps1, tpsk, twarm = 0, tcold = 0;
  PetscReal      eps1, epsk;
  PetscInt       la1, lak, topwarm = 0, topcold = 0, kss1 = -1, pchg = -1, pres = -1, kchg = -1, kres = -1;
  PetscInt       kschg = -1, ksres = -1, nrr = 0, la1res = -1, lakres = -1;
  PetscReal      kserr = 0, ptau = 0, pchg_err = 0, pres_err = 0, ktau = 0, kchg_err = 0, kres_err = 0, kstau = 0;
  PetscReal      kschg_err = 0, ksres_err = 0, rrres[64];
  PetscLogDouble tkss1 = 0;
  PetscLogDouble tla1 = 0, tlak = 0;

  PetscCall(SlepcInitialize(&argc, &argv, NULL, help));
  PetscCall(SAInitialize());
  comm = PETSC_COMM_WORLD;
  PetscCall(ProcessOptions(comm, &app));
  PetscCheck(app.k >= 1 && app.k <= 64, comm, PETSC_ERR_ARG_OUTOFRANGE, "-bench_k must be in [1, 64]");
  PetscCall(SATaskCreate(comm, &task));
  PetscCall(SATaskSetFromOptions(task));
  PetscCall(SATaskSetSeeds(task, 2026, 1));
  PetscCall(SATaskSetUp(task));
  PetscCall(SAOptimizerCreate(comm, &opt));
  PetscCall(SAOptimizerSetFromOptions(opt));
  PetscCall(SATaskCreateParameters(task, &theta));
  PetscCall(SATaskInitialGuess(task, theta));
  PetscCall(SAOptimizerSetUp(opt, theta));
  PetscCall(VecDuplicate(theta, &g));
  PetscCall(VecDuplicate(theta, &x0));
  PetscCall(VecGetSize(theta, &N));
  PetscCall(Train(task, opt, theta, g, 0, app.train));
  b             = SA_BATCH(app.train);
  b.probe       = app.batch;
  b.noise_scale = 0.0;
  PetscCall(SAProbeCreateHessian(task, theta, &b, &H));
  PetscCall(SAStreamCreate(2026, 1, SA_STREAM_PROBE, &s));
  PetscCall(SAStreamVecNormal(&s, 1, x0));
  { /* the reference */
    EPS      eps;
    PetscInt nconv;

    PetscCall(EPSCreate(comm, &eps));
    PetscCall(EPSSetOperators(eps, H, NULL));
    PetscCall(EPSSetProblemType(eps, EPS_HEP));
    PetscCall(EPSSetWhichEigenpairs(eps, EPS_LARGEST_REAL));
    PetscCall(EPSSetDimensions(eps, app.k, PetscMin(N, 4 * app.k + 20), PETSC_DEFAULT));
    PetscCall(EPSSetTolerances(eps, 1e-13, 100000));
    PetscCall(EPSSolve(eps));
    PetscCall(EPSGetConverged(eps, &nconv));
    PetscCheck(nconv >= app.k, comm, PETSC_ERR_CONV_FAILED, "reference solve converged %" PetscInt_FMT, nconv);
    for (PetscInt i = 0; i < app.k; i++) {
      PetscScalar kr;

      PetscCall(EPSGetEigenvalue(eps, i, &kr, NULL));
      ref[i] = PetscRealPart(kr);
    }
    PetscCall(EPSDestroy(&eps));
  }
  PetscCall(PetscPrintf(comm,
                        "bench_probes: %" PetscInt_FMT " parameters, probe batch %" PetscInt_FMT
                        ", after %" PetscInt_FMT " steps; reference top-%" PetscInt_FMT ":",
                        N, app.batch, app.train, app.k));
  for (PetscInt i = 0; i < app.k; i++) PetscCall(PetscPrintf(comm, " %.10g", (double) ref[i]));
  PetscCall(PetscPrintf(comm, "\n"));
  PetscCall(KrylovSchur(H, x0, 1, ref, app.rtol, PETSC_DEFAULT, KS_ORACLE, 0, &ks1, &tks1, &kst1, &kserr));
  PetscCall(KrylovSchur(H, x0, app.k, ref, app.rtol, PETSC_DEFAULT, KS_ORACLE, 0, &ksk, &tksk, &kstk, &kserr));
  PetscCall(KrylovSchur(H, x0, 1, ref, app.rtol, app.ncv, KS_ORACLE, 0, &kss1, &tkss1, &kst1, &kserr));
  PetscCall(Lanczos(H, x0, 1, ref, app.rtol, PetscMin(N, 400), &la1, &tla1, &la1res));
  PetscCall(Lanczos(H, x0, app.k, ref, app.rtol, PetscMin(N, 400), &lak, &tlak, &lakres));
  PetscCall(PowerStops(H, x0, ref[0], app.rtol, app.maxhvp, &ptau, &pchg, &pchg_err, &pres, &pres_err));
  PetscCall(KrylovSchurStops(H, x0, ref, app.rtol, PETSC_DEFAULT, &ktau, &kchg, &kchg_err, &kres, &kres_err));
  PetscCall(KrylovSchurStops(H, x0, ref, app.rtol, app.ncv, &kstau, &kschg, &kschg_err, &ksres, &ksres_err));
  PetscCall(PetscPrintf(
    comm,
    "top-1, honest stops (HVPs of the whole solve, relative error at the stop):\n"
    "  relative change < tau (loosest tau reaching %g): power %" PetscInt_FMT
    " (tau %g, error %.2e); Krylov-Schur %" PetscInt_FMT " (tau %g, error %.2e); Krylov-Schur ncv %" PetscInt_FMT
    " %" PetscInt_FMT " (tau %g, error %.2e)\n"
    "  residual |H x - theta x| <= %g |theta|: power %" PetscInt_FMT " (error %.2e); Krylov-Schur %" PetscInt_FMT
    " (error %.2e); Krylov-Schur ncv %" PetscInt_FMT " %" PetscInt_FMT " (error %.2e)\n"
    "  oracle at restarts, Krylov-Schur ncv %" PetscInt_FMT ": %" PetscInt_FMT " HVPs\n"
    "  Lanczos seen after every HVP (Krylov-Schur without restarts, the largest Rayleigh quotient over the Krylov "
    "space): oracle %" PetscInt_FMT ", residual rule %" PetscInt_FMT "\n",
    (double) app.rtol, pchg, (double) ptau, (double) pchg_err, kchg, (double) ktau, (double) kchg_err, app.ncv, kschg,
    (double) kstau, (double) kschg_err, (double) app.rtol, pres, (double) pres_err, kres, (double) kres_err, app.ncv,
    ksres, (double) ksres_err, app.ncv, kss1, la1, la1res));
  PetscCall(Power(H, x0, 1, ref, app.rtol, app.power_tol, app.maxhvp, &po1, &tpo1, &ps1, &tps1, &eps1));
  PetscCall(Power(H, x0, app.k, ref, app.rtol, app.power_tol, app.maxhvp, &pok, &tpok, &psk, &tpsk, &epsk));
  PetscCall(PetscPrintf(comm,
                        "Lanczos (Krylov-Schur's first cycle, seen after every HVP): top-1 after %" PetscInt_FMT
                        " HVPs (%.4f s), top-%" PetscInt_FMT " after %" PetscInt_FMT " HVPs (%.4f s)\n",
                        la1, tla1, app.k, lak, tlak));
  PetscCall(PetscPrintf(comm,
                        "top-1 to %g: Krylov-Schur %" PetscInt_FMT " HVPs %.4f s; power (oracle) %" PetscInt_FMT
                        " HVPs %.4f s; power (PyHessian stop %g) %" PetscInt_FMT " HVPs, error %.2e\n",
                        (double) app.rtol, ks1, tks1, po1, tpo1, (double) app.power_tol, ps1, (double) eps1));
  PetscCall(PetscPrintf(comm,
                        "top-%" PetscInt_FMT " to %g: Krylov-Schur %" PetscInt_FMT
                        " HVPs %.4f s; power (oracle) %" PetscInt_FMT
                        " HVPs %.4f s; power (PyHessian stop) %" PetscInt_FMT " HVPs, error %.2e\n",
                        app.k, (double) app.rtol, ksk, tksk, pok, tpok, psk, (double) epsk));
  PetscCall(MatDestroy(&H));

  /* warm starts along the trajectory: the same trajectory twice (training is deterministic) */
  for (PetscInt pass = 0; pass < 2; pass++) {
    SAProbe              p;
    Vec                 *prev;
    PetscInt             nprev, rowlen, nc;
    PetscReal           *row;
    const SAProbeColumn *col;
    Vec                  th;
    SAOptimizer          o2;
    Vec                 *st, *st2;
    PetscInt             ns;
    const char *const   *names;

    PetscCall(VecDuplicate(theta, &th));
    PetscCall(VecCopy(theta, th));
    PetscCall(VecDuplicateVecs(theta, app.k, &prev));
    nprev = 0;
    PetscCall(SAOptimizerCreate(comm, &o2));
    PetscCall(SAOptimizerSetFromOptions(o2));
    PetscCall(SAOptimizerSetUp(o2, th));
    PetscCall(SAOptimizerGetState(opt, &ns, &st, &names));
    PetscCall(SAOptimizerGetState(o2, &ns, &st2, &names));
    for (PetscInt i = 0; i < ns; i++) PetscCall(VecCopy(st[i], st2[i]));
    PetscCall(SAProbeCreate(comm, &p));
    PetscCall(SAProbeSetSeeds(p, 2026, 1));
    PetscCall(SAProbeSetKind(p, SA_PROBE_HESSIAN, PETSC_TRUE));
    PetscCall(SAProbeSetNumEigenvalues(p, app.k));
    PetscCall(SAProbeSetTolerances(p, app.probe_tol, 100000));
    PetscCall(SAProbeSetBatch(p, app.batch));
    PetscCall(SAProbeSetWarmStart(p, pass == 0 ? PETSC_TRUE : PETSC_FALSE));
    PetscCall(SAProbeGetColumns(p, &nc, &col, &rowlen));
    PetscCall(PetscMalloc1(rowlen, &row));
    for (PetscInt q = 0; q < app.nprobes; q++) {
      PetscInt       t = app.train + q * app.every;
      PetscLogDouble t0, t1;

      if (q) PetscCall(Train(task, o2, th, g, t - app.every, app.every));
      PetscCall(PetscTime(&t0));
      PetscCall(SAProbeCompute(p, task, o2, th, t, NULL, row));
      PetscCall(PetscTime(&t1));
      for (PetscInt j = 0; j < nc; j++)
        if (!strcmp(col[j].name, "hessian_hvps")) {
          if (pass == 0) warm += (PetscInt) row[col[j].offset];
          else cold += (PetscInt) row[col[j].offset];
        }
      if (pass == 0) twarm += t1 - t0;
      else tcold += t1 - t0;
      { /* top-k only, with the bench's own Krylov-Schur: cold from the stream vector, warm from the sum of the
           previous probe's eigenvectors (what SAProbe does) */
        SABatch  bb = SA_BATCH(t);
        Mat      Hq;
        Vec      xs;
        PetscInt nconv, nh;

        bb.probe       = app.batch;
        bb.noise_scale = 0.0;
        PetscCall(SAProbeCreateHessian(task, th, &bb, &Hq));
        PetscCall(VecDuplicate(th, &xs));
        if (pass == 0 && nprev > 0) {
          PetscCall(RayleighRitzResidual(Hq, nprev, prev, &rrres[nrr++]));
          PetscCall(VecCopy(prev[0], xs));
          for (PetscInt i = 1; i < nprev; i++) PetscCall(VecAXPY(xs, 1.0, prev[i]));
        } else PetscCall(VecCopy(x0, xs));
        PetscCall(TopK(Hq, xs, app.k, app.probe_tol, prev, &nconv, &nh));
        nprev = nconv;
        if (pass == 0) topwarm += nh;
        else topcold += nh;
        PetscCall(VecDestroy(&xs));
        PetscCall(MatDestroy(&Hq));
      }
    }
    PetscCall(PetscFree(row));
    PetscCall(SAProbeDestroy(&p));
    PetscCall(SAOptimizerDestroy(&o2));
    PetscCall(VecDestroy(&th));
    PetscCall(VecDestroyVecs(app.k, &prev));
  }
  PetscCall(PetscPrintf(comm,
                        "%" PetscInt_FMT " probes (top-%" PetscInt_FMT " and bottom-%" PetscInt_FMT
                        ", tol %g) every %" PetscInt_FMT " steps: %" PetscInt_FMT " HVPs %.3f s cold, %" PetscInt_FMT
                        " HVPs %.3f s warm\n",
                        app.nprobes, app.k, app.k, (double) app.probe_tol, app.every, cold, tcold, warm, twarm));
  PetscCall(PetscPrintf(
    comm, "  top-%" PetscInt_FMT " alone (Krylov-Schur): %" PetscInt_FMT " HVPs cold, %" PetscInt_FMT " HVPs warm\n",
    app.k, topcold, topwarm));
  PetscCall(PetscSortReal(nrr, rrres));
  PetscCall(PetscPrintf(comm,
                        "  the previous top-%" PetscInt_FMT
                        " eigenvectors on the next operator (Rayleigh-Ritz): largest relative residual, median %.2e "
                        "[%.2e, %.2e] over %" PetscInt_FMT " probes\n",
                        app.k, nrr ? (double) rrres[nrr / 2] : 0.0, nrr ? (double) rrres[0] : 0.0,
                        nrr ? (double) rrres[nrr - 1] : 0.0, nrr));
  PetscCall(PetscPrintf(
    comm,
    "RESULT params=%" PetscInt_FMT " ks1_hvps=%" PetscInt_FMT " ks1_s=%.6f power1_hvps=%" PetscInt_FMT
    " power1_s=%.6f power1_stop_hvps=%" PetscInt_FMT " power1_stop_err=%.3e ksk_hvps=%" PetscInt_FMT
    " ksk_s=%.6f powerk_hvps=%" PetscInt_FMT " powerk_s=%.6f powerk_stop_hvps=%" PetscInt_FMT
    " powerk_stop_err=%.3e cold_hvps=%" PetscInt_FMT " cold_s=%.4f warm_hvps=%" PetscInt_FMT
    " warm_s=%.4f lanczos1_hvps=%" PetscInt_FMT " lanczosk_hvps=%" PetscInt_FMT " topcold_hvps=%" PetscInt_FMT
    " topwarm_hvps=%" PetscInt_FMT " ks1small_hvps=%" PetscInt_FMT " power1_chg_hvps=%" PetscInt_FMT
    " power1_chg_tau=%g power1_res_hvps=%" PetscInt_FMT " ks1_chg_hvps=%" PetscInt_FMT
    " ks1_chg_tau=%g ks1_res_hvps=%" PetscInt_FMT " ks1_res_err=%.3e"
    " ks1small_chg_hvps=%" PetscInt_FMT " ks1small_chg_tau=%g ks1small_res_hvps=%" PetscInt_FMT
    " ks1small_res_err=%.3e warm_rr_res=%.3e lanczos1_res_hvps=%" PetscInt_FMT "\n",
    N, ks1, tks1, po1, tpo1, ps1, (double) eps1, ksk, tksk, pok, tpok, psk, (double) epsk, cold, tcold, warm, twarm,
    la1, lak, topcold, topwarm, kss1, pchg, (double) ptau, pres, kchg, (double) ktau, kres, (double) kres_err, kschg,
    (double) kstau, ksres, (double) ksres_err, nrr ? (double) rrres[nrr / 2] : 0.0, la1res));
  PetscCall(VecDestroy(&x0));
  PetscCall(VecDestroy(&g));
  PetscCall(VecDestroy(&theta));
  PetscCall(SAOptimizerDestroy(&opt));
  PetscCall(SATaskDestroy(&task));
  PetscCall(SAFinalize());
  PetscCall(SlepcFinalize());
  return 0;
}
