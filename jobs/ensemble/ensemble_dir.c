/*
  ensemble_dir.c - SAEnsemble's campaign directory: creation, the fcntl locks on DIR/lock (a whole run, a shard, the
  shared writes), the deck check, the member table (DIR/deck.yaml, DIR/members.txt) and a sharded run's session number.
*/
#include <stabaudit/private/saensembleimpl.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <stdio.h>

static PetscErrorCode SAReadFile(const char path[], char **text, PetscBool *found)
{
  FILE *fp = fopen(path, "rb");
  long  len;

  PetscFunctionBeginUser;
  *text  = NULL;
  *found = fp ? PETSC_TRUE : PETSC_FALSE;
  if (!fp) PetscFunctionReturn(PETSC_SUCCESS);
  fseek(fp, 0, SEEK_END);
  len = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  PetscCall(PetscCalloc1(len + 1, text));
  PetscCheck(fread(*text, 1, (size_t) len, fp) == (size_t) len, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "Cannot read %s",
             path);
  fclose(fp);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* mkdir -p */
static PetscErrorCode SAMakeDirs(const char path[])
{
  char buf[PETSC_MAX_PATH_LEN];

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(buf, path, sizeof(buf)));
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    PetscCheck(!mkdir(buf, 0755) || errno == EEXIST, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT,
               "cannot create directory %s: %s", buf, strerror(errno));
    *p = '/';
  }
  PetscCheck(!mkdir(buf, 0755) || errno == EEXIST, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT,
             "cannot create campaign directory %s: %s", buf, strerror(errno));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* byte b of DIR/lock: F_WRLCK waits for it, F_UNLCK releases it (rank 0 of a sharded run) */
PetscErrorCode SAEnsembleLockByte_Private(SAEnsemble e, short type, off_t b)
{
  struct flock fl;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(&fl, sizeof(fl)));
  fl.l_type   = type;
  fl.l_whence = SEEK_SET;
  fl.l_start  = b;
  fl.l_len    = 1;
  PetscCheck(!fcntl(e->lockfd, F_SETLKW, &fl), PETSC_COMM_SELF, PETSC_ERR_SYS, "cannot (un)lock %s/lock: %s", e->dir,
             strerror(errno));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* rank 0's part of the directory preparation; errors are returned, not raised */
static PetscErrorCode SAEnsemblePrepareRoot(SAEnsemble e, char **prior)
{
  char         path[PETSC_MAX_PATH_LEN], *old = NULL, *now = NULL;
  const char  *sub[] = {"", "/shards", "/checkpoints", "/logs", "/trajectories"};
  PetscBool    found;
  struct flock fl;

  PetscFunctionBeginUser;
  for (int i = 0; i < 5; i++) {
    PetscCall(PetscSNPrintf(path, sizeof(path), "%s%s", e->dir, sub[i]));
    PetscCall(SAMakeDirs(path));
  }
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/lock", e->dir));
  e->lockfd = open(path, O_RDWR | O_CREAT, 0644);
  PetscCheck(e->lockfd >= 0, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "cannot open %s: %s", path, strerror(errno));
  PetscCall(PetscMemzero(&fl, sizeof(fl)));
  fl.l_type   = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (e->shard_count > 1) { /* byte 1 + k: shard k; a whole run locks every byte (it conflicts with all shards) */
    fl.l_start = 1 + e->shard_index;
    fl.l_len   = 1;
  }
  if (fcntl(e->lockfd, F_SETLK, &fl)) {
    struct flock who      = fl;
    char         what[64] = "";

    who.l_pid = 0;
    (void) fcntl(e->lockfd, F_GETLK, &who);
    close(e->lockfd);
    e->lockfd = -1;
    if (e->shard_count > 1)
      PetscCall(PetscSNPrintf(what, sizeof(what),
                              " on shard %" PetscInt_FMT " of %" PetscInt_FMT " or on the whole campaign",
                              e->shard_index, e->shard_count));
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_USER_INPUT,
            "campaign directory %s is in use by another stabaudit run%s (pid %d); wait for it or use another -o "
            "directory",
            e->dir, what, (int) who.l_pid);
  }
  if (e->shard_count > 1) { /* byte 0 serialises the preparation of the shared files between shards (released in
                               SAEnsemblePrepareDirectory()) */
    struct flock prep = fl;

    prep.l_start = 0;
    PetscCheck(!fcntl(e->lockfd, F_SETLKW, &prep), PETSC_COMM_SELF, PETSC_ERR_SYS, "cannot lock %s: %s", path,
               strerror(errno));
  } else {
    char pid[32];
    PetscCall(PetscSNPrintf(pid, sizeof(pid), "%d\n", (int) getpid()));
    if (ftruncate(e->lockfd, 0) || pwrite(e->lockfd, pid, strlen(pid), 0) < 0)
      PetscCall(PetscInfo(NULL, "cannot write the pid into the lock file\n"));
  }
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/deck.yaml", e->dir));
  PetscCall(SAReadFile(path, &old, &found));
  PetscCall(SADeckGetResolved(&now));
  if (found) PetscCall(SADeckCompareResolved(old, now, e->dir));
  PetscCall(PetscFree(old));
  PetscCall(PetscFree(now));
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/members.txt", e->dir));
  PetscCall(SAReadFile(path, prior, &found));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAEnsemblePrepareDirectory - Creates (or checks and locks) the campaign directory, expands the
  campaign with stable member ids and writes DIR/deck.yaml and DIR/members.txt

  Collective

  Input Parameter:
. e - the engine

  Notes:
  An existing directory may be resumed or extended only with a deck that agrees on every key that
  changes results. A directory in use by another run is an error.

  Level: beginner

.seealso: `SAEnsembleRun()`, `SADeckCompareResolved()`
@*/
PetscErrorCode SAEnsemblePrepareDirectory(SAEnsemble e)
{
  PetscErrorCode ierr      = PETSC_SUCCESS;
  char           msg[1024] = "", *prior = NULL, *text;
  PetscInt       len = 0;

  PetscFunctionBeginUser;
  if (!e->wrank) {
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = SAEnsemblePrepareRoot(e, &prior);
    PetscCall(PetscPopErrorHandler());
    if (ierr) {
      const char *m;
      PetscCall(SADeckError(ierr, &m));
      PetscCall(PetscStrncpy(msg, m, sizeof(msg)));
    }
    len = prior ? (PetscInt) strlen(prior) + 1 : 0;
  }
  PetscCallMPI(MPI_Bcast(&ierr, 1, MPI_INT, 0, e->world));
  PetscCallMPI(MPI_Bcast(msg, sizeof(msg), MPI_CHAR, 0, e->world));
  PetscCheck(!ierr, e->world, PETSC_ERR_USER_INPUT, "%s", msg);
  PetscCallMPI(MPI_Bcast(&len, 1, MPIU_INT, 0, e->world));
  if (len && e->wrank) PetscCall(PetscMalloc1(len, &prior));
  if (len) PetscCallMPI(MPI_Bcast(prior, (PetscMPIInt) len, MPI_CHAR, 0, e->world));
  PetscCall(SACampaignExpand(e->c, prior));
  PetscCall(PetscFree(prior));
  if (!e->wrank) {
    char path[PETSC_MAX_PATH_LEN];

    PetscCall(SADeckGetResolved(&text));
    PetscCall(PetscSNPrintf(path, sizeof(path), "%s/deck.yaml", e->dir));
    PetscCall(SAFileWriteAtomic(path, text, strlen(text)));
    PetscCall(PetscFree(text));
    PetscCall(SACampaignGetMemberTable(e->c, &text));
    PetscCall(PetscSNPrintf(path, sizeof(path), "%s/members.txt", e->dir));
    PetscCall(SAFileWriteAtomic(path, text, strlen(text)));
    PetscCall(PetscFree(text));
    if (e->shard_count > 1) PetscCall(SAEnsembleLockByte_Private(e, F_UNLCK, 0));
  }
  PetscCallMPI(MPI_Barrier(e->world));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* a sharded run: the shard of every member (whole twin families, dealt round-robin in the order of the twins' ids) and
   a session number of its own (claimed by creating its first shard file: concurrent shards never share one) */
PetscErrorCode SAEnsembleShardSetUp_Private(SAEnsemble e)
{
  SACampaign c  = e->c;
  PetscInt   nt = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscFree(e->shard));
  PetscCall(PetscMalloc1(c->nmembers + 1, &e->shard));
  for (PetscInt m = 0; m < c->nmembers; m++)
    if (c->members[m].pert < 0) e->shard[m] = nt++ % e->shard_count;
  for (PetscInt m = 0; m < c->nmembers; m++)
    if (c->members[m].pert >= 0) e->shard[m] = e->shard[c->members[m].twin];
  if (!e->wrank) {
    while (1) {
      char path[PETSC_MAX_PATH_LEN];
      int  fd;

      PetscCall(PetscSNPrintf(path, sizeof(path), "%s/shards/s%04" PetscInt_FMT "_g%05d.sa", e->dir, e->session, 0));
      fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
      if (fd >= 0) {
        close(fd);
        break;
      }
      PetscCheck(errno == EEXIST, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot create %s: %s", path, strerror(errno));
      e->session++;
    }
  }
  PetscCallMPI(MPI_Bcast(&e->session, 1, MPIU_INT, 0, e->world));
  PetscFunctionReturn(PETSC_SUCCESS);
}
