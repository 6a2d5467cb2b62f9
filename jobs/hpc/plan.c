/*
  plan.c - cost planning by calibration (stabaudit plan).

  For each configuration of the sweep, the unperturbed member of the first seed is built on the
  planning communicator (one group: every rank of `stabaudit plan`) once untimed (data sets load once
  per process; the first step sets up the probes' solvers), then again: its set-up is timed, step 0
  is timed on its own (it carries a probe when step 0 is probed), then -plan_calibration_steps
  steps rounded up to whole record periods (the evaluations of recorded steps count in their
  proportion), then three checkpoint writes in the campaign directory's file system (-o, else the
  current directory). With w probes among the d timed steps (sum S) and step 0 taking f:
      s/step = (S - w f) / (d - w),   s/probe(0) = f - s/step
  (when every step is probed, w = d, the probes are part of s/step).
  A probe's time changes as training proceeds (the spectrum changes, and with it the solvers' convergence: up to 2x
  either way between the quickstart's probed steps), so the member then trains on through its schedule for up to
  -plan_probe_seconds, and each probed step t it reaches is timed on its own: s/probe(t) = its time - s/step. A probe at
  step t costs s/probe interpolated linearly in t between the calibrated steps, the last calibrated cost beyond them.
  The cost of the campaign is member-seconds = sum over members of set-up + steps x s/step + checkpoints x s/checkpoint
                       + sum over its probed steps t of s/probe(t)
  of its configuration, with the run's exact counts (a perturbed member starts at its onset; a twin
  writes one branch point per onset; members in flight checkpoint every campaign_checkpoint_every
  steps; steps 0..nsteps), assuming no member diverges early (an upper bound). Wall time on G groups
  is modelled as max(member-seconds / G, longest member).
  docs/hpc.md compares this prediction with measured runs.
*/
#include <stabaudit/sajobs.h>
#include <stabaudit/sadeck.h>
#include <stabaudit/sasolver.h>
#include <stabaudit/saio.h>
#include <sys/resource.h>
#include <unistd.h>

#define SA_PLAN_MAXCAL 64 /* calibrated probes per configuration */

/* seconds of a probe at step t from the n calibrated (step, seconds) pairs: linear between them, constant outside */
static PetscReal SAPlanProbeSeconds(PetscInt n, const PetscInt st[], const PetscReal sec[], PetscInt t)
{
  if (!n) return 0;
  if (t <= st[0]) return sec[0];
  for (PetscInt j = 1; j < n; j++)
    if (t <= st[j])
      return sec[j - 1] + (sec[j] - sec[j - 1]) * (PetscReal) (t - st[j - 1]) / (PetscReal) (st[j] - st[j - 1]);
  return sec[n - 1];
}

/*@C
  SAPlanCalibrate - Measures the cost per step of every configuration and estimates the campaign's cost and layout

  Collective

  Input Parameters:
+ c       - the expanded campaign
. comm    - the calibration communicator (one group; its size is the group size calibrated)
. dir     - a directory on the campaign's file system for a scratch checkpoint (NULL or "": the current one)
. steps   - timed steps per configuration (after one warm-up step)
. probe_seconds - how long the calibration may train on to time the probes of later steps (0: step 0's only)
- ranks   - ranks of the layout to predict (0: the suggested one only)

  Output Parameter:
. cost - the estimate (members, steps, seconds per step, core-hours, memory per rank, longest member); predictions
         and the suggested layout come from `SAPlanSuggest()`

  Level: beginner

.seealso: `SAPlanSuggest()`, `SACampaignCreateSolver()`
@*/
PetscErrorCode SAPlanCalibrate(SACampaign c, MPI_Comm comm, const char dir[], PetscInt steps, PetscReal probe_seconds,
                               PetscInt ranks, SAPlanCost *cost)
{
  PetscMPIInt size, rank;
  PetscReal  *sps, *sck, *ssu, *spr, *dt, *calsec, total = 0;
  PetscInt   *nprobe = NULL, *pfirst = NULL, *psteps = NULL; /* each member's probed steps (NULL: no probes) */
  PetscInt   *ncal, *calstep;                                /* calibrated probes (step, seconds) per configuration */
  long        rss = 0, maxrss;
  char        scratch[PETSC_MAX_PATH_LEN];

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscMemzero(cost, sizeof(*cost)));
  PetscCall(PetscCalloc4(c->nconfigs, &sps, c->nconfigs, &sck, c->nconfigs, &ssu, c->nconfigs, &spr));
  PetscCall(
    PetscCalloc3(c->nconfigs, &ncal, c->nconfigs * SA_PLAN_MAXCAL, &calstep, c->nconfigs * SA_PLAN_MAXCAL, &calsec));
  {
    int pid = (int) getpid();

    PetscCallMPI(MPI_Bcast(&pid, 1, MPI_INT, 0, comm));
    PetscCall(PetscSNPrintf(scratch, sizeof(scratch), "%s/.sa_plan_%d.h5",
                            dir && dir[0] && !access(dir, W_OK) ? dir : ".", pid));
  }
  cost->group_size = size;
  cost->nmembers   = c->nmembers;
  cost->ranks      = ranks;
  steps = ((steps + c->record_every - 1) / c->record_every) * c->record_every; /* whole record periods: evaluations */
  steps = PetscMax(1, PetscMin(steps, c->nsteps - 1));
  PetscCall(PetscMalloc1(steps, &dt));
  for (PetscInt k = 0; k < c->nconfigs; k++) {
    PetscInt        m = -1, done_steps = 0;
    SASolver        s;
    SAMemberObjects mo;
    PetscBool       done, early;
    PetscLogDouble  t0, t1, t2, t3;
    PetscReal       ct[3], first;
    char            label[256];

    for (PetscInt i = 0; i < c->nmembers && m < 0; i++)
      if (c->members[i].config == k && c->members[i].pert < 0) m = i;
    if (m < 0) continue;
    PetscCall(SACampaignCreateSolver(c, m, comm, &s)); /* once untimed: data sets load once per process */
    PetscCall(SASolverSetUp(s));
    PetscCall(SASolverStep(s)); /* and the first step (with its probe, if any) sets up its solvers */
    PetscCall(SASolverDestroy(&s));
    PetscCallMPI(MPI_Barrier(comm));
    PetscCall(PetscTime(&t0));
    PetscCall(SACampaignCreateMember(c, m, comm, NULL, &mo));
    s = mo.solver;
    PetscCall(SASolverSetUp(s));
    PetscCallMPI(MPI_Barrier(comm));
    PetscCall(PetscTime(&t1));
    ssu[k] = (PetscReal) (t1 - t0);
    PetscCall(SASolverStep(s)); /* step 0: a step plus the probe when step 0 is probed */
    PetscCallMPI(MPI_Barrier(comm));
    PetscCall(PetscTime(&t3));
    first = (PetscReal) (t3 - t1);
    PetscCall(SASolverIsDone(s, &done));
    while (!done && done_steps < steps) { /* steps 1..steps: recorded steps (evaluations) in their proportion */
      PetscCallMPI(MPI_Barrier(comm));
      PetscCall(PetscTime(&t0));
      PetscCall(SASolverStep(s));
      PetscCallMPI(MPI_Barrier(comm));
      PetscCall(PetscTime(&t1));
      dt[done_steps++] = (PetscReal) (t1 - t0);
      PetscCall(SASolverIsDone(s, &done));
    }
    early = done;                 /* the timed window ends before the last step */
    for (int i = 0; i < 3; i++) { /* a member's checkpoint, as SAEnsembleRun() writes it */
      PetscCallMPI(MPI_Barrier(comm));
      PetscCall(PetscTime(&t1));
      PetscCall(SASolverWriteCheckpoint(s, m, scratch));
      PetscCallMPI(MPI_Barrier(comm));
      PetscCall(PetscTime(&t2));
      ct[i] = (PetscReal) (t2 - t1);
    }
    if (!rank) (void) unlink(scratch);
    PetscCall(PetscSortReal(3, ct));
    sps[k] = 0;
    for (PetscInt i = 0; i < done_steps; i++) sps[k] += dt[i];
    sck[k] = ct[1]; /* median of three */
    {               /* probes: the cost of one (step 0 minus a mean step) and how many each member takes */
      SAProbe   p   = mo.probe;
      PetscBool yes = PETSC_FALSE, inside = PETSC_FALSE; /* inside: every step probed, the probe is part of the step */

      if (p) PetscCall(SAProbeIsScheduled(p, 0, c->nsteps, -1, &yes));
      if (yes) { /* separate the probes inside the timed window from the steps */
        PetscInt w = 0;
        for (PetscInt t = 1; t <= done_steps; t++) {
          PetscBool y;
          PetscCall(SAProbeIsScheduled(p, t, c->nsteps, -1, &y));
          w += y;
        }
        if (w < done_steps) {
          sps[k]                      = PetscMax(0, (sps[k] - w * first) / (done_steps - w));
          calstep[k * SA_PLAN_MAXCAL] = 0;
          calsec[k * SA_PLAN_MAXCAL]  = PetscMax(0, first - sps[k]);
          ncal[k]                     = 1;
        } else {
          sps[k] /= done_steps;
          inside = PETSC_TRUE;
        }
      } else sps[k] /= PetscMax(done_steps, 1);
      PetscCallMPI(MPI_Bcast(&sps[k], 1, MPIU_REAL, 0, comm)); /* rank 0's clock decides */
      if (p && !inside) { /* train on through the schedule, timing each probed step on its own */
        PetscLogDouble tp0, tp1, tp2;

        PetscCall(PetscTime(&tp0));
        for (;;) {
          PetscInt  t;
          PetscBool y;
          int       stop = 0;

          PetscCall(SASolverIsDone(s, &done));
          if (done || ncal[k] >= SA_PLAN_MAXCAL) break;
          if (!rank) {
            PetscCall(PetscTime(&tp1));
            stop = tp1 - tp0 >= probe_seconds;
          }
          PetscCallMPI(MPI_Bcast(&stop, 1, MPI_INT, 0, comm)); /* rank 0's clock decides */
          if (stop) break;
          PetscCall(SASolverGetStep(s, &t));
          PetscCall(SAProbeIsScheduled(p, t, c->nsteps, -1, &y));
          if (!y) {
            PetscCall(SASolverStep(s));
            continue;
          }
          PetscCallMPI(MPI_Barrier(comm));
          PetscCall(PetscTime(&tp1));
          PetscCall(SASolverStep(s));
          PetscCallMPI(MPI_Barrier(comm));
          PetscCall(PetscTime(&tp2));
          calstep[k * SA_PLAN_MAXCAL + ncal[k]]  = t;
          calsec[k * SA_PLAN_MAXCAL + ncal[k]++] = PetscMax(0, (PetscReal) (tp2 - tp1) - sps[k]);
        }
        PetscCallMPI(MPI_Bcast(&calsec[k * SA_PLAN_MAXCAL], (PetscMPIInt) ncal[k], MPIU_REAL, 0, comm));
        if (!ncal[k]) PetscCall(PetscPrintf(comm, "plan: no probed step reached: probe cost not measured\n"));
      }
      spr[k] = ncal[k] ? calsec[k * SA_PLAN_MAXCAL] : 0;
      if (p && k == 0) { /* each member's probed steps; the schedule is the same for every configuration */
        PetscInt n = 0;

        PetscCall(PetscCalloc2(c->nmembers, &nprobe, c->nmembers + 1, &pfirst));
        for (PetscInt pass = 0; pass < 2; pass++) { /* count, then list */
          if (pass) PetscCall(PetscMalloc1(n + 1, &psteps));
          n = 0;
          for (PetscInt i = 0; i < c->nmembers; i++) {
            const SAMember *mb    = &c->members[i];
            PetscInt        onset = mb->pert >= 0 ? c->pertonset[mb->pert] : -1;
            PetscInt        start = (mb->pert >= 0 && c->branch) ? onset : 0;

            pfirst[i] = n;
            for (PetscInt t = start; t <= c->nsteps; t++) {
              PetscCall(SAProbeIsScheduled(p, t, c->nsteps, onset, &yes));
              if (yes && pass) psteps[n] = t;
              n += yes;
            }
            nprobe[i] = n - pfirst[i];
          }
          pfirst[c->nmembers] = n;
        }
      }
    }
    PetscCallMPI(MPI_Bcast(&sck[k], 1, MPIU_REAL, 0, comm));
    PetscCallMPI(MPI_Bcast(&ssu[k], 1, MPIU_REAL, 0, comm));
    {
      char full[256];
      PetscCall(SACampaignGetConfigLabel(c, k, full, sizeof(full)));
      PetscCall(SAConfigLabelShorten(full, label, sizeof(label)));
    }
    PetscCall(PetscPrintf(comm,
                          "plan: calibration of configuration %" PetscInt_FMT
                          " (%s) on %d rank(s): set-up %.3e s, %" PetscInt_FMT
                          " steps at %.3e s, checkpoint %.3e s, probe %.3e s%s\n",
                          k, label, (int) size, (double) ssu[k], done_steps, (double) sps[k], (double) sck[k],
                          (double) spr[k], early ? " (diverged early)" : ""));
    if (ncal[k] > 1) {
      PetscCall(PetscPrintf(comm, "plan:   probes of configuration %" PetscInt_FMT " by step:", k));
      for (PetscInt j = 0; j < ncal[k]; j++)
        PetscCall(PetscPrintf(comm, " %" PetscInt_FMT ": %.3e s", calstep[k * SA_PLAN_MAXCAL + j],
                              (double) calsec[k * SA_PLAN_MAXCAL + j]));
      PetscCall(PetscPrintf(comm, "\n"));
    }
    PetscCall(SASolverDestroy(&s));
  }
  for (PetscInt i = 0; i < c->nmembers; i++) {
    const SAMember *mb    = &c->members[i];
    PetscInt        start = (mb->pert >= 0 && c->branch) ? c->pertonset[mb->pert] : 0, n = c->nsteps - start + 1;
    PetscInt        nck = c->nsteps / c->checkpoint_every - start / c->checkpoint_every; /* steps start..nsteps */

    if (mb->pert < 0 && c->branch) { /* branch points: one per distinct onset of its perturbed members */
      PetscInt on[64], non = 0;
      for (PetscInt j = 0; j < c->nmembers; j++)
        if (c->members[j].twin == i) {
          PetscBool have = PETSC_FALSE;
          for (PetscInt q = 0; q < non; q++) have = (PetscBool) (have || on[q] == c->pertonset[c->members[j].pert]);
          if (!have && non < 64) on[non++] = c->pertonset[c->members[j].pert];
        }
      nck += non;
    }
    cost->steps += n;
    cost->checkpoints += nck;
    cost->probes += nprobe ? nprobe[i] : 0;
    {
      PetscInt  k  = mb->config;
      PetscReal ms = ssu[k] + n * sps[k] + nck * sck[k];

      for (PetscInt j = 0; nprobe && j < nprobe[i]; j++)
        ms +=
          SAPlanProbeSeconds(ncal[k], &calstep[k * SA_PLAN_MAXCAL], &calsec[k * SA_PLAN_MAXCAL], psteps[pfirst[i] + j]);
      total += ms;
      cost->longest = PetscMax(cost->longest, ms); /* a twin: the whole trajectory */
    }
  }
  cost->member_seconds = total;
  cost->core_hours     = total * size / 3600.0;
  for (PetscInt k = 0; k < c->nconfigs; k++) cost->sec_per_step += sps[k] / c->nconfigs;
  for (PetscInt k = 0; k < c->nconfigs; k++) cost->sec_per_checkpoint += sck[k] / c->nconfigs;
  {
    struct rusage ru;
    if (!getrusage(RUSAGE_SELF, &ru)) rss = ru.ru_maxrss; /* kB on Linux */
  }
  PetscCallMPI(MPI_Allreduce(&rss, &maxrss, 1, MPI_LONG, MPI_MAX, comm));
  cost->mem_per_rank = 1024.0 * maxrss;
  PetscCall(PetscFree4(sps, sck, ssu, spr));
  PetscCall(PetscFree3(ncal, calstep, calsec));
  PetscCall(PetscFree2(nprobe, pfirst));
  PetscCall(PetscFree(psteps));
  PetscCall(PetscFree(dt));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPlanSuggest - Predicts the wall time on a number of ranks and suggests a layout for a target wall time

  Not Collective

  Input Parameters:
+ cost           - the calibrated cost (`SAPlanCalibrate()`)
. walltime       - target wall time in seconds (0: none)
- ranks_per_node - ranks per node of the machine to plan for

  Output Parameter:
. cost - with predicted (on cost->ranks ranks, if set), and for a target wall time the suggested group size,
         nodes, ranks per node (whole groups per node, nodes filled) and their predicted wall time (suggested_*)

  Notes:
  Wall time on G groups = max(member-seconds / G, longest member). Groups are capped by the number of members. When
  one member alone takes more than half the target, a larger group size is suggested assuming linear strong scaling
  inside a group (calibrate again with that many ranks to check it).

  Level: beginner

.seealso: `SAPlanCalibrate()`
@*/
PetscErrorCode SAPlanSuggest(SAPlanCost *cost, PetscReal walltime, PetscInt ranks_per_node)
{
  PetscReal total = cost->member_seconds; /* at the calibrated group size */

  PetscFunctionBeginUser;
  if (cost->ranks > 0) {
    PetscInt groups = PetscMax(1, PetscMin(cost->ranks / cost->group_size, cost->nmembers));
    cost->predicted = PetscMax(total / groups, cost->longest);
  }
  cost->walltime = walltime;
  if (walltime > 0) {
    PetscInt  g     = cost->group_size, groups, gpn, npg, tpn, nodes;
    PetscReal scale = 1, budget = 0.9 * walltime; /* 10 % margin: start-up, results, imbalance */

    if (cost->longest > 0.5 * walltime) { /* one member is too long for the target at this group size */
      PetscReal f = PetscCeilReal(cost->longest / (0.5 * walltime));
      g *= (PetscInt) f;
      scale = 1.0 / f;
    }
    if (g > ranks_per_node) { /* a group spans whole nodes */
      npg   = (g + ranks_per_node - 1) / ranks_per_node;
      scale = scale * g / (npg * ranks_per_node);
      g     = npg * ranks_per_node;
      gpn   = 1;
      tpn   = ranks_per_node;
    } else { /* whole groups per node */
      npg = 1;
      gpn = ranks_per_node / g;
      tpn = gpn * g;
    }
    groups = (PetscInt) PetscCeilReal(total * scale / budget);
    groups = PetscMax(1, PetscMin(groups, cost->nmembers));
    nodes  = npg > 1 ? groups * npg : (groups + gpn - 1) / gpn;
    if (npg == 1) groups = PetscMin(nodes * gpn, cost->nmembers); /* fill the nodes */
    cost->suggested_group_size     = g;
    cost->suggested_nodes          = nodes;
    cost->suggested_tasks_per_node = tpn;
    cost->suggested_predicted      = PetscMax(total * scale / groups, cost->longest * scale);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPlanView - Prints the plan (rank 0)

  Collective

  Input Parameters:
+ cost - the plan
- comm - the communicator

  Level: beginner

.seealso: `SAPlanCalibrate()`, `SAPlanSuggest()`
@*/
PetscErrorCode SAPlanView(const SAPlanCost *cost, MPI_Comm comm)
{
  PetscReal total = cost->member_seconds;

  PetscFunctionBeginUser;
  PetscCall(PetscPrintf(comm,
                        "plan: %" PetscInt_FMT " members, %" PetscInt64_FMT " steps, %" PetscInt64_FMT
                        " checkpoints and %" PetscInt64_FMT
                        " probes (with branching, none diverging) at group size %" PetscInt_FMT "\n",
                        cost->nmembers, cost->steps, cost->checkpoints, cost->probes, cost->group_size));
  PetscCall(PetscPrintf(comm,
                        "plan: cost %.4g member-seconds = %.4g core-hours; longest member %.3g s; peak memory per rank "
                        "%.0f MiB\n",
                        (double) total, (double) cost->core_hours, (double) cost->longest,
                        (double) (cost->mem_per_rank / 1048576.0)));
  if (cost->ranks > 0)
    PetscCall(PetscPrintf(comm,
                          "plan: on %" PetscInt_FMT " rank(s) (%" PetscInt_FMT " group(s) of %" PetscInt_FMT
                          "): predicted wall time %.4g s\n",
                          cost->ranks, PetscMax(1, PetscMin(cost->ranks / cost->group_size, cost->nmembers)),
                          cost->group_size, (double) cost->predicted));
  if (cost->walltime > 0)
    PetscCall(PetscPrintf(
      comm,
      "plan: for a wall time of %.0f s: group size %" PetscInt_FMT ", %" PetscInt_FMT " node(s) x %" PetscInt_FMT
      " rank(s); predicted wall time %.4g s (%.4g core-hours allocated)\n"
      "plan:   stabaudit jobs DECK -o DIR -group_size %" PetscInt_FMT " -slurm_nodes %" PetscInt_FMT
      " -slurm_ntasks_per_node %" PetscInt_FMT "\n",
      (double) cost->walltime, cost->suggested_group_size, cost->suggested_nodes, cost->suggested_tasks_per_node,
      (double) cost->suggested_predicted,
      (double) (cost->suggested_predicted * cost->suggested_nodes * cost->suggested_tasks_per_node / 3600.0),
      cost->suggested_group_size, cost->suggested_nodes, cost->suggested_tasks_per_node));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAPlanGetOptions - Reads the options of stabaudit plan (not recorded in the resolved deck)

  Not Collective

  Output Parameters:
+ steps          - timed calibration steps per configuration (0: no calibration)
. probe_seconds  - how long each configuration's calibration may train on to time later probes
. walltime       - target wall time in seconds (0: none)
. ranks          - ranks of a layout to predict (0: none)
- ranks_per_node - ranks per node of the machine planned for

  Options Database Keys:
+ -plan_calibration_steps <n> - timed steps per configuration (20; 0 skips the calibration)
. -plan_probe_seconds <s>     - seconds each configuration may train on to time the probes of later steps (30; 0: step
                                0's probe prices every probe)
. -plan_walltime <t>          - target wall time, SLURM format (M, H:M:S, D-H:M:S, ...)
. -plan_ranks <n>             - predict the wall time on n ranks (0, the default: no prediction)
- -plan_ranks_per_node <n>    - ranks per node (this machine's processors)

  Level: beginner

.seealso: `SAPlanCalibrate()`, `SAPlanSuggest()`
@*/
PetscErrorCode SAPlanGetOptions(PetscInt *steps, PetscReal *probe_seconds, PetscReal *walltime, PetscInt *ranks,
                                PetscInt *ranks_per_node)
{
  char      t[64] = "";
  PetscBool set;

  PetscFunctionBeginUser;
  *walltime = 0;
  PetscCall(SADeckPushRole(SA_KEY_COMMAND)); /* options of stabaudit plan: not in the resolved deck */
  PetscCall(SADeckGetInt("plan_", "calibration_steps", 20, 0, 100000, steps, NULL));
  PetscCall(SADeckGetReal("plan_", "probe_seconds", 30, 0, 1e6, probe_seconds, NULL));
  PetscCall(SADeckGetInt("plan_", "ranks", 0, 0, PETSC_MAX_INT, ranks, NULL));
  PetscCall(SADeckGetInt("plan_", "ranks_per_node", (PetscInt) sysconf(_SC_NPROCESSORS_ONLN), 1, PETSC_MAX_INT,
                         ranks_per_node, NULL));
  PetscCall(SADeckGetString("plan_", "walltime", "", t, sizeof(t), &set));
  PetscCall(SADeckPopRole(SA_KEY_COMMAND));
  if (set) {
    PetscCall(SAJobsParseTime(t, walltime));
    if (*walltime <= 0)
      PetscCall(
        SADeckFail("plan_walltime",
                   "'%s' is not a SLURM time limit; allowed: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S (e.g. 12:00:00)", t));
    if (!*steps) PetscCall(SADeckFail("plan_walltime", "needs a calibration (plan_calibration_steps > 0)"));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
