/*
  slurm.c - SAJobs: the SLURM job scripts of a campaign (stabaudit jobs).

  DIR/jobs/deck.yaml    the resolved deck (every key with its value) as a deck the jobs run: empty lists
                        are left out (a deck may not give an empty list)
  DIR/jobs/run.sh       the run job (a job array of -slurm_array_shards tasks when > 1): resources,
                        srun --mpi=pmix of stabaudit run on DIR/jobs/deck.yaml, one log
                        per job in DIR/logs/; --signal=B:USR1@<s> and --requeue: the shell passes
                        the signal on to the ranks, which checkpoint and exit 75 (SA_EXIT_REQUEUE),
                        and the job requeues itself
  DIR/jobs/analysis.sh  after the run job(s) (afterok): merges the shards into results.nc (stabaudit
                        run on the directory, which trains nothing when every member is finished),
                        then stabaudit analyze and stabaudit report
  DIR/jobs/submit.sh    the two sbatch calls (printed by stabaudit jobs; -submit runs them)

  The scripts decide nothing the program owns (STYLE.md B.4): no loops over parameters, no member
  lists; the shard of an array task is its SLURM_ARRAY_TASK_ID.
  The slurm_* options are options of this command only: read with the deck getters under SA_KEY_COMMAND, so they are
  checked (key and range named in errors) but left out of the resolved deck (stabaudit run would reject them there).
*/
#include <stabaudit/sajobs.h>
#include <stabaudit/sadeck.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>
#include <errno.h>
#include <sys/stat.h>

struct _p_SAJobs {
  MPI_Comm  comm;
  PetscInt  nodes, ntasks_per_node, group_size, shards, signal_seconds, analysis_ntasks;
  char      time[64], analysis_time[64], account[128], partition[128], qos[128], constraint[256], name[128];
  char      extra[1024], setup[1024]; /* ';'-separated #SBATCH lines and shell set-up lines */
  PetscBool submit;
  char      dir[PETSC_MAX_PATH_LEN], bin[PETSC_MAX_PATH_LEN];
};

/*@C
  SAJobsCreate - Creates the SLURM job-script writer

  Collective

  Input Parameter:
. comm - the communicator (rank 0 writes the scripts)

  Output Parameter:
. j - the writer

  Level: beginner

.seealso: `SAJobsSetFromOptions()`, `SAJobsWrite()`, `SAJobsSubmit()`, `SAJobsDestroy()`
@*/
PetscErrorCode SAJobsCreate(MPI_Comm comm, SAJobs *j)
{
  PetscFunctionBeginUser;
  PetscCall(PetscNew(j));
  (*j)->comm            = comm;
  (*j)->nodes           = 1;
  (*j)->ntasks_per_node = 1;
  (*j)->group_size      = 1;
  (*j)->shards          = 1;
  (*j)->signal_seconds  = 300;
  (*j)->analysis_ntasks = 1;
  PetscCall(PetscStrncpy((*j)->time, "01:00:00", sizeof((*j)->time)));
  PetscCall(PetscStrncpy((*j)->analysis_time, "01:00:00", sizeof((*j)->analysis_time)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the string option slurm_<key> (read with SA_KEY_COMMAND pushed); allowed: a non-empty value without newlines (it
   becomes one line of a script) */
static PetscErrorCode SAJobsGetString(const char key[], char v[], size_t len)
{
  char      def[PETSC_MAX_PATH_LEN], name[64];
  PetscBool set;

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(def, v, sizeof(def)));
  PetscCall(SADeckGetString("slurm_", key, def, v, len, &set));
  PetscCall(PetscSNPrintf(name, sizeof(name), "slurm_%s", key));
  if (set && (!v[0] || strpbrk(v, "\n\r")))
    PetscCall(SADeckFail(name, "expected a non-empty value on one line, got '%s'", v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* SLURM time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S; returns seconds, or -1 if the text is none of them */
static long SAJobsParseTimeSeconds(const char t[])
{
  long  d = 0, f[3] = {0, 0, 0};
  int   n = 0, day = strchr(t, '-') != NULL;
  char *end;

  if (day) {
    d = strtol(t, &end, 10);
    if (end == t || *end != '-' || d < 0) return -1; /* not a time */
    t = end + 1;
  }
  while (n < 3) {
    long x = strtol(t, &end, 10);
    if (end == t || x < 0 || !(*end == ':' || *end == 0)) return -1; /* not a time */
    f[n++] = x;
    if (!*end) break;
    t = end + 1;
  }
  if (*end) return -1;                                        /* not a time */
  if (day) return d * 86400 + f[0] * 3600 + f[1] * 60 + f[2]; /* D-H[:M[:S]] */
  if (n == 1) return f[0] * 60;                               /* M */
  if (n == 2) return f[0] * 60 + f[1];                        /* M:S */
  return f[0] * 3600 + f[1] * 60 + f[2];                      /* H:M:S */
}

/*@C
  SAJobsParseTime - Parses a SLURM time limit (M, M:S, H:M:S, D-H, D-H:M or D-H:M:S)

  Not Collective

  Input Parameter:
. t - the text

  Output Parameter:
. sec - seconds, -1 if the text is not a SLURM time

  Level: developer

.seealso: `SAJobsSetFromOptions()`
@*/
PetscErrorCode SAJobsParseTime(const char t[], PetscReal *sec)
{
  PetscFunctionBeginUser;
  *sec = (PetscReal) SAJobsParseTimeSeconds(t);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAJobsSetFromOptions - Reads the job options

  Collective

  Input Parameter:
. j - the writer

  Options Database Keys:
+ -slurm_nodes <n>              - nodes of the run job (1)
. -slurm_ntasks_per_node <n>    - MPI ranks per node (1)
. -group_size <n>               - ranks per member; must divide nodes x ntasks_per_node (1)
. -slurm_time <t>               - time limit of a run job, SLURM format (01:00:00)
. -slurm_signal_seconds <s>     - USR1 this many seconds before the limit: checkpoint, requeue (300)
. -slurm_account <a>            - account (none)
. -slurm_partition <p>          - partition (none)
. -slurm_qos <q>                - QOS (none)
. -slurm_constraint <c>         - node features (none)
. -slurm_array_shards <n>       - a job array of n tasks, each running a disjoint shard of the members (1: one job)
. -slurm_extra <l1;l2>          - extra #SBATCH options, separated by ';', without the leading "--" (PETSc would read
                                  "--x" as an option): "mail-type=END,FAIL;exclusive" gives "#SBATCH
--mail-type=END,FAIL" and "#SBATCH --exclusive" . -slurm_setup <c1;c2>          - shell lines run before srun, separated
by ';' (e.g. "module load petsc") . -slurm_job_name <name>        - job name (sa-<directory name>) .
-slurm_analysis_time <t>      - time limit of the analysis job (01:00:00) . -slurm_analysis_ntasks <n>    - ranks of the
analysis job (1)
- -submit                       - submit the jobs with sbatch and print their ids

  Level: beginner

.seealso: `SAJobsWrite()`
@*/
PetscErrorCode SAJobsSetFromOptions(SAJobs j)
{
  long limit, alimit;

  PetscFunctionBeginUser;
  PetscCall(SADeckPushRole(SA_KEY_COMMAND)); /* options of stabaudit jobs: not in the resolved deck the jobs run */
  PetscCall(SADeckGetInt("slurm_", "nodes", j->nodes, 1, 100000, &j->nodes, NULL));
  PetscCall(SADeckGetInt("slurm_", "ntasks_per_node", j->ntasks_per_node, 1, 100000, &j->ntasks_per_node, NULL));
  PetscCall(SADeckPushRole(SA_KEY_CONTROL));
  PetscCall(SADeckGetInt("", "group_size", j->group_size, 1, j->nodes * j->ntasks_per_node, &j->group_size, NULL));
  PetscCall(SADeckPopRole(SA_KEY_CONTROL));
  if ((j->nodes * j->ntasks_per_node) % j->group_size)
    PetscCall(SADeckFail("group_size",
                         "%" PetscInt_FMT
                         " must divide the ranks of the job, slurm_nodes x slurm_ntasks_per_node = %" PetscInt_FMT,
                         j->group_size, j->nodes * j->ntasks_per_node));
  PetscCall(SAJobsGetString("time", j->time, sizeof(j->time)));
  PetscCall(SAJobsGetString("analysis_time", j->analysis_time, sizeof(j->analysis_time)));
  limit  = SAJobsParseTimeSeconds(j->time);
  alimit = SAJobsParseTimeSeconds(j->analysis_time);
  if (limit <= 0)
    PetscCall(
      SADeckFail("slurm_time", "'%s' is not a SLURM time limit; allowed: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S", j->time));
  if (alimit <= 0)
    PetscCall(SADeckFail("slurm_analysis_time",
                         "'%s' is not a SLURM time limit; allowed: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S",
                         j->analysis_time));
  j->signal_seconds = PetscMin(j->signal_seconds, (PetscInt) (limit / 2)); /* 0 only for a limit of 1 s */
  PetscCall(SADeckGetInt("slurm_", "signal_seconds", j->signal_seconds, PetscMin(1, j->signal_seconds), 65535,
                         &j->signal_seconds, NULL));
  if (j->signal_seconds >= limit)
    PetscCall(SADeckFail("slurm_signal_seconds", "%" PetscInt_FMT " s must be shorter than the time limit %s (%ld s)",
                         j->signal_seconds, j->time, limit));
  PetscCall(SAJobsGetString("account", j->account, sizeof(j->account)));
  PetscCall(SAJobsGetString("partition", j->partition, sizeof(j->partition)));
  PetscCall(SAJobsGetString("qos", j->qos, sizeof(j->qos)));
  PetscCall(SAJobsGetString("constraint", j->constraint, sizeof(j->constraint)));
  PetscCall(SAJobsGetString("extra", j->extra, sizeof(j->extra)));
  PetscCall(SAJobsGetString("setup", j->setup, sizeof(j->setup)));
  PetscCall(SAJobsGetString("job_name", j->name, sizeof(j->name)));
  PetscCall(SADeckGetInt("slurm_", "array_shards", j->shards, 1, 100000, &j->shards, NULL));
  PetscCall(SADeckGetInt("slurm_", "analysis_ntasks", j->analysis_ntasks, 1, 100000, &j->analysis_ntasks, NULL));
  PetscCall(SADeckGetBool("", "submit", j->submit, &j->submit, NULL));
  PetscCall(SADeckPopRole(SA_KEY_COMMAND));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* appends "<prefix><item>\n" for each ';'-separated item of list (blank items skipped) */
static PetscErrorCode SAJobsAppendLines(char buf[], size_t len, const char prefix[], const char list[])
{
  char copy[1024], *save = NULL;

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(copy, list, sizeof(copy)));
  for (char *t = strtok_r(copy, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
    while (*t == ' ') t++;
    if (!*t) continue;
    PetscCall(PetscStrlcat(buf, prefix, len));
    PetscCall(PetscStrlcat(buf, t, len));
    PetscCall(PetscStrlcat(buf, "\n", len));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the #SBATCH lines both jobs share */
static PetscErrorCode SAJobsCommonHeader(SAJobs j, char buf[], size_t len)
{
  char line[512];

  PetscFunctionBeginUser;
  if (j->account[0]) {
    PetscCall(PetscSNPrintf(line, sizeof(line), "#SBATCH --account=%s\n", j->account));
    PetscCall(PetscStrlcat(buf, line, len));
  }
  if (j->partition[0]) {
    PetscCall(PetscSNPrintf(line, sizeof(line), "#SBATCH --partition=%s\n", j->partition));
    PetscCall(PetscStrlcat(buf, line, len));
  }
  if (j->qos[0]) {
    PetscCall(PetscSNPrintf(line, sizeof(line), "#SBATCH --qos=%s\n", j->qos));
    PetscCall(PetscStrlcat(buf, line, len));
  }
  if (j->constraint[0]) {
    PetscCall(PetscSNPrintf(line, sizeof(line), "#SBATCH --constraint=%s\n", j->constraint));
    PetscCall(PetscStrlcat(buf, line, len));
  }
  PetscCall(SAJobsAppendLines(buf, len, "#SBATCH --", j->extra));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the environment lines both jobs share */
static PetscErrorCode SAJobsCommonSetup(SAJobs j, char buf[], size_t len)
{
  PetscFunctionBeginUser;
  PetscCall(PetscStrlcat(buf, "set -u\n", len));
  PetscCall(SAJobsAppendLines(buf, len, "", j->setup));
  PetscCall(PetscStrlcat(buf,
                         "# one BLAS thread per rank; no HDF5 file locks (parallel file systems)\n"
                         "export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 HDF5_USE_FILE_LOCKING=FALSE\n",
                         len));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAJobsWrite - Writes DIR/jobs/run.sh, DIR/jobs/analysis.sh and DIR/jobs/submit.sh and prints the command that
  submits them

  Collective

  Input Parameters:
+ j   - the writer
. c   - the expanded campaign (after `SAEnsemblePrepareDirectory()`, which wrote DIR/deck.yaml)
- dir - the campaign directory

  Level: beginner

.seealso: `SAJobsSetFromOptions()`, `SAJobsSubmit()`
@*/
PetscErrorCode SAJobsWrite(SAJobs j, SACampaign c, const char dir[])
{
  PetscMPIInt rank;
  PetscInt    nfam = 0, ranks = j->nodes * j->ntasks_per_node;
  char       *buf, line[4 * PETSC_MAX_PATH_LEN], path[PETSC_MAX_PATH_LEN], log[64];
  size_t      len = 1 << 20;

  PetscFunctionBeginUser;
  for (PetscInt m = 0; m < c->nmembers; m++) nfam += c->members[m].pert < 0;
  if (j->shards > nfam)
    PetscCall(SADeckFail("slurm_array_shards",
                         "%" PetscInt_FMT " shards for %" PetscInt_FMT
                         " twin families: a shard holds whole families (a twin and its perturbed members); allowed 1 "
                         "to %" PetscInt_FMT,
                         j->shards, nfam, nfam));
  PetscCheck(realpath(dir, j->dir), PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot resolve %s", dir);
  {
    ssize_t n = readlink("/proc/self/exe", j->bin, sizeof(j->bin) - 1);
    PetscCheck(n > 0, PETSC_COMM_SELF, PETSC_ERR_SYS, "cannot find the stabaudit executable (/proc/self/exe)");
    j->bin[n] = 0;
  }
  if (!j->name[0]) {
    const char *b = strrchr(j->dir, '/') ? strrchr(j->dir, '/') + 1 : j->dir;
    PetscCall(PetscSNPrintf(j->name, sizeof(j->name), "sa-%s", b));
  }
  PetscCallMPI(MPI_Comm_rank(j->comm, &rank));
  if (rank) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/jobs", j->dir));
  PetscCheck(!mkdir(path, 0755) || errno == EEXIST, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot create %s: %s", path,
             strerror(errno));
  PetscCall(PetscCalloc1(len, &buf));

  /* the resolved deck, without its empty lists */
  {
    char *text, *save = NULL;

    PetscCall(SADeckGetResolved(&text));
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
      if (strstr(l, ": []")) continue;
      PetscCall(PetscStrlcat(buf, l, len));
      PetscCall(PetscStrlcat(buf, "\n", len));
    }
    PetscCall(PetscFree(text));
    PetscCall(PetscSNPrintf(path, sizeof(path), "%s/jobs/deck.yaml", j->dir));
    PetscCall(SAFileWriteAtomic(path, buf, strlen(buf)));
    buf[0] = 0;
  }

  /* the run job */
  PetscCall(PetscSNPrintf(log, sizeof(log), j->shards > 1 ? "run-%%A_%%a.log" : "run-%%j.log"));
  PetscCall(PetscSNPrintf(
    line, sizeof(line),
    "#!/bin/bash\n"
    "# stabaudit run job of the campaign %s (written by stabaudit jobs; regenerate, do not edit).\n"
    "# %" PetscInt_FMT " members, %" PetscInt_FMT " rank(s) in groups of %" PetscInt_FMT
    "%s. SLURM signals this shell before the time limit or on\n"
    "# preemption; the ranks checkpoint, exit %d and the job requeues itself to resume.\n"
    "#SBATCH --job-name=%s\n"
    "#SBATCH --nodes=%" PetscInt_FMT "\n"
    "#SBATCH --ntasks-per-node=%" PetscInt_FMT "\n"
    "#SBATCH --cpus-per-task=1\n"
    "#SBATCH --time=%s\n"
    "#SBATCH --signal=B:USR1@%" PetscInt_FMT "\n"
    "#SBATCH --requeue\n"
    "#SBATCH --open-mode=append\n"
    "#SBATCH --output=%s/logs/%s\n",
    j->dir, c->nmembers, ranks, j->group_size, j->shards > 1 ? ", one shard of the members per array task" : "",
    SA_EXIT_REQUEUE, j->name, j->nodes, j->ntasks_per_node, j->time, j->signal_seconds, j->dir, log));
  PetscCall(PetscStrlcat(buf, line, len));
  if (j->shards > 1) {
    PetscCall(PetscSNPrintf(line, sizeof(line), "#SBATCH --array=0-%" PetscInt_FMT "\n", j->shards - 1));
    PetscCall(PetscStrlcat(buf, line, len));
  }
  PetscCall(SAJobsCommonHeader(j, buf, len));
  PetscCall(SAJobsCommonSetup(j, buf, len));
  PetscCall(PetscSNPrintf(line, sizeof(line),
                          "# pass SLURM's signal (--signal=B:USR1, scancel --batch, preemption) on to the job step\n"
                          "trap 'kill -USR1 \"$step\" 2> /dev/null' USR1 TERM\n"
                          "srun --mpi=pmix %s run %s/jobs/deck.yaml -o %s -group_size %" PetscInt_FMT
                          " -shard_count %" PetscInt_FMT " -shard_index \"${SLURM_ARRAY_TASK_ID:-0}\" -options_left &\n"
                          "step=$!\n"
                          "while true; do wait \"$step\"; rc=$?; kill -0 \"$step\" 2> /dev/null || break; done\n"
                          "echo \"stabaudit jobs: job step exited $rc on $(date -u +%%FT%%TZ)\"\n"
                          "if [ \"$rc\" -eq %d ]; then scontrol requeue \"$SLURM_JOB_ID\"; fi\n"
                          "exit \"$rc\"\n",
                          j->bin, j->dir, j->dir, j->group_size, j->shards, SA_EXIT_REQUEUE));
  PetscCall(PetscStrlcat(buf, line, len));
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/jobs/run.sh", j->dir));
  PetscCall(SAFileWriteAtomic(path, buf, strlen(buf)));

  /* the analysis job */
  buf[0] = 0;
  PetscCall(
    PetscSNPrintf(line, sizeof(line),
                  "#!/bin/bash\n"
                  "# stabaudit analysis job of the campaign %s (written by stabaudit jobs): runs after the run "
                  "job(s)\n"
                  "# succeeded (sbatch --dependency=afterok, see submit.sh): merges the shards into results.nc,\n"
                  "# then writes analysis.nc and the report.\n"
                  "#SBATCH --job-name=%s-analysis\n"
                  "#SBATCH --nodes=1\n"
                  "#SBATCH --ntasks=%" PetscInt_FMT "\n"
                  "#SBATCH --cpus-per-task=1\n"
                  "#SBATCH --time=%s\n"
                  "#SBATCH --output=%s/logs/analysis-%%j.log\n",
                  j->dir, j->name, j->analysis_ntasks, j->analysis_time, j->dir));
  PetscCall(PetscStrlcat(buf, line, len));
  PetscCall(SAJobsCommonHeader(j, buf, len));
  PetscCall(SAJobsCommonSetup(j, buf, len));
  PetscCall(PetscSNPrintf(line, sizeof(line),
                          "set -e\n"
                          "srun --mpi=pmix %s run %s/jobs/deck.yaml -o %s -group_size 1 -shard_count 1 -options_left\n"
                          "srun --mpi=pmix %s analyze %s\n"
                          "srun --mpi=pmix %s report %s\n",
                          j->bin, j->dir, j->dir, j->bin, j->dir, j->bin, j->dir));
  PetscCall(PetscStrlcat(buf, line, len));
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/jobs/analysis.sh", j->dir));
  PetscCall(SAFileWriteAtomic(path, buf, strlen(buf)));

  /* the submission */
  PetscCall(PetscSNPrintf(buf, len,
                          "#!/bin/bash\n"
                          "# submits the campaign %s: the run job, then the analysis job after it (afterok)\n"
                          "set -eu\n"
                          "run=$(sbatch --parsable %s/jobs/run.sh)\n"
                          "analysis=$(sbatch --parsable --dependency=afterok:\"${run%%%%;*}\" %s/jobs/analysis.sh)\n"
                          "echo \"run job ${run%%%%;*} analysis job ${analysis%%%%;*}\"\n",
                          j->dir, j->dir, j->dir));
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s/jobs/submit.sh", j->dir));
  PetscCall(SAFileWriteAtomic(path, buf, strlen(buf)));
  PetscCall(PetscFree(buf));
  PetscCall(PetscPrintf(PETSC_COMM_SELF,
                        "stabaudit jobs: %" PetscInt_FMT " members; run job: %" PetscInt_FMT " node(s) x %" PetscInt_FMT
                        " rank(s), groups of %" PetscInt_FMT ", %" PetscInt_FMT
                        " array task(s) (one shard of the members each), time %s; analysis job after it\n"
                        "  %s/jobs/run.sh\n  %s/jobs/analysis.sh\nsubmit with:\n  bash %s/jobs/submit.sh\n",
                        c->nmembers, j->nodes, j->ntasks_per_node, j->group_size, j->shards, j->time, j->dir, j->dir,
                        j->dir));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAJobsSubmit - Submits the jobs written by `SAJobsWrite()` (if -submit was given) and prints their ids

  Collective

  Input Parameter:
. j - the writer

  Level: beginner

.seealso: `SAJobsWrite()`
@*/
PetscErrorCode SAJobsSubmit(SAJobs j)
{
  PetscMPIInt rank;
  char        cmd[2 * PETSC_MAX_PATH_LEN], out[256] = "";
  FILE       *p;
  int         st;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(j->comm, &rank));
  if (!j->submit || rank) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscSNPrintf(cmd, sizeof(cmd), "bash '%s/jobs/submit.sh' 2>&1", j->dir));
  p = popen(cmd, "r");
  PetscCheck(p, PETSC_COMM_SELF, PETSC_ERR_SYS, "cannot run %s", cmd);
  while (fgets(out, sizeof(out), p)) PetscCall(PetscPrintf(PETSC_COMM_SELF, "stabaudit jobs: %s", out));
  st = pclose(p);
  PetscCheck(st == 0, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "submission failed (%s exited with status %d): %s", cmd,
             st, out);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAJobsDestroy - Destroys the job-script writer

  Collective

  Input Parameter:
. j - the writer (set to NULL)

  Level: beginner

.seealso: `SAJobsCreate()`
@*/
PetscErrorCode SAJobsDestroy(SAJobs *j)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(*j));
  PetscFunctionReturn(PETSC_SUCCESS);
}
