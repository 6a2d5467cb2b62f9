/*
  mlp.c - SAMODELMLP, a fully connected network (multilayer perceptron).

  Method card: widths nin - hidden... - nout; hidden layers A_l = mask_l * act(W_l A_{l-1} + b_l)
  with act tanh | relu | gelu (exact erf form); linear logits; loss softmax cross-entropy or MSE on
  one-hot targets. Initialisation: W_l ~ N(0, (init_scale * std)^2) with std = sqrt(2 / fan_in)
  (He) or sqrt(2 / (fan_in + fan_out)) (Xavier), biases 0, drawn from the init stream at the global
  parameter index (independent of the layout). The kernels (solvers/kernels/mlp_kernels.c, BLAS
  dgemm) give sums over the rows of the loss, gradient and exact Hessian-vector product
  (Pearlmutter 1994, R-operator); backward and Hessian-vector product both follow the signal modifier.
  Batches: SAMODELBATCHROWS only (rows of features, int labels, one dropout mask per hidden layer).
  Type-specific functions, composed on the object: SAModelMLPGetLayers(), SAModelMLPGetNumHiddenLayers(), and the
  generic SAModelSetDropout()/SAModelGetDropout() (dropout on the hidden units).
*/
#include <stabaudit/private/samodelimpl.h>
#include <stabaudit/sadeck.h>
#include "../../../kernels/mlp_kernels.h"

#define SA_MLP_MAXL SAMODELMLP_MAXHIDDEN

static const char *const SAMLPActs[]   = {"tanh", "relu", "gelu"};
static const char *const SAMLPLosses[] = {"xent", "mse"};
static const char *const SAMLPInits[]  = {"he", "xavier"};

typedef struct {
  PetscInt  nhidden;               /* hidden layers */
  PetscInt  hidden[SA_MLP_MAXL];   /* their widths */
  PetscInt  act, loss, init;       /* activation, loss, initialisation (indices of the tables above) */
  PetscReal init_scale;            /* multiplies the initial weights */
  PetscReal dropout;               /* dropout probability on hidden units (0 = none) */
  int       L;                     /* layers with weights (set up) */
  int       w[SA_MLP_MAXL + 2];    /* widths w[0] (inputs) ... w[L] (outputs) */
  size_t    offW[SA_MLP_MAXL + 1]; /* offW[l-1]: offset of W_l in theta */
  size_t    offb[SA_MLP_MAXL + 1]; /* offb[l-1]: offset of b_l in theta */
} SAModel_MLP;

static PetscErrorCode SAModelSetFromOptions_MLP(SAModel model)
{
  SAModel_MLP *m   = (SAModel_MLP *) model->data;
  const char  *sec = model->deckprefix;
  PetscInt     n   = m->nhidden;

  PetscFunctionBeginUser;
  PetscCall(SADeckGetReal(sec, "dropout", m->dropout, 0.0, 0.95, &m->dropout, NULL));
  PetscCall(SADeckGetIntArray(sec, "hidden", 1, 100000, &n, m->hidden, NULL));
  if (n > SA_MLP_MAXL) {
    char key[300];

    PetscCall(PetscSNPrintf(key, sizeof(key), "%shidden", sec));
    PetscCall(SADeckFail(key, "at most %d hidden layers", SA_MLP_MAXL));
  }
  m->nhidden = n;
  PetscCall(SADeckGetEnum(sec, "activation", SAMLPActs, 3, &m->act, NULL));
  PetscCall(SADeckGetEnum(sec, "loss", SAMLPLosses, 2, &m->loss, NULL));
  PetscCall(SADeckGetEnum(sec, "init", SAMLPInits, 2, &m->init, NULL));
  PetscCall(SADeckGetReal(sec, "init_scale", m->init_scale, 0.0, 100.0, &m->init_scale, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAModelSetUp_MLP(SAModel model)
{
  SAModel_MLP *m = (SAModel_MLP *) model->data;

  PetscFunctionBeginUser;
  m->L    = (int) m->nhidden + 1;
  m->w[0] = (int) model->nin;
  for (PetscInt l = 0; l < m->nhidden; l++) m->w[l + 1] = (int) m->hidden[l];
  m->w[m->L] = (int) model->nout;
  model->P   = (PetscInt) sa_mlp_nparams(m->L, m->w);
  sa_mlp_offsets(m->L, m->w, m->offW, m->offb);
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
  for (PetscInt l = 1; l <= m->L; l++) {
    const int *w   = m->w;
    PetscReal  std = m->init == 0 ? PetscSqrtReal(2.0 / w[l - 1]) : PetscSqrtReal(2.0 / (w[l - 1] + w[l]));
    PetscInt   w0 = (PetscInt) m->offW[l - 1], w1 = w0 + (PetscInt) w[l] * w[l - 1];
    PetscInt   b0 = (PetscInt) m->offb[l - 1], b1 = b0 + w[l];

    for (PetscInt i = PetscMax(rs, w0); i < PetscMin(re, w1); i++) a[i - rs] *= m->init_scale * std;
    for (PetscInt i = PetscMax(rs, b0); i < PetscMin(re, b1); i++) a[i - rs] = 0.0;
  }
  PetscCall(VecRestoreArray(theta, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAModelWorkspace_MLP(SAModel model, PetscInt B, size_t *n)
{
  SAModel_MLP *m = (SAModel_MLP *) model->data;

  PetscFunctionBeginUser;
  *n = sa_mlp_workspace(m->L, m->w, (int) B);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAModelForward_MLP(SAModel model, PetscReal ws[], const PetscReal theta[],
                                         const SAModelBatch *batch, PetscReal *loss)
{
  SAModel_MLP *m = (SAModel_MLP *) model->data;

  PetscFunctionBeginUser;
  PetscCall(SAModelCheckBatchType_Private(model, batch, SAMODELBATCHROWS));
  *loss = sa_mlp_forward(ws, theta, (const PetscReal *) batch->x, (const int *) batch->y, batch->masks, m->L, m->w,
                         (int) m->act, (int) m->loss, (int) batch->n);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAModelBackward_MLP(SAModel model, PetscReal ws[], const PetscReal theta[],
                                          const SAModelBatch *batch, PetscReal grad[])
{
  SAModel_MLP *m = (SAModel_MLP *) model->data;

  PetscFunctionBeginUser;
  PetscCall(SAModelCheckBatchType_Private(model, batch, SAMODELBATCHROWS));
  sa_mlp_backward_signal(grad, ws, theta, (const PetscReal *) batch->x, (const int *) batch->y, batch->masks, m->L,
                         m->w, (int) m->act, (int) m->loss, (int) batch->n, model->sig_scale, model->sig_add);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAModelHessianMult_MLP(SAModel model, PetscReal ws[], const PetscReal theta[],
                                             const PetscReal v[], const SAModelBatch *batch, PetscReal Hv[])
{
  SAModel_MLP *m = (SAModel_MLP *) model->data;

  PetscFunctionBeginUser;
  PetscCall(SAModelCheckBatchType_Private(model, batch, SAMODELBATCHROWS));
  sa_mlp_hvp_signal(Hv, ws, theta, v, (const PetscReal *) batch->x, (const int *) batch->y, batch->masks, m->L, m->w,
                    (int) m->act, (int) m->loss, (int) batch->n, model->sig_scale, model->sig_add);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAModelCorrect_MLP(SAModel model, const PetscReal ws[], const SAModelBatch *batch, PetscInt *n)
{
  SAModel_MLP *m = (SAModel_MLP *) model->data;

  PetscFunctionBeginUser;
  PetscCall(SAModelCheckBatchType_Private(model, batch, SAMODELBATCHROWS));
  PetscCheck(batch->y, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "SAModelCorrect() needs the labels of the batch");
  *n = (PetscInt) sa_mlp_correct(ws, (const int *) batch->y, m->L, m->w, (int) batch->n);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAModelHidden_MLP(SAModel model, const PetscReal ws[], const SAModelBatch *batch, PetscReal out[])
{
  SAModel_MLP *m = (SAModel_MLP *) model->data;

  PetscFunctionBeginUser;
  PetscCall(SAModelCheckBatchType_Private(model, batch, SAMODELBATCHROWS));
  PetscCheck(m->L >= 2, PetscObjectComm((PetscObject) model), PETSC_ERR_ARG_WRONG, "The network has no hidden layer");
  sa_mlp_activations(out, ws, m->L, m->w, (int) batch->n, m->L - 1);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAModelView_MLP(SAModel model, PetscViewer viewer)
{
  SAModel_MLP *m = (SAModel_MLP *) model->data;

  PetscFunctionBeginUser;
  PetscCall(PetscViewerASCIIPrintf(viewer, "mlp: %" PetscInt_FMT " hidden layers, %s, %s, %s init x %g, dropout %g\n",
                                   m->nhidden, SAMLPActs[m->act], SAMLPLosses[m->loss], SAMLPInits[m->init],
                                   (double) m->init_scale, (double) m->dropout));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAModelSetDropout_MLP(SAModel model, PetscReal p)
{
  SAModel_MLP *m = (SAModel_MLP *) model->data;

  PetscFunctionBeginUser;
  m->dropout = p;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAModelGetDropout_MLP(SAModel model, PetscReal *p)
{
  SAModel_MLP *m = (SAModel_MLP *) model->data;

  PetscFunctionBeginUser;
  *p = m->dropout;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAModelMLPGetLayers_MLP(SAModel model, PetscInt *L, const int **w, const size_t **offW,
                                              const size_t **offb)
{
  SAModel_MLP *m = (SAModel_MLP *) model->data;

  PetscFunctionBeginUser;
  PetscCheck(model->setupcalled, PetscObjectComm((PetscObject) model), PETSC_ERR_ORDER, "Call SAModelSetUp() first");
  if (L) *L = m->L;
  if (w) *w = m->w;
  if (offW) *offW = m->offW;
  if (offb) *offb = m->offb;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAModelMLPGetNumHiddenLayers_MLP(SAModel model, PetscInt *n)
{
  SAModel_MLP *m = (SAModel_MLP *) model->data;

  PetscFunctionBeginUser;
  *n = m->nhidden;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAModelDestroy_MLP(SAModel model)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(model->data));
  PetscCall(PetscObjectComposeFunction((PetscObject) model, "SAModelSetDropout_C", NULL));
  PetscCall(PetscObjectComposeFunction((PetscObject) model, "SAModelGetDropout_C", NULL));
  PetscCall(PetscObjectComposeFunction((PetscObject) model, "SAModelMLPGetLayers_C", NULL));
  PetscCall(PetscObjectComposeFunction((PetscObject) model, "SAModelMLPGetNumHiddenLayers_C", NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAModelCreate_MLP(SAModel model)
{
  SAModel_MLP *m;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&m));
  m->nhidden                 = 1;
  m->hidden[0]               = 64;
  m->init_scale              = 1.0;
  m->L                       = 2;
  model->data                = m;
  model->ops->setfromoptions = SAModelSetFromOptions_MLP;
  model->ops->setup          = SAModelSetUp_MLP;
  model->ops->initialguess   = SAModelInitialGuess_MLP;
  model->ops->workspace      = SAModelWorkspace_MLP;
  model->ops->forward        = SAModelForward_MLP;
  model->ops->backward       = SAModelBackward_MLP;
  model->ops->hessianmult    = SAModelHessianMult_MLP;
  model->ops->correct        = SAModelCorrect_MLP;
  model->ops->hidden         = SAModelHidden_MLP;
  model->ops->view           = SAModelView_MLP;
  model->ops->destroy        = SAModelDestroy_MLP;
  PetscCall(PetscObjectComposeFunction((PetscObject) model, "SAModelSetDropout_C", SAModelSetDropout_MLP));
  PetscCall(PetscObjectComposeFunction((PetscObject) model, "SAModelGetDropout_C", SAModelGetDropout_MLP));
  PetscCall(PetscObjectComposeFunction((PetscObject) model, "SAModelMLPGetLayers_C", SAModelMLPGetLayers_MLP));
  PetscCall(PetscObjectComposeFunction((PetscObject) model, "SAModelMLPGetNumHiddenLayers_C",
                                       SAModelMLPGetNumHiddenLayers_MLP));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelMLPGetLayers - The dense layers of an mlp: widths and the offsets of each layer's weights and biases in theta

  Not Collective

  Input Parameter:
. model - the model, of type `SAMODELMLP` (set up)

  Output Parameters:
+ L    - layers with weights (hidden layers + 1)
. w    - widths w[0..L] (owned by the model)
. offW - offW[l-1]: offset of W_l, a (w[l], w[l-1]) row-major block
- offb - offb[l-1]: offset of b_l (w[l] entries)

  Notes:
  Each output may be NULL. A model of another type answers `PETSC_ERR_SUP`.

  Level: intermediate

.seealso: `SAModelSetUp()`, `SAModelMLPGetNumHiddenLayers()`
@*/
PetscErrorCode SAModelMLPGetLayers(SAModel model, PetscInt *L, const int **w, const size_t **offW, const size_t **offb)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(model, SAMODEL_CLASSID, 1);
  PetscUseMethod(model, "SAModelMLPGetLayers_C", (SAModel, PetscInt *, const int **, const size_t **, const size_t **),
                 (model, L, w, offW, offb));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAModelMLPGetNumHiddenLayers - Hidden layers of an mlp as configured (available before `SAModelSetUp()`)

  Not Collective

  Input Parameter:
. model - the model, of type `SAMODELMLP` (options read)

  Output Parameter:
. n - the number

  Notes:
  A model of another type answers `PETSC_ERR_SUP`.

  Level: intermediate

.seealso: `SAModelMLPGetLayers()`
@*/
PetscErrorCode SAModelMLPGetNumHiddenLayers(SAModel model, PetscInt *n)
{
  PetscFunctionBeginUser;
  PetscValidHeaderSpecific(model, SAMODEL_CLASSID, 1);
  PetscAssertPointer(n, 2);
  PetscUseMethod(model, "SAModelMLPGetNumHiddenLayers_C", (SAModel, PetscInt *), (model, n));
  PetscFunctionReturn(PETSC_SUCCESS);
}
