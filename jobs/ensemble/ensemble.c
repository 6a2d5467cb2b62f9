/*
  ensemble.c - SAEnsemble: the campaign engine.

  Layout: MPI_COMM_WORLD is split into groups of -group_size ranks; one member trains at a time on
  a group (theta and optimizer state sharded over it).
  Scheduling: dynamic. The members still to run are ordered (twins by id, then perturbed members by
  onset and id) and a group leader takes the next one with MPI_Fetch_and_op on a counter in rank
  0's window (MPI-3 passive target): no rank is a pure manager. The same window holds a status per
  member (0 to run, 1 running, 2 finished).
  Twins and branching: a twin writes a branch checkpoint at every onset step of its perturbed
  members (DIR/checkpoints/b<twin>_s<onset>.h5) before taking that step; a perturbed member starts
  from it instead of step 0. If the twin diverged before the onset it writes its final state, and
  the perturbed member records the same outcome (it was never perturbed). A missing branch point
  (twin finished in an earlier campaign) means training from step 0: the result is bitwise the same.
  Restart: members in flight checkpoint every campaign_checkpoint_every steps
  (DIR/checkpoints/m<id>.h5); finished members are appended to the group's shard; a re-run skips
  finished members and resumes the others from their checkpoints.
  Progress: group leaders send one message per finished member to world rank 0, which prints it
  between steps.
*/
#include <stabaudit/saensemble.h>
#include <stabaudit/sadeck.h>
#include <stabaudit/sajobs.h>
#include <sys/stat.h>
#include <dirent.h>
#include <sys/types.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <stdio.h>

#define SA_TAG_PROGRESS 4242
#define SA_MAX_ONSETS   64

typedef struct {
  int    member, group, steps, from, reason;
  double seconds;
  int    preempted; /* 1: the member stopped at step 'steps' on a preemption signal (checkpointed) */
} SAProgressMsg;

struct _p_SAEnsemble {
  MPI_Comm     world;                   /* all ranks */
  MPI_Comm     group;                   /* this rank's group */
  PetscMPIInt  wrank, wsize;            /* rank and size in world */
  PetscMPIInt  grank;                   /* rank in the group */
  PetscInt     group_size;              /* ranks per group */
  PetscInt     ngroups;                 /* number of groups */
  PetscInt     mygroup;                 /* this rank's group */
  SACampaign   c;                       /* the expanded campaign */
  char         dir[PETSC_MAX_PATH_LEN]; /* campaign directory */
  char         history[4096];           /* ISO-8601 time and command line */
  PetscBool    keep;                    /* keep branch checkpoints after completion */
  PetscInt     session;                 /* number of this run on the directory */
  int          lockfd;                  /* fcntl lock on DIR/lock (rank 0) */
  SAShardIndex idx;                     /* finished members at the start */
  PetscInt     nsched;                  /* members to run in this session */
  PetscInt    *order;                   /* their ids in scheduling order */
  PetscInt    *nonsets;                 /* per member: branch points it must write (twins) */
  PetscInt (*onsets)[SA_MAX_ONSETS];    /* the branch steps */
  MPI_Win        win;                   /* [counter, status[M]] on world rank 0 */
  int           *winbuf;                /* its memory (rank 0) */
  PetscInt       nprinted;              /* progress lines printed (world rank 0) */
  PetscLogDouble t0;                    /* session start */
  PetscInt       nrun;                  /* members run by this group in this session */
  PetscInt64     nstepsrun;             /* optimizer steps taken by this group in this session (leader) */
  /* preemption and shards (jobs/preempt.c, docs/hpc.md) */
  PetscInt  shard_index, shard_count; /* this run trains the twin families f with f % shard_count == shard_index */
  PetscBool preempted;                /* a preemption signal stopped this run (members in flight checkpointed) */
  PetscBool complete;                 /* every member of the campaign is finished (results.nc written) */
  PetscInt *shard;                    /* shard of each member (sharded runs), NULL otherwise */
  PetscInt  nmsg, nmsgsent, nmsgall;  /* progress messages received (rank 0), sent (leader), expected (rank 0) */
};

static PetscLogEvent SAENSEMBLE_Member;
static PetscClassId  SAENSEMBLE_CLASSID;

/*@C
  SAEnsembleInitializePackage - Registers the SAEnsemble class and its log event

  Not Collective

  Level: developer

.seealso: `SAInitialize()`
@*/
PetscErrorCode SAEnsembleInitializePackage(void)
{
  static PetscBool done = PETSC_FALSE;

  PetscFunctionBeginUser;
  if (done) PetscFunctionReturn(PETSC_SUCCESS);
  done = PETSC_TRUE;
  PetscCall(PetscClassIdRegister("SAEnsemble", &SAENSEMBLE_CLASSID));
  PetscCall(PetscLogEventRegister("SAEnsembleMember", SAENSEMBLE_CLASSID, &SAENSEMBLE_Member));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAEnsembleCreate - Creates the ensemble engine on all ranks of a campaign

  Collective

  Input Parameter:
. comm - usually `PETSC_COMM_WORLD`

  Output Parameter:
. e - the engine

  Level: beginner

.seealso: `SAEnsembleSetCampaign()`, `SAEnsembleRun()`
@*/
PetscErrorCode SAEnsembleCreate(MPI_Comm comm, SAEnsemble *e)
{
  PetscFunctionBeginUser;
  PetscCall(SAEnsembleInitializePackage());
  PetscCall(PetscNew(e));
  (*e)->world       = comm;
  (*e)->group_size  = 1;
  (*e)->lockfd      = -1;
  (*e)->shard_count = 1;
  (*e)->group       = MPI_COMM_NULL;
  (*e)->win         = MPI_WIN_NULL;
  PetscCallMPI(MPI_Comm_rank(comm, &(*e)->wrank));
  PetscCallMPI(MPI_Comm_size(comm, &(*e)->wsize));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAEnsembleSetCampaign - Sets the campaign (after `SACampaignSetFromOptions()`)

  Logically Collective

  Input Parameters:
+ e - the engine
- c - the campaign

  Level: beginner

.seealso: `SAEnsembleRun()`
@*/
PetscErrorCode SAEnsembleSetCampaign(SAEnsemble e, SACampaign c)
{
  PetscFunctionBeginUser;
  e->c = c;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAEnsembleSetDirectory - Sets the campaign directory

  Logically Collective

  Input Parameters:
+ e   - the engine
- dir - the directory (created if needed)

  Level: beginner

.seealso: `SAEnsemblePrepareDirectory()`
@*/
PetscErrorCode SAEnsembleSetDirectory(SAEnsemble e, const char dir[])
{
  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(e->dir, dir, sizeof(e->dir)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAEnsembleSetCommandLine - Sets the history line written into results.nc

  Logically Collective

  Input Parameters:
+ e       - the engine
- history - ISO-8601 time and the command line

  Level: developer

.seealso: `SAResultsWrite()`
@*/
PetscErrorCode SAEnsembleSetCommandLine(SAEnsemble e, const char history[])
{
  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(e->history, history, sizeof(e->history)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* an option of one run only (shards): read without recording it in the resolved deck, which all shards share */
static PetscErrorCode SAEnsembleGetRunInt(const char key[], PetscInt lo, PetscInt hi, PetscInt *v)
{
  char      opt[64];
  PetscBool set;

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(opt, sizeof(opt), "-%s", key));
  PetscCall(PetscOptionsGetInt(NULL, NULL, opt, v, &set));
  if (set && (*v < lo || *v > hi))
    PetscCall(
      SADeckFail(key, "%" PetscInt_FMT " is out of range; allowed %" PetscInt_FMT " to %" PetscInt_FMT, *v, lo, hi));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAEnsembleSetFromOptions - Reads the layout options

  Collective

  Input Parameter:
. e - the engine

  Options Database Keys:
+ -group_size <n>              - ranks per member (must divide the number of ranks)
. -campaign_keep_checkpoints   - keep the twins' branch checkpoints after the campaign completes
. -shard_count <n>             - split the campaign into n disjoint shards (whole twin families) run by separate jobs
- -shard_index <k>             - the shard this run trains, 0 <= k < shard_count

  Level: beginner

.seealso: `SAEnsembleRun()`
@*/
PetscErrorCode SAEnsembleSetFromOptions(SAEnsemble e)
{
  PetscFunctionBeginUser;
  PetscCall(SADeckSetRole(SA_KEY_CONTROL));
  PetscCall(SADeckGetInt("", "group_size", e->group_size, 1, e->wsize, &e->group_size, NULL));
  PetscCall(SADeckGetBool("campaign_", "keep_checkpoints", e->keep, &e->keep, NULL));
  PetscCall(SAEnsembleGetRunInt("shard_count", 1, 100000, &e->shard_count));
  PetscCall(SAEnsembleGetRunInt("shard_index", 0, e->shard_count - 1, &e->shard_index));
  PetscCall(SADeckSetRole(SA_KEY_RESULT));
  if (e->wsize % e->group_size)
    PetscCall(SADeckFail("group_size", "%" PetscInt_FMT " must divide the number of MPI ranks (%d)", e->group_size,
                         (int) e->wsize));
  PetscFunctionReturn(PETSC_SUCCESS);
}

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
static PetscErrorCode SAEnsembleLockByte(SAEnsemble e, short type, off_t b)
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
    if (e->shard_count > 1) PetscCall(SAEnsembleLockByte(e, F_UNLCK, 0));
  }
  PetscCallMPI(MPI_Barrier(e->world));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* DIR/checkpoints/b<twin>_s<onset>.h5: the state of a twin at the onset of its perturbed members */
static PetscErrorCode SAEnsembleBranchPath(SAEnsemble e, PetscInt twin, PetscInt onset, char path[], size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(
    PetscSNPrintf(path, len, "%s/checkpoints/b%06" PetscInt_FMT "_s%08" PetscInt_FMT ".h5", e->dir, twin, onset));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the group leader checks a file, the group agrees */
static PetscErrorCode SAEnsembleGroupExists(SAEnsemble e, const char path[], PetscBool *flg)
{
  int x = 0;

  PetscFunctionBeginUser;
  if (!e->grank) x = access(path, R_OK) == 0;
  PetscCallMPI(MPI_Bcast(&x, 1, MPI_INT, 0, e->group));
  *flg = x ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAEnsembleStatus(SAEnsemble e, PetscInt m, int set, int *get)
{
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, e->win));
  if (set >= 0) PetscCallMPI(MPI_Accumulate(&set, 1, MPI_INT, 0, 1 + m, 1, MPI_INT, MPI_REPLACE, e->win));
  else PetscCallMPI(MPI_Fetch_and_op(NULL, get, MPI_INT, 0, 1 + m, MPI_NO_OP, e->win));
  PetscCallMPI(MPI_Win_unlock(0, e->win));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAEnsemblePrintProgress(SAEnsemble e, const SAProgressMsg *p)
{
  PetscLogDouble now, el;
  const char    *reason;
  char           from[32] = "";

  PetscFunctionBeginUser;
  e->nmsg++;
  if (p->preempted) {
    char from[32] = "";

    if (p->from > 0) PetscCall(PetscSNPrintf(from, sizeof(from), " (from %d)", p->from));
    PetscCall(PetscPrintf(PETSC_COMM_SELF, "preempted: member %5d group %3d stopped at step %d%s%s\n", p->member,
                          p->group, p->steps, from,
                          p->steps > p->from ? ", checkpoint written" : ", nothing to checkpoint"));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscTime(&now));
  el = now - e->t0;
  e->nprinted++;
  PetscCall(SAConvergedReasonToString((SAConvergedReason) p->reason, &reason));
  if (p->from > 0) PetscCall(PetscSNPrintf(from, sizeof(from), " (from %d)", p->from));
  PetscCall(PetscPrintf(PETSC_COMM_SELF,
                        "[%4" PetscInt_FMT "/%" PetscInt_FMT
                        "] member %5d group %3d steps %6d%-14s %-22s %8.2f s   elapsed %7.1f s  ETA %7.1f s\n",
                        e->nprinted, e->nsched, p->member, p->group, p->steps, from, reason, p->seconds, (double) el,
                        (double) (el / e->nprinted * (e->nsched - e->nprinted))));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* world rank 0 prints what other groups have finished (non-blocking unless wait) */
static PetscErrorCode SAEnsemblePoll(SAEnsemble e, PetscBool wait)
{
  int           flag = 1;
  MPI_Status    st;
  SAProgressMsg p;

  PetscFunctionBeginUser;
  if (e->wrank) PetscFunctionReturn(PETSC_SUCCESS);
  while (1) {
    if (!wait) {
      PetscCallMPI(MPI_Iprobe(MPI_ANY_SOURCE, SA_TAG_PROGRESS, e->world, &flag, &st));
      if (!flag) break;
    } else if (e->nmsg >= e->nmsgall) break;
    PetscCallMPI(MPI_Recv(&p, sizeof(p), MPI_BYTE, MPI_ANY_SOURCE, SA_TAG_PROGRESS, e->world, &st));
    PetscCall(SAEnsemblePrintProgress(e, &p));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* preemption: a signal on any rank of the group or, with board, a stop posted by another group (collective on the
   group) */
static PetscErrorCode SAEnsembleStopRequested(SAEnsemble e, PetscBool board, PetscBool *stop)
{
  int st = 0;

  PetscFunctionBeginUser;
  PetscCall(SAPreemptRequested(e->group, stop));
  if (*stop || !board) PetscFunctionReturn(PETSC_SUCCESS);
  if (!e->grank) PetscCall(SAEnsembleStatus(e, e->c->nmembers, -1, &st));
  PetscCallMPI(MPI_Bcast(&st, 1, MPI_INT, 0, e->group));
  *stop = st ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* a preemption stopped member m at its current step: checkpoint it (if it moved), mark it to run again, post the stop
   for the other groups and report */
static PetscErrorCode SAEnsembleStopMember(SAEnsemble e, SASolver s, PetscInt m, PetscInt start, const char inflight[])
{
  PetscInt step = start;

  PetscFunctionBeginUser;
  e->preempted = PETSC_TRUE;
  if (s) PetscCall(SASolverGetStep(s, &step));
  if (step > start) PetscCall(SASolverWriteCheckpoint(s, m, inflight));
  if (!e->grank) {
    SAProgressMsg p = {(int) m, (int) e->mygroup, (int) step, (int) start, 0, 0.0, 1};

    PetscCall(SAEnsembleStatus(e, m, 0, NULL));
    PetscCall(SAEnsembleStatus(e, e->c->nmembers, 1, NULL));
    e->nmsgsent++;
    if (e->wrank) PetscCallMPI(MPI_Send(&p, sizeof(p), MPI_BYTE, 0, SA_TAG_PROGRESS, e->world));
    else PetscCall(SAEnsemblePrintProgress(e, &p));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* trains member m on this group, from a checkpoint or branch point when there is one */
static PetscErrorCode SAEnsembleRunMember(SAEnsemble e, PetscInt m)
{
  SACampaign     c  = e->c;
  SAMember      *mb = &c->members[m];
  SASolver       s;
  char           inflight[PETSC_MAX_PATH_LEN], path[PETSC_MAX_PATH_LEN];
  PetscBool      flg, done;
  PetscInt       start = 0, step, nrec, nobs;
  PetscLogDouble t0, t1;
  SAMemberResult r;
  SAMemberObjects mo;

  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(SAENSEMBLE_Member, 0, 0, 0, 0));
  PetscCall(PetscTime(&t0));
  if (!e->grank) PetscCall(SAEnsembleStatus(e, m, 1, NULL));
  PetscCall(SACampaignCreateMember(c, m, e->group, e->dir, &mo));
  s = mo.solver;
  PetscCall(SASolverSetUp(s));
  PetscCall(PetscSNPrintf(inflight, sizeof(inflight), "%s/checkpoints/m%06" PetscInt_FMT ".h5", e->dir, m));
  PetscCall(SAEnsembleGroupExists(e, inflight, &flg));
  if (flg) {
    PetscCall(SASolverReadCheckpoint(s, inflight, NULL));
  } else if (mb->pert >= 0) {
    PetscInt onset = c->pertonset[mb->pert];
    int      wait = 1, st = 0;

    PetscCall(SAEnsembleBranchPath(e, mb->twin, onset, path, sizeof(path)));
    /* the twin must have finished: its trajectory gives twin_distance; then start from its branch point when there is
       one (a twin that finished in an earlier campaign has none: train from step 0, bitwise the same); the leader
       decides for the group */
    while (wait == 1) {
      if (!e->grank) {
        PetscCall(SAEnsembleStatus(e, mb->twin, -1, &st));
        if (st == 2) wait = (c->branch && access(path, R_OK) == 0) ? 0 : -1;
      }
      PetscCallMPI(MPI_Bcast(&wait, 1, MPI_INT, 0, e->group));
      if (wait == 1) PetscCall(SAEnsembleStopRequested(e, PETSC_TRUE, &flg));
      if (wait == 1 && flg) { /* preempted while waiting for the twin: nothing done yet */
        PetscCall(SAEnsembleStopMember(e, NULL, m, 0, inflight));
        PetscCall(SASolverDestroy(&s));
        PetscCall(PetscLogEventEnd(SAENSEMBLE_Member, 0, 0, 0, 0));
        PetscFunctionReturn(PETSC_SUCCESS);
      }
      if (wait == 1) {
        PetscCall(SAEnsemblePoll(e, PETSC_FALSE));
        (void) usleep(2000);
      }
    }
    if (wait == 0) PetscCall(SASolverReadCheckpoint(s, path, NULL));
  }
  PetscCall(SASolverGetStep(s, &start));
  PetscCall(SASolverIsDone(s, &done));
  while (!done) {
    PetscCall(SASolverGetStep(s, &step));
    PetscCall(SAPreemptRequested(e->group, &flg)); /* every step boundary: all ranks of the group agree */
    if (flg) {
      PetscCall(SAEnsembleStopMember(e, s, m, start, inflight));
      PetscCall(SASolverDestroy(&s));
      PetscCall(PetscLogEventEnd(SAENSEMBLE_Member, 0, 0, 0, 0));
      PetscFunctionReturn(PETSC_SUCCESS);
    }
    for (PetscInt k = 0; k < e->nonsets[m]; k++)
      if (e->onsets[m][k] == step) {
        PetscCall(SAEnsembleBranchPath(e, m, step, path, sizeof(path)));
        PetscCall(SAEnsembleGroupExists(e, path, &flg));
        if (!flg) PetscCall(SASolverWriteCheckpoint(s, m, path));
      }
    if (step > start && step % c->checkpoint_every == 0) PetscCall(SASolverWriteCheckpoint(s, m, inflight));
    PetscCall(SASolverStep(s));
    PetscCall(SASolverIsDone(s, &done));
    PetscCall(SAEnsemblePoll(e, PETSC_FALSE));
  }
  /* a twin that diverged before some onsets leaves its final state there: the perturbed members share its fate */
  for (PetscInt k = 0; k < e->nonsets[m]; k++) {
    PetscCall(SAEnsembleBranchPath(e, m, e->onsets[m][k], path, sizeof(path)));
    PetscCall(SAEnsembleGroupExists(e, path, &flg));
    if (!flg) PetscCall(SASolverWriteCheckpoint(s, m, path));
  }
  PetscCall(PetscTime(&t1));
  r.member = m;
  PetscCall(SASolverGetReason(s, &r.reason, &r.diverged_step));
  PetscCall(SASolverGetFinalPerformance(s, &r.final_performance));
  PetscCall(SASolverGetRecords(s, &nrec, &nobs, &r.rec));
  PetscCall(SASolverGetStep(s, &step));
  r.nrec    = nrec;
  r.nobs    = nobs;
  r.seconds = t1 - t0;
  PetscCall(SAProbeGetRecords(mo.probe, &r.nprobe, &r.plen, &r.probe)); /* 0 rows without probes */
  {                                                                    /* the Lyapunov exponents (none without lyap:) */
    SALyap ly = mo.lyap;

    r.nlyap        = 0;
    r.lyap_counted = 0;
    r.lyap         = NULL;
    if (ly) {
      PetscCall(SALyapGetNumExponents(ly, &r.nlyap));
      PetscCall(PetscMalloc1(r.nlyap, &r.lyap));
      PetscCall(SALyapGetExponents(ly, r.lyap, &r.lyap_counted));
    }
  }
  if (!e->grank) {
    SAProgressMsg p = {(int) m,
                       (int) e->mygroup,
                       (int) (r.diverged_step >= 0 ? r.diverged_step : c->nsteps),
                       (int) start,
                       (int) r.reason,
                       r.seconds,
                       0};

    PetscCall(SAShardAppend(e->dir, e->session, e->mygroup, &r));
    (void) unlink(inflight);
    PetscCall(SAEnsembleStatus(e, m, 2, NULL));
    e->nmsgsent++;
    if (e->wrank) PetscCallMPI(MPI_Send(&p, sizeof(p), MPI_BYTE, 0, SA_TAG_PROGRESS, e->world));
    else PetscCall(SAEnsemblePrintProgress(e, &p));
  }
  e->nrun++;
  if (!e->grank) e->nstepsrun += step - start;
  PetscCall(PetscFree(r.lyap)); /* the records and probe rows belong to the solver */
  PetscCall(SASolverDestroy(&s));
  PetscCall(PetscLogEventEnd(SAENSEMBLE_Member, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* a sharded run: the shard of every member (whole twin families, dealt round-robin in the order of the twins' ids) and
   a session number of its own (claimed by creating its first shard file: concurrent shards never share one) */
static PetscErrorCode SAEnsembleShardSetUp(SAEnsemble e)
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

/*@C
  SAEnsembleRun - Runs (or resumes) every unfinished member of the campaign

  Collective

  Input Parameter:
. e - the engine (after `SAEnsemblePrepareDirectory()`)

  Notes:
  Diverged members are results. A kill at any instant loses at most the steps since the last
  checkpoint of the members in flight; running the same command again resumes.

  Level: beginner

.seealso: `SAEnsembleWriteResults()`
@*/
PetscErrorCode SAEnsembleRun(SAEnsemble e)
{
  SACampaign c = e->c;
  PetscInt   M = c->nmembers, n = 0, k;
  int        one = 1, next;

  PetscFunctionBeginUser;
  PetscCall(PetscTime(&e->t0));
  e->ngroups = e->wsize / e->group_size;
  e->mygroup = e->wrank / e->group_size;
  if (e->group == MPI_COMM_NULL) PetscCallMPI(MPI_Comm_split(e->world, (int) e->mygroup, e->wrank, &e->group));
  PetscCallMPI(MPI_Comm_rank(e->group, &e->grank));
  PetscCall(SAShardIndexDestroy(&e->idx));
  PetscCall(SAShardScan(e->world, e->dir, M, c->nrec, c->nobs, &e->idx));
  e->session = e->idx.maxsession + 1;
  if (e->shard_count > 1) PetscCall(SAEnsembleShardSetUp(e));

  /* the schedule: twins by id, then perturbed members by (onset, id) */
  PetscCall(PetscFree(e->order));
  PetscCall(PetscFree(e->nonsets));
  PetscCall(PetscFree(e->onsets));
  PetscCall(PetscMalloc1(M + 1, &e->order));
  PetscCall(PetscCalloc1(M + 1, &e->nonsets));
  PetscCall(PetscCalloc1(M + 1, &e->onsets));
  for (PetscInt m = 0; m < M; m++)
    if (e->idx.file[m] < 0 && c->members[m].pert < 0 && (!e->shard || e->shard[m] == e->shard_index)) e->order[n++] = m;
  {
    PetscInt first = n;
    for (PetscInt m = 0; m < M; m++)
      if (e->idx.file[m] < 0 && c->members[m].pert >= 0 && (!e->shard || e->shard[m] == e->shard_index)) {
        PetscInt j = n++, on = c->pertonset[c->members[m].pert];
        while (j > first && c->pertonset[c->members[e->order[j - 1]].pert] > on) {
          e->order[j] = e->order[j - 1];
          j--;
        }
        e->order[j] = m;
      }
  }
  e->nsched = n;
  if (c->branch)
    for (PetscInt i = 0; i < n; i++) {
      SAMember *mb   = &c->members[e->order[i]];
      PetscInt  tw   = mb->twin, on;
      PetscBool have = PETSC_FALSE;

      if (mb->pert < 0 || e->idx.file[tw] >= 0) continue;
      on = c->pertonset[mb->pert];
      for (PetscInt j = 0; j < e->nonsets[tw]; j++) have = (PetscBool) (have || e->onsets[tw][j] == on);
      if (!have && e->nonsets[tw] < SA_MAX_ONSETS) e->onsets[tw][e->nonsets[tw]++] = on;
    }
  PetscCall(PetscPrintf(e->world,
                        "stabaudit: %" PetscInt_FMT " members, %" PetscInt_FMT " finished earlier, %" PetscInt_FMT
                        " to run on %" PetscInt_FMT " group(s) of %" PetscInt_FMT " rank(s); directory %s\n",
                        M, e->idx.nfound, n, e->ngroups, e->group_size, e->dir));
  if (e->shard_count > 1)
    PetscCall(PetscPrintf(e->world,
                          "stabaudit: shard %" PetscInt_FMT " of %" PetscInt_FMT
                          " (twin families dealt round-robin), session %" PetscInt_FMT "\n",
                          e->shard_index, e->shard_count, e->session));

  /* the shared counter and status board (MPI_Win_allocate: Open MPI 4.1 refuses MPI_Win_create on one rank) */
  PetscCallMPI(MPI_Win_allocate(e->wrank ? 0 : (MPI_Aint) sizeof(int) * (M + 2), sizeof(int), MPI_INFO_NULL, e->world,
                                &e->winbuf, &e->win)); /* [counter, status[M], stop] */
  if (!e->wrank) {
    PetscCallMPI(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, e->win));
    e->winbuf[0] = 0;
    for (PetscInt m = 0; m < M; m++) e->winbuf[1 + m] = e->idx.file[m] >= 0 ? 2 : 0;
    e->winbuf[1 + M] = 0;
    PetscCallMPI(MPI_Win_unlock(0, e->win));
  }
  PetscCallMPI(MPI_Barrier(e->world));
  e->nprinted = 0;
  e->nmsg = e->nmsgsent = 0;
  e->preempted          = PETSC_FALSE;
  while (1) {
    PetscBool stop;

    PetscCall(SAEnsembleStopRequested(e, PETSC_TRUE, &stop)); /* a preempted run takes no new member */
    if (stop) {
      e->preempted = PETSC_TRUE;
      break;
    }
    if (!e->grank) {
      PetscCallMPI(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, e->win));
      PetscCallMPI(MPI_Fetch_and_op(&one, &next, MPI_INT, 0, 0, MPI_SUM, e->win));
      PetscCallMPI(MPI_Win_unlock(0, e->win));
    }
    PetscCallMPI(MPI_Bcast(&next, 1, MPI_INT, 0, e->group));
    k = next;
    if (k >= n) break;
    PetscCall(SAEnsembleRunMember(e, e->order[k]));
  }
  {
    PetscInt sent = e->grank ? 0 : e->nmsgsent;

    PetscCallMPI(MPI_Reduce(&sent, &e->nmsgall, 1, MPIU_INT, MPI_SUM, 0, e->world));
  }
  PetscCall(SAEnsemblePoll(e, PETSC_TRUE));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &e->preempted, 1, MPIU_BOOL, MPI_LOR, e->world));
  PetscCallMPI(MPI_Barrier(e->world));
  {
    PetscInt64     steps = 0;
    PetscLogDouble t1;
    PetscInt       mine = e->grank ? 0 : e->nrun;

    PetscCallMPI(MPI_Reduce(&e->nstepsrun, &steps, 1, MPIU_INT64, MPI_SUM, 0, e->world));
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &mine, 1, MPIU_INT, MPI_SUM, e->world)); /* < n if preempted */
    if (mine == n) e->preempted = PETSC_FALSE; /* a signal after the last member: nothing to resume */
    PetscCall(PetscTime(&t1));
    PetscCall(PetscPrintf(e->world,
                          "stabaudit: trained %" PetscInt_FMT " members, %" PetscInt64_FMT
                          " member-steps in %.3f s (%.1f member-steps/s)\n",
                          mine, steps, (double) (t1 - e->t0), (double) (steps / PetscMax(t1 - e->t0, 1e-9))));
  }
  PetscCallMPI(MPI_Win_free(&e->win));
  e->winbuf = NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAEnsembleWriteResults - Writes DIR/results.nc (parallel netCDF-4) from all shards, then removes
  the checkpoints: in-flight ones, torn temporaries, and the twins' branch points unless
  -campaign_keep_checkpoints

  Collective

  Input Parameter:
. e - the engine (after `SAEnsembleRun()`)

  Level: beginner

.seealso: `SAResultsWrite()`
@*/
PetscErrorCode SAEnsembleWriteResults(SAEnsemble e)
{
  SACampaign c = e->c;

  PetscFunctionBeginUser;
  if (e->shard_count > 1 && !e->wrank) PetscCall(SAEnsembleLockByte(e, F_WRLCK, 0)); /* one shard writes at a time */
  PetscCall(SAShardIndexDestroy(&e->idx));
  PetscCall(SAShardScan(e->world, e->dir, c->nmembers, c->nrec, c->nobs, &e->idx));
  e->complete = (PetscBool) (e->idx.nfound == c->nmembers);
  if (!e->complete) { /* a shard finished before the others: the last one (or a run on the whole directory) merges */
    PetscCall(
      PetscPrintf(e->world,
                  "stabaudit: shard %" PetscInt_FMT " of %" PetscInt_FMT " done; %" PetscInt_FMT " of %" PetscInt_FMT
                  " members finished; results.nc is written when the last shard finishes (or by stabaudit run on "
                  "the directory)\n",
                  e->shard_index, e->shard_count, e->idx.nfound, c->nmembers));
    if (e->shard_count > 1 && !e->wrank) PetscCall(SAEnsembleLockByte(e, F_UNLCK, 0));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(SAResultsWrite(e->world, e->dir, c, &e->idx, e->history));
  if (!e->wrank) { /* every member is finished: drop in-flight checkpoints, torn temporaries and (unless kept) branch
                      points */
    char           cdir[PETSC_MAX_PATH_LEN], path[2 * PETSC_MAX_PATH_LEN];
    DIR           *d;
    struct dirent *de;

    PetscCall(PetscSNPrintf(cdir, sizeof(cdir), "%s/checkpoints", e->dir));
    d = opendir(cdir);
    while (d && (de = readdir(d))) {
      size_t l = strlen(de->d_name);

      if (de->d_name[0] == '.') continue;
      if (de->d_name[0] == 'b' && e->keep && l > 3 && !strcmp(de->d_name + l - 3, ".h5")) continue;
      PetscCall(PetscSNPrintf(path, sizeof(path), "%s/%s", cdir, de->d_name));
      (void) unlink(path);
    }
    if (d) closedir(d);
    if (e->shard_count > 1) PetscCall(SAEnsembleLockByte(e, F_UNLCK, 0));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAEnsembleGetStatus - Whether the last `SAEnsembleRun()` was stopped by a preemption signal, and whether the campaign
  is complete (after `SAEnsembleWriteResults()`)

  Collective

  Input Parameter:
. e - the engine

  Output Parameters:
+ preempted - `PETSC_TRUE` if a signal stopped the run (members in flight are checkpointed; run again to resume)
- complete  - `PETSC_TRUE` if every member is finished and results.nc was written

  Level: beginner

.seealso: `SAEnsembleRun()`, `SAPreemptInstall()`
@*/
PetscErrorCode SAEnsembleGetStatus(SAEnsemble e, PetscBool *preempted, PetscBool *complete)
{
  PetscFunctionBeginUser;
  if (preempted) *preempted = e->preempted;
  if (complete) *complete = e->complete;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAEnsembleSummary - Prints where results.nc is and a table per kind and magnitude: members,
  diverged members and mean final performance

  Collective

  Input Parameter:
. e - the engine (after `SAEnsembleWriteResults()`)

  Level: beginner

.seealso: `SAEnsembleWriteResults()`
@*/
PetscErrorCode SAEnsembleSummary(SAEnsemble e)
{
  SACampaign c       = e->c;
  PetscInt   ngroups = 1 + c->nperts * SA_MAX_MAGNITUDES_PER_BLOCK;
  PetscInt  *cnt, *div;
  PetscReal *sum;

  PetscFunctionBeginUser;
  if (e->wrank || !e->complete) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscCalloc3(ngroups, &cnt, ngroups, &div, ngroups, &sum));
  for (PetscInt m = 0; m < c->nmembers; m++) {
    SAMember      *mb = &c->members[m];
    SAMemberResult r;
    PetscInt       g = 0;

    if (mb->pert >= 0)
      for (PetscInt j = 0; j < c->pertnmag[mb->pert]; j++)
        if (c->pertmags[mb->pert][j] == mb->magnitude) g = 1 + mb->pert * SA_MAX_MAGNITUDES_PER_BLOCK + j;
    PetscCall(SAShardRead(&e->idx, m, &r));
    cnt[g]++;
    div[g] += r.reason < 0;
    sum[g] += r.final_performance;
    PetscCall(SAMemberResultDestroy(&r));
  }
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "\nresults: %s/results.nc\n", e->dir));
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "%-16s %-16s %-16s %12s %8s %9s %12s\n", "dimension", "kind", "block",
                        "magnitude", "members", "diverged", "final perf"));
  for (PetscInt g = 0; g < ngroups; g++) {
    PetscInt p = (g - 1) / SA_MAX_MAGNITUDES_PER_BLOCK, j = (g - 1) % SA_MAX_MAGNITUDES_PER_BLOCK;

    if (!cnt[g]) continue;
    if (!g)
      PetscCall(PetscPrintf(PETSC_COMM_SELF, "%-16s %-16s %-16s %12s %8" PetscInt_FMT " %9" PetscInt_FMT " %12.4f\n",
                            "none", "none (twin)", "-", "-", cnt[g], div[g], (double) (sum[g] / cnt[g])));
    else
      PetscCall(PetscPrintf(PETSC_COMM_SELF, "%-16s %-16s %-16s %12g %8" PetscInt_FMT " %9" PetscInt_FMT " %12.4f\n",
                            SADimensions[c->pertdim[p]], c->pertkind[p], c->pertnames[p], (double) c->pertmags[p][j],
                            cnt[g], div[g], (double) (sum[g] / cnt[g])));
  }
  PetscCall(PetscFree3(cnt, div, sum));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAEnsembleDestroy - Destroys the engine and releases the directory lock

  Collective

  Input Parameter:
. e - the engine (set to NULL)

  Level: beginner

.seealso: `SAEnsembleCreate()`
@*/
PetscErrorCode SAEnsembleDestroy(SAEnsemble *e)
{
  PetscFunctionBeginUser;
  if (!*e) PetscFunctionReturn(PETSC_SUCCESS);
  if ((*e)->lockfd >= 0) close((*e)->lockfd);
  if ((*e)->group != MPI_COMM_NULL) PetscCallMPI(MPI_Comm_free(&(*e)->group));
  PetscCall(SAShardIndexDestroy(&(*e)->idx));
  PetscCall(PetscFree((*e)->order));
  PetscCall(PetscFree((*e)->nonsets));
  PetscCall(PetscFree((*e)->onsets));
  PetscCall(PetscFree((*e)->shard));
  PetscCall(PetscFree(*e));
  PetscFunctionReturn(PETSC_SUCCESS);
}
