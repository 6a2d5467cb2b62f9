/*
  mlp.c - SAMODELMLP, a fully connected network (multilayer perceptron).

  Method card: widths nin - hidden... - nout; hidden layers A_l = mask_l * act(W_l A_{l-1} + b_l)
  with act tanh | relu | gelu (exact erf form); linear logits; loss softmax cross-entropy or MSE on
  one-hot targets. Initialisation: W_l ~ N(0, (init_scale * std)^2) with std = sqrt(2 / fan_in)
  (He) or sqrt(2 / (fan_in + fan_out)) (Xavier), biases 0, drawn from the init stream at the global
  parameter index (independent of the layout). The kernels (solvers/kernels/mlp_kernels.c, BLAS
  dgemm) give sums over the rows of the loss, gradient and exact Hessian-vector product
  (Pearlmutter 1994, R-operator); backward and Hessian-vector product both follow the signal modifier.
*/
#include <stabaudit/private/samodelimpl.h>
#include <stabaudit/sadeck.h>
#include "../../../kernels/mlp_kernels.h"

static const char *const SAMLPActs[]   = {"tanh", "relu", "gelu"};
static const char *const SAMLPLosses[] = {"xent", "mse"};
static const char *const SAMLPInits[]  = {"he", "xavier"};

typedef struct {
  PetscInt  nhidden;               /* hidden layers */
  PetscInt  hidden[SA_MODEL_MAXL]; /* their widths */
  PetscInt  act, loss, init;       /* activation, loss, initialisation (indices of the tables above) */
  PetscReal init_scale;            /* multiplies the initial weights */
} SAModel_MLP;

static PetscErrorCode SAModelSetFromOptions_MLP(SAModel model)
{
  SAModel_MLP *m = (SAModel_MLP *) model->data;
  PetscInt     n = m->nhidden;

  PetscFunctionBeginUser;
  PetscCall(SADeckGetIntArray("model_", "hidden", 1, 100000, &n, m->hidden, NULL));
  if (n > SA_MODEL_MAXL) PetscCall(SADeckFail("model_hidden", "at most %d hidden layers", SA_MODEL_MAXL));
  m->nhidden = n;
  model->L   = n + 1;
  PetscCall(SADeckGetEnum("model_", "activation", SAMLPActs, 3, &m->act, NULL));
  PetscCall(SADeckGetEnum("model_", "loss", SAMLPLosses, 2, &m->loss, NULL));
  PetscCall(SADeckGetEnum("model_", "init", SAMLPInits, 2, &m->init, NULL));
  PetscCall(SADeckGetReal("model_", "init_scale", m->init_scale, 0.0, 100.0, &m->init_scale, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAModelSetUp_MLP(SAModel model)
{
  SAModel_MLP *m = (SAModel_MLP *) model->data;

  PetscFunctionBeginUser;
  model->L    = m->nhidden + 1;
  model->w[0] = (int) model->nin;
  for (PetscInt l = 0; l < m->nhidden; l++) model->w[l + 1] = (int) m->hidden[l];
  model->w[model->L] = (int) model->nout;
  model->P           = (PetscInt) sa_mlp_nparams((int) model->L, model->w);
  sa_mlp_offsets((int) model->L, model->w, model->offW, model->offb);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAModelInitialGuess_MLP(SAModel model, const SAStream *init, Vec theta)
{
  SAModel_MLP *m = (SAModel_MLP *) model->data;
  PetscInt     rs, re;
  PetscScalar *a;

  PetscFunctionBeginUser;
  PetscCall(SAStreamVecNormal(init, 0, theta));
  PetscCall(VecGetOwnershipRange(theta, &rs, &re));
  PetscCall(VecGetArray(theta, &a));
  for (PetscInt l = 1; l <= model->L; l++) {
    const int *w   = model->w;
    PetscReal  std = m->init == 0 ? PetscSqrtReal(2.0 / w[l - 1]) : PetscSqrtReal(2.0 / (w[l - 1] + w[l]));
    PetscInt   w0 = (PetscInt) model->offW[l - 1], w1 = w0 + (PetscInt) w[l] * w[l - 1];
    PetscInt   b0 = (PetscInt) model->offb[l - 1], b1 = b0 + w[l];

    for (PetscInt i = PetscMax(rs, w0); i < PetscMin(re, w1); i++) a[i - rs] *= m->init_scale * std;
    for (PetscInt i = PetscMax(rs, b0); i < PetscMin(re, b1); i++) a[i - rs] = 0.0;
  }
  PetscCall(VecRestoreArray(theta, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAModelWorkspace_MLP(SAModel model, PetscInt B, size_t *n)
{
  PetscFunctionBeginUser;
  *n = sa_mlp_workspace((int) model->L, model->w, (int) B);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAModelForward_MLP(SAModel model, PetscReal ws[], const PetscReal theta[], const PetscReal X[],
                                         const int y[], const PetscReal *const masks[], PetscInt B, PetscReal *loss)
{
  SAModel_MLP *m = (SAModel_MLP *) model->data;

  PetscFunctionBeginUser;
  *loss = sa_mlp_forward(ws, theta, X, y, masks, (int) model->L, model->w, (int) m->act, (int) m->loss, (int) B);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAModelBackward_MLP(SAModel model, PetscReal ws[], const PetscReal theta[], const PetscReal X[],
                                          const int y[], const PetscReal *const masks[], PetscInt B, PetscReal grad[])
{
  SAModel_MLP *m = (SAModel_MLP *) model->data;

  PetscFunctionBeginUser;
  sa_mlp_backward_signal(grad, ws, theta, X, y, masks, (int) model->L, model->w, (int) m->act, (int) m->loss, (int) B,
                         model->sig_scale, model->sig_add);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAModelHessianMult_MLP(SAModel model, PetscReal ws[], const PetscReal theta[],
                                             const PetscReal v[], const PetscReal X[], const int y[],
                                             const PetscReal *const masks[], PetscInt B, PetscReal Hv[])
{
  SAModel_MLP *m = (SAModel_MLP *) model->data;

  PetscFunctionBeginUser;
  sa_mlp_hvp_signal(Hv, ws, theta, v, X, y, masks, (int) model->L, model->w, (int) m->act, (int) m->loss, (int) B,
                    model->sig_scale, model->sig_add);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAModelCorrect_MLP(SAModel model, const PetscReal ws[], const int y[], PetscInt B, PetscInt *n)
{
  PetscFunctionBeginUser;
  *n = (PetscInt) sa_mlp_correct(ws, y, (int) model->L, model->w, (int) B);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAModelHidden_MLP(SAModel model, const PetscReal ws[], PetscInt B, PetscReal out[])
{
  PetscFunctionBeginUser;
  PetscCheck(model->L >= 2, model->comm, PETSC_ERR_ARG_WRONG, "The network has no hidden layer");
  sa_mlp_activations(out, ws, (int) model->L, model->w, (int) B, (int) model->L - 1);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAModelView_MLP(SAModel model, PetscViewer viewer)
{
  SAModel_MLP *m = (SAModel_MLP *) model->data;

  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, "  mlp: %" PetscInt_FMT " hidden layers, %s, %s, %s init x %g\n", m->nhidden,
                                   SAMLPActs[m->act], SAMLPLosses[m->loss], SAMLPInits[m->init],
                                   (double) m->init_scale));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAModelDestroy_MLP(SAModel model)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(model->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAModelCreate_MLP(SAModel model)
{
  SAModel_MLP *m;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&m));
  m->nhidden                = 1;
  m->hidden[0]              = 64;
  m->init_scale             = 1.0;
  model->L                  = 2;
  model->data               = m;
  model->ops.setfromoptions = SAModelSetFromOptions_MLP;
  model->ops.setup          = SAModelSetUp_MLP;
  model->ops.initialguess   = SAModelInitialGuess_MLP;
  model->ops.workspace      = SAModelWorkspace_MLP;
  model->ops.forward        = SAModelForward_MLP;
  model->ops.backward       = SAModelBackward_MLP;
  model->ops.hessianmult    = SAModelHessianMult_MLP;
  model->ops.correct        = SAModelCorrect_MLP;
  model->ops.hidden         = SAModelHidden_MLP;
  model->ops.view           = SAModelView_MLP;
  model->ops.destroy        = SAModelDestroy_MLP;
  PetscFunctionReturn(PETSC_SUCCESS);
}
