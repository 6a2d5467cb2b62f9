/*
  operators.c - matrix-free operators of the probes: MATSHELLs on the member's group communicator.

  Method card
  -----------
  H   (SAProbeCreateHessian): MatMult = exact Hessian-vector product of the loss on a frozen batch
      (SATaskHessianMult; the batch, theta and so the dropout masks are fixed at creation). Symmetric.
  S   (SAProbeCreatePreconditionedHessian): D H D with D = diag(sqrt(lr / (sqrt(v_hat') + eps))), v' the second
      moment Adam would form at this step from the frozen-batch gradient, v_hat' = v' / (1 - beta2^(t+1)):
      symmetric, with the eigenvalues of P^{-1} H, P = diag(sqrt(v_hat') + eps) / lr (preconditioned sharpness).
  J   (SAProbeCreateJacobian): the Jacobian of one whole optimizer step z = (theta, state) -> z' on the frozen
      batch, z' = F(theta, state, g(theta)):  J dz = F_z dz + F_g (H dtheta),  J^T w = F_z^T w + [H F_g^T w; 0].
      F_z, F_g are the optimizer's exact derivatives (SAOptimizerUpdateJacobianMult/Transpose): SGD J = I - lr H
      (with weight decay I - lr (H + wd I)); heavy ball the 2x2 block [[I - lr H, -lr mu I], [H, mu I]]
      in (theta, velocity) (with wd: H + wd I); Adam/AdamW the diagonal linearisation in (theta, m, v).
      A vector z of J's layout holds the blocks theta, state_1, ... contiguously in each rank's local part:
      [theta_loc, s1_loc, ...]; SAProbeJacobianGetBlock/SetBlock copy a block to/from theta's layout.
  Each operator counts its Hessian-vector products (SAProbeOperatorGetHVPCount).
*/
#include <stabaudit/saprobe.h>

#define SA_PROBE_MAXBLK 5

typedef enum { SA_PROBEOP_HESSIAN = 0, SA_PROBEOP_PRECOND = 1, SA_PROBEOP_JACOBIAN = 2 } SAProbeOpKind;

typedef struct {
  SAProbeOpKind kind;
  SATask        task;                   /* referenced by pointer: must outlive the operator */
  SAOptimizer   opt;                    /* idem (J only) */
  SABatch       batch;                  /* the frozen batch */
  SAHyper       h;                      /* hyper-parameters of the step (J) */
  Vec           theta;                  /* copy of theta */
  Vec           grad;                   /* frozen-batch gradient at theta (J) */
  PetscInt      nstate;                 /* optimizer state vectors (J) */
  Vec           state[SA_PROBE_MAXBLK]; /* copies of the state at creation (J) */
  Vec           vin[SA_PROBE_MAXBLK];   /* block views into the input of J (theta layout, no array) */
  Vec           vout[SA_PROBE_MAXBLK];  /* block views into the output of J */
  Vec           w1, w2;                 /* work, theta layout */
  Vec           dscale;                 /* D of the preconditioned Hessian */
  PetscInt      nloc;                   /* local length of theta */
  PetscInt      nhvp;                   /* Hessian-vector products so far */
} SAProbeOp;

static PetscErrorCode SAProbeOpHVP(SAProbeOp *c, Vec v, Vec Hv)
{
  PetscFunctionBeginUser;
  PetscCall(SATaskHessianMult(c->task, c->theta, &c->batch, v, Hv));
  c->nhvp++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode MatMult_SAHessian(Mat A, Vec x, Vec y)
{
  SAProbeOp *c;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(A, &c));
  PetscCall(SAProbeOpHVP(c, x, y));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode MatMult_SAPrecond(Mat A, Vec x, Vec y)
{
  SAProbeOp *c;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(A, &c));
  PetscCall(VecPointwiseMult(c->w1, c->dscale, x));
  PetscCall(SAProbeOpHVP(c, c->w1, y));
  PetscCall(VecPointwiseMult(y, c->dscale, y));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* places the blocks of the local array of x (read) and y (write) into the views */
static PetscErrorCode SAProbeOpPlace(SAProbeOp *c, Vec x, Vec y, const PetscScalar **xa, PetscScalar **ya)
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

static PetscErrorCode SAProbeOpUnplace(SAProbeOp *c, Vec x, Vec y, const PetscScalar **xa, PetscScalar **ya)
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

static PetscErrorCode MatMult_SAJacobian(Mat A, Vec x, Vec y)
{
  SAProbeOp         *c;
  const PetscScalar *xa;
  PetscScalar       *ya;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(A, &c));
  PetscCall(SAProbeOpPlace(c, x, y, &xa, &ya));
  PetscCall(SAProbeOpHVP(c, c->vin[0], c->w1));
  PetscCall(SAOptimizerUpdateJacobianMult(c->opt, &c->h, c->theta, c->state, c->grad, c->vin[0], c->vin + 1, c->w1,
                                          c->vout[0], c->vout + 1));
  PetscCall(SAProbeOpUnplace(c, x, y, &xa, &ya));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode MatMultTranspose_SAJacobian(Mat A, Vec x, Vec y)
{
  SAProbeOp         *c;
  const PetscScalar *xa;
  PetscScalar       *ya;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(A, &c));
  PetscCall(SAProbeOpPlace(c, x, y, &xa, &ya));
  PetscCall(SAOptimizerUpdateJacobianMultTranspose(c->opt, &c->h, c->theta, c->state, c->grad, c->vin[0], c->vin + 1,
                                                   c->vout[0], c->vout + 1, c->w1));
  PetscCall(SAProbeOpHVP(c, c->w1, c->w2)); /* H is symmetric: (F_g H)^T = H F_g^T */
  PetscCall(VecAXPY(c->vout[0], 1.0, c->w2));
  PetscCall(SAProbeOpUnplace(c, x, y, &xa, &ya));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode MatDestroy_SAProbeOp(Mat A)
{
  SAProbeOp *c;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(A, &c));
  PetscCall(VecDestroy(&c->theta));
  PetscCall(VecDestroy(&c->grad));
  PetscCall(VecDestroy(&c->w1));
  PetscCall(VecDestroy(&c->w2));
  PetscCall(VecDestroy(&c->dscale));
  for (PetscInt b = 0; b < SA_PROBE_MAXBLK; b++) {
    PetscCall(VecDestroy(&c->state[b]));
    PetscCall(VecDestroy(&c->vin[b]));
    PetscCall(VecDestroy(&c->vout[b]));
  }
  PetscCall(PetscFree(c));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the common part: context with a copy of theta and the batch, a square shell of nb blocks of theta's layout */
static PetscErrorCode SAProbeOpCreate(SATask task, Vec theta, const SABatch *batch, SAProbeOpKind kind, PetscInt nb,
                                      SAProbeOp **ctx, Mat *A)
{
  SAProbeOp *c;
  MPI_Comm   comm;
  PetscInt   N;

  PetscFunctionBeginUser;
  PetscCall(PetscObjectGetComm((PetscObject) theta, &comm));
  PetscCall(PetscNew(&c));
  c->kind  = kind;
  c->task  = task;
  c->batch = *batch;
  PetscCall(VecDuplicate(theta, &c->theta));
  PetscCall(VecCopy(theta, c->theta));
  PetscCall(VecDuplicate(theta, &c->w1));
  PetscCall(VecDuplicate(theta, &c->w2));
  PetscCall(VecGetLocalSize(theta, &c->nloc));
  PetscCall(VecGetSize(theta, &N));
  PetscCall(MatCreateShell(comm, nb * c->nloc, nb * c->nloc, nb * N, nb * N, c, A));
  PetscCall(MatShellSetOperation(*A, MATOP_DESTROY, (SAMatOpFn) MatDestroy_SAProbeOp));
  *ctx = c;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeCreateHessian - Creates the Hessian of the loss on a frozen batch as a matrix-free operator

  Collective

  Input Parameters:
+ task  - the task (set up; must outlive the operator)
. theta - the parameters (copied)
- batch - the frozen batch (copied); use `SA_BATCH(step)` with probe > 0 (probe batch) or -1 (full training set)

  Output Parameter:
. H - a MATSHELL on theta's communicator and layout; MatMult and MatMultTranspose are the exact Hessian-vector
      product (`SATaskHessianMult()`); flagged symmetric

  Level: intermediate

.seealso: `SAProbeCreateJacobian()`, `SAProbeOperatorGetHVPCount()`
@*/
PetscErrorCode SAProbeCreateHessian(SATask task, Vec theta, const SABatch *batch, Mat *H)
{
  SAProbeOp *c;

  PetscFunctionBeginUser;
  PetscCall(SAProbeOpCreate(task, theta, batch, SA_PROBEOP_HESSIAN, 1, &c, H));
  PetscCall(MatShellSetOperation(*H, MATOP_MULT, (SAMatOpFn) MatMult_SAHessian));
  PetscCall(MatShellSetOperation(*H, MATOP_MULT_TRANSPOSE, (SAMatOpFn) MatMult_SAHessian));
  PetscCall(MatSetOption(*H, MAT_SYMMETRIC, PETSC_TRUE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the frozen-batch gradient at theta */
static PetscErrorCode SAProbeOpGradient(SAProbeOp *c)
{
  PetscReal loss;

  PetscFunctionBeginUser;
  PetscCall(VecDuplicate(c->theta, &c->grad));
  PetscCall(SATaskLossGradient(c->task, c->theta, &c->batch, &loss, c->grad));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeCreatePreconditionedHessian - Creates the symmetric preconditioned Hessian of an Adam step,
  D H D with D = P^{-1/2}, P = diag(sqrt(v_hat) + eps) / lr

  Collective

  Input Parameters:
+ task  - the task (set up; must outlive the operator)
. opt   - an optimizer with a diagonal preconditioner (`SA_OPT_CAP_DIAG_PRECOND`: adam, adamw) whose state belongs to
          theta (read at creation)
. theta - the parameters (copied)
. batch - the frozen batch (copied)
- step  - the optimizer step (hyper-parameters and bias correction)

  Output Parameter:
. S - a symmetric MATSHELL with the eigenvalues of P^{-1} H

  Notes:
  D is `SAOptimizerGetDiagonalPreconditioner()` at the frozen-batch gradient with the hyper-parameters of the step.
  For adam, v_hat is the bias-corrected second moment Adam forms at this step from that gradient,
  v' = beta2 v + (1 - beta2) g'^2 (g' includes the L2 weight decay of adam), v_hat = v' / (1 - beta2^(step+1)):
  the preconditioner of the step itself (Cohen et al. 2022, "Adaptive gradient methods at the edge of stability").
  Another optimizer raises `PETSC_ERR_SUP`.

  Level: intermediate

.seealso: `SAProbeCreateHessian()`
@*/
PetscErrorCode SAProbeCreatePreconditionedHessian(SATask task, SAOptimizer opt, Vec theta, const SABatch *batch,
                                                  PetscInt step, Mat *S)
{
  SAProbeOp      *c;
  SAOptimizerType type;
  PetscInt        caps;
  SAHyper         h;

  PetscFunctionBeginUser;
  PetscCall(SAOptimizerGetCapabilities(opt, &caps));
  PetscCall(SAOptimizerGetType(opt, &type)); /* for the message only */
  PetscCheck(caps & SA_OPT_CAP_DIAG_PRECOND, PETSC_COMM_SELF, PETSC_ERR_SUP,
             "The preconditioned Hessian needs an optimizer with a diagonal preconditioner (adam, adamw), not %s",
             type);
  PetscCall(SAOptimizerSetUp(opt, theta));
  PetscCall(SAOptimizerGetHyper(opt, step, &h));
  PetscCall(SAProbeOpCreate(task, theta, batch, SA_PROBEOP_PRECOND, 1, &c, S));
  PetscCall(SAProbeOpGradient(c));
  PetscCall(VecDuplicate(theta, &c->dscale));
  PetscCall(SAOptimizerGetDiagonalPreconditioner(opt, &h, c->theta, c->grad, c->dscale));
  PetscCall(MatShellSetOperation(*S, MATOP_MULT, (SAMatOpFn) MatMult_SAPrecond));
  PetscCall(MatShellSetOperation(*S, MATOP_MULT_TRANSPOSE, (SAMatOpFn) MatMult_SAPrecond));
  PetscCall(MatSetOption(*S, MAT_SYMMETRIC, PETSC_TRUE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeCreateJacobian - Creates the Jacobian of one whole optimizer step in (theta, optimizer state) on a frozen
  batch as a matrix-free operator

  Collective

  Input Parameters:
+ task  - the task (set up; must outlive the operator)
. opt   - the optimizer (set up; its current state, copied at creation, is the state that belongs to theta; must
          outlive the operator)
. theta - the parameters (copied)
. batch - the frozen batch (copied); the gradient on it at theta is computed once here
- step  - the optimizer step: the hyper-parameters are `SAOptimizerGetHyper()` of it (change them with
          `SAProbeJacobianSetHyper()`, e.g. after perturbations)

  Output Parameter:
. J - a MATSHELL of size (1 + nstate) n: MatMult is the Jacobian-vector product, MatMultTranspose the
      vector-Jacobian product; each costs one Hessian-vector product

  Notes:
  Layout: each rank's local part of a vector of J is [theta_loc, state_1 loc, ...] with theta's local size;
  move blocks with `SAProbeJacobianGetBlock()` / `SAProbeJacobianSetBlock()` (`SAProbeJacobianGetNumBlocks()` is
  1 + the number of optimizer state vectors: 1 for sgd, 2 for momentum, 3 for adam and adamw).
  For sgd J = I - lr (H + wd I).

  Level: intermediate

.seealso: `SAProbeCreateHessian()`, `SAOptimizerUpdateJacobianMult()`, `SAOptimizerUpdateMap()`
@*/
PetscErrorCode SAProbeCreateJacobian(SATask task, SAOptimizer opt, Vec theta, const SABatch *batch, PetscInt step,
                                     Mat *J)
{
  SAProbeOp         *c;
  PetscInt           ns, N;
  Vec               *st;
  const char *const *names;
  MPI_Comm           comm;

  PetscFunctionBeginUser;
  PetscCall(SAOptimizerSetUp(opt, theta));
  PetscCall(SAOptimizerGetState(opt, &ns, &st, &names));
  PetscCheck(ns + 1 <= SA_PROBE_MAXBLK, PETSC_COMM_SELF, PETSC_ERR_SUP, "Too many optimizer state vectors");
  PetscCall(SAProbeOpCreate(task, theta, batch, SA_PROBEOP_JACOBIAN, ns + 1, &c, J));
  c->opt    = opt;
  c->nstate = ns;
  PetscCall(SAOptimizerGetHyper(opt, step, &c->h));
  for (PetscInt i = 0; i < ns; i++) {
    PetscCall(VecDuplicate(theta, &c->state[i]));
    PetscCall(VecCopy(st[i], c->state[i]));
  }
  PetscCall(SAProbeOpGradient(c));
  PetscCall(PetscObjectGetComm((PetscObject) theta, &comm));
  PetscCall(VecGetSize(theta, &N));
  for (PetscInt b = 0; b <= ns; b++) {
    PetscCall(VecCreateMPIWithArray(comm, 1, c->nloc, N, NULL, &c->vin[b]));
    PetscCall(VecCreateMPIWithArray(comm, 1, c->nloc, N, NULL, &c->vout[b]));
  }
  PetscCall(MatShellSetOperation(*J, MATOP_MULT, (SAMatOpFn) MatMult_SAJacobian));
  PetscCall(MatShellSetOperation(*J, MATOP_MULT_TRANSPOSE, (SAMatOpFn) MatMultTranspose_SAJacobian));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAProbeOpGetJacobian(Mat J, SAProbeOp **c)
{
  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(J, c));
  PetscCheck(*c && (*c)->kind == SA_PROBEOP_JACOBIAN, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG,
             "Not an operator of SAProbeCreateJacobian()");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeJacobianSetHyper - Sets the hyper-parameters of the step the Jacobian linearises

  Logically Collective

  Input Parameters:
+ J - an operator of `SAProbeCreateJacobian()`
- h - the hyper-parameters (copied)

  Level: intermediate

.seealso: `SAProbeCreateJacobian()`, `SAProbeJacobianGetHyper()`
@*/
PetscErrorCode SAProbeJacobianSetHyper(Mat J, const SAHyper *h)
{
  SAProbeOp *c;

  PetscFunctionBeginUser;
  PetscCall(SAProbeOpGetJacobian(J, &c));
  c->h = *h;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeJacobianGetHyper - Returns the hyper-parameters of the step the Jacobian linearises

  Not Collective

  Input Parameter:
. J - an operator of `SAProbeCreateJacobian()`

  Output Parameter:
. h - the hyper-parameters

  Level: intermediate

.seealso: `SAProbeJacobianSetHyper()`
@*/
PetscErrorCode SAProbeJacobianGetHyper(Mat J, SAHyper *h)
{
  SAProbeOp *c;

  PetscFunctionBeginUser;
  PetscCall(SAProbeOpGetJacobian(J, &c));
  *h = c->h;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeJacobianGetNumBlocks - Returns the number of theta-sized blocks of the Jacobian's vectors

  Not Collective

  Input Parameter:
. J - an operator of `SAProbeCreateJacobian()`

  Output Parameter:
. nb - 1 + the number of optimizer state vectors (block 0 is theta, block i the state vector i - 1 of
       `SAOptimizerGetState()`)

  Level: intermediate

.seealso: `SAProbeJacobianGetBlock()`, `SAProbeJacobianSetBlock()`
@*/
PetscErrorCode SAProbeJacobianGetNumBlocks(Mat J, PetscInt *nb)
{
  SAProbeOp *c;

  PetscFunctionBeginUser;
  PetscCall(SAProbeOpGetJacobian(J, &c));
  *nb = c->nstate + 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeJacobianGetBlock - Copies block b of a vector of the Jacobian's layout into a vector of theta's layout

  Not Collective (local copy)

  Input Parameters:
+ J - an operator of `SAProbeCreateJacobian()`
. z - a vector of J's layout (`MatCreateVecs()`)
- b - the block, 0 <= b < `SAProbeJacobianGetNumBlocks()`

  Output Parameter:
. v - the block, theta's layout

  Level: intermediate

.seealso: `SAProbeJacobianSetBlock()`
@*/
PetscErrorCode SAProbeJacobianGetBlock(Mat J, Vec z, PetscInt b, Vec v)
{
  SAProbeOp         *c;
  const PetscScalar *za;
  PetscScalar       *va;

  PetscFunctionBeginUser;
  PetscCall(SAProbeOpGetJacobian(J, &c));
  PetscCheck(b >= 0 && b <= c->nstate, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "Block %" PetscInt_FMT " not in [0, %" PetscInt_FMT "]", b, c->nstate);
  PetscCall(VecGetArrayRead(z, &za));
  PetscCall(VecGetArray(v, &va));
  PetscCall(PetscArraycpy(va, za + b * c->nloc, c->nloc));
  PetscCall(VecRestoreArray(v, &va));
  PetscCall(VecRestoreArrayRead(z, &za));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeJacobianSetBlock - Copies a vector of theta's layout into block b of a vector of the Jacobian's layout

  Not Collective (local copy)

  Input Parameters:
+ J - an operator of `SAProbeCreateJacobian()`
. z - a vector of J's layout, changed in block b only
. b - the block, 0 <= b < `SAProbeJacobianGetNumBlocks()`
- v - the block's values, theta's layout

  Level: intermediate

.seealso: `SAProbeJacobianGetBlock()`
@*/
PetscErrorCode SAProbeJacobianSetBlock(Mat J, Vec z, PetscInt b, Vec v)
{
  SAProbeOp         *c;
  PetscScalar       *za;
  const PetscScalar *va;

  PetscFunctionBeginUser;
  PetscCall(SAProbeOpGetJacobian(J, &c));
  PetscCheck(b >= 0 && b <= c->nstate, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "Block %" PetscInt_FMT " not in [0, %" PetscInt_FMT "]", b, c->nstate);
  PetscCall(VecGetArray(z, &za));
  PetscCall(VecGetArrayRead(v, &va));
  PetscCall(PetscArraycpy(za + b * c->nloc, va, c->nloc));
  PetscCall(VecRestoreArrayRead(v, &va));
  PetscCall(VecRestoreArray(z, &za));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeOperatorGetHVPCount - Returns the number of Hessian-vector products an operator of the probes has done

  Not Collective

  Input Parameter:
. A - an operator of `SAProbeCreateHessian()`, `SAProbeCreatePreconditionedHessian()` or `SAProbeCreateJacobian()`

  Output Parameter:
. n - the count since creation or the last `SAProbeOperatorResetHVPCount()`

  Level: intermediate

.seealso: `SAProbeOperatorResetHVPCount()`
@*/
PetscErrorCode SAProbeOperatorGetHVPCount(Mat A, PetscInt *n)
{
  SAProbeOp *c;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(A, &c));
  *n = c->nhvp;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@C
  SAProbeOperatorResetHVPCount - Zeroes the Hessian-vector product count of an operator of the probes

  Not Collective

  Input Parameter:
. A - the operator

  Level: intermediate

.seealso: `SAProbeOperatorGetHVPCount()`
@*/
PetscErrorCode SAProbeOperatorResetHVPCount(Mat A)
{
  SAProbeOp *c;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(A, &c));
  c->nhvp = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}
