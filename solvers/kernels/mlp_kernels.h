/*
  mlp_kernels.h - pure-C kernels of a fully connected network (STYLE.md B.4): forward, backward,
  exact Hessian-vector product (Pearlmutter's R-operator), accuracy. No PETSc, no MPI, no allocation.

  Shape legend (used throughout):
    L      number of layers with weights; widths w[0] (inputs) ... w[L] (outputs = classes C)
    B      samples in the batch
    X      (B, w[0]) row-major inputs; y (B) integer labels in [0, C)
    W_l    (w[l], w[l-1]) row-major, b_l (w[l]), for l = 1..L
    theta  (P) all parameters, flat, layer by layer: W_1, b_1, W_2, b_2, ..., W_L, b_L
    masks  masks[l-1] is (B, w[l]) for hidden layer l = 1..L-1: inverted-dropout factors (0 or 1/(1-p)),
           applied after the activation; `masks` itself or any masks[l-1] may be NULL (no dropout there)
    ws     caller-allocated workspace of sa_mlp_workspace(L, w, B) doubles

  Hidden layers compute A_l = mask_l * act(W_l A_{l-1} + b_l) (A_0 = X); the output layer is linear:
  the logits are z = W_L A_{L-1} + b_L. Losses on the logits, per sample:
    SA_LOSS_XENT  softmax cross-entropy  log(sum_c exp z_c) - z_y
    SA_LOSS_MSE   0.5 * sum_c (z_c - onehot(y)_c)^2
  SUM SEMANTICS: the loss, the gradient and the Hessian-vector product are SUMS over the B samples, never
  means. The caller divides by the (global) batch size once, after summing data-parallel shards; this makes
  sharded results add up exactly.

  Call order: sa_mlp_forward() stores the pre-activations, activations and softmax of the batch in ws;
  sa_mlp_backward(), sa_mlp_hvp(), sa_mlp_logits() and sa_mlp_correct() read that state and must follow a
  forward on the same theta, X, y and masks. backward and hvp write scratch in ws, and the products D_l W_l of the
  backward of the CLEAN loss (no signal modifier; the hidden-layer deltas are these times m f') that the HVP's
  R-backward needs: a backward without dadd, or the first clean HVP, stores them and later clean HVPs of the same
  forward reuse them instead of recomputing them (the result is bitwise the same either way). So any number of
  backward and hvp calls (e.g. a gradient and then many HVPs for a Lanczos solve) can follow one forward; a new
  forward, or an HVP with a signal modifier (sa_mlp_hvp_signal), invalidates the stored products.

  The kernels validate nothing (no PETSc here): callers check with PetscCheck that act and loss are SA_ACT_* and
  SA_LOSS_* values, that every label is in [0, C), that B >= 1 and every w[l] >= 1. The output layer takes no mask.
*/
#pragma once
#include <stddef.h>

#define SA_ACT_TANH 0 /* tanh */
#define SA_ACT_RELU 1 /* max(0,x); derivative taken as 0 at x = 0, second derivative 0 everywhere */
#define SA_ACT_GELU 2 /* exact GELU x Phi(x) = 0.5 x (1 + erf(x/sqrt 2)), not the tanh approximation */

#define SA_LOSS_XENT 0 /* softmax cross-entropy on the logits */
#define SA_LOSS_MSE  1 /* 0.5 ||z - onehot(y)||^2 on the logits (no softmax) */

/* number of parameters P = sum_l w[l] (w[l-1] + 1) */
size_t sa_mlp_nparams(int L, const int w[]);

/* offW[l-1], offb[l-1] (l = 1..L) are the offsets of W_l and b_l in theta; both arrays have L entries */
void sa_mlp_offsets(int L, const int w[], size_t offW[], size_t offb[]);

/* doubles needed by ws: forward state (pre-activations, activations, softmax), the R-forward state of the
   HVP, the stored backward products of the clean loss, four (B, max_l w[l]) backward buffers and one flag */
size_t sa_mlp_workspace(int L, const int w[], int B);

/* forward pass; stores its state in ws and returns the SUMMED loss over the batch (0 when y is NULL:
   logits only). act is SA_ACT_*, loss is SA_LOSS_* */
double sa_mlp_forward(double *ws, const double *theta, const double *X, const int *y, const double *const *masks, int L,
                      const int w[], int act, int loss, int B);

/* out (B, w[l]): the (masked) activations A_l of hidden layer l, 1 <= l < L, of the last forward */
void sa_mlp_activations(double *out, const double *ws, int L, const int w[], int B, int l);
/* out (B, C): the logits of the last forward */
void sa_mlp_logits(double *out, const double *ws, int L, const int w[], int B);

/* grad (P) += d(summed loss)/d theta; after sa_mlp_forward() on the same batch. ACCUMULATES: zero grad first.
   Stores the backward products of the clean loss in ws for sa_mlp_hvp() */
void sa_mlp_backward(double *grad, double *ws, const double *theta, const double *X, const int *y,
                     const double *const *masks, int L, const int w[], int act, int loss, int B);

/* the same with the output-layer loss gradient D (B, C) = dloss/dz changed before it is propagated (learning-signal
   perturbations): D[n, c] <- dscale[n] D[n, c] + dadd[n, c]; dscale (B) and dadd (B, C) may each be NULL.
   With dadd NULL the clean deltas are propagated and scaled by dscale[n] only where they enter grad (the same
   gradient: the backward is linear and row-wise in D), and their products are stored for sa_mlp_hvp(); with dadd
   the modified deltas are propagated and nothing is stored. The Hessian of this gradient is sa_mlp_hvp_signal()'s
   with the same dscale and dadd (sa_mlp_hvp() stays that of the clean loss) */
void sa_mlp_backward_signal(double *grad, double *ws, const double *theta, const double *X, const int *y,
                            const double *const *masks, int L, const int w[], int act, int loss, int B,
                            const double *dscale, const double *dadd);

/* Hv (P) += H v, H the exact Hessian of the summed loss at theta, v (P) any direction; Pearlmutter's
   R-operator (forward-over-reverse), reusing the state of sa_mlp_forward() on the same batch and the backward
   products of a clean sa_mlp_backward() or an earlier HVP after it (computed and stored here otherwise). ACCUMULATES */
void sa_mlp_hvp(double *Hv, double *ws, const double *theta, const double *v, const double *X, const int *y,
                const double *const *masks, int L, const int w[], int act, int loss, int B);

/* the same for the loss whose gradient is sa_mlp_backward_signal()'s with the same dscale and dadd: the R-backward
   starts from the modified delta D' = dscale[n] D + dadd[n, :] and from R{D'} = dscale[n] R{D} (dadd is constant),
   so Hv (P) += d/dtheta (that gradient) v. With dscale and dadd both NULL it is sa_mlp_hvp() (bitwise). Otherwise the
   stored clean products are neither used nor kept: this call overwrites them and marks them absent, so a later
   clean HVP recomputes them. ACCUMULATES */
void sa_mlp_hvp_signal(double *Hv, double *ws, const double *theta, const double *v, const double *X, const int *y,
                       const double *const *masks, int L, const int w[], int act, int loss, int B, const double *dscale,
                       const double *dadd);

/* number of samples whose argmax of the logits (first index on ties) equals y, for the last forward */
int sa_mlp_correct(const double *ws, const int *y, int L, const int w[], int B);
