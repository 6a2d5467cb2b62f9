static char help[] =
  "bench_probes - cost of the Hessian probes on a real MLP Hessian (SATask classify, frozen probe batch), in\n"
  "Hessian-vector products (HVPs) and wall time. Not a test. Three measurements on the same operator and the same\n"
  "starting vector (theta after -bench_train training steps):\n"
  "  1. top-1 and top-k eigenvalues to relative error -bench_rtol against a tight reference solve (EPS\n"
  "     Krylov-Schur, tol 1e-13): SLEPc Krylov-Schur (default settings; its monitor reports the Ritz values after\n"
  "     each restart) against power iteration with deflation (the algorithm of PyHessian, implemented here with\n"
  "     the same HVP): HVPs and time until the estimates first lie within -bench_rtol (oracle stop), and, for\n"
  "     power iteration, also with PyHessian's own stop (relative change of the estimate < -bench_power_tol);\n"
  "  2. warm starts: -bench_probes consecutive probes (SAProbe, kind hessian: top-k and bottom-k, tol\n"
  "     -bench_probe_tol) -bench_probe_every training steps apart, with and without warm start; total HVPs.\n"
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
  "Task and optimizer keys as in a deck; set here when absent: -task_type classify -task_classify_dataset digits\n"
  "-model_hidden 64 -model_activation tanh -model_loss xent -optimizer_type momentum -optimizer_lr 0.05\n"
  "-optimizer_momentum 0.9. The last output line is 'RESULT key=value ...' for bench/probes.sh.\n";

#include <stabaudit/saprobe.h>
#include <stabaudit/sastream.h>
#include <slepceps.h>
#include <petscblaslapack.h>

typedef struct {
  PetscInt  train, batch, k, maxhvp, nprobes, every;
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

/* Krylov-Schur, default dimensions, from x0: HVPs and seconds until the k largest Ritz values lie within rtol */
static PetscErrorCode KrylovSchur(Mat H, Vec x0, PetscInt k, const PetscReal ref[], PetscReal rtol, PetscInt *hvps,
                                  PetscLogDouble *seconds, PetscInt *total)
{
  EPS          eps;
  KSMonitorCtx m = {H, k, ref, rtol, 0, -1, 0};

  PetscFunctionBeginUser;
  PetscCall(SAProbeOperatorResetHVPCount(H));
  PetscCall(EPSCreate(PetscObjectComm((PetscObject) H), &eps));
  PetscCall(EPSSetOperators(eps, H, NULL));
  PetscCall(EPSSetProblemType(eps, EPS_HEP));
  PetscCall(EPSSetType(eps, EPSKRYLOVSCHUR));
  PetscCall(EPSSetWhichEigenpairs(eps, EPS_LARGEST_REAL));
  PetscCall(EPSSetDimensions(eps, k, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(EPSSetTolerances(eps, 1e-3 * rtol, 100000)); /* keeps iterating past the target */
  PetscCall(EPSSetInitialSpace(eps, 1, &x0));
  PetscCall(EPSMonitorSet(eps, KSMonitor, &m, NULL));
  PetscCall(PetscTime(&m.t0));
  PetscCall(EPSSolve(eps));
  PetscCall(SAProbeOperatorGetHVPCount(H, total));
  *hvps    = m.hvps;
  *seconds = m.seconds;
  PetscCall(EPSDestroy(&eps));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Lanczos with full reorthogonalisation from x0 (the first cycle of Krylov-Schur, without restarts): the HVPs after
   which the k largest Ritz values first lie within rtol (one-HVP granularity; the Krylov-Schur monitor only sees
   restarts) */
static PetscErrorCode Lanczos(Mat H, Vec x0, PetscInt k, const PetscReal ref[], PetscReal rtol, PetscInt maxit,
                              PetscInt *hvps, PetscLogDouble *seconds)
{
  Vec           *V, w;
  PetscReal     *alpha, *beta, *d, *e, *work;
  PetscScalar   *dots;
  PetscLogDouble t0, t;

  PetscFunctionBeginUser;
  *hvps = -1;
  PetscCall(VecDuplicate(x0, &w));
  PetscCall(VecDuplicateVecs(x0, maxit + 1, &V));
  PetscCall(PetscMalloc6(maxit + 1, &alpha, maxit + 1, &beta, maxit + 1, &d, maxit + 1, &e, 2 * maxit + 2, &work,
                         maxit + 1, &dots));
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
    PetscCallBLAS("LAPACKsteqr", LAPACKREALsteqr_("N", &bn, d, e, NULL, &one, work, &info));
    PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "steqr failed");
    ok = (PetscBool) (j + 1 >= k);
    for (PetscInt i = 0; ok && i < k; i++) /* d ascending: the largest at the end */
      ok = (PetscBool) (PetscAbsReal(d[j - i] - ref[i]) <= rtol * PetscAbsReal(ref[i]));
    if (ok) {
      PetscCall(PetscTime(&t));
      *hvps    = j + 1;
      *seconds = t - t0;
      break;
    }
    PetscCall(VecAXPBY(V[j + 1], 1.0 / beta[j], 0.0, w));
  }
  PetscCall(PetscFree6(alpha, beta, d, e, work, dots));
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
  PetscInt       la1, lak, topwarm = 0, topcold = 0;
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
  PetscCall(KrylovSchur(H, x0, 1, ref, app.rtol, &ks1, &tks1, &kst1));
  PetscCall(KrylovSchur(H, x0, app.k, ref, app.rtol, &ksk, &tksk, &kstk));
  PetscCall(Lanczos(H, x0, 1, ref, app.rtol, PetscMin(N, 400), &la1, &tla1));
  PetscCall(Lanczos(H, x0, app.k, ref, app.rtol, PetscMin(N, 400), &lak, &tlak));
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
  PetscCall(PetscPrintf(comm,
                        "RESULT params=%" PetscInt_FMT " ks1_hvps=%" PetscInt_FMT
                        " ks1_s=%.6f power1_hvps=%" PetscInt_FMT " power1_s=%.6f power1_stop_hvps=%" PetscInt_FMT
                        " power1_stop_err=%.3e ksk_hvps=%" PetscInt_FMT " ksk_s=%.6f powerk_hvps=%" PetscInt_FMT
                        " powerk_s=%.6f powerk_stop_hvps=%" PetscInt_FMT
                        " powerk_stop_err=%.3e cold_hvps=%" PetscInt_FMT " cold_s=%.4f warm_hvps=%" PetscInt_FMT
                        " warm_s=%.4f lanczos1_hvps=%" PetscInt_FMT " lanczosk_hvps=%" PetscInt_FMT
                        " topcold_hvps=%" PetscInt_FMT " topwarm_hvps=%" PetscInt_FMT "\n",
                        N, ks1, tks1, po1, tpo1, ps1, (double) eps1, ksk, tksk, pok, tpok, psk, (double) epsk, cold,
                        tcold, warm, twarm, la1, lak, topcold, topwarm));
  PetscCall(VecDestroy(&x0));
  PetscCall(VecDestroy(&g));
  PetscCall(VecDestroy(&theta));
  PetscCall(SAOptimizerDestroy(&opt));
  PetscCall(SATaskDestroy(&task));
  PetscCall(SAFinalize());
  PetscCall(SlepcFinalize());
  return 0;
}
