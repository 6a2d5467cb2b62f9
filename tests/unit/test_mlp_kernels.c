/*
  test_mlp_kernels.c - the pure-C MLP kernels (solvers/kernels/mlp_kernels.c): parameter layout, forward
  against naive loops, hand-computed losses, accuracy count, gradient and Hessian-vector product against
  central finite differences, symmetry of the Hessian, the sum-over-batch semantics, and the HVP's reuse of the
  backward products stored by a gradient (bitwise the HVP of a fresh forward, also after signal-modified gradients
  and HVPs), and the signal-modified HVP against central differences of the signal-modified gradient.

  Net 5-7-6-4 (L = 3), B = 9, every activation (tanh, relu, gelu) x loss (xent, mse) x dropout (off, on).
  Test data come from a fixed 64-bit LCG inside this file (deterministic, no rand()).

  Tolerances (relative, in the 2-norm over a parameter group or the whole vector):
    TOL_GRAD = 1e-6  gradient vs central differences of the loss, step h_i = 1e-6 max(1, |theta_i|).
                     Truncation is h^2 |L'''| / 6 ~ 1e-12 (smooth activations; relu is piecewise linear in
                     each weight and the data are kept >= 1e-3 away from its kinks, so its FD is exact up to
                     roundoff). Roundoff is ~ eps |L| / h ~ 2e-16 * 10 / 1e-6 = 2e-9 per component. Expected
                     errors are therefore ~1e-9; 1e-6 leaves a wide margin yet any wrong term gives >= 1e-3.
    TOL_HVP  = 1e-6  H v vs (g(theta + h v) - g(theta - h v)) / 2h with ||v|| = 1, h = 1e-6: the same
                     truncation/roundoff balance one derivative higher (roundoff eps |g| / h ~ 1e-9).
    TOL_SYM  = 1e-10 |u^T H v - v^T H u| / (||u|| ||H v||): both sides are exact up to rounding (~1e-15).
    TOL_SUM  = 1e-13 loss, gradient and HVP of a batch vs the sum over its two halves: only the order of the
                     floating-point sums differs.
    TOL_EXACT = 1e-14 hand-computed losses and the naive-loop forward.
*/
#include "../../solvers/kernels/mlp_kernels.h"
#include <stabaudit/sasys.h>
#include "satest.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

#define TOL_GRAD  1e-6
#define TOL_HVP   1e-6
#define TOL_SYM   1e-10
#define TOL_SUM   1e-13
#define TOL_EXACT 1e-14
#define KINK_GAP  1e-3 /* relu: every hidden pre-activation at least this far from 0 */

#define NL     3
#define NB     9
#define NP_MAX 256
#define NW_MAX 2048
#define WMAX   7

static const int   widths[NL + 1] = {5, 7, 6, 4};
static const char *actname[]      = {"tanh", "relu", "gelu"};
static const char *lossname[]     = {"xent", "mse"};

typedef struct {
  int                  act, loss;     /* SA_ACT_*, SA_LOSS_* */
  size_t               P;             /* number of parameters */
  double               theta[NP_MAX]; /* (P) */
  double               X[NB * 5];     /* (B, w[0]) */
  int                  y[NB];         /* (B) */
  double               mbuf[NL - 1][NB * WMAX];
  const double        *masks[NL - 1]; /* masks[l-1] (B, w[l]) */
  const double *const *mk;            /* masks or NULL (no dropout) */
  double               ws[NW_MAX];    /* kernel workspace */
} Problem;

/* uniform in [-1, 1) from a 64-bit LCG (Knuth's MMIX constants) */
static double Uniform(uint64_t *s)
{
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return 2.0 * (double) (*s >> 11) / 9007199254740992.0 - 1.0;
}

static double Norm(const double *a, size_t n)
{
  double s = 0.0;

  for (size_t i = 0; i < n; i++) s += a[i] * a[i];
  return sqrt(s);
}

static double DiffNorm(const double *a, const double *b, size_t n)
{
  double s = 0.0;

  for (size_t i = 0; i < n; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
  return sqrt(s);
}

static double Dot(const double *a, const double *b, size_t n)
{
  double s = 0.0;

  for (size_t i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

static double RefAct(int act, double x)
{
  if (act == SA_ACT_RELU) return x > 0 ? x : 0;
  if (act == SA_ACT_GELU) return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
  return tanh(x);
}

/* naive-loop forward of the 5-7-6-4 net: summed loss and min |hidden pre-activation| */
static double RefForward(const Problem *pb, const double *theta, double *minpre)
{
  double a[WMAX], z[WMAX], loss = 0.0;

  *minpre = INFINITY;
  for (int n = 0; n < NB; n++) {
    size_t off = 0;

    for (int i = 0; i < widths[0]; i++) a[i] = pb->X[n * widths[0] + i];
    for (int l = 1; l <= NL; l++) {
      const int ni = widths[l - 1], no = widths[l];

      for (int o = 0; o < no; o++) {
        z[o] = theta[off + (size_t) no * ni + o];
        for (int i = 0; i < ni; i++) z[o] += theta[off + (size_t) o * ni + i] * a[i];
      }
      off += (size_t) no * (ni + 1);
      if (l < NL)
        for (int o = 0; o < no; o++) {
          *minpre = PetscMin(*minpre, fabs(z[o]));
          a[o]    = RefAct(pb->act, z[o]) * (pb->mk ? pb->mk[l - 1][n * no + o] : 1.0);
        }
    }
    if (pb->loss == SA_LOSS_XENT) {
      double s = 0.0;
      for (int c = 0; c < widths[NL]; c++) s += exp(z[c]);
      loss += log(s) - z[pb->y[n]];
    } else
      for (int c = 0; c < widths[NL]; c++) loss += 0.5 * (z[c] - (c == pb->y[n])) * (z[c] - (c == pb->y[n]));
  }
  return loss;
}

/* fills theta, X, y and masks from seed; retries seeds until every hidden pre-activation is KINK_GAP from 0 */
static PetscErrorCode SetUpProblem(Problem *pb, int act, int loss, PetscBool dropout)
{
  double   minpre = 0.0;
  uint64_t s;
  int      seed;

  PetscFunctionBeginUser;
  memset(pb, 0, sizeof(*pb));
  pb->act  = act;
  pb->loss = loss;
  pb->P    = sa_mlp_nparams(NL, widths);
  PetscCheck(pb->P <= NP_MAX && sa_mlp_workspace(NL, widths, NB) <= NW_MAX, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "test buffers too small");
  for (seed = 1; seed <= 100; seed++) {
    size_t off = 0;

    s = (uint64_t) seed * 7919u + (uint64_t) (10 * act + 3 * loss + (dropout ? 1 : 0));
    for (int l = 1; l <= NL; l++) {
      const int ni = widths[l - 1], no = widths[l];

      for (int i = 0; i < no * ni; i++) pb->theta[off++] = 2.0 / sqrt((double) ni) * Uniform(&s);
      for (int o = 0; o < no; o++) pb->theta[off++] = 0.3 * Uniform(&s);
    }
    for (int i = 0; i < NB * widths[0]; i++) pb->X[i] = 1.5 * Uniform(&s);
    for (int n = 0; n < NB; n++) pb->y[n] = (int) floor(2.0 * (Uniform(&s) + 1.0)) % widths[NL];
    for (int l = 1; l < NL; l++) {
      for (int i = 0; i < NB * widths[l]; i++) pb->mbuf[l - 1][i] = Uniform(&s) > -0.4 ? 1.0 / 0.7 : 0.0;
      pb->masks[l - 1] = pb->mbuf[l - 1];
    }
    pb->mk = dropout ? pb->masks : NULL;
    (void) RefForward(pb, pb->theta, &minpre);
    if (minpre > KINK_GAP) break;
  }
  PetscCheck(minpre > KINK_GAP, PETSC_COMM_SELF, PETSC_ERR_PLIB, "no seed keeps pre-activations off 0");
  PetscFunctionReturn(PETSC_SUCCESS);
}

static double LossAt(Problem *pb, const double *theta)
{
  return sa_mlp_forward(pb->ws, theta, pb->X, pb->y, pb->mk, NL, widths, pb->act, pb->loss, NB);
}

static void GradAt(Problem *pb, const double *theta, double *g)
{
  memset(g, 0, pb->P * sizeof(double));
  (void) LossAt(pb, theta);
  sa_mlp_backward(g, pb->ws, theta, pb->X, pb->y, pb->mk, NL, widths, pb->act, pb->loss, NB);
}

static void HvpAt(Problem *pb, const double *theta, const double *v, double *Hv)
{
  memset(Hv, 0, pb->P * sizeof(double));
  sa_mlp_hvp(Hv, pb->ws, theta, v, pb->X, pb->y, pb->mk, NL, widths, pb->act, pb->loss, NB);
}

static PetscErrorCode CheckLayout(void)
{
  size_t offW[NL], offb[NL], expect = 0;

  PetscFunctionBeginUser;
  sa_mlp_offsets(NL, widths, offW, offb);
  for (int l = 1; l <= NL; l++) {
    PetscCheck(offW[l - 1] == expect, PETSC_COMM_SELF, PETSC_ERR_PLIB, "offW[%d] = %zu, expected %zu", l - 1,
               offW[l - 1], expect);
    expect += (size_t) widths[l] * widths[l - 1];
    PetscCheck(offb[l - 1] == expect, PETSC_COMM_SELF, PETSC_ERR_PLIB, "offb[%d] = %zu, expected %zu", l - 1,
               offb[l - 1], expect);
    expect += (size_t) widths[l];
  }
  PetscCheck(sa_mlp_nparams(NL, widths) == expect && expect == 118, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "nparams %zu, expected 118", sa_mlp_nparams(NL, widths));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckReferenceForward(void)
{
  Problem pb;
  double  emax = 0.0, minpre;

  PetscFunctionBeginUser;
  for (int act = 0; act < 3; act++)
    for (int loss = 0; loss < 2; loss++)
      for (int d = 0; d < 2; d++) {
        double ref, got, e;

        PetscCall(SetUpProblem(&pb, act, loss, (PetscBool) d));
        ref  = RefForward(&pb, pb.theta, &minpre);
        got  = LossAt(&pb, pb.theta);
        e    = fabs(got - ref) / fabs(ref);
        emax = PetscMax(emax, e);
        PetscCheck(e < TOL_EXACT, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s/%s/dropout %d: loss %.17g, naive %.17g",
                   actname[act], lossname[loss], d, got, ref);
      }
  PetscCall(
    PetscPrintf(PETSC_COMM_WORLD, "\n  forward vs naive loops: max rel err %.2e (tol %.0e)\n", emax, TOL_EXACT));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckGradient(void)
{
  Problem pb;
  double  g[NP_MAX], fd[NP_MAX], th[NP_MAX], emax = 0.0;
  size_t  offW[NL], offb[NL];

  PetscFunctionBeginUser;
  sa_mlp_offsets(NL, widths, offW, offb);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "\n  gradient vs central FD, rel err per group W1 b1 W2 b2 W3 b3:\n"));
  for (int act = 0; act < 3; act++)
    for (int loss = 0; loss < 2; loss++)
      for (int d = 0; d < 2; d++) {
        double e[2 * NL];

        PetscCall(SetUpProblem(&pb, act, loss, (PetscBool) d));
        GradAt(&pb, pb.theta, g);
        memcpy(th, pb.theta, pb.P * sizeof(double));
        for (size_t i = 0; i < pb.P; i++) {
          const double    h  = 1e-6 * PetscMax(1.0, fabs(th[i]));
          volatile double tp = th[i] + h, tm = th[i] - h;
          double          lp, lm;

          th[i] = tp;
          lp    = LossAt(&pb, th);
          th[i] = tm;
          lm    = LossAt(&pb, th);
          th[i] = pb.theta[i];
          fd[i] = (lp - lm) / (tp - tm);
        }
        for (int l = 0; l < NL; l++)
          for (int k = 0; k < 2; k++) {
            const size_t o = k ? offb[l] : offW[l], n = k ? (size_t) widths[l + 1] : offb[l] - offW[l];
            const double gn = Norm(g + o, n);

            PetscCheck(gn > 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "zero gradient group: test data too degenerate");
            e[2 * l + k] = DiffNorm(fd + o, g + o, n) / gn;
            emax         = PetscMax(emax, e[2 * l + k]);
          }
        PetscCall(PetscPrintf(PETSC_COMM_WORLD, "    %s %s dropout=%d: %.1e %.1e %.1e %.1e %.1e %.1e\n", actname[act],
                              lossname[loss], d, e[0], e[1], e[2], e[3], e[4], e[5]));
        for (int k = 0; k < 2 * NL; k++)
          PetscCheck(e[k] < TOL_GRAD, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s/%s/dropout %d: group %d rel err %g",
                     actname[act], lossname[loss], d, k, e[k]);
      }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  gradient: max rel err %.2e (tol %.0e)\n", emax, TOL_GRAD));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void RandomUnit(double *v, size_t n, uint64_t seed)
{
  double nv;

  for (size_t i = 0; i < n; i++) v[i] = Uniform(&seed);
  nv = Norm(v, n);
  for (size_t i = 0; i < n; i++) v[i] /= nv;
}

static PetscErrorCode CheckHessian(void)
{
  Problem      pb;
  double       v[NP_MAX], u[NP_MAX], Hv[NP_MAX], Hu[NP_MAX], gp[NP_MAX], gm[NP_MAX], fd[NP_MAX], th[NP_MAX];
  double       emax = 0.0, smax = 0.0;
  const double h = 1e-6;

  PetscFunctionBeginUser;
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "\n  HVP vs central FD of the gradient | symmetry u'Hv vs v'Hu:\n"));
  for (int act = 0; act < 3; act++)
    for (int loss = 0; loss < 2; loss++)
      for (int d = 0; d < 2; d++) {
        double e, sym;

        PetscCall(SetUpProblem(&pb, act, loss, (PetscBool) d));
        RandomUnit(v, pb.P, 12345u + (uint64_t) act);
        RandomUnit(u, pb.P, 777u + (uint64_t) loss);
        (void) LossAt(&pb, pb.theta); /* one forward serves both products */
        HvpAt(&pb, pb.theta, v, Hv);
        HvpAt(&pb, pb.theta, u, Hu);
        for (size_t i = 0; i < pb.P; i++) th[i] = pb.theta[i] + h * v[i];
        GradAt(&pb, th, gp);
        for (size_t i = 0; i < pb.P; i++) th[i] = pb.theta[i] - h * v[i];
        GradAt(&pb, th, gm);
        for (size_t i = 0; i < pb.P; i++) fd[i] = (gp[i] - gm[i]) / (2.0 * h);
        e    = DiffNorm(fd, Hv, pb.P) / Norm(Hv, pb.P);
        sym  = fabs(Dot(u, Hv, pb.P) - Dot(v, Hu, pb.P)) / (Norm(u, pb.P) * Norm(Hv, pb.P));
        emax = PetscMax(emax, e);
        smax = PetscMax(smax, sym);
        PetscCall(PetscPrintf(PETSC_COMM_WORLD, "    %s %s dropout=%d: %.1e | %.1e\n", actname[act], lossname[loss], d,
                              e, sym));
        PetscCheck(e < TOL_HVP, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s/%s/dropout %d: HVP rel err %g", actname[act],
                   lossname[loss], d, e);
        PetscCheck(sym < TOL_SYM, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s/%s/dropout %d: asymmetry %g", actname[act],
                   lossname[loss], d, sym);
      }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  HVP: max rel err %.2e (tol %.0e); symmetry: max %.2e (tol %.0e)\n", emax,
                        TOL_HVP, smax, TOL_SYM));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  2-2-2 relu net, W1 = [1 0; 0 -1], b1 = (0, 0.5), W2 = [2 1; 0 1], b2 = (0, 0).
  sample 1: x = (1, 2):   Z1 = (1, -1.5), A1 = (1, 0),   z = (2, 0)
  sample 2: x = (-1, -1): Z1 = (-1, 1.5), A1 = (0, 1.5), z = (1.5, 1.5)
  labels (0, 1):
    xent = [log(e^2 + 1) - 2] + [log(2 e^1.5) - 1.5] = log(1 + e^-2) + log 2
    mse  = 0.5 [(2-1)^2 + 0^2] + 0.5 [1.5^2 + 0.5^2] = 0.5 + 1.25 = 1.75
  dropout mask (2, 0 | 1, 1): sample 1 A1 = (2, 0), z = (4, 0); xent = log(1 + e^-4) + log 2
*/
static PetscErrorCode CheckHandLoss(void)
{
  const int     w[3]     = {2, 2, 2};
  const double  theta[]  = {1, 0, 0, -1, 0, 0.5, 2, 1, 0, 1, 0, 0};
  const double  X[]      = {1, 2, -1, -1};
  const int     y[]      = {0, 1};
  const double  m1[]     = {2, 0, 1, 1};
  const double *masks[1] = {m1};
  const double  zref[]   = {2, 0, 1.5, 1.5};
  double        ws[64], z[4], lx, lm, ld, ex, ed;

  PetscFunctionBeginUser;
  PetscCheck(sa_mlp_nparams(2, w) == 12 && sa_mlp_workspace(2, w, 2) <= 64, PETSC_COMM_SELF, PETSC_ERR_PLIB, "sizes");
  lx = sa_mlp_forward(ws, theta, X, y, NULL, 2, w, SA_ACT_RELU, SA_LOSS_XENT, 2);
  sa_mlp_logits(z, ws, 2, w, 2);
  for (int i = 0; i < 4; i++)
    PetscCheck(z[i] == zref[i], PETSC_COMM_SELF, PETSC_ERR_PLIB, "logit %d = %g, expected %g", i, z[i], zref[i]);
  lm = sa_mlp_forward(ws, theta, X, y, NULL, 2, w, SA_ACT_RELU, SA_LOSS_MSE, 2);
  ld = sa_mlp_forward(ws, theta, X, y, masks, 2, w, SA_ACT_RELU, SA_LOSS_XENT, 2);
  ex = log1p(exp(-2.0)) + log(2.0);
  ed = log1p(exp(-4.0)) + log(2.0);
  PetscCall(
    PetscPrintf(PETSC_COMM_WORLD,
                "\n  hand case: xent %.17g (exact %.17g), mse %.17g (exact 1.75), dropout xent %.17g (exact %.17g)\n",
                lx, ex, lm, ld, ed));
  PetscCheck(fabs(lx - ex) < TOL_EXACT * ex, PETSC_COMM_SELF, PETSC_ERR_PLIB, "xent %.17g, expected %.17g", lx, ex);
  PetscCheck(fabs(lm - 1.75) < TOL_EXACT, PETSC_COMM_SELF, PETSC_ERR_PLIB, "mse %.17g, expected 1.75", lm);
  PetscCheck(fabs(ld - ed) < TOL_EXACT * ed, PETSC_COMM_SELF, PETSC_ERR_PLIB, "dropout xent %.17g, expected %.17g", ld,
             ed);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* L = 1 (no hidden layer): W = [I3; 0], b = (0, 0, 0, 0.5), so the logits are (x, 0.5) */
static PetscErrorCode CheckCorrect(void)
{
  const int    w[2]    = {3, 4};
  const double theta[] = {1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0.5};
  const double X[]     = {3, 1, 2, 0, -1, -2, 1, 5, 2, 0.1, 0.2, 0.3, 0, 0, 1};
  const int    y[]     = {0, 3, 2, 3, 2}; /* argmax: 0 3 1 3 2 -> 4 correct */
  double       ws[256], z[20], l;
  int          nc;

  PetscFunctionBeginUser;
  PetscCheck(sa_mlp_workspace(1, w, 5) <= 256, PETSC_COMM_SELF, PETSC_ERR_PLIB, "workspace");
  l = sa_mlp_forward(ws, theta, X, NULL, NULL, 1, w, SA_ACT_TANH, SA_LOSS_XENT, 5);
  PetscCheck(l == 0.0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "y = NULL must return 0, got %g", l);
  nc = sa_mlp_correct(ws, y, 1, w, 5);
  PetscCheck(nc == 4, PETSC_COMM_SELF, PETSC_ERR_PLIB, "correct = %d, expected 4", nc);
  sa_mlp_logits(z, ws, 1, w, 5);
  for (int n = 0; n < 5; n++)
    for (int c = 0; c < 4; c++) {
      const double e = c < 3 ? X[3 * n + c] : 0.5;
      PetscCheck(z[4 * n + c] == e, PETSC_COMM_SELF, PETSC_ERR_PLIB, "logit (%d,%d) = %g, expected %g", n, c,
                 z[4 * n + c], e);
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* batch of 9 = rows 0..3 + rows 4..8; the halves accumulate into the same gradient / HVP buffer */
static PetscErrorCode CheckSumSemantics(void)
{
  Problem   pb;
  double    g[NP_MAX], gh[NP_MAX], hv[NP_MAX], hvh[NP_MAX], v[NP_MAX], emax = 0.0;
  const int nh[2] = {4, 5}, r0[2] = {0, 4};

  PetscFunctionBeginUser;
  for (int act = 0; act < 3; act++)
    for (int loss = 0; loss < 2; loss++)
      for (int d = 0; d < 2; d++) {
        double lf, lh = 0.0, e[3];

        PetscCall(SetUpProblem(&pb, act, loss, (PetscBool) d));
        RandomUnit(v, pb.P, 99u);
        GradAt(&pb, pb.theta, g);
        lf = LossAt(&pb, pb.theta);
        HvpAt(&pb, pb.theta, v, hv);
        memset(gh, 0, sizeof(gh));
        memset(hvh, 0, sizeof(hvh));
        for (int k = 0; k < 2; k++) {
          const double *mh[NL - 1];

          for (int l = 1; l < NL; l++) mh[l - 1] = pb.masks[l - 1] + (size_t) r0[k] * widths[l];
          lh += sa_mlp_forward(pb.ws, pb.theta, pb.X + r0[k] * widths[0], pb.y + r0[k], d ? mh : NULL, NL, widths, act,
                               loss, nh[k]);
          sa_mlp_backward(gh, pb.ws, pb.theta, pb.X + r0[k] * widths[0], pb.y + r0[k], d ? mh : NULL, NL, widths, act,
                          loss, nh[k]);
          sa_mlp_hvp(hvh, pb.ws, pb.theta, v, pb.X + r0[k] * widths[0], pb.y + r0[k], d ? mh : NULL, NL, widths, act,
                     loss, nh[k]);
        }
        e[0] = fabs(lh - lf) / fabs(lf);
        e[1] = DiffNorm(gh, g, pb.P) / Norm(g, pb.P);
        e[2] = DiffNorm(hvh, hv, pb.P) / Norm(hv, pb.P);
        for (int k = 0; k < 3; k++) {
          emax = PetscMax(emax, e[k]);
          PetscCheck(e[k] < TOL_SUM, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s/%s/dropout %d: halves differ (%d) by %g",
                     actname[act], lossname[loss], d, k, e[k]);
        }
      }
  PetscCall(PetscPrintf(
    PETSC_COMM_WORLD, "\n  sum semantics (loss, grad, HVP of 9 vs 4+5): max rel err %.2e (tol %.0e)\n", emax, TOL_SUM));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  The R-backward reuses the backward products D_l W_l of the clean loss that a gradient (or an earlier HVP) of the same
  forward stored in ws. Every sequence below must give the HVP of a fresh forward BITWISE (the same operations on the
  same values): after a clean gradient, after gradients with a per-sample scale (stored, chain kept clean) and with an
  added term (nothing stored), a second HVP, an added-term gradient between two HVPs, and a forward at another theta
  after a gradient (the stored products are invalidated), and an HVP with a signal modifier after a clean gradient (it
  overwrites the products and must mark them absent). The scaled gradient (clean chain, scaled per layer) must
  agree with the one of the modified chain (dadd = 0 forces that path) to TOL_SUM.
*/
static PetscErrorCode CheckStoredDeltas(void)
{
  Problem pb;
  double  v[NP_MAX], h0[NP_MAX], h[NP_MAX], g[NP_MAX], gm[NP_MAX], t2[NP_MAX], h2[NP_MAX], emax = 0.0;
  double  dscale[NB], dadd[NB * 4], zero[NB * 4] = {0};
  int     nseq = 0;

  PetscFunctionBeginUser;
  for (int n = 0; n < NB; n++) dscale[n] = 0.3 + 0.1 * n; /* not powers of two */
  for (int i = 0; i < NB * widths[NL]; i++) dadd[i] = 0.01 * (i % 7) - 0.02;
  for (int act = 0; act < 3; act++)
    for (int loss = 0; loss < 2; loss++)
      for (int d = 0; d < 2; d++) {
        double e;

        PetscCall(SetUpProblem(&pb, act, loss, (PetscBool) d));
        RandomUnit(v, pb.P, 7u);
        for (size_t i = 0; i < pb.P; i++) t2[i] = pb.theta[i] * (1.0 + 0.01 * v[i]);
        (void) LossAt(&pb, pb.theta); /* fresh forward, the HVP computes and stores the products itself */
        HvpAt(&pb, pb.theta, v, h0);
        for (int seq = 0; seq < 7; seq++) {
          (void) LossAt(&pb, pb.theta);
          memset(g, 0, sizeof(g));
          switch (seq) {
          case 0: sa_mlp_backward(g, pb.ws, pb.theta, pb.X, pb.y, pb.mk, NL, widths, act, loss, NB); break;
          case 1:
            sa_mlp_backward_signal(g, pb.ws, pb.theta, pb.X, pb.y, pb.mk, NL, widths, act, loss, NB, dscale, NULL);
            break;
          case 2:
            sa_mlp_backward_signal(g, pb.ws, pb.theta, pb.X, pb.y, pb.mk, NL, widths, act, loss, NB, dscale, dadd);
            break;
          case 3: /* a second HVP reuses what the first stored */
            sa_mlp_backward(g, pb.ws, pb.theta, pb.X, pb.y, pb.mk, NL, widths, act, loss, NB);
            HvpAt(&pb, pb.theta, v, h);
            break;
          case 4: /* an added-term gradient between two HVPs leaves the stored products alone */
            HvpAt(&pb, pb.theta, v, h);
            sa_mlp_backward_signal(g, pb.ws, pb.theta, pb.X, pb.y, pb.mk, NL, widths, act, loss, NB, NULL, dadd);
            break;
          case 6: /* an HVP with a signal modifier after a clean gradient: the products it leaves are not clean */
            sa_mlp_backward(g, pb.ws, pb.theta, pb.X, pb.y, pb.mk, NL, widths, act, loss, NB);
            memset(h, 0, sizeof(h));
            sa_mlp_hvp_signal(h, pb.ws, pb.theta, v, pb.X, pb.y, pb.mk, NL, widths, act, loss, NB, dscale, dadd);
            break;
          case 5: /* a forward at another theta after a gradient: products of that theta */
            sa_mlp_backward(g, pb.ws, pb.theta, pb.X, pb.y, pb.mk, NL, widths, act, loss, NB);
            (void) LossAt(&pb, t2);
            HvpAt(&pb, t2, v, h2);
            (void) LossAt(&pb, t2);
            sa_mlp_backward(g, pb.ws, t2, pb.X, pb.y, pb.mk, NL, widths, act, loss, NB);
            (void) LossAt(&pb, t2);
            break;
          }
          HvpAt(&pb, seq == 5 ? t2 : pb.theta, v, h);
          PetscCheck(!memcmp(h, seq == 5 ? h2 : h0, pb.P * sizeof(double)), PETSC_COMM_SELF, PETSC_ERR_PLIB,
                     "%s/%s/dropout %d: HVP of sequence %d differs from a fresh forward's (rel %g)", actname[act],
                     lossname[loss], d, seq, DiffNorm(h, seq == 5 ? h2 : h0, pb.P) / Norm(h0, pb.P));
          nseq++;
        }
        /* the scaled gradient: clean chain scaled per layer vs the modified chain (dadd = 0) */
        (void) LossAt(&pb, pb.theta);
        memset(g, 0, sizeof(g));
        sa_mlp_backward_signal(g, pb.ws, pb.theta, pb.X, pb.y, pb.mk, NL, widths, act, loss, NB, dscale, NULL);
        memset(gm, 0, sizeof(gm));
        sa_mlp_backward_signal(gm, pb.ws, pb.theta, pb.X, pb.y, pb.mk, NL, widths, act, loss, NB, dscale, zero);
        e    = DiffNorm(g, gm, pb.P) / Norm(gm, pb.P);
        emax = PetscMax(emax, e);
        PetscCheck(e < TOL_SUM, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s/%s/dropout %d: scaled gradients differ by %g",
                   actname[act], lossname[loss], d, e);
      }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "\n  stored backward products: %d HVP sequences bitwise equal to a fresh forward's; scaled "
                        "gradient, clean vs modified chain: max rel err %.2e (tol %.0e)\n",
                        nseq, emax, TOL_SUM));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  The HVP with a signal modifier (sa_mlp_hvp_signal) is the derivative of the gradient of sa_mlp_backward_signal with
  the same dscale and dadd: against central differences of that gradient (TOL_HVP), for a per-sample scale alone
  (signs and factors), an added term alone and both, every activation x loss x dropout. The clean HVP must miss the
  differences by far (> 1e-3 relative), so the check can fail; an HVP with dscale and dadd NULL is bitwise the clean
  one.
*/
static PetscErrorCode CheckSignalHessian(void)
{
  static const char *modname[] = {"scale", "add", "scale+add"};
  Problem            pb;
  double v[NP_MAX], Hv[NP_MAX], Hc[NP_MAX], gp[NP_MAX], gm[NP_MAX], fd[NP_MAX], th[NP_MAX], dscale[NB], dadd[NB * 4];
  double emax = 0.0, cmin = 1e300;
  const double h = 1e-6;

  PetscFunctionBeginUser;
  for (int n = 0; n < NB; n++) dscale[n] = n % 3 ? 1.0 - 0.1 * n : -1.0; /* flips and factors */
  for (int i = 0; i < NB * widths[NL]; i++) dadd[i] = 0.3 * ((i * 37) % 11 - 5) / 5.0;
  PetscCall(
    PetscPrintf(PETSC_COMM_WORLD, "\n  signal-modified HVP vs central FD of the modified gradient | clean HVP:\n"));
  for (int act = 0; act < 3; act++)
    for (int loss = 0; loss < 2; loss++)
      for (int d = 0; d < 2; d++)
        for (int m = 0; m < 3; m++) {
          const double *ds = m != 1 ? dscale : NULL, *da = m != 0 ? dadd : NULL;
          double        e, ec;

          PetscCall(SetUpProblem(&pb, act, loss, (PetscBool) d));
          RandomUnit(v, pb.P, 4242u + (uint64_t) m);
          (void) LossAt(&pb, pb.theta);
          memset(Hv, 0, sizeof(Hv));
          sa_mlp_hvp_signal(Hv, pb.ws, pb.theta, v, pb.X, pb.y, pb.mk, NL, widths, act, loss, NB, ds, da);
          memset(Hc, 0, sizeof(Hc));
          sa_mlp_hvp_signal(Hc, pb.ws, pb.theta, v, pb.X, pb.y, pb.mk, NL, widths, act, loss, NB, NULL, NULL);
          HvpAt(&pb, pb.theta, v, fd);
          PetscCheck(!memcmp(Hc, fd, pb.P * sizeof(double)), PETSC_COMM_SELF, PETSC_ERR_PLIB,
                     "%s/%s/dropout %d: the HVP without modifier differs from the clean one", actname[act],
                     lossname[loss], d);
          for (int sgn = 0; sgn < 2; sgn++) {
            double *g = sgn ? gm : gp;

            for (size_t i = 0; i < pb.P; i++) th[i] = pb.theta[i] + (sgn ? -h : h) * v[i];
            memset(g, 0, pb.P * sizeof(double));
            (void) LossAt(&pb, th);
            sa_mlp_backward_signal(g, pb.ws, th, pb.X, pb.y, pb.mk, NL, widths, act, loss, NB, ds, da);
          }
          for (size_t i = 0; i < pb.P; i++) fd[i] = (gp[i] - gm[i]) / (2.0 * h);
          e    = DiffNorm(fd, Hv, pb.P) / Norm(Hv, pb.P);
          ec   = DiffNorm(fd, Hc, pb.P) / Norm(Hv, pb.P);
          emax = PetscMax(emax, e);
          cmin = PetscMin(cmin, ec);
          PetscCall(PetscPrintf(PETSC_COMM_WORLD, "    %s %s dropout=%d %-9s: %.1e | %.1e\n", actname[act],
                                lossname[loss], d, modname[m], e, ec));
          PetscCheck(e < TOL_HVP, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s/%s/dropout %d/%s: HVP rel err %g", actname[act],
                     lossname[loss], d, modname[m], e);
          PetscCheck(ec > 1e-3, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s/%s/dropout %d/%s: the clean HVP matches (%g)",
                     actname[act], lossname[loss], d, modname[m], ec);
        }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  signal HVP: max rel err %.2e (tol %.0e); clean HVP: min rel err %.2e\n",
                        emax, TOL_HVP, cmin));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void test_layout(void) { CU_ASSERT_EQUAL(CheckLayout(), PETSC_SUCCESS); }
static void test_reference_forward(void) { CU_ASSERT_EQUAL(CheckReferenceForward(), PETSC_SUCCESS); }
static void test_hand_loss(void) { CU_ASSERT_EQUAL(CheckHandLoss(), PETSC_SUCCESS); }
static void test_correct(void) { CU_ASSERT_EQUAL(CheckCorrect(), PETSC_SUCCESS); }
static void test_gradient(void) { CU_ASSERT_EQUAL(CheckGradient(), PETSC_SUCCESS); }
static void test_hessian(void) { CU_ASSERT_EQUAL(CheckHessian(), PETSC_SUCCESS); }
static void test_sum_semantics(void) { CU_ASSERT_EQUAL(CheckSumSemantics(), PETSC_SUCCESS); }
static void test_stored_deltas(void) { CU_ASSERT_EQUAL(CheckStoredDeltas(), PETSC_SUCCESS); }
static void test_signal_hessian(void) { CU_ASSERT_EQUAL(CheckSignalHessian(), PETSC_SUCCESS); }

int main(int argc, char **argv)
{
  int       nfail_all;
  CU_pSuite s;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  if (CU_initialize_registry() != CUE_SUCCESS) return EXIT_FAILURE;
  s = CU_add_suite("mlp_kernels", NULL, NULL);
  CU_add_test(s, "parameter layout and counts", test_layout);
  CU_add_test(s, "forward agrees with naive loops", test_reference_forward);
  CU_add_test(s, "hand-computed losses and logits", test_hand_loss);
  CU_add_test(s, "argmax count, y = NULL, L = 1", test_correct);
  CU_add_test(s, "gradient vs central differences", test_gradient);
  CU_add_test(s, "HVP vs central differences, symmetry", test_hessian);
  CU_add_test(s, "sums over batch halves", test_sum_semantics);
  CU_add_test(s, "HVP reuse of the stored backward products", test_stored_deltas);
  CU_add_test(s, "signal-modified HVP vs central differences of the modified gradient", test_signal_hessian);
  PetscCall(SATestRunSuite(PETSC_COMM_WORLD, &nfail_all));
  PetscCall(PetscFinalize());
  return nfail_all ? EXIT_FAILURE : EXIT_SUCCESS;
}
