/*
  sainit.c - package initialisation, provenance strings and small file utilities shared by
  every part of stabaudit.
*/
#include <stabaudit/sasys.h>
#include <petsc/private/petscimpl.h> /* the object header fields of SAObjectViewHeader() */
#include <stabaudit/sadimension.h>
#include <slepcsys.h>
#include <netcdf_meta.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <stdio.h>

extern const char sa_git_sha[];
extern const char sa_version[];

const char *const SAConvergedReasons[] = {"diverged_loss_exploded", "diverged_nan", "iterating", "completed",
                                          "SAConvergedReason",      "SA_",          NULL};

PetscClassId  SA_CLASSID;
PetscLogEvent SA_IOWrite, SA_IORead, SA_CheckpointWrite, SA_CheckpointRead;

/* names of SADimension (sadimension.h), in PetscEnum layout */
const char *const SADimensions[] = {"none",        "optimization", "environment", "parametric", "learning_signal",
                                    "SADimension", "SA_DIM_",      NULL};

static PetscBool SAPackageInitialized = PETSC_FALSE;

/*@C
  SAConvergedReasonToString - Returns the name of an `SAConvergedReason`

  Not Collective

  Input Parameter:
. reason - the reason

  Output Parameter:
. str - a static string, e.g. "completed" or "diverged_nan"

  Level: beginner

.seealso: `SAConvergedReason`
@*/
PetscErrorCode SAConvergedReasonToString(SAConvergedReason reason, const char **str)
{
  PetscFunctionBeginUser;
  PetscCheck(reason >= -2 && reason <= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Unknown SAConvergedReason %d",
             (int) reason);
  *str = SAConvergedReasons[reason + 2];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAInitialize - Registers stabaudit's own class id and its I/O log events (each class's package initialises itself
  on its first Create and registers its finalizer with `PetscRegisterFinalize()`)

  Collective on `PETSC_COMM_WORLD`

  Notes:
  Call after `SlepcInitialize()`; calling it twice is harmless.

  Level: beginner

.seealso: `SAFinalize()`
@*/
PetscErrorCode SAInitialize(void)
{
  PetscFunctionBeginUser;
  if (SAPackageInitialized) PetscFunctionReturn(PETSC_SUCCESS);
  SAPackageInitialized = PETSC_TRUE;
  PetscCall(PetscClassIdRegister("stabaudit", &SA_CLASSID));
  PetscCall(PetscLogEventRegister("SAIOWrite", SA_CLASSID, &SA_IOWrite));
  PetscCall(PetscLogEventRegister("SAIORead", SA_CLASSID, &SA_IORead));
  PetscCall(PetscLogEventRegister("SACheckpointWrite", SA_CLASSID, &SA_CheckpointWrite));
  PetscCall(PetscLogEventRegister("SACheckpointRead", SA_CLASSID, &SA_CheckpointRead));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAFinalize - Ends what `SAInitialize()` began (each class's package frees its type registry itself, in
  `PetscFinalize()`, through the finalizer it registered when it was first used)

  Collective on `PETSC_COMM_WORLD`

  Level: beginner

.seealso: `SAInitialize()`
@*/
PetscErrorCode SAFinalize(void)
{
  PetscFunctionBeginUser;
  if (!SAPackageInitialized) PetscFunctionReturn(PETSC_SUCCESS);
  SAPackageInitialized = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAGetGitSha - Returns the git commit the library was built from ("unknown" outside a checkout)

  Not Collective

  Output Parameter:
. sha - static string, 12 hex digits, with "-dirty" when built from a modified tree

  Level: beginner

.seealso: `SAGetProvenance()`
@*/
PetscErrorCode SAGetGitSha(const char **sha)
{
  PetscFunctionBeginUser;
  *sha = sa_git_sha;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAGetVersion - Writes "stabaudit <version> (<git sha>)" into a buffer

  Not Collective

  Input Parameter:
. len - size of the buffer

  Output Parameter:
. buf - the string

  Level: beginner

.seealso: `SAGetProvenance()`
@*/
PetscErrorCode SAGetVersion(char buf[], size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(buf, len, "stabaudit %s (%s)", sa_version, sa_git_sha));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAGetProvenance - Writes the versions of stabaudit and every library it runs on into a buffer

  Not Collective

  Input Parameter:
. len - size of the buffer

  Output Parameter:
. buf - e.g. "stabaudit 0.1.0 (1a2b3c4d5e6f); PETSc 3.18.5; SLEPc 3.18.2; netCDF 4.9.0; HDF5 1.10.8; Open MPI v4.1.4"

  Notes:
  This is the `source` attribute of every file stabaudit writes.

  Level: beginner

.seealso: `SAGetVersion()`, `SAGetGitSha()`
@*/
PetscErrorCode SAGetProvenance(char buf[], size_t len)
{
  char        mpiver[MPI_MAX_LIBRARY_VERSION_STRING], *nl;
  int         mpilen;
  const char *ncver = nc_inq_libvers();
  char        ncshort[32];
  size_t      i;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Get_library_version(mpiver, &mpilen));
  nl = strchr(mpiver, ',');
  if (nl) *nl = 0;
  for (i = 0; i < sizeof(ncshort) - 1 && ncver[i] && ncver[i] != ' '; i++) ncshort[i] = ncver[i];
  ncshort[i] = 0;
  PetscCall(PetscSNPrintf(buf, len, "stabaudit %s (%s); PETSc %d.%d.%d; SLEPc %d.%d.%d; netCDF %s; HDF5 %d.%d.%d; %s",
                          sa_version, sa_git_sha, PETSC_VERSION_MAJOR, PETSC_VERSION_MINOR, PETSC_VERSION_SUBMINOR,
                          SLEPC_VERSION_MAJOR, SLEPC_VERSION_MINOR, SLEPC_VERSION_SUBMINOR, ncshort, H5_VERS_MAJOR,
                          H5_VERS_MINOR, H5_VERS_RELEASE, mpiver));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static herr_t SAH5ErrorWalk(unsigned n, const H5E_error2_t *err, void *ctx)
{
  char *buf = (char *) ctx;

  if (n == 0)
    snprintf(buf, 512, "%s: %s", err->func_name ? err->func_name : "?", err->desc ? err->desc : "no description");
  return 0;
}

/*@C
  SAH5ErrorMessage - The innermost message of HDF5's current error stack (for `SACallH5()`)

  Not Collective

  Notes:
  Returns static storage, overwritten by the next call; "no HDF5 error recorded" if the stack is empty.

  Level: developer

.seealso: `SACallH5()`, `SACallH5Return()`
@*/
const char *SAH5ErrorMessage(void)
{
  static char buf[512];

  snprintf(buf, sizeof(buf), "no HDF5 error recorded");
  (void) H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, SAH5ErrorWalk, buf);
  return buf;
}

/*@C
  SAFunctionListGetNames - The names registered in a `PetscFunctionList`, sorted (the registry's own list of types)

  Not Collective

  Input Parameter:
. list - the registry

  Output Parameters:
+ n     - number of names
- names - the names, NULL-terminated; free the array (not the names, which the registry owns) with `PetscFree()`

  Notes:
  `PetscFunctionListGet()` gives registration order (and counts a trailing NULL) in PETSc 3.18 and hash order (without
  it) once the list is a hash map; sorting gives every PETSc version the same order.

  Level: developer

.seealso: `PetscFunctionListGet()`
@*/
PetscErrorCode SAFunctionListGetNames(PetscFunctionList list, PetscInt *n, const char ***names)
{
  const char **all = NULL;
  int          m   = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscFunctionListGet(list, &all, &m));
  PetscCall(PetscMalloc1(m + 1, names));
  *n = 0;
  for (int i = 0; i < m; i++)
    if (all && all[i]) (*names)[(*n)++] = all[i];
  (*names)[*n] = NULL;
  PetscCall(PetscFree(all));
  for (PetscInt i = 1; i < *n; i++) /* insertion sort: a registry holds a few dozen names */
    for (PetscInt j = i; j > 0 && strcmp((*names)[j - 1], (*names)[j]) > 0; j--) {
      const char *t   = (*names)[j];
      (*names)[j]     = (*names)[j - 1];
      (*names)[j - 1] = t;
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* fsync() of a file or directory; every failure is PETSC_ERR_FILE_WRITE naming it (and what it is synced for: ctx,
   "" or " (...)"); a directory on a file system that cannot sync directories (EINVAL) has nothing to sync */
static PetscErrorCode SAFileSync_Private(const char path[], PetscBool isdir, const char ctx[])
{
  const char *what = isdir ? "directory " : "";
  int         fd;

  PetscFunctionBeginUser;
  fd = open(path, O_RDONLY);
  PetscCheck(fd >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "Cannot open %s%s to sync it%s: %s", what, path, ctx,
             strerror(errno));
  if (fsync(fd) && !(isdir && errno == EINVAL)) {
    int err = errno;

    (void) close(fd);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "Cannot sync %s%s%s: %s", what, path, ctx, strerror(err));
  }
  PetscCheck(!close(fd), PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "Cannot close %s%s after syncing it%s: %s", what, path,
             ctx, strerror(errno));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAFileSync - Flushes a file (or directory) to stable storage with fsync()

  Not Collective

  Input Parameter:
. path - the file

  Notes:
  Fails with `PETSC_ERR_FILE_WRITE`, naming the file and the system's reason, if the file cannot be opened, synced
  or closed: a file that may not be on disk is an error, not a silent success.

  Level: developer

.seealso: `SAFileWriteAtomic()`, `SAFileCommit()`
@*/
PetscErrorCode SAFileSync(const char path[])
{
  PetscFunctionBeginUser;
  PetscCall(SAFileSync_Private(path, PETSC_FALSE, ""));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAFileTmpName - The name a file is written under before `SAFileCommit()` renames it into place

  Not Collective

  Input Parameters:
+ path - the file
- len  - size of tmp

  Output Parameter:
. tmp - `path.tmp`

  Level: developer

.seealso: `SAFileCommit()`, `SAFileWriteAtomic()`
@*/
PetscErrorCode SAFileTmpName(const char path[], char tmp[], size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(tmp, len, "%s.tmp", path));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the rank-0 part of SAFileCommit(): sync tmp, rename it, sync the directory (the new entry must be durable) */
static PetscErrorCode SAFileCommit_Local(const char tmp[], const char path[])
{
  char        ctx[2 * PETSC_MAX_PATH_LEN + 32], dir[PETSC_MAX_PATH_LEN];
  const char *slash = strrchr(path, '/');

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(ctx, sizeof(ctx), " (committing %s to %s)", tmp, path));
  PetscCall(SAFileSync_Private(tmp, PETSC_FALSE, ctx));
  PetscCheck(!rename(tmp, path), PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "Cannot rename %s to %s: %s", tmp, path,
             strerror(errno));
  if (!slash) PetscCall(PetscStrncpy(dir, ".", sizeof(dir)));
  else PetscCall(PetscSNPrintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int) (slash - path), path));
  PetscCall(SAFileSync_Private(dir, PETSC_TRUE, ctx));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAFileCommit - Makes a completely written temporary file the file itself, durably

  Collective

  Input Parameters:
+ comm - the ranks that wrote tmp (all of them must have closed it)
. tmp  - the temporary file (`SAFileTmpName()`)
- path - the file

  Notes:
  Rank 0 syncs tmp, renames it over path and syncs the directory, so that after a crash path holds either its old
  or its new content, never a part. No rank returns before the rename; if rank 0 fails, every rank fails, with an
  error naming both files.

  Level: developer

.seealso: `SAFileTmpName()`, `SAFileWriteAtomic()`, `SAFileSync()`
@*/
PetscErrorCode SAFileCommit(MPI_Comm comm, const char tmp[], const char path[])
{
  PetscMPIInt    rank;
  PetscErrorCode ierr = PETSC_SUCCESS;
  int            status;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (!rank) ierr = SAFileCommit_Local(tmp, path);
  status = (int) ierr;
  PetscCallMPI(MPI_Bcast(&status, 1, MPI_INT, 0, comm));
  if (!rank) PetscCall(ierr);
  PetscCheck(!status, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "Rank 0 could not commit %s to %s", tmp, path);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAFileWriteAtomic - Writes a whole file so that readers see either the old or the new content

  Not Collective

  Input Parameters:
+ path - the file
. data - the bytes
- len  - their number

  Notes:
  Writes `path.tmp`, syncs it, renames it over `path` and syncs the directory; a kill at any instant leaves no
  half-written `path`.

  Level: developer

.seealso: `SAFileSync()`, `SAFileCommit()`
@*/
PetscErrorCode SAFileWriteAtomic(const char path[], const char data[], size_t len)
{
  char   tmp[PETSC_MAX_PATH_LEN];
  FILE  *fp;
  size_t n;
  int    err;

  PetscFunctionBeginUser;
  PetscCall(SAFileTmpName(path, tmp, sizeof(tmp)));
  fp = fopen(tmp, "wb");
  PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "Cannot write %s: %s", tmp, strerror(errno));
  n   = fwrite(data, 1, len, fp);
  err = fflush(fp);
  err |= fclose(fp);
  PetscCheck(n == len && !err, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "Cannot write %s: %s", tmp, strerror(errno));
  PetscCall(SAFileCommit(PETSC_COMM_SELF, tmp, path));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAObjectViewHeader - Prints the first line of a view of a stabaudit object of a class without types:
  "SAXxx Object: name (prefix) n MPI processes" (PetscObjectPrintClassNamePrefixType() without its type line)

  Collective

  Input Parameters:
+ obj    - the object
- viewer - an ASCII viewer

  Level: developer

.seealso: `SASolverView()`, `SAProbeView()`, `SALyapView()`
@*/
PetscErrorCode SAObjectViewHeader(PetscObject obj, PetscViewer viewer)
{
  PetscMPIInt size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(obj->comm, &size));
  PetscCall(PetscViewerASCIIPrintf(viewer, "%s Object:%s%s%s%s%s %d MPI process%s\n", obj->class_name,
                                   obj->name ? " " : "", obj->name ? obj->name : "", obj->prefix ? " (" : "",
                                   obj->prefix ? obj->prefix : "", obj->prefix ? ")" : "", size, size > 1 ? "es" : ""));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAObjectDestroyCtx - Destroys a PetscObject given as a hook or monitor context (drops the reference the solver took
  over): the destroy function of `SASolverAddHooks()` and `SASolverMonitorSet()` for SAPerturb, SAProbe and SALyap

  Collective

  Input Parameter:
. ctx - pointer to the object (set to NULL)

  Level: developer

.seealso: `SAPerturbAttach()`, `SAProbeAttach()`, `SALyapAttach()`
@*/
PetscErrorCode SAObjectDestroyCtx(void **ctx)
{
  PetscFunctionBeginUser;
  PetscCall(PetscObjectDestroy((PetscObject *) ctx));
  PetscFunctionReturn(PETSC_SUCCESS);
}
