/*
  ensemble_summary.c - SAEnsemble's end of a campaign: DIR/results.nc from all shards once every member is finished
  (then the checkpoints are dropped) and the final table per kind and magnitude.
*/
#include <stabaudit/private/saensembleimpl.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>

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
  if (e->shard_count > 1 && !e->wrank)
    PetscCall(SAEnsembleLockByte_Private(e, F_WRLCK, 0)); /* one shard writes at a time */
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
    if (e->shard_count > 1 && !e->wrank) PetscCall(SAEnsembleLockByte_Private(e, F_UNLCK, 0));
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
    if (e->shard_count > 1) PetscCall(SAEnsembleLockByte_Private(e, F_UNLCK, 0));
  }
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
