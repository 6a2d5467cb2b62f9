/*
  operators.c - matrix-free operators of the probes: MATSHELLs on the member's group communicator.

  Method card
  -----------
  H   (SAProbeCreateHessian): MatMult = exact Hessian-vector product of the loss on a frozen batch
      (SATaskHessianMult; the batch, theta and so the dropout masks are fixed at creation). Symmetric.
  S   (SAProbeCreatePreconditionedHessian): D H D with D = diag(sqrt(lr / (sqrt(v_hat') + eps))), v' the second
      moment Adam would form at this step from the frozen-batch gradient, v_hat' = v' / (1 - beta2^(t+1)):
      symmetric, with the eigenvalues of P^{-1} H, P = diag(sqrt(v_hat') + eps) / lr (preconditioned sharpness).
  The Jacobian of a whole step is the solver's (SASolverGetStepJacobian, solvers/solver/stepjacobian.c).
  Each operator counts its Hessian-vector products (SAProbeOperatorGetHVPCount).
*/
#include <stabaudit/saprobe.h>

typedef enum { SA_PROBEOP_HESSIAN = 0, SA_PROBEOP_PRECOND = 1 } SAProbeOpKind;

typedef struct {
  SAProbeOpKind kind;
  SATask        task;   /* referenced by pointer: must outlive the operator */
  SABatch       batch;  /* the frozen batch */
  Vec           theta;  /* copy of theta */
  Vec           grad;   /* frozen-batch gradient at theta (J) */
  Vec           w1, w2; /* work, theta layout */
  Vec           dscale; /* D of the preconditioned Hessian */
  PetscInt      nloc;   /* local length of theta */
  PetscInt      nhvp;   /* Hessian-vector products so far */
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

.seealso: `SAStepJacobianCreate()`, `SAProbeOperatorGetHVPCount()`
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
  SAProbeOperatorGetHVPCount - Returns the number of Hessian-vector products an operator of the probes has done

  Not Collective

  Input Parameter:
. A - an operator of `SAProbeCreateHessian()` or `SAProbeCreatePreconditionedHessian()`

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
