/*
  cmd_analyze.c - the `analyze` and `report` verbs of stabaudit (docs/analysis.md).

    stabaudit analyze DIR [-analyze_<option> value ...]   DIR/results.nc -> DIR/analysis.nc + findings table
    stabaudit report  DIR                                  DIR/analysis.nc -> DIR/report/ (PNG figures, report.md)
*/
#include <stabaudit/saanalysis.h>
#include <stabaudit/sadeck.h>
#include <time.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

PETSC_INTERN PetscErrorCode SACommandAnalyze(const char[], int, char **);
PETSC_INTERN PetscErrorCode SACommandReport(const char[], int, char **);

/* the options of the analysis: typed, range-checked, named in errors (sadeck.h) */
static PetscErrorCode ProcessOptions(SAAnalysisOptions *o)
{
  PetscInt seed;

  PetscFunctionBeginUser;
  PetscCall(SAAnalysisOptionsDefault(o));
  PetscCall(SADeckPushRole(SA_KEY_CONTROL));
  PetscCall(SADeckGetReal("analyze_", "delta", o->delta, PETSC_MACHINE_EPSILON, 1, &o->delta, NULL));
  PetscCall(SADeckGetInt("analyze_", "window", o->window, 0, PETSC_MAX_INT, &o->window, NULL));
  PetscCall(SADeckGetInt("analyze_", "ftle_window", o->ftle_window, 0, PETSC_MAX_INT, &o->ftle_window, NULL));
  PetscCall(SADeckGetReal("analyze_", "level", o->level, 0.5, 0.999, &o->level, NULL));
  PetscCall(SADeckGetInt("analyze_", "bootstrap", o->nboot, 0, 1000000, &o->nboot, NULL));
  PetscCall(SADeckGetBool("analyze_", "margin_log", o->margin_log, &o->margin_log, NULL));
  PetscCall(SADeckGetReal("analyze_", "variance", o->varfrac, PETSC_MACHINE_EPSILON, 1, &o->varfrac, NULL));
  PetscCall(SADeckGetInt("analyze_", "components", o->k, 0, 64, &o->k, NULL));
  PetscCall(SADeckGetReal("analyze_", "false_alarm", o->alpha, 0, 0.5, &o->alpha, NULL));
  PetscCall(SADeckGetInt("analyze_", "consecutive", o->m, 1, 1000, &o->m, NULL));
  PetscCall(SADeckGetInt("analyze_", "horizon", o->horizon, 1, PETSC_MAX_INT, &o->horizon, NULL));
  PetscCall(SADeckGetInt("analyze_", "detector_window", o->det_window, 3, 10000, &o->det_window, NULL));
  PetscCall(SADeckGetReal("analyze_", "ridge", o->ridge, 0, 1, &o->ridge, NULL));
  PetscCall(SADeckGetInt("analyze_", "seed", (PetscInt) o->seed, 0, PETSC_MAX_INT, &seed, NULL));
  PetscCall(SADeckPopRole(SA_KEY_CONTROL));
  o->seed = seed;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckDirectory(const char dir[], const char file[], const char hint[])
{
  char path[PETSC_MAX_PATH_LEN];

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/%s", dir, file));
  if (access(path, R_OK))
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "directory '%s' has no readable %s: %s", dir, file, hint);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SACommandAnalyze - The `stabaudit analyze DIR` verb: reads the -analyze_ options, runs `SAAnalyze()`

  Collective on PETSC_COMM_WORLD

  Input Parameters:
+ dir  - the campaign directory
. argc - argument count (for the history attribute)
- argv - arguments

  Level: developer

.seealso: `SAAnalyze()`, `SACommandReport()`
@*/
PetscErrorCode SACommandAnalyze(const char dir[], int argc, char **argv)
{
  SAAnalysisOptions o;
  PetscLogStage     stage;
  char              history[4096], stamp[64];
  time_t            now = time(NULL);

  PetscFunctionBeginUser;
  PetscCall(ProcessOptions(&o));
  PetscCall(CheckDirectory(dir, "results.nc", "run 'stabaudit run DECK -o DIR' to completion first"));
  strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  PetscCall(PetscSNPrintf(history, sizeof(history), "%s:", stamp));
  for (int i = 0; i < argc; i++) {
    PetscCall(PetscStrlcat(history, " ", sizeof(history)));
    PetscCall(PetscStrlcat(history, argv[i], sizeof(history)));
  }
  PetscCall(PetscLogStageRegister("Analyze", &stage));
  PetscCall(PetscLogStagePush(stage));
  PetscCall(SAAnalyze(PETSC_COMM_WORLD, dir, &o, history));
  PetscCall(PetscLogStagePop());
  /* after the analysis: the SVD reads its own options (-analyze_svd_type ...) when it is created */
  PetscCall(SADeckCheckUnused(PETSC_COMM_WORLD));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SACommandReport - The `stabaudit report DIR` verb: rank 0 runs scripts/report.py (or -report_script) with
  Debian's python3 on DIR/analysis.nc and DIR/results.nc

  Collective on PETSC_COMM_WORLD

  Input Parameters:
+ dir  - the campaign directory
. argc - argument count
- argv - arguments

  Level: developer

.seealso: `SACommandAnalyze()`
@*/
PetscErrorCode SACommandReport(const char dir[], int argc, char **argv)
{
  PetscMPIInt rank;
  char        cmd[2 * PETSC_MAX_PATH_LEN + 64], script[PETSC_MAX_PATH_LEN];
  int         rc = 0;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCall(SADeckPushRole(SA_KEY_CONTROL));
  PetscCall(SADeckGetString("report_", "script", SA_REPORT_SCRIPT, script, sizeof(script), NULL));
  PetscCall(SADeckPopRole(SA_KEY_CONTROL));
  PetscCall(SADeckCheckUnused(PETSC_COMM_WORLD));
  PetscCall(CheckDirectory(dir, "analysis.nc", "run 'stabaudit analyze DIR' first"));
  PetscCall(CheckDirectory(dir, "results.nc", "not a campaign directory"));
  if (access(script, R_OK))
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "option -report_script: cannot read '%s'", script);
  if (!rank) {
    PetscCall(PetscSNPrintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s' '%s'", script, dir));
    rc = system(cmd);
  }
  PetscCallMPI(MPI_Bcast(&rc, 1, MPI_INT, 0, PETSC_COMM_WORLD));
  PetscCheck(rc == 0, PETSC_COMM_WORLD, PETSC_ERR_LIB,
             "report script %s failed (status %d); it needs Debian's python3-matplotlib and python3-netcdf4 "
             "(scripts/setup.sh)",
             script, rc);
  (void) argc;
  (void) argv;
  PetscFunctionReturn(PETSC_SUCCESS);
}
