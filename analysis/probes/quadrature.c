/*
  quadrature.c - stochastic trace and spectral density estimators on a symmetric operator (matrix-free).

  Method card
  -----------
  Rademacher vectors: z_i = sign(x_i), x ~ N(0, I) from a counter-based stream addressed by (addr, global index):
    the same vector on any number of ranks.
  Hutchinson (1989): tr(A) ~ (1/n_v) sum_j z_j^T A z_j, E = tr(A), Var(z^T A z) = 2 (|A|_F^2 - sum_i A_ii^2);
    the standard error reported is the sample standard deviation of the n_v terms over sqrt(n_v).
  Stochastic Lanczos quadrature (Golub & Meurant; Ubaru, Chen & Saad 2017; Ghorbani, Krishnan & Xiao 2019):
    for each of n_v unit Rademacher vectors q_1 = z / |z|, m Lanczos steps with full reorthogonalisation
    (classical Gram-Schmidt, twice) give T_m = tridiag(beta, alpha, beta); with T_m = S diag(theta) S^T the
    Gauss quadrature nodes are theta_k and the weights tau_k = S_1k^2 (sum 1), exact for polynomials of degree
    <= 2m - 1: sum_k tau_k theta_k^p = q_1^T A^p q_1. On breakdown (beta_k <= 1e-14 |T|) the quadrature has
    fewer nodes (the invariant subspace is exhausted) and the remaining weights are 0.
    Density: phi(t) = (1/n_v) sum_j sum_k tau_jk N(t; theta_jk, sigma^2) on a grid (integrates to 1 over R).
*/
#include <stabaudit/saprobe.h>
#include <petscblaslapack.h>

/*@C
  SAProbeRademacher - Fills a vector with a Rademacher vector (+-1 entries) addressed by (addr, global index)

  Not Collective

  Input Parameters:
+ s    - the stream
. addr - the address of the vector in the stream
- z    - the vector

  Level: developer

.seealso: `SAProbeHutchinson()`
@*/
PetscErrorCode SAProbeRademacher(const SAStream *s, PetscInt64 addr, Vec z)
{
  PetscScalar *a;
  PetscInt     n;

  PetscFunctionBeginUser;
  PetscCall(SAStreamVecNormal(s, addr, z));
  PetscCall(VecGetLocalSize(z, &n));
  PetscCall(VecGetArray(z, &a));
  for (PetscInt i = 0; i < n; i++) a[i] = PetscRealPart(a[i]) >= 0 ? 1.0 : -1.0;
  PetscCall(VecRestoreArray(z, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeHutchinson - Hutchinson estimate of the trace of a symmetric operator with Rademacher vectors

  Collective

  Input Parameters:
+ A    - the operator
. nv   - number of vectors (>= 2)
. s    - the stream
- addr - address of the first vector (vector j uses addr + j)

  Output Parameters:
+ est    - the estimate
- stderr - its standard error (sample standard deviation / sqrt(nv))

  Level: intermediate

.seealso: `SAProbeLanczosQuadrature()`
@*/
PetscErrorCode SAProbeHutchinson(Mat A, PetscInt nv, const SAStream *s, PetscInt64 addr, PetscReal *est,
                                 PetscReal *stderr_)
{
  Vec         z, Az;
  PetscScalar d;
  PetscReal   sum = 0, sum2 = 0, mean, var;

  PetscFunctionBeginUser;
  PetscCheck(nv >= 2, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Need >= 2 vectors, got %" PetscInt_FMT, nv);
  PetscCall(MatCreateVecs(A, &z, &Az));
  for (PetscInt j = 0; j < nv; j++) {
    PetscCall(SAProbeRademacher(s, addr + j, z));
    PetscCall(MatMult(A, z, Az));
    PetscCall(VecDot(Az, z, &d));
    sum += PetscRealPart(d);
    sum2 += PetscRealPart(d) * PetscRealPart(d);
  }
  mean     = sum / nv;
  var      = PetscMax(0.0, (sum2 - nv * mean * mean) / (nv - 1));
  *est     = mean;
  *stderr_ = PetscSqrtReal(var / nv);
  PetscCall(VecDestroy(&z));
  PetscCall(VecDestroy(&Az));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeLanczosQuadrature - Gauss quadrature nodes and weights of the spectral measure of a symmetric operator
  seen from nv Rademacher vectors (stochastic Lanczos quadrature)

  Collective

  Input Parameters:
+ A    - the symmetric operator
. nv   - number of vectors
. m    - Lanczos steps per vector (<= the dimension)
. s    - the stream
- addr - address of the first vector (vector j uses addr + j)

  Output Parameters:
+ nodes   - nv * m nodes (vector j at [j m, (j + 1) m)), the same on every rank
- weights - their weights; the weights of each vector sum to 1 (0 for nodes lost to breakdown)

  Notes:
  Full reorthogonalisation (two passes of classical Gram-Schmidt) against the m Lanczos vectors; costs m
  operator products per vector. Eigen-decomposition of T_m with LAPACK steqr.

  Level: intermediate

.seealso: `SAProbeDensity()`, `SAProbeHutchinson()`
@*/
PetscErrorCode SAProbeLanczosQuadrature(Mat A, PetscInt nv, PetscInt m, const SAStream *s, PetscInt64 addr,
                                        PetscReal nodes[], PetscReal weights[])
{
  Vec         *V, w;
  PetscReal   *alpha, *beta, *d, *e, *Z, *work;
  PetscScalar *dots;
  PetscInt     N;

  PetscFunctionBeginUser;
  PetscCall(MatGetSize(A, &N, NULL));
  PetscCheck(m >= 1 && m <= N, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "Lanczos steps %" PetscInt_FMT " not in [1, %" PetscInt_FMT "]", m, N);
  PetscCall(MatCreateVecs(A, &w, NULL));
  PetscCall(VecDuplicateVecs(w, m, &V));
  PetscCall(PetscMalloc7(m, &alpha, m, &beta, m, &d, m, &e, m * m, &Z, 2 * m, &work, m, &dots));
  for (PetscInt j = 0; j < nv; j++) {
    PetscInt     k = 0;
    PetscBLASInt bk, info;
    PetscReal    tnorm = 0;

    PetscCall(SAProbeRademacher(s, addr + j, V[0]));
    PetscCall(VecNormalize(V[0], NULL));
    for (k = 0; k < m; k++) {
      PetscScalar a;

      PetscCall(MatMult(A, V[k], w));
      PetscCall(VecDot(w, V[k], &a));
      alpha[k] = PetscRealPart(a);
      tnorm    = PetscMax(tnorm, PetscAbsReal(alpha[k]) + (k ? beta[k - 1] : 0));
      for (PetscInt pass = 0; pass < 2; pass++) { /* w <- (I - V V^T) w, twice */
        PetscCall(VecMDot(w, k + 1, V, dots));
        for (PetscInt i = 0; i <= k; i++) dots[i] = -dots[i];
        PetscCall(VecMAXPY(w, k + 1, dots, V));
      }
      PetscCall(VecNorm(w, NORM_2, &beta[k]));
      if (k + 1 == m) {
        k++;
        break;
      }
      if (beta[k] <= 1e-14 * PetscMax(tnorm, PETSC_SMALL)) { /* invariant subspace found */
        k++;
        break;
      }
      PetscCall(VecAXPBY(V[k + 1], 1.0 / beta[k], 0.0, w));
    }
    /* T_k = S diag(theta) S^T */
    for (PetscInt i = 0; i < k; i++) d[i] = alpha[i];
    for (PetscInt i = 0; i + 1 < k; i++) e[i] = beta[i];
    PetscCall(PetscBLASIntCast(k, &bk));
    PetscCallBLAS("LAPACKsteqr", LAPACKREALsteqr_("I", &bk, d, e, Z, &bk, work, &info));
    PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "steqr failed: %d", (int) info);
    for (PetscInt i = 0; i < m; i++) {
      nodes[j * m + i]   = i < k ? d[i] : 0.0;
      weights[j * m + i] = i < k ? Z[i * k] * Z[i * k] : 0.0; /* first row of S (column-major, leading dim k) */
    }
  }
  PetscCall(PetscFree7(alpha, beta, d, e, Z, work, dots));
  PetscCall(VecDestroyVecs(m, &V));
  PetscCall(VecDestroy(&w));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeDensity - Gaussian-broadened spectral density of quadrature nodes and weights on a grid

  Not Collective

  Input Parameters:
+ nq      - number of nodes (all vectors together)
. nodes   - the nodes
. weights - their weights (each vector's sum to 1)
. nv      - the number of vectors (the density is the average of their measures)
. sigma   - the Gaussian width (> 0)
. ngrid   - grid size
- grid    - the grid points

  Output Parameter:
. phi - the density at the grid points: (1/nv) sum_q w_q exp(-(t - x_q)^2 / (2 sigma^2)) / (sigma sqrt(2 pi))

  Level: intermediate

.seealso: `SAProbeLanczosQuadrature()`
@*/
PetscErrorCode SAProbeDensity(PetscInt nq, const PetscReal nodes[], const PetscReal weights[], PetscInt nv,
                              PetscReal sigma, PetscInt ngrid, const PetscReal grid[], PetscReal phi[])
{
  const PetscReal c = 1.0 / (sigma * PetscSqrtReal(2.0 * PETSC_PI) * nv);

  PetscFunctionBeginUser;
  PetscCheck(sigma > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "sigma must be > 0, got %g", (double) sigma);
  for (PetscInt g = 0; g < ngrid; g++) {
    PetscReal sum = 0;

    for (PetscInt q = 0; q < nq; q++) {
      PetscReal x = (grid[g] - nodes[q]) / sigma;

      if (weights[q] != 0) sum += weights[q] * PetscExpReal(-0.5 * x * x);
    }
    phi[g] = c * sum;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
