/*
  sastream.c - counter-based random streams on Random123 Philox4x32-10

  Method card
  -----------
  Method: every random number is a pure function f(key, counter) of the Philox4x32-10 block cipher
  {cite:p}`salmon2011random123`; there is no state, so a value depends neither on the order of the
  calls, nor on how many values were drawn before, nor on which MPI rank computes it.

  Key (2 x 32 bits), from the seeds by the splitmix64 finaliser M {cite:p}`steele2014splitmix`, a
  bijection of 64-bit words (the seeds are taken as their 64-bit two's-complement patterns):
      k = M(M(campaign_seed) + member_seed)   (mod 2^64)
      key[0] = low 32 bits of k, key[1] = high 32 bits of k
  For a fixed campaign seed distinct member seeds give distinct keys, and vice versa.

  Counter (4 x 32 bits) of the value addressed by (step, index), 0 <= step < 2^32, 0 <= index < 2^63:
      ctr[0] = index & 0xffffffff
      ctr[1] = index >> 32
      ctr[2] = step
      ctr[3] = tag word = purpose | variant << 20 | sub << 24
  with purpose in [0, 2^20) (`SAStreamPurpose`, stored as `s->tag`), variant in [0, 16) naming the
  distribution, and sub in [0, 256) a sub-counter for the extra blocks of a rejection sampler.
      variant  0 raw, 1 uniform, 2 normal, 3 integer, 4 bernoulli, 5 categorical, 6 permutation
  Different purposes or variants therefore never share a block: uniform(step, i) and normal(step, i)
  come from different Philox blocks and are independent.

  Distributions (w0..w3 are the four words of the block, sub = 0 unless stated):
  - raw:         (w0, w1, w2, w3).
  - uniform:     x = ((w1 << 32 | w0) >> 12), u = (x + 1/2) 2^-52, i.e. the 2^52 midpoints of a
                 uniform grid on (0,1). Every value is an exact double, 0 and 1 are impossible and
                 u -> 1 - u is a symmetry of the grid. (With 53 random bits the midpoints above 1/2
                 are not representable in double precision and would round to 1.0.)
  - normal:      Box-Muller with u1 from (w0, w1) and u2 from (w2, w3) as above,
                 z = sqrt(-2 log u1) cos(2 pi u2); the sine partner is discarded.
  - integer:     Lemire's multiply-shift with rejection {cite:p}`lemire2019fast` on 64-bit words
                 (w1 << 32 | w0) then (w3 << 32 | w2) of block sub = 0, then of sub = 1, ..., up to
                 512 candidates; exceeding them is an error (probability below 2^-512).
  - bernoulli:   flag = (uniform < p) from the bernoulli block.
  - categorical: inverse CDF of w[]/sum(w) at one uniform of the categorical block.
  - permutation: Fisher-Yates, for i = n-1 down to 1 swap positions i and j = integer in [0, i]
                 drawn at (step, index = i) with the permutation variant.
*/
#include <stdint.h>
#include <Random123/philox.h>
#include <stabaudit/sastream.h>

/* Distribution codes of the tag word (method card above) */
typedef enum {
  SA_STREAM_VARIANT_RAW         = 0,
  SA_STREAM_VARIANT_UNIFORM     = 1,
  SA_STREAM_VARIANT_NORMAL      = 2,
  SA_STREAM_VARIANT_INTEGER     = 3,
  SA_STREAM_VARIANT_BERNOULLI   = 4,
  SA_STREAM_VARIANT_CATEGORICAL = 5,
  SA_STREAM_VARIANT_PERMUTATION = 6
} SAStreamVariant;

#define SA_STREAM_PURPOSE_BITS  20
#define SA_STREAM_VARIANT_SHIFT 20
#define SA_STREAM_SUB_SHIFT     24
#define SA_STREAM_SUB_MAX       256 /* sub-counter values, hence 2 * 256 candidates per integer draw */
#define SA_STREAM_STEP_MAX      ((PetscInt64) UINT32_MAX)

/* The splitmix64 finaliser: a bijection of 64-bit words with good avalanche */
static inline uint64_t SAStreamMix64(uint64_t x)
{
  uint64_t z = x + UINT64_C(0x9E3779B97F4A7C15);

  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* The Philox4x32-10 block of (step, index) for a distribution variant and sub-counter; no checks */
static inline void SAStreamBlock(const SAStream *s, PetscInt64 step, PetscInt64 index, uint32_t variant, uint32_t sub,
                                 uint32_t out[4])
{
  philox4x32_ctr_t ctr;
  philox4x32_key_t key;
  philox4x32_ctr_t r;
  uint64_t         idx = (uint64_t) index;

  ctr.v[0] = (uint32_t) (idx & UINT32_MAX);
  ctr.v[1] = (uint32_t) (idx >> 32);
  ctr.v[2] = (uint32_t) step;
  ctr.v[3] = s->tag | (variant << SA_STREAM_VARIANT_SHIFT) | (sub << SA_STREAM_SUB_SHIFT);
  key.v[0] = s->key[0];
  key.v[1] = s->key[1];
  r        = philox4x32_R(10, ctr, key);
  for (int k = 0; k < 4; k++) out[k] = r.v[k];
}

/* Two 32-bit words -> the midpoint grid (x + 1/2) 2^-52 of (0,1); exact in double precision */
static inline double SAStreamWordsToOpen01(uint32_t lo, uint32_t hi)
{
  uint64_t x = (((uint64_t) hi << 32) | (uint64_t) lo) >> 12;

  return ((double) x + 0.5) * 0x1p-52;
}

static inline double SAStreamUniformKernel(const SAStream *s, PetscInt64 step, PetscInt64 index, uint32_t variant)
{
  uint32_t w[4];

  SAStreamBlock(s, step, index, variant, 0, w);
  return SAStreamWordsToOpen01(w[0], w[1]);
}

static inline double SAStreamNormalKernel(const SAStream *s, PetscInt64 step, PetscInt64 index)
{
  uint32_t w[4];
  double   u1, u2;

  SAStreamBlock(s, step, index, SA_STREAM_VARIANT_NORMAL, 0, w);
  u1 = SAStreamWordsToOpen01(w[0], w[1]);
  u2 = SAStreamWordsToOpen01(w[2], w[3]);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * PETSC_PI * u2);
}

/* Full 64 x 64 -> 128-bit product, portable C99 */
static inline void SAStreamMulHiLo64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
  uint64_t a0 = a & UINT32_MAX, a1 = a >> 32, b0 = b & UINT32_MAX, b1 = b >> 32;
  uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  uint64_t mid = (p00 >> 32) + (p01 & UINT32_MAX) + (p10 & UINT32_MAX);

  *lo = (mid << 32) | (p00 & UINT32_MAX);
  *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/* Unbiased integer in [lo, hi] (lo <= hi) by Lemire's method; candidates from blocks sub = 0, 1, ... */
static PetscErrorCode SAStreamIntegerKernel(const SAStream *s, PetscInt64 step, PetscInt64 index, uint32_t variant,
                                            PetscInt64 lo, PetscInt64 hi, PetscInt64 *v)
{
  uint64_t range = (uint64_t) hi - (uint64_t) lo; /* number of values minus one, exact modulo 2^64 */
  uint64_t n, threshold = 0, mhi = 0, mlo = 0;
  uint32_t w[4];

  PetscFunctionBeginUser;
  if (range == UINT64_MAX) { /* all 2^64 values: the first word pair is already uniform */
    SAStreamBlock(s, step, index, variant, 0, w);
    *v = (PetscInt64) (((uint64_t) w[1] << 32) | w[0]);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  n = range + 1;
  for (uint32_t sub = 0; sub < SA_STREAM_SUB_MAX; sub++) {
    SAStreamBlock(s, step, index, variant, sub, w);
    for (int k = 0; k < 4; k += 2) {
      SAStreamMulHiLo64(((uint64_t) w[k + 1] << 32) | w[k], n, &mhi, &mlo);
      if (mlo < n && !threshold) threshold = (0 - n) % n; /* 2^64 mod n, computed only when needed */
      if (mlo >= threshold) {
        /* lo + mhi lies in [lo, hi]; the conversion back is the two's-complement one of gcc/clang */
        *v = (PetscInt64) ((uint64_t) lo + mhi);
        PetscFunctionReturn(PETSC_SUCCESS);
      }
    }
  }
  SETERRQ(PETSC_COMM_SELF, PETSC_ERR_PLIB,
          "SAStreamInteger() rejected %d candidates for [%" PetscInt64_FMT ", %" PetscInt64_FMT "]",
          2 * SA_STREAM_SUB_MAX, lo, hi);
}

static PetscErrorCode SAStreamCheckAddress(PetscInt64 step, PetscInt64 index)
{
  PetscFunctionBeginUser;
  PetscCheck(step >= 0 && step <= SA_STREAM_STEP_MAX, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "Stream step %" PetscInt64_FMT " must be in [0, 2^32)", step);
  PetscCheck(index >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Stream index %" PetscInt64_FMT " must be >= 0",
             index);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode SAStreamCheckRange(PetscInt64 step, PetscInt64 index0, PetscInt n)
{
  PetscFunctionBeginUser;
  PetscCall(SAStreamCheckAddress(step, index0));
  PetscCheck(n >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Number of values %" PetscInt_FMT " must be >= 0", n);
  PetscCheck(index0 <= INT64_MAX - (PetscInt64) n, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "Index range [%" PetscInt64_FMT ", +%" PetscInt_FMT ") overflows 64 bits", index0, n);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@
  SAStreamCreate - Sets up a counter-based random stream from a campaign seed, a member seed and a purpose

  Not Collective

  Input Parameters:
+ campaign_seed - seed of the whole campaign (any 64-bit value; see `SAStreamHashString()` to derive one from a name)
. member_seed   - seed of the ensemble member (any 64-bit value)
- purpose       - what the stream is used for, an `SAStreamPurpose` value in [0, 2^20)

  Output Parameter:
. s - the stream; a plain struct, nothing to destroy

  Notes:
  The Philox key is M(M(campaign_seed) + member_seed) with M the splitmix64 finaliser; the purpose is
  kept in `s->tag` and becomes part of every counter, so streams of different purposes never share a
  block. The exact layout is in the method card at the top of common/sastream.c.

  Level: beginner

.seealso: `SAStream`, `SAStreamPurpose`, `SAStreamRaw()`, `SAStreamUniform()`, `SAStreamHashString()`
@*/
PetscErrorCode SAStreamCreate(PetscInt64 campaign_seed, PetscInt64 member_seed, PetscInt purpose, SAStream *s)
{
  uint64_t k;

  PetscFunctionBeginUser;
  PetscCheck(s, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "Null SAStream pointer");
  PetscCheck(purpose >= 0 && purpose < (1 << SA_STREAM_PURPOSE_BITS), PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "Stream purpose %" PetscInt_FMT " must be in [0, 2^20)", purpose);
  k         = SAStreamMix64(SAStreamMix64((uint64_t) campaign_seed) + (uint64_t) member_seed);
  s->key[0] = (uint32_t) (k & UINT32_MAX);
  s->key[1] = (uint32_t) (k >> 32);
  s->tag    = (uint32_t) purpose;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@
  SAStreamRaw - Returns the raw Philox4x32-10 block of a stream at (step, index)

  Not Collective

  Input Parameters:
+ s     - the stream
. step  - the step, in [0, 2^32)
- index - the index, >= 0

  Output Parameter:
. out - the four 32-bit words philox4x32_R(10, ctr, key) with ctr = {index low, index high, step, s->tag}

  Level: developer

.seealso: `SAStream`, `SAStreamCreate()`, `SAStreamUniform()`
@*/
PetscErrorCode SAStreamRaw(const SAStream *s, PetscInt64 step, PetscInt64 index, uint32_t out[4])
{
  PetscFunctionBeginUser;
  PetscCheck(s && out, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "Null argument");
  PetscCall(SAStreamCheckAddress(step, index));
  SAStreamBlock(s, step, index, SA_STREAM_VARIANT_RAW, 0, out);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@
  SAStreamUniform - Returns the uniform number in the open interval (0,1) addressed by (step, index)

  Not Collective

  Input Parameters:
+ s     - the stream
. step  - the step, in [0, 2^32)
- index - the index, >= 0

  Output Parameter:
. u - a value (x + 1/2) 2^-52 with x uniform in [0, 2^52); never 0 or 1

  Level: beginner

.seealso: `SAStream`, `SAStreamUniformArray()`, `SAStreamNormal()`
@*/
PetscErrorCode SAStreamUniform(const SAStream *s, PetscInt64 step, PetscInt64 index, PetscReal *u)
{
  PetscFunctionBeginUser;
  PetscCheck(s && u, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "Null argument");
  PetscCall(SAStreamCheckAddress(step, index));
  *u = (PetscReal) SAStreamUniformKernel(s, step, index, SA_STREAM_VARIANT_UNIFORM);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@
  SAStreamUniformArray - Fills an array with the uniforms of consecutive indices

  Not Collective

  Input Parameters:
+ s      - the stream
. step   - the step, in [0, 2^32)
. index0 - index of the first value, >= 0
- n      - number of values

  Output Parameter:
. out - array of length n with out[j] = uniform(step, index0 + j)

  Level: beginner

.seealso: `SAStream`, `SAStreamUniform()`, `SAStreamNormalArray()`
@*/
PetscErrorCode SAStreamUniformArray(const SAStream *s, PetscInt64 step, PetscInt64 index0, PetscInt n, PetscReal out[])
{
  PetscFunctionBeginUser;
  PetscCheck(s && (out || !n), PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "Null argument");
  PetscCall(SAStreamCheckRange(step, index0, n));
  for (PetscInt j = 0; j < n; j++)
    out[j] = (PetscReal) SAStreamUniformKernel(s, step, index0 + j, SA_STREAM_VARIANT_UNIFORM);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@
  SAStreamNormal - Returns the standard normal number addressed by (step, index)

  Not Collective

  Input Parameters:
+ s     - the stream
. step  - the step, in [0, 2^32)
- index - the index, >= 0

  Output Parameter:
. z - a standard normal value (Box-Muller on the two uniforms of one Philox block)

  Level: beginner

.seealso: `SAStream`, `SAStreamNormalArray()`, `SAStreamVecNormal()`, `SAStreamUniform()`
@*/
PetscErrorCode SAStreamNormal(const SAStream *s, PetscInt64 step, PetscInt64 index, PetscReal *z)
{
  PetscFunctionBeginUser;
  PetscCheck(s && z, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "Null argument");
  PetscCall(SAStreamCheckAddress(step, index));
  *z = (PetscReal) SAStreamNormalKernel(s, step, index);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@
  SAStreamNormalArray - Fills an array with the standard normals of consecutive indices

  Not Collective

  Input Parameters:
+ s      - the stream
. step   - the step, in [0, 2^32)
. index0 - index of the first value, >= 0
- n      - number of values

  Output Parameter:
. out - array of length n with out[j] = normal(step, index0 + j)

  Level: beginner

.seealso: `SAStream`, `SAStreamNormal()`, `SAStreamVecNormal()`
@*/
PetscErrorCode SAStreamNormalArray(const SAStream *s, PetscInt64 step, PetscInt64 index0, PetscInt n, PetscReal out[])
{
  PetscFunctionBeginUser;
  PetscCheck(s && (out || !n), PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "Null argument");
  PetscCall(SAStreamCheckRange(step, index0, n));
  for (PetscInt j = 0; j < n; j++) out[j] = (PetscReal) SAStreamNormalKernel(s, step, index0 + j);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@
  SAStreamInteger - Returns the uniform integer in [lo, hi] addressed by (step, index)

  Not Collective

  Input Parameters:
+ s     - the stream
. step  - the step, in [0, 2^32)
. index - the index, >= 0
. lo    - smallest value
- hi    - largest value, hi >= lo (the full 64-bit range is allowed)

  Output Parameter:
. v - the integer, each of the hi - lo + 1 values with the same probability

  Notes:
  Unbiased: Lemire's multiply-shift with rejection; rejected candidates are replaced by further
  Philox blocks through the sub-counter of the tag word.

  Level: beginner

.seealso: `SAStream`, `SAStreamPermutation()`, `SAStreamCategorical()`
@*/
PetscErrorCode SAStreamInteger(const SAStream *s, PetscInt64 step, PetscInt64 index, PetscInt64 lo, PetscInt64 hi,
                               PetscInt64 *v)
{
  PetscFunctionBeginUser;
  PetscCheck(s && v, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "Null argument");
  PetscCall(SAStreamCheckAddress(step, index));
  PetscCheck(hi >= lo, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "Empty integer range: hi %" PetscInt64_FMT " < lo %" PetscInt64_FMT, hi, lo);
  PetscCall(SAStreamIntegerKernel(s, step, index, SA_STREAM_VARIANT_INTEGER, lo, hi, v));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@
  SAStreamBernoulli - Returns the Bernoulli(p) flag addressed by (step, index)

  Not Collective

  Input Parameters:
+ s     - the stream
. step  - the step, in [0, 2^32)
. index - the index, >= 0
- p     - probability of `PETSC_TRUE`, in [0, 1]

  Output Parameter:
. flag - `PETSC_TRUE` with probability p (exactly never for p = 0 and always for p = 1)

  Level: beginner

.seealso: `SAStream`, `SAStreamUniform()`, `SAStreamCategorical()`
@*/
PetscErrorCode SAStreamBernoulli(const SAStream *s, PetscInt64 step, PetscInt64 index, PetscReal p, PetscBool *flag)
{
  PetscFunctionBeginUser;
  PetscCheck(s && flag, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "Null argument");
  PetscCall(SAStreamCheckAddress(step, index));
  PetscCheck(p >= 0 && p <= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Bernoulli probability %g must be in [0, 1]",
             (double) p);
  *flag = SAStreamUniformKernel(s, step, index, SA_STREAM_VARIANT_BERNOULLI) < (double) p ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@
  SAStreamCategorical - Returns the category k in [0, n) drawn with probability w[k]/sum(w) at (step, index)

  Not Collective

  Input Parameters:
+ s     - the stream
. step  - the step, in [0, 2^32)
. index - the index, >= 0
. n     - number of categories, >= 1
- w     - array of n finite non-negative weights with a positive sum (need not be normalised)

  Output Parameter:
. k - the category; a category of zero weight is never returned

  Notes:
  Inverse CDF at one uniform u: k is the first category whose cumulative weight exceeds u sum(w).

  Level: beginner

.seealso: `SAStream`, `SAStreamUniform()`, `SAStreamInteger()`
@*/
PetscErrorCode SAStreamCategorical(const SAStream *s, PetscInt64 step, PetscInt64 index, PetscInt n,
                                   const PetscReal w[], PetscInt *k)
{
  double   sum = 0, target, cum = 0;
  PetscInt last = -1;

  PetscFunctionBeginUser;
  PetscCheck(s && w && k, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "Null argument");
  PetscCall(SAStreamCheckAddress(step, index));
  PetscCheck(n >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Number of categories %" PetscInt_FMT " must be >= 1",
             n);
  for (PetscInt j = 0; j < n; j++) {
    PetscCheck(w[j] >= 0 && !PetscIsInfOrNanReal(w[j]), PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
               "Category weight w[%" PetscInt_FMT "] = %g must be finite and >= 0", j, (double) w[j]);
    sum += (double) w[j];
    if (w[j] > 0) last = j;
  }
  PetscCheck(sum > 0 && !PetscIsInfOrNanReal((PetscReal) sum), PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "Sum of category weights %g must be finite and > 0", sum);
  target = SAStreamUniformKernel(s, step, index, SA_STREAM_VARIANT_CATEGORICAL) * sum;
  *k     = last; /* if rounding leaves the cumulative sum just below target */
  for (PetscInt j = 0; j < n; j++) {
    cum += (double) w[j];
    if (cum > target) {
      *k = j;
      break;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@
  SAStreamPermutation - Returns the uniformly random permutation of 0..n-1 addressed by step

  Not Collective

  Input Parameters:
+ s    - the stream
. step - the step, in [0, 2^32); for epoch orders, step = epoch
- n    - length of the permutation, >= 0

  Output Parameter:
. perm - array of length n holding a permutation of 0..n-1; the same for every call with the same (s, step, n)

  Notes:
  Fisher-Yates: for i = n-1 down to 1 the swap partner of position i is an unbiased integer in [0, i]
  drawn at (step, index = i) with the permutation variant, so it never coincides with `SAStreamInteger()`.

  Level: beginner

.seealso: `SAStream`, `SAStreamInteger()`
@*/
PetscErrorCode SAStreamPermutation(const SAStream *s, PetscInt64 step, PetscInt n, PetscInt perm[])
{
  PetscFunctionBeginUser;
  PetscCheck(s && (perm || !n), PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "Null argument");
  PetscCall(SAStreamCheckRange(step, 0, n));
  for (PetscInt i = 0; i < n; i++) perm[i] = i;
  for (PetscInt i = n - 1; i > 0; i--) {
    PetscInt64 j;
    PetscInt   t;

    PetscCall(SAStreamIntegerKernel(s, step, i, SA_STREAM_VARIANT_PERMUTATION, 0, i, &j));
    t                  = perm[i];
    perm[i]            = perm[(PetscInt) j];
    perm[(PetscInt) j] = t;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@
  SAStreamVecNormal - Fills a vector with standard normals addressed by global index

  Not Collective, but v's owners must each call it to fill their part

  Input Parameters:
+ s    - the stream
- step - the step, in [0, 2^32)

  Output Parameter:
. v - vector whose entry with global index i is set to normal(step, i)

  Notes:
  Only the locally owned entries are set (`VecGetOwnershipRange()`), so the result is independent of
  the number of ranks and of the parallel layout.

  Level: beginner

.seealso: `SAStream`, `SAStreamNormal()`, `SAStreamNormalArray()`
@*/
PetscErrorCode SAStreamVecNormal(const SAStream *s, PetscInt64 step, Vec v)
{
  PetscInt     rstart, rend;
  PetscScalar *a;

  PetscFunctionBeginUser;
  PetscCheck(s && v, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "Null argument");
  PetscCall(VecGetOwnershipRange(v, &rstart, &rend));
  PetscCall(SAStreamCheckRange(step, rstart, rend - rstart));
  PetscCall(VecGetArrayWrite(v, &a));
  for (PetscInt i = rstart; i < rend; i++) a[i - rstart] = (PetscScalar) SAStreamNormalKernel(s, step, i);
  PetscCall(VecRestoreArrayWrite(v, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*@
  SAStreamHashString - Hashes a string to a non-negative 64-bit seed

  Not Collective

  Input Parameter:
. str - a NUL-terminated string, e.g. a campaign or member name

  Output Parameter:
. h - the 64-bit FNV-1a hash of the bytes of str with the sign bit cleared

  Level: beginner

.seealso: `SAStream`, `SAStreamCreate()`
@*/
PetscErrorCode SAStreamHashString(const char str[], PetscInt64 *h)
{
  uint64_t x = UINT64_C(0xcbf29ce484222325); /* FNV-1a 64-bit offset basis */

  PetscFunctionBeginUser;
  PetscCheck(str && h, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "Null argument");
  for (const unsigned char *c = (const unsigned char *) str; *c; c++) {
    x ^= (uint64_t) *c;
    x *= UINT64_C(0x100000001b3); /* FNV 64-bit prime */
  }
  *h = (PetscInt64) (x & (uint64_t) INT64_MAX);
  PetscFunctionReturn(PETSC_SUCCESS);
}
