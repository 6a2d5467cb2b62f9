/*
  test_sys.c - the package layer: netCDF/HDF5 call wrappers turn library failures into PETSc
  errors carrying the library's message, provenance names every library version, converged
  reasons have names, atomic file writes leave no temporary behind.
*/
#include <stabaudit/sasys.h>
#include <stabaudit/sadimension.h>
#include <stabaudit/sadeck.h>
#include <slepcsys.h>
#include "satest.h"
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <errno.h>

static PetscErrorCode OpenMissingNC(void)
{
  int ncid;

  PetscFunctionBeginUser;
  SACallNC(nc_open, ("/nonexistent/dir/file.nc", NC_NOWRITE, &ncid));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode OpenMissingH5(void)
{
  hid_t f;

  PetscFunctionBeginUser;
  SACallH5Return(f, H5Fopen, ("/nonexistent/dir/file.h5", H5F_ACC_RDONLY, H5P_DEFAULT));
  SACallH5(H5Fclose, (f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* a library failure must surface as PETSC_ERR_LIB with the function, the library message and version */
static PetscErrorCode CheckWrapper(PetscErrorCode (*f)(void), const char fn[], const char lib[], const char libmsg[])
{
  PetscErrorCode ierr;
  const char    *text;
  char          *msg = NULL;

  PetscFunctionBeginUser;
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = (*f)();
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr == PETSC_ERR_LIB, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: expected PETSC_ERR_LIB, got %d", fn,
             (int) ierr);
  PetscCall(PetscErrorMessage(ierr, &text, &msg));
  PetscCheck(msg && strstr(msg, fn) && strstr(msg, lib) && strstr(msg, libmsg), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "%s: message '%s' lacks the function, '%s' or '%s'", fn, msg ? msg : "", lib, libmsg);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckWrappers(void)
{
  PetscFunctionBeginUser;
  PetscCall(CheckWrapper(OpenMissingNC, "nc_open", "netCDF 4", "No such file"));
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* HDF5 would print its stack; the message is checked instead */
  PetscCall(CheckWrapper(OpenMissingH5, "H5Fopen", "HDF5 1.", "unable to open file"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckProvenance(void)
{
  char        buf[1024], ver[256];
  const char *sha, *want[] = {"stabaudit", "PETSc 3.", "SLEPc 3.", "netCDF 4.", "HDF5 1.", "MPI"};

  PetscFunctionBeginUser;
  PetscCall(SAGetProvenance(buf, sizeof(buf)));
  for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
    PetscCheck(strstr(buf, want[i]), PETSC_COMM_SELF, PETSC_ERR_PLIB, "provenance '%s' lacks '%s'", buf, want[i]);
  PetscCall(SAGetGitSha(&sha));
  PetscCall(SAGetVersion(ver, sizeof(ver)));
  PetscCheck(strstr(buf, sha) && strstr(ver, sha), PETSC_COMM_SELF, PETSC_ERR_PLIB, "the git sha %s is missing", sha);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckReasons(void)
{
  const char *s;

  PetscFunctionBeginUser;
  PetscCall(SAConvergedReasonToString(SA_CONVERGED_MAX_STEPS, &s));
  PetscCheck(!strcmp(s, "completed"), PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s", s);
  PetscCall(SAConvergedReasonToString(SA_DIVERGED_NAN, &s));
  PetscCheck(!strcmp(s, "diverged_nan"), PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s", s);
  PetscCall(SAConvergedReasonToString(SA_DIVERGED_LOSS_EXPLODED, &s));
  PetscCheck(!strcmp(s, "diverged_loss_exploded"), PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s", s);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the one table of dimension names (perturbations, campaign view, analysis findings, report.py's DIMS) */
static PetscErrorCode CheckDimensions(void)
{
  const char *want[] = {"none", "optimization", "environment", "parametric", "learning_signal"};

  PetscFunctionBeginUser;
  for (int d = SA_DIM_NONE; d <= SA_DIM_LEARNING_SIGNAL; d++)
    PetscCheck(!strcmp(SADimensions[d], want[d]), PETSC_COMM_SELF, PETSC_ERR_PLIB, "dimension %d is '%s', not '%s'", d,
               SADimensions[d], want[d]);
  /* PetscEnum layout: names, enum name, prefix, NULL */
  PetscCheck(!strcmp(SADimensions[SA_DIM_LEARNING_SIGNAL + 1], "SADimension") &&
               !strcmp(SADimensions[SA_DIM_LEARNING_SIGNAL + 2], "SA_DIM_") &&
               !SADimensions[SA_DIM_LEARNING_SIGNAL + 3],
             PETSC_COMM_SELF, PETSC_ERR_PLIB, "SADimensions[] is not a PetscEnum table");
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckAtomicWrite(void)
{
  char        dir[] = "/tmp/sa_test_sys_XXXXXX", path[256], tmp[300], back[64] = "";
  const char *text = "first";
  FILE       *fp;

  PetscFunctionBeginUser;
  PetscCheck(mkdtemp(dir), PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "mkdtemp");
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/f.txt", dir));
  PetscCall(SAFileTmpName(path, tmp, sizeof(tmp)));
  PetscCall(SAFileWriteAtomic(path, text, strlen(text)));
  PetscCall(SAFileWriteAtomic(path, "second", 6));
  fp = fopen(path, "r");
  PetscCheck(fp && fgets(back, sizeof(back), fp), PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "cannot read back %s", path);
  fclose(fp);
  PetscCheck(!strcmp(back, "second"), PETSC_COMM_SELF, PETSC_ERR_PLIB, "read back '%s'", back);
  PetscCheck(access(tmp, F_OK) != 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s left behind", tmp);
  unlink(path);
  rmdir(dir);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* a written temporary file becomes the file; a commit that cannot happen is an error naming both files */
static PetscErrorCode CheckCommit(void)
{
  char           dir[] = "/tmp/sa_test_sys_XXXXXX", path[256], tmp[300], back[64] = "", *msg = NULL;
  const char    *text;
  FILE          *fp;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCheck(mkdtemp(dir), PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "mkdtemp");
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/r.nc", dir));
  PetscCall(SAFileTmpName(path, tmp, sizeof(tmp)));
  PetscCheck(!strcmp(tmp + strlen(path), ".tmp"), PETSC_COMM_SELF, PETSC_ERR_PLIB, "temporary name %s", tmp);
  fp = fopen(tmp, "w");
  PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot write %s", tmp);
  fputs("committed", fp);
  fclose(fp);
  PetscCall(SAFileCommit(PETSC_COMM_SELF, tmp, path));
  PetscCheck(access(tmp, F_OK) != 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s left behind", tmp);
  fp = fopen(path, "r");
  PetscCheck(fp && fgets(back, sizeof(back), fp), PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "cannot read back %s", path);
  fclose(fp);
  PetscCheck(!strcmp(back, "committed"), PETSC_COMM_SELF, PETSC_ERR_PLIB, "read back '%s'", back);
  /* tmp no longer exists: the second commit fails, naming both files */
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SAFileCommit(PETSC_COMM_SELF, tmp, path);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr == PETSC_ERR_FILE_WRITE, PETSC_COMM_SELF, PETSC_ERR_PLIB, "expected PETSC_ERR_FILE_WRITE, got %d",
             (int) ierr);
  PetscCall(PetscErrorMessage(ierr, &text, &msg));
  PetscCheck(msg && strstr(msg, tmp) && strstr(msg, path) && strstr(msg, strerror(ENOENT)), PETSC_COMM_SELF,
             PETSC_ERR_PLIB, "message '%s' lacks %s, %s or the reason", msg ? msg : "", tmp, path);
  unlink(path);
  rmdir(dir);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* a file that cannot be synced is an error naming it: /dev/null opens but fsync() refuses it (EINVAL) */
static PetscErrorCode CheckSyncFailure(const char path[], const char want[])
{
  PetscErrorCode ierr;
  const char    *text;
  char          *msg = NULL;

  PetscFunctionBeginUser;
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SAFileSync(path);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr == PETSC_ERR_FILE_WRITE, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "SAFileSync(%s): expected PETSC_ERR_FILE_WRITE, got %d", path, (int) ierr);
  PetscCall(PetscErrorMessage(ierr, &text, &msg));
  PetscCheck(msg && strstr(msg, path) && strstr(msg, want), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "SAFileSync(%s): message '%s' lacks the file or '%s'", path, msg ? msg : "", want);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckSync(void)
{
  PetscFunctionBeginUser;
  PetscCall(CheckSyncFailure("/dev/null", strerror(EINVAL)));
  PetscCall(CheckSyncFailure("/nonexistent/dir/file", strerror(ENOENT)));
  PetscCall(SAFileSync("/tmp"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* err = the error code of expr, run with errors returned (not printed) */
#define SATryError(err, expr)                                        \
  do {                                                               \
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL)); \
    err = (expr);                                                    \
    PetscCall(PetscPopErrorHandler());                               \
  } while (0)

/* roles are scoped: pushes nest, a pop must match its push, the deck check refuses an open push, and keys of a command
   are checked but not written to the resolved deck */
static PetscErrorCode CheckDeckRoles(void)
{
  PetscInt       a, b, c, d;
  char          *text;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(SADeckReset());
  PetscCall(SADeckPushRole(SA_KEY_CONTROL));
  PetscCall(SADeckGetInt("roletest_", "a", 1, 0, 10, &a, NULL));
  PetscCall(SADeckPushRole(SA_KEY_COMMAND));
  PetscCall(SADeckGetInt("roletest_", "b", 2, 0, 10, &b, NULL));
  PetscCall(SADeckPopRole(SA_KEY_COMMAND));
  PetscCall(SADeckGetInt("roletest_", "c", 3, 0, 10, &c, NULL));
  PetscCall(SADeckPopRole(SA_KEY_CONTROL));
  PetscCall(SADeckGetInt("roletest_", "d", 4, 0, 10, &d, NULL));
  PetscCall(SADeckGetResolved(&text));
  PetscCheck(strstr(text, "roletest_a: 1  # control\n") && strstr(text, "roletest_c: 3  # control\n") &&
               strstr(text, "roletest_d: 4  # result\n") && !strstr(text, "roletest_b"),
             PETSC_COMM_SELF, PETSC_ERR_PLIB, "roles in the resolved deck:\n%s", text);
  PetscCall(PetscFree(text));

  SATryError(ierr, SADeckPopRole(SA_KEY_CONTROL));
  PetscCheck(ierr == PETSC_ERR_ORDER, PETSC_COMM_SELF, PETSC_ERR_PLIB, "a pop without a push: error %d", (int) ierr);
  PetscCall(SADeckPushRole(SA_KEY_EXTENSIBLE));
  SATryError(ierr, SADeckPopRole(SA_KEY_CONTROL));
  PetscCheck(ierr == PETSC_ERR_ORDER, PETSC_COMM_SELF, PETSC_ERR_PLIB, "a mismatched pop: error %d", (int) ierr);
  SATryError(ierr, SADeckCheckUnused(PETSC_COMM_SELF));
  PetscCheck(ierr == PETSC_ERR_ORDER, PETSC_COMM_SELF, PETSC_ERR_PLIB, "deck check with an open push: error %d",
             (int) ierr);
  PetscCall(SADeckPopRole(SA_KEY_EXTENSIBLE));
  PetscCall(SADeckReset());
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void test_wrappers(void) { CU_ASSERT_EQUAL(CheckWrappers(), PETSC_SUCCESS); }
static void test_provenance(void) { CU_ASSERT_EQUAL(CheckProvenance(), PETSC_SUCCESS); }
static void test_reasons(void) { CU_ASSERT_EQUAL(CheckReasons(), PETSC_SUCCESS); }
static void test_dimensions(void) { CU_ASSERT_EQUAL(CheckDimensions(), PETSC_SUCCESS); }
static void test_atomic(void) { CU_ASSERT_EQUAL(CheckAtomicWrite(), PETSC_SUCCESS); }
static void test_commit(void) { CU_ASSERT_EQUAL(CheckCommit(), PETSC_SUCCESS); }
static void test_deck_roles(void) { CU_ASSERT_EQUAL(CheckDeckRoles(), PETSC_SUCCESS); }
static void test_sync(void) { CU_ASSERT_EQUAL(CheckSync(), PETSC_SUCCESS); }

int main(int argc, char **argv)
{
  int       nfail_all;
  CU_pSuite s;

  PetscCall(SlepcInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SAInitialize());
  if (CU_initialize_registry() != CUE_SUCCESS) return EXIT_FAILURE;
  s = CU_add_suite("sys", NULL, NULL);
  CU_add_test(s, "netCDF and HDF5 failures become PETSc errors with the library message", test_wrappers);
  CU_add_test(s, "provenance names every library", test_provenance);
  CU_add_test(s, "converged reasons have names", test_reasons);
  CU_add_test(s, "stability dimensions have names", test_dimensions);
  CU_add_test(s, "atomic file writes", test_atomic);
  CU_add_test(s, "commit of a temporary file", test_commit);
  CU_add_test(s, "a file that cannot be synced is an error naming it", test_sync);
  CU_add_test(s, "deck roles are pushed and popped in matching pairs", test_deck_roles);
  PetscCall(SATestRunSuite(PETSC_COMM_WORLD, &nfail_all));
  PetscCall(SAFinalize());
  PetscCall(SlepcFinalize());
  return nfail_all ? EXIT_FAILURE : EXIT_SUCCESS;
}
