/*
  momentum.c - SAOPTIMIZERMOMENTUM, heavy-ball and Nesterov momentum.

  Method card (Polyak 1964; Sutskever et al. 2013, PyTorch convention):
    g'    <- g + wd theta                 (L2 weight decay, wd = 0 by default)
    v     <- mu v + g'
    theta <- theta - lr v                 (heavy ball)
    theta <- theta - lr (g' + mu v)       (Nesterov, -optimizer_momentum_nesterov)
  State: the velocity v, sharded like theta. For a quadratic with curvature lambda, heavy ball is
  stable iff 0 <= mu < 1 and lr (lambda + wd) < 2 (1 + mu), Nesterov iff lr (lambda + wd) < 2 (1 + mu) / (1 + 2 mu).
  Capabilities: state, momentum. Stability threshold (2 + 2 mu) / lr (Nesterov: divided by 1 + 2 mu); sharpness
  ratio sharp lr / (2 (1 + mu)) for both variants.
*/
#include <stabaudit/private/saoptimizerimpl.h>
#include <stabaudit/sadeck.h>

typedef struct {
  PetscBool nesterov; /* Nesterov's variant */
} SAOptimizer_Momentum;

static PetscErrorCode SAOptimizerSetFromOptions_Momentum(SAOptimizer opt)
{
  SAOptimizer_Momentum *m = (SAOptimizer_Momentum *) opt->data;
  char                  sec[128];

  PetscFunctionBeginUser;
  PetscCall(SAOptimizerDeckSection_Private(opt, "optimizer_", sec, sizeof(sec)));
  PetscCall(SADeckGetReal(sec, "momentum", opt->momentum, 0.0, 1.0 - PETSC_MACHINE_EPSILON, &opt->momentum, NULL));
  PetscCall(SAOptimizerDeckSection_Private(opt, "optimizer_momentum_", sec, sizeof(sec)));
  PetscCall(SADeckGetBool(sec, "nesterov", m->nesterov, &m->nesterov, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAOptimizerSetUp_Momentum(SAOptimizer opt, Vec theta)
{
  PetscFunctionBeginUser;
  PetscCall(VecDuplicate(theta, &opt->state[0]));
  PetscCall(VecSet(opt->state[0], 0.0));
  opt->statenames[0] = "velocity";
  opt->nstate        = 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAOptimizerUpdate_Momentum(SAOptimizer opt, const SAHyper *h, Vec theta, Vec grad)
{
  SAOptimizer_Momentum *m = (SAOptimizer_Momentum *) opt->data;
  Vec                   v = opt->state[0];

  PetscFunctionBeginUser;
  if (h->weight_decay == 0) PetscCall(VecAYPX(v, h->momentum, grad));
  else PetscCall(VecAXPBYPCZ(v, 1.0, h->weight_decay, h->momentum, grad, theta));
  /* Nesterov: theta - lr (g + wd theta + mu v) = (1 - lr wd) theta - lr g - lr mu v */
  if (m->nesterov) PetscCall(VecAXPBYPCZ(theta, -h->lr, -h->lr * h->momentum, 1.0 - h->lr * h->weight_decay, grad, v));
  else PetscCall(VecAXPY(theta, -h->lr, v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* dv' = mu dv + dg + wd dtheta; heavy ball dtheta' = dtheta - lr dv';
   Nesterov dtheta' = (1 - lr wd) dtheta - lr dg - lr mu dv' */
static PetscErrorCode SAOptimizerJVP_Momentum(SAOptimizer opt, const SAHyper *h, Vec theta, Vec state[], Vec grad,
                                              Vec dtheta, Vec dstate[], Vec dgrad, Vec dtheta_out, Vec dstate_out[])
{
  SAOptimizer_Momentum *m  = (SAOptimizer_Momentum *) opt->data;
  Vec                   dv = dstate_out[0];

  PetscFunctionBeginUser;
  PetscCall(VecAXPBYPCZ(dv, 1.0, h->weight_decay, 0.0, dgrad, dtheta));
  PetscCall(VecAXPY(dv, h->momentum, dstate[0]));
  if (m->nesterov) {
    PetscCall(VecAXPBYPCZ(dtheta_out, 1.0 - h->lr * h->weight_decay, -h->lr, 0.0, dtheta, dgrad));
    PetscCall(VecAXPY(dtheta_out, -h->lr * h->momentum, dv));
  } else PetscCall(VecWAXPY(dtheta_out, -h->lr, dv, dtheta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the adjoint: with r = wv' - lr wtheta' (heavy ball) or wv' - lr mu wtheta' (Nesterov),
   wv = mu r, wg = r (- lr wtheta' for Nesterov), wtheta = wtheta' (times 1 - lr wd for Nesterov) + wd r */
static PetscErrorCode SAOptimizerVJP_Momentum(SAOptimizer opt, const SAHyper *h, Vec theta, Vec state[], Vec grad,
                                              Vec wtheta, Vec wstate[], Vec wtheta_out, Vec wstate_out[], Vec wgrad_out)
{
  SAOptimizer_Momentum *m = (SAOptimizer_Momentum *) opt->data;

  PetscFunctionBeginUser;
  if (m->nesterov) {
    PetscCall(VecWAXPY(wgrad_out, -h->lr * h->momentum, wtheta, wstate[0])); /* r */
    PetscCall(VecAXPBYPCZ(wtheta_out, 1.0 - h->lr * h->weight_decay, h->weight_decay, 0.0, wtheta, wgrad_out));
    PetscCall(VecAXPBY(wstate_out[0], h->momentum, 0.0, wgrad_out));
    PetscCall(VecAXPY(wgrad_out, -h->lr, wtheta));
  } else {
    PetscCall(VecWAXPY(wgrad_out, -h->lr, wtheta, wstate[0])); /* r */
    PetscCall(VecAXPBYPCZ(wtheta_out, 1.0, h->weight_decay, 0.0, wtheta, wgrad_out));
    PetscCall(VecAXPBY(wstate_out[0], h->momentum, 0.0, wgrad_out));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* on lambda x^2 / 2 the map on (x, lr v) has trace T and determinant D with 1 + T + D = 2 + 2 mu - lr lambda (heavy
   ball) or 2 + 2 mu - lr lambda (1 + 2 mu) (Nesterov): an eigenvalue crosses -1 at lr lambda = the threshold */
static PetscErrorCode SAOptimizerThreshold_Momentum(SAOptimizer opt, const SAHyper *h, PetscReal *thr)
{
  SAOptimizer_Momentum *m = (SAOptimizer_Momentum *) opt->data;

  PetscFunctionBeginUser;
  if (m->nesterov) *thr = (2.0 + 2.0 * h->momentum) / ((1.0 + 2.0 * h->momentum) * h->lr);
  else *thr = (2.0 + 2.0 * h->momentum) / h->lr;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the heavy-ball ratio for both variants (the sharpness probe's column; see SAOptimizerSharpnessRatio()) */
static PetscErrorCode SAOptimizerSharpnessRatio_Momentum(SAOptimizer opt, const SAHyper *h, PetscReal sharp,
                                                         PetscReal *ratio)
{
  PetscFunctionBeginUser;
  *ratio = sharp * h->lr / (2.0 * (1.0 + h->momentum));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAOptimizerView_Momentum(SAOptimizer opt, PetscViewer viewer)
{
  SAOptimizer_Momentum *m = (SAOptimizer_Momentum *) opt->data;

  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, "%s momentum\n", m->nesterov ? "Nesterov" : "heavy-ball"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAOptimizerDestroy_Momentum(SAOptimizer opt)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(opt->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAOptimizerCreate_Momentum(SAOptimizer opt)
{
  SAOptimizer_Momentum *m;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&m));
  opt->data = m;
  if (opt->momentum == 0.0) opt->momentum = 0.9;
  opt->ops->setfromoptions = SAOptimizerSetFromOptions_Momentum;
  opt->ops->setup          = SAOptimizerSetUp_Momentum;
  opt->ops->update         = SAOptimizerUpdate_Momentum;
  opt->ops->jvp            = SAOptimizerJVP_Momentum;
  opt->ops->vjp            = SAOptimizerVJP_Momentum;
  opt->ops->view           = SAOptimizerView_Momentum;
  opt->ops->destroy        = SAOptimizerDestroy_Momentum;
  opt->ops->threshold      = SAOptimizerThreshold_Momentum;
  opt->ops->sharpnessratio = SAOptimizerSharpnessRatio_Momentum;
  opt->caps                = SA_OPT_CAP_STATE | SA_OPT_CAP_MOMENTUM;
  PetscFunctionReturn(PETSC_SUCCESS);
}
