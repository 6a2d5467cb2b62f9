/*
  test_stepjac.c - the solver's linearisation of its own step (SASolverGetStepJacobian) and its monitors.

  1. For sgd, momentum and adam, unperturbed and with each learning-signal kind (loss_scale, signal_flip,
     signal_noise, label_smoothing): the step Jacobian's action on random vectors equals central differences of the
     real perturbed update map, i.e. of SASolverStep() itself restarted from a checkpoint of (theta, optimizer state)
     moved by +-h dz (relative error <= 1e-6), and <u, J dz> = <J^T u, dz> (adjoint identity, 1e-12 relative).
     The member is a tanh MLP on digits (dropout 0.1, whose masks are frozen per step) at step 3, after the
     perturbation's onset.
  2. Monitors: a solver with a monitor that only reads gives bitwise the trajectory and records of a solver with none;
     a solver with probes (hessian, sharpness, jacobian) and a Lyapunov accumulator attached has bitwise the same theta
     at every step as one without.
  Run on 1 and 2 ranks.
*/
#include <stabaudit/saperturb.h>
#include <stabaudit/saprobe.h>
#include <stabaudit/saanalysis.h>
#include <slepcsys.h>
#include <string.h>
#include "satest.h"

#define SEED_CAMPAIGN 23
#define SEED_MEMBER   5
#define T_PROBE       3

static const char *const MLPOpts[] = {"-task_type",
                                      "classify",
                                      "-task_classify_dataset",
                                      "digits",
                                      "-task_classify_batch",
                                      "24",
                                      "-model_hidden",
                                      "6,5",
                                      "-model_activation",
                                      "tanh",
                                      "-model_dropout",
                                      "0.1",
                                      NULL};

/* a member as jobs/campaign/compose.c composes one: task, optimizer, perturbation block "blk" (kind NULL: a twin) */
static PetscErrorCode Compose(const char *opt, const char *kind, const char *mag, SASolver *s)
{
  MPI_Comm          comm = PETSC_COMM_WORLD;
  SATask            task;
  SAOptimizer       o;
  const char *const okv[] = {"-optimizer_type", opt, "-optimizer_lr", "0.05", "-optimizer_momentum", "0.9", NULL};

  PetscFunctionBeginUser;
  PetscCall(SASolverCreate(comm, s));
  PetscCall(SATestSetOptions(MLPOpts));
  PetscCall(SATaskCreate(comm, &task));
  PetscCall(SATaskSetFromOptions(task));
  PetscCall(SATestClearOptions(MLPOpts));
  PetscCall(SATaskSetSeeds(task, SEED_CAMPAIGN, SEED_MEMBER));
  PetscCall(SATestCreateOptimizer(comm, okv, &o));
  PetscCall(SASolverSetTask(*s, task));
  PetscCall(SASolverSetOptimizer(*s, o));
  PetscCall(SASolverSetSteps(*s, 8, 1));
  if (kind) {
    SAPerturb         p;
    const char *const pkv[] = {"-blk_kind", kind, "-blk_magnitudes", mag, "-blk_onset", "1", NULL};

    PetscCall(SATestSetOptions(pkv));
    PetscCall(SAPerturbCreate(comm, &p));
    PetscCall(SAPerturbSetOptionsPrefix(p, "blk_"));
    PetscCall(SAPerturbSetFromOptions(p));
    PetscCall(SATestClearOptions(pkv));
    PetscCall(SAPerturbSetSeeds(p, SEED_CAMPAIGN, SEED_MEMBER));
    PetscCall(SAPerturbCheckTask(p, task, o));
    PetscCall(SAPerturbAttach(p, *s));
  }
  PetscCall(SASolverSetUp(*s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

typedef struct {
  PetscInt step;         /* the step to linearise */
  Vec      dz, u;        /* directions, J's layout (made by the monitor) */
  Vec      Jdz, JTu;     /* the products */
  Vec      theta, state; /* template vectors */
} JacCtx;

/* block b of the direction: theta's block normalised, state blocks relative to the state (adam's v stays > 0) */
static PetscErrorCode Direction(Mat J, Vec z, PetscInt seed, SAOptimizer opt, Vec work)
{
  PetscInt           nb, ns;
  Vec               *st, sabs;
  const char *const *names;

  PetscFunctionBeginUser;
  PetscCall(SAStepJacobianGetNumBlocks(J, &nb));
  PetscCall(SAOptimizerGetState(opt, &ns, &st, &names));
  PetscCall(VecDuplicate(work, &sabs));
  for (PetscInt b = 0; b < nb; b++) {
    PetscCall(SATestRandomVec(SEED_CAMPAIGN, SEED_MEMBER, seed + b, work));
    if (b > 0) {
      PetscCall(VecCopy(st[b - 1], sabs));
      PetscCall(VecAbs(sabs));
      PetscCall(VecPointwiseMult(work, work, sabs));
    } else PetscCall(VecNormalize(work, NULL));
    PetscCall(SAStepJacobianSetBlock(J, z, b, work));
  }
  PetscCall(VecDestroy(&sabs));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode JacMonitor(SASolver s, const SASolverStepInfo *info, void *ctx)
{
  JacCtx     *c = (JacCtx *) ctx;
  Mat         J;
  SAOptimizer opt;

  PetscFunctionBeginUser;
  if (info->step != c->step) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(!info->diverged, PETSC_COMM_SELF, PETSC_ERR_PLIB, "The test member diverged");
  PetscCall(SASolverGetStepJacobian(s, &J));
  PetscCall(SASolverGetOptimizer(s, &opt));
  PetscCall(MatCreateVecs(J, &c->dz, &c->Jdz));
  PetscCall(VecDuplicate(c->dz, &c->u));
  PetscCall(VecDuplicate(c->dz, &c->JTu));
  PetscCall(VecDuplicate(info->theta, &c->theta));
  PetscCall(Direction(J, c->dz, 10, opt, c->theta));
  PetscCall(Direction(J, c->u, 20, opt, c->theta));
  PetscCall(MatMult(J, c->dz, c->Jdz));
  PetscCall(MatMultTranspose(J, c->u, c->JTu));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* z' = the real step from the checkpoint's state moved by eps dz, in J's layout */
static PetscErrorCode RealStep(const char *opt, const char *kind, const char *mag, const char *path, Mat Jl, Vec dz,
                               PetscReal eps, Vec out)
{
  SASolver           s;
  SAOptimizer        o;
  Vec                theta, *st, w;
  PetscInt           ns;
  const char *const *names;

  PetscFunctionBeginUser;
  PetscCall(Compose(opt, kind, mag, &s));
  PetscCall(SASolverReadCheckpoint(s, path, NULL));
  PetscCall(SASolverGetTheta(s, &theta));
  PetscCall(SASolverGetOptimizer(s, &o));
  PetscCall(SAOptimizerGetState(o, &ns, &st, &names));
  PetscCall(VecDuplicate(theta, &w));
  PetscCall(SAStepJacobianGetBlock(Jl, dz, 0, w));
  PetscCall(VecAXPY(theta, eps, w));
  for (PetscInt i = 0; i < ns; i++) {
    PetscCall(SAStepJacobianGetBlock(Jl, dz, i + 1, w));
    PetscCall(VecAXPY(st[i], eps, w));
  }
  PetscCall(SASolverStep(s));
  PetscCall(SAStepJacobianSetBlock(Jl, out, 0, theta));
  for (PetscInt i = 0; i < ns; i++) PetscCall(SAStepJacobianSetBlock(Jl, out, i + 1, st[i]));
  PetscCall(VecDestroy(&w));
  PetscCall(SASolverDestroy(&s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckStepJacobian(const char *opt, const char *kind, const char *mag)
{
  SASolver    s;
  JacCtx      c = {T_PROBE, NULL, NULL, NULL, NULL, NULL, NULL};
  char        path[64];
  PetscMPIInt size;
  PetscReal   h = 1e-5, nj, nd, a, b;
  Vec         fp, fm;
  Mat         Jl; /* a step Jacobian of the same layout, for the block copies */

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscSNPrintf(path, sizeof(path), "test_stepjac_np%d.h5", (int) size));
  PetscCall(Compose(opt, kind, mag, &s));
  for (PetscInt t = 0; t < T_PROBE; t++) PetscCall(SASolverStep(s));
  PetscCall(SASolverWriteCheckpoint(s, 0, path));
  PetscCall(SASolverMonitorSet(s, JacMonitor, &c, NULL));
  PetscCall(SASolverStep(s));
  PetscCheck(c.Jdz, PETSC_COMM_SELF, PETSC_ERR_PLIB, "The monitor did not run");
  { /* only its block layout is used (theta and the state of step T_PROBE + 1 stand in for the gradient) */
    SATask      task;
    SAOptimizer o;
    SABatch     bt = SA_BATCH(T_PROBE);
    Vec         th;

    PetscCall(SASolverGetTask(s, &task));
    PetscCall(SASolverGetOptimizer(s, &o));
    PetscCall(SASolverGetTheta(s, &th));
    PetscCall(SAStepJacobianCreate(task, o, th, &bt, T_PROBE, th, &Jl));
  }
  PetscCall(VecDuplicate(c.dz, &fp));
  PetscCall(VecDuplicate(c.dz, &fm));
  PetscCall(RealStep(opt, kind, mag, path, Jl, c.dz, h, fp));
  PetscCall(RealStep(opt, kind, mag, path, Jl, c.dz, -h, fm));
  PetscCall(VecAXPY(fp, -1.0, fm));
  PetscCall(VecScale(fp, 1.0 / (2 * h)));
  PetscCall(VecNorm(c.Jdz, NORM_2, &nj));
  PetscCall(VecAXPY(fp, -1.0, c.Jdz));
  PetscCall(VecNorm(fp, NORM_2, &nd));
  PetscCall(VecDot(c.u, c.Jdz, &a));
  PetscCall(VecDot(c.JTu, c.dz, &b));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  %-8s %-16s |J dz - FD| / |J dz| = %.2e, adjoint %.2e\n", opt,
                        kind ? kind : "(none)", (double) (nd / nj), (double) (PetscAbsReal(a - b) / PetscAbsReal(a))));
  PetscCheck(nd <= 1e-6 * nj, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s %s: |J dz - FD| / |J dz| = %g > 1e-6", opt,
             kind ? kind : "none", (double) (nd / nj));
  PetscCheck(PetscAbsReal(a - b) <= 1e-12 * PetscAbsReal(a), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "%s %s: <u, J dz> = %.17g, <J^T u, dz> = %.17g", opt, kind ? kind : "none", (double) a, (double) b);
  PetscCall(VecDestroy(&fp));
  PetscCall(VecDestroy(&fm));
  PetscCall(MatDestroy(&Jl));
  PetscCall(VecDestroy(&c.dz));
  PetscCall(VecDestroy(&c.u));
  PetscCall(VecDestroy(&c.Jdz));
  PetscCall(VecDestroy(&c.JTu));
  PetscCall(VecDestroy(&c.theta));
  PetscCall(SASolverDestroy(&s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckAllStepJacobians(void)
{
  const char *opts[]  = {"sgd", "momentum", "adam"};
  const char *kinds[] = {NULL, "loss_scale", "signal_flip", "signal_noise", "label_smoothing"};
  const char *mags[]  = {"0", "3", "0.3", "0.5", "0.3"};

  PetscFunctionBeginUser;
  for (int o = 0; o < 3; o++)
    for (int k = 0; k < 5; k++) PetscCall(CheckStepJacobian(opts[o], kinds[k], mags[k]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* at the same state, a loss_scale member's step Jacobian is the unscaled one with H scaled: for sgd
   J dz - dz = -lr s H dz = s (J0 dz - dz), J0 the operator without the gradient hooks (as the step Jacobian was before
   the solver owned it). Checked to 1e-12 relative: the two differ only by the rounding of the scale. */
typedef struct {
  PetscInt  step;
  PetscReal rel; /* |(J dz - dz) - s (J0 dz - dz)| / |J dz - dz| */
} ScaleCtx;

static PetscErrorCode ScaleMonitor(SASolver s, const SASolverStepInfo *info, void *ctx)
{
  ScaleCtx   *c = (ScaleCtx *) ctx;
  Mat         J, J0;
  SATask      task;
  SAOptimizer opt;
  Vec         dz, Jdz, J0dz;
  PetscReal   n, d;

  PetscFunctionBeginUser;
  if (info->step != c->step) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SASolverGetStepJacobian(s, &J));
  PetscCall(SASolverGetTask(s, &task));
  PetscCall(SASolverGetOptimizer(s, &opt));
  PetscCall(SAStepJacobianCreate(task, opt, info->theta, info->batch, info->step, info->grad, &J0));
  PetscCall(SAStepJacobianSetHyper(J0, info->hyper));
  PetscCall(MatCreateVecs(J, &dz, &Jdz));
  PetscCall(VecDuplicate(Jdz, &J0dz));
  PetscCall(SATestRandomVec(SEED_CAMPAIGN, SEED_MEMBER, 30, dz));
  PetscCall(MatMult(J, dz, Jdz));
  PetscCall(MatMult(J0, dz, J0dz));
  PetscCall(VecAXPY(Jdz, -1.0, dz));
  PetscCall(VecAXPY(J0dz, -1.0, dz));
  PetscCall(VecNorm(Jdz, NORM_2, &n));
  PetscCall(VecAXPY(Jdz, -3.0, J0dz));
  PetscCall(VecNorm(Jdz, NORM_2, &d));
  c->rel = n > 0 ? d / n : 1.0;
  PetscCall(VecDestroy(&dz));
  PetscCall(VecDestroy(&Jdz));
  PetscCall(VecDestroy(&J0dz));
  PetscCall(MatDestroy(&J0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckSignalSeen(void)
{
  SASolver s;
  ScaleCtx c = {T_PROBE, -1.0};

  PetscFunctionBeginUser;
  PetscCall(Compose("sgd", "loss_scale", "3", &s));
  PetscCall(SASolverMonitorSet(s, ScaleMonitor, &c, NULL));
  for (PetscInt t = 0; t <= T_PROBE; t++) PetscCall(SASolverStep(s));
  PetscCheck(c.rel >= 0 && c.rel <= 1e-12, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "loss_scale 3: |(J - I) dz - 3 (J0 - I) dz| / |(J - I) dz| = %g", (double) c.rel);
  PetscCall(SASolverDestroy(&s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ReadOnlyMonitor(SASolver s, const SASolverStepInfo *info, void *ctx)
{
  PetscReal n;

  PetscFunctionBeginUser;
  PetscCall(VecNorm(info->theta, NORM_2, &n));
  *(PetscReal *) ctx += n;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode BitwiseEqual(Vec a, Vec b, PetscBool *eq)
{
  const PetscScalar *x, *y;
  PetscInt           n;
  int                e;

  PetscFunctionBeginUser;
  PetscCall(VecGetLocalSize(a, &n));
  PetscCall(VecGetArrayRead(a, &x));
  PetscCall(VecGetArrayRead(b, &y));
  e = !memcmp(x, y, (size_t) n * sizeof(PetscScalar));
  PetscCall(VecRestoreArrayRead(b, &y));
  PetscCall(VecRestoreArrayRead(a, &x));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &e, 1, MPI_INT, MPI_LAND, PetscObjectComm((PetscObject) a)));
  *eq = e ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckMonitorsBitwise(void)
{
  SASolver   s0, s1, s2;
  PetscReal  sum = 0;
  Vec        t0, t1, t2;
  PetscBool  eq1, eq2, done   = PETSC_FALSE;
  PetscInt   nrec, nobs, step = 0;
  PetscReal *r0, *r1;
  SAProbe    p;
  SALyap     ly;

  PetscFunctionBeginUser;
  PetscCall(Compose("momentum", "signal_flip", "0.3", &s0));
  PetscCall(Compose("momentum", "signal_flip", "0.3", &s1));
  PetscCall(Compose("momentum", "signal_flip", "0.3", &s2));
  PetscCall(SASolverMonitorSet(s1, ReadOnlyMonitor, &sum, NULL));
  PetscCall(SAProbeCreate(PETSC_COMM_WORLD, &p));
  PetscCall(SAProbeSetKind(p, SA_PROBE_HESSIAN, PETSC_TRUE));
  PetscCall(SAProbeSetKind(p, SA_PROBE_SHARPNESS, PETSC_TRUE));
  PetscCall(SAProbeSetKind(p, SA_PROBE_JACOBIAN, PETSC_TRUE));
  PetscCall(SAProbeSetNumEigenvalues(p, 2));
  PetscCall(SAProbeSetBatch(p, 32));
  PetscCall(SAProbeSetSeeds(p, SEED_CAMPAIGN, SEED_MEMBER));
  PetscCall(SAProbeSetMember(p, 8, 1));
  PetscCall(SAProbeAttach(p, s2));
  PetscCall(SALyapCreate(PETSC_COMM_WORLD, &ly));
  PetscCall(SALyapSetParameters(ly, 2, 1, 0, SEED_CAMPAIGN));
  PetscCall(SALyapAttach(ly, s2));
  PetscCall(SASolverGetTheta(s0, &t0));
  PetscCall(SASolverGetTheta(s1, &t1));
  PetscCall(SASolverGetTheta(s2, &t2));
  while (!done) {
    PetscCall(SASolverStep(s0));
    PetscCall(SASolverStep(s1));
    PetscCall(SASolverStep(s2));
    PetscCall(BitwiseEqual(t0, t1, &eq1));
    PetscCall(BitwiseEqual(t0, t2, &eq2));
    PetscCheck(eq1 && eq2, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "theta differs after step %" PetscInt_FMT " (read-only monitor %d, probes and Lyapunov %d)", step,
               (int) eq1, (int) eq2);
    PetscCall(SASolverIsDone(s0, &done));
    step++;
  }
  PetscCheck(sum > 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "The read-only monitor did not run");
  PetscCall(SASolverGetRecords(s0, &nrec, &nobs, &r0));
  PetscCall(SASolverGetRecords(s1, &nrec, &nobs, &r1));
  PetscCheck(!memcmp(r0, r1, (size_t) (nrec * nobs) * sizeof(PetscReal)), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "A read-only monitor changed the records");
  {
    PetscInt   nr, rl;
    PetscReal *rows, lam[2];
    PetscInt   counted;

    PetscCall(SAProbeGetRecords(p, &nr, &rl, &rows));
    PetscCheck(nr == 2 && rows[0] == 1.0 && rows[rl] == 8.0, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "The probe did not run at the onset (1) and the last step (8)");
    PetscCall(SALyapGetExponents(ly, lam, &counted));
    PetscCheck(counted == 8 && !PetscIsInfOrNanReal(lam[0]), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "Lyapunov counted %" PetscInt_FMT " steps, lambda_1 %g", counted, (double) lam[0]);
  }
  PetscCall(SASolverDestroy(&s0));
  PetscCall(SASolverDestroy(&s1));
  PetscCall(SASolverDestroy(&s2));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void test_stepjac(void) { CU_ASSERT_EQUAL(CheckAllStepJacobians(), PETSC_SUCCESS); }
static void test_signal_seen(void) { CU_ASSERT_EQUAL(CheckSignalSeen(), PETSC_SUCCESS); }
static void test_monitors(void) { CU_ASSERT_EQUAL(CheckMonitorsBitwise(), PETSC_SUCCESS); }

int main(int argc, char **argv)
{
  int       nfail_all;
  CU_pSuite s;

  PetscCall(SlepcInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SAInitialize());
  if (CU_initialize_registry() != CUE_SUCCESS) return EXIT_FAILURE;
  s = CU_add_suite("stepjac", NULL, NULL);
  CU_add_test(s,
              "step Jacobian = central differences of the real perturbed step; adjoint (sgd, momentum, adam x signal)",
              test_stepjac);
  CU_add_test(s, "the step Jacobian of a loss_scale member sees its scale", test_signal_seen);
  CU_add_test(s, "monitors: read-only leaves trajectory and records bitwise; probes + Lyapunov leave theta bitwise",
              test_monitors);
  PetscCall(SATestRunSuite(PETSC_COMM_WORLD, &nfail_all));
  PetscCall(SAFinalize());
  PetscCall(SlepcFinalize());
  return nfail_all ? EXIT_FAILURE : EXIT_SUCCESS;
}
