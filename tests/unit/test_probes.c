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
  Probes (SAProbeCompute and its building blocks):
    - quadratic: top-4 and bottom-4 Hessian eigenvalues = the constructed (linear) spectrum at 1e-8 relative
      (EPS tolerance 1e-12); a warm-started second probe needs fewer HVPs; sharpness ratio lr lambda_max /
      (2 (1 + mu)) at 1e-8; Hutchinson trace within 6 of its standard errors of sum lambda_i; GD Jacobian radius,
      |eigenvalues| and singular values = |1 - lr lambda_i| (sorted) at 1e-8; heavy-ball radius = the largest
      root magnitude, sigma_max >= radius (non-normal); adam: lambda_max(P^-1 H) = LAPACK on the dense D A D with D
      formed in the test from the optimizer's v and the gradient (1e-8), and its ratio;
    - SLQ: Gauss quadrature moments p <= 5 < 2m equal q^T H^p q / q^T q (exact in real arithmetic; 1e-10);
      the broadened density integrates to 1 and has the quadrature's mean and second moment + sigma^2 (1e-6,
      trapezoid rule with h = sigma / 20);
    - MLP (digits, 385 parameters, dropout 0.1, frozen probe batch of 64): the assembled dense Hessian is
      symmetric (masks frozen) and its LAPACK dsyev top-3 and bottom-3 eigenvalues equal the probe's at 1e-8;
    - every probe kind on PETSC_COMM_WORLD (1 or 2 ranks) equals the same on PETSC_COMM_SELF at 1e-10;
    - deck errors name the key; the schedule counts (every K, onset, end); a non-finite Hessian leaves a fill row.
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
#include <stabaudit/sadeck.h>
#include <netcdf.h>

#define SEED_CAMPAIGN 20240601
#define SEED_MEMBER   7

/* ----------------------------------------------------------------------------------------------- */
/* helpers                                                                                          */
/* ----------------------------------------------------------------------------------------------- */

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
  PetscCall(SATestSetOptions(kv));
  PetscCall(SATaskCreate(comm, task));
  PetscCall(SATaskSetFromOptions(*task));
  PetscCall(SATaskSetSeeds(*task, SEED_CAMPAIGN, SEED_MEMBER));
  PetscCall(SATaskSetNoise(*task, 0.0));
  PetscCall(SATaskSetUp(*task));
  PetscCall(SATestClearOptions(kv));
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
  PetscCall(SAStepJacobianGetNumBlocks(J, &nb));
  PetscCall(SAOptimizerGetState(opt, &ns, &st, &names));
  PetscCall(VecDuplicate(z0, &z));
  PetscCall(VecWAXPY(z, a, dz, z0));
  PetscCall(VecDuplicate(theta, &th));
  PetscCall(VecDuplicate(theta, &thout));
  PetscCall(VecDuplicate(theta, &g));
  PetscCall(SAStepJacobianGetBlock(J, z, 0, th));
  for (PetscInt i = 0; i < ns; i++) {
    PetscCall(VecDuplicate(theta, &sin[i]));
    PetscCall(VecDuplicate(theta, &sout[i]));
    PetscCall(SAStepJacobianGetBlock(J, z, i + 1, sin[i]));
  }
  PetscCall(SATaskLossGradient(task, th, &b, &loss, g));
  PetscCall(SAOptimizerUpdateMap(opt, h, th, sin, g, thout, sout));
  PetscCall(SAStepJacobianSetBlock(J, out, 0, thout));
  for (PetscInt i = 0; i < ns; i++) {
    PetscCall(SAStepJacobianSetBlock(J, out, i + 1, sout[i]));
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
  PetscCall(SATestCreateOptimizer(comm, kv, &opt));
  PetscCall(SATaskCreateParameters(task, &theta));
  PetscCall(Train(task, opt, theta, step));
  PetscCall(SAStepJacobianCreate(task, opt, theta, &b, step, NULL, &J));
  PetscCall(SAStepJacobianGetHyper(J, &h));
  if (h.clip > 0) { /* the test point must be inside the clipped region */
    Vec       g;
    PetscReal loss, gn;

    PetscCall(VecDuplicate(theta, &g));
    PetscCall(SATaskLossGradient(task, theta, &b, &loss, g));
    PetscCall(VecNorm(g, NORM_2, &gn));
    PetscCall(VecDestroy(&g));
    PetscCheck(gn > 2 * h.clip, PETSC_COMM_SELF, PETSC_ERR_PLIB, "clipping not active: |g| %g", (double) gn);
  }
  PetscCall(SAStepJacobianGetNumBlocks(J, &nb));
  PetscCall(SAOptimizerGetState(opt, &ns, &st, &names));
  PetscCheck(nb == ns + 1, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%" PetscInt_FMT " blocks for %" PetscInt_FMT " states", nb,
             ns);
  PetscCall(MatCreateVecs(J, &z0, &Jdz));
  PetscCall(VecDuplicate(z0, &dz));
  PetscCall(VecDuplicate(z0, &u));
  PetscCall(VecDuplicate(z0, &JTu));
  PetscCall(VecDuplicate(z0, &fp));
  PetscCall(VecDuplicate(z0, &fm));
  PetscCall(SAStepJacobianSetBlock(J, z0, 0, theta));
  for (PetscInt i = 0; i < ns; i++) PetscCall(SAStepJacobianSetBlock(J, z0, i + 1, st[i]));
  /* directions: theta part unit norm; state parts relative to the state entry by entry (ds_i = r_i |s_i|, r_i
     standard normal), so adam's v + h dv stays positive and the h^2 term stays O(h^2) relative */
  PetscCall(VecDuplicate(theta, &blk));
  PetscCall(VecDuplicate(theta, &sabs));
  for (PetscInt i = 0; i < nb; i++) {
    PetscCall(SATestRandomVec(SEED_CAMPAIGN, SEED_MEMBER, 10 + i, blk));
    if (i > 0) {
      PetscCall(VecCopy(st[i - 1], sabs));
      PetscCall(VecAbs(sabs));
      PetscCall(VecPointwiseMult(blk, blk, sabs));
    } else PetscCall(VecNormalize(blk, NULL));
    PetscCall(SAStepJacobianSetBlock(J, dz, i, blk));
    PetscCall(SATestRandomVec(SEED_CAMPAIGN, SEED_MEMBER, 20 + i, blk));
    PetscCall(SAStepJacobianSetBlock(J, u, i, blk));
  }
  PetscCall(MatMult(J, dz, Jdz));
  PetscCall(SAStepJacobianGetHVPCount(J, &nhvp));
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
  PetscCall(SATestCreateOptimizer(comm, heavy ? hb : gd, &opt));
  PetscCall(SATaskCreateParameters(task, &theta));
  PetscCall(Train(task, opt, theta, 2));
  PetscCall(SAStepJacobianCreate(task, opt, theta, &b, 2, NULL, &J));
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

/* ----------------------------------------------------------------------------------------------- */
/* probes on the quadratic: closed forms                                                            */
/* ----------------------------------------------------------------------------------------------- */

/* a probe of the given kinds, k eigenvalues, tolerance tol */
static PetscErrorCode CreateProbe(MPI_Comm comm, const char *kinds, PetscInt k, PetscReal tol, SAProbe *p)
{
  char *tok, *buf;

  PetscFunctionBeginUser;
  PetscCall(SAProbeCreate(comm, p));
  PetscCall(SAProbeSetSeeds(*p, SEED_CAMPAIGN, SEED_MEMBER));
  PetscCall(SAProbeSetNumEigenvalues(*p, k));
  PetscCall(SAProbeSetTolerances(*p, tol, 10000));
  PetscCall(PetscStrallocpy(kinds, &buf));
  for (tok = strtok(buf, ","); tok; tok = strtok(NULL, ","))
    for (PetscInt i = 0; i < SA_PROBE_NKINDS; i++)
      if (!strcmp(tok, SAProbeKinds[i])) PetscCall(SAProbeSetKind(*p, (SAProbeKind) i, PETSC_TRUE));
  PetscCall(PetscFree(buf));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the value of column name in row (entry i) */
static PetscErrorCode Col(SAProbe p, const PetscReal row[], const char *name, PetscInt i, PetscReal *v)
{
  PetscInt             nc;
  const SAProbeColumn *c;

  PetscFunctionBeginUser;
  PetscCall(SAProbeGetColumns(p, &nc, &c, NULL));
  for (PetscInt j = 0; j < nc; j++)
    if (!strcmp(c[j].name, name)) {
      PetscCheck(i < c[j].len, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "entry %" PetscInt_FMT, i);
      *v = row[c[j].offset + i];
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  SETERRQ(PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "no column %s", name);
}

#define CHECK_REL(what, got, want, rtol)                                                                  \
  PetscCheck(PetscAbsReal((got) - (want)) <= (rtol) *PetscAbsReal(want), PETSC_COMM_SELF, PETSC_ERR_PLIB, \
             "%s: got %.15g, want %.15g (rel. tol %g)", what, (double) (got), (double) (want), (double) (rtol))

/* top-k and bottom-k eigenvalues of H = the constructed spectrum (linear in [lmin, lmax] here, so the ends are
   well separated); solver tolerance 1e-12 relative residual gives eigenvalue errors ~ |r|^2 / gap << 1e-8.
   Warm start: the second probe of the same theta starts from converged vectors and needs fewer HVPs. */
static PetscErrorCode CheckHessianQuadratic(void)
{
  MPI_Comm          comm = PETSC_COMM_WORLD;
  const PetscInt    n = 60, k = 4;
  const PetscReal   lmin = 0.1, lmax = 2.0;
  const char *const kvl[] = {"-task_quadratic_spectrum", "linear", NULL};
  SATask            task;
  Vec               theta;
  SAProbe           p;
  PetscReal        *row, v, hv1, hv2;
  PetscInt          rowlen;

  PetscFunctionBeginUser;
  PetscCall(SATestSetOptions(kvl));
  PetscCall(CreateQuadratic(comm, "60", "0.1", "2.0", &task));
  PetscCall(SATestClearOptions(kvl));
  PetscCall(SATaskCreateParameters(task, &theta));
  PetscCall(SATaskInitialGuess(task, theta));
  PetscCall(CreateProbe(comm, "hessian", k, 1e-12, &p));
  PetscCall(SAProbeGetColumns(p, NULL, NULL, &rowlen));
  PetscCall(PetscMalloc1(rowlen, &row));
  PetscCall(SAProbeCompute(p, task, NULL, theta, 0, NULL, row));
  for (PetscInt i = 0; i < k; i++) {
    PetscReal top = lmin + (lmax - lmin) * (PetscReal) (n - 1 - i) / (PetscReal) (n - 1);
    PetscReal bot = lmin + (lmax - lmin) * (PetscReal) i / (PetscReal) (n - 1);

    PetscCall(Col(p, row, "hessian_eig", i, &v));
    CHECK_REL("top eigenvalue", v, top, 1e-8);
    PetscCall(Col(p, row, "hessian_eig_min", i, &v));
    CHECK_REL("bottom eigenvalue", v, bot, 1e-8);
    PetscCall(Col(p, row, "hessian_residual", i, &v));
    PetscCheck(v <= 1e-10 * lmax, PETSC_COMM_SELF, PETSC_ERR_PLIB, "residual %g", (double) v);
  }
  PetscCall(Col(p, row, "hessian_hvps", 0, &hv1));
  PetscCall(SAProbeCompute(p, task, NULL, theta, 1, NULL, row));
  PetscCall(Col(p, row, "hessian_hvps", 0, &hv2));
  PetscCall(PetscPrintf(comm, "  Hessian top/bottom-%" PetscInt_FMT ": %g HVPs cold, %g warm\n", k, (double) hv1,
                        (double) hv2));
  PetscCheck(hv2 < hv1, PETSC_COMM_SELF, PETSC_ERR_PLIB, "warm start did not save HVPs: %g vs %g", (double) hv2,
             (double) hv1);
  PetscCall(PetscFree(row));
  PetscCall(SAProbeDestroy(&p));
  PetscCall(VecDestroy(&theta));
  PetscCall(SATaskDestroy(&task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* sharpness ratio lr lambda_max / (2 (1 + mu)); trace within 6 standard errors of sum lambda_i;
   the Jacobian of GD: radius max |1 - lr lambda_i| and (J symmetric) singular values |1 - lr lambda_i|;
   heavy ball: radius = largest root magnitude, largest singular value >= radius (non-normal) */
static PetscErrorCode CheckSharpnessTraceJacobian(void)
{
  MPI_Comm          comm = PETSC_COMM_WORLD;
  const PetscInt    n = 50, k = 3;
  const PetscReal   lmin = 0.01, lmax = 1.0, lr = 1.5, mu = 0.5;
  const char *const gd[] = {"-optimizer_type", "sgd", "-optimizer_lr", "1.5", NULL};
  const char *const hb[] = {"-optimizer_type", "momentum", "-optimizer_lr", "1.5", "-optimizer_momentum", "0.5", NULL};
  SATask            task;
  SAOptimizer       opt;
  Vec               theta;
  SAProbe           p;
  PetscReal        *row, v, se, sum = 0, ref[50];
  PetscInt          rowlen;

  PetscFunctionBeginUser;
  PetscCall(CreateQuadratic(comm, "50", "0.01", "1.0", &task));
  PetscCall(SATaskCreateParameters(task, &theta));
  for (PetscInt heavy = 0; heavy < 2; heavy++) {
    PetscCall(SATestCreateOptimizer(comm, heavy ? hb : gd, &opt));
    PetscCall(Train(task, opt, theta, 2));
    PetscCall(CreateProbe(comm, "sharpness,trace,jacobian", k, 1e-12, &p));
    PetscCall(SAProbeSetTraceVectors(p, 64));
    PetscCall(SAProbeGetColumns(p, NULL, NULL, &rowlen));
    PetscCall(PetscMalloc1(rowlen, &row));
    PetscCall(SAProbeCompute(p, task, opt, theta, 2, NULL, row));
    PetscCall(Col(p, row, "sharpness_ratio", 0, &v));
    CHECK_REL("sharpness ratio", v, lr * lmax / (2 * (1 + (heavy ? mu : 0))), 1e-8);
    if (!heavy) {
      sum = 0;
      for (PetscInt i = 0; i < n; i++) sum += LogSpaced(i, n, lmin, lmax);
      PetscCall(Col(p, row, "hessian_trace", 0, &v));
      PetscCall(Col(p, row, "hessian_trace_stderr", 0, &se));
      PetscCall(
        PetscPrintf(comm, "  Hutchinson trace %.6f +- %.6f, exact %.6f\n", (double) v, (double) se, (double) sum));
      PetscCheck(se > 0 && PetscAbsReal(v - sum) <= 6 * se, PETSC_COMM_SELF, PETSC_ERR_PLIB, "trace %g +- %g, exact %g",
                 (double) v, (double) se, (double) sum);
      for (PetscInt i = 0; i < n; i++) ref[i] = PetscAbsReal(1 - lr * LogSpaced(i, n, lmin, lmax));
      qsort(ref, (size_t) n, sizeof(PetscReal), CmpDesc);
      PetscCall(Col(p, row, "jacobian_radius", 0, &v));
      CHECK_REL("GD spectral radius", v, ref[0], 1e-8);
      for (PetscInt i = 0; i < k; i++) {
        PetscReal re, im;

        PetscCall(Col(p, row, "jacobian_eig_re", i, &re));
        PetscCall(Col(p, row, "jacobian_eig_im", i, &im));
        CHECK_REL("GD |eigenvalue|", PetscSqrtReal(re * re + im * im), ref[i], 1e-8);
        PetscCall(Col(p, row, "jacobian_sv", i, &v));
        CHECK_REL("GD singular value", v, ref[i], 1e-8);
      }
    } else {
      PetscReal rad = 0, sv;

      for (PetscInt i = 0; i < n; i++) { /* |roots| of z^2 - (1 + mu - lr l) z + mu */
        PetscReal tr = 1 + mu - lr * LogSpaced(i, n, lmin, lmax), disc = tr * tr - 4 * mu;

        rad = PetscMax(rad, disc >= 0 ? 0.5 * (PetscAbsReal(tr) + PetscSqrtReal(disc)) : PetscSqrtReal(mu));
      }
      PetscCall(Col(p, row, "jacobian_radius", 0, &v));
      PetscCall(Col(p, row, "jacobian_sv", 0, &sv));
      PetscCall(PetscPrintf(comm, "  heavy ball: radius %.6f (closed form %.6f), largest singular value %.6f\n",
                            (double) v, (double) rad, (double) sv));
      CHECK_REL("heavy-ball spectral radius", v, rad, 1e-8);
      PetscCheck(sv >= rad, PETSC_COMM_SELF, PETSC_ERR_PLIB, "sigma_max %g < radius %g", (double) sv, (double) rad);
    }
    PetscCall(PetscFree(row));
    PetscCall(SAProbeDestroy(&p));
    PetscCall(SAOptimizerDestroy(&opt));
  }
  PetscCall(VecDestroy(&theta));
  PetscCall(SATaskDestroy(&task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* SLQ: Gauss quadrature with m nodes is exact for degree <= 2m - 1, so for each vector q the quadrature moments
   sum_k tau_k theta_k^p equal q^T H^p q / q^T q, computed here by repeated HVPs (p <= 5 < 2m): agreement to
   roundoff, 1e-10 relative. The broadened density integrates to 1 and has mean sum tau theta / nv and second
   moment + sigma^2: checked by the trapezoid rule on a grid covering the nodes +- 10 sigma (h = sigma / 20,
   error O(h^2) << 1e-6 for a Gaussian). */
static PetscErrorCode CheckSLQ(void)
{
  MPI_Comm       comm = PETSC_COMM_WORLD;
  const PetscInt nv = 3, m = 8, P = 5;
  SATask         task;
  Vec            theta, q, w1, w2;
  Mat            H;
  SABatch        b = SA_BATCH(0);
  SAStream       s;
  PetscReal      nodes[3 * 8], weights[3 * 8], sigma = 0.02, gmin = -0.5, gmax = 2.5, mom[3] = {0, 0, 0};
  PetscInt       G;
  PetscReal     *grid, *phi, I0 = 0, I1 = 0, I2 = 0;

  PetscFunctionBeginUser;
  PetscCall(CreateQuadratic(comm, "40", "0.05", "2.0", &task));
  PetscCall(SATaskCreateParameters(task, &theta));
  PetscCall(SATaskInitialGuess(task, theta));
  PetscCall(SAProbeCreateHessian(task, theta, &b, &H));
  PetscCall(SAStreamCreate(SEED_CAMPAIGN, SEED_MEMBER, SA_STREAM_PROBE, &s));
  PetscCall(SAProbeLanczosQuadrature(H, nv, m, &s, 100, nodes, weights));
  PetscCall(VecDuplicate(theta, &q));
  PetscCall(VecDuplicate(theta, &w1));
  PetscCall(VecDuplicate(theta, &w2));
  for (PetscInt j = 0; j < nv; j++) {
    PetscReal qq, wsum = 0;

    PetscCall(SAProbeRademacher(&s, 100 + j, q));
    PetscCall(VecDot(q, q, &qq));
    PetscCall(VecCopy(q, w1));
    for (PetscInt pp = 0; pp <= P; pp++) { /* w1 = H^pp q */
      PetscScalar d;
      PetscReal   quad = 0, scale = 0;

      PetscCall(VecDot(w1, q, &d));
      for (PetscInt i = 0; i < m; i++) {
        quad += weights[j * m + i] * PetscPowReal(nodes[j * m + i], (PetscReal) pp);
        scale += weights[j * m + i] * PetscPowReal(PetscAbsReal(nodes[j * m + i]), (PetscReal) pp);
      }
      PetscCheck(PetscAbsReal(quad - PetscRealPart(d) / qq) <= 1e-10 * scale, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "vector %" PetscInt_FMT " moment %" PetscInt_FMT ": quadrature %.15g, exact %.15g", j, pp,
                 (double) quad, (double) (PetscRealPart(d) / qq));
      PetscCall(MatMult(H, w1, w2));
      PetscCall(VecCopy(w2, w1));
    }
    for (PetscInt i = 0; i < m; i++) {
      wsum += weights[j * m + i];
      mom[1] += weights[j * m + i] * nodes[j * m + i] / nv;
      mom[2] += weights[j * m + i] * nodes[j * m + i] * nodes[j * m + i] / nv;
    }
    CHECK_REL("quadrature weights sum", wsum, 1.0, 1e-12);
  }
  G = (PetscInt) ((gmax - gmin) / (sigma / 20)) + 1;
  PetscCall(PetscMalloc2(G, &grid, G, &phi));
  for (PetscInt g = 0; g < G; g++) grid[g] = gmin + (gmax - gmin) * g / (G - 1);
  PetscCall(SAProbeDensity(nv * m, nodes, weights, nv, sigma, G, grid, phi));
  for (PetscInt g = 0; g < G; g++) {
    PetscReal wt = (g == 0 || g == G - 1 ? 0.5 : 1.0) * (gmax - gmin) / (G - 1);

    I0 += wt * phi[g];
    I1 += wt * phi[g] * grid[g];
    I2 += wt * phi[g] * grid[g] * grid[g];
  }
  PetscCall(PetscPrintf(comm, "  SLQ density: integral %.10f, mean %.10f (%.10f), second moment %.10f (%.10f)\n",
                        (double) I0, (double) I1, (double) mom[1], (double) I2, (double) (mom[2] + sigma * sigma)));
  CHECK_REL("density integral", I0, 1.0, 1e-6);
  CHECK_REL("density mean", I1, mom[1], 1e-6);
  CHECK_REL("density second moment", I2, mom[2] + sigma * sigma, 1e-6);
  PetscCall(PetscFree2(grid, phi));
  PetscCall(VecDestroy(&q));
  PetscCall(VecDestroy(&w1));
  PetscCall(VecDestroy(&w2));
  PetscCall(MatDestroy(&H));
  PetscCall(VecDestroy(&theta));
  PetscCall(SATaskDestroy(&task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Adam's preconditioned sharpness: lambda_max(P^-1 H), P = diag(sqrt(v_hat) + eps) / lr, with v_hat formed here from
   the optimizer's v and the frozen-batch gradient (v' = b2 v + (1 - b2) (g + wd theta)^2, v_hat = v' / (1 - b2^(t+1)))
   and the dense D A D (A assembled from HVPs, D = P^-1/2) solved with LAPACK dsyev: the probe's sharpness at 1e-8
   (EPS tolerance 1e-12) and its ratio lambda (1 - beta1) / (2 + 2 beta1) */
static PetscErrorCode CheckAdamSharpness(void)
{
  MPI_Comm           comm = PETSC_COMM_WORLD;
  const char *const  kv[] = {"-optimizer_type",
                             "adam",
                             "-optimizer_lr",
                             "0.05",
                             "-optimizer_weight_decay",
                             "0.01",
                             "-optimizer_adam_eps",
                             "1e-3",
                             NULL};
  const PetscInt     t    = 3;
  SATask             task;
  SAOptimizer        opt;
  Vec                theta, g, d, *st;
  Mat                H, D, Dall, *sub;
  SABatch            b = SA_BATCH(t);
  SAHyper            h;
  SAProbe            p;
  IS                 rows;
  PetscInt           N, ns, rowlen;
  const char *const *names;
  PetscReal          loss, *row, *a, *w, *work, *dd, sharp, ratio, bc2;
  const PetscScalar *da;
  PetscBLASInt       bn, lwork, info;

  PetscFunctionBeginUser;
  b.probe       = 256;
  b.noise_scale = 0.0;
  PetscCall(CreateQuadratic(comm, "30", "0.05", "2.0", &task));
  PetscCall(SATestCreateOptimizer(comm, kv, &opt));
  PetscCall(SATaskCreateParameters(task, &theta));
  PetscCall(Train(task, opt, theta, t));
  PetscCall(CreateProbe(comm, "sharpness", 1, 1e-12, &p));
  PetscCall(SAProbeSetBatch(p, 256));
  PetscCall(SAProbeGetColumns(p, NULL, NULL, &rowlen));
  PetscCall(PetscMalloc1(rowlen, &row));
  PetscCall(SAProbeCompute(p, task, opt, theta, t, NULL, row));
  PetscCall(Col(p, row, "sharpness", 0, &sharp));
  PetscCall(Col(p, row, "sharpness_ratio", 0, &ratio));
  /* D from the formula, gathered */
  PetscCall(SAOptimizerGetHyper(opt, t, &h));
  PetscCall(SAOptimizerGetState(opt, &ns, &st, &names));
  PetscCall(VecDuplicate(theta, &g));
  PetscCall(VecDuplicate(theta, &d));
  PetscCall(SATaskLossGradient(task, theta, &b, &loss, g));
  PetscCall(VecAXPY(g, h.weight_decay, theta)); /* adam: L2 decay inside the moments */
  PetscCall(VecPointwiseMult(d, g, g));
  PetscCall(VecAXPBY(d, h.beta2, 1.0 - h.beta2, st[1]));
  bc2 = 1.0 - PetscPowReal(h.beta2, (PetscReal) (t + 1));
  PetscCall(VecScale(d, 1.0 / bc2));
  PetscCall(VecSqrtAbs(d));
  PetscCall(VecShift(d, h.eps));
  PetscCall(VecReciprocal(d));
  PetscCall(VecScale(d, h.lr));
  PetscCall(VecSqrtAbs(d));
  PetscCall(SATestGatherAll(d, &dd));
  /* dense A */
  PetscCall(SAProbeCreateHessian(task, theta, &b, &H));
  PetscCall(MatComputeOperator(H, MATDENSE, &D));
  PetscCall(MatGetSize(D, &N, NULL));
  PetscCall(ISCreateStride(PETSC_COMM_SELF, N, 0, 1, &rows));
  PetscCall(MatCreateSubMatrices(D, 1, &rows, &rows, MAT_INITIAL_MATRIX, &sub));
  PetscCall(MatConvert(sub[0], MATSEQDENSE, MAT_INITIAL_MATRIX, &Dall));
  PetscCall(MatDestroySubMatrices(1, &sub));
  PetscCall(ISDestroy(&rows));
  PetscCall(PetscMalloc3(N * N, &a, N, &w, 4 * N, &work));
  PetscCall(MatDenseGetArrayRead(Dall, &da));
  for (PetscInt i = 0; i < N; i++)
    for (PetscInt j = 0; j < N; j++) a[i + j * N] = dd[i] * 0.5 * PetscRealPart(da[i + j * N] + da[j + i * N]) * dd[j];
  PetscCall(MatDenseRestoreArrayRead(Dall, &da));
  PetscCall(PetscBLASIntCast(N, &bn));
  lwork = 4 * bn;
  PetscCallBLAS("LAPACKsyev", LAPACKsyev_("N", "U", &bn, a, &bn, w, work, &lwork, &info));
  PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "dsyev failed: %d", (int) info);
  PetscCall(PetscPrintf(comm, "  adam: lambda_max(P^-1 H) %.12f (dense %.12f), ratio %.6f\n", (double) sharp,
                        (double) w[N - 1], (double) ratio));
  CHECK_REL("preconditioned sharpness", sharp, w[N - 1], 1e-8);
  CHECK_REL("adam sharpness ratio", ratio, w[N - 1] * (1 - h.beta1) / (2 + 2 * h.beta1), 1e-8);
  PetscCall(PetscFree3(a, w, work));
  PetscCall(PetscFree(dd));
  PetscCall(PetscFree(row));
  PetscCall(MatDestroy(&Dall));
  PetscCall(MatDestroy(&D));
  PetscCall(MatDestroy(&H));
  PetscCall(VecDestroy(&g));
  PetscCall(VecDestroy(&d));
  PetscCall(SAProbeDestroy(&p));
  PetscCall(VecDestroy(&theta));
  PetscCall(SAOptimizerDestroy(&opt));
  PetscCall(SATaskDestroy(&task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ----------------------------------------------------------------------------------------------- */
/* MLP: dense Hessian with LAPACK, and 1 vs 2 ranks                                                 */
/* ----------------------------------------------------------------------------------------------- */

static const char *const MLPOpts[] = {"-task_type",
                                      "classify",
                                      "-task_classify_dataset",
                                      "digits",
                                      "-task_classify_batch",
                                      "32",
                                      "-model_hidden",
                                      "5",
                                      "-model_activation",
                                      "tanh",
                                      "-model_dropout",
                                      "0.1",
                                      NULL};

static PetscErrorCode CreateMLP(MPI_Comm comm, SATask *task, Vec *theta)
{
  PetscFunctionBeginUser;
  PetscCall(SATestSetOptions(MLPOpts));
  PetscCall(SATaskCreate(comm, task));
  PetscCall(SATaskSetFromOptions(*task));
  PetscCall(SATaskSetSeeds(*task, SEED_CAMPAIGN, SEED_MEMBER));
  PetscCall(SATaskSetUp(*task));
  PetscCall(SATestClearOptions(MLPOpts));
  PetscCall(SATaskCreateParameters(*task, theta));
  PetscCall(SATaskInitialGuess(*task, *theta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the probe's top-k and bottom-k Hessian eigenvalues on a frozen probe batch (with dropout: masks frozen) equal
   those of the dense Hessian assembled column by column from HVPs (MatComputeOperator) and solved with LAPACK
   dsyev. The assembled matrix must be symmetric to roundoff (1e-10 relative: it is if the batch and the masks
   are frozen). Eigenvalues: EPS tolerance 1e-13 gives |error| <= |r| ~ 1e-13 |lambda_max|; dsyev is backward
   stable (O(n eps |H|) ~ 1e-13 for n ~ 400): compared at 1e-8 relative to |lambda_max|. */
static PetscErrorCode CheckMLPDense(void)
{
  MPI_Comm           comm = PETSC_COMM_WORLD;
  const PetscInt     k    = 3;
  SATask             task;
  Vec                theta;
  Mat                H, D, Dall, *sub;
  SABatch            b = SA_BATCH(0);
  SAProbe            p;
  IS                 rows;
  PetscInt           N, rowlen;
  PetscReal         *row, *a, *w, *work, asym = 0, hmax = 0, v;
  const PetscScalar *da;
  PetscBLASInt       bn, lwork, info;

  PetscFunctionBeginUser;
  PetscCall(CreateMLP(comm, &task, &theta));
  PetscCall(CreateProbe(comm, "hessian", k, 1e-13, &p));
  PetscCall(SAProbeSetBatch(p, 64));
  PetscCall(SAProbeGetColumns(p, NULL, NULL, &rowlen));
  PetscCall(PetscMalloc1(rowlen, &row));
  PetscCall(SAProbeCompute(p, task, NULL, theta, 0, NULL, row));
  b.probe       = 64; /* the probe's own batch */
  b.noise_scale = 0.0;
  PetscCall(SAProbeCreateHessian(task, theta, &b, &H));
  PetscCall(MatComputeOperator(H, MATDENSE, &D));
  PetscCall(MatGetSize(D, &N, NULL));
  PetscCall(ISCreateStride(PETSC_COMM_SELF, N, 0, 1, &rows));
  PetscCall(MatCreateSubMatrices(D, 1, &rows, &rows, MAT_INITIAL_MATRIX, &sub));
  PetscCall(MatConvert(sub[0], MATSEQDENSE, MAT_INITIAL_MATRIX, &Dall));
  PetscCall(MatDestroySubMatrices(1, &sub));
  PetscCall(ISDestroy(&rows));
  PetscCall(PetscMalloc3(N * N, &a, N, &w, 4 * N, &work));
  PetscCall(MatDenseGetArrayRead(Dall, &da));
  for (PetscInt i = 0; i < N * N; i++) hmax = PetscMax(hmax, PetscAbsReal(PetscRealPart(da[i])));
  for (PetscInt i = 0; i < N; i++)
    for (PetscInt j = 0; j < N; j++) {
      asym         = PetscMax(asym, PetscAbsReal(PetscRealPart(da[i + j * N] - da[j + i * N])));
      a[i + j * N] = 0.5 * PetscRealPart(da[i + j * N] + da[j + i * N]);
    }
  PetscCall(MatDenseRestoreArrayRead(Dall, &da));
  PetscCheck(asym <= 1e-10 * hmax, PETSC_COMM_SELF, PETSC_ERR_PLIB, "assembled Hessian asymmetric: %g of %g",
             (double) asym, (double) hmax);
  PetscCall(PetscBLASIntCast(N, &bn));
  lwork = 4 * bn;
  PetscCallBLAS("LAPACKsyev", LAPACKsyev_("N", "U", &bn, a, &bn, w, work, &lwork, &info));
  PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "dsyev failed: %d", (int) info);
  {
    PetscReal top, bot;

    PetscCall(Col(p, row, "hessian_eig", 0, &top));
    PetscCall(Col(p, row, "hessian_eig_min", 0, &bot));
    PetscCall(PetscPrintf(comm,
                          "  MLP (%" PetscInt_FMT " parameters): lambda_max %.12f (LAPACK %.12f), lambda_min %.12f "
                          "(LAPACK %.12f)\n",
                          N, (double) top, (double) w[N - 1], (double) bot, (double) w[0]));
  }
  for (PetscInt i = 0; i < k; i++) {
    PetscCall(Col(p, row, "hessian_eig", i, &v));
    PetscCheck(PetscAbsReal(v - w[N - 1 - i]) <= 1e-8 * PetscAbsReal(w[N - 1]), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "top %" PetscInt_FMT ": %.15g vs LAPACK %.15g", i, (double) v, (double) w[N - 1 - i]);
    PetscCall(Col(p, row, "hessian_eig_min", i, &v));
    PetscCheck(PetscAbsReal(v - w[i]) <= 1e-8 * PetscAbsReal(w[N - 1]), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "bottom %" PetscInt_FMT ": %.15g vs LAPACK %.15g", i, (double) v, (double) w[i]);
  }
  PetscCall(PetscFree3(a, w, work));
  PetscCall(PetscFree(row));
  PetscCall(MatDestroy(&Dall));
  PetscCall(MatDestroy(&D));
  PetscCall(MatDestroy(&H));
  PetscCall(SAProbeDestroy(&p));
  PetscCall(VecDestroy(&theta));
  PetscCall(SATaskDestroy(&task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* numerical failure is data: a probe of an MLP whose parameters are not finite leaves its row at the fill value */
static PetscErrorCode CheckNonFinite(void)
{
  SATask     task;
  Vec        theta;
  SAProbe    p;
  PetscInt   rowlen;
  PetscReal *row, v;

  PetscFunctionBeginUser;
  PetscCall(CreateMLP(PETSC_COMM_WORLD, &task, &theta));
  PetscCall(VecSet(theta, PETSC_INFINITY));
  PetscCall(CreateProbe(PETSC_COMM_WORLD, "hessian,trace,density", 2, 1e-8, &p));
  PetscCall(SAProbeGetColumns(p, NULL, NULL, &rowlen));
  PetscCall(PetscMalloc1(rowlen, &row));
  PetscCall(SAProbeCompute(p, task, NULL, theta, 5, NULL, row));
  PetscCall(Col(p, row, "probe_step", 0, &v));
  PetscCheck(v == 5, PETSC_COMM_SELF, PETSC_ERR_PLIB, "probe_step %g", (double) v);
  for (PetscInt i = 1; i < rowlen; i++)
    PetscCheck(row[i] == NC_FILL_DOUBLE, PETSC_COMM_SELF, PETSC_ERR_PLIB, "entry %" PetscInt_FMT " is %g, not fill", i,
               (double) row[i]);
  PetscCall(PetscFree(row));
  PetscCall(SAProbeDestroy(&p));
  PetscCall(VecDestroy(&theta));
  PetscCall(SATaskDestroy(&task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* one probe row of every kind for the MLP after two momentum steps, on comm */
static PetscErrorCode MLPProbeRow(MPI_Comm comm, SAProbe *pout, PetscReal **row)
{
  const char *const kv[] = {"-optimizer_type", "momentum", "-optimizer_lr", "0.1", "-optimizer_momentum", "0.9", NULL};
  SATask            task;
  SAOptimizer       opt;
  Vec               theta;
  SAProbe           p;
  PetscInt          rowlen;

  PetscFunctionBeginUser;
  PetscCall(CreateMLP(comm, &task, &theta));
  PetscCall(SATestCreateOptimizer(comm, kv, &opt));
  PetscCall(Train(task, opt, theta, 2));
  PetscCall(CreateProbe(comm, "hessian,sharpness,trace,density,jacobian", 3, 1e-13, &p));
  PetscCall(SAProbeSetBatch(p, 64));
  PetscCall(SAProbeSetDensity(p, 2, 20, 51, -1.0, 4.0, 0.1));
  PetscCall(SAProbeGetColumns(p, NULL, NULL, &rowlen));
  PetscCall(PetscMalloc1(rowlen, row));
  PetscCall(SAProbeCompute(p, task, opt, theta, 2, NULL, *row));
  *pout = p;
  PetscCall(VecDestroy(&theta));
  PetscCall(SAOptimizerDestroy(&opt));
  PetscCall(SATaskDestroy(&task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static int CmpReal(const void *a, const void *b)
{
  PetscReal x = *(const PetscReal *) a, y = *(const PetscReal *) b;
  return x < y ? -1 : (x > y ? 1 : 0);
}

/* the same probe on the whole communicator (1 or 2 ranks) and on one rank agrees to 1e-10 relative to each
   column's scale: the random vectors are layout independent, so only reduction order differs (~1e-15) and the
   solves converge to 1e-13. Counts and residual norms (roundoff-level numbers) are not compared; Jacobian
   eigenvalues are compared as sorted real parts and |imaginary parts| (conjugate pairs may come in either
   order). */
static PetscErrorCode CheckLayout(void)
{
  SAProbe              p1, p2;
  PetscReal           *r1, *r2;
  PetscInt             nc;
  const SAProbeColumn *c;
  PetscMPIInt          size;

  PetscFunctionBeginUser;
  PetscCall(MLPProbeRow(PETSC_COMM_WORLD, &p1, &r1));
  PetscCall(MLPProbeRow(PETSC_COMM_SELF, &p2, &r2));
  PetscCall(SAProbeGetColumns(p1, &nc, &c, NULL));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  for (PetscInt j = 0; j < nc; j++) {
    PetscReal scale = 0, err = 0, *x = r1 + c[j].offset, *y = r2 + c[j].offset;

    if (strstr(c[j].name, "residual") || strstr(c[j].name, "hvps") || strstr(c[j].name, "iterations")) continue;
    if (strstr(c[j].name, "jacobian_eig")) {
      for (PetscInt i = 0; i < c[j].len; i++) x[i] = PetscAbsReal(x[i]), y[i] = PetscAbsReal(y[i]);
      qsort(x, (size_t) c[j].len, sizeof(PetscReal), CmpReal);
      qsort(y, (size_t) c[j].len, sizeof(PetscReal), CmpReal);
    }
    for (PetscInt i = 0; i < c[j].len; i++) {
      PetscCheck(x[i] != NC_FILL_DOUBLE && y[i] != NC_FILL_DOUBLE, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "%s[%" PetscInt_FMT "] not measured", c[j].name, i);
      scale = PetscMax(scale, PetscAbsReal(y[i]));
      err   = PetscMax(err, PetscAbsReal(x[i] - y[i]));
    }
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  %-22s %d vs 1 rank: max difference %.2e of %.2e\n", c[j].name,
                          (int) size, (double) err, (double) scale));
    PetscCheck(err <= 1e-10 * scale, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: %d ranks vs 1 differ by %g of %g", c[j].name,
               (int) size, (double) err, (double) scale);
  }
  PetscCall(PetscFree(r1));
  PetscCall(PetscFree(r2));
  PetscCall(SAProbeDestroy(&p1));
  PetscCall(SAProbeDestroy(&p2));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ----------------------------------------------------------------------------------------------- */
/* deck keys                                                                                        */
/* ----------------------------------------------------------------------------------------------- */

/* SAProbeSetFromOptions on kv must fail with PETSC_ERR_USER_INPUT and a message naming key */
static PetscErrorCode CheckBadKey(const char *const kv[], const char key[])
{
  SAProbe        p = NULL;
  PetscErrorCode ierr;
  const char    *msg;

  PetscFunctionBeginUser;
  PetscCall(SATestSetOptions(kv));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SAProbeCreate(PETSC_COMM_WORLD, &p);
  if (!ierr) ierr = SAProbeSetFromOptions(p);
  PetscCall(PetscPopErrorHandler());
  PetscCall(SATestClearOptions(kv));
  PetscCall(SAProbeDestroy(&p));
  PetscCheck(ierr == PETSC_ERR_USER_INPUT, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "bad key %s: expected a user-input error, got %d", key, (int) ierr);
  PetscCall(SADeckError(ierr, &msg));
  PetscCheck(strstr(msg, key), PETSC_COMM_SELF, PETSC_ERR_PLIB, "bad key %s: message '%s' does not name it", key, msg);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckDeck(void)
{
  const char *const kind[]  = {"-probe_kinds", "hessian,curvature", NULL};
  const char *const nev[]   = {"-probe_nev", "0", NULL};
  const char *const batch[] = {"-probe_batch", "0", NULL};
  const char *const grid[]  = {"-probe_density_min", "3", "-probe_density_max", "1", NULL};
  const char *const good[]  = {"-probe_kinds", "hessian,jacobian", "-probe_every", "10", "-probe_nev", "2", NULL};
  SAProbe           p;
  PetscBool         on;
  PetscInt          n;

  PetscFunctionBeginUser;
  PetscCall(CheckBadKey(kind, "probe_kinds"));
  PetscCall(CheckBadKey(nev, "probe_nev"));
  PetscCall(CheckBadKey(batch, "probe_batch"));
  PetscCall(CheckBadKey(grid, "probe_density_max"));
  PetscCall(SATestSetOptions(good));
  PetscCall(SAProbeCreate(PETSC_COMM_WORLD, &p));
  PetscCall(SAProbeSetFromOptions(p));
  PetscCall(SATestClearOptions(good));
  PetscCall(SAProbeGetKind(p, SA_PROBE_JACOBIAN, &on));
  PetscCheck(on, PETSC_COMM_SELF, PETSC_ERR_PLIB, "jacobian not on");
  PetscCall(SAProbeGetKind(p, SA_PROBE_TRACE, &on));
  PetscCheck(!on, PETSC_COMM_SELF, PETSC_ERR_PLIB, "trace on");
  PetscCall(SAProbeNumScheduled(p, 100, 35, &n)); /* 0, 10, ..., 100 and the onset 35 */
  PetscCheck(n == 12, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%" PetscInt_FMT " probes scheduled, expected 12", n);
  PetscCall(SAProbeNumScheduled(p, 100, 40, &n)); /* onset on the period */
  PetscCheck(n == 11, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%" PetscInt_FMT " probes scheduled, expected 11", n);
  PetscCall(SAProbeDestroy(&p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void test_step_derivatives(void) { CU_ASSERT_EQUAL(CheckAllStepDerivatives(), PETSC_SUCCESS); }
static void test_jacobian_gd(void) { CU_ASSERT_EQUAL(CheckJacobianSpectrum(PETSC_FALSE), PETSC_SUCCESS); }
static void test_jacobian_heavy_ball(void) { CU_ASSERT_EQUAL(CheckJacobianSpectrum(PETSC_TRUE), PETSC_SUCCESS); }
static void test_hessian_quadratic(void) { CU_ASSERT_EQUAL(CheckHessianQuadratic(), PETSC_SUCCESS); }
static void test_sharpness_trace_jacobian(void) { CU_ASSERT_EQUAL(CheckSharpnessTraceJacobian(), PETSC_SUCCESS); }
static void test_slq(void) { CU_ASSERT_EQUAL(CheckSLQ(), PETSC_SUCCESS); }
static void test_adam_sharpness(void) { CU_ASSERT_EQUAL(CheckAdamSharpness(), PETSC_SUCCESS); }
static void test_mlp_dense(void) { CU_ASSERT_EQUAL(CheckMLPDense(), PETSC_SUCCESS); }
static void test_nonfinite(void) { CU_ASSERT_EQUAL(CheckNonFinite(), PETSC_SUCCESS); }
static void test_layout(void) { CU_ASSERT_EQUAL(CheckLayout(), PETSC_SUCCESS); }
static void test_deck(void) { CU_ASSERT_EQUAL(CheckDeck(), PETSC_SUCCESS); }

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
  CU_add_test(s, "Hessian top/bottom-k = constructed spectrum; warm start saves HVPs", test_hessian_quadratic);
  CU_add_test(s, "sharpness ratio, Hutchinson trace, Jacobian radius and singular values",
              test_sharpness_trace_jacobian);
  CU_add_test(s, "SLQ quadrature moments exact, density moments", test_slq);
  CU_add_test(s, "adam preconditioned sharpness = LAPACK on dense D H D", test_adam_sharpness);
  CU_add_test(s, "MLP Hessian top/bottom-k = LAPACK on the dense Hessian from HVPs", test_mlp_dense);
  CU_add_test(s, "a non-finite Hessian leaves the row at the fill value", test_nonfinite);
  CU_add_test(s, "every probe on the group = the same probe on one rank", test_layout);
  CU_add_test(s, "deck keys: errors name the key; schedule", test_deck);
  PetscCall(SATestRunSuite(PETSC_COMM_WORLD, &nfail_all));
  PetscCall(SAFinalize());
  PetscCall(SlepcFinalize());
  return nfail_all ? EXIT_FAILURE : EXIT_SUCCESS;
}
