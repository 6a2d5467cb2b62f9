/*
  ensemble.c - SAEnsemble: the campaign engine's object: create, options, run (the session's outer loop) and destroy.

  Layout: MPI_COMM_WORLD is split into groups of -group_size ranks; one member trains at a time on
  a group (theta and optimizer state sharded over it). The rest of the engine (jobs/ensemble/):
  ensemble_dir.c       the campaign directory, its fcntl locks, session numbers and the member table
  ensemble_sched.c     the schedule (who runs what next), the MPI-3 window counter and status board, stop words
  ensemble_member.c    one member's run: checkpoints, branching from its twin, the step loop
  ensemble_progress.c  the progress messages to world rank 0 and their printing
  ensemble_summary.c   results.nc (once every member is finished) and the final table
  Restart: members in flight checkpoint every campaign_checkpoint_every steps
  (DIR/checkpoints/m<id>.h5); finished members are appended to the group's shard; a re-run skips
  finished members and resumes the others from their checkpoints.
*/
#include <stabaudit/private/saensembleimpl.h>
#include <unistd.h>

PetscLogEvent       SAENSEMBLE_Member;
static PetscClassId SAENSEMBLE_CLASSID;

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
  PetscCall(SADeckPushRole(SA_KEY_CONTROL));
  PetscCall(SADeckGetInt("", "group_size", e->group_size, 1, e->wsize, &e->group_size, NULL));
  PetscCall(SADeckGetBool("campaign_", "keep_checkpoints", e->keep, &e->keep, NULL));
  PetscCall(SAEnsembleGetRunInt("shard_count", 1, 100000, &e->shard_count));
  PetscCall(SAEnsembleGetRunInt("shard_index", 0, e->shard_count - 1, &e->shard_index));
  PetscCall(SADeckPopRole(SA_KEY_CONTROL));
  if (e->wsize % e->group_size)
    PetscCall(SADeckFail("group_size", "%" PetscInt_FMT " must divide the number of MPI ranks (%d)", e->group_size,
                         (int) e->wsize));
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
  PetscInt   M = c->nmembers, k;

  PetscFunctionBeginUser;
  PetscCall(PetscTime(&e->t0));
  e->ngroups = e->wsize / e->group_size;
  e->mygroup = e->wrank / e->group_size;
  if (e->group == MPI_COMM_NULL) PetscCallMPI(MPI_Comm_split(e->world, (int) e->mygroup, e->wrank, &e->group));
  PetscCallMPI(MPI_Comm_rank(e->group, &e->grank));
  PetscCall(SAShardIndexDestroy(&e->idx));
  PetscCall(SAShardScan(e->world, e->dir, M, c->nrec, c->nobs, &e->idx));
  e->session = e->idx.maxsession + 1;
  if (e->shard_count > 1) PetscCall(SAEnsembleShardSetUp_Private(e));
  PetscCall(SAEnsembleScheduleSetUp_Private(e));
  PetscCall(PetscPrintf(e->world,
                        "stabaudit: %" PetscInt_FMT " members, %" PetscInt_FMT " finished earlier, %" PetscInt_FMT
                        " to run on %" PetscInt_FMT " group(s) of %" PetscInt_FMT " rank(s); directory %s\n",
                        M, e->idx.nfound, e->nsched, e->ngroups, e->group_size, e->dir));
  if (e->shard_count > 1)
    PetscCall(PetscPrintf(e->world,
                          "stabaudit: shard %" PetscInt_FMT " of %" PetscInt_FMT
                          " (twin families dealt round-robin), session %" PetscInt_FMT "\n",
                          e->shard_index, e->shard_count, e->session));
  PetscCall(SAEnsembleBoardCreate_Private(e));
  e->nprinted = 0;
  e->nmsg = e->nmsgsent = 0;
  e->preempted          = PETSC_FALSE;
  while (1) {
    PetscBool stop;

    PetscCall(SAEnsembleStopRequested_Private(e, PETSC_TRUE, &stop)); /* a preempted run takes no new member */
    if (stop) {
      e->preempted = PETSC_TRUE;
      break;
    }
    PetscCall(SAEnsembleNextMember_Private(e, &k));
    if (k >= e->nsched) break;
    PetscCall(SAEnsembleRunMember_Private(e, e->order[k]));
  }
  PetscCall(SAEnsembleProgressEnd_Private(e));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &e->preempted, 1, MPIU_BOOL, MPI_LOR, e->world));
  PetscCallMPI(MPI_Barrier(e->world));
  {
    PetscInt64     steps = 0;
    PetscLogDouble t1;
    PetscInt       mine = e->grank ? 0 : e->nrun;

    PetscCallMPI(MPI_Reduce(&e->nstepsrun, &steps, 1, MPIU_INT64, MPI_SUM, 0, e->world));
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &mine, 1, MPIU_INT, MPI_SUM, e->world)); /* < nsched if preempted */
    if (mine == e->nsched) e->preempted = PETSC_FALSE; /* a signal after the last member: nothing to resume */
    PetscCall(PetscTime(&t1));
    PetscCall(PetscPrintf(e->world,
                          "stabaudit: trained %" PetscInt_FMT " members, %" PetscInt64_FMT
                          " member-steps in %.3f s (%.1f member-steps/s)\n",
                          mine, steps, (double) (t1 - e->t0), (double) (steps / PetscMax(t1 - e->t0, 1e-9))));
  }
  PetscCall(SAEnsembleBoardDestroy_Private(e));
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
  PetscCall(PetscFree((*e)->onsetstart));
  PetscCall(PetscFree((*e)->onsets));
  PetscCall(PetscFree((*e)->shard));
  PetscCall(PetscFree(*e));
  PetscFunctionReturn(PETSC_SUCCESS);
}
