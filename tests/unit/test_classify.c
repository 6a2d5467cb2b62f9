/*
  test_classify.c - the MLP classification task through its public SATask interface, with the
  parameters sharded over all ranks (data parallelism): loss and gradient against central finite
  differences of the loss, the exact R-operator Hessian-vector product against finite differences
  of the gradient and for symmetry, dropout masks and minibatches reproducible, and the task's
  results independent of the number of ranks (compared with a PETSC_COMM_SELF copy on every rank).

  Tolerances: the loss is smooth (tanh/gelu) and its third derivatives are O(1) on standardised
  digits, so a central difference with h = 1e-5 has truncation O(h^2) ~ 1e-10 relative and
  roundoff eps |L| / h ~ 2e-11: 1e-6 relative leaves room for ||grad|| being small without hiding
  a wrong term (a missing term is O(1) relative); the same holds for the HVP of a batch with learning-signal fields
  (its loss is the one whose gradient the modified signal gives). Layout comparisons: only the reduction order of
  the batch sum changes, 1e-12 relative.
*/
#include <stabaudit/satask.h>
#include <stabaudit/sasolver.h>
#include <slepcsys.h>
#include "satest.h"

static const char *const Opts[] = {"-task_type",
                                   "classify",
                                   "-task_classify_dataset",
                                   "digits",
                                   "-task_classify_batch",
                                   "40",
                                   "-model_hidden",
                                   "12,7",
                                   "-model_activation",
                                   "tanh",
                                   NULL};

static PetscErrorCode SetOptions(const char *const kv[], const char *act, const char *loss, const char *dropout)
{
  PetscFunctionBeginUser;
  PetscCall(PetscOptionsClear(NULL));
  for (PetscInt i = 0; kv[i]; i += 2) PetscCall(PetscOptionsSetValue(NULL, kv[i], kv[i + 1]));
  PetscCall(PetscOptionsSetValue(NULL, "-model_activation", act));
  PetscCall(PetscOptionsSetValue(NULL, "-model_loss", loss));
  PetscCall(PetscOptionsSetValue(NULL, "-model_dropout", dropout));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CreateTask(MPI_Comm comm, SATask *task, Vec *theta)
{
  PetscFunctionBeginUser;
  PetscCall(SATaskCreate(comm, task));
  PetscCall(SATaskSetFromOptions(*task));
  PetscCall(SATaskSetSeeds(*task, 11, 3));
  PetscCall(SATaskSetUp(*task));
  PetscCall(SATaskCreateParameters(*task, theta));
  PetscCall(SATaskInitialGuess(*task, *theta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* directional derivatives of the loss (gradient) and of the gradient (HVP) along random directions */
static PetscErrorCode CheckDerivatives(const char *act, const char *loss, const char *dropout)
{
  SATask    task;
  Vec       theta, g, gp, gm, v, u, Hv, Hu, t2;
  SABatch   b = SA_BATCH(7);
  SAStream  s;
  PetscReal L, Lp, Lm, h = 1e-5, dd, fd, nrm, err, vHu, uHv;

  PetscFunctionBeginUser;
  PetscCall(SetOptions(Opts, act, loss, dropout));
  PetscCall(CreateTask(PETSC_COMM_WORLD, &task, &theta));
  PetscCall(VecDuplicate(theta, &g));
  PetscCall(VecDuplicate(theta, &gp));
  PetscCall(VecDuplicate(theta, &gm));
  PetscCall(VecDuplicate(theta, &v));
  PetscCall(VecDuplicate(theta, &u));
  PetscCall(VecDuplicate(theta, &Hv));
  PetscCall(VecDuplicate(theta, &Hu));
  PetscCall(VecDuplicate(theta, &t2));
  PetscCall(SAStreamCreate(99, 1, SA_STREAM_TEST, &s));
  PetscCall(SAStreamVecNormal(&s, 0, v));
  PetscCall(SAStreamVecNormal(&s, 1, u));
  PetscCall(VecNormalize(v, NULL));
  PetscCall(VecNormalize(u, NULL));
  PetscCall(SATaskLossGradient(task, theta, &b, &L, g));
  PetscCall(VecDot(g, v, &dd));
  PetscCall(VecWAXPY(t2, h, v, theta));
  PetscCall(SATaskLossGradient(task, t2, &b, &Lp, gp));
  PetscCall(VecWAXPY(t2, -h, v, theta));
  PetscCall(SATaskLossGradient(task, t2, &b, &Lm, gm));
  fd = (Lp - Lm) / (2 * h);
  PetscCall(VecNorm(g, NORM_2, &nrm));
  PetscCheck(PetscAbsReal(fd - dd) <= 1e-6 * nrm, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "%s/%s/dropout %s: <g,v> = %.12e, FD %.12e", act, loss, dropout, (double) dd, (double) fd);
  /* HVP vs (g(theta + h v) - g(theta - h v)) / 2h */
  PetscCall(SATaskHessianMult(task, theta, &b, v, Hv));
  PetscCall(VecAXPY(gp, -1.0, gm));
  PetscCall(VecScale(gp, 1.0 / (2 * h)));
  PetscCall(VecAXPY(gp, -1.0, Hv));
  PetscCall(VecNorm(gp, NORM_2, &err));
  PetscCall(VecNorm(Hv, NORM_2, &nrm));
  PetscCheck(err <= 1e-6 * nrm, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s/%s/dropout %s: |Hv - FD| = %g, |Hv| = %g", act,
             loss, dropout, (double) err, (double) nrm);
  PetscCall(SATaskHessianMult(task, theta, &b, u, Hu));
  PetscCall(VecDot(v, Hu, &vHu));
  PetscCall(VecDot(u, Hv, &uHv));
  PetscCheck(PetscAbsReal(vHu - uHv) <= 1e-10 * PetscMax(PetscAbsReal(vHu), nrm), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "asymmetric Hessian: %g vs %g", (double) vHu, (double) uHv);
  PetscCall(VecDestroy(&theta));
  PetscCall(VecDestroy(&g));
  PetscCall(VecDestroy(&gp));
  PetscCall(VecDestroy(&gm));
  PetscCall(VecDestroy(&v));
  PetscCall(VecDestroy(&u));
  PetscCall(VecDestroy(&Hv));
  PetscCall(VecDestroy(&Hu));
  PetscCall(VecDestroy(&t2));
  PetscCall(SATaskDestroy(&task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckAll(void)
{
  const char *acts[] = {"tanh", "gelu"}, *losses[] = {"xent", "mse"}, *drops[] = {"0", "0.3"};

  PetscFunctionBeginUser;
  for (int a = 0; a < 2; a++)
    for (int l = 0; l < 2; l++)
      for (int d = 0; d < 2; d++) PetscCall(CheckDerivatives(acts[a], losses[l], drops[d]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the distributed task equals a serial copy on every rank: loss, gradient, HVP and evaluation */
static PetscErrorCode CheckLayout(void)
{
  SATask             tw, ts;
  Vec                thw, ths, gw, gs, hw, hs, v, vs;
  SABatch            b = SA_BATCH(123);
  PetscReal          Lw, Ls, ew, es, aw, as, err = 0, nrm = 0;
  const PetscScalar *x;
  PetscScalar       *y;
  PetscInt           rs, re;
  SAStream           s;

  PetscFunctionBeginUser;
  PetscCall(SetOptions(Opts, "gelu", "xent", "0.2"));
  PetscCall(CreateTask(PETSC_COMM_WORLD, &tw, &thw));
  PetscCall(CreateTask(PETSC_COMM_SELF, &ts, &ths));
  PetscCall(VecDuplicate(thw, &gw));
  PetscCall(VecDuplicate(thw, &hw));
  PetscCall(VecDuplicate(thw, &v));
  PetscCall(VecDuplicate(ths, &gs));
  PetscCall(VecDuplicate(ths, &hs));
  PetscCall(VecDuplicate(ths, &vs));
  PetscCall(SAStreamCreate(5, 5, SA_STREAM_TEST, &s));
  PetscCall(SAStreamVecNormal(&s, 0, v));
  PetscCall(SAStreamVecNormal(&s, 0, vs));
  PetscCall(SATaskLossGradient(tw, thw, &b, &Lw, gw));
  PetscCall(SATaskLossGradient(ts, ths, &b, &Ls, gs));
  PetscCall(SATaskHessianMult(tw, thw, &b, v, hw));
  PetscCall(SATaskHessianMult(ts, ths, &b, vs, hs));
  PetscCall(SATaskEvaluate(tw, thw, &ew, &aw));
  PetscCall(SATaskEvaluate(ts, ths, &es, &as));
  PetscCheck(PetscAbsReal(Lw - Ls) <= 1e-12 * PetscAbsReal(Ls) && PetscAbsReal(ew - es) <= 1e-12 * PetscAbsReal(es) &&
               aw == as,
             PETSC_COMM_SELF, PETSC_ERR_PLIB, "loss %g vs %g, test loss %g vs %g, accuracy %g vs %g", (double) Lw,
             (double) Ls, (double) ew, (double) es, (double) aw, (double) as);
  PetscCall(VecGetOwnershipRange(gw, &rs, &re));
  for (int which = 0; which < 2; which++) {
    PetscCall(VecGetArrayRead(which ? hw : gw, &x));
    PetscCall(VecGetArray(which ? hs : gs, &y));
    for (PetscInt i = rs; i < re; i++) {
      err = PetscMax(err, PetscAbsReal(x[i - rs] - y[i]));
      nrm = PetscMax(nrm, PetscAbsReal(y[i]));
    }
    PetscCall(VecRestoreArray(which ? hs : gs, &y));
    PetscCall(VecRestoreArrayRead(which ? hw : gw, &x));
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &err, 1, MPIU_REAL, MPI_MAX, PETSC_COMM_WORLD));
  PetscCheck(err <= 1e-12 * nrm, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "distributed gradient/HVP differ from serial by %g (max %g)", (double) err, (double) nrm);
  PetscCall(VecDestroy(&thw));
  PetscCall(VecDestroy(&ths));
  PetscCall(VecDestroy(&gw));
  PetscCall(VecDestroy(&gs));
  PetscCall(VecDestroy(&hw));
  PetscCall(VecDestroy(&hs));
  PetscCall(VecDestroy(&v));
  PetscCall(VecDestroy(&vs));
  PetscCall(SATaskDestroy(&tw));
  PetscCall(SATaskDestroy(&ts));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  The HVP of a batch with a learning-signal field is the derivative of the gradient of that batch (the same modifier):
  against central differences of SATaskLossGradient along a random unit direction, for signal_flip, signal_noise,
  label smoothing of the batch and the task's own label smoothing (tanh and gelu, xent). The HVP right after the
  gradient at theta (forward state reused) and the HVP after the differences (fresh forward) must agree bitwise. The
  HVP of the clean loss (the same batch without the field) must miss the differences by far (> 1e-3 relative): the
  check can fail.
*/
static PetscErrorCode CheckSignalHessian(const char *act, int kind, PetscReal *errmax, PetscReal *cleanmin)
{
  static const char *const kinds[] = {"signal_flip", "signal_noise", "batch label_smoothing", "task label_smoothing"};
  SATask                   task;
  Vec                      theta, g, gp, gm, v, Hv, Hv2, Hc, t2;
  SABatch                  b = SA_BATCH(7), bc;
  PetscReal                L, h = 1e-5, err, ecl, nrm;
  PetscBool                same;

  PetscFunctionBeginUser;
  PetscCall(SetOptions(Opts, act, "xent", "0"));
  if (kind == 3) PetscCall(PetscOptionsSetValue(NULL, "-task_classify_label_smoothing", "0.1"));
  PetscCall(CreateTask(PETSC_COMM_WORLD, &task, &theta));
  bc     = b; /* the clean batch: the same rows */
  b.pkey = 0x5eed;
  if (kind == 0) b.signal_flip = 0.4;
  if (kind == 1) b.signal_noise = 0.5;
  if (kind == 2) b.label_smoothing = 0.2;
  if (kind == 3) bc.label_smoothing = 0.0; /* the task's own smoothing off */
  PetscCall(VecDuplicate(theta, &g));
  PetscCall(VecDuplicate(theta, &gp));
  PetscCall(VecDuplicate(theta, &gm));
  PetscCall(VecDuplicate(theta, &v));
  PetscCall(VecDuplicate(theta, &Hv));
  PetscCall(VecDuplicate(theta, &Hv2));
  PetscCall(VecDuplicate(theta, &Hc));
  PetscCall(VecDuplicate(theta, &t2));
  PetscCall(SATestRandomVec(17, (PetscInt64) kind, 0, v));
  PetscCall(VecNormalize(v, NULL));
  PetscCall(SATaskLossGradient(task, theta, &b, &L, g));
  PetscCall(SATaskHessianMult(task, theta, &b, v, Hv)); /* reuses the gradient's forward state */
  PetscCall(VecWAXPY(t2, h, v, theta));
  PetscCall(SATaskLossGradient(task, t2, &b, &L, gp));
  PetscCall(VecWAXPY(t2, -h, v, theta));
  PetscCall(SATaskLossGradient(task, t2, &b, &L, gm));
  PetscCall(SATaskHessianMult(task, theta, &b, v, Hv2)); /* a fresh forward */
  PetscCall(VecEqual(Hv, Hv2, &same));
  PetscCheck(same, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s/%s: the HVP after the gradient differs from a fresh one", act,
             kinds[kind]);
  PetscCall(SATaskHessianMult(task, theta, &bc, v, Hc));
  PetscCall(VecAXPY(gp, -1.0, gm));
  PetscCall(VecScale(gp, 1.0 / (2 * h)));
  PetscCall(VecNorm(Hv, NORM_2, &nrm));
  PetscCall(VecAXPY(Hc, -1.0, gp));
  PetscCall(VecNorm(Hc, NORM_2, &ecl));
  PetscCall(VecAXPY(gp, -1.0, Hv));
  PetscCall(VecNorm(gp, NORM_2, &err));
  err /= nrm;
  ecl /= nrm;
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "    %s %-21s: |Hv - FD|/|Hv| = %.1e, clean HVP %.1e\n", act, kinds[kind],
                        (double) err, (double) ecl));
  PetscCheck(err <= 1e-6, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s/%s: |Hv - FD| / |Hv| = %g", act, kinds[kind],
             (double) err);
  PetscCheck(ecl > 1e-3, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s/%s: the clean HVP matches the differences (%g)", act,
             kinds[kind], (double) ecl);
  *errmax   = PetscMax(*errmax, err);
  *cleanmin = PetscMin(*cleanmin, ecl);
  PetscCall(VecDestroy(&theta));
  PetscCall(VecDestroy(&g));
  PetscCall(VecDestroy(&gp));
  PetscCall(VecDestroy(&gm));
  PetscCall(VecDestroy(&v));
  PetscCall(VecDestroy(&Hv));
  PetscCall(VecDestroy(&Hv2));
  PetscCall(VecDestroy(&Hc));
  PetscCall(VecDestroy(&t2));
  PetscCall(SATaskDestroy(&task));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckSignalAll(void)
{
  const char *acts[] = {"tanh", "gelu"};
  PetscReal   emax = 0, cmin = PETSC_MAX_REAL;

  PetscFunctionBeginUser;
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "\n  HVP of the learning-signal loss vs central FD of the gradient:\n"));
  for (int a = 0; a < 2; a++)
    for (int k = 0; k < 4; k++) PetscCall(CheckSignalHessian(acts[a], k, &emax, &cmin));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  max rel err %.2e (tol 1e-6); clean HVP: min rel err %.2e (> 1e-3)\n",
                        (double) emax, (double) cmin));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  The generic sweep setters: on a classify task SATaskSetBatchSize switches minibatches (the capability) and
  SATaskSetDropout is taken; a quadratic task has neither and answers PETSC_ERR_SUP; out-of-range values are refused.
*/
static PetscErrorCode CheckSetters(void)
{
  SATask         task;
  PetscInt       caps;
  PetscErrorCode e[4];

  PetscFunctionBeginUser;
  PetscCall(SetOptions(Opts, "tanh", "xent", "0"));
  PetscCall(SATaskCreate(PETSC_COMM_WORLD, &task));
  PetscCall(SATaskSetFromOptions(task));
  PetscCall(SATaskSetBatchSize(task, 0));
  PetscCall(SATaskGetCapabilities(task, &caps));
  PetscCheck(!(caps & SA_TASK_CAP_MINIBATCH), PETSC_COMM_SELF, PETSC_ERR_PLIB, "batch 0 still has minibatches");
  PetscCall(SATaskClassifySetBatchSize(task, 16));
  PetscCall(SATaskGetCapabilities(task, &caps));
  PetscCheck(caps & SA_TASK_CAP_MINIBATCH, PETSC_COMM_SELF, PETSC_ERR_PLIB, "batch 16 has no minibatches");
  PetscCall(SATaskSetDropout(task, 0.25));
  PetscCall(SATaskClassifySetDropout(task, 0.0));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  e[0] = SATaskSetDropout(task, 1.0);
  e[1] = SATaskSetBatchSize(task, 2); /* fewer samples than the 4 micro-batches */
  PetscCall(PetscPopErrorHandler());
  PetscCall(SATaskDestroy(&task));
  PetscCall(SATaskCreate(PETSC_COMM_WORLD, &task));
  PetscCall(SATaskSetType(task, SATASKQUADRATIC));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  e[2] = SATaskSetDropout(task, 0.1);
  e[3] = SATaskSetBatchSize(task, 8);
  PetscCall(PetscPopErrorHandler());
  PetscCall(SATaskDestroy(&task));
  PetscCheck(e[0] == PETSC_ERR_ARG_OUTOFRANGE && e[1] == PETSC_ERR_ARG_OUTOFRANGE && e[2] == PETSC_ERR_SUP &&
               e[3] == PETSC_ERR_SUP,
             PETSC_COMM_SELF, PETSC_ERR_PLIB, "setter errors %d %d %d %d", (int) e[0], (int) e[1], (int) e[2],
             (int) e[3]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the loss of the step-5 batch at the task's theta_0 (the task set up again after a setter) */
static PetscErrorCode BatchLoss(SATask task, PetscReal *loss)
{
  Vec     theta, g;
  SABatch b = SA_BATCH(5);

  PetscFunctionBeginUser;
  PetscCall(SATaskSetUp(task));
  PetscCall(SATaskCreateParameters(task, &theta));
  PetscCall(SATaskInitialGuess(task, theta));
  PetscCall(VecDuplicate(theta, &g));
  PetscCall(SATaskLossGradient(task, theta, &b, loss, g));
  PetscCall(VecDestroy(&g));
  PetscCall(VecDestroy(&theta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  SATask as a PetscObject: an options prefix in front of the deck section (the task and its model), -task_view
  looked up in SATaskSetFromOptions (so the deck's unknown-key check accepts it) and run by SATaskSetUp, reference
  counting (also through the solver, which takes over a reference), and the type-specific functions composed on the
  object: the SATaskClassify* setters act on a classify task and do nothing on another type (PetscTryMethod), the
  type-specific getters refuse another type (PETSC_ERR_SUP, PetscUseMethod), and the generic SATaskSetDropout keeps
  its message on a quadratic task (the campaign turns it into a deck error).
*/
static PetscErrorCode CheckObject(void)
{
  static const char *const kv[] = {"-task_type",
                                   "quadratic",
                                   "-task_quadratic_dim",
                                   "7",
                                   "-task_classify_batch",
                                   "40",
                                   "-model_hidden",
                                   "12,7",
                                   "-actor_task_type",
                                   "classify",
                                   "-actor_task_classify_dataset",
                                   "digits",
                                   "-actor_task_classify_batch",
                                   "24",
                                   "-actor_model_hidden",
                                   "5",
                                   "-actor_model_activation",
                                   "tanh",
                                   "-actor_task_view",
                                   NULL,
                                   NULL};
  SATask                   task, actor, ref;
  SASolver                 s;
  SATaskType               type;
  const char              *prefix;
  Vec                      theta;
  PetscInt                 P, B, cnt;
  PetscBool                used, match;
  PetscReal                l0, l1, l2, lmin, lmax;
  PetscErrorCode           e[3];
  SABatch                  b = SA_BATCH(3);

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsClear(NULL));
  PetscCall(SATestSetOptions(kv));
  /* no prefix: the keys as before (a quadratic of dimension 7), the actor_ keys untouched */
  PetscCall(SATaskCreate(PETSC_COMM_WORLD, &task));
  PetscCall(SATaskSetFromOptions(task));
  PetscCall(SATaskGetOptionsPrefix(task, &prefix));
  PetscCheck(!prefix, PETSC_COMM_SELF, PETSC_ERR_PLIB, "a new task has the prefix %s", prefix);
  PetscCall(SATaskGetType(task, &type));
  PetscCall(PetscStrcmp(type, SATASKQUADRATIC, &match));
  PetscCheck(match, PETSC_COMM_SELF, PETSC_ERR_PLIB, "unprefixed task is %s, not quadratic", type);
  PetscCall(SATaskSetSeeds(task, 11, 3));
  PetscCall(SATaskCreateParameters(task, &theta));
  PetscCall(VecGetSize(theta, &P));
  PetscCall(VecDestroy(&theta));
  PetscCheck(P == 7, PETSC_COMM_SELF, PETSC_ERR_PLIB, "unprefixed task has %" PetscInt_FMT " parameters, not 7", P);
  PetscCall(PetscOptionsUsed(NULL, "actor_task_view", &used));
  PetscCheck(!used, PETSC_COMM_SELF, PETSC_ERR_PLIB, "the unprefixed task looked up -actor_task_view");
  PetscCall(SATaskQuadraticGetEigenvalueRange(task, &lmin, &lmax));
  PetscCall(SATaskClassifySetDropout(task, 0.5)); /* PetscTryMethod: nothing on another type */
  PetscCall(SATaskClassifySetBatchSize(task, 8));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  e[0] = SATaskSetDropout(task, 0.1);
  e[1] = SATaskClassifyGetBatchRows(task, &b, &B, NULL, NULL, NULL, NULL);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(e[0] == PETSC_ERR_SUP && e[1] == PETSC_ERR_SUP, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "quadratic: SATaskSetDropout gave %d, SATaskClassifyGetBatchRows %d (not PETSC_ERR_SUP)", (int) e[0],
             (int) e[1]);
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  e[0] = SATaskSetDropout(task, 0.1);
  PetscCall(PetscPopErrorHandler());
  {
    const char *text, *specific = NULL;

    PetscCall(PetscErrorMessage(e[0], &text, (char **) &specific));
    PetscCall(PetscStrcmp(specific, "Task type quadratic has no dropout", &match));
    PetscCheck(match, PETSC_COMM_SELF, PETSC_ERR_PLIB, "quadratic dropout message: %s", specific ? specific : "(null)");
  }

  /* "actor_": <prefix>task_* for the task, <prefix>model_* for its model */
  PetscCall(SATaskCreate(PETSC_COMM_WORLD, &actor));
  PetscCall(SATaskSetOptionsPrefix(actor, "act"));
  PetscCall(SATaskAppendOptionsPrefix(actor, "or_"));
  PetscCall(SATaskGetOptionsPrefix(actor, &prefix));
  PetscCall(PetscStrcmp(prefix, "actor_", &match));
  PetscCheck(match, PETSC_COMM_SELF, PETSC_ERR_PLIB, "prefix %s, not actor_", prefix);
  PetscCall(SATaskSetFromOptions(actor));
  PetscCall(SATaskGetType(actor, &type));
  PetscCall(PetscStrcmp(type, SATASKCLASSIFY, &match));
  PetscCheck(match, PETSC_COMM_SELF, PETSC_ERR_PLIB, "actor task is %s, not classify", type);
  PetscCall(SATaskSetSeeds(actor, 11, 3));
  PetscCall(SATaskSetUp(actor)); /* views it (-actor_task_view) */
  PetscCall(PetscOptionsUsed(NULL, "actor_task_view", &used));
  PetscCheck(used, PETSC_COMM_SELF, PETSC_ERR_PLIB, "-actor_task_view was not used by SATaskSetUp");
  PetscCall(SATaskCreateParameters(actor, &theta));
  PetscCall(VecGetSize(theta, &P));
  PetscCall(VecDestroy(&theta));
  /* digits: 64 features, 10 classes; hidden 5 (actor_model_hidden), not 12,7 (model_hidden: 951 parameters) */
  PetscCheck(P == 64 * 5 + 5 + 5 * 10 + 10, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "actor task has %" PetscInt_FMT " parameters, not those of hidden 5", P);
  PetscCall(SATaskClassifyGetBatchRows(actor, &b, &B, NULL, NULL, NULL, NULL));
  PetscCheck(B == 24, PETSC_COMM_SELF, PETSC_ERR_PLIB, "actor batch %" PetscInt_FMT ", not 24", B);
  PetscCall(SATaskView(actor, PETSC_VIEWER_STDOUT_WORLD));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  e[2] = SATaskQuadraticGetEigenvalueRange(actor, &lmin, &lmax);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(e[2] == PETSC_ERR_SUP, PETSC_COMM_SELF, PETSC_ERR_PLIB, "classify eigenvalue range gave %d", (int) e[2]);

  /* the composed classify setters act: batch size and dropout change the batch and its loss, and back */
  PetscCall(SATaskClassifySetBatchSize(actor, 16));
  PetscCall(SATaskClassifyGetBatchRows(actor, &b, &B, NULL, NULL, NULL, NULL));
  PetscCheck(B == 16, PETSC_COMM_SELF, PETSC_ERR_PLIB, "SATaskClassifySetBatchSize: batch %" PetscInt_FMT, B);
  PetscCall(BatchLoss(actor, &l0));
  PetscCall(SATaskClassifySetDropout(actor, 0.5));
  PetscCall(BatchLoss(actor, &l1));
  PetscCall(SATaskClassifySetDropout(actor, 0.0));
  PetscCall(BatchLoss(actor, &l2));
  PetscCheck(l1 != l0 && l2 == l0, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "SATaskClassifySetDropout: losses %.17g (p 0), %.17g (p 0.5), %.17g (p 0 again)", (double) l0, (double) l1,
             (double) l2);

  /* reference counting: a second reference outlives the first, and the solver's */
  ref = actor;
  PetscCall(PetscObjectReference((PetscObject) ref));
  PetscCall(SATaskDestroy(&actor));
  PetscCheck(!actor, PETSC_COMM_SELF, PETSC_ERR_PLIB, "SATaskDestroy did not clear the handle");
  PetscCall(PetscObjectGetReference((PetscObject) ref, &cnt));
  PetscCheck(cnt == 1, PETSC_COMM_SELF, PETSC_ERR_PLIB, "reference count %" PetscInt_FMT ", not 1", cnt);
  PetscCall(BatchLoss(ref, &l1));
  PetscCheck(l1 == l0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "the referenced task changed");
  PetscCall(SASolverCreate(PETSC_COMM_WORLD, &s));
  PetscCall(PetscObjectReference((PetscObject) ref));
  PetscCall(SASolverSetTask(s, ref)); /* takes over the new reference */
  PetscCall(SASolverSetTask(s, ref)); /* the same task again: nothing changes */
  PetscCall(SASolverDestroy(&s));
  PetscCall(PetscObjectGetReference((PetscObject) ref, &cnt));
  PetscCheck(cnt == 1, PETSC_COMM_SELF, PETSC_ERR_PLIB, "after the solver: reference count %" PetscInt_FMT, cnt);
  PetscCall(SATaskDestroy(&ref));
  PetscCall(SATaskDestroy(&ref)); /* NULL is fine */
  PetscCall(SATaskDestroy(&task));
  PetscCall(PetscOptionsClear(NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void test_derivatives(void) { CU_ASSERT_EQUAL(CheckAll(), PETSC_SUCCESS); }
static void test_setters(void) { CU_ASSERT_EQUAL(CheckSetters(), PETSC_SUCCESS); }
static void test_object(void) { CU_ASSERT_EQUAL(CheckObject(), PETSC_SUCCESS); }
static void test_signal(void) { CU_ASSERT_EQUAL(CheckSignalAll(), PETSC_SUCCESS); }
static void test_layout(void) { CU_ASSERT_EQUAL(CheckLayout(), PETSC_SUCCESS); }

int main(int argc, char **argv)
{
  int       nfail_all;
  CU_pSuite s;

  PetscCall(SlepcInitialize(&argc, &argv, NULL, NULL));
  PetscCall(SAInitialize());
  if (CU_initialize_registry() != CUE_SUCCESS) return EXIT_FAILURE;
  s = CU_add_suite("classify", NULL, NULL);
  CU_add_test(s, "gradient and R-op HVP vs finite differences, symmetry (tanh/gelu, xent/mse, dropout)",
              test_derivatives);
  CU_add_test(s, "sharded task equals a serial copy (loss, gradient, HVP, evaluation)", test_layout);
  CU_add_test(s, "HVP with learning-signal fields vs finite differences of the gradient", test_signal);
  CU_add_test(s, "generic dropout and batch-size setters (classify; quadratic has neither)", test_setters);
  CU_add_test(s, "PetscObject: options prefix (task and model), -task_view, references, composed functions",
              test_object);
  PetscCall(SATestRunSuite(PETSC_COMM_WORLD, &nfail_all));
  PetscCall(PetscOptionsClear(NULL));
  PetscCall(SAFinalize());
  PetscCall(SlepcFinalize());
  return nfail_all ? EXIT_FAILURE : EXIT_SUCCESS;
}
