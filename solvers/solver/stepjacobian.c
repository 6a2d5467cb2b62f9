/*
  stepjacobian.c - the Jacobian of one whole optimizer step as a matrix-free operator (MATSHELL on the member's group
  communicator).

  Method card
  -----------
  z = (theta, state) -> z' = F(theta, state, G g(theta)) on a frozen batch, F the optimizer's update map with fixed
  hyper-parameters, g the loss gradient on the batch, G the linear map of the solver's gradient hooks (identity when
  none is set; e.g. loss_scale's factor):
      J dz   = F_z dz + F_g G (H dtheta),
      J^T w  = F_z^T w + [H G F_g^T w; 0]    (H and G self-adjoint).
  F_z, F_g are the optimizer's exact derivatives (SAOptimizerUpdateJacobianMult/Transpose): SGD J = I - lr H
  (with weight decay I - lr (H + wd I)); heavy ball the 2x2 block [[I - lr H, -lr mu I], [H, mu I]] in (theta,
  velocity) (with wd: H + wd I); Adam/AdamW the diagonal linearisation in (theta, m, v). H is the task's exact
  Hessian-vector product on the batch (SATaskHessianMult), which includes the batch's learning-signal fields.
  A vector z of J's layout holds the blocks theta, state_1, ... contiguously in each rank's local part:
  [theta_loc, s1_loc, ...]; SAStepJacobianGetBlock/SetBlock copy a block to/from theta's layout.
  The operator counts its Hessian-vector products (SAStepJacobianGetHVPCount).
*/
#include <stabaudit/sasolver.h>

#define SA_STEPJAC_MAXBLK 5

typedef struct {
  SATask      task;                     /* referenced by pointer: must outlive the operator */
  SAOptimizer opt;                      /* idem */
  SABatch     batch;                    /* the frozen batch */
  SAHyper     h;                        /* hyper-parameters of the step */
  Vec         theta;                    /* copy of theta */
  Vec         grad;                     /* the gradient the update uses, at theta */
  PetscInt    nstate;                   /* optimizer state vectors */
  Vec         state[SA_STEPJAC_MAXBLK]; /* copies of the state at creation */
  Vec         vin[SA_STEPJAC_MAXBLK];   /* block views into the input (theta layout, no array) */
  Vec         vout[SA_STEPJAC_MAXBLK];  /* block views into the output */
  Vec         w1, w2;                   /* work, theta layout */
  PetscInt    nloc;                     /* local length of theta */
  PetscInt    nhvp;                     /* Hessian-vector products so far */
  PetscErrorCode (*gmap)(void *, Vec);  /* G, the gradient hooks' linear map (NULL: identity) */
  void     *gctx;
  PetscBool owngrad; /* grad was computed here (without the gradient hooks) */
} SAStepJac;

static PetscErrorCode SAStepJacHVP(SAStepJac *c, Vec v, Vec Hv)
{
  PetscFunctionBeginUser;
  PetscCall(SATaskHessianMult(c->task, c->theta, &c->batch, v, Hv));
  c->nhvp++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* places the blocks of the local array of x (read) and y (write) into the views */
static PetscErrorCode SAStepJacPlace(SAStepJac *c, Vec x, Vec y, const PetscScalar **xa, PetscScalar **ya)
{
  PetscFunctionBeginUser;
  PetscCall(VecGetArrayRead(x, xa));
  PetscCall(VecGetArray(y, ya));
  for (PetscInt b = 0; b <= c->nstate; b++) {
    PetscCall(VecPlaceArray(c->vin[b], (PetscScalar *) (*xa + b * c->nloc)));
    PetscCall(VecPlaceArray(c->vout[b], *ya + b * c->nloc));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAStepJacUnplace(SAStepJac *c, Vec x, Vec y, const PetscScalar **xa, PetscScalar **ya)
{
  PetscFunctionBeginUser;
  for (PetscInt b = 0; b <= c->nstate; b++) {
    PetscCall(VecResetArray(c->vin[b]));
    PetscCall(VecResetArray(c->vout[b]));
  }
  PetscCall(VecRestoreArray(y, ya));
  PetscCall(VecRestoreArrayRead(x, xa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode MatMult_SAStepJac(Mat A, Vec x, Vec y)
{
  SAStepJac         *c;
  const PetscScalar *xa;
  PetscScalar       *ya;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(A, &c));
  PetscCall(SAStepJacPlace(c, x, y, &xa, &ya));
  PetscCall(SAStepJacHVP(c, c->vin[0], c->w1));
  if (c->gmap) PetscCall((*c->gmap)(c->gctx, c->w1));
  PetscCall(SAOptimizerUpdateJacobianMult(c->opt, &c->h, c->theta, c->state, c->grad, c->vin[0], c->vin + 1, c->w1,
                                          c->vout[0], c->vout + 1));
  PetscCall(SAStepJacUnplace(c, x, y, &xa, &ya));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode MatMultTranspose_SAStepJac(Mat A, Vec x, Vec y)
{
  SAStepJac         *c;
  const PetscScalar *xa;
  PetscScalar       *ya;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(A, &c));
  PetscCall(SAStepJacPlace(c, x, y, &xa, &ya));
  PetscCall(SAOptimizerUpdateJacobianMultTranspose(c->opt, &c->h, c->theta, c->state, c->grad, c->vin[0], c->vin + 1,
                                                   c->vout[0], c->vout + 1, c->w1));
  if (c->gmap) PetscCall((*c->gmap)(c->gctx, c->w1)); /* G self-adjoint */
  PetscCall(SAStepJacHVP(c, c->w1, c->w2));           /* H is symmetric: (F_g G H)^T = H G F_g^T */
  PetscCall(VecAXPY(c->vout[0], 1.0, c->w2));
  PetscCall(SAStepJacUnplace(c, x, y, &xa, &ya));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode MatDestroy_SAStepJac(Mat A)
{
  SAStepJac *c;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(A, &c));
  PetscCall(VecDestroy(&c->theta));
  PetscCall(VecDestroy(&c->grad));
  PetscCall(VecDestroy(&c->w1));
  PetscCall(VecDestroy(&c->w2));
  for (PetscInt b = 0; b < SA_STEPJAC_MAXBLK; b++) {
    PetscCall(VecDestroy(&c->state[b]));
    PetscCall(VecDestroy(&c->vin[b]));
    PetscCall(VecDestroy(&c->vout[b]));
  }
  PetscCall(PetscFree(c));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAStepJacobianCreate - Creates the Jacobian of one whole optimizer step in (theta, optimizer state) on a frozen
  batch as a matrix-free operator

  Collective

  Input Parameters:
+ task  - the task (set up; must outlive the operator)
. opt   - the optimizer (set up; its current state, copied at creation, is the state that belongs to theta; must
          outlive the operator)
. theta - the parameters (copied)
. batch - the frozen batch (copied)
. step  - the optimizer step: the hyper-parameters are `SAOptimizerGetHyper()` of it (change them with
          `SAStepJacobianSetHyper()`, e.g. after perturbations)
- grad  - the gradient the update uses at theta on the batch (copied), or NULL: computed here, once
          (`SATaskLossGradient()`, without gradient hooks: set them with `SAStepJacobianSetGradientMap()` before the
          first product, and they are applied to this gradient too)

  Output Parameter:
. J - a MATSHELL of size (1 + nstate) n: MatMult is the Jacobian-vector product, MatMultTranspose the
      vector-Jacobian product; each costs one Hessian-vector product

  Notes:
  Layout: each rank's local part of a vector of J is [theta_loc, state_1 loc, ...] with theta's local size;
  move blocks with `SAStepJacobianGetBlock()` / `SAStepJacobianSetBlock()` (`SAStepJacobianGetNumBlocks()` is
  1 + the number of optimizer state vectors: 1 for sgd, 2 for momentum, 3 for adam and adamw).
  For sgd J = I - lr (H + wd I). Inside a solver's monitor use `SASolverGetStepJacobian()`, which passes the step's
  own gradient and gradient hooks.

  Level: intermediate

.seealso: `SASolverGetStepJacobian()`, `SAOptimizerUpdateJacobianMult()`, `SAOptimizerUpdateMap()`
@*/
PetscErrorCode SAStepJacobianCreate(SATask task, SAOptimizer opt, Vec theta, const SABatch *batch, PetscInt step,
                                    Vec grad, Mat *J)
{
  SAStepJac         *c;
  PetscInt           ns, N;
  Vec               *st;
  const char *const *names;
  MPI_Comm           comm;

  PetscFunctionBeginUser;
  PetscCall(SAOptimizerSetUp(opt, theta));
  PetscCall(SAOptimizerGetState(opt, &ns, &st, &names));
  PetscCheck(ns + 1 <= SA_STEPJAC_MAXBLK, PETSC_COMM_SELF, PETSC_ERR_SUP, "Too many optimizer state vectors");
  PetscCall(PetscObjectGetComm((PetscObject) theta, &comm));
  PetscCall(PetscNew(&c));
  c->task   = task;
  c->opt    = opt;
  c->batch  = *batch;
  c->nstate = ns;
  PetscCall(VecDuplicate(theta, &c->theta));
  PetscCall(VecCopy(theta, c->theta));
  PetscCall(VecDuplicate(theta, &c->w1));
  PetscCall(VecDuplicate(theta, &c->w2));
  PetscCall(VecGetLocalSize(theta, &c->nloc));
  PetscCall(VecGetSize(theta, &N));
  PetscCall(SAOptimizerGetHyper(opt, step, &c->h));
  for (PetscInt i = 0; i < ns; i++) {
    PetscCall(VecDuplicate(theta, &c->state[i]));
    PetscCall(VecCopy(st[i], c->state[i]));
  }
  PetscCall(VecDuplicate(theta, &c->grad));
  if (grad) PetscCall(VecCopy(grad, c->grad));
  else {
    PetscReal loss;

    PetscCall(SATaskLossGradient(task, c->theta, &c->batch, &loss, c->grad));
    c->owngrad = PETSC_TRUE; /* SAStepJacobianSetGradientMap() applies the hooks to this gradient */
  }
  for (PetscInt b = 0; b <= ns; b++) {
    PetscCall(VecCreateMPIWithArray(comm, 1, c->nloc, N, NULL, &c->vin[b]));
    PetscCall(VecCreateMPIWithArray(comm, 1, c->nloc, N, NULL, &c->vout[b]));
  }
  PetscCall(MatCreateShell(comm, (ns + 1) * c->nloc, (ns + 1) * c->nloc, (ns + 1) * N, (ns + 1) * N, c, J));
  PetscCall(MatShellSetOperation(*J, MATOP_DESTROY, (SAMatOpFn) MatDestroy_SAStepJac));
  PetscCall(MatShellSetOperation(*J, MATOP_MULT, (SAMatOpFn) MatMult_SAStepJac));
  PetscCall(MatShellSetOperation(*J, MATOP_MULT_TRANSPOSE, (SAMatOpFn) MatMultTranspose_SAStepJac));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAStepJacGet(Mat J, SAStepJac **c)
{
  SAMatOpFn mult;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetOperation(J, MATOP_MULT, &mult));
  PetscCheck(mult == (SAMatOpFn) MatMult_SAStepJac, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
             "Not an operator of SAStepJacobianCreate()");
  PetscCall(MatShellGetContext(J, c));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAStepJacobianSetHyper - Sets the hyper-parameters of the step the Jacobian linearises

  Logically Collective

  Input Parameters:
+ J - an operator of `SAStepJacobianCreate()`
- h - the hyper-parameters (copied)

  Level: intermediate

.seealso: `SAStepJacobianCreate()`, `SAStepJacobianGetHyper()`
@*/
PetscErrorCode SAStepJacobianSetHyper(Mat J, const SAHyper *h)
{
  SAStepJac *c;

  PetscFunctionBeginUser;
  PetscCall(SAStepJacGet(J, &c));
  c->h = *h;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAStepJacobianGetHyper - Returns the hyper-parameters of the step the Jacobian linearises

  Not Collective

  Input Parameter:
. J - an operator of `SAStepJacobianCreate()`

  Output Parameter:
. h - the hyper-parameters

  Level: intermediate

.seealso: `SAStepJacobianSetHyper()`
@*/
PetscErrorCode SAStepJacobianGetHyper(Mat J, SAHyper *h)
{
  SAStepJac *c;

  PetscFunctionBeginUser;
  PetscCall(SAStepJacGet(J, &c));
  *h = c->h;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAStepJacobianSetGradientMap - Sets the linear map G that the step applies to the loss gradient (its gradient hooks)

  Logically Collective

  Input Parameters:
+ J    - an operator of `SAStepJacobianCreate()`
. gmap - applies G in place: gmap(ctx, v); G must be linear and self-adjoint (a scale)
- ctx  - its context

  Notes:
  J then uses F_g G H in place of F_g H. When the operator computed its gradient itself (grad NULL at creation), G is
  applied to that gradient here, so that F is linearised at the gradient the update uses.

  Level: developer

.seealso: `SASolverGetStepJacobian()`, `SASolverAddHooks()`
@*/
PetscErrorCode SAStepJacobianSetGradientMap(Mat J, PetscErrorCode (*gmap)(void *, Vec), void *ctx)
{
  SAStepJac *c;

  PetscFunctionBeginUser;
  PetscCall(SAStepJacGet(J, &c));
  c->gmap = gmap;
  c->gctx = ctx;
  if (c->owngrad && gmap) PetscCall((*gmap)(ctx, c->grad));
  c->owngrad = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAStepJacobianGetNumBlocks - Returns the number of theta-sized blocks of the Jacobian's vectors

  Not Collective

  Input Parameter:
. J - an operator of `SAStepJacobianCreate()`

  Output Parameter:
. nb - 1 + the number of optimizer state vectors (block 0 is theta, block i the state vector i - 1 of
       `SAOptimizerGetState()`)

  Level: intermediate

.seealso: `SAStepJacobianGetBlock()`, `SAStepJacobianSetBlock()`
@*/
PetscErrorCode SAStepJacobianGetNumBlocks(Mat J, PetscInt *nb)
{
  SAStepJac *c;

  PetscFunctionBeginUser;
  PetscCall(SAStepJacGet(J, &c));
  *nb = c->nstate + 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAStepJacCopyBlock(Mat J, Vec z, PetscInt b, Vec v, PetscBool toz)
{
  SAStepJac   *c;
  PetscScalar *za, *va;

  PetscFunctionBeginUser;
  PetscCall(SAStepJacGet(J, &c));
  PetscCheck(b >= 0 && b <= c->nstate, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "Block %" PetscInt_FMT " not in [0, %" PetscInt_FMT "]", b, c->nstate);
  PetscCall(VecGetArray(z, &za));
  PetscCall(VecGetArray(v, &va));
  if (toz) PetscCall(PetscArraycpy(za + b * c->nloc, va, c->nloc));
  else PetscCall(PetscArraycpy(va, za + b * c->nloc, c->nloc));
  PetscCall(VecRestoreArray(v, &va));
  PetscCall(VecRestoreArray(z, &za));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAStepJacobianGetBlock - Copies block b of a vector of the Jacobian's layout into a vector of theta's layout

  Not Collective (local copy)

  Input Parameters:
+ J - an operator of `SAStepJacobianCreate()`
. z - a vector of J's layout (`MatCreateVecs()`)
- b - the block, 0 <= b < `SAStepJacobianGetNumBlocks()`

  Output Parameter:
. v - the block, theta's layout

  Level: intermediate

.seealso: `SAStepJacobianSetBlock()`
@*/
PetscErrorCode SAStepJacobianGetBlock(Mat J, Vec z, PetscInt b, Vec v)
{
  PetscFunctionBeginUser;
  PetscCall(SAStepJacCopyBlock(J, z, b, v, PETSC_FALSE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAStepJacobianSetBlock - Copies a vector of theta's layout into block b of a vector of the Jacobian's layout

  Not Collective (local copy)

  Input Parameters:
+ J - an operator of `SAStepJacobianCreate()`
. z - a vector of J's layout, changed in block b only
. b - the block, 0 <= b < `SAStepJacobianGetNumBlocks()`
- v - the block's values, theta's layout

  Level: intermediate

.seealso: `SAStepJacobianGetBlock()`
@*/
PetscErrorCode SAStepJacobianSetBlock(Mat J, Vec z, PetscInt b, Vec v)
{
  PetscFunctionBeginUser;
  PetscCall(SAStepJacCopyBlock(J, z, b, v, PETSC_TRUE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAStepJacobianGetHVPCount - Returns the number of Hessian-vector products the operator has done

  Not Collective

  Input Parameter:
. J - an operator of `SAStepJacobianCreate()`

  Output Parameter:
. n - the count since creation

  Level: intermediate

.seealso: `SAStepJacobianCreate()`
@*/
PetscErrorCode SAStepJacobianGetHVPCount(Mat J, PetscInt *n)
{
  SAStepJac *c;

  PetscFunctionBeginUser;
  PetscCall(SAStepJacGet(J, &c));
  *n = c->nhvp;
  PetscFunctionReturn(PETSC_SUCCESS);
}
