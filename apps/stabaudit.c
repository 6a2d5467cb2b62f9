static char help[] =
  "stabaudit - controlled perturbation audits of neural-network training stability\n\n"
  "usage:\n"
  "  stabaudit run  DECK.yaml [-o DIR] [-group_size N] [deck keys as options]  run or resume a campaign\n"
  "  stabaudit plan DECK.yaml [deck keys as options]                           print the member table summary\n"
  "  stabaudit analyze DIR [-analyze_... options]                              stability analysis: DIR/analysis.nc "
  "(docs/analysis.md)\n"
  "  stabaudit report DIR                                                      figures and report.md from "
  "DIR/analysis.nc\n"
  "  stabaudit jobs DECK.yaml -o DIR [-slurm_... options] [-submit]          write (and submit) SLURM job scripts "
  "(docs/hpc.md)\n"
  "  stabaudit version                                                         print versions of stabaudit and its "
  "libraries\n\n"
  "Every deck key is also an option (nested maps joined by '_': task: {quadratic: {dim: 64}} is -task_quadratic_dim "
  "64);\n"
  "the command line overrides the deck. Run with -options_left to see unused options.\n";

/*
  Examples:
    mpiexec -n 2 build/bin/stabaudit run input/quickstart.yaml -o runs/quickstart
    build/bin/stabaudit plan input/quickstart.yaml -campaign_seeds 1,2,3,4
    mpiexec -n 4 build/bin/stabaudit run input/quickstart.yaml -o runs/q4 -group_size 2
*/
#include <stabaudit/saensemble.h>
#include <stabaudit/sadeck.h>
#include <stabaudit/sablas.h>
#include <stabaudit/sajobs.h>
#include <slepcsys.h>
#include <time.h>
#include <string.h>

PETSC_INTERN PetscErrorCode SACommandAnalyze(const char[], int, char **); /* apps/cmd_analyze.c */
PETSC_INTERN PetscErrorCode SACommandReport(const char[], int, char **);  /* apps/cmd_analyze.c */

PetscErrorCode CommandJobs(const char[], int, char **); /* apps/cmd_jobs.c */

static int sa_exit_status = 0; /* SA_EXIT_REQUEUE after a preemption (sajobs.h) */

static PetscErrorCode SAErrorHandler(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n,
                                     PetscErrorType p, const char *mess, void *ctx)
{
  if (n == PETSC_ERR_USER_INPUT) return n; /* a bad deck: reported once, cleanly, by main() */
  return PetscTraceBackErrorHandler(comm, line, fun, file, n, p, mess, ctx);
}

static PetscErrorCode LoadCampaign(const char deck[], int argc, char **argv, SACampaign *c)
{
  PetscFunctionBeginUser;
  PetscCall(SADeckLoad(PETSC_COMM_WORLD, deck, argc, argv));
  PetscCall(SACampaignCreate(PETSC_COMM_WORLD, c));
  PetscCall(SACampaignSetFromOptions(*c));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CommandRun(const char deck[], int argc, char **argv)
{
  SACampaign    c;
  SAEnsemble    e;
  char          dir[PETSC_MAX_PATH_LEN], def[PETSC_MAX_PATH_LEN], history[4096], stamp[64];
  const char   *base = strrchr(deck, '/') ? strrchr(deck, '/') + 1 : deck;
  PetscLogStage stage;
  time_t        now       = time(NULL);
  PetscBool     preempted = PETSC_FALSE;

  PetscFunctionBeginUser;
  PetscCall(LoadCampaign(deck, argc, argv, &c));
  PetscCall(SAEnsembleCreate(PETSC_COMM_WORLD, &e));
  PetscCall(SAEnsembleSetFromOptions(e));
  PetscCall(PetscSNPrintf(def, sizeof(def), "runs/%.*s", (int) strcspn(base, "."), base));
  PetscCall(SADeckPushRole(SA_KEY_CONTROL));
  PetscCall(SADeckGetString("", "o", def, dir, sizeof(dir), NULL));
  PetscCall(SADeckPopRole(SA_KEY_CONTROL));
  PetscCall(SADeckCheckUnused(PETSC_COMM_WORLD));
  strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  PetscCall(PetscSNPrintf(history, sizeof(history), "%s:", stamp));
  for (int i = 0; i < argc; i++) {
    PetscCall(PetscStrlcat(history, " ", sizeof(history)));
    PetscCall(PetscStrlcat(history, argv[i], sizeof(history)));
  }
  PetscCall(SAEnsembleSetCampaign(e, c));
  PetscCall(SAEnsembleSetDirectory(e, dir));
  PetscCall(SAEnsembleSetCommandLine(e, history));
  PetscCall(SAEnsemblePrepareDirectory(e));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "stabaudit: BLAS: %s\n", SABlasDescribe()));
  PetscCall(PetscLogStageRegister("Train", &stage));
  PetscCall(PetscLogStagePush(stage));
  PetscCall(SAPreemptInstall()); /* SIGTERM/SIGUSR1: checkpoint at the next step, exit SA_EXIT_REQUEUE */
  PetscCall(SAEnsembleRun(e));
  PetscCall(PetscLogStagePop());
  PetscCall(SAEnsembleGetStatus(e, &preempted, NULL));
  if (preempted) {
    int sig;

    PetscCall(SAPreemptGetSignal(&sig));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                          "stabaudit: preempted (signal %d on rank 0): members in flight checkpointed; exit status %d; "
                          "run the same command again to resume\n",
                          sig, SA_EXIT_REQUEUE));
    sa_exit_status = SA_EXIT_REQUEUE;
    PetscCall(SAEnsembleDestroy(&e));
    PetscCall(SACampaignDestroy(&c));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscLogStageRegister("IO", &stage));
  PetscCall(PetscLogStagePush(stage));
  PetscCall(SAEnsembleWriteResults(e));
  PetscCall(PetscLogStagePop());
  PetscCall(SAEnsembleSummary(e));
  PetscCall(SAEnsembleDestroy(&e));
  PetscCall(SACampaignDestroy(&c));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CommandPlan(const char deck[], int argc, char **argv)
{
  SACampaign c;
  SAEnsemble e;
  char       dir[PETSC_MAX_PATH_LEN];
  PetscInt   csteps, cranks, rpn;
  PetscReal  walltime, psec;

  PetscFunctionBeginUser;
  PetscCall(LoadCampaign(deck, argc, argv, &c));
  PetscCall(SAEnsembleCreate(PETSC_COMM_WORLD, &e));
  PetscCall(SAEnsembleSetFromOptions(e));
  PetscCall(SAPlanGetOptions(&csteps, &psec, &walltime, &cranks, &rpn));
  PetscCall(SADeckPushRole(SA_KEY_CONTROL));
  PetscCall(SADeckGetString("", "o", "", dir, sizeof(dir), NULL));
  PetscCall(SADeckPopRole(SA_KEY_CONTROL));
  PetscCall(SADeckCheckUnused(PETSC_COMM_WORLD));
  PetscCall(SACampaignExpand(c, NULL));
  PetscCall(SACampaignView(c, PETSC_VIEWER_STDOUT_WORLD));
  if (csteps > 0) { /* calibration: a few steps of each configuration (jobs/plan.c, docs/hpc.md) */
    SAPlanCost cost;

    PetscCall(SAPlanCalibrate(c, PETSC_COMM_WORLD, dir, csteps, psec, cranks, &cost));
    PetscCall(SAPlanSuggest(&cost, walltime, rpn));
    PetscCall(SAPlanView(&cost, PETSC_COMM_WORLD));
  }
  PetscCall(SAEnsembleDestroy(&e));
  PetscCall(SACampaignDestroy(&c));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr;
  const char    *cmd = argc > 1 ? argv[1] : "", *deck = argc > 2 ? argv[2] : NULL;

  (void) SABlasSelectCore(argc, argv); /* before MPI: may re-execute with OPENBLAS_CORETYPE set (sablas.h) */
  PetscCall(SlepcInitialize(&argc, &argv, NULL, help));
  PetscCall(SAInitialize());
  PetscCall(PetscPushErrorHandler(SAErrorHandler, NULL));
  if (!strcmp(cmd, "version")) {
    char buf[1024];
    PetscCall(SAGetProvenance(buf, sizeof(buf)));
    ierr = PetscPrintf(PETSC_COMM_WORLD, "%s\nBLAS: %s\n", buf, SABlasDescribe());
  } else if (!strcmp(cmd, "jobs") && deck && deck[0] != '-') {
    ierr = CommandJobs(deck, argc, argv);
  } else if ((!strcmp(cmd, "analyze") || !strcmp(cmd, "report")) && deck && deck[0] != '-') {
    ierr = !strcmp(cmd, "analyze") ? SACommandAnalyze(deck, argc, argv) : SACommandReport(deck, argc, argv);
  } else if ((!strcmp(cmd, "run") || !strcmp(cmd, "plan")) && deck && deck[0] != '-') {
    ierr = !strcmp(cmd, "run") ? CommandRun(deck, argc, argv) : CommandPlan(deck, argc, argv);
  } else {
    ierr = PETSC_ERR_USER_INPUT;
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%s", help));
    PetscCall(PetscPrintf(
      PETSC_COMM_WORLD,
      "\nstabaudit: error: expected a command (run, plan, jobs, analyze, report, version) and its argument, got '%s'\n",
      cmd));
    PetscCall(SAFinalize());
    PetscCall(SlepcFinalize());
    return 2;
  }
  PetscCall(PetscPopErrorHandler());
  if (ierr == PETSC_ERR_USER_INPUT) {
    const char *msg;

    PetscCall(SADeckError(ierr, &msg));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "stabaudit: error: %s\n", msg));
    PetscCall(SAFinalize());
    PetscCall(SlepcFinalize());
    return 2;
  }
  if (ierr) PetscCallMPI(MPI_Abort(PETSC_COMM_WORLD, (int) ierr));
  PetscCall(SAFinalize());
  PetscCall(SlepcFinalize());
  return sa_exit_status;
}
