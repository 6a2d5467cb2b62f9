/*
  satest.h - the CUnit runner shared by the unit tests (STYLE.md B.9): rank 0 runs the registered
  tests verbosely, the other ranks silently, and the failures of all ranks are summed, so a test
  that fails on any rank fails everywhere (never CU_get_error(), which is 0 on failures).
*/
#pragma once
#include <stabaudit/sasys.h>
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
