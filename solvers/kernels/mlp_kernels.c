/*
  mlp_kernels.c - fully connected network: forward, backward, exact Hessian-vector product, accuracy.

  Method:
    forward   Z_l = A_{l-1} W_l^T + b_l, A_l = m_l * f(Z_l) (hidden), z = Z_L (logits), A_0 = X
    backward  D_L = dloss/dz (xent: softmax(z) - onehot; mse: z - onehot), then for l = L..1
              gW_l += D_l^T A_{l-1}, gb_l += colsum D_l, D_{l-1} = (D_l W_l) * m * f'(Z_{l-1})
    hvp       Pearlmutter's R-operator R{.} = d/dr (.)(theta + r v) at r = 0, applied to both passes:
              RZ_l = RA_{l-1} W_l^T + A_{l-1} V_l^T + vb_l, RA_l = m * f'(Z_l) * RZ_l (RA_0 = 0),
              RD_L = Hz RZ_L with Hz = diag(p) - p p^T (xent) or I (mse), and backward
              Hv_W_l += RD_l^T A_{l-1} + D_l^T RA_{l-1}, Hv_b_l += colsum RD_l,
              RD_{l-1} = m * ((RD_l W_l + D_l V_l) * f'(Z_{l-1}) + (D_l W_l) * f''(Z_{l-1}) * RZ_{l-1}).
              With a signal modifier (sa_mlp_hvp_signal) the R-backward starts from the delta whose backward gives the
              gradient, D_L' = s_n D_L + a_n, and RD_L' = s_n RD_L (a does not depend on theta): the Hessian of the
              loss whose gradient is the modified one (the D_l and RD_l above are then those of the modified chain).
    All sums run over the batch (no 1/B). Matrix products are BLAS dgemm on row-major data.

  Activation derivatives: tanh f' = 1 - t^2, f'' = -2 t (1 - t^2); relu f' = [x > 0] (0 at x = 0), f'' = 0;
  gelu f = x Phi(x), f' = Phi + x phi, f'' = 2 phi + x phi' = (2 - x^2) phi, with phi the normal density.

  References: B. A. Pearlmutter, Fast exact multiplication by the Hessian, Neural Comput. 6 (1994) 147-160;
  A. Karpathy, llm.c (kernel layout).

  Workspace layout (S = sum_{l=1..L} w[l], M = max_{l=1..L} w[l]; layer l starts at element B*off(l) of each
  (B,S) block, off(l) = sum_{k=1..l-1} w[k]):
    Z  (B,S) pre-activations of every layer, the last being the logits
    A  (B,S) masked activations of hidden layers; the slot of layer L holds softmax(z) (xent)
    RZ (B,S), RA (B,S) the R-forward state of the HVP
    G  (B,S) stored backward products G_l = D_{l+1} W_{l+1} (B, w[l]) of the CLEAN loss (no signal modifier), in the
       slots of the hidden layers l = 1..L-1 (the slot of layer L is unused); D_l = m_l * f'(Z_l) * G_l. An HVP with a
       signal modifier writes the products of its modified chain here and clears the flag
    4 buffers (B,M): D ping-pong, RD ping-pong (the backward uses the third for its scaled delta)
    1 flag: 1.0 when G holds the clean products of the forward now in ws (set by a clean backward or a clean HVP,
       cleared by the forward and by an HVP with a signal modifier), so the clean R-backward does not recompute
       them (one (B,w[l]) x (w[l],w[l-1]) product per layer)
*/
#include "mlp_kernels.h"
#include <math.h>
#include <string.h>

/* Fortran BLAS (column-major); the hidden string-length arguments are not needed for one-character flags */
extern void dgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
                   const double *alpha, const double *a, const int *lda, const double *b, const int *ldb,
                   const double *beta, double *c, const int *ldc);

#define SA_MLP_INV_SQRT2   0.70710678118654752440
#define SA_MLP_INV_SQRT2PI 0.39894228040143267794

/*
  Vectorised tanh (glibc's scalar tanh/expm1 took 54% of the small benchmark step). For a = min(|x|, 20):
    tanh a = e / (e + 2), e = expm1(2 a) = 2^k (expm1(r) + 1) - 1 = 2^k expm1(r) + (2^k - 1),
    2 a = k ln2 + r, k = rint(2 a / ln2) in [0, 58], |r| <= ln2 / 2 (Cody-Waite: ln2 = hi + lo, k hi exact),
    expm1(r) = r + r^2 q(r), q the degree-11 Taylor polynomial of (expm1(r) - r) / r^2 (truncation < 0.1 ulp);
  the sign is copied from x. |x| > 20 gives +-1 (tanh rounds to 1 beyond 19.06, also for +-Inf), NaN stays NaN.
  Error against glibc's tanh: at most 4 ulp (2^20 samples on each of six ranges from subnormal to 25). Written
  with GCC vector extensions on blocks of SA_MLP_VL values; the tail of an array is padded into one more block,
  so every element takes the same instruction sequence and the result of an element does not depend on its
  position or on n (deterministic). One clone per ISA (ifunc chosen at load time by the CPU).
*/
#define SA_MLP_VL 8
typedef double    sa_v8d __attribute__((vector_size(SA_MLP_VL * sizeof(double))));
typedef long long sa_v8i __attribute__((vector_size(SA_MLP_VL * sizeof(long long))));

/* out[0..7] = tanh(in[0..7]); out may equal in */
static inline __attribute__((always_inline)) void tanh_block(double *out, const double *in)
{
  const long long signbit = (long long) 0x8000000000000000ULL;
  const double    shift = 0x1.8p52, ln2hi = 6.93147180369123816490e-01, ln2lo = 1.90821492927058770002e-10;
  const sa_v8d    zero = {0};
  sa_v8d          x, a, x2, ks, k, r, q, p, scale, e, t;
  sa_v8i          sgn, big;

  memcpy(&x, in, sizeof(x));
  sgn   = (sa_v8i) x & signbit;
  a     = (sa_v8d) ((sa_v8i) x & ~signbit);
  big   = a > 20.0; /* false for NaN: NaN propagates */
  a     = (sa_v8d) (((sa_v8i) a & ~big) | ((sa_v8i) (zero + 20.0) & big));
  x2    = a + a;
  ks    = x2 * 1.44269504088896338700 + shift; /* k + 1.5 2^52: k sits in the low mantissa bits */
  k     = ks - shift;
  r     = (x2 - k * ln2hi) - k * ln2lo;
  q     = r * (1.0 / 6227020800.0) + (1.0 / 479001600.0);
  q     = q * r + (1.0 / 39916800.0);
  q     = q * r + (1.0 / 3628800.0);
  q     = q * r + (1.0 / 362880.0);
  q     = q * r + (1.0 / 40320.0);
  q     = q * r + (1.0 / 5040.0);
  q     = q * r + (1.0 / 720.0);
  q     = q * r + (1.0 / 120.0);
  q     = q * r + (1.0 / 24.0);
  q     = q * r + (1.0 / 6.0);
  q     = q * r + 0.5;
  p     = r + (r * r) * q;                                                /* expm1(r) */
  scale = (sa_v8d) (((sa_v8i) ks - (0x4338000000000000LL - 1023)) << 52); /* 2^k */
  e     = scale * p + (scale - 1.0);
  t     = e / (e + 2.0);
  t     = (sa_v8d) ((sa_v8i) t | sgn);
  memcpy(out, &t, sizeof(t));
}

/* out (n) = tanh(in (n)); out may equal in */
#define SA_MLP_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

SA_MLP_CLONES static void tanh_array(double *out, const double *in, size_t n)
{
  size_t i = 0;

  for (; i + SA_MLP_VL <= n; i += SA_MLP_VL) tanh_block(out + i, in + i);
  if (i < n) {
    double buf[SA_MLP_VL] = {0};

    memcpy(buf, in + i, (n - i) * sizeof(double));
    tanh_block(buf, buf);
    memcpy(out + i, buf, (n - i) * sizeof(double));
  }
}

/*
  Element-wise loops of the unmasked tanh path, on the same SA_MLP_VL blocks (GCC's -O2 does not vectorise loops of
  unknown length); the tail is padded into one more block, as in tanh_array, so that every element takes the same
  instruction sequence.
*/
#define SA_MLP_LOAD(v, p)  memcpy(&(v), (p), sizeof(v))
#define SA_MLP_STORE(p, v) memcpy((p), &(v), sizeof(v))

/* out[0..7] = (1 - A^2) x */
static inline __attribute__((always_inline)) void tanh_dmul_block(double *out, const double *A, const double *x)
{
  sa_v8d a, v;

  SA_MLP_LOAD(a, A);
  SA_MLP_LOAD(v, x);
  v = (1.0 - a * a) * v;
  SA_MLP_STORE(out, v);
}

/* out (n) = (1 - A^2) x: tanh' from the stored activation A = tanh(Z) times x; out may equal x */
SA_MLP_CLONES static void tanh_dmul(double *out, const double *A, const double *x, size_t n)
{
  size_t i = 0;

  for (; i + SA_MLP_VL <= n; i += SA_MLP_VL) tanh_dmul_block(out + i, A + i, x + i);
  if (i < n) {
    double a[SA_MLP_VL] = {0}, v[SA_MLP_VL] = {0};

    memcpy(a, A + i, (n - i) * sizeof(double));
    memcpy(v, x + i, (n - i) * sizeof(double));
    tanh_dmul_block(v, a, v);
    memcpy(out + i, v, (n - i) * sizeof(double));
  }
}

/* with d = 1 - A^2, dd = -2 A d: R[0..7] = R d + G dd RZ, D[0..7] = G d */
static inline __attribute__((always_inline)) void tanh_rback_block(double *R, double *D, const double *G,
                                                                   const double *A, const double *RZ)
{
  sa_v8d a, r, g, rz, d, dd;

  SA_MLP_LOAD(a, A);
  SA_MLP_LOAD(r, R);
  SA_MLP_LOAD(g, G);
  SA_MLP_LOAD(rz, RZ);
  d  = 1.0 - a * a;
  dd = -2.0 * a * d;
  r  = r * d + g * dd * rz;
  g  = g * d;
  SA_MLP_STORE(R, r);
  SA_MLP_STORE(D, g);
}

/* the R-backward update of the unmasked tanh path on n elements (tanh' and tanh'' from the stored A = tanh(Z)), from
   the backward product G = D_l W_l: D = G tanh' (the same value as tanh_dmul's) */
SA_MLP_CLONES static void tanh_rback(double *R, double *D, const double *G, const double *A, const double *RZ, size_t n)
{
  size_t i = 0;

  for (; i + SA_MLP_VL <= n; i += SA_MLP_VL) tanh_rback_block(R + i, D + i, G + i, A + i, RZ + i);
  if (i < n) {
    double r[SA_MLP_VL] = {0}, d[SA_MLP_VL] = {0}, g[SA_MLP_VL] = {0}, a[SA_MLP_VL] = {0}, rz[SA_MLP_VL] = {0};
    size_t k = (n - i) * sizeof(double);

    memcpy(r, R + i, k);
    memcpy(g, G + i, k);
    memcpy(a, A + i, k);
    memcpy(rz, RZ + i, k);
    tanh_rback_block(r, d, g, a, rz);
    memcpy(R + i, r, k);
    memcpy(D + i, d, k);
  }
}

/* gb (no) += colsum D (B, no), each column summed over n = 0..B-1 in order */
SA_MLP_CLONES static void colsum_add(double *gb, const double *D, int B, int no)
{
  int o = 0;

  for (; o + SA_MLP_VL <= no; o += SA_MLP_VL) {
    sa_v8d acc, v;

    SA_MLP_LOAD(acc, gb + o);
    for (int n = 0; n < B; n++) {
      SA_MLP_LOAD(v, D + (size_t) n * no + o);
      acc += v;
    }
    SA_MLP_STORE(gb + o, acc);
  }
  for (; o < no; o++)
    for (int n = 0; n < B; n++) gb[o] += D[(size_t) n * no + o];
}

/* the same tanh for one value (masked and scalar paths): bitwise equal to tanh_array's */
static double tanh_one(double x)
{
  double t;

  tanh_array(&t, &x, 1);
  return t;
}

/* row-major C (m,n) = alpha op(A) op(B) + beta C: the column-major product C^T = op(B)^T op(A)^T */
static void gemm_rm(char ta, char tb, int m, int n, int k, double alpha, const double *a, int lda, const double *b,
                    int ldb, double beta, double *c, int ldc)
{
  dgemm_(&tb, &ta, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc);
}

static inline double act_f(int act, double x)
{
  switch (act) {
  case SA_ACT_RELU: return x > 0.0 ? x : 0.0;
  case SA_ACT_GELU: return x * 0.5 * erfc(-x * SA_MLP_INV_SQRT2); /* = 0.5 x (1 + erf(x/sqrt 2)), accurate for x << 0 */
  default: return tanh_one(x);
  }
}

static inline double act_df(int act, double x)
{
  double t;

  switch (act) {
  case SA_ACT_RELU: return x > 0.0 ? 1.0 : 0.0;
  case SA_ACT_GELU: return 0.5 * erfc(-x * SA_MLP_INV_SQRT2) + x * SA_MLP_INV_SQRT2PI * exp(-0.5 * x * x);
  default: t = tanh_one(x); return 1.0 - t * t;
  }
}

static inline double act_d2f(int act, double x)
{
  double t;

  switch (act) {
  case SA_ACT_RELU: return 0.0;
  case SA_ACT_GELU: return (2.0 - x * x) * SA_MLP_INV_SQRT2PI * exp(-0.5 * x * x);
  default: t = tanh_one(x); return -2.0 * t * (1.0 - t * t);
  }
}

/* sum_{k=1..l-1} w[k]: row offset of layer l inside a (B,S) workspace block */
static size_t layer_off(const int w[], int l)
{
  size_t s = 0;

  for (int k = 1; k < l; k++) s += (size_t) w[k];
  return s;
}

/* offset of W_l in theta */
static size_t weight_off(const int w[], int l)
{
  size_t s = 0;

  for (int k = 1; k < l; k++) s += (size_t) w[k] * (size_t) (w[k - 1] + 1);
  return s;
}

static size_t width_sum(int L, const int w[]) { return layer_off(w, L + 1); }

static size_t width_max(int L, const int w[])
{
  size_t m = 0;

  for (int l = 1; l <= L; l++)
    if ((size_t) w[l] > m) m = (size_t) w[l];
  return m;
}

/* mask of hidden layer l, or NULL */
static const double *layer_mask(const double *const *masks, int l) { return masks ? masks[l - 1] : NULL; }

size_t sa_mlp_nparams(int L, const int w[]) { return weight_off(w, L + 1); }

void sa_mlp_offsets(int L, const int w[], size_t offW[], size_t offb[])
{
  for (int l = 1; l <= L; l++) {
    offW[l - 1] = weight_off(w, l);
    offb[l - 1] = offW[l - 1] + (size_t) w[l] * (size_t) w[l - 1];
  }
}

size_t sa_mlp_workspace(int L, const int w[], int B)
{
  return 5 * (size_t) B * width_sum(L, w) + 4 * (size_t) B * width_max(L, w) + 1;
}

/* the flag of the stored backward products G (see the workspace layout) */
static double *stored_flag(double *ws, int L, const int w[], int B)
{
  return ws + 5 * (size_t) B * width_sum(L, w) + 4 * (size_t) B * width_max(L, w);
}

/* Zl (B,no) = in (B,ni) Wl^T + bl, Wl is (no,ni) */
static void affine(double *Zl, const double *in, const double *Wl, const double *bl, int B, int ni, int no)
{
  for (int n = 0; n < B; n++) memcpy(Zl + (size_t) n * no, bl, (size_t) no * sizeof(double));
  gemm_rm('N', 'T', B, no, ni, 1.0, in, ni, Wl, ni, 1.0, Zl, no);
}

double sa_mlp_forward(double *ws, const double *theta, const double *X, const int *y, const double *const *masks, int L,
                      const int w[], int act, int loss, int B)
{
  const size_t  S = width_sum(L, w);
  double       *Z = ws, *A = ws + (size_t) B * S;
  const double *in   = X;
  const int     C    = w[L];
  double       *z    = Z + (size_t) B * layer_off(w, L);
  double       *p    = A + (size_t) B * layer_off(w, L);
  double        lsum = 0.0;

  *stored_flag(ws, L, w, B) = 0.0; /* the stored backward products belong to the previous forward */
  for (int l = 1; l <= L; l++) {
    const int     ni = w[l - 1], no = w[l];
    const double *Wl = theta + weight_off(w, l);
    double       *Zl = Z + (size_t) B * layer_off(w, l);

    affine(Zl, in, Wl, Wl + (size_t) no * ni, B, ni, no);
    if (l < L) {
      double       *Al = A + (size_t) B * layer_off(w, l);
      const double *mk = layer_mask(masks, l);

      if (act == SA_ACT_TANH) {
        tanh_array(Al, Zl, (size_t) B * no);
        if (mk)
          for (size_t i = 0; i < (size_t) B * no; i++) Al[i] *= mk[i];
      } else {
        for (size_t i = 0; i < (size_t) B * no; i++) Al[i] = mk ? mk[i] * act_f(act, Zl[i]) : act_f(act, Zl[i]);
      }
      in = Al;
    }
  }
  for (int n = 0; n < B; n++) {
    const double *zn = z + (size_t) n * C;
    double       *pn = p + (size_t) n * C;

    if (loss == SA_LOSS_XENT) {
      double mx = zn[0], s = 0.0;

      for (int c = 1; c < C; c++)
        if (zn[c] > mx) mx = zn[c];
      for (int c = 0; c < C; c++) s += (pn[c] = exp(zn[c] - mx));
      for (int c = 0; c < C; c++) pn[c] /= s;
      if (y) lsum += log(s) + (mx - zn[y[n]]);
    } else if (y) {
      for (int c = 0; c < C; c++) {
        const double r = zn[c] - (c == y[n] ? 1.0 : 0.0);
        lsum += 0.5 * r * r;
      }
    }
  }
  return lsum;
}

void sa_mlp_logits(double *out, const double *ws, int L, const int w[], int B)
{
  memcpy(out, ws + (size_t) B * layer_off(w, L), (size_t) B * w[L] * sizeof(double));
}

void sa_mlp_activations(double *out, const double *ws, int L, const int w[], int B, int l)
{
  const size_t S = layer_off(w, L) + (size_t) w[L];

  memcpy(out, ws + (size_t) B * S + (size_t) B * layer_off(w, l), (size_t) B * w[l] * sizeof(double));
}

/* D (B,C) = dloss/dz: softmax - onehot (xent) or z - onehot (mse) */
static void output_delta(double *D, const double *z, const double *p, const int *y, int loss, int B, int C)
{
  const double *src = loss == SA_LOSS_XENT ? p : z;

  memcpy(D, src, (size_t) B * C * sizeof(double));
  for (int n = 0; n < B; n++) D[(size_t) n * C + y[n]] -= 1.0;
}

/* gW (no,ni) += D^T (no,B) in (B,ni); gb (no) += colsum D */
static void accumulate_layer(double *gW, double *gb, const double *D, const double *in, int B, int ni, int no)
{
  gemm_rm('T', 'N', no, ni, B, 1.0, D, no, in, ni, 1.0, gW, ni);
  colsum_add(gb, D, B, no);
}

void sa_mlp_backward(double *grad, double *ws, const double *theta, const double *X, const int *y,
                     const double *const *masks, int L, const int w[], int act, int loss, int B)
{
  sa_mlp_backward_signal(grad, ws, theta, X, y, masks, L, w, act, loss, B, NULL, NULL);
}

void sa_mlp_backward_signal(double *grad, double *ws, const double *theta, const double *X, const int *y,
                            const double *const *masks, int L, const int w[], int act, int loss, int B,
                            const double *dscale, const double *dadd)
{
  const size_t  S = width_sum(L, w), M = width_max(L, w);
  const double *Z = ws, *A = ws + (size_t) B * S;
  double       *G  = ws + 4 * (size_t) B * S;
  double       *D0 = ws + 5 * (size_t) B * S, *D1 = D0 + (size_t) B * M, *Ds = D1 + (size_t) B * M, *tmp;
  const int     clean = dadd == NULL; /* then the chain carries the clean deltas, dscale is applied per layer */

  output_delta(D0, Z + (size_t) B * layer_off(w, L), A + (size_t) B * layer_off(w, L), y, loss, B, w[L]);
  if (!clean) { /* D_L + dadd does not factor per sample: propagate the modified delta, store nothing */
    if (dscale)
      for (int n = 0; n < B; n++)
        for (int c = 0; c < w[L]; c++) D0[(size_t) n * w[L] + c] *= dscale[n];
    for (size_t i = 0; i < (size_t) B * w[L]; i++) D0[i] += dadd[i];
  }
  for (int l = L; l >= 1; l--) {
    const int     ni = w[l - 1], no = w[l];
    const double *Wl = theta + weight_off(w, l);
    double       *gW = grad + weight_off(w, l);
    const double *in = l > 1 ? A + (size_t) B * layer_off(w, l - 1) : X;
    const double *Dg = D0;

    if (clean && dscale) { /* the gradient's delta is dscale[n] D_l[n, :]; the chain stays clean for the HVP */
      for (int n = 0; n < B; n++)
        for (int o = 0; o < no; o++) Ds[(size_t) n * no + o] = D0[(size_t) n * no + o] * dscale[n];
      Dg = Ds;
    }
    accumulate_layer(gW, gW + (size_t) no * ni, Dg, in, B, ni, no);
    if (l > 1) {
      const double *Zp = Z + (size_t) B * layer_off(w, l - 1);
      const double *mk = layer_mask(masks, l - 1);
      double       *Gp = clean ? G + (size_t) B * layer_off(w, l - 1) : D1;

      gemm_rm('N', 'N', B, ni, no, 1.0, D0, no, Wl, ni, 0.0, Gp, ni);
      if (act == SA_ACT_TANH && !mk) { /* unmasked tanh: the stored activation is tanh(Z), f' = 1 - A^2 exactly */
        tanh_dmul(D1, in, Gp, (size_t) B * ni);
      } else {
        for (size_t i = 0; i < (size_t) B * ni; i++)
          D1[i] = Gp[i] * (mk ? mk[i] * act_df(act, Zp[i]) : act_df(act, Zp[i]));
      }
      tmp = D0, D0 = D1, D1 = tmp;
    }
  }
  if (clean) *stored_flag(ws, L, w, B) = 1.0;
}

void sa_mlp_hvp(double *Hv, double *ws, const double *theta, const double *v, const double *X, const int *y,
                const double *const *masks, int L, const int w[], int act, int loss, int B)
{
  sa_mlp_hvp_signal(Hv, ws, theta, v, X, y, masks, L, w, act, loss, B, NULL, NULL);
}

void sa_mlp_hvp_signal(double *Hv, double *ws, const double *theta, const double *v, const double *X, const int *y,
                       const double *const *masks, int L, const int w[], int act, int loss, int B, const double *dscale,
                       const double *dadd)
{
  const size_t  S = width_sum(L, w), M = width_max(L, w);
  const int     C = w[L];
  const double *Z = ws, *A = ws + (size_t) B * S;
  double       *RZ = ws + 2 * (size_t) B * S, *RA = ws + 3 * (size_t) B * S, *G = ws + 4 * (size_t) B * S;
  double *D0 = ws + 5 * (size_t) B * S, *D1 = D0 + (size_t) B * M, *R0 = D1 + (size_t) B * M, *R1 = R0 + (size_t) B * M;
  double *tmp, *flag = stored_flag(ws, L, w, B);
  const int     signal = dscale || dadd;          /* the modified chain: the stored clean products do not apply */
  const int     stored = !signal && *flag == 1.0; /* G holds D_l W_l of this forward (clean loss): not recomputed */
  const double *z = Z + (size_t) B * layer_off(w, L), *p = A + (size_t) B * layer_off(w, L);
  const double *Rz = RZ + (size_t) B * layer_off(w, L);

  /* R-forward: directional derivative of every pre-activation and activation along v */
  for (int l = 1; l <= L; l++) {
    const int     ni = w[l - 1], no = w[l];
    const double *Wl = theta + weight_off(w, l), *Vl = v + weight_off(w, l);
    const double *in  = l > 1 ? A + (size_t) B * layer_off(w, l - 1) : X;
    double       *RZl = RZ + (size_t) B * layer_off(w, l);

    affine(RZl, in, Vl, Vl + (size_t) no * ni, B, ni, no);
    if (l > 1) gemm_rm('N', 'T', B, no, ni, 1.0, RA + (size_t) B * layer_off(w, l - 1), ni, Wl, ni, 1.0, RZl, no);
    if (l < L) {
      const double *Zl  = Z + (size_t) B * layer_off(w, l);
      double       *RAl = RA + (size_t) B * layer_off(w, l);
      const double *mk  = layer_mask(masks, l);

      const double *Al = A + (size_t) B * layer_off(w, l);

      if (act == SA_ACT_TANH && !mk) {
        tanh_dmul(RAl, Al, RZl, (size_t) B * no);
      } else {
        for (size_t i = 0; i < (size_t) B * no; i++) RAl[i] = (mk ? mk[i] : 1.0) * act_df(act, Zl[i]) * RZl[i];
      }
    }
  }

  /* output: D = dloss/dz, RD = (d2loss/dz2) Rz */
  output_delta(D0, z, p, y, loss, B, C);
  if (loss == SA_LOSS_XENT) {
    for (int n = 0; n < B; n++) {
      const double *pn = p + (size_t) n * C, *rn = Rz + (size_t) n * C;
      double        pr = 0.0;

      for (int c = 0; c < C; c++) pr += pn[c] * rn[c];
      for (int c = 0; c < C; c++) R0[(size_t) n * C + c] = pn[c] * (rn[c] - pr);
    }
  } else memcpy(R0, Rz, (size_t) B * C * sizeof(double));
  if (signal) { /* the delta whose backward gives the gradient, D' = s D + a, and R{D'} = s RD (a is constant) */
    for (int n = 0; n < B; n++) {
      double *Dn = D0 + (size_t) n * C, *Rn = R0 + (size_t) n * C;

      if (dscale)
        for (int c = 0; c < C; c++) Dn[c] *= dscale[n], Rn[c] *= dscale[n];
      if (dadd)
        for (int c = 0; c < C; c++) Dn[c] += dadd[(size_t) n * C + c];
    }
  }

  /* R-backward */
  for (int l = L; l >= 1; l--) {
    const int     ni = w[l - 1], no = w[l];
    const double *Wl = theta + weight_off(w, l), *Vl = v + weight_off(w, l);
    double       *hW = Hv + weight_off(w, l);
    const double *in = l > 1 ? A + (size_t) B * layer_off(w, l - 1) : X;

    accumulate_layer(hW, hW + (size_t) no * ni, R0, in, B, ni, no);
    if (l > 1) {
      const double *Zp  = Z + (size_t) B * layer_off(w, l - 1);
      const double *RZp = RZ + (size_t) B * layer_off(w, l - 1);
      const double *mk  = layer_mask(masks, l - 1);
      double       *Gp  = G + (size_t) B * layer_off(w, l - 1);

      gemm_rm('T', 'N', no, ni, B, 1.0, D0, no, RA + (size_t) B * layer_off(w, l - 1), ni, 1.0, hW, ni);
      if (!stored) gemm_rm('N', 'N', B, ni, no, 1.0, D0, no, Wl, ni, 0.0, Gp, ni);
      gemm_rm('N', 'N', B, ni, no, 1.0, R0, no, Wl, ni, 0.0, R1, ni);
      gemm_rm('N', 'N', B, ni, no, 1.0, D0, no, Vl, ni, 1.0, R1, ni);
      if (act == SA_ACT_TANH && !mk) tanh_rback(R1, D1, Gp, in, RZp, (size_t) B * ni); /* from the stored tanh(Z) */
      else
        for (size_t i = 0; i < (size_t) B * ni; i++) {
          const double m = mk ? mk[i] : 1.0, d = act_df(act, Zp[i]), dd = act_d2f(act, Zp[i]);

          R1[i] = m * (R1[i] * d + Gp[i] * dd * RZp[i]);
          D1[i] = Gp[i] * (m * d);
        }
      tmp = D0, D0 = D1, D1 = tmp;
      tmp = R0, R0 = R1, R1 = tmp;
    }
  }
  *flag = signal ? 0.0 : 1.0; /* G now holds the products of the modified chain: a later clean HVP recomputes them */
}

int sa_mlp_correct(const double *ws, const int *y, int L, const int w[], int B)
{
  const int     C  = w[L];
  const double *z  = ws + (size_t) B * layer_off(w, L);
  int           nc = 0;

  for (int n = 0; n < B; n++) {
    const double *zn = z + (size_t) n * C;
    int           am = 0;

    for (int c = 1; c < C; c++)
      if (zn[c] > zn[am]) am = c;
    nc += am == y[n];
  }
  return nc;
}
