/*
  adam.c - SAOPTIMIZERADAM and SAOPTIMIZERADAMW, adaptive moment estimation.

  Method card (Kingma & Ba 2015; Loshchilov & Hutter 2019 for the decoupled decay; PyTorch convention):
    t     <- step + 1                              (the step index of SAHyper: no counter in the state)
    g'    <- g + wd theta                          (adam: L2 weight decay; adamw: g' = g)
    m     <- beta1 m + (1 - beta1) g'
    v     <- beta2 v + (1 - beta2) g'^2
    m_hat <- m / (1 - beta1^t),  v_hat <- v / (1 - beta2^t)       (1 - beta^t = -expm1(t log1p(beta - 1)))
    theta <- theta - lr wd theta                   (adamw only: decoupled decay)
    theta <- theta - lr m_hat / (sqrt(v_hat) + eps)
  State: m and v, sharded like theta ("adam_m", "adam_v" in checkpoints). Near a minimum with
  v_hat ~ g^2 the step is ~ lr sign(g): the effective step size is lr / (sqrt(v_hat) + eps) per entry,
  so small eps and small gradients give large effective rates.
  Capabilities: state, beta1, eps, diagonal preconditioner D = sqrt(lr / (sqrt(v_hat) + eps)) (v_hat of the step
  formed from the given gradient). Stability threshold (2 + 2 beta1) / (1 - beta1) on the preconditioned sharpness
  lambda_max(D H D); sharpness ratio sharp (1 - beta1) / (2 + 2 beta1).
  The corrections are evaluated as -expm1(t log1p(beta - 1)) rather than 1 - pow(beta, t): the latter cancels
  for beta near 1 (1 - 0.999^2 loses 2.8e-14 relative, 1.4e-14 in the step), the former is a few ulps.
*/
#include <math.h>
#include <stabaudit/private/saoptimizerimpl.h>
#include <stabaudit/sadeck.h>

typedef struct {
  PetscBool decoupled; /* adamw: weight decay outside the moments */
} SAOptimizer_Adam;

/* one Adam step of n entries: theta, m, v, g are (n); bc1, bc2 are the bias corrections 1 - beta^t */
static int adam_update(PetscScalar *theta, PetscScalar *m, PetscScalar *v, const PetscScalar *g, PetscReal lr,
                       PetscReal beta1, PetscReal beta2, PetscReal eps, PetscReal wd, PetscBool decoupled,
                       PetscReal bc1, PetscReal bc2, PetscInt n)
{
  for (PetscInt i = 0; i < n; i++) {
    PetscReal th = PetscRealPart(theta[i]), gi = PetscRealPart(g[i]), mi, vi;

    if (!decoupled) gi += wd * th;
    mi = beta1 * PetscRealPart(m[i]) + (1.0 - beta1) * gi;
    vi = beta2 * PetscRealPart(v[i]) + (1.0 - beta2) * gi * gi;
    if (decoupled) th -= lr * wd * th;
    th -= lr * (mi / bc1) / (PetscSqrtReal(vi / bc2) + eps);
    m[i]     = mi;
    v[i]     = vi;
    theta[i] = th;
  }
  return 0;
}

static PetscErrorCode SAOptimizerSetFromOptions_Adam(SAOptimizer opt)
{
  char sec[128], key[192];

  PetscFunctionBeginUser;
  PetscCall(SAOptimizerDeckSection_Private(opt, "optimizer_adam_", sec, sizeof(sec)));
  PetscCall(SADeckGetReal(sec, "beta1", opt->beta1, 0.0, 1.0 - PETSC_MACHINE_EPSILON, &opt->beta1, NULL));
  PetscCall(SADeckGetReal(sec, "beta2", opt->beta2, 0.0, 1.0 - PETSC_MACHINE_EPSILON, &opt->beta2, NULL));
  PetscCall(SADeckGetReal(sec, "eps", opt->eps, 0.0, PETSC_MAX_REAL, &opt->eps, NULL));
  PetscCall(PetscSNPrintf(key, sizeof(key), "%seps", sec));
  if (!(opt->eps > 0)) PetscCall(SADeckFail(key, "must be > 0, got %g", (double) opt->eps));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* SAOptimizerAdamSetBetas() for adam and adamw (composed as "SAOptimizerAdamSetBetas_C") */
static PetscErrorCode SAOptimizerAdamSetBetas_Adam(SAOptimizer opt, PetscReal beta1, PetscReal beta2)
{
  PetscFunctionBeginUser;
  PetscCheck(beta1 >= 0 && beta1 < 1, PetscObjectComm((PetscObject) opt), PETSC_ERR_ARG_OUTOFRANGE,
             "beta1 must be in [0, 1), got %g", (double) beta1);
  PetscCheck(beta2 >= 0 && beta2 < 1, PetscObjectComm((PetscObject) opt), PETSC_ERR_ARG_OUTOFRANGE,
             "beta2 must be in [0, 1), got %g", (double) beta2);
  opt->beta1 = beta1;
  opt->beta2 = beta2;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAOptimizerSetUp_Adam(SAOptimizer opt, Vec theta)
{
  PetscFunctionBeginUser;
  PetscCall(VecDuplicate(theta, &opt->state[0]));
  PetscCall(VecDuplicate(theta, &opt->state[1]));
  PetscCall(VecSet(opt->state[0], 0.0));
  PetscCall(VecSet(opt->state[1], 0.0));
  opt->statenames[0] = "adam_m";
  opt->statenames[1] = "adam_v";
  opt->nstate        = 2;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAOptimizerUpdate_Adam(SAOptimizer opt, const SAHyper *h, Vec theta, Vec grad)
{
  SAOptimizer_Adam  *a = (SAOptimizer_Adam *) opt->data;
  PetscScalar       *th, *m, *v;
  const PetscScalar *g;
  PetscInt           n;
  PetscReal          t, bc1, bc2;

  PetscFunctionBeginUser;
  PetscCheck(h->step >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Step must be >= 0, got %" PetscInt_FMT, h->step);
  t   = (PetscReal) (h->step + 1);
  bc1 = (PetscReal) -expm1((double) t * log1p((double) h->beta1 - 1.0));
  bc2 = (PetscReal) -expm1((double) t * log1p((double) h->beta2 - 1.0));
  PetscCall(VecGetLocalSize(theta, &n));
  PetscCall(VecGetArray(theta, &th));
  PetscCall(VecGetArray(opt->state[0], &m));
  PetscCall(VecGetArray(opt->state[1], &v));
  PetscCall(VecGetArrayRead(grad, &g));
  adam_update(th, m, v, g, h->lr, h->beta1, h->beta2, h->eps, h->weight_decay, a->decoupled, bc1, bc2, n);
  PetscCall(VecRestoreArrayRead(grad, &g));
  PetscCall(VecRestoreArray(opt->state[1], &v));
  PetscCall(VecRestoreArray(opt->state[0], &m));
  PetscCall(VecRestoreArray(theta, &th));
  PetscCall(PetscLogFlops(16.0 * n));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the partial derivatives of one entry of the Adam step at (theta, m, v, g): with g' = g + wd theta (adam),
   m' = b1 m + (1 - b1) g', v' = b2 v + (1 - b2) g'^2, D = sqrt(v' / bc2) + eps,
   theta' = c theta - lr m' / (bc1 D) (c = 1 - lr wd for adamw, 1 for adam):
     dtheta'/dm' = A = -lr / (bc1 D),  dtheta'/dv' = B = lr m' / (2 bc1 bc2 D^2 sqrt(v' / bc2))  (0 where v' = 0),
     dv'/dg' = 2 (1 - b2) g'. Returns g', A, B, c, and dg'/dtheta (wd for adam, 0 for adamw). */
static inline void adam_partials(PetscReal th, PetscReal m, PetscReal v, PetscReal g, PetscReal lr, PetscReal beta1,
                                 PetscReal beta2, PetscReal eps, PetscReal wd, PetscBool decoupled, PetscReal bc1,
                                 PetscReal bc2, PetscReal *gp, PetscReal *A, PetscReal *B, PetscReal *c,
                                 PetscReal *dgdth)
{
  PetscReal g1 = decoupled ? g : g + wd * th, m1 = beta1 * m + (1.0 - beta1) * g1;
  PetscReal v1 = beta2 * v + (1.0 - beta2) * g1 * g1, sq = PetscSqrtReal(v1 / bc2), D = sq + eps;

  *gp    = g1;
  *A     = -lr / (bc1 * D);
  *B     = sq > 0 ? lr * m1 / (2.0 * bc1 * bc2 * D * D * sq) : 0.0;
  *c     = decoupled ? 1.0 - lr * wd : 1.0;
  *dgdth = decoupled ? 0.0 : wd;
}

static PetscErrorCode SAOptimizerAdamCorrections(const SAHyper *h, PetscReal *bc1, PetscReal *bc2)
{
  PetscReal t;

  PetscFunctionBeginUser;
  PetscCheck(h->step >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Step must be >= 0, got %" PetscInt_FMT, h->step);
  t    = (PetscReal) (h->step + 1);
  *bc1 = (PetscReal) -expm1((double) t * log1p((double) h->beta1 - 1.0));
  *bc2 = (PetscReal) -expm1((double) t * log1p((double) h->beta2 - 1.0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* JVP: dg' = dg + wd dtheta, dm' = b1 dm + (1 - b1) dg', dv' = b2 dv + 2 (1 - b2) g' dg',
   dtheta' = c dtheta + A dm' + B dv' */
static PetscErrorCode SAOptimizerJVP_Adam(SAOptimizer opt, const SAHyper *h, Vec theta, Vec state[], Vec grad,
                                          Vec dtheta, Vec dstate[], Vec dgrad, Vec dtheta_out, Vec dstate_out[])
{
  SAOptimizer_Adam  *a = (SAOptimizer_Adam *) opt->data;
  const PetscScalar *th, *m, *v, *g, *dth, *dm, *dv, *dg;
  PetscScalar       *oth, *om, *ov;
  PetscInt           n;
  PetscReal          bc1, bc2;

  PetscFunctionBeginUser;
  PetscCall(SAOptimizerAdamCorrections(h, &bc1, &bc2));
  PetscCall(VecGetLocalSize(theta, &n));
  PetscCall(VecGetArrayRead(theta, &th));
  PetscCall(VecGetArrayRead(state[0], &m));
  PetscCall(VecGetArrayRead(state[1], &v));
  PetscCall(VecGetArrayRead(grad, &g));
  PetscCall(VecGetArrayRead(dtheta, &dth));
  PetscCall(VecGetArrayRead(dstate[0], &dm));
  PetscCall(VecGetArrayRead(dstate[1], &dv));
  PetscCall(VecGetArrayRead(dgrad, &dg));
  PetscCall(VecGetArray(dtheta_out, &oth));
  PetscCall(VecGetArray(dstate_out[0], &om));
  PetscCall(VecGetArray(dstate_out[1], &ov));
  for (PetscInt i = 0; i < n; i++) {
    PetscReal gp, A, B, c, dgdth, dgp, dm1, dv1;

    adam_partials(PetscRealPart(th[i]), PetscRealPart(m[i]), PetscRealPart(v[i]), PetscRealPart(g[i]), h->lr, h->beta1,
                  h->beta2, h->eps, h->weight_decay, a->decoupled, bc1, bc2, &gp, &A, &B, &c, &dgdth);
    dgp    = PetscRealPart(dg[i]) + dgdth * PetscRealPart(dth[i]);
    dm1    = h->beta1 * PetscRealPart(dm[i]) + (1.0 - h->beta1) * dgp;
    dv1    = h->beta2 * PetscRealPart(dv[i]) + 2.0 * (1.0 - h->beta2) * gp * dgp;
    om[i]  = dm1;
    ov[i]  = dv1;
    oth[i] = c * PetscRealPart(dth[i]) + A * dm1 + B * dv1;
  }
  PetscCall(VecRestoreArray(dstate_out[1], &ov));
  PetscCall(VecRestoreArray(dstate_out[0], &om));
  PetscCall(VecRestoreArray(dtheta_out, &oth));
  PetscCall(VecRestoreArrayRead(dgrad, &dg));
  PetscCall(VecRestoreArrayRead(dstate[1], &dv));
  PetscCall(VecRestoreArrayRead(dstate[0], &dm));
  PetscCall(VecRestoreArrayRead(dtheta, &dth));
  PetscCall(VecRestoreArrayRead(grad, &g));
  PetscCall(VecRestoreArrayRead(state[1], &v));
  PetscCall(VecRestoreArrayRead(state[0], &m));
  PetscCall(VecRestoreArrayRead(theta, &th));
  PetscCall(PetscLogFlops(30.0 * n));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* VJP (the transpose of the JVP above): rm = wm' + A wtheta', rv = wv' + B wtheta', wm = b1 rm, wv = b2 rv,
   wg' = (1 - b1) rm + 2 (1 - b2) g' rv, wg = wg', wtheta = c wtheta' + wd wg' (adam) */
static PetscErrorCode SAOptimizerVJP_Adam(SAOptimizer opt, const SAHyper *h, Vec theta, Vec state[], Vec grad,
                                          Vec wtheta, Vec wstate[], Vec wtheta_out, Vec wstate_out[], Vec wgrad_out)
{
  SAOptimizer_Adam  *a = (SAOptimizer_Adam *) opt->data;
  const PetscScalar *th, *m, *v, *g, *wth, *wm, *wv;
  PetscScalar       *oth, *om, *ov, *og;
  PetscInt           n;
  PetscReal          bc1, bc2;

  PetscFunctionBeginUser;
  PetscCall(SAOptimizerAdamCorrections(h, &bc1, &bc2));
  PetscCall(VecGetLocalSize(theta, &n));
  PetscCall(VecGetArrayRead(theta, &th));
  PetscCall(VecGetArrayRead(state[0], &m));
  PetscCall(VecGetArrayRead(state[1], &v));
  PetscCall(VecGetArrayRead(grad, &g));
  PetscCall(VecGetArrayRead(wtheta, &wth));
  PetscCall(VecGetArrayRead(wstate[0], &wm));
  PetscCall(VecGetArrayRead(wstate[1], &wv));
  PetscCall(VecGetArray(wtheta_out, &oth));
  PetscCall(VecGetArray(wstate_out[0], &om));
  PetscCall(VecGetArray(wstate_out[1], &ov));
  PetscCall(VecGetArray(wgrad_out, &og));
  for (PetscInt i = 0; i < n; i++) {
    PetscReal gp, A, B, c, dgdth, rm, rv, wgp;

    adam_partials(PetscRealPart(th[i]), PetscRealPart(m[i]), PetscRealPart(v[i]), PetscRealPart(g[i]), h->lr, h->beta1,
                  h->beta2, h->eps, h->weight_decay, a->decoupled, bc1, bc2, &gp, &A, &B, &c, &dgdth);
    rm     = PetscRealPart(wm[i]) + A * PetscRealPart(wth[i]);
    rv     = PetscRealPart(wv[i]) + B * PetscRealPart(wth[i]);
    wgp    = (1.0 - h->beta1) * rm + 2.0 * (1.0 - h->beta2) * gp * rv;
    om[i]  = h->beta1 * rm;
    ov[i]  = h->beta2 * rv;
    og[i]  = wgp;
    oth[i] = c * PetscRealPart(wth[i]) + dgdth * wgp;
  }
  PetscCall(VecRestoreArray(wgrad_out, &og));
  PetscCall(VecRestoreArray(wstate_out[1], &ov));
  PetscCall(VecRestoreArray(wstate_out[0], &om));
  PetscCall(VecRestoreArray(wtheta_out, &oth));
  PetscCall(VecRestoreArrayRead(wstate[1], &wv));
  PetscCall(VecRestoreArrayRead(wstate[0], &wm));
  PetscCall(VecRestoreArrayRead(wtheta, &wth));
  PetscCall(VecRestoreArrayRead(grad, &g));
  PetscCall(VecRestoreArrayRead(state[1], &v));
  PetscCall(VecRestoreArrayRead(state[0], &m));
  PetscCall(VecRestoreArrayRead(theta, &th));
  PetscCall(PetscLogFlops(30.0 * n));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* D = sqrt(lr / (sqrt(v_hat') + eps)) with v' the second moment the step would form from grad (state unchanged) */
static PetscErrorCode SAOptimizerDiagPrecond_Adam(SAOptimizer opt, const SAHyper *h, Vec theta, Vec grad, Vec d)
{
  SAOptimizer_Adam  *a = (SAOptimizer_Adam *) opt->data;
  PetscScalar       *dd;
  const PetscScalar *g, *v, *th;
  PetscInt           n;
  PetscReal          bc1, bc2;

  PetscFunctionBeginUser;
  PetscCall(SAOptimizerAdamCorrections(h, &bc1, &bc2));
  PetscCall(VecGetLocalSize(theta, &n));
  PetscCall(VecGetArray(d, &dd));
  PetscCall(VecGetArrayRead(grad, &g));
  PetscCall(VecGetArrayRead(opt->state[1], &v));
  PetscCall(VecGetArrayRead(theta, &th));
  for (PetscInt i = 0; i < n; i++) {
    PetscReal gp = PetscRealPart(g[i]) + (a->decoupled ? 0.0 : h->weight_decay * PetscRealPart(th[i]));
    PetscReal v1 = h->beta2 * PetscRealPart(v[i]) + (1.0 - h->beta2) * gp * gp;

    dd[i] = PetscSqrtReal(h->lr / (PetscSqrtReal(v1 / bc2) + h->eps));
  }
  PetscCall(VecRestoreArrayRead(theta, &th));
  PetscCall(VecRestoreArrayRead(opt->state[1], &v));
  PetscCall(VecRestoreArrayRead(grad, &g));
  PetscCall(VecRestoreArray(d, &dd));
  PetscCall(PetscLogFlops(10.0 * n));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the heavy-ball threshold of the first-moment average, beta1 in the role of mu and (1 - beta1) lr as the step,
   applied to the preconditioned sharpness lambda_max(D H D) (lr inside D) */
static PetscErrorCode SAOptimizerThreshold_Adam(SAOptimizer opt, const SAHyper *h, PetscReal *thr)
{
  PetscFunctionBeginUser;
  *thr = (2.0 + 2.0 * h->beta1) / (1.0 - h->beta1);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAOptimizerSharpnessRatio_Adam(SAOptimizer opt, const SAHyper *h, PetscReal sharp,
                                                     PetscReal *ratio)
{
  PetscFunctionBeginUser;
  *ratio = sharp * (1.0 - h->beta1) / (2.0 + 2.0 * h->beta1);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAOptimizerView_Adam(SAOptimizer opt, PetscViewer viewer)
{
  SAOptimizer_Adam *a = (SAOptimizer_Adam *) opt->data;

  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, "beta1 %g, beta2 %g, eps %g, %s weight decay\n", (double) opt->beta1,
                                   (double) opt->beta2, (double) opt->eps, a->decoupled ? "decoupled" : "L2"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAOptimizerDestroy_Adam(SAOptimizer opt)
{
  PetscFunctionBeginUser;
  PetscCall(PetscObjectComposeFunction((PetscObject) opt, "SAOptimizerAdamSetBetas_C", NULL));
  PetscCall(PetscFree(opt->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAOptimizerCreate_Adam(SAOptimizer opt)
{
  SAOptimizer_Adam *a;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&a));
  opt->data                = a;
  opt->momentum            = 0.0;
  opt->ops->setfromoptions = SAOptimizerSetFromOptions_Adam;
  opt->ops->setup          = SAOptimizerSetUp_Adam;
  opt->ops->update         = SAOptimizerUpdate_Adam;
  opt->ops->jvp            = SAOptimizerJVP_Adam;
  opt->ops->vjp            = SAOptimizerVJP_Adam;
  opt->ops->view           = SAOptimizerView_Adam;
  opt->ops->destroy        = SAOptimizerDestroy_Adam;
  opt->ops->threshold      = SAOptimizerThreshold_Adam;
  opt->ops->sharpnessratio = SAOptimizerSharpnessRatio_Adam;
  opt->ops->diagprecond    = SAOptimizerDiagPrecond_Adam;
  opt->caps                = SA_OPT_CAP_STATE | SA_OPT_CAP_BETA1 | SA_OPT_CAP_EPS | SA_OPT_CAP_DIAG_PRECOND;
  PetscCall(PetscObjectComposeFunction((PetscObject) opt, "SAOptimizerAdamSetBetas_C", SAOptimizerAdamSetBetas_Adam));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAOptimizerCreate_AdamW(SAOptimizer opt)
{
  PetscFunctionBeginUser;
  PetscCall(SAOptimizerCreate_Adam(opt));
  ((SAOptimizer_Adam *) opt->data)->decoupled = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}
