/*
  test_probes.c - the probes (analysis/probes) and the optimizer derivatives they are built from
  (SAOptimizerUpdateJacobianMult/Transpose), against known answers.

  Operators (quadratic task, noise 0, so the gradient is exactly A (theta - theta*)):
    - J dz of the whole step against central differences of the real update map
      z = (theta, state) -> SAOptimizerUpdateMap(theta, state, grad(theta)), for sgd (with weight decay and with
      active clipping), heavy ball and Nesterov (with weight decay), adam and adamw. For sgd and momentum the
      map is affine in z, so central differences have no truncation error: what is left is roundoff
      eps |F| / h ~ 1e-12 relative for h = 1e-4; tolerance 1e-8. Adam's map is smooth but not affine:
      truncation h^2 |F'''| / 6 with h = 1e-5 and O(1)..O(1e2) third derivatives (v ~ g^2 = O(1) after three
      steps) is <= 1e-8, roundoff eps |F| / h ~ 1e-10; tolerance 1e-6 relative to |J dz| (a wrong or missing
      term is O(1) relative). Clipping is piecewise smooth: the test point is well inside the clipped region.
    - adjoint identity u^T (J v) = v^T (J^T u) at 1e-12 relative to |u| |J v| (a few hundred roundings).
    - J eigenvalues from the dense operator (assembled column by column with MatMult, LAPACK dgeev):
      GD: 1 - lr lambda_i; heavy ball: the roots of z^2 - (1 + mu - lr lambda_i) z + mu, all compared at 1e-10
      relative to max |z| (backward-stable eigenvalues of a well-conditioned normal (GD) or 2x2-block-diagonalisable
      (heavy ball, distinct real roots chosen) matrix of size <= 60: O(n eps) ~ 1e-14).
  Objects live on PETSC_COMM_WORLD (sharded vectors); checks raise on PETSC_COMM_SELF after global reductions
  (see test_quadratic.c). Run on 1 and 2 ranks.
*/
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "satest.h"
#include <slepcsys.h>
#include <petscblaslapack.h>
#include <stabaudit/saprobe.h>
#include <stabaudit/sastream.h>

#define SEED_CAMPAIGN 20240601
#define SEED_MEMBER   7

/* ----------------------------------------------------------------------------------------------- */
/* helpers                                                                                          */
/* ----------------------------------------------------------------------------------------------- */

static PetscErrorCode SetOptions(const char *const kv[])
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; kv[i]; i += 2) PetscCall(PetscOptionsSetValue(NULL, kv[i], kv[i + 1]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ClearOptions(const char *const kv[])
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; kv[i]; i += 2) PetscCall(PetscOptionsClearValue(NULL, kv[i]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* quadratic task of dimension n, eigenvalues log-spaced in [lmin, lmax], noise 0 */
static PetscErrorCode CreateQuadratic(MPI_Comm comm, const char *n, const char *lmin, const char *lmax, SATask *task)
{
  const char *const kv[] = {"-task_type",
                            "quadratic",
                            "-task_quadratic_dim",
                            n,
                            "-task_quadratic_lambda_min",
                            lmin,
                            "-task_quadratic_lambda_max",
                            lmax,
                            NULL};

  PetscFunctionBeginUser;
  PetscCall(SetOptions(kv));
  PetscCall(SATaskCreate(comm, task));
  PetscCall(SATaskSetFromOptions(*task));
  PetscCall(SATaskSetSeeds(*task, SEED_CAMPAIGN, SEED_MEMBER));
  PetscCall(SATaskSetNoise(*task, 0.0));
  PetscCall(SATaskSetUp(*task));
  PetscCall(ClearOptions(kv));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CreateOptimizer(MPI_Comm comm, const char *const kv[], SAOptimizer *opt)
{
  PetscFunctionBeginUser;
  PetscCall(SetOptions(kv));
  PetscCall(SAOptimizerCreate(comm, opt));
  PetscCall(SAOptimizerSetFromOptions(*opt));
  PetscCall(ClearOptions(kv));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RandomVec(Vec v, PetscInt64 step)
{
  SAStream s;

  PetscFunctionBeginUser;
  PetscCall(SAStreamCreate(SEED_CAMPAIGN, SEED_MEMBER, SA_STREAM_TEST, &s));
  PetscCall(SAStreamVecNormal(&s, step, v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* nsteps real training steps from the initial guess (gives the optimizer a non-trivial state) */
static PetscErrorCode Train(SATask task, SAOptimizer opt, Vec theta, PetscInt nsteps)
{
  Vec       g;
  PetscReal loss;

  PetscFunctionBeginUser;
  PetscCall(SATaskInitialGuess(task, theta));
  PetscCall(SAOptimizerSetUp(opt, theta));
  PetscCall(VecDuplicate(theta, &g));
  for (PetscInt t = 0; t < nsteps; t++) {
    SABatch b = SA_BATCH(t);
    SAHyper h;

    PetscCall(SATaskLossGradient(task, theta, &b, &loss, g));
    PetscCall(SAOptimizerGetHyper(opt, t, &h));
    PetscCall(SAOptimizerUpdate(opt, &h, theta, g));
  }
  PetscCall(VecDestroy(&g));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* F(z + a dz) in J's layout: the real update map at theta + a dtheta, state + a dstate, grad(theta + a dtheta) */
static PetscErrorCode MapAt(SATask task, SAOptimizer opt, Mat J, const SAHyper *h, Vec theta, Vec z0, Vec dz,
                            PetscReal a, Vec out)
{
  PetscInt           nb, ns;
  Vec               *st, th, thout, g, sin[4], sout[4], z;
  const char *const *names;
  SABatch            b = SA_BATCH(h->step);
  PetscReal          loss;

  PetscFunctionBeginUser;
  b.probe = -1;
  PetscCall(SAProbeJacobianGetNumBlocks(J, &nb));
  PetscCall(SAOptimizerGetState(opt, &ns, &st, &names));
  PetscCall(VecDuplicate(z0, &z));
  PetscCall(VecWAXPY(z, a, dz, z0));
  PetscCall(VecDuplicate(theta, &th));
  PetscCall(VecDuplicate(theta, &thout));
  PetscCall(VecDuplicate(theta, &g));
  PetscCall(SAProbeJacobianGetBlock(J, z, 0, th));
  for (PetscInt i = 0; i < ns; i++) {
    PetscCall(VecDuplicate(theta, &sin[i]));
    PetscCall(VecDuplicate(theta, &sout[i]));
    PetscCall(SAProbeJacobianGetBlock(J, z, i + 1, sin[i]));
  }
  PetscCall(SATaskLossGradient(task, th, &b, &loss, g));
  PetscCall(SAOptimizerUpdateMap(opt, h, th, sin, g, thout, sout));
  PetscCall(SAProbeJacobianSetBlock(J, out, 0, thout));
  for (PetscInt i = 0; i < ns; i++) {
    PetscCall(SAProbeJacobianSetBlock(J, out, i + 1, sout[i]));
    PetscCall(VecDestroy(&sin[i]));
    PetscCall(VecDestroy(&sout[i]));
  }
  PetscCall(VecDestroy(&th));
  PetscCall(VecDestroy(&thout));
  PetscCall(VecDestroy(&g));
  PetscCall(VecDestroy(&z));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ----------------------------------------------------------------------------------------------- */
/* JVP / VJP of the whole step                                                                      */
/* ----------------------------------------------------------------------------------------------- */

static PetscErrorCode CheckStepDerivatives(const char *label, const char *const kv[], PetscReal hfd, PetscReal rtol)
{
  MPI_Comm           comm = PETSC_COMM_WORLD;
  SATask             task;
  SAOptimizer        opt;
  Vec                theta, z0, dz, u, Jdz, JTu, fp, fm, blk, sabs;
  Mat                J;
  SAHyper            h;
  SABatch            b    = SA_BATCH(3);
  const PetscInt     step = 3;
  PetscInt           nb, ns, nhvp;
  Vec               *st;
  const char *const *names;
  PetscReal          err, nrm, nu;
  PetscScalar        uJv, vJTu;

  PetscFunctionBeginUser;
  b.probe = -1;
  PetscCall(CreateQuadratic(comm, "40", "0.05", "2.0", &task));
  PetscCall(CreateOptimizer(comm, kv, &opt));
  PetscCall(SATaskCreateParameters(task, &theta));
  PetscCall(Train(task, opt, theta, step));
  PetscCall(SAProbeCreateJacobian(task, opt, theta, &b, step, &J));
  PetscCall(SAProbeJacobianGetHyper(J, &h));
  if (h.clip > 0) { /* the test point must be inside the clipped region */
    Vec       g;
    PetscReal loss, gn;

    PetscCall(VecDuplicate(theta, &g));
    PetscCall(SATaskLossGradient(task, theta, &b, &loss, g));
    PetscCall(VecNorm(g, NORM_2, &gn));
    PetscCall(VecDestroy(&g));
    PetscCheck(gn > 2 * h.clip, PETSC_COMM_SELF, PETSC_ERR_PLIB, "clipping not active: |g| %g", (double) gn);
  }
  PetscCall(SAProbeJacobianGetNumBlocks(J, &nb));
  PetscCall(SAOptimizerGetState(opt, &ns, &st, &names));
  PetscCheck(nb == ns + 1, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%" PetscInt_FMT " blocks for %" PetscInt_FMT " states", nb,
             ns);
  PetscCall(MatCreateVecs(J, &z0, &Jdz));
  PetscCall(VecDuplicate(z0, &dz));
  PetscCall(VecDuplicate(z0, &u));
  PetscCall(VecDuplicate(z0, &JTu));
  PetscCall(VecDuplicate(z0, &fp));
  PetscCall(VecDuplicate(z0, &fm));
  PetscCall(SAProbeJacobianSetBlock(J, z0, 0, theta));
  for (PetscInt i = 0; i < ns; i++) PetscCall(SAProbeJacobianSetBlock(J, z0, i + 1, st[i]));
  /* directions: theta part unit norm; state parts relative to the state entry by entry (ds_i = r_i |s_i|, r_i
     standard normal), so adam's v + h dv stays positive and the h^2 term stays O(h^2) relative */
  PetscCall(VecDuplicate(theta, &blk));
  PetscCall(VecDuplicate(theta, &sabs));
  for (PetscInt i = 0; i < nb; i++) {
    PetscCall(RandomVec(blk, 10 + i));
    if (i > 0) {
      PetscCall(VecCopy(st[i - 1], sabs));
      PetscCall(VecAbs(sabs));
      PetscCall(VecPointwiseMult(blk, blk, sabs));
    } else PetscCall(VecNormalize(blk, NULL));
    PetscCall(SAProbeJacobianSetBlock(J, dz, i, blk));
    PetscCall(RandomVec(blk, 20 + i));
    PetscCall(SAProbeJacobianSetBlock(J, u, i, blk));
  }
  PetscCall(MatMult(J, dz, Jdz));
  PetscCall(SAProbeOperatorGetHVPCount(J, &nhvp));
  PetscCheck(nhvp == 1, PETSC_COMM_SELF, PETSC_ERR_PLIB, "MatMult did %" PetscInt_FMT " HVPs, expected 1", nhvp);
  PetscCall(MapAt(task, opt, J, &h, theta, z0, dz, hfd, fp));
  PetscCall(MapAt(task, opt, J, &h, theta, z0, dz, -hfd, fm));
  PetscCall(VecAXPY(fp, -1.0, fm));
  PetscCall(VecScale(fp, 1.0 / (2 * hfd)));
  PetscCall(VecAXPY(fp, -1.0, Jdz));
  PetscCall(VecNorm(fp, NORM_2, &err));
  PetscCall(VecNorm(Jdz, NORM_2, &nrm));
  PetscCall(PetscPrintf(comm, "  %-28s JVP vs central differences: rel. error %.2e (tol %.0e)\n", label,
                        (double) (err / nrm), (double) rtol));
  PetscCheck(err <= rtol * nrm, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: JVP error %g > %g", label, (double) err,
             (double) (rtol * nrm));
  /* adjoint */
  PetscCall(MatMultTranspose(J, u, JTu));
  PetscCall(VecDot(Jdz, u, &uJv));
  PetscCall(VecDot(JTu, dz, &vJTu));
  PetscCall(VecNorm(u, NORM_2, &nu));
  PetscCall(PetscPrintf(comm, "  %-28s u^T J v - v^T J^T u: %.2e relative\n", label,
                        (double) (PetscAbsScalar(uJv - vJTu) / (nu * nrm))));
  PetscCheck(PetscAbsScalar(uJv - vJTu) <= 1e-12 * nu * nrm, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "%s: adjoint mismatch %g vs %g", label, (double) PetscRealPart(uJv), (double) PetscRealPart(vJTu));
  PetscCall(VecDestroy(&blk));
  PetscCall(VecDestroy(&sabs));
  PetscCall(VecDestroy(&z0));
  PetscCall(VecDestroy(&dz));
  PetscCall(VecDestroy(&u));
  PetscCall(VecDestroy(&Jdz));
  PetscCall(VecDestroy(&JTu));
  PetscCall(VecDestroy(&fp));
  PetscCall(VecDestroy(&fm));
  PetscCall(MatDestroy(&J));
  PetscCall(VecDestroy(&theta));
  PetscCall(SAOptimizerDestroy(&opt));
  PetscCall(SATaskDestroy(&task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckAllStepDerivatives(void)
{
  const char *const sgd[] = {"-optimizer_type", "sgd", "-optimizer_lr", "0.3", "-optimizer_weight_decay", "0.01", NULL};
  const char *const clip[] = {"-optimizer_type", "sgd", "-optimizer_lr", "0.3", "-optimizer_clip", "0.5", NULL};
  const char *const hb[]   = {"-optimizer_type",
                              "momentum",
                              "-optimizer_lr",
                              "0.2",
                              "-optimizer_momentum",
                              "0.8",
                              "-optimizer_weight_decay",
                              "0.02",
                              NULL};
  const char *const nes[]  = {"-optimizer_type",
                              "momentum",
                              "-optimizer_lr",
                              "0.2",
                              "-optimizer_momentum",
                              "0.8",
                              "-optimizer_momentum_nesterov",
                              "true",
                              "-optimizer_weight_decay",
                              "0.02",
                              NULL};
  const char *const adam[] = {"-optimizer_type",
                              "adam",
                              "-optimizer_lr",
                              "0.05",
                              "-optimizer_weight_decay",
                              "0.01",
                              "-optimizer_adam_eps",
                              "1e-3",
                              NULL};
  const char *const adw[]  = {"-optimizer_type",
                              "adamw",
                              "-optimizer_lr",
                              "0.05",
                              "-optimizer_weight_decay",
                              "0.1",
                              "-optimizer_adam_eps",
                              "1e-3",
                              NULL};

  PetscFunctionBeginUser;
  PetscCall(CheckStepDerivatives("sgd + weight decay", sgd, 1e-4, 1e-8));
  PetscCall(CheckStepDerivatives("sgd + active clipping", clip, 1e-4, 1e-8));
  PetscCall(CheckStepDerivatives("heavy ball + weight decay", hb, 1e-4, 1e-8));
  PetscCall(CheckStepDerivatives("Nesterov + weight decay", nes, 1e-4, 1e-8));
  PetscCall(CheckStepDerivatives("adam + L2", adam, 1e-5, 1e-6));
  PetscCall(CheckStepDerivatives("adamw", adw, 1e-5, 1e-6));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ----------------------------------------------------------------------------------------------- */
/* J spectrum on the quadratic: closed forms                                                        */
/* ----------------------------------------------------------------------------------------------- */

/* all eigenvalues of a (square, small) operator: assembled column by column, gathered, LAPACK dgeev; sorted by
   real part descending, then imaginary part */
static PetscErrorCode DenseEigenvalues(Mat A, PetscInt *n, PetscReal **re, PetscReal **im)
{
  Mat                D, Dall;
  PetscBLASInt       bn, lwork, info, one = 1;
  PetscScalar       *a, *work;
  const PetscScalar *da;
  PetscInt           N;
  IS                 rows;

  PetscFunctionBeginUser;
  PetscCall(MatComputeOperator(A, MATDENSE, &D));
  PetscCall(MatGetSize(D, &N, NULL));
  PetscCall(ISCreateStride(PETSC_COMM_SELF, N, 0, 1, &rows));
  {
    Mat *sub;

    PetscCall(MatCreateSubMatrices(D, 1, &rows, &rows, MAT_INITIAL_MATRIX, &sub));
    PetscCall(MatConvert(sub[0], MATSEQDENSE, MAT_INITIAL_MATRIX, &Dall));
    PetscCall(MatDestroySubMatrices(1, &sub));
  }
  PetscCall(ISDestroy(&rows));
  PetscCall(PetscBLASIntCast(N, &bn));
  lwork = 8 * bn;
  PetscCall(PetscMalloc1(N * N, &a));
  PetscCall(PetscMalloc1(lwork, &work));
  PetscCall(PetscMalloc1(N, re));
  PetscCall(PetscMalloc1(N, im));
  PetscCall(MatDenseGetArrayRead(Dall, &da));
  PetscCall(PetscArraycpy(a, da, N * N));
  PetscCall(MatDenseRestoreArrayRead(Dall, &da));
  PetscCallBLAS("LAPACKgeev",
                LAPACKgeev_("N", "N", &bn, a, &bn, *re, *im, NULL, &one, NULL, &one, work, &lwork, &info));
  PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "dgeev failed: %d", (int) info);
  for (PetscInt i = 0; i < N; i++) /* insertion sort by real part descending */
    for (PetscInt j = i; j > 0 && (*re)[j] > (*re)[j - 1]; j--) {
      PetscReal t = (*re)[j];

      (*re)[j] = (*re)[j - 1], (*re)[j - 1] = t;
      t = (*im)[j], (*im)[j] = (*im)[j - 1], (*im)[j - 1] = t;
    }
  *n = N;
  PetscCall(PetscFree(a));
  PetscCall(PetscFree(work));
  PetscCall(MatDestroy(&Dall));
  PetscCall(MatDestroy(&D));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscReal LogSpaced(PetscInt i, PetscInt n, PetscReal lmin, PetscReal lmax)
{
  if (i == 0) return lmin;
  if (i == n - 1) return lmax;
  return lmin * PetscPowReal(lmax / lmin, (PetscReal) i / (PetscReal) (n - 1));
}

static int CmpDesc(const void *a, const void *b)
{
  PetscReal x = *(const PetscReal *) a, y = *(const PetscReal *) b;
  return x < y ? 1 : (x > y ? -1 : 0);
}

/* GD: eig(J) = 1 - lr lambda_i; heavy ball: roots of z^2 - (1 + mu - lr lambda) z + mu (real and distinct here) */
static PetscErrorCode CheckJacobianSpectrum(PetscBool heavy)
{
  MPI_Comm          comm = PETSC_COMM_WORLD;
  const PetscInt    n    = 30;
  const PetscReal   lr = 0.2, mu = 0.25, lmin = 0.01, lmax = 1.0;
  const char *const gd[] = {"-optimizer_type", "sgd", "-optimizer_lr", "0.2", NULL};
  const char *const hb[] = {"-optimizer_type", "momentum", "-optimizer_lr", "0.2", "-optimizer_momentum", "0.25", NULL};
  SATask            task;
  SAOptimizer       opt;
  Vec               theta;
  Mat               J;
  SABatch           b = SA_BATCH(0);
  PetscInt          N = 0;
  PetscReal        *re, *im, *ref, err = 0, scale = 0;

  PetscFunctionBeginUser;
  b.probe = -1;
  PetscCall(CreateQuadratic(comm, "30", "0.01", "1.0", &task));
  PetscCall(CreateOptimizer(comm, heavy ? hb : gd, &opt));
  PetscCall(SATaskCreateParameters(task, &theta));
  PetscCall(Train(task, opt, theta, 2));
  PetscCall(SAProbeCreateJacobian(task, opt, theta, &b, 2, &J));
  PetscCall(DenseEigenvalues(J, &N, &re, &im));
  PetscCheck(N == (heavy ? 2 * n : n), PETSC_COMM_SELF, PETSC_ERR_PLIB, "J has size %" PetscInt_FMT, N);
  PetscCall(PetscMalloc1(N, &ref));
  for (PetscInt i = 0; i < n; i++) {
    PetscReal l = LogSpaced(i, n, lmin, lmax);

    if (!heavy) ref[i] = 1.0 - lr * l;
    else {
      PetscReal tr = 1.0 + mu - lr * l, disc = tr * tr - 4.0 * mu;

      PetscCheck(disc > 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "test set-up: complex roots");
      ref[2 * i]     = 0.5 * (tr + PetscSqrtReal(disc));
      ref[2 * i + 1] = 0.5 * (tr - PetscSqrtReal(disc));
    }
  }
  qsort(ref, (size_t) N, sizeof(PetscReal), CmpDesc);
  for (PetscInt i = 0; i < N; i++) {
    err   = PetscMax(err, PetscMax(PetscAbsReal(re[i] - ref[i]), PetscAbsReal(im[i])));
    scale = PetscMax(scale, PetscAbsReal(ref[i]));
  }
  PetscCall(PetscPrintf(comm, "  %s: max |eig(J) - closed form| = %.2e (of %" PetscInt_FMT ")\n",
                        heavy ? "heavy ball" : "gradient descent", (double) err, N));
  PetscCheck(err <= 1e-10 * scale, PETSC_COMM_SELF, PETSC_ERR_PLIB, "J eigenvalues off by %g", (double) err);
  PetscCall(PetscFree(ref));
  PetscCall(PetscFree(re));
  PetscCall(PetscFree(im));
  PetscCall(MatDestroy(&J));
  PetscCall(VecDestroy(&theta));
  PetscCall(SAOptimizerDestroy(&opt));
  PetscCall(SATaskDestroy(&task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void test_step_derivatives(void) { CU_ASSERT_EQUAL(CheckAllStepDerivatives(), PETSC_SUCCESS); }
static void test_jacobian_gd(void) { CU_ASSERT_EQUAL(CheckJacobianSpectrum(PETSC_FALSE), PETSC_SUCCESS); }
static void test_jacobian_heavy_ball(void) { CU_ASSERT_EQUAL(CheckJacobianSpectrum(PETSC_TRUE), PETSC_SUCCESS); }

int main(int argc, char **argv)
{
  int       nfail_all;
  CU_pSuite s;

  PetscCall(SlepcInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SAInitialize());
  if (CU_initialize_registry() != CUE_SUCCESS) return EXIT_FAILURE;
  s = CU_add_suite("probes", NULL, NULL);
  CU_add_test(s, "JVP/VJP of the whole step vs central differences and adjoint", test_step_derivatives);
  CU_add_test(s, "GD Jacobian eigenvalues are 1 - lr lambda_i", test_jacobian_gd);
  CU_add_test(s, "heavy-ball Jacobian eigenvalues are the 2x2-block roots", test_jacobian_heavy_ball);
  PetscCall(SATestRunSuite(PETSC_COMM_WORLD, &nfail_all));
  PetscCall(SAFinalize());
  PetscCall(SlepcFinalize());
  return nfail_all ? EXIT_FAILURE : EXIT_SUCCESS;
}
