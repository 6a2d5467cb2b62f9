/*
  satest.h - the CUnit runner shared by the unit tests (STYLE.md B.9): rank 0 runs the registered
  tests verbosely, the other ranks silently, and the failures of all ranks are summed, so a test
  that fails on any rank fails everywhere (never CU_get_error(), which is 0 on failures).
*/
#pragma once
#include <stabaudit/sasys.h>
#include <stabaudit/saoptimizer.h>
#include <stabaudit/sastream.h>
#include <CUnit/Basic.h>

/* runs the registry filled by the caller, cleans it up, and returns the failures summed over comm */
static inline PetscErrorCode SATestRunSuite(MPI_Comm comm, int *nfail_all)
{
  PetscMPIInt rank;
  int         nfail;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) {
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
  } else CU_run_all_tests();
  nfail = (int) CU_get_number_of_failures();
  CU_cleanup_registry();
  PetscCallMPI(MPI_Allreduce(&nfail, nfail_all, 1, MPI_INT, MPI_SUM, comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* sets the options kv[0] = kv[1], kv[2] = kv[3], ... (NULL-terminated; kv itself may be NULL) */
static inline PetscErrorCode SATestSetOptions(const char *const kv[])
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; kv && kv[i]; i += 2) PetscCall(PetscOptionsSetValue(NULL, kv[i], kv[i + 1]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* clears the options set by SATestSetOptions(kv) */
static inline PetscErrorCode SATestClearOptions(const char *const kv[])
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; kv && kv[i]; i += 2) PetscCall(PetscOptionsClearValue(NULL, kv[i]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* an optimizer on comm configured from the options kv (set for the call only) */
static inline PetscErrorCode SATestCreateOptimizer(MPI_Comm comm, const char *const kv[], SAOptimizer *opt)
{
  PetscFunctionBeginUser;
  PetscCall(SATestSetOptions(kv));
  PetscCall(SAOptimizerCreate(comm, opt));
  PetscCall(SAOptimizerSetFromOptions(*opt));
  PetscCall(SATestClearOptions(kv));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* v = a standard normal vector of the test stream of (campaign, member), addressed by step: layout independent */
static inline PetscErrorCode SATestRandomVec(PetscInt64 campaign, PetscInt64 member, PetscInt64 step, Vec v)
{
  SAStream s;

  PetscFunctionBeginUser;
  PetscCall(SAStreamCreate(campaign, member, SA_STREAM_TEST, &s));
  PetscCall(SAStreamVecNormal(&s, step, v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* copies a distributed Vec into an array of its global length on every rank (caller frees) */
static inline PetscErrorCode SATestGatherAll(Vec v, PetscReal **out)
{
  VecScatter         sc;
  Vec                all;
  const PetscScalar *a;
  PetscInt           n;

  PetscFunctionBeginUser;
  PetscCall(VecScatterCreateToAll(v, &sc, &all));
  PetscCall(VecScatterBegin(sc, v, all, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(sc, v, all, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecGetSize(all, &n));
  PetscCall(PetscMalloc1(n, out));
  PetscCall(VecGetArrayRead(all, &a));
  for (PetscInt i = 0; i < n; i++) (*out)[i] = PetscRealPart(a[i]);
  PetscCall(VecRestoreArrayRead(all, &a));
  PetscCall(VecScatterDestroy(&sc));
  PetscCall(VecDestroy(&all));
  PetscFunctionReturn(PETSC_SUCCESS);
}
