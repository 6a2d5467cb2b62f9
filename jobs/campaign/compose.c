/*
  compose.c - member composition: the one place that wires a solver, its task and optimizer, the sweep values of the
  configuration, the perturbation (as solver hooks) and the measurements (probes, Lyapunov tangents, twin distance, as
  solver monitors). Sweep axes set their value through the classes' generic setters, never by type name.
*/
#include "compose.h"
#include <stabaudit/sadeck.h>
#include <string.h>

static PetscErrorCode SAAxisApplyLR(SASolver s, PetscReal v)
{
  SAOptimizer opt;

  PetscFunctionBeginUser;
  PetscCall(SASolverGetOptimizer(s, &opt));
  PetscCall(SAOptimizerSetLearningRate(opt, v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAAxisApplyMomentum(SASolver s, PetscReal v)
{
  SAOptimizer     opt;
  SAOptimizerType type;
  PetscInt        caps;

  PetscFunctionBeginUser;
  PetscCall(SASolverGetOptimizer(s, &opt));
  PetscCall(SAOptimizerGetCapabilities(opt, &caps));
  PetscCall(SAOptimizerGetType(opt, &type)); /* for the message only */
  if (!(caps & SA_OPT_CAP_MOMENTUM))
    PetscCall(
      SADeckFail("sweep_momentum", "sweeping momentum needs optimizer: {type: momentum}, the optimizer is %s", type));
  PetscCall(SAOptimizerSetMomentum(opt, v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAAxisApplyNoise(SASolver s, PetscReal v)
{
  SATask task;

  PetscFunctionBeginUser;
  PetscCall(SASolverGetTask(s, &task));
  PetscCall(SATaskSetNoise(task, v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  The error of a generic task setter of a sweep axis, called under PetscReturnErrorHandler: a task type without the
  setting (PETSC_ERR_SUP, e.g. no dropout) or a value it cannot take (PETSC_ERR_ARG_OUTOFRANGE) is a deck error of the
  axis key, with the setter's message; other errors are raised again with it.
*/
static PetscErrorCode SAAxisSetterError(PetscErrorCode ierr, const char key[])
{
  const char *text;
  char       *specific = NULL;

  PetscFunctionBeginUser;
  if (!ierr) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscErrorMessage(ierr, &text, &specific));
  if (ierr == PETSC_ERR_SUP || ierr == PETSC_ERR_ARG_OUTOFRANGE)
    PetscCall(SADeckFail(key, "%s", specific ? specific : text));
  SETERRQ(PETSC_COMM_SELF, ierr, "%s", specific ? specific : text);
}

static PetscErrorCode SAAxisApplyDropout(SASolver s, PetscReal v)
{
  SATask         task;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(SASolverGetTask(s, &task));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SATaskSetDropout(task, v);
  PetscCall(PetscPopErrorHandler());
  PetscCall(SAAxisSetterError(ierr, "sweep_dropout"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAAxisApplyBatch(SASolver s, PetscReal v)
{
  SATask         task;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(SASolverGetTask(s, &task));
  if (v != PetscFloorReal(v)) PetscCall(SADeckFail("sweep_batch", "batch sizes must be integers, got %g", (double) v));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SATaskSetBatchSize(task, (PetscInt) v);
  PetscCall(PetscPopErrorHandler());
  PetscCall(SAAxisSetterError(ierr, "sweep_batch"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

const SASweepAxis SASweepAxes[] = {
  {"lr", "learning rate (optimizer_lr)", PETSC_MACHINE_EPSILON, 1e6, SAAxisApplyLR},
  {"momentum", "momentum coefficient (optimizer_momentum)", 0.0, 1.0 - PETSC_MACHINE_EPSILON, SAAxisApplyMomentum},
  {"noise", "stochasticity level of the task (task_noise), a controlled-stochasticity axis", 0.0, 1e6,
   SAAxisApplyNoise},
  {"dropout", "dropout probability of the hidden units (model_dropout), a controlled-stochasticity axis", 0.0,
   1.0 - PETSC_MACHINE_EPSILON, SAAxisApplyDropout},
  {"batch", "minibatch size (task_classify_batch), a controlled-stochasticity axis", 1.0, 1e6, SAAxisApplyBatch},
  {NULL, NULL, 0, 0, NULL}};

/* builds a member's objects on comm for configuration cfg (NULL values = base deck); probe and lyap (may be NULL)
   receive the member's monitors (borrowed: the solver owns them), NULL when the deck has none */
PetscErrorCode SACampaignBuild_Private(SACampaign c, MPI_Comm comm, const PetscReal *cfg, PetscInt seed, PetscInt pert,
                                       PetscReal mag, SAProbe *probe_out, SALyap *lyap_out, SASolver *s)
{
  SATask      task;
  SAOptimizer opt;

  PetscFunctionBeginUser;
  PetscCall(SASolverCreate(comm, s));
  PetscCall(SATaskCreate(comm, &task));
  PetscCall(SATaskSetFromOptions(task));
  PetscCall(SATaskSetSeeds(task, c->seed, seed));
  PetscCall(SAOptimizerCreate(comm, &opt));
  PetscCall(SAOptimizerSetFromOptions(opt));
  PetscCall(SASolverSetTask(*s, task));
  PetscCall(SASolverSetOptimizer(*s, opt));
  PetscCall(SASolverSetSteps(*s, c->nsteps, c->record_every));
  PetscCall(SASolverSetExplosionFactor(*s, c->explode));
  { /* spectral probes (deck section probe:, analysis/probes), NULL when none is on */
    SAProbe probe;

    PetscCall(SAProbeCreateForMember(comm, c->seed, seed, c->nsteps, pert >= 0 ? c->pertonset[pert] : -1, &probe));
    if (probe) PetscCall(SAProbeAttach(probe, *s));
    if (probe_out) *probe_out = probe;
  }
  { /* Lyapunov spectrum during training (deck section lyap:, analysis/stability), NULL when lyap_k is 0 */
    SALyap ly;

    PetscCall(SALyapCreateForMember(comm, c->seed, seed, &ly));
    if (ly) PetscCall(SALyapAttach(ly, *s));
    if (lyap_out) *lyap_out = ly;
  }
  if (cfg)
    for (PetscInt a = 0; a < c->naxes; a++) PetscCall((*SASweepAxes[c->axis[a]].apply)(*s, cfg[a]));
  if (pert >= 0) {
    SAPerturb p;
    char      prefix[80];

    PetscCall(SAPerturbCreate(comm, &p));
    PetscCall(PetscSNPrintf(prefix, sizeof(prefix), "%s_", c->pertnames[pert]));
    PetscCall(SAPerturbSetOptionsPrefix(p, prefix));
    PetscCall(SAPerturbSetFromOptions(p));
    PetscCall(SAPerturbSetMagnitude(p, mag));
    PetscCall(SAPerturbSetSeeds(p, c->seed, seed));
    PetscCall(SAPerturbCheckTask(p, task, opt));
    PetscCall(SAPerturbAttach(p, *s));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SACampaignCreateSolver - Builds the solver of one member on its group communicator

  Collective

  Input Parameters:
+ c    - the expanded campaign
. id   - the member id
- comm - the group communicator

  Output Parameter:
. s - the solver (owns its task, optimizer, hooks and monitors)

  Level: intermediate

.seealso: `SASolverStep()`
@*/
PetscErrorCode SACampaignCreateSolver(SACampaign c, PetscInt id, MPI_Comm comm, SASolver *s)
{
  SAMember *m = &c->members[id];

  PetscFunctionBeginUser;
  PetscCall(SACampaignBuild_Private(c, comm, c->naxes ? &c->configvals[m->config * c->naxes] : NULL, m->seed, m->pert,
                                    m->magnitude, NULL, NULL, s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SACampaignCreateMember - Composes one member on its group communicator: the solver with its task and optimizer, the
  sweep values of its configuration, its perturbation as hooks, and its probes, Lyapunov accumulator and twin distance
  as monitors

  Collective

  Input Parameters:
+ c    - the expanded campaign
. id   - the member id
. comm - the group communicator
- dir  - the campaign directory (the twin trajectories DIR/trajectories/t<twin>.bin), or NULL: no twin distance

  Output Parameter:
. mo - the member's objects: mo->solver owns everything; mo->probe and mo->lyap are borrowed (NULL when the deck has
       no probe or no lyap: section)

  Notes:
  This is the one place that wires a solver, its hooks and its monitors. Monitors run in the order probe, Lyapunov,
  twin distance.

  Level: intermediate

.seealso: `SACampaignCreateSolver()`, `SASolverAddHooks()`, `SASolverMonitorSet()`
@*/
PetscErrorCode SACampaignCreateMember(SACampaign c, PetscInt id, MPI_Comm comm, const char dir[], SAMemberObjects *mo)
{
  SAMember *m = &c->members[id];

  PetscFunctionBeginUser;
  PetscCall(SACampaignBuild_Private(c, comm, c->naxes ? &c->configvals[m->config * c->naxes] : NULL, m->seed, m->pert,
                                    m->magnitude, &mo->probe, &mo->lyap, &mo->solver));
  if (dir && c->nperts > 0) { /* twins write their trajectory, perturbed members read their twin's (twin_distance) */
    char   tpath[PETSC_MAX_PATH_LEN];
    SATwin tw;

    PetscCall(
      PetscSNPrintf(tpath, sizeof(tpath), "%s/trajectories/t%06" PetscInt_FMT ".bin", dir, m->pert < 0 ? id : m->twin));
    PetscCall(SATwinCreate(comm, tpath, (PetscBool) (m->pert < 0), m->pert < 0 ? 0 : c->pertonset[m->pert], &tw));
    PetscCall(SATwinAttach(tw, mo->solver));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
