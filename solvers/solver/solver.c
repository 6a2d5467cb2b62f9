/*
  solver.c - SASolver: the step loop of one member.

  Step t (0 <= t <= nsteps; the update is skipped at t = nsteps):
    1. parametric hook       theta <- P(theta)                    (SAPerturbApplyParams)
    2. environment hook      batch description                   (SAPerturbApplyBatch)
    3. loss and gradient     on the batch                        (SATaskLossGradient)
    4. learning-signal hook  gradient                            (SAPerturbApplySignal)
    5. divergence check      loss NaN/Inf, or loss > explode * loss(theta_0) (explode * 1 if that is 0): the run ends,
  the reason is recorded (a result, never an error)
    6. optimization hook     hyper-parameters / optimizer state  (SAPerturbApplyOptimizer)
       then, with the step's final hyper-parameters h, the scheduled probes (SAProbeStep) and, for a member with a
       Lyapunov accumulator (deck section lyap:), the tangent propagation through the update-map Jacobian of the step
       on its batch: SAProbeCreateJacobian(), SAProbeJacobianSetHyper(h), SALyapStep() (t < nsteps)
    7. update                theta <- F(theta, g)                (SAOptimizerUpdate)
  Steps t with t % record_every == 0 are recorded: loss, performance (SATaskEvaluate), gradient,
  update and parameter norms and the learning rate in force. The loss is broadcast from the
  group's rank 0 so every rank takes the same divergence decision.
*/
#include <stabaudit/sasolver.h>
#include <stabaudit/saprobe.h>
#include <stabaudit/saio.h>
#include <netcdf.h>

const SAObservableInfo SAObservables[] = {
  {"loss", "training loss of the step's batch", "1"},
  {"performance", "performance (higher is better, in [0,1])", "1"},
  {"grad_norm", "2-norm of the loss gradient that drives the update", "1"},
  {"update_norm", "2-norm of the parameter update of the step", "1"},
  {"theta_norm", "2-norm of all trainable parameters", "1"},
  {"lr", "learning rate in force at the step", "1"},
  {"eval_loss", "loss on the evaluation data (test set; the noise-free loss for analytic tasks)", "1"},
  {"effective_lr", "update norm over gradient norm: the step size the optimizer actually took", "1"},
  {"twin_distance", "relative distance ||theta - theta_twin|| / ||theta_twin|| to the unperturbed twin at the step",
   "1"},
};

struct _p_SASolver {
  MPI_Comm          comm;          /* the member's group communicator */
  SATask            task;          /* the learning problem */
  SAOptimizer       opt;           /* the update rule */
  SAPerturb         pert;          /* the perturbation of this member, NULL for a twin */
  Vec               theta;         /* all trainable parameters, sharded over the group */
  Vec               grad;          /* gradient, layout of theta */
  Vec               prev;          /* theta before the update (recorded steps only) */
  PetscInt          nsteps;        /* optimizer steps */
  PetscInt          record_every;  /* interval of recorded steps */
  PetscInt          nrec;          /* recorded steps: nsteps / record_every + 1 */
  PetscInt          step;          /* the state is theta_step */
  PetscReal         explode;       /* loss explosion factor */
  PetscReal         loss0;         /* clean loss of theta_0 */
  PetscReal         final_perf;    /* performance at the last step reached */
  SAConvergedReason reason;        /* iterating, completed or diverged */
  PetscInt          diverged_step; /* step at which training diverged, -1 if not */
  PetscInt          nobs;          /* observables per record: SA_OBS_COUNT common + the task's */
  PetscReal        *rec;           /* records, nrec x nobs, NC_FILL_DOUBLE where not reached */
  PetscBool         setupcalled;   /* SASolverSetUp() done */
  PetscInt          trajmode;   /* 0 none, 1 a twin writing its trajectory, 2 a perturbed member reading its twin's */
  MPI_File          traj;       /* the twin's trajectory file: record r of theta at byte offset 8 r P (global order) */
  PetscInt          traj_onset; /* first step at which the twin distance is computed (mode 2) */
  Vec               twin;       /* the twin's theta at the step (mode 2) */
  SAProbe           probe;      /* spectral probes of the member (analysis/probes), NULL: none */
  SALyap            lyap;       /* Lyapunov spectrum accumulator (analysis/stability), NULL: none */
};

static PetscLogEvent SASOLVER_Step;
static PetscClassId  SASOLVER_CLASSID;

/*@C
  SASolverInitializePackage - Registers the SASolver class and its log event

  Not Collective

  Level: developer

.seealso: `SAInitialize()`
@*/
PetscErrorCode SASolverInitializePackage(void)
{
  static PetscBool done = PETSC_FALSE;

  PetscFunctionBeginUser;
  if (done) PetscFunctionReturn(PETSC_SUCCESS);
  done = PETSC_TRUE;
  PetscCall(PetscClassIdRegister("SASolver", &SASOLVER_CLASSID));
  PetscCall(PetscLogEventRegister("SASolverStep", SASOLVER_CLASSID, &SASOLVER_Step));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverCreate - Creates the step loop of one member

  Collective

  Input Parameter:
. comm - the member's group communicator

  Output Parameter:
. s - the solver

  Level: beginner

.seealso: `SASolverSetTask()`, `SASolverStep()`
@*/
PetscErrorCode SASolverCreate(MPI_Comm comm, SASolver *s)
{
  SASolver q;

  PetscFunctionBeginUser;
  PetscCall(SASolverInitializePackage());
  PetscCall(PetscNew(&q));
  q->comm          = comm;
  q->nsteps        = 100;
  q->record_every  = 1;
  q->explode       = 1e10;
  q->diverged_step = -1;
  *s               = q;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverSetTask - Sets the learning problem (the solver takes ownership)

  Logically Collective

  Input Parameters:
+ s    - the solver
- task - the task

  Level: beginner

.seealso: `SASolverGetTask()`
@*/
PetscErrorCode SASolverSetTask(SASolver s, SATask task)
{
  PetscFunctionBeginUser;
  s->task = task;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverGetTask - Returns the learning problem

  Not Collective

  Input Parameter:
. s - the solver

  Output Parameter:
. task - the task

  Level: beginner

.seealso: `SASolverSetTask()`
@*/
PetscErrorCode SASolverGetTask(SASolver s, SATask *task)
{
  PetscFunctionBeginUser;
  *task = s->task;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverSetOptimizer - Sets the update rule

  Logically Collective

  Input Parameters:
+ s   - the solver
- opt - the optimizer

  Level: beginner

.seealso: `SASolverGetOptimizer()`
@*/
PetscErrorCode SASolverSetOptimizer(SASolver s, SAOptimizer opt)
{
  PetscFunctionBeginUser;
  s->opt = opt;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverGetOptimizer - Returns the update rule

  Not Collective

  Input Parameter:
. s - the solver

  Output Parameter:
. opt - the optimizer

  Level: beginner

.seealso: `SASolverSetOptimizer()`
@*/
PetscErrorCode SASolverGetOptimizer(SASolver s, SAOptimizer *opt)
{
  PetscFunctionBeginUser;
  *opt = s->opt;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverSetPerturb - Sets the member's perturbation (NULL for an unperturbed twin)

  Logically Collective

  Input Parameters:
+ s - the solver
- p - the perturbation

  Level: beginner

.seealso: `SAPerturbCreate()`
@*/
PetscErrorCode SASolverSetPerturb(SASolver s, SAPerturb p)
{
  PetscFunctionBeginUser;
  s->pert = p;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverSetSteps - Sets the number of optimizer steps and the record interval

  Logically Collective

  Input Parameters:
+ s            - the solver
. nsteps       - optimizer steps (>= 1)
- record_every - record interval; must divide nsteps

  Level: beginner

.seealso: `SASolverGetRecords()`
@*/
PetscErrorCode SASolverSetSteps(SASolver s, PetscInt nsteps, PetscInt record_every)
{
  PetscFunctionBeginUser;
  PetscCheck(nsteps >= 1 && record_every >= 1 && nsteps % record_every == 0, s->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "Need steps >= 1 and record_every dividing steps; got %" PetscInt_FMT " and %" PetscInt_FMT, nsteps,
             record_every);
  s->nsteps       = nsteps;
  s->record_every = record_every;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverSetExplosionFactor - A run whose loss exceeds factor * loss(theta_0) is diverged

  Logically Collective

  Input Parameters:
+ s      - the solver
- factor - the factor (> 1)

  Level: intermediate

.seealso: `SASolverGetReason()`
@*/
PetscErrorCode SASolverSetExplosionFactor(SASolver s, PetscReal factor)
{
  PetscFunctionBeginUser;
  PetscCheck(factor > 1, s->comm, PETSC_ERR_ARG_OUTOFRANGE, "Explosion factor must be > 1, got %g", (double) factor);
  s->explode = factor;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverSetUp - Creates theta and the optimizer state, sets theta_0 and clears the records

  Collective

  Input Parameter:
. s - the solver

  Level: intermediate

.seealso: `SASolverStep()`
@*/
PetscErrorCode SASolverSetUp(SASolver s)
{
  PetscReal perf;

  PetscFunctionBeginUser;
  if (s->setupcalled) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(s->task && s->opt, s->comm, PETSC_ERR_ORDER, "Set a task and an optimizer first");
  PetscCall(SATaskCreateParameters(s->task, &s->theta));
  PetscCall(VecDuplicate(s->theta, &s->grad));
  PetscCall(VecDuplicate(s->theta, &s->prev));
  PetscCall(SATaskInitialGuess(s->task, s->theta));
  PetscCall(SATaskEvaluate(s->task, s->theta, &s->loss0, &perf));
  PetscCall(SAOptimizerSetUp(s->opt, s->theta));
  {
    PetscInt                ntask;
    const SAObservableInfo *info;

    PetscCall(SATaskGetObservables(s->task, &ntask, &info));
    s->nobs = SA_OBS_COUNT + ntask;
  }
  s->nrec = s->nsteps / s->record_every + 1;
  PetscCall(PetscMalloc1(s->nrec * s->nobs, &s->rec));
  for (PetscInt i = 0; i < s->nrec * s->nobs; i++) s->rec[i] = NC_FILL_DOUBLE;
  s->step          = 0;
  s->reason        = SA_CONVERGED_ITERATING;
  s->diverged_step = -1;
  s->final_perf    = perf;
  s->setupcalled   = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverSetTwinTrajectory - Connects the member to its twin's trajectory file (theta at every recorded step)

  Collective

  Input Parameters:
+ s     - the solver (set up)
. path  - the file, DIR/trajectories/t<twin>.bin
. write - PETSC_TRUE for the twin itself (it writes theta at each recorded step), PETSC_FALSE for a perturbed member
          (it reads the twin's theta and records twin_distance)
- onset - first step at which a perturbed member computes the distance (its perturbation's onset)

  Notes:
  Record r of the file is theta at step r * record_every, in global index order, float64, at byte offset 8 r P: each
  rank writes or reads its contiguous part with MPI-IO, so the file does not depend on the group size and re-writing
  a record after a restart is idempotent. A perturbed member reads a record only after its twin has finished. Where
  the record is missing (twin diverged earlier, or finished in an older campaign without perturbations) or not
  finite, twin_distance is the fill value; before onset it is the fill value too (the member equals its twin bitwise
  there, which the tests check).

  Level: developer

.seealso: `SASolverStep()`
@*/
PetscErrorCode SASolverSetTwinTrajectory(SASolver s, const char path[], PetscBool write, PetscInt onset)
{
  int err;

  PetscFunctionBeginUser;
  PetscCall(SASolverSetUp(s));
  if (s->trajmode) PetscCallMPI(MPI_File_close(&s->traj));
  s->trajmode   = 0;
  s->traj_onset = onset;
  if (write) {
    PetscCallMPI(MPI_File_open(s->comm, path, MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL, &s->traj));
    s->trajmode = 1;
  } else {
    err = MPI_File_open(s->comm, path, MPI_MODE_RDONLY, MPI_INFO_NULL, &s->traj); /* absent: no distance */
    if (err == MPI_SUCCESS) {
      s->trajmode = 2;
      if (!s->twin) PetscCall(VecDuplicate(s->theta, &s->twin));
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* writes theta (twin) or computes the twin distance (perturbed member) at recorded row */
static PetscErrorCode SASolverTwinRecord(SASolver s, PetscInt row, PetscInt t, PetscReal *dist)
{
  PetscInt    rs, re, P;
  MPI_Offset  off;
  MPI_Status  st;
  PetscMPIInt n;

  PetscFunctionBeginUser;
  *dist = NC_FILL_DOUBLE;
  if (!s->trajmode) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(VecGetOwnershipRange(s->theta, &rs, &re));
  PetscCall(VecGetSize(s->theta, &P));
  off = ((MPI_Offset) row * P + rs) * (MPI_Offset) sizeof(PetscReal);
  n   = (PetscMPIInt) (re - rs);
  if (s->trajmode == 1) {
    const PetscScalar *a;

    PetscCall(VecGetArrayRead(s->theta, &a));
    PetscCallMPI(MPI_File_write_at_all(s->traj, off, a, n, MPIU_REAL, &st));
    PetscCall(VecRestoreArrayRead(s->theta, &a));
  } else if (t >= s->traj_onset) {
    PetscScalar *a;
    int          got, ok;
    PetscReal    nt, nd;

    PetscCall(VecGetArray(s->twin, &a));
    PetscCallMPI(MPI_File_read_at_all(s->traj, off, a, n, MPIU_REAL, &st));
    PetscCallMPI(MPI_Get_count(&st, MPIU_REAL, &got));
    PetscCall(VecRestoreArray(s->twin, &a));
    ok = got == n;
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_LAND, s->comm));
    if (ok) {
      PetscCall(VecNorm(s->twin, NORM_2, &nt));
      PetscCall(VecAXPY(s->twin, -1.0, s->theta));
      PetscCall(VecNorm(s->twin, NORM_2, &nd));
      if (nt > 0 && !PetscIsInfOrNanReal(nt) && !PetscIsInfOrNanReal(nd)) *dist = nd / nt;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverStep - Takes one step of the pipeline (see the file's method card)

  Collective

  Input Parameter:
. s - the solver

  Notes:
  A diverged step ends the run with reason `SA_DIVERGED_NAN` or `SA_DIVERGED_LOSS_EXPLODED`; it is
  not an error. Calling it on a finished run is an error.

  Level: beginner

.seealso: `SASolverIsDone()`, `SASolverGetReason()`
@*/
PetscErrorCode SASolverStep(SASolver s)
{
  PetscInt  t = s->step, row = -1;
  PetscReal loss, *r = NULL, perf = 0, lossbuf[1];
  SABatch   batch = SA_BATCH(t);
  SAHyper   h;

  PetscFunctionBeginUser;
  PetscCall(SASolverSetUp(s));
  PetscCheck(s->reason == SA_CONVERGED_ITERATING, s->comm, PETSC_ERR_ORDER,
             "The run has ended (step %" PetscInt_FMT ")", t);
  PetscCall(PetscLogEventBegin(SASOLVER_Step, 0, 0, 0, 0));
  if (s->pert) PetscCall(SAPerturbApplyParams(s->pert, t, s->theta));
  if (s->pert) PetscCall(SAPerturbApplyBatch(s->pert, t, &batch));
  PetscCall(SATaskLossGradient(s->task, s->theta, &batch, &loss, s->grad));
  if (s->pert) PetscCall(SAPerturbApplySignal(s->pert, t, s->grad));
  lossbuf[0] = loss;
  PetscCallMPI(MPI_Bcast(lossbuf, 1, MPIU_REAL, 0, s->comm));
  loss = lossbuf[0];
  if (t % s->record_every == 0) {
    row            = t / s->record_every;
    r              = &s->rec[row * s->nobs];
    r[SA_OBS_LOSS] = loss;
    PetscCall(VecNorm(s->grad, NORM_2, &r[SA_OBS_GRAD_NORM]));
    PetscCall(VecNorm(s->theta, NORM_2, &r[SA_OBS_THETA_NORM]));
    PetscCall(SASolverTwinRecord(s, row, t, &r[SA_OBS_TWIN_DIST]));
    PetscCall(SATaskComputeObservables(s->task, s->theta, s->grad, &batch, &r[SA_OBS_COUNT]));
  }
  if (PetscIsInfOrNanReal(loss) || loss > s->explode * (s->loss0 > 0 ? s->loss0 : 1.0)) {
    s->reason        = PetscIsInfOrNanReal(loss) ? SA_DIVERGED_NAN : SA_DIVERGED_LOSS_EXPLODED;
    s->diverged_step = t;
    s->final_perf    = 0.0;
    if (r) r[SA_OBS_PERFORMANCE] = 0.0;
  } else {
    PetscCall(SAOptimizerGetHyper(s->opt, t, &h));
    if (s->pert) PetscCall(SAPerturbApplyOptimizer(s->pert, t, s->opt, &h));
    if (s->probe) PetscCall(SAProbeStep(s->probe, s->task, s->opt, s->theta, t, &h)); /* scheduled probes */
    if (s->lyap && t < s->nsteps) { /* tangents through the Jacobian of this update, on the step's batch */
      Mat J;

      PetscCall(SAProbeCreateJacobian(s->task, s->opt, s->theta, &batch, t, &J));
      PetscCall(SAProbeJacobianSetHyper(J, &h));
      PetscCall(SALyapStep(s->lyap, J));
      PetscCall(MatDestroy(&J));
    }
    if (r) {
      PetscReal l;

      PetscCall(SATaskEvaluate(s->task, s->theta, &l, &perf));
      r[SA_OBS_PERFORMANCE] = perf;
      r[SA_OBS_EVAL_LOSS]   = l;
      r[SA_OBS_LR]          = h.lr;
    }
    if (t < s->nsteps) {
      if (r) PetscCall(VecCopy(s->theta, s->prev));
      PetscCall(SAOptimizerUpdate(s->opt, &h, s->theta, s->grad));
      if (r) {
        PetscCall(VecAXPY(s->prev, -1.0, s->theta));
        PetscCall(VecNorm(s->prev, NORM_2, &r[SA_OBS_UPDATE_NORM]));
        r[SA_OBS_EFF_LR] = r[SA_OBS_GRAD_NORM] > 0 ? r[SA_OBS_UPDATE_NORM] / r[SA_OBS_GRAD_NORM] : 0.0;
      }
    } else {
      if (!r) {
        PetscReal l;
        PetscCall(SATaskEvaluate(s->task, s->theta, &l, &perf));
      }
      s->final_perf = perf;
      s->reason     = SA_CONVERGED_MAX_STEPS;
    }
  }
  s->step++;
  PetscCall(PetscLogEventEnd(SASOLVER_Step, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverIsDone - Whether the run has ended (completed or diverged)

  Not Collective

  Input Parameter:
. s - the solver

  Output Parameter:
. done - the answer

  Level: beginner

.seealso: `SASolverStep()`
@*/
PetscErrorCode SASolverIsDone(SASolver s, PetscBool *done)
{
  PetscFunctionBeginUser;
  *done = (PetscBool) (s->reason != SA_CONVERGED_ITERATING);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverGetStep - Returns the current step (the state is theta_step)

  Not Collective

  Input Parameter:
. s - the solver

  Output Parameter:
. step - the step

  Level: beginner

.seealso: `SASolverStep()`
@*/
PetscErrorCode SASolverGetStep(SASolver s, PetscInt *step)
{
  PetscFunctionBeginUser;
  *step = s->step;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverGetReason - Returns why the run ended and, if it diverged, where

  Not Collective

  Input Parameter:
. s - the solver

  Output Parameters:
+ reason        - `SA_CONVERGED_ITERATING` while running
- diverged_step - the step at which it diverged, -1 otherwise (may be NULL)

  Level: beginner

.seealso: `SAConvergedReason`
@*/
PetscErrorCode SASolverGetReason(SASolver s, SAConvergedReason *reason, PetscInt *diverged_step)
{
  PetscFunctionBeginUser;
  *reason = s->reason;
  if (diverged_step) *diverged_step = s->diverged_step;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverGetRecords - Returns the records (nrec x nobs, row-major, NC_FILL_DOUBLE where not reached)

  Not Collective

  Input Parameter:
. s - the solver

  Output Parameters:
+ nrec - recorded steps
. nobs - observables: the `SA_OBS_COUNT` of `SAObservables`, then the task's (`SASolverGetObservable()`)
- rec  - the records (owned by the solver)

  Level: intermediate

.seealso: `SAObservables`
@*/
PetscErrorCode SASolverGetRecords(SASolver s, PetscInt *nrec, PetscInt *nobs, PetscReal **rec)
{
  PetscFunctionBeginUser;
  PetscCall(SASolverSetUp(s));
  *nrec = s->nrec;
  *nobs = s->nobs;
  *rec  = s->rec;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverGetObservable - Describes observable i of the records

  Not Collective

  Input Parameters:
+ s - the solver (set up)
- i - index in a record row, 0 <= i < nobs

  Output Parameter:
. info - name, long name and units

  Level: intermediate

.seealso: `SASolverGetRecords()`
@*/
PetscErrorCode SASolverGetObservable(SASolver s, PetscInt i, const SAObservableInfo **info)
{
  PetscInt                ntask;
  const SAObservableInfo *tinfo;

  PetscFunctionBeginUser;
  PetscCall(SASolverSetUp(s));
  PetscCheck(i >= 0 && i < s->nobs, s->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "Observable %" PetscInt_FMT " not in [0, %" PetscInt_FMT ")", i, s->nobs);
  PetscCall(SATaskGetObservables(s->task, &ntask, &tinfo));
  *info = i < SA_OBS_COUNT ? &SAObservables[i] : &tinfo[i - SA_OBS_COUNT];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverGetFinalPerformance - Performance at the last step reached (0 for a diverged run)

  Not Collective

  Input Parameter:
. s - the solver

  Output Parameter:
. perf - the performance

  Level: beginner

.seealso: `SASolverGetReason()`
@*/
PetscErrorCode SASolverGetFinalPerformance(SASolver s, PetscReal *perf)
{
  PetscFunctionBeginUser;
  *perf = s->final_perf;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverGetTheta - Returns the parameter vector (owned by the solver)

  Not Collective

  Input Parameter:
. s - the solver

  Output Parameter:
. theta - all trainable parameters

  Level: intermediate

.seealso: `SASolverSetState()`
@*/
PetscErrorCode SASolverGetTheta(SASolver s, Vec *theta)
{
  PetscFunctionBeginUser;
  PetscCall(SASolverSetUp(s));
  *theta = s->theta;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverSetState - Restores the counters and records of a checkpoint (theta and the optimizer
  state are loaded into their vectors by the caller)

  Logically Collective

  Input Parameters:
+ s             - the solver
. step          - the step of the state
. reason        - the reason stored with it
. diverged_step - the diverged step stored with it
- rec           - the records (nrec x nobs)

  Level: developer

.seealso: `SACheckpointRead()`
@*/
PetscErrorCode SASolverSetState(SASolver s, PetscInt step, SAConvergedReason reason, PetscInt diverged_step,
                                const PetscReal rec[])
{
  PetscFunctionBeginUser;
  PetscCall(SASolverSetUp(s));
  PetscCheck(step >= 0 && step <= s->nsteps + 1, s->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "Checkpoint step %" PetscInt_FMT " out of range", step);
  s->step          = step;
  s->reason        = reason;
  s->diverged_step = diverged_step;
  if (reason < 0) s->final_perf = 0.0; /* a diverged run's performance, as in SASolverStep() */
  PetscCall(PetscArraycpy(s->rec, rec, s->nrec * s->nobs));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverSetProbe - Sets the member's spectral probes (the solver takes ownership; NULL: none)

  Logically Collective

  Input Parameters:
+ s - the solver
- p - the probe (`SAProbeCreateForMember()`), run by `SASolverStep()` at its scheduled steps, just before the
      update, with the hyper-parameters of the step after perturbations

  Level: intermediate

.seealso: `SASolverGetProbe()`, `SAProbeStep()`
@*/
PetscErrorCode SASolverSetProbe(SASolver s, SAProbe p)
{
  PetscFunctionBeginUser;
  if (p != s->probe) PetscCall(SAProbeDestroy(&s->probe));
  s->probe = p;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverGetProbe - Returns the member's spectral probes

  Not Collective

  Input Parameter:
. s - the solver

  Output Parameter:
. p - the probe (NULL: none)

  Level: intermediate

.seealso: `SASolverSetProbe()`, `SAProbeGetRecords()`
@*/
PetscErrorCode SASolverGetProbe(SASolver s, SAProbe *p)
{
  PetscFunctionBeginUser;
  *p = s->probe;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverSetLyap - Sets the member's Lyapunov-spectrum accumulator (the solver takes ownership; NULL: none)

  Logically Collective

  Input Parameters:
+ s  - the solver
- ly - the accumulator (`SALyapCreateForMember()`), stepped by `SASolverStep()` at every update t < nsteps, just
       before it, through the Jacobian of the update with the step's hyper-parameters after perturbations

  Level: intermediate

.seealso: `SASolverGetLyap()`, `SALyapStep()`
@*/
PetscErrorCode SASolverSetLyap(SASolver s, SALyap ly)
{
  PetscFunctionBeginUser;
  if (ly != s->lyap) PetscCall(SALyapDestroy(&s->lyap));
  s->lyap = ly;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverGetLyap - Returns the member's Lyapunov-spectrum accumulator

  Not Collective

  Input Parameter:
. s - the solver

  Output Parameter:
. ly - the accumulator (NULL: none)

  Level: intermediate

.seealso: `SASolverSetLyap()`, `SALyapGetExponents()`
@*/
PetscErrorCode SASolverGetLyap(SASolver s, SALyap *ly)
{
  PetscFunctionBeginUser;
  *ly = s->lyap;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverWriteCheckpoint - Writes the member's whole state to an HDF5 checkpoint

  Collective on the solver's communicator

  Input Parameters:
+ s      - the solver
. member - the member's index in the campaign (stored in the checkpoint)
- path   - the checkpoint file (written whole, see `SACheckpointWrite()`)

  Notes:
  The checkpoint holds theta, the optimizer state, the step, the reason and diverged step, the records, the probe
  rows and warm-start vectors, and the Lyapunov tangents and sums: everything a restart or a branch needs to continue
  bitwise.

  Level: developer

.seealso: `SACheckpointWrite()`, `SACheckpointRead()`, `SAEnsembleRun()`
@*/
PetscErrorCode SASolverWriteCheckpoint(SASolver s, PetscInt member, const char path[])
{
  SACheckpointInfo   info;
  Vec                theta = NULL, *state;
  PetscInt           ns, nrec = 0, nobs = 0;
  const char *const *names;

  PetscFunctionBeginUser;
  PetscCall(SASolverGetTheta(s, &theta)); /* sets the solver up if needed */
  PetscCall(SAOptimizerGetState(s->opt, &ns, &state, &names));
  info.member = member;
  PetscCall(SASolverGetStep(s, &info.step));
  PetscCall(SASolverGetReason(s, &info.reason, &info.diverged_step));
  PetscCall(SASolverGetRecords(s, &nrec, &nobs, &info.rec));
  info.nrec  = nrec;
  info.nobs  = nobs;
  info.probe = s->probe; /* probe rows and warm starts travel with the checkpoint */
  info.lyap  = s->lyap;  /* and the Lyapunov tangents and sums */
  PetscCall(SACheckpointWrite(s->comm, path, &info, theta, ns, state, names));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SASolverDestroy - Destroys the solver and the task, optimizer and perturbation set on it (it owns them)

  Collective

  Input Parameter:
. s - the solver (set to NULL)

  Level: beginner

.seealso: `SASolverCreate()`
@*/
PetscErrorCode SASolverDestroy(SASolver *s)
{
  PetscFunctionBeginUser;
  if (!*s) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(VecDestroy(&(*s)->theta));
  PetscCall(VecDestroy(&(*s)->grad));
  PetscCall(VecDestroy(&(*s)->prev));
  PetscCall(VecDestroy(&(*s)->twin));
  if ((*s)->trajmode) PetscCallMPI(MPI_File_close(&(*s)->traj));
  PetscCall(PetscFree((*s)->rec));
  PetscCall(SATaskDestroy(&(*s)->task));
  PetscCall(SAOptimizerDestroy(&(*s)->opt));
  PetscCall(SAPerturbDestroy(&(*s)->pert));
  PetscCall(SAProbeDestroy(&(*s)->probe));
  PetscCall(SALyapDestroy(&(*s)->lyap));
  PetscCall(PetscFree(*s));
  PetscFunctionReturn(PETSC_SUCCESS);
}
