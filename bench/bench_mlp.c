static char help[] =
  "bench_mlp - training-step throughput of the MLP classification task through the real path (SATask classify +\n"
  "SAOptimizer + SASolver on PETSC_COMM_WORLD: the batch rows are split over the ranks), achieved GFLOP/s against a\n"
  "dgemm peak measured by the same program, and the time of a Hessian-vector product against a gradient.\n"
  "Not a test. Options, defaults in brackets:\n"
  "  -bench_steps N        timed SASolverStep() calls [200]\n"
  "  -bench_warmup N       untimed steps first, >= 1 (step 0 is a recorded step: test-set evaluation) [10]\n"
  "  -bench_hvp N          timed SATaskLossGradient() and SATaskHessianMult() calls each, interleaved; 0 = skip [20]\n"
  "  -bench_gemm N         order of the square dgemm of the peak; 0 = skip [1024]\n"
  "  -bench_gemm_reps N    dgemm repetitions, the fastest counts [5]\n"
  "Task and optimizer keys are options as in a deck (-task_classify_dataset, -task_classify_batch, -model_hidden,\n"
  "-optimizer_lr, ...). Set here when absent: -task_type classify -model_activation tanh -model_loss xent\n"
  "-optimizer_type momentum -optimizer_lr 0.01 -optimizer_momentum 0.9.\n"
  "The last output line is 'RESULT key=value ...' for scripts (bench/mlp.sh).\n";

/*
  Examples:
    OPENBLAS_NUM_THREADS=1 build/bin/bench_mlp -task_classify_dataset digits -task_classify_batch 128 -model_hidden 128
    mpiexec -n 2 build/bin/bench_mlp -task_classify_dataset fashion_mnist -task_classify_batch 1024 \
      -model_hidden 512,512 -bench_hvp 0 -bench_gemm 0

  Flop counts (B = global batch, W = sum_l w[l] w[l-1] weight entries, W1 = those of the first layer):
    nominal  6 B W per step (forward 2 B W, backward 4 B W), the usual count
    kernel   6 B W - 2 B W1: the backward pass computes no gradient of the inputs (what the dgemm calls do)
    HVP      4 B W + 8 B (W - W1): R-forward 2 B W + 2 B (W - W1), R-backward 2 B W + 6 B (W - W1) (sa_mlp_hvp in
             solvers/kernels/mlp_kernels.c); the timed HVP follows a gradient on the same batch and theta, so it reuses
             that forward and the backward products D_{l+1} W_{l+1} the gradient stored (SATaskHessianMult); the ratio
             of the two counts is printed (the least HVP/gradient ratio at equal efficiency)
  The optimizer update, the gather of theta and the reduction of the gradient are not counted.
*/
#include <stabaudit/sablas.h>
#include <stabaudit/satask.h>
#include <stabaudit/saoptimizer.h>
#include <stabaudit/sasolver.h>
#include <stabaudit/sastream.h>
#include <slepcsys.h>

#define BENCH_MAXL 16

/* Fortran BLAS, as in solvers/kernels/mlp_kernels.c */
extern void dgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
                   const double *alpha, const double *a, const int *lda, const double *b, const int *ldb,
                   const double *beta, double *c, const int *ldc);

typedef struct {
  PetscInt  steps;             /* timed steps */
  PetscInt  warmup;            /* untimed steps before them */
  PetscInt  hvp;               /* timed gradient and HVP calls each */
  PetscInt  gemm;              /* dgemm order, 0 = skip */
  PetscInt  gemm_reps;         /* dgemm repetitions */
  char      dataset[64];       /* -task_classify_dataset */
  PetscInt  batch;             /* -task_classify_batch (global) */
  PetscInt  L;                 /* layers with weights */
  PetscInt  w[BENCH_MAXL + 2]; /* widths w[0..L] */
  PetscReal W, W1;             /* weight entries, all layers and the first */
  PetscInt  P;                 /* parameters, weights and biases */
} AppCtx;

/* features and classes of the data sets of the classify task (solvers/task/impls/classify/dataset.c) */
static const struct {
  const char *name;
  PetscInt    d, C;
} BenchSets[] = {
  {"fashion_mnist", 784, 10}, {"digits", 64, 10}, {"iris", 4, 3}, {"wine", 13, 3}, {"breast_cancer", 30, 2}};

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
  PetscInt  nh = BENCH_MAXL, hidden[BENCH_MAXL] = {64}, C = 0;
  PetscBool set;

  PetscFunctionBeginUser;
  app->steps     = 200;
  app->warmup    = 10;
  app->hvp       = 20;
  app->gemm      = 1024;
  app->gemm_reps = 5;
  PetscOptionsBegin(comm, "", "bench_mlp options", "SA");
  PetscCall(PetscOptionsInt("-bench_steps", "timed steps", "bench_mlp.c", app->steps, &app->steps, NULL));
  PetscCall(PetscOptionsInt("-bench_warmup", "untimed steps first", "bench_mlp.c", app->warmup, &app->warmup, NULL));
  PetscCall(PetscOptionsInt("-bench_hvp", "timed gradient and HVP calls", "bench_mlp.c", app->hvp, &app->hvp, NULL));
  PetscCall(PetscOptionsInt("-bench_gemm", "dgemm order (0 = skip)", "bench_mlp.c", app->gemm, &app->gemm, NULL));
  PetscCall(
    PetscOptionsInt("-bench_gemm_reps", "dgemm repetitions", "bench_mlp.c", app->gemm_reps, &app->gemm_reps, NULL));
  PetscOptionsEnd();
  PetscCheck(app->steps >= 1 && app->warmup >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "Need -bench_steps >= 1 and -bench_warmup >= 1, got %" PetscInt_FMT " and %" PetscInt_FMT, app->steps,
             app->warmup);
  PetscCheck(app->hvp >= 0 && app->gemm >= 0 && app->gemm_reps >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE,
             "Need -bench_hvp >= 0, -bench_gemm >= 0 and -bench_gemm_reps >= 1");

  /* the model, for the flop count: the same keys the task reads (defaults of classify.c) */
  PetscCall(SetDefault("-task_type", "classify"));
  PetscCall(SetDefault("-model_activation", "tanh"));
  PetscCall(SetDefault("-model_loss", "xent"));
  PetscCall(SetDefault("-optimizer_type", "momentum"));
  PetscCall(SetDefault("-optimizer_lr", "0.01"));
  PetscCall(SetDefault("-optimizer_momentum", "0.9"));
  PetscCall(PetscStrncpy(app->dataset, "digits", sizeof(app->dataset)));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-task_classify_dataset", app->dataset, sizeof(app->dataset), NULL));
  app->batch = 64;
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-task_classify_batch", &app->batch, NULL));
  PetscCheck(app->batch >= 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "Need -task_classify_batch >= 1 (a minibatch)");
  PetscCall(PetscOptionsGetIntArray(NULL, NULL, "-model_hidden", hidden, &nh, &set));
  if (!set) nh = 1;
  for (size_t i = 0; i < sizeof(BenchSets) / sizeof(BenchSets[0]); i++) {
    PetscBool match;

    PetscCall(PetscStrcmp(app->dataset, BenchSets[i].name, &match));
    if (match) app->w[0] = BenchSets[i].d, C = BenchSets[i].C;
  }
  PetscCheck(C > 0, comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "Unknown data set %s", app->dataset);
  app->L = nh + 1;
  for (PetscInt l = 0; l < nh; l++) app->w[l + 1] = hidden[l];
  app->w[app->L] = C;
  app->W         = 0;
  app->P         = 0;
  for (PetscInt l = 1; l <= app->L; l++) {
    app->W += (PetscReal) app->w[l] * app->w[l - 1];
    app->P += app->w[l] * (app->w[l - 1] + 1);
  }
  app->W1 = (PetscReal) app->w[1] * app->w[0];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* best dgemm rate of an order-n product on every rank at once: per rank (slowest rank) and all ranks together */
static PetscErrorCode GemmPeak(MPI_Comm comm, PetscInt n, PetscInt reps, PetscReal *rank_gf, PetscReal *total_gf)
{
  PetscReal      *a, *b, *c, best = PETSC_MAX_REAL;
  PetscMPIInt     size;
  const int       m   = (int) n;
  const PetscReal one = 1.0, zero = 0.0;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscMalloc3(n * n, &a, n * n, &b, n * n, &c));
  for (PetscInt i = 0; i < n * n; i++) {
    a[i] = 1.0 / (1.0 + i % 7);
    b[i] = 1.0 / (1.0 + i % 11);
    c[i] = 0.0;
  }
  for (PetscInt r = 0; r <= reps; r++) { /* r = 0 warms up */
    double t0, t;

    PetscCallMPI(MPI_Barrier(comm));
    t0 = MPI_Wtime();
    dgemm_("N", "N", &m, &m, &m, &one, a, &m, b, &m, &zero, c, &m);
    t = MPI_Wtime() - t0;
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, comm));
    if (r > 0) best = PetscMin(best, t);
  }
  PetscCheck(PetscIsNormalReal(c[0]), PETSC_COMM_SELF, PETSC_ERR_PLIB, "dgemm produced %g", (double) c[0]);
  *rank_gf  = 2.0 * n * n * n / best * 1e-9;
  *total_gf = *rank_gf * size;
  PetscCall(PetscFree3(a, b, c));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static int CompareReal(const void *a, const void *b)
{
  PetscReal x = *(const PetscReal *) a, y = *(const PetscReal *) b;

  return (x > y) - (x < y);
}

/* median of n times (sorts them) */
static PetscReal Median(PetscReal t[], PetscInt n)
{
  qsort(t, (size_t) n, sizeof(PetscReal), CompareReal);
  return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* median times of a gradient and of an HVP on the same batch, calls interleaved so machine noise hits both */
static PetscErrorCode TimeHVP(MPI_Comm comm, SASolver s, PetscInt batchstep, PetscInt n, PetscReal *tg, PetscReal *th)
{
  SATask    task;
  Vec       theta, v, g, hv;
  SAStream  st;
  SABatch   batch = SA_BATCH(batchstep);
  PetscReal loss, *ts;

  PetscFunctionBeginUser;
  PetscCall(SASolverGetTask(s, &task));
  PetscCall(SASolverGetTheta(s, &theta));
  PetscCall(VecDuplicate(theta, &v));
  PetscCall(VecDuplicate(theta, &g));
  PetscCall(VecDuplicate(theta, &hv));
  PetscCall(SAStreamCreate(1, 1, SA_STREAM_TEST, &st));
  PetscCall(SAStreamVecNormal(&st, 0, v));
  PetscCall(PetscMalloc1(2 * n, &ts));
  PetscCall(SATaskLossGradient(task, theta, &batch, &loss, g));
  PetscCall(SATaskHessianMult(task, theta, &batch, v, hv));
  for (PetscInt i = 0; i < n; i++) {
    double t0;

    PetscCallMPI(MPI_Barrier(comm));
    t0 = MPI_Wtime();
    PetscCall(SATaskLossGradient(task, theta, &batch, &loss, g));
    ts[i] = MPI_Wtime() - t0;
    PetscCallMPI(MPI_Barrier(comm));
    t0 = MPI_Wtime();
    PetscCall(SATaskHessianMult(task, theta, &batch, v, hv));
    ts[n + i] = MPI_Wtime() - t0;
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, ts, (PetscMPIInt) (2 * n), MPIU_REAL, MPI_MAX, comm));
  *tg = Median(ts, n);
  *th = Median(ts + n, n);
  PetscCall(PetscFree(ts));
  PetscCall(VecDestroy(&v));
  PetscCall(VecDestroy(&g));
  PetscCall(VecDestroy(&hv));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  median time of the data-parallel exchange of one step on its own (no computation around it): the gather of theta to
  every rank (VecScatterCreateToAll, as SAClassifyGather) and the reduce-scatter of a full-length gradient into the
  shard layout (MPI_Reduce_scatter, as SAClassifyReduceScatter); 0 on one rank (the one-rank path has neither)
*/
static PetscErrorCode TimeExchange(MPI_Comm comm, Vec theta, PetscInt n, PetscReal *tx)
{
  PetscMPIInt  size, *counts;
  PetscInt     rs, re, P;
  Vec          full, out;
  VecScatter   toall;
  PetscReal   *g, *ts;
  PetscScalar *a;

  PetscFunctionBeginUser;
  *tx = 0;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  if (size == 1 || n < 1) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(VecGetSize(theta, &P));
  PetscCall(VecGetOwnershipRange(theta, &rs, &re));
  PetscCall(PetscMalloc3(size, &counts, P, &g, n, &ts));
  {
    PetscMPIInt nl = (PetscMPIInt) (re - rs);
    PetscCallMPI(MPI_Allgather(&nl, 1, MPI_INT, counts, 1, MPI_INT, comm));
  }
  for (PetscInt i = 0; i < P; i++) g[i] = 1e-3 * (i % 13);
  PetscCall(VecScatterCreateToAll(theta, &toall, &full));
  PetscCall(VecDuplicate(theta, &out));
  for (PetscInt r = -1; r < n; r++) { /* r = -1 warms up */
    double t0;

    PetscCallMPI(MPI_Barrier(comm));
    t0 = MPI_Wtime();
    PetscCall(VecScatterBegin(toall, theta, full, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterEnd(toall, theta, full, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecGetArray(out, &a));
    PetscCallMPI(MPI_Reduce_scatter(g, a, counts, MPIU_REAL, MPI_SUM, comm));
    PetscCall(VecRestoreArray(out, &a));
    if (r >= 0) ts[r] = MPI_Wtime() - t0;
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, ts, (PetscMPIInt) n, MPIU_REAL, MPI_MAX, comm));
  *tx = Median(ts, n);
  PetscCall(VecScatterDestroy(&toall));
  PetscCall(VecDestroy(&full));
  PetscCall(VecDestroy(&out));
  PetscCall(PetscFree3(counts, g, ts));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Bench(MPI_Comm comm, AppCtx *app)
{
  SATask            task;
  SAOptimizer       opt;
  SASolver          s;
  Vec               theta;
  PetscInt          P, nsteps = app->warmup + app->steps, step;
  PetscMPIInt       size;
  PetscReal         tstep, gf_nom, gf_ker, peak = 0, peak_all = 0, tg = 0, th = 0, tx = 0, loss, gflop_nom, gflop_ker;
  PetscReal         grad_flops = 6.0 * app->W - 2.0 * app->W1, hvp_flops = 4.0 * app->W + 8.0 * (app->W - app->W1);
  SAConvergedReason reason;
  double            t0;
  char              arch[256] = "";

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(SATaskCreate(comm, &task));
  PetscCall(SATaskSetFromOptions(task));
  PetscCall(SATaskSetSeeds(task, 1, 1));
  PetscCall(SATaskSetUp(task));
  PetscCall(SAOptimizerCreate(comm, &opt));
  PetscCall(SAOptimizerSetFromOptions(opt));
  PetscCall(SASolverCreate(comm, &s));
  PetscCall(SASolverSetTask(s, task));
  PetscCall(SASolverSetOptimizer(s, opt));
  PetscCall(SASolverSetSteps(s, nsteps, nsteps)); /* records steps 0 (warm-up) and nsteps (never reached) only */
  PetscCall(SASolverSetUp(s));
  PetscCall(SASolverGetTheta(s, &theta));
  PetscCall(VecGetSize(theta, &P));
  PetscCheck(P == app->P, comm, PETSC_ERR_PLIB,
             "Task has %" PetscInt_FMT " parameters, the flop count assumes %" PetscInt_FMT, P, app->P);
  for (PetscInt l = 0; l <= app->L; l++)
    PetscCall(PetscSNPrintf(arch + strlen(arch), sizeof(arch) - strlen(arch), l ? "-%" PetscInt_FMT : "%" PetscInt_FMT,
                            app->w[l]));
  PetscCall(PetscPrintf(comm, "bench_mlp: BLAS: %s\n", SABlasDescribe()));
  PetscCall(PetscPrintf(comm,
                        "bench_mlp: %s on %s, batch %" PetscInt_FMT " over %d rank(s), %" PetscInt_FMT
                        " parameters; %" PetscInt_FMT " warm-up + %" PetscInt_FMT " timed steps\n",
                        arch, app->dataset, app->batch, (int) size, P, app->warmup, app->steps));

  for (PetscInt i = 0; i < app->warmup; i++) PetscCall(SASolverStep(s));
  PetscCallMPI(MPI_Barrier(comm));
  t0 = MPI_Wtime();
  for (PetscInt i = 0; i < app->steps; i++) PetscCall(SASolverStep(s));
  PetscCallMPI(MPI_Barrier(comm));
  tstep = (MPI_Wtime() - t0) / app->steps;
  PetscCall(SASolverGetReason(s, &reason, NULL));
  PetscCall(SASolverGetStep(s, &step));
  PetscCheck(reason == SA_CONVERGED_ITERATING && step == nsteps, comm, PETSC_ERR_PLIB,
             "Training ended early (reason %d at step %" PetscInt_FMT "): lower -optimizer_lr", (int) reason, step);

  gflop_nom = 6.0 * app->batch * app->W * 1e-9;
  gflop_ker = (6.0 * app->W - 2.0 * app->W1) * app->batch * 1e-9;
  gf_nom    = gflop_nom / tstep;
  gf_ker    = gflop_ker / tstep;
  PetscCall(PetscPrintf(comm,
                        "bench_mlp: %.1f steps/s (%.3f ms/step), %.2f GFLOP/s nominal (6 B W = %.4g GFLOP/step), %.2f "
                        "GFLOP/s in dgemm flops (6 B W - 2 B W1)\n",
                        1.0 / tstep, 1e3 * tstep, gf_nom, gflop_nom, gf_ker));

  if (app->hvp > 0) {
    PetscCall(TimeHVP(comm, s, nsteps, app->hvp, &tg, &th));
    PetscCall(PetscPrintf(comm,
                          "bench_mlp: gradient %.3f ms, Hessian-vector product %.3f ms (medians of %" PetscInt_FMT
                          "), ratio %.2f; ratio of their dgemm flops %.2f\n",
                          1e3 * tg, 1e3 * th, app->hvp, th / tg, hvp_flops / grad_flops));
  }
  if (size > 1) {
    PetscCall(TimeExchange(comm, theta, 10, &tx));
    PetscCall(PetscPrintf(
      comm,
      "bench_mlp: exchange of a step on its own (gather of theta + reduce-scatter of the gradient, %" PetscInt_FMT
      " values): %.3f ms (median of 10), %.0f%% of the step\n",
      P, 1e3 * tx, 100.0 * tx / tstep));
  }
  if (app->gemm > 0) {
    PetscCall(GemmPeak(comm, app->gemm, app->gemm_reps, &peak, &peak_all));
    PetscCall(PetscPrintf(comm,
                          "bench_mlp: dgemm peak %.2f GFLOP/s per rank (order %" PetscInt_FMT ", best of %" PetscInt_FMT
                          ", all ranks at once: %.2f); step at %.0f%% of it (nominal)\n",
                          peak, app->gemm, app->gemm_reps, peak_all, 100.0 * gf_nom / peak_all));
  }
  {
    SABatch b = SA_BATCH(nsteps);
    Vec     g;

    PetscCall(VecDuplicate(theta, &g));
    PetscCall(SATaskLossGradient(task, theta, &b, &loss, g));
    PetscCall(VecDestroy(&g));
  }
  PetscCall(PetscPrintf(comm,
                        "RESULT arch=%s dataset=%s ranks=%d batch=%" PetscInt_FMT " params=%" PetscInt_FMT
                        " steps=%" PetscInt_FMT " steps_per_s=%.6g ms_per_step=%.6g gflops_nominal=%.6g "
                        "gflops_kernel=%.6g grad_ms=%.6g hvp_ms=%.6g hvp_over_grad=%.6g dgemm_peak=%.6g "
                        "dgemm_peak_all=%.6g hvp_flop_ratio=%.6g exchange_ms=%.6g loss=%.6g\n",
                        arch, app->dataset, (int) size, app->batch, P, app->steps, 1.0 / tstep, 1e3 * tstep, gf_nom,
                        gf_ker, 1e3 * tg, 1e3 * th, tg > 0 ? th / tg : 0.0, peak, peak_all, hvp_flops / grad_flops,
                        1e3 * tx, loss));
  PetscCall(SASolverDestroy(&s)); /* destroys the task and the optimizer too */
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  AppCtx app;

  (void) SABlasSelectCore(argc, argv); /* before MPI: may re-execute the program with OPENBLAS_CORETYPE set */
  PetscCall(SlepcInitialize(&argc, &argv, NULL, help));
  PetscCall(SAInitialize());
  PetscCall(ProcessOptions(PETSC_COMM_WORLD, &app));
  PetscCall(Bench(PETSC_COMM_WORLD, &app));
  PetscCall(SAFinalize());
  PetscCall(SlepcFinalize());
  return 0;
}
