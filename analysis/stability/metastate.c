/*
  metastate.c - latent meta-states: SLEPc SVD of the pooled, standardised twin matrix (rows = member-steps,
  columns = observables), and the Mahalanobis deviation in the leading k components.
  N = rows (all ranks), p = observables, k = components.
*/
#include <stabaudit/saanalysis.h>
#include <slepcsvd.h>

/*@C
  SAMetaStateFit - Leading right singular vectors (loadings) of a row-distributed matrix, with SLEPc SVD

  Collective

  Input Parameters:
+ comm    - communicator of the rows
. nloc    - rows held by this rank
. p       - columns (observables)
. X       - the local rows, row-major nloc x p (already standardised)
. varfrac - explained variance that chooses k (used when kreq = 0)
- kreq    - number of components, 0 to choose by varfrac

  Output Parameters:
+ k         - components kept
. sigma     - singular values (p entries; NaN beyond the computed ones)
. V         - loadings, column-major p x p (column j = component j; the first min(N, p) are filled)
- explained - fraction of the total sum of squares explained by each component

  Notes:
  The SVD object has the options prefix `analyze_` (e.g. `-analyze_svd_type lapack`). Each loading vector is
  signed so that its largest entry in absolute value is positive.

  Level: beginner

.seealso: `SAMahalanobis()`
@*/
PetscErrorCode SAMetaStateFit(MPI_Comm comm, PetscInt nloc, PetscInt p, const PetscReal X[], PetscReal varfrac,
                              PetscInt kreq, PetscInt *k, PetscReal sigma[], PetscReal V[], PetscReal explained[])
{
  Mat          A;
  SVD          svd;
  Vec          v, vall;
  VecScatter   sc;
  PetscInt     N, nsv, nconv, rstart;
  PetscScalar *a;
  PetscInt     lda;
  PetscReal    total = 0, cum = 0;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(&nloc, &N, 1, MPIU_INT, MPI_SUM, comm));
  PetscCheck(N >= 2, comm, PETSC_ERR_ARG_SIZ, "Meta-state SVD needs at least 2 twin rows, got %" PetscInt_FMT, N);
  for (PetscInt i = 0; i < nloc * p; i++) total += X[i] * X[i];
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &total, 1, MPIU_REAL, MPI_SUM, comm));
  PetscCall(MatCreateDense(comm, nloc, PETSC_DECIDE, N, p, NULL, &A));
  PetscCall(MatGetOwnershipRange(A, &rstart, NULL));
  PetscCall(MatDenseGetLDA(A, &lda));
  PetscCall(MatDenseGetArray(A, &a));
  for (PetscInt i = 0; i < nloc; i++)
    for (PetscInt j = 0; j < p; j++) a[j * lda + i] = X[i * p + j];
  PetscCall(MatDenseRestoreArray(A, &a));
  PetscCall(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));

  nsv = PetscMin(N, p);
  PetscCall(SVDCreate(comm, &svd));
  PetscCall(SVDSetOperators(svd, A, NULL));
  PetscCall(SVDSetDimensions(svd, nsv, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(SVDSetWhichSingularTriplets(svd, SVD_LARGEST));
  PetscCall(SVDSetTolerances(svd, 1e-12, PETSC_DEFAULT));
  /* all min(N, p) triplets of a tall, thin matrix with possibly zero singular values (an observable that is constant
     on the baseline standardises to a zero column): the dense LAPACK solver of SLEPc is exact there, where the cross
     product eigensolver can stop on a roundoff-negative eigenvalue; -analyze_svd_type selects another */
  PetscCall(SVDSetType(svd, SVDLAPACK));
  PetscCall(SVDSetOptionsPrefix(svd, "analyze_"));
  PetscCall(SVDSetFromOptions(svd));
  PetscCall(SVDSolve(svd));
  PetscCall(SVDGetConverged(svd, &nconv));
  PetscCheck(nconv >= nsv, comm, PETSC_ERR_NOT_CONVERGED,
             "Meta-state SVD converged %" PetscInt_FMT " of %" PetscInt_FMT " singular triplets", nconv, nsv);
  PetscCall(MatCreateVecs(A, &v, NULL));
  PetscCall(VecScatterCreateToAll(v, &sc, &vall));
  for (PetscInt j = 0; j < p; j++) {
    sigma[j]     = NAN;
    explained[j] = 0;
    for (PetscInt i = 0; i < p; i++) V[j * p + i] = 0;
  }
  for (PetscInt j = 0; j < nsv; j++) {
    PetscReal          s, big = 0;
    const PetscScalar *va;

    PetscCall(SVDGetSingularTriplet(svd, j, &s, NULL, v));
    PetscCall(VecScatterBegin(sc, v, vall, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterEnd(sc, v, vall, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecGetArrayRead(vall, &va));
    for (PetscInt i = 0; i < p; i++)
      if (PetscAbsReal(va[i]) > PetscAbsReal(big)) big = va[i];
    for (PetscInt i = 0; i < p; i++) V[j * p + i] = big < 0 ? -va[i] : va[i];
    PetscCall(VecRestoreArrayRead(vall, &va));
    sigma[j]     = s;
    explained[j] = total > 0 ? s * s / total : 0;
  }
  if (kreq > 0) *k = PetscMin(kreq, nsv);
  else {
    *k = nsv;
    for (PetscInt j = 0; j < nsv; j++) {
      cum += explained[j];
      if (cum >= varfrac) {
        *k = j + 1;
        break;
      }
    }
  }
  PetscCall(VecScatterDestroy(&sc));
  PetscCall(VecDestroy(&vall));
  PetscCall(VecDestroy(&v));
  PetscCall(SVDDestroy(&svd));
  PetscCall(MatDestroy(&A));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SACholeskyFactor - In-place Cholesky factor L (lower, row-major k x k) of a symmetric positive definite matrix

  Not Collective

  Input Parameters:
+ k - order
- C - the matrix; on output its lower triangle holds L (the upper is zeroed)

  Level: developer

.seealso: `SAMahalanobis()`
@*/
PetscErrorCode SACholeskyFactor(PetscInt k, PetscReal C[])
{
  PetscFunctionBeginUser;
  for (PetscInt j = 0; j < k; j++) {
    PetscReal s = C[j * k + j];
    for (PetscInt l = 0; l < j; l++) s -= C[j * k + l] * C[j * k + l];
    PetscCheck(s > 0, PETSC_COMM_SELF, PETSC_ERR_MAT_CH_ZRPVT,
               "Twin covariance of the meta-states is not positive definite (pivot %" PetscInt_FMT " = %g); raise "
               "-analyze_ridge",
               j, (double) s);
    C[j * k + j] = PetscSqrtReal(s);
    for (PetscInt i = j + 1; i < k; i++) {
      PetscReal t = C[i * k + j];
      for (PetscInt l = 0; l < j; l++) t -= C[i * k + l] * C[j * k + l];
      C[i * k + j] = t / C[j * k + j];
    }
    for (PetscInt i = 0; i < j; i++) C[i * k + j] = 0;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAMahalanobis - Mahalanobis distance sqrt((z - mu)^T C^{-1} (z - mu)) given the Cholesky factor of C

  Not Collective

  Input Parameters:
+ k  - dimension (at most 64)
. z  - the point
. mu - the mean
- L  - Cholesky factor of the covariance (`SACholeskyFactor()`)

  Output Parameter:
. d - the distance (NaN if z has a NaN)

  Level: beginner

.seealso: `SAMetaStateFit()`
@*/
PetscErrorCode SAMahalanobis(PetscInt k, const PetscReal z[], const PetscReal mu[], const PetscReal L[], PetscReal *d)
{
  PetscReal y[64], s = 0;

  PetscFunctionBeginUser;
  PetscCheck(k <= 64, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "At most 64 components, got %" PetscInt_FMT, k);
  for (PetscInt i = 0; i < k; i++) {
    PetscReal t = z[i] - mu[i];
    for (PetscInt l = 0; l < i; l++) t -= L[i * k + l] * y[l];
    y[i] = t / L[i * k + i];
    s += y[i] * y[i];
  }
  *d = PetscSqrtReal(s);
  PetscFunctionReturn(PETSC_SUCCESS);
}
