/*
  optimizer.c - SAOptimizer interface: dispatch, logging, validation and the type registry.
*/
#include <stabaudit/private/saoptimizerimpl.h>
#include <stabaudit/sadeck.h>

PetscFunctionList   SAOptimizerList        = NULL;
const char *const   SAOptimizerSchedules[] = {"constant", "warmup_cosine", "step"};
PetscLogEvent       SAOPTIMIZER_Update;
static PetscBool    SAOptimizerRegisterAllCalled = PETSC_FALSE;
static PetscClassId SAOPTIMIZER_CLASSID;

/*@C
  SAOptimizerInitializePackage - Registers the SAOptimizer class, its log events and types

  Not Collective

  Level: developer

.seealso: `SAInitialize()`
@*/
PetscErrorCode SAOptimizerInitializePackage(void)
{
  PetscFunctionBeginUser;
  if (SAOptimizerRegisterAllCalled) PetscFunctionReturn(PETSC_SUCCESS);
  SAOptimizerRegisterAllCalled = PETSC_TRUE;
  PetscCall(PetscClassIdRegister("SAOptimizer", &SAOPTIMIZER_CLASSID));
  PetscCall(PetscLogEventRegister("SAOptimizerUpdate", SAOPTIMIZER_CLASSID, &SAOPTIMIZER_Update));
  PetscCall(SAOptimizerRegister(SAOPTIMIZERSGD, SAOptimizerCreate_SGD));
  PetscCall(SAOptimizerRegister(SAOPTIMIZERMOMENTUM, SAOptimizerCreate_Momentum));
  PetscCall(SAOptimizerRegister(SAOPTIMIZERADAM, SAOptimizerCreate_Adam));
  PetscCall(SAOptimizerRegister(SAOPTIMIZERADAMW, SAOptimizerCreate_AdamW));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerFinalizePackage - Frees the SAOptimizer registry

  Not Collective

  Level: developer

.seealso: `SAOptimizerInitializePackage()`
@*/
PetscErrorCode SAOptimizerFinalizePackage(void)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFunctionListDestroy(&SAOptimizerList));
  SAOptimizerRegisterAllCalled = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerRegister - Adds an optimizer type

  Not Collective

  Input Parameters:
+ name   - the type name
- create - the function that fills the ops table

  Level: advanced

.seealso: `SAOptimizerSetType()`
@*/
PetscErrorCode SAOptimizerRegister(const char name[], PetscErrorCode (*create)(SAOptimizer))
{
  PetscFunctionBeginUser;
  PetscCall(PetscFunctionListAdd(&SAOptimizerList, name, create));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerCreate - Creates an optimizer on a member's group communicator

  Collective

  Input Parameter:
. comm - the group communicator

  Output Parameter:
. opt - the optimizer

  Level: beginner

.seealso: `SAOptimizerSetType()`, `SAOptimizerDestroy()`
@*/
PetscErrorCode SAOptimizerCreate(MPI_Comm comm, SAOptimizer *opt)
{
  SAOptimizer o;

  PetscFunctionBeginUser;
  PetscCall(SAOptimizerInitializePackage());
  PetscCall(PetscNew(&o));
  o->comm         = comm;
  o->lr           = 0.1;
  o->momentum     = 0.0;
  o->weight_decay = 0.0;
  o->clip         = 0.0;
  o->beta1        = 0.9;
  o->beta2        = 0.999;
  o->eps          = 1e-8;
  o->schedule     = SA_SCHEDULE_CONSTANT;
  o->warmup       = 0;
  o->total_steps  = 0;
  o->min_lr_ratio = 0.0;
  o->step_every   = 0;
  o->step_gamma   = 0.1;
  *opt            = o;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerSetType - Chooses the update rule

  Collective

  Input Parameters:
+ opt  - the optimizer
- type - `SAOPTIMIZERSGD`, `SAOPTIMIZERMOMENTUM`, `SAOPTIMIZERADAM` or `SAOPTIMIZERADAMW`

  Options Database Key:
. -optimizer_type <sgd|momentum|adam|adamw> - the update rule

  Level: beginner

.seealso: `SAOptimizerSetFromOptions()`
@*/
PetscErrorCode SAOptimizerSetType(SAOptimizer opt, SAOptimizerType type)
{
  PetscErrorCode (*create)(SAOptimizer);
  PetscBool match;

  PetscFunctionBeginUser;
  PetscCall(PetscStrcmp(opt->type_name, type, &match));
  if (match) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFunctionListFind(SAOptimizerList, type, &create));
  PetscCheck(create, opt->comm, PETSC_ERR_ARG_UNKNOWN_TYPE, "Unknown SAOptimizer type: %s", type);
  if (opt->ops.destroy) PetscCall((*opt->ops.destroy)(opt));
  for (PetscInt i = 0; i < opt->nstate; i++) PetscCall(VecDestroy(&opt->state[i]));
  opt->nstate = 0;
  PetscCall(PetscMemzero(&opt->ops, sizeof(opt->ops)));
  PetscCall(PetscStrncpy(opt->type_name, type, sizeof(opt->type_name)));
  opt->setupcalled = PETSC_FALSE;
  PetscCall((*create)(opt));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerGetType - Returns the optimizer type

  Not Collective

  Input Parameter:
. opt - the optimizer

  Output Parameter:
. type - the type

  Level: beginner

.seealso: `SAOptimizerSetType()`
@*/
PetscErrorCode SAOptimizerGetType(SAOptimizer opt, SAOptimizerType *type)
{
  PetscFunctionBeginUser;
  *type = opt->type_name;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerSetFromOptions - Reads the optimizer section of the deck

  Collective

  Input Parameter:
. opt - the optimizer

  Options Database Keys:
+ -optimizer_type <sgd|momentum|adam|adamw>         - the update rule
. -optimizer_lr <lr>                                - base learning rate (> 0)
. -optimizer_weight_decay <wd>                      - weight decay (>= 0, default 0)
. -optimizer_clip <c>                               - clip the gradient to global 2-norm c (>= 0, 0 = off)
. -optimizer_schedule <constant|warmup_cosine|step> - learning-rate schedule
. -optimizer_warmup <n>                             - warmup_cosine: linear warmup steps (default 0)
. -optimizer_total_steps <T>                        - warmup_cosine: end of the cosine decay (required, > 0)
. -optimizer_min_lr_ratio <r>                       - warmup_cosine: final lr / lr, in [0, 1] (default 0)
. -optimizer_step_every <k>                         - step: steps between decays (required, > 0)
. -optimizer_step_gamma <gamma>                     - step: decay factor (default 0.1)
. -optimizer_momentum <mu>                          - momentum coefficient in [0, 1) (momentum only)
. -optimizer_momentum_nesterov <bool>               - Nesterov's variant (momentum only)
. -optimizer_adam_beta1 <b1>                        - first-moment decay in [0, 1) (adam, adamw; 0.9)
. -optimizer_adam_beta2 <b2>                        - second-moment decay in [0, 1) (adam, adamw; 0.999)
- -optimizer_adam_eps <eps>                         - denominator offset > 0 (adam, adamw; 1e-8)

  Notes:
  The schedule keys are read (and so allowed in a deck) only for the schedule that uses them. A deck error
  (unknown value, out of range, a warmup_cosine schedule without total_steps, a step schedule without step_every)
  is `PETSC_ERR_USER_INPUT`.

  Level: beginner

.seealso: `SAOptimizerSetType()`, `SAOptimizerSetSchedule()`, `SAOptimizerSetWeightDecay()`, `SAOptimizerSetClip()`
@*/
PetscErrorCode SAOptimizerSetFromOptions(SAOptimizer opt)
{
  const char *const types[] = {SAOPTIMIZERSGD, SAOPTIMIZERMOMENTUM, SAOPTIMIZERADAM, SAOPTIMIZERADAMW};
  const PetscInt    ntypes  = (PetscInt) (sizeof(types) / sizeof(types[0]));
  PetscInt          idx = 0, sched = (PetscInt) opt->schedule;

  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < ntypes; i++)
    if (opt->type_name[0] && !strcmp(opt->type_name, types[i])) idx = i;
  PetscCall(SADeckGetEnum("optimizer_", "type", types, ntypes, &idx, NULL));
  PetscCall(SAOptimizerSetType(opt, types[idx]));
  PetscCall(SADeckGetReal("optimizer_", "lr", opt->lr, PETSC_MACHINE_EPSILON, PETSC_MAX_REAL, &opt->lr, NULL));
  PetscCall(
    SADeckGetReal("optimizer_", "weight_decay", opt->weight_decay, 0.0, PETSC_MAX_REAL, &opt->weight_decay, NULL));
  PetscCall(SADeckGetReal("optimizer_", "clip", opt->clip, 0.0, PETSC_MAX_REAL, &opt->clip, NULL));
  PetscCall(SADeckGetEnum("optimizer_", "schedule", SAOptimizerSchedules, 3, &sched, NULL));
  opt->schedule = (SAOptimizerSchedule) sched;
  if (opt->schedule == SA_SCHEDULE_WARMUP_COSINE) {
    PetscCall(SADeckGetInt("optimizer_", "warmup", opt->warmup, 0, PETSC_MAX_INT, &opt->warmup, NULL));
    PetscCall(SADeckGetInt("optimizer_", "total_steps", opt->total_steps, 0, PETSC_MAX_INT, &opt->total_steps, NULL));
    PetscCall(SADeckGetReal("optimizer_", "min_lr_ratio", opt->min_lr_ratio, 0.0, 1.0, &opt->min_lr_ratio, NULL));
    if (opt->total_steps <= 0)
      PetscCall(SADeckFail("optimizer_total_steps", "must be set > 0 when optimizer_schedule is warmup_cosine"));
    if (opt->warmup > opt->total_steps)
      PetscCall(SADeckFail("optimizer_warmup",
                           "must be <= optimizer_total_steps (%" PetscInt_FMT "), got %" PetscInt_FMT, opt->total_steps,
                           opt->warmup));
  } else if (opt->schedule == SA_SCHEDULE_STEP) {
    PetscCall(SADeckGetInt("optimizer_", "step_every", opt->step_every, 0, PETSC_MAX_INT, &opt->step_every, NULL));
    PetscCall(SADeckGetReal("optimizer_", "step_gamma", opt->step_gamma, PETSC_MACHINE_EPSILON, PETSC_MAX_REAL,
                            &opt->step_gamma, NULL));
    if (opt->step_every <= 0)
      PetscCall(SADeckFail("optimizer_step_every", "must be set > 0 when optimizer_schedule is step"));
  }
  if (opt->ops.setfromoptions) PetscCall((*opt->ops.setfromoptions)(opt));
  PetscFunctionReturn(PETSC_SUCCESS);
}

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
  PetscCheck(lr > 0, opt->comm, PETSC_ERR_ARG_OUTOFRANGE, "Learning rate must be > 0, got %g", (double) lr);
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

  Level: beginner

.seealso: `SAOptimizerGetMomentum()`
@*/
PetscErrorCode SAOptimizerSetMomentum(SAOptimizer opt, PetscReal mu)
{
  PetscFunctionBeginUser;
  PetscCheck(mu >= 0 && mu < 1, opt->comm, PETSC_ERR_ARG_OUTOFRANGE, "Momentum must be in [0, 1), got %g", (double) mu);
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
  PetscCheck(wd >= 0, opt->comm, PETSC_ERR_ARG_OUTOFRANGE, "Weight decay must be >= 0, got %g", (double) wd);
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
  PetscCheck(clip >= 0, opt->comm, PETSC_ERR_ARG_OUTOFRANGE, "Clipping threshold must be >= 0, got %g", (double) clip);
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
  PetscCheck(sched >= SA_SCHEDULE_CONSTANT && sched <= SA_SCHEDULE_STEP, opt->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "Unknown schedule %d", (int) sched);
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
  PetscCheck(total > 0, opt->comm, PETSC_ERR_ARG_OUTOFRANGE, "Total steps must be > 0, got %" PetscInt_FMT, total);
  PetscCheck(warmup >= 0 && warmup <= total, opt->comm, PETSC_ERR_ARG_OUTOFRANGE,
             "Warmup must be in [0, %" PetscInt_FMT "], got %" PetscInt_FMT, total, warmup);
  PetscCheck(min_lr_ratio >= 0 && min_lr_ratio <= 1, opt->comm, PETSC_ERR_ARG_OUTOFRANGE,
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
  PetscCheck(every > 0, opt->comm, PETSC_ERR_ARG_OUTOFRANGE, "Decay interval must be > 0, got %" PetscInt_FMT, every);
  PetscCheck(gamma > 0, opt->comm, PETSC_ERR_ARG_OUTOFRANGE, "Decay factor must be > 0, got %g", (double) gamma);
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
  Stored for every type and passed in `SAHyper`; only adam and adamw use them.

  Level: intermediate

.seealso: `SAOptimizerAdamGetBetas()`, `SAOptimizerAdamSetEps()`
@*/
PetscErrorCode SAOptimizerAdamSetBetas(SAOptimizer opt, PetscReal beta1, PetscReal beta2)
{
  PetscFunctionBeginUser;
  PetscCheck(beta1 >= 0 && beta1 < 1, opt->comm, PETSC_ERR_ARG_OUTOFRANGE, "beta1 must be in [0, 1), got %g",
             (double) beta1);
  PetscCheck(beta2 >= 0 && beta2 < 1, opt->comm, PETSC_ERR_ARG_OUTOFRANGE, "beta2 must be in [0, 1), got %g",
             (double) beta2);
  opt->beta1 = beta1;
  opt->beta2 = beta2;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerAdamGetBetas - Returns the moment decay rates of adam and adamw

  Not Collective

  Input Parameter:
. opt - the optimizer

  Output Parameters:
+ beta1 - first-moment decay rate (may be NULL)
- beta2 - second-moment decay rate (may be NULL)

  Level: intermediate

.seealso: `SAOptimizerAdamSetBetas()`
@*/
PetscErrorCode SAOptimizerAdamGetBetas(SAOptimizer opt, PetscReal *beta1, PetscReal *beta2)
{
  PetscFunctionBeginUser;
  if (beta1) *beta1 = opt->beta1;
  if (beta2) *beta2 = opt->beta2;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerAdamSetEps - Sets the denominator offset of adam and adamw

  Logically Collective

  Input Parameters:
+ opt - the optimizer
- eps - the offset added to sqrt(v_hat) (> 0)

  Options Database Key:
. -optimizer_adam_eps <eps> - default 1e-8

  Level: intermediate

.seealso: `SAOptimizerAdamGetEps()`, `SAOptimizerAdamSetBetas()`
@*/
PetscErrorCode SAOptimizerAdamSetEps(SAOptimizer opt, PetscReal eps)
{
  PetscFunctionBeginUser;
  PetscCheck(eps > 0, opt->comm, PETSC_ERR_ARG_OUTOFRANGE, "eps must be > 0, got %g", (double) eps);
  opt->eps = eps;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerAdamGetEps - Returns the denominator offset of adam and adamw

  Not Collective

  Input Parameter:
. opt - the optimizer

  Output Parameter:
. eps - the offset

  Level: intermediate

.seealso: `SAOptimizerAdamSetEps()`
@*/
PetscErrorCode SAOptimizerAdamGetEps(SAOptimizer opt, PetscReal *eps)
{
  PetscFunctionBeginUser;
  *eps = opt->eps;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerSetUp - Creates the optimizer state with the layout of theta (zeroed)

  Collective

  Input Parameters:
+ opt   - the optimizer
- theta - the parameters

  Level: intermediate

.seealso: `SAOptimizerGetState()`
@*/
PetscErrorCode SAOptimizerSetUp(SAOptimizer opt, Vec theta)
{
  PetscFunctionBeginUser;
  if (opt->setupcalled) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(opt->ops.update, opt->comm, PETSC_ERR_ORDER,
             "Call SAOptimizerSetType() or SAOptimizerSetFromOptions() first");
  if (opt->ops.setup) PetscCall((*opt->ops.setup)(opt, theta));
  opt->setupcalled = PETSC_TRUE;
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

/*@C
  SAOptimizerUpdate - Applies one step of the update rule to theta

  Collective

  Input Parameters:
+ opt   - the optimizer
. h     - the hyper-parameters of this step (`SAOptimizerGetHyper()` after perturbations)
. theta - the parameters, updated in place
- grad  - the gradient; rescaled in place when clipping applies

  Notes:
  With the state vectors of `SAOptimizerGetState()` this is the map (theta, state) -> (theta', state') for a
  frozen gradient; both are updated in place.

  Clipping: if h->clip > 0 and ||grad||_2 > h->clip, grad is first multiplied by h->clip / ||grad||_2 (in place, so
  the caller sees the clipped gradient afterwards). A NaN norm is left alone (the update then makes theta NaN, which
  the solver records as divergence).

  Level: intermediate

.seealso: `SAOptimizerGetHyper()`, `SAOptimizerGetState()`, `SAOptimizerSetClip()`
@*/
PetscErrorCode SAOptimizerUpdate(SAOptimizer opt, const SAHyper *h, Vec theta, Vec grad)
{
  PetscFunctionBeginUser;
  PetscCall(SAOptimizerSetUp(opt, theta));
  PetscCall(PetscLogEventBegin(SAOPTIMIZER_Update, 0, 0, 0, 0));
  if (h->clip > 0) {
    PetscReal gn;

    PetscCall(VecNorm(grad, NORM_2, &gn));
    if (gn > h->clip) PetscCall(VecScale(grad, h->clip / gn));
  }
  PetscCall((*opt->ops.update)(opt, h, theta, grad));
  PetscCall(PetscLogEventEnd(SAOPTIMIZER_Update, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerUpdateMap - Applies the update map F: (theta, state) -> (theta', state') to given vectors,
  leaving the optimizer's own state untouched

  Collective

  Input Parameters:
+ opt      - the optimizer (set up)
. h        - the hyper-parameters of the step
. theta    - the parameters in
. state_in - the optimizer state in (as many vectors as `SAOptimizerGetState()` lists, same order)
- grad     - the frozen gradient at theta (not modified; clipping acts on a copy)

  Output Parameters:
+ theta_out - the parameters out (may not be theta)
- state_out - the state out (may be state_in)

  Notes:
  This is the map the probes linearise (its Jacobian along a direction by finite differences or by
  the optimizer's derivatives); it runs the same code as `SAOptimizerUpdate()`.

  Level: advanced

.seealso: `SAOptimizerUpdate()`, `SAOptimizerGetState()`
@*/
PetscErrorCode SAOptimizerUpdateMap(SAOptimizer opt, const SAHyper *h, Vec theta, Vec state_in[], Vec grad,
                                    Vec theta_out, Vec state_out[])
{
  Vec saved[4] = {NULL, NULL, NULL, NULL}, g;

  PetscFunctionBeginUser;
  PetscCheck(opt->setupcalled, opt->comm, PETSC_ERR_ORDER, "Call SAOptimizerSetUp() first");
  PetscCheck(theta_out != theta, opt->comm, PETSC_ERR_ARG_IDN, "theta_out must differ from theta");
  for (PetscInt i = 0; i < opt->nstate; i++) { /* swap the given state in, keep the optimizer's own aside */
    PetscCall(VecDuplicate(opt->state[i], &saved[i]));
    PetscCall(VecCopy(opt->state[i], saved[i]));
    PetscCall(VecCopy(state_in[i], opt->state[i]));
  }
  PetscCall(VecDuplicate(grad, &g));
  PetscCall(VecCopy(grad, g));
  PetscCall(VecCopy(theta, theta_out));
  PetscCall(SAOptimizerUpdate(opt, h, theta_out, g));
  for (PetscInt i = 0; i < opt->nstate; i++) {
    PetscCall(VecCopy(opt->state[i], state_out[i]));
    PetscCall(VecCopy(saved[i], opt->state[i]));
    PetscCall(VecDestroy(&saved[i]));
  }
  PetscCall(VecDestroy(&g));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* clipping of the step as a map g -> c(g): gc <- c(g) and, if dg is given, dgc <- c'(g) dg. c'(g) is symmetric
   (s (I - u u^T), u = g / |g|, s = clip / |g| when |g| > clip; I otherwise), so the same call serves the VJP */
static PetscErrorCode SAOptimizerClipLinear_Private(const SAHyper *h, Vec grad, Vec gc, Vec dg, Vec dgc)
{
  PetscReal   gn = 0;
  PetscScalar d;

  PetscFunctionBeginUser;
  PetscCall(VecCopy(grad, gc));
  if (dg) PetscCall(VecCopy(dg, dgc));
  if (!(h->clip > 0)) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(VecNorm(grad, NORM_2, &gn));
  if (!(gn > h->clip)) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(VecScale(gc, h->clip / gn));
  if (dg) {
    PetscCall(VecDot(dg, grad, &d));
    PetscCall(VecAXPY(dgc, -d / (gn * gn), grad));
    PetscCall(VecScale(dgc, h->clip / gn));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerUpdateJacobianMult - Jacobian-vector product of the update map F: (theta, state, grad) -> (theta', state')

  Collective

  Input Parameters:
+ opt    - the optimizer (set up)
. h      - the hyper-parameters of the step
. theta  - the parameters at which F is linearised
. state  - the optimizer state there (as many vectors as `SAOptimizerGetState()` lists)
. grad   - the gradient there (before clipping; clipping is linearised as well)
. dtheta - direction in theta
. dstate - direction in the state
- dgrad  - direction in the gradient (for the whole step, H dtheta on the frozen batch)

  Output Parameters:
+ dtheta_out - the theta part of the product (must not alias an input)
- dstate_out - the state part (must not alias an input)

  Notes:
  Exact derivatives of the rule (sgd: dtheta' = (1 - lr wd) dtheta - lr dg; heavy ball: the 2x2 block in
  (theta, velocity); adam/adamw: the diagonal linearisation in (theta, m, v), with v's dependence on the gradient).
  Where v_hat = 0 the derivative of sqrt(v_hat) does not exist; that term is taken as 0 there.
  `SAProbeCreateJacobian()` composes this with Hessian-vector products.

  Level: advanced

.seealso: `SAOptimizerUpdateJacobianMultTranspose()`, `SAOptimizerUpdateMap()`
@*/
PetscErrorCode SAOptimizerUpdateJacobianMult(SAOptimizer opt, const SAHyper *h, Vec theta, Vec state[], Vec grad,
                                             Vec dtheta, Vec dstate[], Vec dgrad, Vec dtheta_out, Vec dstate_out[])
{
  Vec gc, dgc;

  PetscFunctionBeginUser;
  PetscCheck(opt->setupcalled, opt->comm, PETSC_ERR_ORDER, "Call SAOptimizerSetUp() first");
  PetscCheck(opt->ops.jvp, opt->comm, PETSC_ERR_SUP, "Optimizer %s has no Jacobian-vector product", opt->type_name);
  PetscCall(VecDuplicate(grad, &gc));
  PetscCall(VecDuplicate(grad, &dgc));
  PetscCall(SAOptimizerClipLinear_Private(h, grad, gc, dgrad, dgc));
  PetscCall((*opt->ops.jvp)(opt, h, theta, state, gc, dtheta, dstate, dgc, dtheta_out, dstate_out));
  PetscCall(VecDestroy(&gc));
  PetscCall(VecDestroy(&dgc));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerUpdateJacobianMultTranspose - Vector-Jacobian product of the update map F: (theta, state, grad) ->
  (theta', state')

  Collective

  Input Parameters:
+ opt    - the optimizer (set up)
. h      - the hyper-parameters of the step
. theta  - the parameters at which F is linearised
. state  - the optimizer state there
. grad   - the gradient there (before clipping)
. wtheta - cotangent of theta'
- wstate - cotangent of state'

  Output Parameters:
+ wtheta_out - cotangent of theta (the direct part; the caller adds H wgrad_out for the whole step)
. wstate_out - cotangent of the state
- wgrad_out  - cotangent of the gradient

  Notes:
  The adjoint of `SAOptimizerUpdateJacobianMult()`: <w, J d> = <J^T w, d> to rounding. Outputs must not alias inputs.

  Level: advanced

.seealso: `SAOptimizerUpdateJacobianMult()`
@*/
PetscErrorCode SAOptimizerUpdateJacobianMultTranspose(SAOptimizer opt, const SAHyper *h, Vec theta, Vec state[],
                                                      Vec grad, Vec wtheta, Vec wstate[], Vec wtheta_out,
                                                      Vec wstate_out[], Vec wgrad_out)
{
  Vec gc, wg;

  PetscFunctionBeginUser;
  PetscCheck(opt->setupcalled, opt->comm, PETSC_ERR_ORDER, "Call SAOptimizerSetUp() first");
  PetscCheck(opt->ops.vjp, opt->comm, PETSC_ERR_SUP, "Optimizer %s has no vector-Jacobian product", opt->type_name);
  PetscCall(VecDuplicate(grad, &gc));
  PetscCall(VecDuplicate(grad, &wg));
  PetscCall(SAOptimizerClipLinear_Private(h, grad, gc, NULL, NULL));
  PetscCall((*opt->ops.vjp)(opt, h, theta, state, gc, wtheta, wstate, wtheta_out, wstate_out, wg));
  PetscCall(SAOptimizerClipLinear_Private(h, grad, gc, wg, wgrad_out)); /* c'(g) is symmetric */
  PetscCall(VecDestroy(&gc));
  PetscCall(VecDestroy(&wg));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerGetState - Returns the state vectors (for checkpoints)

  Not Collective

  Input Parameter:
. opt - the optimizer

  Output Parameters:
+ n     - number of state vectors
. vecs  - the vectors (owned by the optimizer)
- names - their names

  Level: developer

.seealso: `SACheckpointWrite()`
@*/
PetscErrorCode SAOptimizerGetState(SAOptimizer opt, PetscInt *n, Vec **vecs, const char *const **names)
{
  PetscFunctionBeginUser;
  *n     = opt->nstate;
  *vecs  = opt->state;
  *names = opt->statenames;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerReset - Zeroes the optimizer state (velocity, Adam moments)

  Collective

  Input Parameter:
. opt - the optimizer

  Notes:
  The Adam bias correction uses the step index of `SAHyper`, not a count kept in the state, so after a reset at step
  t the moments restart from zero but are corrected with t + 1, not 1.

  Level: intermediate

.seealso: `SAOptimizerSetUp()`
@*/
PetscErrorCode SAOptimizerReset(SAOptimizer opt)
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < opt->nstate; i++) PetscCall(VecSet(opt->state[i], 0.0));
  if (opt->ops.reset) PetscCall((*opt->ops.reset)(opt));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerView - Prints the optimizer

  Collective

  Input Parameters:
+ opt    - the optimizer
- viewer - an ASCII viewer

  Level: beginner

.seealso: `SAOptimizerCreate()`
@*/
PetscErrorCode SAOptimizerView(SAOptimizer opt, PetscViewer viewer)
{
  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, "SAOptimizer %s, lr %g, momentum %g, weight decay %g, clip %g\n",
                                   opt->type_name, (double) opt->lr, (double) opt->momentum, (double) opt->weight_decay,
                                   (double) opt->clip));
  if (opt->schedule == SA_SCHEDULE_WARMUP_COSINE)
    PetscCall(PetscViewerASCIIPrintf(
      viewer, "  schedule warmup_cosine: warmup %" PetscInt_FMT ", total %" PetscInt_FMT ", min lr ratio %g\n",
      opt->warmup, opt->total_steps, (double) opt->min_lr_ratio));
  else if (opt->schedule == SA_SCHEDULE_STEP)
    PetscCall(PetscViewerASCIIPrintf(viewer, "  schedule step: every %" PetscInt_FMT ", gamma %g\n", opt->step_every,
                                     (double) opt->step_gamma));
  if (opt->ops.view) PetscCall((*opt->ops.view)(opt, viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAOptimizerDestroy - Destroys an optimizer

  Collective

  Input Parameter:
. opt - the optimizer (set to NULL)

  Level: beginner

.seealso: `SAOptimizerCreate()`
@*/
PetscErrorCode SAOptimizerDestroy(SAOptimizer *opt)
{
  PetscFunctionBeginUser;
  if (!*opt) PetscFunctionReturn(PETSC_SUCCESS);
  if ((*opt)->ops.destroy) PetscCall((*(*opt)->ops.destroy)(*opt));
  for (PetscInt i = 0; i < (*opt)->nstate; i++) PetscCall(VecDestroy(&(*opt)->state[i]));
  PetscCall(PetscFree(*opt));
  PetscFunctionReturn(PETSC_SUCCESS);
}
