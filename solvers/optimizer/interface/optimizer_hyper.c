/*
  optimizer_hyper.c - SAOptimizer hyper-parameters: learning rate, momentum, weight decay, clipping, the Adam
  constants, the learning-rate schedules, and SAOptimizerGetHyper() (the SAHyper of a step).
*/
#include <stabaudit/private/saoptimizerimpl.h>

/*@C
  SAOptimizerSetLearningRate - Sets the base learning rate

  Logically Collective

  Input Parameters:
+ opt - the optimizer
- lr  - the learning rate (> 0)

  Options Database Key:
. -optimizer_lr <lr> - the learning rate

  Level: beginner

.seealso: `SAOptimizerGetLearningRate()`
@*/
PetscErrorCode SAOptimizerSetLearningRate(SAOptimizer opt, PetscReal lr)
{
  PetscFunctionBeginUser;
  PetscCheck(lr > 0, PetscObjectComm((PetscObject) opt), PETSC_ERR_ARG_OUTOFRANGE, "Learning rate must be > 0, got %g",
             (double) lr);
  opt->lr = lr;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerGetLearningRate - Returns the base learning rate

  Not Collective

  Input Parameter:
. opt - the optimizer

  Output Parameter:
. lr - the learning rate

  Level: beginner

.seealso: `SAOptimizerSetLearningRate()`
@*/
PetscErrorCode SAOptimizerGetLearningRate(SAOptimizer opt, PetscReal *lr)
{
  PetscFunctionBeginUser;
  *lr = opt->lr;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerSetMomentum - Sets the momentum coefficient

  Logically Collective

  Input Parameters:
+ opt - the optimizer
- mu  - momentum in [0, 1)

  Options Database Key:
. -optimizer_momentum <mu> - the coefficient

  Notes:
  Only a rule with `SA_OPT_CAP_MOMENTUM` (momentum) has this coefficient; for any other type this is
  `PETSC_ERR_SUP` (adam's first-moment decay is set with `SAOptimizerAdamSetBetas()`). Before the type is set the
  value is kept, and the momentum type uses it.

  Level: beginner

.seealso: `SAOptimizerGetMomentum()`, `SAOptimizerGetCapabilities()`
@*/
PetscErrorCode SAOptimizerSetMomentum(SAOptimizer opt, PetscReal mu)
{
  PetscFunctionBeginUser;
  PetscCheck(!opt->ops->update || (opt->caps & SA_OPT_CAP_MOMENTUM), PetscObjectComm((PetscObject) opt), PETSC_ERR_SUP,
             "Optimizer %s has no momentum coefficient (SA_OPT_CAP_MOMENTUM: momentum)",
             ((PetscObject) opt)->type_name);
  PetscCheck(mu >= 0 && mu < 1, PetscObjectComm((PetscObject) opt), PETSC_ERR_ARG_OUTOFRANGE,
             "Momentum must be in [0, 1), got %g", (double) mu);
  opt->momentum = mu;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerGetMomentum - Returns the momentum coefficient

  Not Collective

  Input Parameter:
. opt - the optimizer

  Output Parameter:
. mu - the coefficient

  Level: beginner

.seealso: `SAOptimizerSetMomentum()`
@*/
PetscErrorCode SAOptimizerGetMomentum(SAOptimizer opt, PetscReal *mu)
{
  PetscFunctionBeginUser;
  *mu = opt->momentum;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerSetWeightDecay - Sets the weight-decay coefficient

  Logically Collective

  Input Parameters:
+ opt - the optimizer
- wd  - the coefficient (>= 0, 0 = none)

  Options Database Key:
. -optimizer_weight_decay <wd> - the coefficient

  Notes:
  sgd, momentum and adam add wd * theta to the gradient (L2 regularisation, inside the moments); adamw decays
  theta by lr * wd * theta outside the adaptive step (Loshchilov & Hutter 2019). The gradient vector
  itself is not changed by the decay.

  Level: intermediate

.seealso: `SAOptimizerGetWeightDecay()`, `SAHyper`
@*/
PetscErrorCode SAOptimizerSetWeightDecay(SAOptimizer opt, PetscReal wd)
{
  PetscFunctionBeginUser;
  PetscCheck(wd >= 0, PetscObjectComm((PetscObject) opt), PETSC_ERR_ARG_OUTOFRANGE, "Weight decay must be >= 0, got %g",
             (double) wd);
  opt->weight_decay = wd;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerGetWeightDecay - Returns the weight-decay coefficient

  Not Collective

  Input Parameter:
. opt - the optimizer

  Output Parameter:
. wd - the coefficient

  Level: intermediate

.seealso: `SAOptimizerSetWeightDecay()`
@*/
PetscErrorCode SAOptimizerGetWeightDecay(SAOptimizer opt, PetscReal *wd)
{
  PetscFunctionBeginUser;
  *wd = opt->weight_decay;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerSetClip - Sets the threshold of gradient clipping by global 2-norm

  Logically Collective

  Input Parameters:
+ opt  - the optimizer
- clip - the threshold (>= 0, 0 = no clipping)

  Options Database Key:
. -optimizer_clip <clip> - the threshold

  Notes:
  When the threshold of the step (`SAHyper` field clip) is > 0 and ||grad||_2 > clip, `SAOptimizerUpdate()`
  scales the gradient vector in place by clip / ||grad||_2 before the update rule.

  Level: intermediate

.seealso: `SAOptimizerGetClip()`, `SAOptimizerUpdate()`
@*/
PetscErrorCode SAOptimizerSetClip(SAOptimizer opt, PetscReal clip)
{
  PetscFunctionBeginUser;
  PetscCheck(clip >= 0, PetscObjectComm((PetscObject) opt), PETSC_ERR_ARG_OUTOFRANGE,
             "Clipping threshold must be >= 0, got %g", (double) clip);
  opt->clip = clip;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerGetClip - Returns the gradient clipping threshold

  Not Collective

  Input Parameter:
. opt - the optimizer

  Output Parameter:
. clip - the threshold (0 = no clipping)

  Level: intermediate

.seealso: `SAOptimizerSetClip()`
@*/
PetscErrorCode SAOptimizerGetClip(SAOptimizer opt, PetscReal *clip)
{
  PetscFunctionBeginUser;
  *clip = opt->clip;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerSetSchedule - Chooses the learning-rate schedule

  Logically Collective

  Input Parameters:
+ opt   - the optimizer
- sched - `SA_SCHEDULE_CONSTANT`, `SA_SCHEDULE_WARMUP_COSINE` or `SA_SCHEDULE_STEP`

  Options Database Key:
. -optimizer_schedule <constant|warmup_cosine|step> - the schedule

  Notes:
  The schedule is applied by `SAOptimizerGetHyper()` to the base learning rate. warmup_cosine needs
  `SAOptimizerSetWarmupCosine()` (a total number of steps > 0), step needs `SAOptimizerSetStepDecay()`;
  `SAOptimizerGetHyper()` raises `PETSC_ERR_ARG_WRONGSTATE` otherwise.

  Level: intermediate

.seealso: `SAOptimizerGetSchedule()`, `SAOptimizerSetWarmupCosine()`, `SAOptimizerSetStepDecay()`
@*/
PetscErrorCode SAOptimizerSetSchedule(SAOptimizer opt, SAOptimizerSchedule sched)
{
  PetscFunctionBeginUser;
  PetscCheck(sched >= SA_SCHEDULE_CONSTANT && sched <= SA_SCHEDULE_STEP, PetscObjectComm((PetscObject) opt),
             PETSC_ERR_ARG_OUTOFRANGE, "Unknown schedule %d", (int) sched);
  opt->schedule = sched;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerGetSchedule - Returns the learning-rate schedule

  Not Collective

  Input Parameter:
. opt - the optimizer

  Output Parameter:
. sched - the schedule

  Level: intermediate

.seealso: `SAOptimizerSetSchedule()`
@*/
PetscErrorCode SAOptimizerGetSchedule(SAOptimizer opt, SAOptimizerSchedule *sched)
{
  PetscFunctionBeginUser;
  *sched = opt->schedule;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerSetWarmupCosine - Sets the parameters of the warmup_cosine schedule

  Logically Collective

  Input Parameters:
+ opt          - the optimizer
. warmup       - number of linear warmup steps W (>= 0)
. total        - step T at which the cosine decay ends (> 0, >= W)
- min_lr_ratio - final learning rate as a fraction r of the base rate, in [0, 1]

  Options Database Keys:
+ -optimizer_warmup <W>       - warmup steps
. -optimizer_total_steps <T>  - end of the decay
- -optimizer_min_lr_ratio <r> - final fraction

  Notes:
  lr_t = lr (t + 1) / W for t < W; lr_t = lr r for t >= T; otherwise
  lr_t = lr (r + (1 - r) (1 + cos(pi (t - W) / (T - W))) / 2) (Loshchilov & Hutter 2017).
  Does not select the schedule; see `SAOptimizerSetSchedule()`.

  Level: intermediate

.seealso: `SAOptimizerSetSchedule()`, `SAOptimizerGetWarmupCosine()`
@*/
PetscErrorCode SAOptimizerSetWarmupCosine(SAOptimizer opt, PetscInt warmup, PetscInt total, PetscReal min_lr_ratio)
{
  PetscFunctionBeginUser;
  PetscCheck(total > 0, PetscObjectComm((PetscObject) opt), PETSC_ERR_ARG_OUTOFRANGE,
             "Total steps must be > 0, got %" PetscInt_FMT, total);
  PetscCheck(warmup >= 0 && warmup <= total, PetscObjectComm((PetscObject) opt), PETSC_ERR_ARG_OUTOFRANGE,
             "Warmup must be in [0, %" PetscInt_FMT "], got %" PetscInt_FMT, total, warmup);
  PetscCheck(min_lr_ratio >= 0 && min_lr_ratio <= 1, PetscObjectComm((PetscObject) opt), PETSC_ERR_ARG_OUTOFRANGE,
             "Minimum lr ratio must be in [0, 1], got %g", (double) min_lr_ratio);
  opt->warmup       = warmup;
  opt->total_steps  = total;
  opt->min_lr_ratio = min_lr_ratio;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerGetWarmupCosine - Returns the parameters of the warmup_cosine schedule

  Not Collective

  Input Parameter:
. opt - the optimizer

  Output Parameters:
+ warmup       - warmup steps (may be NULL)
. total        - end of the decay, 0 if unset (may be NULL)
- min_lr_ratio - final fraction of the base rate (may be NULL)

  Level: intermediate

.seealso: `SAOptimizerSetWarmupCosine()`
@*/
PetscErrorCode SAOptimizerGetWarmupCosine(SAOptimizer opt, PetscInt *warmup, PetscInt *total, PetscReal *min_lr_ratio)
{
  PetscFunctionBeginUser;
  if (warmup) *warmup = opt->warmup;
  if (total) *total = opt->total_steps;
  if (min_lr_ratio) *min_lr_ratio = opt->min_lr_ratio;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerSetStepDecay - Sets the parameters of the step schedule

  Logically Collective

  Input Parameters:
+ opt   - the optimizer
. every - steps k between decays (> 0)
- gamma - factor applied at each decay (> 0; > 1 makes the rate grow)

  Options Database Keys:
+ -optimizer_step_every <k>     - steps between decays
- -optimizer_step_gamma <gamma> - the factor (default 0.1)

  Notes:
  lr_t = lr gamma^floor(t / k). Does not select the schedule; see `SAOptimizerSetSchedule()`.

  Level: intermediate

.seealso: `SAOptimizerSetSchedule()`, `SAOptimizerGetStepDecay()`
@*/
PetscErrorCode SAOptimizerSetStepDecay(SAOptimizer opt, PetscInt every, PetscReal gamma)
{
  PetscFunctionBeginUser;
  PetscCheck(every > 0, PetscObjectComm((PetscObject) opt), PETSC_ERR_ARG_OUTOFRANGE,
             "Decay interval must be > 0, got %" PetscInt_FMT, every);
  PetscCheck(gamma > 0, PetscObjectComm((PetscObject) opt), PETSC_ERR_ARG_OUTOFRANGE,
             "Decay factor must be > 0, got %g", (double) gamma);
  opt->step_every = every;
  opt->step_gamma = gamma;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerGetStepDecay - Returns the parameters of the step schedule

  Not Collective

  Input Parameter:
. opt - the optimizer

  Output Parameters:
+ every - steps between decays, 0 if unset (may be NULL)
- gamma - the factor (may be NULL)

  Level: intermediate

.seealso: `SAOptimizerSetStepDecay()`
@*/
PetscErrorCode SAOptimizerGetStepDecay(SAOptimizer opt, PetscInt *every, PetscReal *gamma)
{
  PetscFunctionBeginUser;
  if (every) *every = opt->step_every;
  if (gamma) *gamma = opt->step_gamma;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerAdamSetBetas - Sets the moment decay rates of adam and adamw

  Logically Collective

  Input Parameters:
+ opt   - the optimizer
. beta1 - first-moment decay rate, in [0, 1)
- beta2 - second-moment decay rate, in [0, 1)

  Options Database Keys:
+ -optimizer_adam_beta1 <b1> - default 0.9
- -optimizer_adam_beta2 <b2> - default 0.999

  Notes:
  A type-specific setter (the method composed as "SAOptimizerAdamSetBetas_C" by adam and adamw, in the manner of
  `KSPGMRESSetRestart()`): for any other type, and before `SAOptimizerSetType()`, it does nothing. The values in
  force are the beta1 and beta2 of `SAOptimizerGetHyper()`.

  Level: intermediate

.seealso: `SAOptimizerGetHyper()`, `SAOptimizerSetFromOptions()`
@*/
PetscErrorCode SAOptimizerAdamSetBetas(SAOptimizer opt, PetscReal beta1, PetscReal beta2)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(opt, SAOPTIMIZER_CLASSID, 1);
  PetscValidLogicalCollectiveReal(opt, beta1, 2);
  PetscValidLogicalCollectiveReal(opt, beta2, 3);
  PetscTryMethod(opt, "SAOptimizerAdamSetBetas_C", (SAOptimizer, PetscReal, PetscReal), (opt, beta1, beta2));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the schedule's factor lr_t / lr at step t (closed forms in SAOptimizerSetWarmupCosine/SetStepDecay) */
static PetscErrorCode SAOptimizerScheduleFactor(SAOptimizer opt, PetscInt t, PetscReal *f)
{
  PetscFunctionBeginUser;
  *f = 1.0;
  if (opt->schedule == SA_SCHEDULE_WARMUP_COSINE) {
    const PetscInt  W = opt->warmup, T = opt->total_steps;
    const PetscReal r = opt->min_lr_ratio;

    PetscCheck(T > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE,
               "warmup_cosine schedule needs total steps > 0: call SAOptimizerSetWarmupCosine()");
    if (t < W) *f = (PetscReal) (t + 1) / (PetscReal) W;
    else if (t >= T) *f = r;
    else *f = r + (1.0 - r) * 0.5 * (1.0 + PetscCosReal(PETSC_PI * (PetscReal) (t - W) / (PetscReal) (T - W)));
  } else if (opt->schedule == SA_SCHEDULE_STEP) {
    PetscCheck(opt->step_every > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE,
               "step schedule needs a decay interval > 0: call SAOptimizerSetStepDecay()");
    *f = PetscPowReal(opt->step_gamma, (PetscReal) (t / opt->step_every));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerGetHyper - Returns the hyper-parameters in force at a step (base values and schedule)

  Not Collective

  Input Parameters:
+ opt  - the optimizer
- step - the step t (>= 0)

  Output Parameter:
. h - the hyper-parameters: lr is the base rate times the schedule factor at t, step is t, the other fields are
      the optimizer's values (momentum, beta1, beta2, eps, weight_decay, clip)

  Notes:
  Perturbations change h afterwards (`SAPerturbApplyOptimizer()`); `SAOptimizerUpdate()` uses only h, so every
  field is a per-step quantity. adam and adamw use t + 1 in the bias correction.

  Level: intermediate

.seealso: `SAOptimizerUpdate()`, `SAOptimizerSetSchedule()`, `SAHyper`
@*/
PetscErrorCode SAOptimizerGetHyper(SAOptimizer opt, PetscInt step, SAHyper *h)
{
  PetscReal f;

  PetscFunctionBeginUser;
  PetscCheck(step >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Step must be >= 0, got %" PetscInt_FMT, step);
  PetscCall(SAOptimizerScheduleFactor(opt, step, &f));
  h->lr           = opt->lr * f; /* exact for constant (f = 1) */
  h->momentum     = opt->momentum;
  h->step         = step;
  h->beta1        = opt->beta1;
  h->beta2        = opt->beta2;
  h->eps          = opt->eps;
  h->weight_decay = opt->weight_decay;
  h->clip         = opt->clip;
  PetscFunctionReturn(PETSC_SUCCESS);
}
