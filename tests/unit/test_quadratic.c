/*
  test_quadratic.c - unit tests of the quadratic workload (solvers/task/impls/quadratic), the optimizers
  (solvers/optimizer), the perturbation envelope and hooks (perturb/) and the step loop (solvers/solver).

  loss(theta) = 1/2 (theta - theta*)^T A (theta - theta*), A = Q diag(lambda) Q^T, is exactly quadratic, so
  every derivative check has a known error budget:
    - central differences of a quadratic have no truncation error (f''' = 0, so the O(h^2) term vanishes);
      what is left is roundoff, about eps |L| / h for the loss and eps lambda_max |theta - theta*| / h for
      the gradient (eps = 2.2e-16, h = 1e-6): about 1e-9 relative, so a 1e-7 tolerance leaves a factor
      of 100 for the constants of the summations;
    - identities that hold in exact arithmetic (g(theta + v) - g(theta) = A v, symmetry, the exact Taylor
      expansion, the spectrum of the assembled matrix) are checked at 1e-12 relative to the scale of the
      quantities (about 4500 eps: the O(k n eps) bound of k Householder reflectors and length-n dot
      products for the sizes used here, n <= 300 and k = 4);
    - statistical checks use 6 standard errors, as in test_stream.c.
  Objects are created on PETSC_COMM_WORLD so theta is sharded over the ranks; all pass/fail decisions are
  taken on globally reduced values, so every rank takes the same branch. Checks raise on PETSC_COMM_SELF:
  PETSc's traceback handler makes every rank but 0 sleep 10 s and exit(0) on an error raised on a
  parallel communicator, which would kill the other ranks instead of letting CUnit count the failure.
  Run on 1, 2 and 3 ranks.
*/
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "satest.h"
#include <slepcsys.h>
#include <stabaudit/satask.h>
#include <stabaudit/saoptimizer.h>
#include <stabaudit/saperturb.h>
#include <stabaudit/sasolver.h>
#include <stabaudit/sastream.h>

#define SEED_CAMPAIGN 20240601
#define SEED_MEMBER   7
#define EPS           PETSC_MACHINE_EPSILON
#define H_FD          1e-6  /* finite-difference step, relative to the coordinate scale */
#define RTOL_FD       1e-7  /* central differences: roundoff ~ eps L / h ~ 1e-9, factor 100 margin */
#define RTOL_EXACT    1e-12 /* identities exact in real arithmetic: O(k n eps) roundoff, see above */
#define N_SIGMA       6.0   /* statistical bounds in standard errors */

/* ----------------------------------------------------------------------------------------------- */
/* helpers                                                                                          */
/* ----------------------------------------------------------------------------------------------- */

/* Sets NULL-terminated {name, value} pairs in the options database */
/* A quadratic task configured from the options kv (task_type is added here), seeded and set up */
static PetscErrorCode CreateQuadratic(MPI_Comm comm, const char *const kv[], PetscInt64 member, SATask *task)
{
  PetscFunctionBeginUser;
  PetscCall(PetscOptionsSetValue(NULL, "-task_type", "quadratic"));
  PetscCall(SATestSetOptions(kv));
  PetscCall(SATaskCreate(comm, task));
  PetscCall(SATaskSetFromOptions(*task));
  PetscCall(SATaskSetSeeds(*task, SEED_CAMPAIGN, member));
  PetscCall(SATaskSetUp(*task));
  PetscCall(SATestClearOptions(kv));
  PetscCall(PetscOptionsClearValue(NULL, "-task_type"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* e <- unit vector of global index i */
static PetscErrorCode UnitVec(Vec e, PetscInt i)
{
  PetscInt rs, re;

  PetscFunctionBeginUser;
  PetscCall(VecSet(e, 0.0));
  PetscCall(VecGetOwnershipRange(e, &rs, &re));
  if (i >= rs && i < re) PetscCall(VecSetValue(e, i, 1.0, INSERT_VALUES));
  PetscCall(VecAssemblyBegin(e));
  PetscCall(VecAssemblyEnd(e));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Loss at theta + a v (w is work) */
static PetscErrorCode LossAt(SATask task, Vec theta, PetscReal a, Vec v, Vec w, Vec gw, PetscReal *loss)
{
  SABatch b = SA_BATCH(0);

  PetscFunctionBeginUser;
  PetscCall(VecWAXPY(w, a, v, theta));
  PetscCall(SATaskLossGradient(task, w, &b, loss, gw));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ||x - y||_2 (w is work) */
static PetscErrorCode DiffNorm(Vec x, Vec y, Vec w, NormType type, PetscReal *nrm)
{
  PetscFunctionBeginUser;
  PetscCall(VecWAXPY(w, -1.0, y, x));
  PetscCall(VecNorm(w, type, nrm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Eigenvalues (ascending) of a symmetric n x n matrix a (column-major, destroyed) by the cyclic Jacobi
   method: plane rotations annihilate a_pq until the off-diagonal part is below 1e-18 of the Frobenius norm.
   Jacobi is backward stable (each rotation is orthogonal to O(eps)), so the eigenvalues are those of a
   matrix within O(n eps |a|) of a. PETSc's LAPACK symbols are not on the test's link line. */
static PetscErrorCode JacobiEigenvalues(PetscInt n, PetscReal a[], PetscReal mu[])
{
  PetscReal fro = 0;

  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < n * n; i++) fro += a[i] * a[i];
  fro = PetscSqrtReal(fro);
  for (PetscInt sweep = 0;; sweep++) {
    PetscReal off = 0;

    for (PetscInt p = 0; p < n; p++)
      for (PetscInt q = p + 1; q < n; q++) off += 2 * a[p + q * n] * a[p + q * n];
    if (PetscSqrtReal(off) <= 1e-18 * fro) break;
    PetscCheck(sweep < 50, PETSC_COMM_SELF, PETSC_ERR_CONV_FAILED, "Jacobi did not converge");
    for (PetscInt p = 0; p < n; p++)
      for (PetscInt q = p + 1; q < n; q++) {
        PetscReal apq = a[p + q * n], th, t, c, s;

        if (apq == 0) continue;
        th = (a[q + q * n] - a[p + p * n]) / (2 * apq);
        t  = (th >= 0 ? 1.0 : -1.0) / (PetscAbsReal(th) + PetscSqrtReal(th * th + 1));
        c  = 1 / PetscSqrtReal(t * t + 1);
        s  = t * c;
        for (PetscInt k = 0; k < n; k++) { /* columns p, q: A <- A J */
          PetscReal akp = a[k + p * n], akq = a[k + q * n];

          a[k + p * n] = c * akp - s * akq;
          a[k + q * n] = s * akp + c * akq;
        }
        for (PetscInt k = 0; k < n; k++) { /* rows p, q: A <- J^T A */
          PetscReal apk = a[p + k * n], aqk = a[q + k * n];

          a[p + k * n] = c * apk - s * aqk;
          a[q + k * n] = s * apk + c * aqk;
        }
      }
  }
  for (PetscInt i = 0; i < n; i++) mu[i] = a[i + i * n];
  PetscCall(PetscSortReal(n, mu));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* log-spaced eigenvalues of the method card: lmin (lmax/lmin)^(i/(n-1)), ends exact */
static PetscReal LogSpaced(PetscInt i, PetscInt n, PetscReal lmin, PetscReal lmax)
{
  if (i == n - 1) return lmax;
  if (i == 0) return lmin;
  return lmin * PetscPowReal(lmax / lmin, (PetscReal) i / (PetscReal) (n - 1));
}

static const char *const QuadOpts[] = {"-task_quadratic_dim",
                                       "100",
                                       "-task_quadratic_lambda_min",
                                       "0.05",
                                       "-task_quadratic_lambda_max",
                                       "4",
                                       "-task_noise",
                                       "0",
                                       NULL};

/* ----------------------------------------------------------------------------------------------- */
/* 1. gradient against central differences of the loss                                             */
/* ----------------------------------------------------------------------------------------------- */

/* Coordinates: fd_i = (L(theta + h e_i) - L(theta - h e_i)) / 2h with h = H_FD max(1, |theta_i|), and
   directions: (L(theta + h v) - L(theta - h v)) / 2h = <g, v> for unit random v with h = H_FD max(1,
   ||theta||_inf). No truncation error (quadratic); roundoff eps |L| / h. Tolerance RTOL_FD ||g|| ||v||,
   and the test checks that the roundoff estimate 10 eps |L| / h is below a tenth of that tolerance, so
   the tolerance is tied to the theory rather than to the observed error. */
static PetscErrorCode CheckGradientFD(void)
{
  const PetscInt idx[] = {0, 1, 33, 50, 67, 98, 99};
  SATask         task;
  Vec            theta, g, e, w, gw;
  PetscReal      L, gnorm, *th, *ga, maxerr = 0;
  SABatch        b = SA_BATCH(0);
  PetscInt       n;

  PetscFunctionBeginUser;
  PetscCall(CreateQuadratic(PETSC_COMM_WORLD, QuadOpts, SEED_MEMBER, &task));
  PetscCall(SATaskCreateParameters(task, &theta));
  PetscCall(VecGetSize(theta, &n));
  PetscCheck(n == 100, PETSC_COMM_SELF, PETSC_ERR_PLIB, "dim option not read: n = %" PetscInt_FMT, n);
  PetscCall(SATaskInitialGuess(task, theta));
  PetscCall(VecDuplicate(theta, &g));
  PetscCall(VecDuplicate(theta, &e));
  PetscCall(VecDuplicate(theta, &w));
  PetscCall(VecDuplicate(theta, &gw));
  PetscCall(SATaskLossGradient(task, theta, &b, &L, g));
  PetscCall(VecNorm(g, NORM_2, &gnorm));
  PetscCheck(L > 0 && gnorm > 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "degenerate start: L %g |g| %g", (double) L,
             (double) gnorm);
  PetscCall(SATestGatherAll(theta, &th));
  PetscCall(SATestGatherAll(g, &ga));
  for (size_t k = 0; k < sizeof(idx) / sizeof(idx[0]); k++) {
    PetscInt  i = idx[k];
    PetscReal h = H_FD * PetscMax(1.0, PetscAbsReal(th[i])), Lp, Lm, fd, tol = RTOL_FD * gnorm;

    PetscCheck(10 * EPS * L / h <= 0.1 * tol, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "roundoff estimate %g exceeds a tenth of the tolerance %g", 10 * EPS * L / h, tol);
    PetscCall(UnitVec(e, i));
    PetscCall(LossAt(task, theta, h, e, w, gw, &Lp));
    PetscCall(LossAt(task, theta, -h, e, w, gw, &Lm));
    fd     = (Lp - Lm) / (2 * h);
    maxerr = PetscMax(maxerr, PetscAbsReal(fd - ga[i]) / gnorm);
    PetscCheck(PetscAbsReal(fd - ga[i]) <= tol, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "coordinate %" PetscInt_FMT ": finite difference %.15g, gradient %.15g (tolerance %g)", i, (double) fd,
               (double) ga[i], (double) tol);
  }
  for (PetscInt j = 0; j < 4; j++) {
    PetscReal   thinf, h, Lp, Lm, fd, tol = RTOL_FD * gnorm;
    PetscScalar gv;

    PetscCall(SATestRandomVec(SEED_CAMPAIGN, SEED_MEMBER, 100 + j, e));
    PetscCall(VecNormalize(e, NULL));
    PetscCall(VecNorm(theta, NORM_INFINITY, &thinf));
    h = H_FD * PetscMax(1.0, thinf);
    PetscCall(LossAt(task, theta, h, e, w, gw, &Lp));
    PetscCall(LossAt(task, theta, -h, e, w, gw, &Lm));
    PetscCall(VecDot(g, e, &gv));
    fd     = (Lp - Lm) / (2 * h);
    maxerr = PetscMax(maxerr, PetscAbsReal(fd - PetscRealPart(gv)) / gnorm);
    PetscCheck(PetscAbsReal(fd - PetscRealPart(gv)) <= tol, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "direction %" PetscInt_FMT ": finite difference %.15g, <g, v> %.15g (tolerance %g)", j, (double) fd,
               (double) PetscRealPart(gv), (double) tol);
  }
  PetscCall(PetscInfo(NULL, "gradient FD: largest error / |g| = %g\n", (double) maxerr));
  PetscCall(PetscFree(th));
  PetscCall(PetscFree(ga));
  PetscCall(VecDestroy(&theta));
  PetscCall(VecDestroy(&g));
  PetscCall(VecDestroy(&e));
  PetscCall(VecDestroy(&w));
  PetscCall(VecDestroy(&gw));
  PetscCall(SATaskDestroy(&task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ----------------------------------------------------------------------------------------------- */
/* 2. Hessian-vector product                                                                        */
/* ----------------------------------------------------------------------------------------------- */

/* (a) g(theta + v) - g(theta) = A v (g is affine): RTOL_EXACT (|g(theta + v)| + |g(theta)|);
   (b) (g(theta + h v) - g(theta - h v)) / 2h = A v: roundoff eps lambda_max |theta - theta*| / h, about
       1e-9 lambda_max |v| here, tolerance RTOL_FD lambda_max |v|;
   (c) A v does not depend on theta: RTOL_EXACT |A v|;
   (d) symmetry |<u, A v> - <A u, v>| <= RTOL_EXACT lambda_max |u| |v|;
   (e) Rayleigh quotients of random vectors in [lambda_min, lambda_max] up to RTOL_EXACT lambda_max;
   (f) the exact Taylor expansion L(theta + v) = L(theta) + <g, v> + <v, A v>/2 for an O(1) v (no
       remainder: cubic terms vanish), RTOL_EXACT times the sum of the magnitudes of the terms. */
static PetscErrorCode CheckHessian(void)
{
  SATask      task;
  Vec         theta, t2, u, v, Hu, Hv, Hv2, g0, g1, gp, gm, w;
  PetscReal   lmin, lmax, L0, L1, nrm, n0, n1, nHv, nu, nv, h;
  PetscScalar d1, d2, gv, vHv;
  SABatch     b = SA_BATCH(0);

  PetscFunctionBeginUser;
  PetscCall(CreateQuadratic(PETSC_COMM_WORLD, QuadOpts, SEED_MEMBER, &task));
  PetscCall(SATaskQuadraticGetEigenvalueRange(task, &lmin, &lmax));
  PetscCheck(lmin == 0.05 && lmax == 4.0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "eigenvalue range [%g, %g] not [0.05, 4]",
             (double) lmin, (double) lmax);
  PetscCall(SATaskCreateParameters(task, &theta));
  PetscCall(SATaskInitialGuess(task, theta));
  PetscCall(VecDuplicate(theta, &t2));
  PetscCall(VecDuplicate(theta, &u));
  PetscCall(VecDuplicate(theta, &v));
  PetscCall(VecDuplicate(theta, &Hu));
  PetscCall(VecDuplicate(theta, &Hv));
  PetscCall(VecDuplicate(theta, &Hv2));
  PetscCall(VecDuplicate(theta, &g0));
  PetscCall(VecDuplicate(theta, &g1));
  PetscCall(VecDuplicate(theta, &gp));
  PetscCall(VecDuplicate(theta, &gm));
  PetscCall(VecDuplicate(theta, &w));
  PetscCall(SATestRandomVec(SEED_CAMPAIGN, SEED_MEMBER, 200, u));
  PetscCall(SATestRandomVec(SEED_CAMPAIGN, SEED_MEMBER, 201, v));
  PetscCall(SATaskHessianMult(task, theta, &b, v, Hv));
  PetscCall(SATaskHessianMult(task, theta, &b, u, Hu));
  PetscCall(VecNorm(Hv, NORM_2, &nHv));
  PetscCall(VecNorm(u, NORM_2, &nu));
  PetscCall(VecNorm(v, NORM_2, &nv));

  /* (a) */
  PetscCall(SATaskLossGradient(task, theta, &b, &L0, g0));
  PetscCall(VecWAXPY(t2, 1.0, v, theta));
  PetscCall(SATaskLossGradient(task, t2, &b, &L1, g1));
  PetscCall(VecNorm(g0, NORM_2, &n0));
  PetscCall(VecNorm(g1, NORM_2, &n1));
  PetscCall(VecAXPY(g1, -1.0, g0));
  PetscCall(DiffNorm(g1, Hv, w, NORM_2, &nrm));
  PetscCheck(nrm <= RTOL_EXACT * (n0 + n1), PETSC_COMM_SELF, PETSC_ERR_PLIB, "|g(theta+v) - g(theta) - Hv| = %g > %g",
             (double) nrm, (double) (RTOL_EXACT * (n0 + n1)));

  /* (b) */
  h = H_FD; /* v has unit-variance coordinates: the coordinate scale is 1 */
  PetscCall(VecWAXPY(t2, h, v, theta));
  PetscCall(SATaskLossGradient(task, t2, &b, &L1, gp));
  PetscCall(VecWAXPY(t2, -h, v, theta));
  PetscCall(SATaskLossGradient(task, t2, &b, &L1, gm));
  PetscCall(VecAXPY(gp, -1.0, gm));
  PetscCall(VecScale(gp, 1.0 / (2 * h)));
  PetscCall(DiffNorm(gp, Hv, w, NORM_2, &nrm));
  PetscCheck(nrm <= RTOL_FD * lmax * nv, PETSC_COMM_SELF, PETSC_ERR_PLIB, "|central difference of g - Hv| = %g > %g",
             (double) nrm, (double) (RTOL_FD * lmax * nv));

  /* (c) */
  PetscCall(VecWAXPY(t2, 3.0, u, theta));
  PetscCall(SATaskHessianMult(task, t2, &b, v, Hv2));
  PetscCall(DiffNorm(Hv2, Hv, w, NORM_2, &nrm));
  PetscCheck(nrm <= RTOL_EXACT * nHv, PETSC_COMM_SELF, PETSC_ERR_PLIB, "Hv depends on theta: difference %g",
             (double) nrm);

  /* (d) */
  PetscCall(VecDot(u, Hv, &d1));
  PetscCall(VecDot(Hu, v, &d2));
  PetscCheck(PetscAbsScalar(d1 - d2) <= RTOL_EXACT * lmax * nu * nv, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "<u, Hv> = %.17g, <Hu, v> = %.17g", (double) PetscRealPart(d1), (double) PetscRealPart(d2));

  /* (e) */
  for (PetscInt j = 0; j < 8; j++) {
    PetscScalar vv, vh;
    PetscReal   R;

    PetscCall(SATestRandomVec(SEED_CAMPAIGN, SEED_MEMBER, 300 + j, w));
    if (j >= 4) PetscCall(VecPointwiseMult(w, w, w)); /* positive vectors: another part of the sphere */
    PetscCall(SATaskHessianMult(task, theta, &b, w, Hv2));
    PetscCall(VecDot(w, w, &vv));
    PetscCall(VecDot(w, Hv2, &vh));
    R = PetscRealPart(vh) / PetscRealPart(vv);
    PetscCheck(R >= lmin - RTOL_EXACT * lmax && R <= lmax * (1 + RTOL_EXACT), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "Rayleigh quotient %g outside [%g, %g]", (double) R, (double) lmin, (double) lmax);
  }

  /* (f) */
  PetscCall(VecDot(g0, v, &gv));
  PetscCall(VecDot(v, Hv, &vHv));
  PetscCall(VecWAXPY(t2, 1.0, v, theta));
  PetscCall(SATaskLossGradient(task, t2, &b, &L1, gp));
  {
    PetscReal rhs   = L0 + PetscRealPart(gv) + 0.5 * PetscRealPart(vHv);
    PetscReal scale = L1 + L0 + PetscAbsReal(PetscRealPart(gv)) + 0.5 * PetscRealPart(vHv);

    PetscCheck(PetscAbsReal(L1 - rhs) <= RTOL_EXACT * scale, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "L(theta+v) = %.17g, Taylor %.17g", (double) L1, (double) rhs);
  }

  PetscCall(VecDestroy(&theta));
  PetscCall(VecDestroy(&t2));
  PetscCall(VecDestroy(&u));
  PetscCall(VecDestroy(&v));
  PetscCall(VecDestroy(&Hu));
  PetscCall(VecDestroy(&Hv));
  PetscCall(VecDestroy(&Hv2));
  PetscCall(VecDestroy(&g0));
  PetscCall(VecDestroy(&g1));
  PetscCall(VecDestroy(&gp));
  PetscCall(VecDestroy(&gm));
  PetscCall(VecDestroy(&w));
  PetscCall(SATaskDestroy(&task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* theta* is keyed by the campaign seed alone, so a second member with init_distance 0 starts exactly at
   theta* of the first. Checks: L(theta*) = 0 and g(theta*) = 0 exactly (theta* + 0 z is theta*, and
   theta - theta* is then exactly 0); for the first member, g(theta) = A (theta - theta*) and
   L(theta) = <theta - theta*, g(theta)> / 2 at RTOL_EXACT; and theta_0 = theta* + z, z the member's init
   stream at step 0 (two roundings: |theta_0 - theta* - z|_inf <= 4 eps (|theta*|_inf + |z|_inf)). */
static PetscErrorCode CheckMinimiser(void)
{
  const char *const optsB[] = {"-task_quadratic_dim",
                               "100",
                               "-task_quadratic_lambda_min",
                               "0.05",
                               "-task_quadratic_lambda_max",
                               "4",
                               "-task_noise",
                               "0",
                               "-task_quadratic_init_distance",
                               "0",
                               NULL};
  SATask            taskA, taskB;
  Vec               theta, star, d, g, Hd, z;
  PetscReal         L, Ls, ng, nrm, zinf, sinf;
  PetscScalar       dg;
  SABatch           b = SA_BATCH(0);
  SAStream          is;

  PetscFunctionBeginUser;
  PetscCall(CreateQuadratic(PETSC_COMM_WORLD, QuadOpts, SEED_MEMBER, &taskA));
  PetscCall(CreateQuadratic(PETSC_COMM_WORLD, optsB, SEED_MEMBER + 1, &taskB));
  PetscCall(SATaskCreateParameters(taskA, &theta));
  PetscCall(SATaskInitialGuess(taskA, theta));
  PetscCall(VecDuplicate(theta, &star));
  PetscCall(VecDuplicate(theta, &d));
  PetscCall(VecDuplicate(theta, &g));
  PetscCall(VecDuplicate(theta, &Hd));
  PetscCall(VecDuplicate(theta, &z));
  PetscCall(SATaskInitialGuess(taskB, star));

  PetscCall(SATaskLossGradient(taskA, star, &b, &Ls, g));
  PetscCall(VecNorm(g, NORM_INFINITY, &ng));
  PetscCheck(Ls == 0 && ng == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "at theta*: loss %g, |g| %g (both must be 0)",
             (double) Ls, (double) ng);

  PetscCall(SATaskLossGradient(taskA, theta, &b, &L, g));
  PetscCall(VecWAXPY(d, -1.0, star, theta));
  PetscCall(SATaskHessianMult(taskA, theta, &b, d, Hd));
  PetscCall(VecNorm(g, NORM_2, &ng));
  PetscCall(DiffNorm(g, Hd, z, NORM_2, &nrm));
  PetscCheck(nrm <= RTOL_EXACT * ng, PETSC_COMM_SELF, PETSC_ERR_PLIB, "|g - A (theta - theta*)| = %g, |g| = %g",
             (double) nrm, (double) ng);
  PetscCall(VecDot(d, g, &dg));
  PetscCheck(PetscAbsReal(L - 0.5 * PetscRealPart(dg)) <= RTOL_EXACT * L, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "L = %.17g, <d, g>/2 = %.17g", (double) L, (double) (0.5 * PetscRealPart(dg)));

  PetscCall(SAStreamCreate(SEED_CAMPAIGN, SEED_MEMBER, SA_STREAM_INIT, &is));
  PetscCall(SAStreamVecNormal(&is, 0, z));
  PetscCall(VecNorm(z, NORM_INFINITY, &zinf));
  PetscCall(VecNorm(star, NORM_INFINITY, &sinf));
  PetscCall(DiffNorm(d, z, g, NORM_INFINITY, &nrm));
  PetscCheck(nrm <= 4 * EPS * (zinf + sinf), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "theta_0 - theta* differs from the init stream draw by %g", (double) nrm);

  PetscCall(VecDestroy(&theta));
  PetscCall(VecDestroy(&star));
  PetscCall(VecDestroy(&d));
  PetscCall(VecDestroy(&g));
  PetscCall(VecDestroy(&Hd));
  PetscCall(VecDestroy(&z));
  PetscCall(SATaskDestroy(&taskA));
  PetscCall(SATaskDestroy(&taskB));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ----------------------------------------------------------------------------------------------- */
/* 3. spectrum of the assembled Hessian                                                             */
/* ----------------------------------------------------------------------------------------------- */

/* n = 12: A assembled column by column from HessianMult (A e_j), gathered on every rank, eigenvalues by
   the Jacobi method. Symmetric to RTOL_EXACT lambda_max; eigenvalues (ascending) equal the method card's values
   to |mu_i - lambda_i| <= RTOL_EXACT lambda_max (Weyl: an eigenvalue moves by at most the norm of the
   perturbation, here the O(k n eps lambda_max) roundoff of the assembled A plus the backward error of
   Jacobi). Cases: log and linear spectra with 4 reflectors (A must not be diagonal: Q is a real rotation),
   and 0 reflectors, where A = diag(lambda) exactly. */
static PetscErrorCode CheckSpectrum(void)
{
  const PetscInt  n    = 12;
  const PetscReal lmin = 0.05, lmax = 4.0;

  PetscFunctionBeginUser;
  for (PetscInt c = 0; c < 3; c++) {
    const char *const opts[] = {"-task_quadratic_dim",
                                "12",
                                "-task_quadratic_lambda_min",
                                "0.05",
                                "-task_quadratic_lambda_max",
                                "4",
                                "-task_quadratic_spectrum",
                                c == 1 ? "linear" : "log",
                                "-task_quadratic_reflectors",
                                c == 2 ? "0" : "4",
                                NULL};
    SATask            task;
    Vec               theta, e, He;
    SABatch           b = SA_BATCH(0);
    PetscReal        *A, *col, mu[12], offmax = 0, asym = 0;

    PetscCall(CreateQuadratic(PETSC_COMM_WORLD, opts, SEED_MEMBER, &task));
    PetscCall(SATaskCreateParameters(task, &theta));
    PetscCall(SATaskInitialGuess(task, theta));
    PetscCall(VecDuplicate(theta, &e));
    PetscCall(VecDuplicate(theta, &He));
    PetscCall(PetscMalloc1(n * n, &A));
    for (PetscInt j = 0; j < n; j++) {
      PetscCall(UnitVec(e, j));
      PetscCall(SATaskHessianMult(task, theta, &b, e, He));
      PetscCall(SATestGatherAll(He, &col));
      for (PetscInt i = 0; i < n; i++) A[i + j * n] = col[i];
      PetscCall(PetscFree(col));
    }
    for (PetscInt i = 0; i < n; i++)
      for (PetscInt j = 0; j < n; j++) {
        asym = PetscMax(asym, PetscAbsReal(A[i + j * n] - A[j + i * n]));
        if (i != j) offmax = PetscMax(offmax, PetscAbsReal(A[i + j * n]));
      }
    PetscCheck(asym <= RTOL_EXACT * lmax, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case %" PetscInt_FMT ": asymmetry %g", c,
               (double) asym);
    if (c == 2) {
      for (PetscInt i = 0; i < n; i++)
        PetscCheck(A[i + i * n] == LogSpaced(i, n, lmin, lmax), PETSC_COMM_SELF, PETSC_ERR_PLIB,
                   "no reflectors: A_%" PetscInt_FMT "%" PetscInt_FMT " = %.17g, not %.17g", i, i,
                   (double) A[i + i * n], (double) LogSpaced(i, n, lmin, lmax));
      PetscCheck(offmax == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "no reflectors: off-diagonal entry %g", (double) offmax);
    } else
      PetscCheck(offmax > 1e-3 * lmax, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "case %" PetscInt_FMT ": A is (nearly) diagonal, largest off-diagonal %g", c, (double) offmax);
    PetscCall(JacobiEigenvalues(n, A, mu));
    for (PetscInt i = 0; i < n; i++) {
      PetscReal ref =
        c == 1 ? (i == n - 1 ? lmax : lmin + (lmax - lmin) * i / (PetscReal) (n - 1)) : LogSpaced(i, n, lmin, lmax);

      PetscCheck(PetscAbsReal(mu[i] - ref) <= RTOL_EXACT * lmax, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "case %" PetscInt_FMT ": eigenvalue %" PetscInt_FMT " is %.17g, expected %.17g", c, i, (double) mu[i],
                 (double) ref);
    }
    PetscCall(PetscFree(A));
    PetscCall(VecDestroy(&theta));
    PetscCall(VecDestroy(&e));
    PetscCall(VecDestroy(&He));
    PetscCall(SATaskDestroy(&task));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ----------------------------------------------------------------------------------------------- */
/* 4. gradient noise                                                                                */
/* ----------------------------------------------------------------------------------------------- */

/* n = 20000, sigma = 0.3. With batch noise_scale 0 the gradient is the clean one; with noise_scale s the
   difference must be s sigma xi, xi = SAStreamVecNormal(batch stream keyed (campaign, member), step):
   one rounding in the addition, so |diff - s sigma xi|_inf <= 4 eps (|g_clean|_inf + s sigma |xi|_inf).
   The loss is the clean loss (the noise only enters the gradient). xi/sigma recovered from the gradient:
   mean within N_SIGMA sqrt(1/n) of 0, mean square within N_SIGMA sqrt(2/n) of 1 (Var z^2 = 2). The same
   step gives bit-identical noise; the next step gives noise whose sample correlation with it is within
   N_SIGMA sqrt(1/n) of 0 (independent draws); another member seed gives other noise. */
static PetscErrorCode CheckNoise(void)
{
  const PetscReal   sigma  = 0.3;
  const char *const opts[] = {"-task_quadratic_dim", "20000", "-task_noise", "0.3", NULL};
  SATask            task, other;
  Vec               theta, gc, gn, gn2, xi, w;
  PetscReal         Lc, Ln, noise, gcinf, xinf, nrm, m1, m2, mean, msq;
  PetscScalar       s, dot;
  PetscInt          n;
  SAStream          bs;
  PetscBool         same;

  PetscFunctionBeginUser;
  PetscCall(CreateQuadratic(PETSC_COMM_WORLD, opts, SEED_MEMBER, &task));
  PetscCall(SATaskGetNoise(task, &noise));
  PetscCheck(noise == sigma, PETSC_COMM_SELF, PETSC_ERR_PLIB, "task_noise not read: %g", (double) noise);
  PetscCall(SATaskCreateParameters(task, &theta));
  PetscCall(VecGetSize(theta, &n));
  PetscCall(SATaskInitialGuess(task, theta));
  PetscCall(VecDuplicate(theta, &gc));
  PetscCall(VecDuplicate(theta, &gn));
  PetscCall(VecDuplicate(theta, &gn2));
  PetscCall(VecDuplicate(theta, &xi));
  PetscCall(VecDuplicate(theta, &w));
  PetscCall(SAStreamCreate(SEED_CAMPAIGN, SEED_MEMBER, SA_STREAM_BATCH, &bs));
  PetscCall(SAStreamVecNormal(&bs, 5, xi));
  PetscCall(VecNorm(xi, NORM_INFINITY, &xinf));
  {
    SABatch b0     = SA_BATCH(5);
    b0.noise_scale = 0.0;

    PetscCall(SATaskLossGradient(task, theta, &b0, &Lc, gc));
    PetscCall(VecNorm(gc, NORM_INFINITY, &gcinf));
  }
  for (PetscInt k = 0; k < 2; k++) {
    PetscReal sc  = k ? 2.5 : 1.0;
    SABatch   b   = SA_BATCH(5);
    b.noise_scale = sc;

    PetscCall(SATaskLossGradient(task, theta, &b, &Ln, gn));
    PetscCheck(Ln == Lc, PETSC_COMM_SELF, PETSC_ERR_PLIB, "noise changed the loss: %.17g vs %.17g", (double) Ln,
               (double) Lc);
    PetscCall(VecAXPY(gn, -1.0, gc));
    PetscCall(VecAXPY(gn, -sc * sigma, xi));
    PetscCall(VecNorm(gn, NORM_INFINITY, &nrm));
    PetscCheck(nrm <= 4 * EPS * (gcinf + sc * sigma * xinf), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "noise_scale %g: gradient noise differs from sigma xi by %g", (double) sc, (double) nrm);
  }
  /* statistics of the recovered noise (noise_scale 1, step 5) */
  {
    SABatch b = SA_BATCH(5);

    PetscCall(SATaskLossGradient(task, theta, &b, &Ln, gn));
    PetscCall(VecAXPY(gn, -1.0, gc));
    PetscCall(VecScale(gn, 1.0 / sigma));
    PetscCall(VecSum(gn, &s));
    PetscCall(VecDot(gn, gn, &dot));
    m1   = PetscRealPart(s);
    m2   = PetscRealPart(dot);
    mean = m1 / n;
    msq  = m2 / n;
    PetscCheck(PetscAbsReal(mean) <= N_SIGMA * PetscSqrtReal(1.0 / n), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "noise mean %g / sigma beyond %g standard errors", (double) mean, (double) N_SIGMA);
    PetscCheck(PetscAbsReal(msq - 1) <= N_SIGMA * PetscSqrtReal(2.0 / n), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "noise variance %g sigma^2 beyond %g standard errors of sigma^2", (double) msq, (double) N_SIGMA);
  }
  /* same step: identical; next step: uncorrelated */
  {
    SABatch b5 = SA_BATCH(5), b6 = SA_BATCH(6);

    PetscCall(SATaskLossGradient(task, theta, &b5, &Ln, gn));
    PetscCall(SATaskLossGradient(task, theta, &b5, &Ln, gn2));
    PetscCall(VecEqual(gn, gn2, &same));
    PetscCheck(same, PETSC_COMM_SELF, PETSC_ERR_PLIB, "the same step gave different gradients");
    PetscCall(SATaskLossGradient(task, theta, &b6, &Ln, gn2));
    PetscCall(VecAXPY(gn, -1.0, gc));
    PetscCall(VecAXPY(gn2, -1.0, gc));
    PetscCall(VecScale(gn, 1.0 / sigma));
    PetscCall(VecScale(gn2, 1.0 / sigma));
    PetscCall(VecDot(gn, gn2, &dot));
    PetscCheck(PetscAbsReal(PetscRealPart(dot) / n) <= N_SIGMA * PetscSqrtReal(1.0 / n), PETSC_COMM_SELF,
               PETSC_ERR_PLIB, "noise of steps 5 and 6 correlated: %g", (double) (PetscRealPart(dot) / n));
  }
  /* another member: other noise (same A and theta*, so the clean gradient at the same theta is the same) */
  PetscCall(PetscOptionsSetValue(NULL, "-task_quadratic_dim", "20000"));
  PetscCall(PetscOptionsSetValue(NULL, "-task_noise", "0.3"));
  {
    const char *const none[] = {NULL};

    PetscCall(CreateQuadratic(PETSC_COMM_WORLD, none, SEED_MEMBER + 1, &other));
  }
  PetscCall(PetscOptionsClearValue(NULL, "-task_quadratic_dim"));
  PetscCall(PetscOptionsClearValue(NULL, "-task_noise"));
  {
    SABatch b = SA_BATCH(5);

    PetscCall(SATaskLossGradient(task, theta, &b, &Ln, gn));
    PetscCall(SATaskLossGradient(other, theta, &b, &Ln, gn2));
    PetscCall(VecAXPY(gn, -1.0, gc));
    PetscCall(VecAXPY(gn2, -1.0, gc));
    PetscCall(VecScale(gn, 1.0 / sigma));
    PetscCall(VecScale(gn2, 1.0 / sigma));
    PetscCall(VecDot(gn, gn2, &dot));
    PetscCheck(PetscAbsReal(PetscRealPart(dot) / n) <= N_SIGMA * PetscSqrtReal(1.0 / n), PETSC_COMM_SELF,
               PETSC_ERR_PLIB, "noise of two members correlated: %g", (double) (PetscRealPart(dot) / n));
  }
  PetscCall(VecDestroy(&theta));
  PetscCall(VecDestroy(&gc));
  PetscCall(VecDestroy(&gn));
  PetscCall(VecDestroy(&gn2));
  PetscCall(VecDestroy(&xi));
  PetscCall(VecDestroy(&w));
  PetscCall(SATaskDestroy(&task));
  PetscCall(SATaskDestroy(&other));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ----------------------------------------------------------------------------------------------- */
/* 5. gradient descent divergence oracle                                                            */
/* ----------------------------------------------------------------------------------------------- */

typedef struct {
  SAConvergedReason reason;
  PetscInt          dstep, laststep, nrec, nobs;
  PetscReal         perf, *rec; /* copy of the records (caller frees) */
} RunResult;

/* Trains one member on comm: quadratic task (options topts), optimizer (options oopts) with learning rate
   lrfac / lambda_max, nsteps steps, every step recorded */
static PetscErrorCode RunSolver(MPI_Comm comm, const char *const topts[], const char *const oopts[], PetscReal lrfac,
                                PetscInt nsteps, PetscReal explode, Vec *theta_out, RunResult *res)
{
  SATask      task;
  SAOptimizer opt;
  SASolver    s;
  PetscReal   lmin, lmax, *rec;
  PetscInt    nobs;
  PetscBool   done = PETSC_FALSE;
  char        lr[64];

  PetscFunctionBeginUser;
  PetscCall(CreateQuadratic(comm, topts, SEED_MEMBER, &task));
  PetscCall(SATaskQuadraticGetEigenvalueRange(task, &lmin, &lmax));
  PetscCall(PetscSNPrintf(lr, sizeof(lr), "%.17g", (double) (lrfac / lmax)));
  PetscCall(PetscOptionsSetValue(NULL, "-optimizer_lr", lr));
  PetscCall(SATestCreateOptimizer(comm, oopts, &opt));
  PetscCall(PetscOptionsClearValue(NULL, "-optimizer_lr"));
  PetscCall(SASolverCreate(comm, &s));
  PetscCall(SASolverSetTask(s, task));
  PetscCall(SASolverSetOptimizer(s, opt));
  PetscCall(SASolverSetSteps(s, nsteps, 1));
  PetscCall(SASolverSetExplosionFactor(s, explode));
  PetscCall(SASolverSetUp(s));
  for (PetscInt it = 0; it <= nsteps + 1 && !done; it++) {
    PetscCall(SASolverStep(s));
    PetscCall(SASolverIsDone(s, &done));
  }
  PetscCheck(done, PETSC_COMM_SELF, PETSC_ERR_PLIB, "run not done after %" PetscInt_FMT " + 1 steps", nsteps);
  PetscCall(SASolverGetReason(s, &res->reason, &res->dstep));
  PetscCall(SASolverGetStep(s, &res->laststep));
  PetscCall(SASolverGetFinalPerformance(s, &res->perf));
  PetscCall(SASolverGetRecords(s, &res->nrec, &nobs, &rec));
  PetscCheck(nobs == SA_OBS_COUNT + 1 && res->nrec == nsteps + 1, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "records %" PetscInt_FMT " x %" PetscInt_FMT, res->nrec, nobs);
  PetscCall(PetscMalloc1(res->nrec * nobs, &res->rec));
  PetscCall(PetscArraycpy(res->rec, rec, res->nrec * nobs));
  res->nobs = nobs;
  if (theta_out) {
    Vec th;

    PetscCall(SASolverGetTheta(s, &th));
    PetscCall(VecDuplicate(th, theta_out));
    PetscCall(VecCopy(th, *theta_out));
  }
  PetscCall(SASolverDestroy(&s)); /* destroys task and optimizer too */
  PetscFunctionReturn(PETSC_SUCCESS);
}

#define REC(r, t, o) ((r)->rec[(t) * (r)->nobs + (o)])

/* Gradient descent on A is theta_t - theta* = (I - lr A)^t (theta_0 - theta*): stable iff lr < 2/lambda_max.
   (a) 4 reflectors, lr = 1.9/lambda_max: SA_CONVERGED_MAX_STEPS after 300 steps (301 calls), diverged step
       -1, every mode contracts so the loss never increases (RTOL_EXACT slack) and the final performance
       exp(-L/L_0) is in (exp(-1), 1]; lr = 2.1/lambda_max: SA_DIVERGED_LOSS_EXPLODED (the loss grows like
       1.21^t, so it is finite when it first exceeds 1e6 L_0), 0 < diverged step < 300, performance 0, the
       diverged row has performance 0 and the rows after it are fill values.
   (b) 0 reflectors (A = diag(lambda)), where the trajectory has the closed form
       L_t = 1/2 sum_i lambda_i (1 - lr lambda_i)^(2t) z_i^2, z the init draw: every recorded loss matches it
       to 1e-10 relative (300 steps of a per-coordinate linear recurrence accumulate O(300 eps) relative
       error per mode), and the solver diverges at the first t with L_t > 1e6 L_0.
   (c) heavy ball, mu = 0.5, stable iff lr lambda < 2 (1 + mu): lr = 0.95 * 3/lambda_max completes (and ends
       below L_0), lr = 1.05 * 3/lambda_max diverges. */
static PetscErrorCode CheckDivergenceOracle(void)
{
  const PetscInt    nsteps   = 300;
  const PetscReal   explode  = 1e6;
  const char *const topts[]  = {"-task_quadratic_dim",
                                "100",
                                "-task_quadratic_lambda_min",
                                "0.01",
                                "-task_quadratic_lambda_max",
                                "2",
                                "-task_noise",
                                "0",
                                NULL};
  const char *const topts0[] = {"-task_quadratic_dim",
                                "100",
                                "-task_quadratic_lambda_min",
                                "0.01",
                                "-task_quadratic_lambda_max",
                                "2",
                                "-task_noise",
                                "0",
                                "-task_quadratic_reflectors",
                                "0",
                                NULL};
  const char *const sgd[]    = {"-optimizer_type", "sgd", NULL};
  const char *const hb[]     = {"-optimizer_type", "momentum", "-optimizer_momentum", "0.5", NULL};
  RunResult         r;

  PetscFunctionBeginUser;
  /* (a) */
  PetscCall(RunSolver(PETSC_COMM_WORLD, topts, sgd, 1.9, nsteps, explode, NULL, &r));
  PetscCheck(r.reason == SA_CONVERGED_MAX_STEPS && r.dstep == -1 && r.laststep == nsteps + 1, PETSC_COMM_SELF,
             PETSC_ERR_PLIB, "lr 1.9/lmax: reason %s, diverged step %" PetscInt_FMT ", step %" PetscInt_FMT,
             SAConvergedReasons[r.reason + 2], r.dstep, r.laststep);
  for (PetscInt t = 1; t <= nsteps; t++)
    PetscCheck(REC(&r, t, SA_OBS_LOSS) <= REC(&r, t - 1, SA_OBS_LOSS) * (1 + RTOL_EXACT), PETSC_COMM_SELF,
               PETSC_ERR_PLIB, "lr 1.9/lmax: loss increased at step %" PetscInt_FMT, t);
  PetscCheck(r.perf > PetscExpReal(-1.0) && r.perf <= 1 && r.perf == REC(&r, nsteps, SA_OBS_PERFORMANCE),
             PETSC_COMM_SELF, PETSC_ERR_PLIB, "lr 1.9/lmax: final performance %g", (double) r.perf);
  PetscCall(PetscFree(r.rec));

  PetscCall(RunSolver(PETSC_COMM_WORLD, topts, sgd, 2.1, nsteps, explode, NULL, &r));
  PetscCheck(r.reason == SA_DIVERGED_LOSS_EXPLODED && r.dstep > 0 && r.dstep < nsteps && r.laststep == r.dstep + 1,
             PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "lr 2.1/lmax: reason %s, diverged step %" PetscInt_FMT ", step %" PetscInt_FMT,
             SAConvergedReasons[r.reason + 2], r.dstep, r.laststep);
  PetscCheck(r.perf == 0 && REC(&r, r.dstep, SA_OBS_PERFORMANCE) == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "lr 2.1/lmax: final performance %g", (double) r.perf);
  PetscCheck(REC(&r, r.dstep, SA_OBS_LOSS) > explode * REC(&r, 0, SA_OBS_LOSS) &&
               REC(&r, r.dstep - 1, SA_OBS_LOSS) <= explode * REC(&r, 0, SA_OBS_LOSS),
             PETSC_COMM_SELF, PETSC_ERR_PLIB, "lr 2.1/lmax: diverged step is not the first exploded loss");
  for (PetscInt t = r.dstep + 1; t <= nsteps; t++)
    PetscCheck(REC(&r, t, SA_OBS_LOSS) == NC_FILL_DOUBLE, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "row %" PetscInt_FMT " after divergence is not a fill value", t);
  PetscCall(PetscFree(r.rec));

  /* (b) */
  for (PetscInt k = 0; k < 2; k++) {
    const PetscReal lrfac = k ? 2.1 : 1.9, lmin = 0.01, lmax = 2.0, lr = lrfac / lmax;
    const PetscInt  n = 100;
    PetscReal      *z, L0 = 0;
    PetscInt        tdiv = -1;
    Vec             zv;
    SAStream        is;

    PetscCall(VecCreateMPI(PETSC_COMM_WORLD, PETSC_DECIDE, n, &zv));
    PetscCall(SAStreamCreate(SEED_CAMPAIGN, SEED_MEMBER, SA_STREAM_INIT, &is));
    PetscCall(SAStreamVecNormal(&is, 0, zv));
    PetscCall(SATestGatherAll(zv, &z));
    PetscCall(VecDestroy(&zv));
    PetscCall(RunSolver(PETSC_COMM_WORLD, topts0, sgd, lrfac, nsteps, explode, NULL, &r));
    for (PetscInt i = 0; i < n; i++) L0 += 0.5 * LogSpaced(i, n, lmin, lmax) * z[i] * z[i];
    for (PetscInt t = 0; t <= nsteps && tdiv < 0; t++) {
      PetscReal Lt = 0;

      for (PetscInt i = 0; i < n; i++) {
        PetscReal l = LogSpaced(i, n, lmin, lmax);

        Lt += 0.5 * l * PetscPowReal(1 - lr * l, 2.0 * t) * z[i] * z[i];
      }
      if (Lt > explode * L0) tdiv = t;
      PetscCheck(PetscAbsReal(REC(&r, t, SA_OBS_LOSS) - Lt) <= 1e-10 * Lt, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "lr %g/lmax, step %" PetscInt_FMT ": loss %.17g, closed form %.17g", (double) lrfac, t,
                 (double) REC(&r, t, SA_OBS_LOSS), (double) Lt);
    }
    PetscCheck(tdiv == r.dstep, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "lr %g/lmax: diverged at step %" PetscInt_FMT ", closed form %" PetscInt_FMT, (double) lrfac, r.dstep,
               tdiv);
    PetscCheck(k == 1 || r.reason == SA_CONVERGED_MAX_STEPS, PETSC_COMM_SELF, PETSC_ERR_PLIB, "lr 1.9/lmax diverged");
    PetscCall(PetscFree(z));
    PetscCall(PetscFree(r.rec));
  }

  /* (c) */
  PetscCall(RunSolver(PETSC_COMM_WORLD, topts, hb, 0.95 * 3.0, nsteps, explode, NULL, &r));
  PetscCheck(r.reason == SA_CONVERGED_MAX_STEPS && REC(&r, nsteps, SA_OBS_LOSS) < REC(&r, 0, SA_OBS_LOSS),
             PETSC_COMM_SELF, PETSC_ERR_PLIB, "heavy ball below the threshold: reason %s",
             SAConvergedReasons[r.reason + 2]);
  PetscCall(PetscFree(r.rec));
  PetscCall(RunSolver(PETSC_COMM_WORLD, topts, hb, 1.05 * 3.0, nsteps, explode, NULL, &r));
  PetscCheck(r.reason == SA_DIVERGED_LOSS_EXPLODED && r.perf == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "heavy ball above the threshold: reason %s", SAConvergedReasons[r.reason + 2]);
  PetscCall(PetscFree(r.rec));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ----------------------------------------------------------------------------------------------- */
/* 6. optimizer updates against a hand computation                                                  */
/* ----------------------------------------------------------------------------------------------- */

/* A length-5 vector (sharded over up to 3 ranks), gradients g_t[i] = cos(1.3 i + 0.7 t) + 0.1 i, three
   steps, lr 0.1, mu 0.9. Hand recurrences in double on every rank:
     sgd:        theta <- theta - lr g
     heavy ball: v <- mu v + g; theta <- theta - lr v
     Nesterov:   v <- mu v + g; theta <- theta - lr (g + mu v)
   Each update is <= 5 flops per entry (a different evaluation order or an FMA changes the last bits), so
   over 3 steps the difference is <= ~15 eps times the magnitudes (all O(1) here): tolerance 1e-14 (1 + |x|)
   per entry. The velocity state is checked too, and SAOptimizerReset() must zero it. */
static PetscErrorCode CheckMomentumHand(void)
{
  const PetscInt  N  = 5;
  const PetscReal lr = 0.1, mu = 0.9;

  PetscFunctionBeginUser;
  for (PetscInt c = 0; c < 3; c++) {
    const char *const o_sgd[] = {"-optimizer_type", "sgd", "-optimizer_lr", "0.1", NULL};
    const char *const o_hb[]  = {
       "-optimizer_type", "momentum", "-optimizer_lr", "0.1", "-optimizer_momentum", "0.9", NULL};
    const char *const  o_nes[] = {"-optimizer_type",
                                  "momentum",
                                  "-optimizer_lr",
                                  "0.1",
                                  "-optimizer_momentum",
                                  "0.9",
                                  "-optimizer_momentum_nesterov",
                                  "true",
                                  NULL};
    SAOptimizer        opt;
    Vec                theta, g, *state;
    const char *const *names;
    PetscInt           nstate, rs, re;
    PetscReal          th[5], v[5] = {0}, err = 0, gerr;
    SAHyper            h;

    PetscCall(SATestCreateOptimizer(PETSC_COMM_WORLD, c == 0 ? o_sgd : (c == 1 ? o_hb : o_nes), &opt));
    PetscCall(SAOptimizerGetHyper(opt, 0, &h));
    PetscCheck(h.lr == lr && h.momentum == (c ? mu : 0.0), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "case %" PetscInt_FMT ": hyper-parameters lr %g momentum %g", c, (double) h.lr, (double) h.momentum);
    PetscCall(VecCreateMPI(PETSC_COMM_WORLD, PETSC_DECIDE, N, &theta));
    PetscCall(VecDuplicate(theta, &g));
    PetscCall(VecGetOwnershipRange(theta, &rs, &re));
    for (PetscInt i = 0; i < N; i++) th[i] = 0.5 - 0.2 * i;
    for (PetscInt i = rs; i < re; i++) PetscCall(VecSetValue(theta, i, th[i], INSERT_VALUES));
    PetscCall(VecAssemblyBegin(theta));
    PetscCall(VecAssemblyEnd(theta));
    PetscCall(SAOptimizerSetUp(opt, theta));
    for (PetscInt t = 0; t < 3; t++) {
      PetscReal gt[5];

      for (PetscInt i = 0; i < N; i++) gt[i] = PetscCosReal(1.3 * i + 0.7 * t) + 0.1 * i;
      for (PetscInt i = rs; i < re; i++) PetscCall(VecSetValue(g, i, gt[i], INSERT_VALUES));
      PetscCall(VecAssemblyBegin(g));
      PetscCall(VecAssemblyEnd(g));
      PetscCall(SAOptimizerGetHyper(opt, t, &h));
      PetscCall(SAOptimizerUpdate(opt, &h, theta, g));
      for (PetscInt i = 0; i < N; i++) {
        if (c == 0) th[i] -= lr * gt[i];
        else {
          v[i] = mu * v[i] + gt[i];
          th[i] -= c == 1 ? lr * v[i] : lr * (gt[i] + mu * v[i]);
        }
      }
      PetscCall(SAOptimizerGetState(opt, &nstate, &state, &names));
      PetscCheck(nstate == (c ? 1 : 0), PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "case %" PetscInt_FMT ": %" PetscInt_FMT " state vectors", c, nstate);
      {
        const PetscScalar *a, *va = NULL;

        PetscCall(VecGetArrayRead(theta, &a));
        if (nstate) PetscCall(VecGetArrayRead(state[0], &va));
        for (PetscInt i = rs; i < re; i++) {
          err = PetscMax(err, PetscAbsReal(PetscRealPart(a[i - rs]) - th[i]) / (1 + PetscAbsReal(th[i])));
          if (va) err = PetscMax(err, PetscAbsReal(PetscRealPart(va[i - rs]) - v[i]) / (1 + PetscAbsReal(v[i])));
        }
        PetscCall(VecRestoreArrayRead(theta, &a));
        if (nstate) PetscCall(VecRestoreArrayRead(state[0], &va));
      }
    }
    PetscCallMPI(MPI_Allreduce(&err, &gerr, 1, MPIU_REAL, MPI_MAX, PETSC_COMM_WORLD));
    PetscCheck(gerr <= 1e-14, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "case %" PetscInt_FMT ": differs from hand computation by %g", c, (double) gerr);
    if (c) {
      PetscReal vn;

      PetscCheck(!strcmp(names[0], "velocity"), PETSC_COMM_SELF, PETSC_ERR_PLIB, "state named %s", names[0]);
      PetscCall(SAOptimizerReset(opt));
      PetscCall(VecNorm(state[0], NORM_INFINITY, &vn));
      PetscCheck(vn == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "velocity %g after reset", (double) vn);
    }
    PetscCall(VecDestroy(&theta));
    PetscCall(VecDestroy(&g));
    PetscCall(SAOptimizerDestroy(&opt));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ----------------------------------------------------------------------------------------------- */
/* 7. perturbations                                                                                 */
/* ----------------------------------------------------------------------------------------------- */

/* Envelope of the documented shapes for a window onset 3, duration 4 (and persistent), steps 0..12:
   step 1, ramp (k+1)/duration (persistent: min(1, (k+1)/tau)), exp exp(-k/tau), k = step - onset, 0 outside
   [onset, onset + duration). The reference is the same closed form in double: equal to 4 eps. Also the
   default tau of a 4-step window (max(1, 4/3)) and that the block's keys were read. */
static PetscErrorCode CheckEnvelope(void)
{
  const char *const kv[] = {"-env_kind",     "lr_scale", "-env_magnitudes", "2,3",  "-env_onset", "3",
                            "-env_duration", "4",        "-env_shape",      "ramp", NULL};
  SAPerturb         p;
  PetscInt          onset, dur, nm;
  SAPerturbShape    shape;
  const PetscReal  *mags;
  PetscReal         m, tau = 2.5;
  SADimension       dim;

  PetscFunctionBeginUser;
  PetscCall(SATestSetOptions(kv));
  PetscCall(SAPerturbCreate(PETSC_COMM_WORLD, &p));
  PetscCall(SAPerturbSetOptionsPrefix(p, "env_"));
  PetscCall(SAPerturbSetFromOptions(p));
  PetscCall(SATestClearOptions(kv));
  PetscCall(SAPerturbGetWindow(p, &onset, &dur, &shape));
  PetscCall(SAPerturbGetMagnitudes(p, &nm, &mags));
  PetscCall(SAPerturbGetMagnitude(p, &m));
  PetscCall(SAPerturbGetDimension(p, &dim));
  PetscCheck(onset == 3 && dur == 4 && shape == SA_SHAPE_RAMP && nm == 2 && mags[0] == 2 && mags[1] == 3 && m == 2 &&
               dim == SA_DIM_OPTIMIZATION,
             PETSC_COMM_SELF, PETSC_ERR_PLIB, "block keys not read as given");
  /* default tau = max(1, duration/3) for the exp shape */
  PetscCall(SAPerturbSetWindow(p, 3, 4, SA_SHAPE_EXP));
  for (PetscInt step = 0; step <= 12; step++) {
    PetscReal env, ref = (step >= 3 && step < 7) ? PetscExpReal(-(step - 3) / (4.0 / 3.0)) : 0.0;

    PetscCall(SAPerturbGetEnvelope(p, step, &env));
    PetscCheck(PetscAbsReal(env - ref) <= 4 * EPS * ref, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "exp, default tau, step %" PetscInt_FMT ": %.17g, expected %.17g", step, (double) env, (double) ref);
  }
  PetscCall(SAPerturbDestroy(&p));

  /* explicit tau */
  PetscCall(SATestSetOptions(kv));
  PetscCall(PetscOptionsSetValue(NULL, "-env_tau", "2.5"));
  PetscCall(SAPerturbCreate(PETSC_COMM_WORLD, &p));
  PetscCall(SAPerturbSetOptionsPrefix(p, "env_"));
  PetscCall(SAPerturbSetFromOptions(p));
  PetscCall(SATestClearOptions(kv));
  PetscCall(PetscOptionsClearValue(NULL, "-env_tau"));
  for (PetscInt dd = 0; dd < 2; dd++) {
    PetscInt d = dd ? -1 : 4;

    for (PetscInt sh = 0; sh < 3; sh++) {
      PetscCall(SAPerturbSetWindow(p, 3, d, (SAPerturbShape) sh));
      for (PetscInt step = 0; step <= 12; step++) {
        PetscInt  k  = step - 3;
        PetscBool in = (PetscBool) (k >= 0 && (d < 0 || k < d));
        PetscReal env, ref = 0;

        if (in) {
          if (sh == SA_SHAPE_STEP) ref = 1;
          else if (sh == SA_SHAPE_RAMP) ref = PetscMin(1.0, (k + 1.0) / (d > 0 ? (PetscReal) d : tau));
          else ref = PetscExpReal(-k / tau);
        }
        PetscCall(SAPerturbGetEnvelope(p, step, &env));
        PetscCheck(PetscAbsReal(env - ref) <= 4 * EPS * ref, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                   "shape %s, duration %" PetscInt_FMT ", step %" PetscInt_FMT ": %.17g, expected %.17g",
                   SAPerturbShapes[sh], d, step, (double) env, (double) ref);
      }
    }
  }
  PetscCall(SAPerturbDestroy(&p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* weight_kick from the block "kick" (magnitudes 0.5, onset 3), magnitude set to 0.25 afterwards: at the
   onset theta moves by exactly 0.25 |theta| in norm (relative RTOL_EXACT: the difference loses
   about log10(1/0.25) digits to cancellation, ~1e-15), at every other step theta is bit-identical. A second
   magnitude 0.5 kicks along the same direction (|d1/|d1| - d2/|d2|| <= RTOL_EXACT). With duration 2 and
   ramp, the kicks at steps 3 and 4 have relative sizes 0.25 * 1/2 and 0.25 * 1. The kick is the same on
   PETSC_COMM_SELF (all of theta on each rank) as on the sharded layout, to RTOL_EXACT |kick|. */
static PetscErrorCode CheckWeightKick(void)
{
  const char *const kv[] = {"-kick_kind", "weight_kick", "-kick_magnitudes", "0.5", "-kick_onset", "3", NULL};
  const PetscInt    n    = 300;
  const PetscReal   mag  = 0.25;
  SAPerturb         p, q;
  Vec               theta, t1, t2, d1, d2, ts, tsk;
  PetscReal         nt, nd, nrm, err = 0, gerr, *kick;
  PetscBool         same;
  SADimension       dim;

  PetscFunctionBeginUser;
  PetscCall(VecCreateMPI(PETSC_COMM_WORLD, PETSC_DECIDE, n, &theta));
  PetscCall(SATestRandomVec(SEED_CAMPAIGN, SEED_MEMBER, 400, theta));
  PetscCall(VecShift(theta, 0.5));
  PetscCall(VecNorm(theta, NORM_2, &nt));
  PetscCall(VecDuplicate(theta, &t1));
  PetscCall(VecDuplicate(theta, &t2));
  PetscCall(VecDuplicate(theta, &d1));
  PetscCall(VecDuplicate(theta, &d2));

  PetscCall(SATestSetOptions(kv));
  PetscCall(SAPerturbCreate(PETSC_COMM_WORLD, &p));
  PetscCall(SAPerturbSetOptionsPrefix(p, "kick_"));
  PetscCall(SAPerturbSetFromOptions(p));
  PetscCall(SAPerturbCreate(PETSC_COMM_WORLD, &q));
  PetscCall(SAPerturbSetOptionsPrefix(q, "kick_"));
  PetscCall(SAPerturbSetFromOptions(q));
  PetscCall(SATestClearOptions(kv));
  PetscCall(SAPerturbGetDimension(p, &dim));
  PetscCheck(dim == SA_DIM_PARAMETRIC, PETSC_COMM_SELF, PETSC_ERR_PLIB, "weight_kick dimension %d", (int) dim);
  PetscCall(SAPerturbSetMagnitude(p, mag));
  PetscCall(SAPerturbSetSeeds(p, SEED_CAMPAIGN, SEED_MEMBER));
  PetscCall(SAPerturbSetSeeds(q, SEED_CAMPAIGN, SEED_MEMBER)); /* q keeps the deck's 0.5 */

  for (PetscInt step = 0; step <= 6; step++) {
    PetscCall(VecCopy(theta, t1));
    PetscCall(SAPerturbApplyParams(p, step, t1));
    if (step != 3) {
      PetscCall(VecEqual(t1, theta, &same));
      PetscCheck(same, PETSC_COMM_SELF, PETSC_ERR_PLIB, "kick applied at step %" PetscInt_FMT, step);
    }
  }
  PetscCall(VecCopy(theta, t1));
  PetscCall(SAPerturbApplyParams(p, 3, t1));
  PetscCall(VecWAXPY(d1, -1.0, theta, t1));
  PetscCall(VecNorm(d1, NORM_2, &nd));
  PetscCheck(PetscAbsReal(nd - mag * nt) <= RTOL_EXACT * mag * nt, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "kick size %.17g, expected %.17g", (double) nd, (double) (mag * nt));
  PetscCall(VecCopy(theta, t2));
  PetscCall(SAPerturbApplyParams(q, 3, t2));
  PetscCall(VecWAXPY(d2, -1.0, theta, t2));
  PetscCall(VecNorm(d2, NORM_2, &nrm));
  PetscCheck(PetscAbsReal(nrm - 0.5 * nt) <= RTOL_EXACT * 0.5 * nt, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "kick of magnitude 0.5 has size %g", (double) nrm);
  PetscCall(VecScale(d2, nd / nrm));
  PetscCall(DiffNorm(d1, d2, t2, NORM_2, &nrm));
  PetscCheck(nrm <= RTOL_EXACT * nd, PETSC_COMM_SELF, PETSC_ERR_PLIB, "magnitudes kick in different directions (%g)",
             (double) nrm);

  /* the same kick on PETSC_COMM_SELF, each rank holding all of theta */
  PetscCall(SATestGatherAll(d1, &kick));
  {
    SAPerturb          ps;
    PetscReal         *all;
    const PetscScalar *a;

    PetscCall(SATestGatherAll(theta, &all));
    PetscCall(VecCreateSeq(PETSC_COMM_SELF, n, &ts));
    PetscCall(VecDuplicate(ts, &tsk));
    for (PetscInt i = 0; i < n; i++) PetscCall(VecSetValue(ts, i, all[i], INSERT_VALUES));
    PetscCall(VecAssemblyBegin(ts));
    PetscCall(VecAssemblyEnd(ts));
    PetscCall(VecCopy(ts, tsk));
    PetscCall(SATestSetOptions(kv));
    PetscCall(SAPerturbCreate(PETSC_COMM_SELF, &ps));
    PetscCall(SAPerturbSetOptionsPrefix(ps, "kick_"));
    PetscCall(SAPerturbSetFromOptions(ps));
    PetscCall(SATestClearOptions(kv));
    PetscCall(SAPerturbSetMagnitude(ps, mag));
    PetscCall(SAPerturbSetSeeds(ps, SEED_CAMPAIGN, SEED_MEMBER));
    PetscCall(SAPerturbApplyParams(ps, 3, tsk));
    PetscCall(VecGetArrayRead(tsk, &a));
    for (PetscInt i = 0; i < n; i++) err = PetscMax(err, PetscAbsReal(PetscRealPart(a[i]) - all[i] - kick[i]));
    PetscCall(VecRestoreArrayRead(tsk, &a));
    PetscCallMPI(MPI_Allreduce(&err, &gerr, 1, MPIU_REAL, MPI_MAX, PETSC_COMM_WORLD));
    PetscCheck(gerr <= RTOL_EXACT * nd, PETSC_COMM_SELF, PETSC_ERR_PLIB, "serial kick differs by %g", (double) gerr);
    PetscCall(PetscFree(all));
    PetscCall(SAPerturbDestroy(&ps));
    PetscCall(VecDestroy(&ts));
    PetscCall(VecDestroy(&tsk));
  }
  PetscCall(PetscFree(kick));

  /* ramp over two steps: the envelope scales the kick */
  PetscCall(SAPerturbSetWindow(p, 3, 2, SA_SHAPE_RAMP));
  for (PetscInt step = 3; step <= 4; step++) {
    PetscReal want = mag * (step - 2) / 2.0 * nt;

    PetscCall(VecCopy(theta, t1));
    PetscCall(SAPerturbApplyParams(p, step, t1));
    PetscCall(DiffNorm(t1, theta, d1, NORM_2, &nd));
    PetscCheck(PetscAbsReal(nd - want) <= RTOL_EXACT * want, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "ramp step %" PetscInt_FMT ": kick %.17g, expected %.17g", step, (double) nd, (double) want);
  }
  PetscCall(SAPerturbDestroy(&p));
  PetscCall(SAPerturbDestroy(&q));
  PetscCall(VecDestroy(&theta));
  PetscCall(VecDestroy(&t1));
  PetscCall(VecDestroy(&t2));
  PetscCall(VecDestroy(&d1));
  PetscCall(VecDestroy(&d2));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* lr_spike from the block "spike" (magnitude 10, onset 5, default one-step pulse) on a momentum
   optimizer with lr 0.1, mu 0.5: SAPerturbApplyOptimizer multiplies h.lr by 1 + (10 - 1) * 1 = 10 at step 5 (one
   rounding: 4 eps) and leaves h bit-identical at every other step; the momentum is never touched. */
static PetscErrorCode CheckLRSpike(void)
{
  const char *const kv[]   = {"-spike_kind", "lr_spike", "-spike_magnitudes", "10", "-spike_onset", "5", NULL};
  const char *const oopt[] = {
    "-optimizer_type", "momentum", "-optimizer_lr", "0.1", "-optimizer_momentum", "0.5", NULL};
  SAPerturb   p;
  SAOptimizer opt;
  PetscInt    onset, dur;

  PetscFunctionBeginUser;
  PetscCall(SATestCreateOptimizer(PETSC_COMM_WORLD, oopt, &opt));
  PetscCall(SATestSetOptions(kv));
  PetscCall(SAPerturbCreate(PETSC_COMM_WORLD, &p));
  PetscCall(SAPerturbSetOptionsPrefix(p, "spike_"));
  PetscCall(SAPerturbSetFromOptions(p));
  PetscCall(SATestClearOptions(kv));
  PetscCall(SAPerturbSetSeeds(p, SEED_CAMPAIGN, SEED_MEMBER));
  PetscCall(SAPerturbGetWindow(p, &onset, &dur, NULL));
  PetscCheck(onset == 5 && dur == 1, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "lr_spike window onset %" PetscInt_FMT " duration %" PetscInt_FMT, onset, dur);
  for (PetscInt step = 0; step <= 9; step++) {
    SAHyper h;

    PetscCall(SAOptimizerGetHyper(opt, step, &h));
    PetscCall(SAPerturbApplyOptimizer(p, step, opt, &h));
    if (step == 5)
      PetscCheck(PetscAbsReal(h.lr - 1.0) <= 4 * EPS, PETSC_COMM_SELF, PETSC_ERR_PLIB, "spiked lr %.17g, expected 1",
                 (double) h.lr);
    else
      PetscCheck(h.lr == 0.1, PETSC_COMM_SELF, PETSC_ERR_PLIB, "lr %.17g at step %" PetscInt_FMT " (not spiked)",
                 (double) h.lr, step);
    PetscCheck(h.momentum == 0.5, PETSC_COMM_SELF, PETSC_ERR_PLIB, "momentum changed to %g", (double) h.momentum);
  }
  PetscCall(SAPerturbDestroy(&p));
  PetscCall(SAOptimizerDestroy(&opt));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ----------------------------------------------------------------------------------------------- */
/* 8. determinism across layouts                                                                    */
/* ----------------------------------------------------------------------------------------------- */

/* 20 sgd steps (lr 1/lambda_max, task noise 0.2, n = 300) on PETSC_COMM_WORLD and, on every rank, on
   PETSC_COMM_SELF. All random numbers are addressed by (step, global index), so the two runs differ only
   in the summation order of the reductions (dot products of the reflectors, norms): each relative error
   is O(n eps) at worst, and I - lr A is non-expansive, so errors add up over 20 steps rather than grow:
   the recorded losses, gradient norms and the final theta agree to RTOL_EXACT. On one rank the two are
   the same computation. */
static PetscErrorCode CheckLayoutDeterminism(void)
{
  const PetscInt     nsteps  = 20;
  const char *const  topts[] = {"-task_quadratic_dim",
                                "300",
                                "-task_quadratic_lambda_min",
                                "0.05",
                                "-task_quadratic_lambda_max",
                                "4",
                                "-task_noise",
                                "0.2",
                                NULL};
  const char *const  sgd[]   = {"-optimizer_type", "sgd", NULL};
  RunResult          rw, rs;
  Vec                tw, ts;
  PetscReal         *aw, err = 0, gerr, tinf;
  const PetscScalar *as;
  PetscInt           n;

  PetscFunctionBeginUser;
  PetscCall(RunSolver(PETSC_COMM_WORLD, topts, sgd, 1.0, nsteps, 1e10, &tw, &rw));
  PetscCall(RunSolver(PETSC_COMM_SELF, topts, sgd, 1.0, nsteps, 1e10, &ts, &rs));
  PetscCheck(rw.reason == SA_CONVERGED_MAX_STEPS, PETSC_COMM_SELF, PETSC_ERR_PLIB, "run did not complete");
  for (PetscInt t = 0; t <= nsteps; t++)
    for (PetscInt o = 0; o < rw.nobs; o++) {
      PetscReal a = REC(&rw, t, o), b = REC(&rs, t, o);

      if (a == NC_FILL_DOUBLE || b == NC_FILL_DOUBLE) err = PetscMax(err, a == b ? 0.0 : 1.0);
      else err = PetscMax(err, PetscAbsReal(a - b) / PetscMax(PetscAbsReal(a), PETSC_SMALL));
    }
  PetscCall(SATestGatherAll(tw, &aw));
  PetscCall(VecGetSize(ts, &n));
  PetscCall(VecNorm(tw, NORM_INFINITY, &tinf));
  PetscCall(VecGetArrayRead(ts, &as));
  for (PetscInt i = 0; i < n; i++) err = PetscMax(err, PetscAbsReal(aw[i] - PetscRealPart(as[i])) / tinf);
  PetscCall(VecRestoreArrayRead(ts, &as));
  PetscCallMPI(MPI_Allreduce(&err, &gerr, 1, MPIU_REAL, MPI_MAX, PETSC_COMM_WORLD));
  PetscCheck(gerr <= RTOL_EXACT, PETSC_COMM_SELF, PETSC_ERR_PLIB, "sharded and serial runs differ by %g (relative)",
             (double) gerr);
  PetscCall(PetscInfo(NULL, "layout determinism: largest relative difference %g\n", (double) gerr));
  PetscCall(PetscFree(aw));
  PetscCall(PetscFree(rw.rec));
  PetscCall(PetscFree(rs.rec));
  PetscCall(VecDestroy(&tw));
  PetscCall(VecDestroy(&ts));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void test_gradient_fd(void) { CU_ASSERT_EQUAL(CheckGradientFD(), PETSC_SUCCESS); }
static void test_hessian(void) { CU_ASSERT_EQUAL(CheckHessian(), PETSC_SUCCESS); }
static void test_minimiser(void) { CU_ASSERT_EQUAL(CheckMinimiser(), PETSC_SUCCESS); }
static void test_spectrum(void) { CU_ASSERT_EQUAL(CheckSpectrum(), PETSC_SUCCESS); }
static void test_noise(void) { CU_ASSERT_EQUAL(CheckNoise(), PETSC_SUCCESS); }
static void test_divergence_oracle(void) { CU_ASSERT_EQUAL(CheckDivergenceOracle(), PETSC_SUCCESS); }
static void test_momentum_hand(void) { CU_ASSERT_EQUAL(CheckMomentumHand(), PETSC_SUCCESS); }
static void test_envelope(void) { CU_ASSERT_EQUAL(CheckEnvelope(), PETSC_SUCCESS); }
static void test_weight_kick(void) { CU_ASSERT_EQUAL(CheckWeightKick(), PETSC_SUCCESS); }
static void test_lr_spike(void) { CU_ASSERT_EQUAL(CheckLRSpike(), PETSC_SUCCESS); }
static void test_layout_determinism(void) { CU_ASSERT_EQUAL(CheckLayoutDeterminism(), PETSC_SUCCESS); }

int main(int argc, char **argv)
{
  int       nfail_all;
  CU_pSuite s;

  PetscCall(SlepcInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SAInitialize());
  if (CU_initialize_registry() != CUE_SUCCESS) return EXIT_FAILURE;
  s = CU_add_suite("quadratic", NULL, NULL);
  CU_add_test(s, "gradient matches central differences of the loss", test_gradient_fd);
  CU_add_test(s, "Hessian-vector product: differences, symmetry, Rayleigh, Taylor", test_hessian);
  CU_add_test(s, "minimiser theta* and initial guess", test_minimiser);
  CU_add_test(s, "assembled Hessian has the log/linear spectrum", test_spectrum);
  CU_add_test(s, "gradient noise is sigma xi from the batch stream", test_noise);
  CU_add_test(s, "gradient descent diverges iff lr > 2/lambda_max", test_divergence_oracle);
  CU_add_test(s, "sgd, heavy ball and Nesterov against hand computation", test_momentum_hand);
  CU_add_test(s, "perturbation envelopes", test_envelope);
  CU_add_test(s, "weight kick size, onset and direction", test_weight_kick);
  CU_add_test(s, "lr spike multiplies lr at the onset only", test_lr_spike);
  CU_add_test(s, "sharded run equals serial run", test_layout_determinism);
  PetscCall(SATestRunSuite(PETSC_COMM_WORLD, &nfail_all));
  PetscCall(SAFinalize());
  PetscCall(SlepcFinalize());
  return nfail_all ? EXIT_FAILURE : EXIT_SUCCESS;
}
