/*
  cmd_jobs.c - stabaudit jobs DECK -o DIR [-slurm_...] [-submit]: prepares the campaign directory
  (resolved deck, member table; refused like stabaudit run if DIR holds another campaign) and
  writes the SLURM job scripts into DIR/jobs/ (jobs/slurm.c, docs/hpc.md).
*/
#include <stabaudit/saensemble.h>
#include <stabaudit/sadeck.h>
#include <stabaudit/sajobs.h>
#include <string.h>

PetscErrorCode CommandJobs(const char[], int, char **);

/*@C
  CommandJobs - The jobs verb of the stabaudit command line

  Collective

  Input Parameters:
+ deck - the deck
. argc - argument count
- argv - arguments

  Level: beginner

.seealso: `SAJobsWrite()`
@*/
PetscErrorCode CommandJobs(const char deck[], int argc, char **argv)
{
  SACampaign  c;
  SAEnsemble  e;
  SAJobs      j;
  char        dir[PETSC_MAX_PATH_LEN], def[PETSC_MAX_PATH_LEN];
  const char *base = strrchr(deck, '/') ? strrchr(deck, '/') + 1 : deck;

  PetscFunctionBeginUser;
  PetscCall(SADeckLoad(PETSC_COMM_WORLD, deck, argc, argv));
  PetscCall(SACampaignCreate(PETSC_COMM_WORLD, &c));
  PetscCall(SACampaignSetFromOptions(c));
  PetscCall(SAJobsCreate(PETSC_COMM_WORLD, &j));
  PetscCall(SAJobsSetFromOptions(j));
  PetscCall(PetscSNPrintf(def, sizeof(def), "runs/%.*s", (int) strcspn(base, "."), base));
  PetscCall(SADeckPushRole(SA_KEY_CONTROL));
  PetscCall(SADeckGetString("", "o", def, dir, sizeof(dir), NULL));
  PetscCall(SADeckPopRole(SA_KEY_CONTROL));
  PetscCall(SADeckCheckUnused(PETSC_COMM_WORLD));
  PetscCall(SAEnsembleCreate(PETSC_COMM_WORLD, &e));
  PetscCall(SAEnsembleSetCampaign(e, c));
  PetscCall(SAEnsembleSetDirectory(e, dir));
  PetscCall(SAEnsemblePrepareDirectory(e));
  PetscCall(SAJobsWrite(j, c, dir));
  PetscCall(SAEnsembleDestroy(&e)); /* releases DIR/lock before the jobs can start */
  PetscCall(SAJobsSubmit(j));
  PetscCall(SAJobsDestroy(&j));
  PetscCall(SACampaignDestroy(&c));
  PetscFunctionReturn(PETSC_SUCCESS);
}
