/*
  test_optimizers.c - unit tests of the update rules (solvers/optimizer): sgd, heavy-ball and Nesterov momentum,
  adam and adamw with weight decay against scalar code written here; the Adam bias correction driven by the step
  of SAHyper; the learning-rate schedules against their closed forms; gradient clipping by global norm; the
  deck keys of the optimizer section (range errors, missing keys, keys unused by the chosen schedule); and the
  capability queries: the flags of every type, the stability threshold against its closed form and against the
  real update on a 1-D quadratic just below and above it, the Adam diagonal preconditioner against an explicit
  formula, and PETSC_ERR_SUP / PETSC_ERR_ORDER for unsupported or premature queries; the optimizer as a PetscObject:
  options prefix, -optimizer_view, reference count, and the composed type-specific setter SAOptimizerAdamSetBetas().

  Tolerances: each update is a few flops per entry (<= ~10 roundings, in an order that may differ from the
  library's), so over two steps values agree to ~20 eps of the magnitudes involved: every comparison is
  normwise relative, max_i |x_i - ref_i| <= 1e-14 max_i |ref_i| (1e-14 = 45 eps). Closed forms of the schedules
  are one cos/pow and <= 5 flops: the same 1e-14 relative to the base rate.
  Objects are created on PETSC_COMM_WORLD so vectors are sharded; every pass/fail decision uses globally reduced
  values and raises on PETSC_COMM_SELF (see test_quadratic.c). Run on 1 and 2 ranks.
*/
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "satest.h"
#include <slepcsys.h>
#include <stabaudit/saoptimizer.h>
#include <stabaudit/sadeck.h>

#define RTOL  1e-14 /* a few flops per entry, see above */
#define NHAND 7     /* length of the hand-computed vectors */

/* Sets the owned entries of v from x (global length, same on every rank) */
static PetscErrorCode SetVec(Vec v, const PetscReal x[])
{
  PetscInt rs, re;

  PetscFunctionBeginUser;
  PetscCall(VecGetOwnershipRange(v, &rs, &re));
  for (PetscInt i = rs; i < re; i++) PetscCall(VecSetValue(v, i, x[i], INSERT_VALUES));
  PetscCall(VecAssemblyBegin(v));
  PetscCall(VecAssemblyEnd(v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Normwise relative error max_i |v_i - ref_i| / max_i |ref_i| over all ranks (ref has the global length) */
static PetscErrorCode RelErr(Vec v, const PetscReal ref[], PetscReal *err)
{
  const PetscScalar *a;
  PetscInt           rs, re, n;
  PetscReal          d = 0, scale = 0;

  PetscFunctionBeginUser;
  PetscCall(VecGetSize(v, &n));
  for (PetscInt i = 0; i < n; i++) scale = PetscMax(scale, PetscAbsReal(ref[i]));
  PetscCall(VecGetOwnershipRange(v, &rs, &re));
  PetscCall(VecGetArrayRead(v, &a));
  for (PetscInt i = rs; i < re; i++) d = PetscMax(d, PetscAbsReal(PetscRealPart(a[i - rs]) - ref[i]));
  PetscCall(VecRestoreArrayRead(v, &a));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &d, 1, MPIU_REAL, MPI_MAX, PETSC_COMM_WORLD));
  *err = scale > 0 ? d / scale : d;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* |x - ref| <= RTOL scale, raised on PETSC_COMM_SELF with a label */
static PetscErrorCode CheckClose(const char what[], PetscInt t, PetscReal x, PetscReal ref, PetscReal scale)
{
  PetscFunctionBeginUser;
  PetscCheck(PetscAbsReal(x - ref) <= RTOL * scale, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "%s at step %" PetscInt_FMT ": %.17g, expected %.17g", what, t, (double) x, (double) ref);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Returns the state vector called name (NULL if none) */
static PetscErrorCode FindState(SAOptimizer opt, const char name[], Vec *v)
{
  PetscInt           n;
  Vec               *vecs;
  const char *const *names;

  PetscFunctionBeginUser;
  *v = NULL;
  PetscCall(SAOptimizerGetState(opt, &n, &vecs, &names));
  for (PetscInt i = 0; i < n; i++)
    if (!strcmp(names[i], name)) *v = vecs[i];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* 1 - b^t evaluated as (1 - b)(1 + b + ... + b^(t-1)): 1 - b is exact for b in [1/2, 1] and the sum has positive
   terms, so this is accurate to a few eps where 1 - pow(b, t) cancels (b near 1, small t) */
static PetscReal BiasCorrection(PetscReal b, PetscInt t)
{
  PetscReal sum = 0, bk = 1;

  for (PetscInt k = 0; k < t; k++, bk *= b) sum += bk;
  return (1 - b) * sum;
}

/* 1. two steps of every rule with weight decay, against scalar code ---------------------------------- */

/* Length-7 vector, theta_0[i] = 0.5 - 0.2 i, gradients g_t[i] = cos(1.3 i + 0.7 t) + 0.1 i, steps t = 0, 1,
   lr 0.1, wd 0.05, mu 0.9; adam with the default betas and eps (0.9, 0.999, 1e-8), adamw with 0.8, 0.99, 1e-6
   read from the optimizer_adam_ keys. The reference recurrences (textbook form, double, on every rank):
     sgd:      theta <- theta - lr (g + wd theta)
     momentum: v <- mu v + (g + wd theta); theta <- theta - lr v
     nesterov: v <- mu v + (g + wd theta); theta <- theta - lr ((g + wd theta) + mu v)
     adam:     g' = g + wd theta; m <- b1 m + (1 - b1) g'; v <- b2 v + (1 - b2) g'^2;
               theta <- theta - lr (m / (1 - b1^(t+1))) / (sqrt(v / (1 - b2^(t+1))) + eps)
               (1 - b^(t+1) as BiasCorrection(b, t + 1))
     adamw:    as adam with g' = g, and theta <- theta - lr wd theta first (decoupled)
   theta and every state vector are compared after each step, then SAOptimizerReset() must zero the state. */
static PetscErrorCode CheckHand(void)
{
  const char *const names[] = {"sgd", "momentum", "nesterov", "adam", "adamw"};
  const PetscReal   lr = 0.1, wd = 0.05, mu = 0.9;

  PetscFunctionBeginUser;
  for (PetscInt c = 0; c < 5; c++) {
    const char *const o_sgd[] = {
      "-optimizer_type", "sgd", "-optimizer_lr", "0.1", "-optimizer_weight_decay", "0.05", NULL};
    const char *const o_mom[]  = {"-optimizer_type",
                                  "momentum",
                                  "-optimizer_lr",
                                  "0.1",
                                  "-optimizer_momentum",
                                  "0.9",
                                  "-optimizer_weight_decay",
                                  "0.05",
                                  NULL};
    const char *const o_nes[]  = {"-optimizer_type",
                                  "momentum",
                                  "-optimizer_lr",
                                  "0.1",
                                  "-optimizer_momentum",
                                  "0.9",
                                  "-optimizer_momentum_nesterov",
                                  "true",
                                  "-optimizer_weight_decay",
                                  "0.05",
                                  NULL};
    const char *const o_adam[] = {
      "-optimizer_type", "adam", "-optimizer_lr", "0.1", "-optimizer_weight_decay", "0.05", NULL};
    const char *const  o_adamw[] = {"-optimizer_type",
                                    "adamw",
                                    "-optimizer_lr",
                                    "0.1",
                                    "-optimizer_weight_decay",
                                    "0.05",
                                    "-optimizer_adam_beta1",
                                    "0.8",
                                    "-optimizer_adam_beta2",
                                    "0.99",
                                    "-optimizer_adam_eps",
                                    "1e-6",
                                    NULL};
    const char *const *kv[]      = {o_sgd, o_mom, o_nes, o_adam, o_adamw};
    const PetscReal    b1 = c == 4 ? 0.8 : 0.9, b2 = c == 4 ? 0.99 : 0.999, eps = c == 4 ? 1e-6 : 1e-8;
    SAOptimizer        opt;
    Vec                theta, g, vel, am, av;
    PetscInt           nstate;
    Vec               *state;
    const char *const *snames;
    PetscReal          th[NHAND], v[NHAND] = {0}, m[NHAND] = {0}, s[NHAND] = {0}, err;

    PetscCall(SATestCreateOptimizer(PETSC_COMM_WORLD, kv[c], &opt));
    PetscCall(VecCreateMPI(PETSC_COMM_WORLD, PETSC_DECIDE, NHAND, &theta));
    PetscCall(VecDuplicate(theta, &g));
    for (PetscInt i = 0; i < NHAND; i++) th[i] = 0.5 - 0.2 * i;
    PetscCall(SetVec(theta, th));
    PetscCall(SAOptimizerSetUp(opt, theta));
    PetscCall(FindState(opt, "velocity", &vel));
    PetscCall(FindState(opt, "adam_m", &am));
    PetscCall(FindState(opt, "adam_v", &av));
    PetscCall(SAOptimizerGetState(opt, &nstate, &state, &snames));
    PetscCheck(nstate == (c == 0 ? 0 : (c < 3 ? 1 : 2)) && (c == 1 || c == 2) == !!vel && (c >= 3) == !!am &&
                 (c >= 3) == !!av,
               PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: %" PetscInt_FMT " state vectors, wrong names", names[c], nstate);
    for (PetscInt t = 0; t < 2; t++) {
      PetscReal gt[NHAND];
      SAHyper   h;

      for (PetscInt i = 0; i < NHAND; i++) gt[i] = cos(1.3 * i + 0.7 * t) + 0.1 * i;
      PetscCall(SetVec(g, gt));
      PetscCall(SAOptimizerGetHyper(opt, t, &h));
      PetscCheck(h.step == t && h.lr == lr && h.weight_decay == wd && h.clip == 0 && h.beta1 == b1 && h.beta2 == b2 &&
                   h.eps == eps && h.momentum == (c == 1 || c == 2 ? mu : 0.0),
                 PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "%s: hyper-parameters step %" PetscInt_FMT " lr %g wd %g clip %g beta1 %g beta2 %g eps %g mu %g",
                 names[c], h.step, (double) h.lr, (double) h.weight_decay, (double) h.clip, (double) h.beta1,
                 (double) h.beta2, (double) h.eps, (double) h.momentum);
      PetscCall(SAOptimizerUpdate(opt, &h, theta, g));
      for (PetscInt i = 0; i < NHAND; i++) {
        const PetscReal gp = c == 4 ? gt[i] : gt[i] + wd * th[i];

        if (c == 0) th[i] = th[i] - lr * gp;
        else if (c == 1 || c == 2) {
          v[i]  = mu * v[i] + gp;
          th[i] = c == 1 ? th[i] - lr * v[i] : th[i] - lr * (gp + mu * v[i]);
        } else {
          PetscReal mhat, shat;

          m[i] = b1 * m[i] + (1 - b1) * gp;
          s[i] = b2 * s[i] + (1 - b2) * gp * gp;
          mhat = m[i] / BiasCorrection(b1, t + 1);
          shat = s[i] / BiasCorrection(b2, t + 1);
          if (c == 4) th[i] = th[i] - lr * wd * th[i];
          th[i] = th[i] - lr * mhat / (sqrt(shat) + eps);
        }
      }
      PetscCall(RelErr(theta, th, &err));
      PetscCheck(err <= RTOL, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s step %" PetscInt_FMT ": theta off by %g", names[c],
                 t, (double) err);
      if (vel) {
        PetscCall(RelErr(vel, v, &err));
        PetscCheck(err <= RTOL, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s step %" PetscInt_FMT ": velocity off by %g",
                   names[c], t, (double) err);
      }
      if (am) {
        PetscCall(RelErr(am, m, &err));
        PetscCheck(err <= RTOL, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s step %" PetscInt_FMT ": adam_m off by %g",
                   names[c], t, (double) err);
        PetscCall(RelErr(av, s, &err));
        PetscCheck(err <= RTOL, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s step %" PetscInt_FMT ": adam_v off by %g",
                   names[c], t, (double) err);
      }
    }
    PetscCall(SAOptimizerReset(opt));
    for (PetscInt k = 0; k < nstate; k++) {
      PetscReal nrm;

      PetscCall(VecNorm(state[k], NORM_INFINITY, &nrm));
      PetscCheck(nrm == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: %s is %g after reset", names[c], snames[k],
                 (double) nrm);
    }
    PetscCall(VecDestroy(&theta));
    PetscCall(VecDestroy(&g));
    PetscCall(SAOptimizerDestroy(&opt));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* 2. Adam bias correction ------------------------------------------------------------------------------ */

/* adam, lr 0.01, wd 0, default betas and eps, theta_0 = 0, a constant gradient g (entries from 1e-3 to 5, so eps
   shows in the smallest). With bias correction m_hat = g and v_hat = g^2 at every step for a constant gradient, so
   steps 0 and 1 each move theta by -lr g / (|g| + eps): theta_1 = -s, theta_2 = -2 s (theta_0 = 0 keeps the
   subtraction exact). Without the correction step 0 would be 1 / sqrt(1 - b2) = 3.2 times larger.
   The correction follows h.step, not a count in the state: a fresh optimizer given h.step = 1 (t = 2) first
   makes m_hat = g / (1 + b1), v_hat = g^2 / (1 + b2); and the eps of the step is h.eps (set to 1e-3 here). */
static PetscErrorCode CheckAdamBias(void)
{
  const char *const kv[] = {"-optimizer_type", "adam", "-optimizer_lr", "0.01", NULL};
  const PetscReal   lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const PetscReal   gc[5] = {0.3, -2.0, 1e-3, 5.0, -0.7};
  PetscReal         ref[5], err;
  SAOptimizer       opt;
  Vec               theta, g;
  SAHyper           h;

  PetscFunctionBeginUser;
  PetscCall(SATestCreateOptimizer(PETSC_COMM_WORLD, kv, &opt));
  PetscCall(VecCreateMPI(PETSC_COMM_WORLD, PETSC_DECIDE, 5, &theta));
  PetscCall(VecDuplicate(theta, &g));
  PetscCall(VecSet(theta, 0.0));
  PetscCall(SetVec(g, gc));
  for (PetscInt t = 0; t < 2; t++) {
    PetscCall(SAOptimizerGetHyper(opt, t, &h));
    PetscCall(SAOptimizerUpdate(opt, &h, theta, g));
    for (PetscInt i = 0; i < 5; i++) ref[i] = -(t + 1) * lr * gc[i] / (fabs(gc[i]) + eps);
    PetscCall(RelErr(theta, ref, &err));
    PetscCheck(err <= RTOL, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "bias-corrected step %" PetscInt_FMT " differs from -lr g / (|g| + eps) by %g", t, (double) err);
  }
  PetscCall(SAOptimizerDestroy(&opt));

  PetscCall(SATestCreateOptimizer(PETSC_COMM_WORLD, kv, &opt));
  PetscCall(VecSet(theta, 0.0));
  PetscCall(SAOptimizerGetHyper(opt, 1, &h));
  PetscCall(SAOptimizerUpdate(opt, &h, theta, g));
  for (PetscInt i = 0; i < 5; i++) ref[i] = -lr * (gc[i] / (1 + b1)) / (fabs(gc[i]) / sqrt(1 + b2) + eps);
  PetscCall(RelErr(theta, ref, &err));
  PetscCheck(err <= RTOL, PETSC_COMM_SELF, PETSC_ERR_PLIB, "first update at h.step = 1 off by %g", (double) err);
  PetscCall(SAOptimizerReset(opt));
  PetscCall(VecSet(theta, 0.0));
  PetscCall(SAOptimizerGetHyper(opt, 0, &h));
  h.eps = 1e-3;
  PetscCall(SAOptimizerUpdate(opt, &h, theta, g));
  for (PetscInt i = 0; i < 5; i++) ref[i] = -lr * gc[i] / (fabs(gc[i]) + 1e-3);
  PetscCall(RelErr(theta, ref, &err));
  PetscCheck(err <= RTOL, PETSC_COMM_SELF, PETSC_ERR_PLIB, "update with h.eps = 1e-3 off by %g", (double) err);
  PetscCall(VecDestroy(&theta));
  PetscCall(VecDestroy(&g));
  PetscCall(SAOptimizerDestroy(&opt));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* 3. learning-rate schedules ------------------------------------------------------------------------- */

/* warmup_cosine from the deck keys (lr 0.2, warmup W = 4, total T = 14, r = 0.1):
     t = 0 -> lr/4, t = 3 (last warmup step) -> lr, t = 4 (first cosine step) -> lr,
     t = 7 -> lr (r + (1 - r) (1 + cos(0.3 pi)) / 2), t = 9 (mid-cosine) -> lr (r + (1 - r) / 2) = 0.55 lr,
     t = 13 -> lr (r + (1 - r) (1 + cos(0.9 pi)) / 2), t = 14 (end) and t = 1000 (clamped) -> lr r;
   warmup_cosine set by SAOptimizerSetWarmupCosine(0, 10, 0): t = 0 -> lr, t = 5 -> lr/2, t = 10 -> 0;
   step from the deck keys (every 3, gamma 0.5): t = 0, 2 -> lr, 3, 5 -> lr/2, 6 -> lr/4, 10 -> lr/8;
   step with the default gamma 0.1 (every 3): t = 7 -> lr/100. All to RTOL * lr; the other fields of h are the
   optimizer's. */
static PetscErrorCode CheckSchedules(void)
{
  const char *const kv_cos[]  = {"-optimizer_lr",
                                 "0.2",
                                 "-optimizer_schedule",
                                 "warmup_cosine",
                                 "-optimizer_warmup",
                                 "4",
                                 "-optimizer_total_steps",
                                 "14",
                                 "-optimizer_min_lr_ratio",
                                 "0.1",
                                 NULL};
  const char *const kv_step[] = {
    "-optimizer_lr", "0.2", "-optimizer_schedule", "step", "-optimizer_step_every", "3", "-optimizer_step_gamma",
    "0.5",           NULL};
  const char *const kv_step_default[] = {
    "-optimizer_lr", "0.2", "-optimizer_schedule", "step", "-optimizer_step_every", "3", NULL};
  const PetscReal lr = 0.2, r = 0.1, pi = 3.14159265358979323846;
  const PetscInt  tc[] = {0, 3, 4, 7, 9, 13, 14, 1000};
  const PetscReal fc[] = {
    0.25, 1.0, 1.0, r + (1 - r) * 0.5 * (1 + cos(0.3 * pi)), 0.55, r + (1 - r) * 0.5 * (1 + cos(0.9 * pi)), r, r};
  const PetscInt      ts[] = {0, 2, 3, 5, 6, 10};
  const PetscReal     fs[] = {1.0, 1.0, 0.5, 0.5, 0.25, 0.125};
  SAOptimizer         opt;
  SAOptimizerSchedule sched;
  PetscInt            w, T, every;
  PetscReal           ratio, gamma;
  SAHyper             h;

  PetscFunctionBeginUser;
  PetscCall(SATestCreateOptimizer(PETSC_COMM_WORLD, kv_cos, &opt));
  PetscCall(SAOptimizerGetSchedule(opt, &sched));
  PetscCall(SAOptimizerGetWarmupCosine(opt, &w, &T, &ratio));
  PetscCheck(sched == SA_SCHEDULE_WARMUP_COSINE && w == 4 && T == 14 && ratio == r, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "warmup_cosine read as %s, %" PetscInt_FMT ", %" PetscInt_FMT ", %g", SAOptimizerSchedules[sched], w, T,
             (double) ratio);
  for (size_t k = 0; k < sizeof(tc) / sizeof(tc[0]); k++) {
    PetscCall(SAOptimizerGetHyper(opt, tc[k], &h));
    PetscCall(CheckClose("warmup_cosine lr", tc[k], h.lr, lr * fc[k], lr));
    PetscCheck(h.step == tc[k] && h.momentum == 0 && h.weight_decay == 0 && h.clip == 0, PETSC_COMM_SELF,
               PETSC_ERR_PLIB, "warmup_cosine changed other fields of SAHyper");
  }
  PetscCall(SAOptimizerSetWarmupCosine(opt, 0, 10, 0.0));
  PetscCall(SAOptimizerGetHyper(opt, 0, &h));
  PetscCall(CheckClose("warmup_cosine (no warmup) lr", 0, h.lr, lr, lr));
  PetscCall(SAOptimizerGetHyper(opt, 5, &h));
  PetscCall(CheckClose("warmup_cosine (no warmup) lr", 5, h.lr, 0.5 * lr, lr));
  PetscCall(SAOptimizerGetHyper(opt, 10, &h));
  PetscCall(CheckClose("warmup_cosine (no warmup) lr", 10, h.lr, 0.0, lr));
  PetscCall(SAOptimizerDestroy(&opt));

  PetscCall(SATestCreateOptimizer(PETSC_COMM_WORLD, kv_step, &opt));
  PetscCall(SAOptimizerGetStepDecay(opt, &every, &gamma));
  PetscCheck(every == 3 && gamma == 0.5, PETSC_COMM_SELF, PETSC_ERR_PLIB, "step read as %" PetscInt_FMT ", %g", every,
             (double) gamma);
  for (size_t k = 0; k < sizeof(ts) / sizeof(ts[0]); k++) {
    PetscCall(SAOptimizerGetHyper(opt, ts[k], &h));
    PetscCall(CheckClose("step lr", ts[k], h.lr, lr * fs[k], lr));
  }
  PetscCall(SAOptimizerSetSchedule(opt, SA_SCHEDULE_CONSTANT));
  PetscCall(SAOptimizerGetHyper(opt, 10, &h));
  PetscCheck(h.lr == lr, PETSC_COMM_SELF, PETSC_ERR_PLIB, "constant schedule gives lr %g", (double) h.lr);
  PetscCall(SAOptimizerDestroy(&opt));

  PetscCall(SATestCreateOptimizer(PETSC_COMM_WORLD, kv_step_default, &opt));
  PetscCall(SAOptimizerGetHyper(opt, 7, &h));
  PetscCall(CheckClose("step lr (gamma 0.1)", 7, h.lr, lr * 0.01, lr));
  PetscCall(SAOptimizerDestroy(&opt));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* 4. gradient clipping ------------------------------------------------------------------------------- */

/* sgd, lr 0.1, clip from the deck; g = (3, -4, 0, 12, 0) has ||g||_2 = 13 exactly.
   clip 6.5 < 13: g is scaled in place by 1/2 (norm 6.5 afterwards), theta' = theta - lr g / 2;
   clip 20 > 13: g is untouched (bit for bit) and theta' = theta - lr g;
   clip 6.5 but h.clip = 0 for the step (the clip_off perturbation): no clipping either;
   momentum with clip 6.5: the velocity is built from the clipped gradient, v = g / 2. */
static PetscErrorCode CheckClip(void)
{
  const char *const kv_lo[]  = {"-optimizer_type", "sgd", "-optimizer_lr", "0.1", "-optimizer_clip", "6.5", NULL};
  const char *const kv_hi[]  = {"-optimizer_type", "sgd", "-optimizer_lr", "0.1", "-optimizer_clip", "20", NULL};
  const char *const kv_mom[] = {"-optimizer_type", "momentum", "-optimizer_lr", "0.1", "-optimizer_clip", "6.5", NULL};
  const PetscReal   gc[5] = {3, -4, 0, 12, 0}, lr = 0.1;
  PetscReal         th0[5], ref[5], err, nrm, clip;
  SAOptimizer       opt;
  Vec               theta, g, g0, vel;
  SAHyper           h;
  PetscBool         same;

  PetscFunctionBeginUser;
  PetscCall(VecCreateMPI(PETSC_COMM_WORLD, PETSC_DECIDE, 5, &theta));
  PetscCall(VecDuplicate(theta, &g));
  PetscCall(VecDuplicate(theta, &g0));
  PetscCall(SetVec(g0, gc));
  for (PetscInt i = 0; i < 5; i++) th0[i] = 1.0 - 0.3 * i;
  for (PetscInt c = 0; c < 3; c++) {
    PetscCall(SATestCreateOptimizer(PETSC_COMM_WORLD, c == 1 ? kv_hi : kv_lo, &opt));
    PetscCall(SAOptimizerGetClip(opt, &clip));
    PetscCheck(clip == (c == 1 ? 20 : 6.5), PETSC_COMM_SELF, PETSC_ERR_PLIB, "clip read as %g", (double) clip);
    PetscCall(SetVec(theta, th0));
    PetscCall(VecCopy(g0, g));
    PetscCall(SAOptimizerGetHyper(opt, 0, &h));
    PetscCheck(h.clip == clip, PETSC_COMM_SELF, PETSC_ERR_PLIB, "h.clip %g", (double) h.clip);
    if (c == 2) h.clip = 0;
    PetscCall(SAOptimizerUpdate(opt, &h, theta, g));
    for (PetscInt i = 0; i < 5; i++) ref[i] = th0[i] - lr * (c == 0 ? 0.5 : 1.0) * gc[i];
    PetscCall(RelErr(theta, ref, &err));
    PetscCheck(err <= RTOL, PETSC_COMM_SELF, PETSC_ERR_PLIB, "clip case %" PetscInt_FMT ": theta off by %g", c,
               (double) err);
    if (c == 0) {
      PetscCall(VecNorm(g, NORM_2, &nrm));
      PetscCheck(PetscAbsReal(nrm - 6.5) <= RTOL * 6.5, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "clipped gradient has norm %.17g, expected 6.5", (double) nrm);
    } else {
      PetscCall(VecEqual(g, g0, &same));
      PetscCheck(same, PETSC_COMM_SELF, PETSC_ERR_PLIB, "clip case %" PetscInt_FMT ": gradient changed", c);
    }
    PetscCall(SAOptimizerDestroy(&opt));
  }
  PetscCall(SATestCreateOptimizer(PETSC_COMM_WORLD, kv_mom, &opt));
  PetscCall(SetVec(theta, th0));
  PetscCall(VecCopy(g0, g));
  PetscCall(SAOptimizerGetHyper(opt, 0, &h));
  PetscCall(SAOptimizerUpdate(opt, &h, theta, g));
  PetscCall(FindState(opt, "velocity", &vel));
  for (PetscInt i = 0; i < 5; i++) ref[i] = 0.5 * gc[i];
  PetscCall(RelErr(vel, ref, &err));
  PetscCheck(err <= RTOL, PETSC_COMM_SELF, PETSC_ERR_PLIB, "momentum velocity from clipped gradient off by %g",
             (double) err);
  PetscCall(SAOptimizerDestroy(&opt));
  PetscCall(VecDestroy(&theta));
  PetscCall(VecDestroy(&g));
  PetscCall(VecDestroy(&g0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* 5. bad keys and bad arguments ---------------------------------------------------------------------- */

/* SAOptimizerSetFromOptions (and with unused set, then SADeckCheckUnused) on kv must fail with
   PETSC_ERR_USER_INPUT and a message naming key */
static PetscErrorCode CheckBadKey(const char *const kv[], PetscBool unused, const char key[])
{
  SAOptimizer    opt = NULL;
  PetscErrorCode ierr;
  const char    *msg;

  PetscFunctionBeginUser;
  PetscCall(SATestSetOptions(kv));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SAOptimizerCreate(PETSC_COMM_WORLD, &opt);
  if (!ierr) ierr = SAOptimizerSetFromOptions(opt);
  if (!ierr && unused) ierr = SADeckCheckUnused(PETSC_COMM_WORLD);
  PetscCall(PetscPopErrorHandler());
  PetscCall(SATestClearOptions(kv));
  PetscCall(SAOptimizerDestroy(&opt));
  PetscCheck(ierr == PETSC_ERR_USER_INPUT, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "bad key %s: expected a user-input error, got %d", key, (int) ierr);
  PetscCall(SADeckError(ierr, &msg));
  PetscCheck(strstr(msg, key), PETSC_COMM_SELF, PETSC_ERR_PLIB, "bad key %s: message '%s' does not name it", key, msg);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckBadKeys(void)
{
  const char *const no_total[] = {"-optimizer_schedule", "warmup_cosine", "-optimizer_warmup", "5", NULL};
  const char *const neg_wd[]   = {"-optimizer_weight_decay", "-0.1", NULL};
  const char *const no_every[] = {"-optimizer_schedule", "step", NULL};
  const char *const neg_clip[] = {"-optimizer_clip", "-1", NULL};
  const char *const bad_sch[]  = {"-optimizer_schedule", "linear", NULL};
  const char *const warm_gt[]  = {
     "-optimizer_schedule", "warmup_cosine", "-optimizer_warmup", "20", "-optimizer_total_steps", "10", NULL};
  const char *const zero_eps[] = {"-optimizer_type", "adamw", "-optimizer_adam_eps", "0", NULL};
  const char *const one_beta[] = {"-optimizer_type", "adam", "-optimizer_adam_beta1", "1", NULL};
  const char *const unused[]   = {"-optimizer_schedule", "constant", "-optimizer_warmup", "5", NULL};
  const char *const adam_sgd[] = {"-optimizer_type", "sgd", "-optimizer_adam_beta2", "0.9", NULL};
  const char *const good[]     = {"-optimizer_type",
                                  "adamw",
                                  "-optimizer_schedule",
                                  "warmup_cosine",
                                  "-optimizer_total_steps",
                                  "10",
                                  "-optimizer_adam_beta2",
                                  "0.99",
                                  "-optimizer_weight_decay",
                                  "0.01",
                                  "-optimizer_clip",
                                  "1",
                                  NULL};
  SAOptimizer       opt;
  PetscErrorCode    ierr;
  SAHyper           h;

  PetscFunctionBeginUser;
  PetscCall(CheckBadKey(no_total, PETSC_FALSE, "optimizer_total_steps"));
  PetscCall(CheckBadKey(neg_wd, PETSC_FALSE, "optimizer_weight_decay"));
  PetscCall(CheckBadKey(no_every, PETSC_FALSE, "optimizer_step_every"));
  PetscCall(CheckBadKey(neg_clip, PETSC_FALSE, "optimizer_clip"));
  PetscCall(CheckBadKey(bad_sch, PETSC_FALSE, "optimizer_schedule"));
  PetscCall(CheckBadKey(warm_gt, PETSC_FALSE, "optimizer_warmup"));
  PetscCall(CheckBadKey(zero_eps, PETSC_FALSE, "optimizer_adam_eps"));
  PetscCall(CheckBadKey(one_beta, PETSC_FALSE, "optimizer_adam_beta1"));
  PetscCall(CheckBadKey(unused, PETSC_TRUE, "optimizer_warmup"));
  PetscCall(CheckBadKey(adam_sgd, PETSC_TRUE, "optimizer_adam_beta2"));

  /* a complete deck leaves no unused key */
  PetscCall(SATestSetOptions(good));
  PetscCall(SAOptimizerCreate(PETSC_COMM_WORLD, &opt));
  PetscCall(SAOptimizerSetFromOptions(opt));
  PetscCall(SADeckCheckUnused(PETSC_COMM_WORLD));
  PetscCall(SATestClearOptions(good));
  PetscCall(SAOptimizerDestroy(&opt));

  /* the programmatic setters check their arguments; a schedule without its parameters fails in GetHyper */
  PetscCall(SAOptimizerCreate(PETSC_COMM_WORLD, &opt));
  PetscCall(SAOptimizerSetType(opt, SAOPTIMIZERSGD));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SAOptimizerSetWeightDecay(opt, -1.0);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr == PETSC_ERR_ARG_OUTOFRANGE, PETSC_COMM_SELF, PETSC_ERR_PLIB, "negative weight decay gave %d",
             (int) ierr);
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SAOptimizerSetWarmupCosine(opt, 5, 0, 0.0);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr == PETSC_ERR_ARG_OUTOFRANGE, PETSC_COMM_SELF, PETSC_ERR_PLIB, "total steps 0 gave %d", (int) ierr);
  PetscCall(SAOptimizerSetSchedule(opt, SA_SCHEDULE_WARMUP_COSINE));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = SAOptimizerGetHyper(opt, 0, &h);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr == PETSC_ERR_ARG_WRONGSTATE, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "warmup_cosine without total steps gave %d in GetHyper", (int) ierr);
  PetscCall(SAOptimizerDestroy(&opt));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the update map on given (theta, state) equals the update itself, and leaves the optimizer's state alone:
   two real steps build a state; the map applied to copies must equal a third real step bitwise */
static PetscErrorCode CheckUpdateMap(void)
{
  const char *const kvs[3][9] = {
    {"-optimizer_type", "momentum", "-optimizer_lr", "0.1", "-optimizer_momentum", "0.9", "-optimizer_clip", "2", NULL},
    {"-optimizer_type", "adam", "-optimizer_lr", "0.01", "-optimizer_weight_decay", "0.1", NULL},
    {"-optimizer_type", "adamw", "-optimizer_lr", "0.01", "-optimizer_weight_decay", "0.1", NULL}};
  const PetscReal gc[5] = {3, -4, 0.5, 12, -1}, th[5] = {1, 0.7, 0.4, 0.1, -0.2};

  PetscFunctionBeginUser;
  for (int c = 0; c < 3; c++) {
    SAOptimizer        opt;
    Vec                theta, g, g2, tout, *st, sin[4], sout[4], before[4];
    PetscInt           ns;
    const char *const *names;
    SAHyper            h;
    PetscBool          same;

    PetscCall(SATestCreateOptimizer(PETSC_COMM_WORLD, kvs[c], &opt));
    PetscCall(VecCreateMPI(PETSC_COMM_WORLD, PETSC_DECIDE, 5, &theta));
    PetscCall(VecDuplicate(theta, &g));
    PetscCall(VecDuplicate(theta, &g2));
    PetscCall(VecDuplicate(theta, &tout));
    PetscCall(SetVec(theta, th));
    for (PetscInt t = 0; t < 2; t++) {
      PetscCall(SetVec(g, gc));
      PetscCall(SAOptimizerGetHyper(opt, t, &h));
      PetscCall(SAOptimizerUpdate(opt, &h, theta, g));
    }
    PetscCall(SAOptimizerGetState(opt, &ns, &st, &names));
    PetscCheck(ns > 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case %d: no state", c);
    for (PetscInt i = 0; i < ns; i++) {
      PetscCall(VecDuplicate(st[i], &sin[i]));
      PetscCall(VecDuplicate(st[i], &sout[i]));
      PetscCall(VecDuplicate(st[i], &before[i]));
      PetscCall(VecCopy(st[i], sin[i]));
      PetscCall(VecCopy(st[i], before[i]));
    }
    PetscCall(SetVec(g, gc));
    PetscCall(VecScale(g, 0.5));
    PetscCall(VecCopy(g, g2));
    PetscCall(SAOptimizerGetHyper(opt, 2, &h));
    PetscCall(SAOptimizerUpdateMap(opt, &h, theta, sin, g, tout, sout));
    PetscCall(VecEqual(g, g2, &same));
    PetscCheck(same, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case %d: the map changed the gradient", c);
    for (PetscInt i = 0; i < ns; i++) {
      PetscCall(VecEqual(st[i], before[i], &same));
      PetscCheck(same, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case %d: the map changed the optimizer's %s", c, names[i]);
    }
    PetscCall(SAOptimizerUpdate(opt, &h, theta, g)); /* the real third step */
    PetscCall(VecEqual(theta, tout, &same));
    PetscCheck(same, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case %d: map and update give different theta", c);
    for (PetscInt i = 0; i < ns; i++) {
      PetscCall(VecEqual(st[i], sout[i], &same));
      PetscCheck(same, PETSC_COMM_SELF, PETSC_ERR_PLIB, "case %d: map and update give different %s", c, names[i]);
      PetscCall(VecDestroy(&sin[i]));
      PetscCall(VecDestroy(&sout[i]));
      PetscCall(VecDestroy(&before[i]));
    }
    PetscCall(VecDestroy(&theta));
    PetscCall(VecDestroy(&g));
    PetscCall(VecDestroy(&g2));
    PetscCall(VecDestroy(&tout));
    PetscCall(SAOptimizerDestroy(&opt));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* 6. capability queries ------------------------------------------------------------------------------- */

/* the error code of one call, with the error handler silenced */
#define ERRCODE(ierr, call)                                          \
  do {                                                               \
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL)); \
    ierr = (call);                                                   \
    PetscCall(PetscPopErrorHandler());                               \
  } while (0)

/* the flags of every type (they depend on the type only: momentum 0 is still SA_OPT_CAP_MOMENTUM); before a type
   is set the query is PETSC_ERR_ORDER; SAOptimizerSetMomentum() is PETSC_ERR_SUP without SA_OPT_CAP_MOMENTUM, and
   SAOptimizerGetDiagonalPreconditioner() without SA_OPT_CAP_DIAG_PRECOND */
static PetscErrorCode CheckCapabilities(void)
{
  const char *const types[]  = {SAOPTIMIZERSGD, SAOPTIMIZERMOMENTUM, SAOPTIMIZERADAM, SAOPTIMIZERADAMW};
  const PetscInt    adam     = SA_OPT_CAP_STATE | SA_OPT_CAP_BETA1 | SA_OPT_CAP_EPS | SA_OPT_CAP_DIAG_PRECOND;
  const PetscInt    expect[] = {0, SA_OPT_CAP_STATE | SA_OPT_CAP_MOMENTUM, adam, adam};
  SAOptimizer       opt;
  PetscErrorCode    ierr;
  PetscInt          caps;

  PetscFunctionBeginUser;
  PetscCall(SAOptimizerCreate(PETSC_COMM_WORLD, &opt));
  ERRCODE(ierr, SAOptimizerGetCapabilities(opt, &caps));
  PetscCheck(ierr == PETSC_ERR_ORDER, PETSC_COMM_SELF, PETSC_ERR_PLIB, "capabilities before the type gave %d",
             (int) ierr);
  PetscCall(SAOptimizerSetMomentum(opt, 0.5)); /* kept for the type chosen later */
  PetscCall(SAOptimizerDestroy(&opt));
  for (PetscInt c = 0; c < 4; c++) {
    Vec     theta, g, d;
    SAHyper h;

    PetscCall(SAOptimizerCreate(PETSC_COMM_WORLD, &opt));
    PetscCall(SAOptimizerSetType(opt, types[c]));
    PetscCall(SAOptimizerGetCapabilities(opt, &caps));
    PetscCheck(caps == expect[c], PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "%s: capabilities %" PetscInt_FMT ", expected %" PetscInt_FMT, types[c], caps, expect[c]);
    ERRCODE(ierr, SAOptimizerSetMomentum(opt, 0.5));
    PetscCheck((caps & SA_OPT_CAP_MOMENTUM) ? ierr == PETSC_SUCCESS : ierr == PETSC_ERR_SUP, PETSC_COMM_SELF,
               PETSC_ERR_PLIB, "%s: SAOptimizerSetMomentum gave %d", types[c], (int) ierr);
    PetscCall(VecCreateMPI(PETSC_COMM_WORLD, PETSC_DECIDE, 5, &theta));
    PetscCall(VecDuplicate(theta, &g));
    PetscCall(VecDuplicate(theta, &d));
    PetscCall(VecSet(theta, 0.5));
    PetscCall(VecSet(g, 0.25));
    PetscCall(SAOptimizerGetHyper(opt, 0, &h));
    ERRCODE(ierr, SAOptimizerGetDiagonalPreconditioner(opt, &h, theta, g, d));
    PetscCheck((caps & SA_OPT_CAP_DIAG_PRECOND) ? ierr == PETSC_SUCCESS : ierr == PETSC_ERR_SUP, PETSC_COMM_SELF,
               PETSC_ERR_PLIB, "%s: SAOptimizerGetDiagonalPreconditioner gave %d", types[c], (int) ierr);
    PetscCall(VecDestroy(&theta));
    PetscCall(VecDestroy(&g));
    PetscCall(VecDestroy(&d));
    PetscCall(SAOptimizerDestroy(&opt));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* |x_N| after N steps of the real update from x = 1 (state zero) on f(x) = lambda x^2 / 2, exact gradient */
static PetscErrorCode IterateQuadratic(SAOptimizer opt, PetscReal lambda, PetscInt N, PetscReal *xN)
{
  Vec     theta, g;
  SAHyper h;

  PetscFunctionBeginUser;
  PetscCall(VecCreateMPI(PETSC_COMM_WORLD, PETSC_DECIDE, 1, &theta));
  PetscCall(VecDuplicate(theta, &g));
  PetscCall(VecSet(theta, 1.0));
  PetscCall(SAOptimizerSetUp(opt, theta));
  PetscCall(SAOptimizerReset(opt));
  for (PetscInt t = 0; t < N; t++) {
    PetscCall(VecAXPBY(g, lambda, 0.0, theta));
    PetscCall(SAOptimizerGetHyper(opt, t, &h));
    PetscCall(SAOptimizerUpdate(opt, &h, theta, g));
  }
  PetscCall(VecNorm(theta, NORM_INFINITY, xN));
  PetscCall(VecDestroy(&theta));
  PetscCall(VecDestroy(&g));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The stability threshold against its closed form (2 / lr; heavy ball (2 + 2 mu) / lr; Nesterov
   (2 + 2 mu) / ((1 + 2 mu) lr); adam (2 + 2 beta1) / (1 - beta1)), and against the real update: on the 1-D
   quadratic with lambda = (thr - wd)(1 -+ 1%) (L2 weight decay shifts the curvature by wd) 2000 steps from x = 1
   end below 1e-8 (decay) or above 1e8 (growth); the slowest case, Nesterov mu 0.5 with wd 0.2, has |x| ~ 2e-20 and 2e19
   there. The sharpness ratio at the threshold is 1 (sgd, heavy ball, adam; to rounding, 1e-14) and 1 / (1 + 2 mu) for
   Nesterov (the recorded ratio is the heavy-ball one). */
static PetscErrorCode CheckStabilityThreshold(void)
{
  struct {
    const char *name, *type;
    PetscReal   lr, mu, wd;
    PetscBool   nesterov;
  } cs[] = {
    {"gd", "sgd", 0.3, 0.0, 0.0, PETSC_FALSE},
    {"gd + wd", "sgd", 0.3, 0.0, 0.2, PETSC_FALSE},
    {"heavy ball", "momentum", 0.1, 0.9, 0.0, PETSC_FALSE},
    {"hb + wd", "momentum", 0.5, 0.5, 0.2, PETSC_FALSE},
    {"Nesterov", "momentum", 0.1, 0.9, 0.0, PETSC_TRUE},
    {"nes + wd", "momentum", 0.5, 0.5, 0.2, PETSC_TRUE},
  };
  SAOptimizer opt;
  SAHyper     h;
  PetscReal   thr, ratio, ref;

  PetscFunctionBeginUser;
  for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
    char        slr[32], smu[32], swd[32];
    const char *kv[] = {"-optimizer_type",
                        cs[c].type,
                        "-optimizer_lr",
                        slr,
                        "-optimizer_weight_decay",
                        swd,
                        "-optimizer_momentum_nesterov",
                        cs[c].nesterov ? "true" : "false",
                        "-optimizer_momentum",
                        smu,
                        NULL};

    PetscCall(PetscSNPrintf(slr, sizeof(slr), "%.17g", (double) cs[c].lr));
    PetscCall(PetscSNPrintf(smu, sizeof(smu), "%.17g", (double) cs[c].mu));
    PetscCall(PetscSNPrintf(swd, sizeof(swd), "%.17g", (double) cs[c].wd));
    if (!strcmp(cs[c].type, "sgd")) kv[6] = NULL; /* sgd reads no momentum keys */
    PetscCall(SATestCreateOptimizer(PETSC_COMM_WORLD, kv, &opt));
    PetscCall(SAOptimizerGetHyper(opt, 0, &h));
    PetscCall(SAOptimizerGetStabilityThreshold(opt, &h, &thr));
    ref = 2 * (1 + cs[c].mu) / (cs[c].lr * (cs[c].nesterov ? 1 + 2 * cs[c].mu : 1));
    PetscCall(CheckClose(cs[c].name, 0, thr, ref, ref));
    PetscCall(SAOptimizerSharpnessRatio(opt, &h, thr, &ratio));
    PetscCall(CheckClose(cs[c].name, 1, ratio, cs[c].nesterov ? 1 / (1 + 2 * cs[c].mu) : 1, 1));
    for (int side = 0; side < 2; side++) {
      const PetscReal lambda = (thr - cs[c].wd) * (side ? 1.01 : 0.99);
      PetscReal       xN;

      PetscCall(IterateQuadratic(opt, lambda, 2000, &xN));
      PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  %-10s thr %.6f  lambda %.6f: |x_2000| %.3e\n", cs[c].name,
                            (double) thr, (double) lambda, (double) xN));
      PetscCheck(side ? xN > 1e8 : xN < 1e-8, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "%s: lambda %g %s the threshold %g gives |x_2000| %g", cs[c].name, (double) lambda,
                 side ? "above" : "below", (double) thr, (double) xN);
    }
    PetscCall(SAOptimizerDestroy(&opt));
  }
  { /* adam and adamw: the threshold on the preconditioned sharpness */
    const char *const types[] = {SAOPTIMIZERADAM, SAOPTIMIZERADAMW};

    for (int c = 0; c < 2; c++) {
      PetscCall(SAOptimizerCreate(PETSC_COMM_WORLD, &opt));
      PetscCall(SAOptimizerSetType(opt, types[c]));
      PetscCall(SAOptimizerAdamSetBetas(opt, 0.8, 0.99));
      PetscCall(SAOptimizerGetHyper(opt, 3, &h));
      PetscCall(SAOptimizerGetStabilityThreshold(opt, &h, &thr));
      PetscCall(CheckClose(types[c], 0, thr, 3.6 / 0.2, 18));
      h.beta1 = 0.9; /* a perturbed beta1 (momentum_shift) is used */
      PetscCall(SAOptimizerGetStabilityThreshold(opt, &h, &thr));
      PetscCall(CheckClose(types[c], 1, thr, 38, 38));
      PetscCall(SAOptimizerSharpnessRatio(opt, &h, 38, &ratio));
      PetscCall(CheckClose(types[c], 2, ratio, 1, 1));
      PetscCall(SAOptimizerDestroy(&opt));
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The diagonal preconditioner of adam (L2 decay inside g') and adamw (decoupled: g' = g) after two real steps,
   at step 2 with the gradient g_2 and a perturbed step (lr x 3, eps 1e-3), against the explicit
   d_i = sqrt(lr / (sqrt(v'_i / (1 - beta2^3)) + eps)), v' = beta2 v + (1 - beta2) g'^2 with v the optimizer's
   state (1 - beta2^3 as BiasCorrection); the state is not changed by the query. RTOL (<= 10 flops per entry). */
static PetscErrorCode CheckDiagonalPreconditioner(void)
{
  const char *const kvs[2][11] = {
    {"-optimizer_type", "adam", "-optimizer_lr", "0.1", "-optimizer_weight_decay", "0.05", NULL},
    {"-optimizer_type", "adamw", "-optimizer_lr", "0.1", "-optimizer_weight_decay", "0.05", "-optimizer_adam_beta2",
     "0.99", "-optimizer_adam_eps", "1e-6", NULL}};

  PetscFunctionBeginUser;
  for (int c = 0; c < 2; c++) {
    SAOptimizer opt;
    Vec         theta, g, d, vcopy, v;
    SAHyper     h;
    PetscReal   th[NHAND], gr[NHAND], ref[NHAND], *va, *ta, bc2, err;
    PetscBool   same;

    PetscCall(SATestCreateOptimizer(PETSC_COMM_WORLD, kvs[c], &opt));
    PetscCall(VecCreateMPI(PETSC_COMM_WORLD, PETSC_DECIDE, NHAND, &theta));
    PetscCall(VecDuplicate(theta, &g));
    PetscCall(VecDuplicate(theta, &d));
    for (PetscInt i = 0; i < NHAND; i++) th[i] = 0.5 - 0.2 * i;
    PetscCall(SetVec(theta, th));
    for (PetscInt t = 0; t < 3; t++) {
      for (PetscInt i = 0; i < NHAND; i++) gr[i] = PetscCosReal(1.3 * i + 0.7 * t) + 0.1 * i;
      PetscCall(SetVec(g, gr));
      PetscCall(SAOptimizerGetHyper(opt, t, &h));
      if (t < 2) PetscCall(SAOptimizerUpdate(opt, &h, theta, g));
    }
    h.lr *= 3;
    h.eps = 1e-3;
    PetscCall(FindState(opt, "adam_v", &v));
    PetscCheck(v, PETSC_COMM_SELF, PETSC_ERR_PLIB, "no adam_v");
    PetscCall(VecDuplicate(v, &vcopy));
    PetscCall(VecCopy(v, vcopy));
    PetscCall(SAOptimizerGetDiagonalPreconditioner(opt, &h, theta, g, d));
    PetscCall(VecEqual(v, vcopy, &same));
    PetscCheck(same, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: the query changed v", kvs[c][1]);
    PetscCall(SATestGatherAll(v, &va));
    PetscCall(SATestGatherAll(theta, &ta));
    bc2 = BiasCorrection(h.beta2, 3);
    for (PetscInt i = 0; i < NHAND; i++) {
      PetscReal gp = gr[i] + (c == 0 ? h.weight_decay * ta[i] : 0), v1 = h.beta2 * va[i] + (1 - h.beta2) * gp * gp;

      ref[i] = PetscSqrtReal(h.lr / (PetscSqrtReal(v1 / bc2) + h.eps));
    }
    PetscCall(RelErr(d, ref, &err));
    PetscCall(
      PetscPrintf(PETSC_COMM_WORLD, "  %s: diagonal preconditioner relative error %.2e\n", kvs[c][1], (double) err));
    PetscCheck(err <= RTOL, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: diagonal preconditioner error %g", kvs[c][1],
               (double) err);
    PetscCall(PetscFree(va));
    PetscCall(PetscFree(ta));
    PetscCall(VecDestroy(&vcopy));
    PetscCall(VecDestroy(&theta));
    PetscCall(VecDestroy(&g));
    PetscCall(VecDestroy(&d));
    PetscCall(SAOptimizerDestroy(&opt));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* 7. the optimizer as a PetscObject ------------------------------------------------------------------- */

/* With prefix "actor_" the optimizer reads -actor_optimizer_* and ignores -optimizer_* (which an optimizer without
   prefix reads); -actor_optimizer_view and -optimizer_view print it (rank 0 of the communicator) at the end of
   SetFromOptions; the prefix can be read back and appended to. Values are exact (parsed, not computed). */
static PetscErrorCode CheckOptionsPrefix(void)
{
  const char *const kv[] = {"-optimizer_type",
                            "momentum",
                            "-optimizer_lr",
                            "0.5",
                            "-actor_optimizer_type",
                            "adam",
                            "-actor_optimizer_lr",
                            "0.25",
                            "-actor_optimizer_adam_beta1",
                            "0.7",
                            "-actor_optimizer_view",
                            "",
                            "-optimizer_view",
                            "",
                            NULL};
  SAOptimizer       actor, plain;
  SAOptimizerType   type;
  const char       *prefix;
  SAHyper           h;
  PetscBool         match;

  PetscFunctionBeginUser;
  PetscCall(SATestSetOptions(kv));
  PetscCall(SAOptimizerCreate(PETSC_COMM_WORLD, &actor));
  PetscCall(SAOptimizerSetOptionsPrefix(actor, "actor_"));
  PetscCall(SAOptimizerSetFromOptions(actor));
  PetscCall(SAOptimizerCreate(PETSC_COMM_WORLD, &plain));
  PetscCall(SAOptimizerSetFromOptions(plain));
  PetscCall(SATestClearOptions(kv));

  PetscCall(SAOptimizerGetType(actor, &type));
  PetscCall(PetscStrcmp(type, SAOPTIMIZERADAM, &match));
  PetscCheck(match, PETSC_COMM_SELF, PETSC_ERR_PLIB, "prefixed optimizer: type %s, expected adam", type);
  PetscCall(SAOptimizerGetHyper(actor, 0, &h));
  PetscCheck(h.lr == 0.25 && h.beta1 == 0.7, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "prefixed optimizer: lr %g beta1 %g, expected 0.25 and 0.7 (the -actor_optimizer_ keys)", (double) h.lr,
             (double) h.beta1);
  PetscCall(SAOptimizerGetType(plain, &type));
  PetscCall(PetscStrcmp(type, SAOPTIMIZERMOMENTUM, &match));
  PetscCheck(match, PETSC_COMM_SELF, PETSC_ERR_PLIB, "optimizer without prefix: type %s, expected momentum", type);
  PetscCall(SAOptimizerGetHyper(plain, 0, &h));
  PetscCheck(h.lr == 0.5 && h.beta1 == 0.9, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "optimizer without prefix: lr %g beta1 %g, expected 0.5 and the default 0.9", (double) h.lr,
             (double) h.beta1);

  PetscCall(SAOptimizerGetOptionsPrefix(actor, &prefix));
  PetscCall(PetscStrcmp(prefix, "actor_", &match));
  PetscCheck(match, PETSC_COMM_SELF, PETSC_ERR_PLIB, "prefix %s, expected actor_", prefix);
  PetscCall(SAOptimizerAppendOptionsPrefix(actor, "critic_"));
  PetscCall(SAOptimizerGetOptionsPrefix(actor, &prefix));
  PetscCall(PetscStrcmp(prefix, "actor_critic_", &match));
  PetscCheck(match, PETSC_COMM_SELF, PETSC_ERR_PLIB, "prefix %s, expected actor_critic_", prefix);
  PetscCall(SAOptimizerGetOptionsPrefix(plain, &prefix));
  PetscCheck(!prefix, PETSC_COMM_SELF, PETSC_ERR_PLIB, "unexpected prefix %s", prefix);
  PetscCall(SAOptimizerView(plain, PETSC_VIEWER_STDOUT_WORLD));
  PetscCall(SAOptimizerDestroy(&actor));
  PetscCall(SAOptimizerDestroy(&plain));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Reference counting (PetscObjectReference() keeps the optimizer alive through one SAOptimizerDestroy()), a NULL
   handle to SAOptimizerDestroy(), and the composed setter: SAOptimizerAdamSetBetas() sets adam's rates, does nothing
   for sgd, and is removed with the adam type when the type changes. */
static PetscErrorCode CheckObject(void)
{
  SAOptimizer opt, ref, none = NULL;
  SAHyper     h;
  PetscInt    cnt;
  void (*fn)(void);

  PetscFunctionBeginUser;
  PetscCall(SAOptimizerDestroy(&none));
  PetscCall(SAOptimizerCreate(PETSC_COMM_WORLD, &opt));
  PetscCall(SAOptimizerSetType(opt, SAOPTIMIZERADAM));
  PetscCall(SAOptimizerAdamSetBetas(opt, 0.8, 0.99));
  PetscCall(SAOptimizerGetHyper(opt, 0, &h));
  PetscCheck(h.beta1 == 0.8 && h.beta2 == 0.99, PETSC_COMM_SELF, PETSC_ERR_PLIB, "adam betas %g %g, expected 0.8 0.99",
             (double) h.beta1, (double) h.beta2);
  PetscCall(PetscObjectQueryFunction((PetscObject) opt, "SAOptimizerAdamSetBetas_C", &fn));
  PetscCheck(fn, PETSC_COMM_SELF, PETSC_ERR_PLIB, "adam composes no SAOptimizerAdamSetBetas_C");

  PetscCall(SAOptimizerSetType(opt, SAOPTIMIZERSGD));
  PetscCall(PetscObjectQueryFunction((PetscObject) opt, "SAOptimizerAdamSetBetas_C", &fn));
  PetscCheck(!fn, PETSC_COMM_SELF, PETSC_ERR_PLIB, "SAOptimizerAdamSetBetas_C survives the change to sgd");
  PetscCall(SAOptimizerAdamSetBetas(opt, 0.5, 0.5)); /* not adam: nothing happens */
  PetscCall(SAOptimizerGetHyper(opt, 0, &h));
  PetscCheck(h.beta1 == 0.8 && h.beta2 == 0.99, PETSC_COMM_SELF, PETSC_ERR_PLIB, "sgd took the betas %g %g",
             (double) h.beta1, (double) h.beta2);

  ref = opt;
  PetscCall(PetscObjectReference((PetscObject) ref));
  PetscCall(PetscObjectGetReference((PetscObject) opt, &cnt));
  PetscCheck(cnt == 2, PETSC_COMM_SELF, PETSC_ERR_PLIB, "reference count %" PetscInt_FMT ", expected 2", cnt);
  PetscCall(SAOptimizerDestroy(&opt));
  PetscCheck(!opt, PETSC_COMM_SELF, PETSC_ERR_PLIB, "SAOptimizerDestroy() did not clear the handle");
  PetscCall(PetscObjectGetReference((PetscObject) ref, &cnt));
  PetscCheck(cnt == 1, PETSC_COMM_SELF, PETSC_ERR_PLIB, "reference count %" PetscInt_FMT ", expected 1", cnt);
  PetscCall(SAOptimizerGetHyper(ref, 0, &h)); /* still alive */
  PetscCall(SAOptimizerDestroy(&ref));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void test_hand(void) { CU_ASSERT_EQUAL(CheckHand(), PETSC_SUCCESS); }
static void test_adam_bias(void) { CU_ASSERT_EQUAL(CheckAdamBias(), PETSC_SUCCESS); }
static void test_schedules(void) { CU_ASSERT_EQUAL(CheckSchedules(), PETSC_SUCCESS); }
static void test_clip(void) { CU_ASSERT_EQUAL(CheckClip(), PETSC_SUCCESS); }
static void test_bad_keys(void) { CU_ASSERT_EQUAL(CheckBadKeys(), PETSC_SUCCESS); }
static void test_update_map(void) { CU_ASSERT_EQUAL(CheckUpdateMap(), PETSC_SUCCESS); }
static void test_capabilities(void) { CU_ASSERT_EQUAL(CheckCapabilities(), PETSC_SUCCESS); }
static void test_threshold(void) { CU_ASSERT_EQUAL(CheckStabilityThreshold(), PETSC_SUCCESS); }
static void test_diag_precond(void) { CU_ASSERT_EQUAL(CheckDiagonalPreconditioner(), PETSC_SUCCESS); }
static void test_prefix(void) { CU_ASSERT_EQUAL(CheckOptionsPrefix(), PETSC_SUCCESS); }
static void test_object(void) { CU_ASSERT_EQUAL(CheckObject(), PETSC_SUCCESS); }

int main(int argc, char **argv)
{
  int       nfail_all;
  CU_pSuite s;

  PetscCall(SlepcInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SAInitialize());
  if (CU_initialize_registry() != CUE_SUCCESS) return EXIT_FAILURE;
  s = CU_add_suite("optimizers", NULL, NULL);
  CU_add_test(s, "two steps of sgd/momentum/nesterov/adam/adamw with weight decay vs hand", test_hand);
  CU_add_test(s, "adam bias correction follows the step of SAHyper", test_adam_bias);
  CU_add_test(s, "learning-rate schedules vs closed form", test_schedules);
  CU_add_test(s, "gradient clipping by global norm", test_clip);
  CU_add_test(s, "bad keys and arguments are rejected", test_bad_keys);
  CU_add_test(s, "the update map equals the update and leaves the state alone", test_update_map);
  CU_add_test(s, "capabilities of every type; unsupported queries are PETSC_ERR_SUP", test_capabilities);
  CU_add_test(s, "stability threshold vs closed form and the update on a 1-D quadratic", test_threshold);
  CU_add_test(s, "adam/adamw diagonal preconditioner vs explicit formula", test_diag_precond);
  CU_add_test(s, "options prefix: actor_ reads -actor_optimizer_* only; -optimizer_view", test_prefix);
  CU_add_test(s, "reference count and the composed SAOptimizerAdamSetBetas()", test_object);
  PetscCall(SATestRunSuite(PETSC_COMM_WORLD, &nfail_all));
  PetscCall(PetscOptionsClear(NULL));
  PetscCall(SAFinalize());
  PetscCall(SlepcFinalize());
  return nfail_all ? EXIT_FAILURE : EXIT_SUCCESS;
}
