/*
  test_stream.c - unit tests of the counter-based random streams (common/sastream.c)

  1. Known answers: Philox4x32-10 against the published Random123 vectors, and the documented
     key/counter layout of SAStreamCreate()/SAStreamRaw() and of each distribution, recomputed by hand.
  2. Layout and order independence: SAStreamVecNormal() on any number of ranks and any layout equals
     the serial SAStreamNormal() bit for bit; arrays equal single draws in reverse order.
  3. Statistics. Seeds are fixed, so every check is deterministic, but each bound comes from theory:
     a sample mean of N i.i.d. values is within 6 standard errors (SE = sigma/sqrt(N), normal
     approximation by the CLT at N >= 2^16), and Pearson's X^2 is below the upper quantile of the
     chi-square distribution at p = 1e-9, computed below by the Wilson-Hilferty approximation.
  4. Bad input returns an error code.

  Run on 1, 2 and 4 ranks; every rank runs every test, only rank 0 prints.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "satest.h"
#include <Random123/philox.h>
#include <stabaudit/sastream.h>

#define SEED_CAMPAIGN 20240601
#define SEED_MEMBER   7
#define N_SIGMA       6.0  /* bound on |mean - expectation| in standard errors */
#define P_FALSE_ALARM 1e-9 /* upper tail probability of the chi-square bounds */

/* Upper p-quantile z of the standard normal, P(Z > z) = p, by bisection on erfc() */
static double NormalUpperQuantile(double p)
{
  double lo = -40.0, hi = 40.0;

  for (int it = 0; it < 200; it++) {
    double mid = 0.5 * (lo + hi);

    if (0.5 * erfc(mid / sqrt(2.0)) > p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/* Upper p-quantile of chi-square with k degrees of freedom, Wilson-Hilferty:
   k (1 - 2/(9k) + z_p sqrt(2/(9k)))^3 with z_p the upper normal quantile */
static double ChiSquareUpperQuantile(double k, double p)
{
  double c = 2.0 / (9.0 * k), t = 1.0 - c + NormalUpperQuantile(p) * sqrt(c);

  return k * t * t * t;
}

/* The splitmix64 finaliser, written out again from its published definition to recompute the key */
static uint64_t RefMix64(uint64_t x)
{
  uint64_t z = x + 0x9E3779B97F4A7C15ULL;

  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/* Philox4x32-10 block of the documented counter layout {index lo, index hi, step, tag word} */
static void RefBlock(const uint32_t key[2], uint64_t step, uint64_t index, uint32_t tagword, uint32_t out[4])
{
  philox4x32_ctr_t c = {{(uint32_t) index, (uint32_t) (index >> 32), (uint32_t) step, tagword}};
  philox4x32_key_t k = {{key[0], key[1]}};
  philox4x32_ctr_t r = philox4x32_R(10, c, k);

  for (int j = 0; j < 4; j++) out[j] = r.v[j];
}

/* The documented uniform: (x + 1/2) 2^-52, x the top 52 bits of (w1 << 32 | w0) */
static double RefOpen01(uint32_t lo, uint32_t hi)
{
  return ((double) ((((uint64_t) hi << 32) | lo) >> 12) + 0.5) / 4503599627370496.0;
}

/* Pearson X^2 of counts against bin probabilities; bins of probability 0 must stay empty and do not
   count as degrees of freedom. Fails if X^2 exceeds the chi-square quantile at P_FALSE_ALARM. */
static PetscErrorCode CheckChiSquare(const char what[], PetscInt nbins, const PetscInt64 count[], const double prob[])
{
  PetscInt64 ntot = 0;
  PetscInt   dof  = -1;
  double     x2   = 0, bound;

  PetscFunctionBeginUser;
  for (PetscInt b = 0; b < nbins; b++) ntot += count[b];
  for (PetscInt b = 0; b < nbins; b++) {
    double e = (double) ntot * prob[b];

    if (prob[b] == 0) {
      PetscCheck(count[b] == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "%s: bin %" PetscInt_FMT " of probability 0 has %" PetscInt64_FMT " hits", what, b, count[b]);
      continue;
    }
    PetscCheck(e >= 5, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: expected count %g too small for a chi-square test", what,
               e);
    x2 += ((double) count[b] - e) * ((double) count[b] - e) / e;
    dof++;
  }
  bound = ChiSquareUpperQuantile((double) dof, P_FALSE_ALARM);
  PetscCheck(x2 <= bound, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: chi-square %g exceeds %g (dof %" PetscInt_FMT ", p %g)",
             what, x2, bound, dof, P_FALSE_ALARM);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* |mean - expect| <= N_SIGMA sqrt(var/n), var the population variance of one term */
static PetscErrorCode CheckMean(const char what[], double mean, double expect, double var, PetscInt64 n)
{
  double bound = N_SIGMA * sqrt(var / (double) n);

  PetscFunctionBeginUser;
  PetscCheck(fabs(mean - expect) <= bound, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s: %g differs from %g by more than %g",
             what, mean, expect, bound);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The bound helpers against table values: z_0.025 = 1.959964; chi-square upper 5% point with 10 dof
   18.307 and upper 0.1% point with 100 dof 149.449; Wilson-Hilferty is within 0.5% there */
static PetscErrorCode CheckQuantileHelpers(void)
{
  PetscFunctionBeginUser;
  PetscCheck(fabs(NormalUpperQuantile(0.025) - 1.959964) < 1e-5, PETSC_COMM_SELF, PETSC_ERR_PLIB, "z_0.025 = %g",
             NormalUpperQuantile(0.025));
  PetscCheck(fabs(ChiSquareUpperQuantile(10, 0.05) / 18.307 - 1) < 5e-3, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "chi2_0.05(10) = %g", ChiSquareUpperQuantile(10, 0.05));
  PetscCheck(fabs(ChiSquareUpperQuantile(100, 0.001) / 149.449 - 1) < 5e-3, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "chi2_0.001(100) = %g", ChiSquareUpperQuantile(100, 0.001));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Philox4x32-10 known answers: the three "philox4x32 10" rows of tests/kat_vectors in the Random123
   distribution (D. E. Shaw Research), as cut and pasted by its authors into
   DEShawResearch/Random123-Boost libs/random/test/test_philox.cpp. Format: ctr[4] key[2] -> out[4]. */
static PetscErrorCode CheckPhiloxKAT(void)
{
  static const uint32_t kat[3][10] = {{0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
                                       0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
                                      {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
                                       0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
                                      {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0,
                                       0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}};

  PetscFunctionBeginUser;
  for (int i = 0; i < 3; i++) {
    philox4x32_ctr_t c  = {{kat[i][0], kat[i][1], kat[i][2], kat[i][3]}};
    philox4x32_key_t k  = {{kat[i][4], kat[i][5]}};
    philox4x32_ctr_t r  = philox4x32_R(10, c, k);
    philox4x32_ctr_t rd = philox4x32(c, k); /* the default number of rounds is 10 */

    for (int j = 0; j < 4; j++) {
      PetscCheck(r.v[j] == kat[i][6 + j], PETSC_COMM_SELF, PETSC_ERR_PLIB, "KAT %d word %d: %08x != %08x", i, j, r.v[j],
                 kat[i][6 + j]);
      PetscCheck(rd.v[j] == kat[i][6 + j], PETSC_COMM_SELF, PETSC_ERR_PLIB, "KAT %d word %d (default rounds) differs",
                 i, j);
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* SAStreamCreate/Raw and every distribution against the layout of the method card, recomputed here */
static PetscErrorCode CheckLayout(void)
{
  const PetscInt64 campaign = 0x123456789abcLL, member = 42;
  const PetscInt   purpose  = SA_STREAM_PERTURB;
  const uint64_t   steps[5] = {0, 1, 77, 123456, 0xffffffffULL};
  const uint64_t   idxs[5]  = {0, 5, 0xffffffffULL, 0x100000011ULL, 0x4000000000000003ULL};
  uint64_t         k        = RefMix64(RefMix64((uint64_t) campaign) + (uint64_t) member);
  uint32_t         key[2]   = {(uint32_t) k, (uint32_t) (k >> 32)};
  SAStream         s;

  PetscFunctionBeginUser;
  PetscCall(SAStreamCreate(campaign, member, purpose, &s));
  PetscCheck(s.key[0] == key[0] && s.key[1] == key[1], PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "Key differs from M(M(campaign) + member)");
  PetscCheck(s.tag == (uint32_t) purpose, PETSC_COMM_SELF, PETSC_ERR_PLIB, "Tag %u is not the purpose", s.tag);
  for (int a = 0; a < 5; a++) {
    const uint64_t step = steps[a], idx = idxs[a];
    uint32_t       ref[4], got[4];
    PetscReal      u, z;
    PetscInt64     v;
    PetscBool      flag;
    PetscInt       perm[2];
    double         zref;

    /* raw: tag word = purpose */
    RefBlock(key, step, idx, (uint32_t) purpose, ref);
    PetscCall(SAStreamRaw(&s, (PetscInt64) step, (PetscInt64) idx, got));
    for (int j = 0; j < 4; j++)
      PetscCheck(got[j] == ref[j], PETSC_COMM_SELF, PETSC_ERR_PLIB, "Raw word %d differs at address %d", j, a);
    /* uniform: variant 1 */
    RefBlock(key, step, idx, (uint32_t) purpose | 1u << 20, ref);
    PetscCall(SAStreamUniform(&s, (PetscInt64) step, (PetscInt64) idx, &u));
    PetscCheck(u == RefOpen01(ref[0], ref[1]), PETSC_COMM_SELF, PETSC_ERR_PLIB, "Uniform differs at address %d", a);
    /* normal: variant 2, Box-Muller; a few ulp allowed for libm and contraction differences */
    RefBlock(key, step, idx, (uint32_t) purpose | 2u << 20, ref);
    zref = sqrt(-2.0 * log(RefOpen01(ref[0], ref[1]))) * cos(2.0 * 3.14159265358979323846 * RefOpen01(ref[2], ref[3]));
    PetscCall(SAStreamNormal(&s, (PetscInt64) step, (PetscInt64) idx, &z));
    PetscCheck(fabs(z - zref) <= 1e-14 * (1 + fabs(zref)), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "Normal %g != %g at address %d", (double) z, zref, a);
    /* integer: variant 3; for [0, 7] Lemire never rejects and returns the top 3 bits of (w1 << 32 | w0) */
    RefBlock(key, step, idx, (uint32_t) purpose | 3u << 20, ref);
    PetscCall(SAStreamInteger(&s, (PetscInt64) step, (PetscInt64) idx, 0, 7, &v));
    PetscCheck(v == (PetscInt64) (ref[1] >> 29), PETSC_COMM_SELF, PETSC_ERR_PLIB, "Integer differs at address %d", a);
    PetscCall(SAStreamInteger(&s, (PetscInt64) step, (PetscInt64) idx, -10, -3, &v));
    PetscCheck(v == -10 + (PetscInt64) (ref[1] >> 29), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "Shifted integer differs at address %d", a);
    /* bernoulli: variant 4, flag = u < p */
    RefBlock(key, step, idx, (uint32_t) purpose | 4u << 20, ref);
    PetscCall(SAStreamBernoulli(&s, (PetscInt64) step, (PetscInt64) idx, 0.5, &flag));
    PetscCheck(flag == (RefOpen01(ref[0], ref[1]) < 0.5 ? PETSC_TRUE : PETSC_FALSE), PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "Bernoulli differs at address %d", a);
    /* permutation: variant 6; for n = 2 the swap partner of position 1 is the top bit of word 1 at index 1 */
    RefBlock(key, step, 1, (uint32_t) purpose | 6u << 20, ref);
    PetscCall(SAStreamPermutation(&s, (PetscInt64) step, 2, perm));
    PetscCheck(perm[0] == (PetscInt) (ref[1] >> 31 ? 0 : 1) && perm[1] == 1 - perm[0], PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "Permutation differs at step %d", a);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* FNV-1a 64 reference values ("" cbf29ce484222325, "a" af63dc4c8601ec8c, "foobar" 85944171f73967e8,
   from the FNV test suite) with the sign bit cleared */
static PetscErrorCode CheckHashString(void)
{
  PetscInt64 h;

  PetscFunctionBeginUser;
  PetscCall(SAStreamHashString("", &h));
  PetscCheck(h == 0x4bf29ce484222325LL, PETSC_COMM_SELF, PETSC_ERR_PLIB, "Hash of \"\" is %" PetscInt64_FMT, h);
  PetscCall(SAStreamHashString("a", &h));
  PetscCheck(h == 0x2f63dc4c8601ec8cLL, PETSC_COMM_SELF, PETSC_ERR_PLIB, "Hash of \"a\" is %" PetscInt64_FMT, h);
  PetscCall(SAStreamHashString("foobar", &h));
  PetscCheck(h == 0x05944171f73967e8LL, PETSC_COMM_SELF, PETSC_ERR_PLIB, "Hash of \"foobar\" is %" PetscInt64_FMT, h);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* SAStreamVecNormal on the current ranks, with PETSc's layout and with a skewed one, equals the serial
   SAStreamNormal of every global index, bit for bit, on every rank */
static PetscErrorCode CheckVecLayout(void)
{
  const PetscInt   N    = 1000;
  const PetscInt64 step = 3;
  PetscMPIInt      rank, size;
  SAStream         s;
  PetscReal       *ref;
  PetscInt         nbad = 0, nbad_all;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(SAStreamCreate(SEED_CAMPAIGN, SEED_MEMBER, SA_STREAM_INIT, &s));
  PetscCall(PetscMalloc1(N, &ref));
  for (PetscInt i = N - 1; i >= 0; i--) PetscCall(SAStreamNormal(&s, step, i, &ref[i])); /* serial, reverse order */
  for (int layout = 0; layout < 2; layout++) {
    /* layout 1: rank r owns [b(r), b(r+1)) with b(r) = N r (r+1) / (size (size+1)), sizes growing with r */
    PetscInt nlocal =
      layout ? (N * (rank + 1) * (rank + 2)) / (size * (size + 1)) - (N * rank * (rank + 1)) / (size * (size + 1))
             : PETSC_DECIDE;
    PetscInt           rstart, rend;
    Vec                v, all;
    VecScatter         ctx;
    const PetscScalar *a;

    PetscCall(VecCreateMPI(PETSC_COMM_WORLD, nlocal, N, &v));
    PetscCall(SAStreamVecNormal(&s, step, v));
    PetscCall(VecGetOwnershipRange(v, &rstart, &rend));
    PetscCall(VecGetArrayRead(v, &a));
    for (PetscInt i = rstart; i < rend; i++) {
      PetscReal x = PetscRealPart(a[i - rstart]);

      if (memcmp(&x, &ref[i], sizeof(x))) nbad++;
    }
    PetscCall(VecRestoreArrayRead(v, &a));
    PetscCall(VecScatterCreateToAll(v, &ctx, &all));
    PetscCall(VecScatterBegin(ctx, v, all, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecScatterEnd(ctx, v, all, INSERT_VALUES, SCATTER_FORWARD));
    PetscCall(VecGetArrayRead(all, &a));
    for (PetscInt i = 0; i < N; i++) {
      PetscReal x = PetscRealPart(a[i]);

      if (memcmp(&x, &ref[i], sizeof(x))) nbad++;
    }
    PetscCall(VecRestoreArrayRead(all, &a));
    PetscCall(VecScatterDestroy(&ctx));
    PetscCall(VecDestroy(&all));
    PetscCall(VecDestroy(&v));
  }
  PetscCall(PetscFree(ref));
  PetscCallMPI(MPI_Allreduce(&nbad, &nbad_all, 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD));
  PetscCheck(nbad_all == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%" PetscInt_FMT " entries differ from the serial normals",
             nbad_all);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Arrays equal single draws made in reverse order, interleaved with other draws; sub-arrays agree */
static PetscErrorCode CheckOrder(void)
{
  const PetscInt   n    = 257;
  const PetscInt64 step = 11, index0 = 4096;
  SAStream         s;
  PetscReal        uf[257], zf[257], ur[257], zr[257], part[57];

  PetscFunctionBeginUser;
  PetscCall(SAStreamCreate(SEED_CAMPAIGN, SEED_MEMBER, SA_STREAM_BATCH, &s));
  PetscCall(SAStreamUniformArray(&s, step, index0, n, uf));
  PetscCall(SAStreamNormalArray(&s, step, index0, n, zf));
  for (PetscInt j = n - 1; j >= 0; j--) {
    PetscInt64 v;

    PetscCall(SAStreamNormal(&s, step, index0 + j, &zr[j]));
    PetscCall(SAStreamInteger(&s, step, index0 + j, 0, 100, &v)); /* unrelated draws in between */
    PetscCall(SAStreamUniform(&s, step, index0 + j, &ur[j]));
  }
  PetscCheck(!memcmp(uf, ur, sizeof(uf)), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "Uniform array differs from reverse-order draws");
  PetscCheck(!memcmp(zf, zr, sizeof(zf)), PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "Normal array differs from reverse-order draws");
  PetscCall(SAStreamNormalArray(&s, step, index0 + 100, 57, part));
  PetscCheck(!memcmp(part, zf + 100, sizeof(part)), PETSC_COMM_SELF, PETSC_ERR_PLIB, "Normal sub-array differs");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Streams differing in purpose, member or campaign seed, and steps of one stream, share no value */
static PetscErrorCode CheckStreamsDiffer(void)
{
  const PetscInt n = 1000;
  SAStream       s[4];
  PetscInt       nsame = 0;

  PetscFunctionBeginUser;
  PetscCall(SAStreamCreate(SEED_CAMPAIGN, SEED_MEMBER, SA_STREAM_TEST, &s[0]));
  PetscCall(SAStreamCreate(SEED_CAMPAIGN, SEED_MEMBER, SA_STREAM_PERTURB, &s[1]));
  PetscCall(SAStreamCreate(SEED_CAMPAIGN, SEED_MEMBER + 1, SA_STREAM_TEST, &s[2]));
  PetscCall(SAStreamCreate(SEED_CAMPAIGN + 1, SEED_MEMBER, SA_STREAM_TEST, &s[3]));
  /* equal 52-bit uniforms by chance: expected number about 4 n 2^-52, i.e. zero */
  for (PetscInt i = 0; i < n; i++) {
    PetscReal u0, u, u1;

    PetscCall(SAStreamUniform(&s[0], 0, i, &u0));
    PetscCall(SAStreamUniform(&s[0], 1, i, &u1));
    if (u1 == u0) nsame++;
    for (int t = 1; t < 4; t++) {
      PetscCall(SAStreamUniform(&s[t], 0, i, &u));
      if (u == u0) nsame++;
    }
  }
  PetscCheck(nsame == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "%" PetscInt_FMT " equal values in distinct streams", nsame);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* N uniforms: mean 1/2 (variance of one term 1/12), mean of (u - 1/2)^2 is 1/12 (variance of one term
   E(u-1/2)^4 - 1/144 = 1/80 - 1/144 = 1/180), all in (0,1), chi-square over B equal bins (B - 1 dof) */
static PetscErrorCode CheckUniformStatistics(void)
{
  const PetscInt N = 1 << 20, B = 100;
  SAStream       s;
  PetscReal     *u;
  PetscInt64     count[100] = {0};
  double         prob[100], m1 = 0, m2 = 0, umin = 1, umax = 0;

  PetscFunctionBeginUser;
  PetscCall(SAStreamCreate(SEED_CAMPAIGN, SEED_MEMBER, SA_STREAM_TEST, &s));
  PetscCall(PetscMalloc1(N, &u));
  PetscCall(SAStreamUniformArray(&s, 5, 0, N, u));
  for (PetscInt i = 0; i < N; i++) {
    m1 += u[i];
    m2 += (u[i] - 0.5) * (u[i] - 0.5);
    umin = PetscMin(umin, u[i]);
    umax = PetscMax(umax, u[i]);
    count[(PetscInt) (u[i] * B)]++;
  }
  PetscCall(PetscFree(u));
  PetscCheck(umin > 0 && umax < 1, PETSC_COMM_SELF, PETSC_ERR_PLIB, "Uniforms outside (0,1): min %g max %g", umin,
             umax);
  PetscCall(CheckMean("uniform mean", m1 / N, 0.5, 1.0 / 12.0, N));
  PetscCall(CheckMean("uniform variance", m2 / N, 1.0 / 12.0, 1.0 / 180.0, N));
  for (PetscInt b = 0; b < B; b++) prob[b] = 1.0 / B;
  PetscCall(CheckChiSquare("uniform bins", B, count, prob));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* N normals: the moments E z^k = 0, 1, 0, 3 for k = 1..4 with one-term variances E z^2k - (E z^k)^2 =
   1, 2, 15, 96; and chi-square of Phi(z) over B equal bins (the probability integral transform) */
static PetscErrorCode CheckNormalStatistics(void)
{
  const PetscInt N = 1 << 20, B = 100;
  SAStream       s;
  PetscReal     *z;
  PetscInt64     count[100] = {0};
  double         prob[100], m[5] = {0};

  PetscFunctionBeginUser;
  PetscCall(SAStreamCreate(SEED_CAMPAIGN, SEED_MEMBER, SA_STREAM_TEST, &s));
  PetscCall(PetscMalloc1(N, &z));
  PetscCall(SAStreamNormalArray(&s, 9, 1000, N, z));
  for (PetscInt i = 0; i < N; i++) {
    double x = z[i], p = 1, phi = 0.5 * erfc(-x / sqrt(2.0));

    for (int k = 1; k <= 4; k++) m[k] += (p *= x);
    count[PetscMin((PetscInt) (phi * B), B - 1)]++;
  }
  PetscCall(PetscFree(z));
  PetscCall(CheckMean("normal mean", m[1] / N, 0, 1, N));
  PetscCall(CheckMean("normal second moment", m[2] / N, 1, 2, N));
  PetscCall(CheckMean("normal third moment", m[3] / N, 0, 15, N));
  PetscCall(CheckMean("normal fourth moment", m[4] / N, 3, 96, N));
  for (PetscInt b = 0; b < B; b++) prob[b] = 1.0 / B;
  PetscCall(CheckChiSquare("normal CDF bins", B, count, prob));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Bernoulli frequency within N_SIGMA standard errors sqrt(p(1-p)/N); p = 0 and p = 1 are exact */
static PetscErrorCode CheckBernoulliStatistics(void)
{
  const PetscInt  N    = 1 << 20;
  const PetscReal p[2] = {0.3, 1e-3};
  SAStream        s;

  PetscFunctionBeginUser;
  PetscCall(SAStreamCreate(SEED_CAMPAIGN, SEED_MEMBER, SA_STREAM_DROPOUT, &s));
  for (int t = 0; t < 2; t++) {
    PetscInt64 ntrue = 0;

    for (PetscInt i = 0; i < N; i++) {
      PetscBool f;

      PetscCall(SAStreamBernoulli(&s, 2, i, p[t], &f));
      ntrue += f;
    }
    PetscCall(CheckMean("Bernoulli frequency", (double) ntrue / N, p[t], p[t] * (1 - p[t]), N));
  }
  for (PetscInt i = 0; i < 10000; i++) {
    PetscBool f0, f1;

    PetscCall(SAStreamBernoulli(&s, 2, i, 0.0, &f0));
    PetscCall(SAStreamBernoulli(&s, 2, i, 1.0, &f1));
    PetscCheck(!f0 && f1, PETSC_COMM_SELF, PETSC_ERR_PLIB, "Bernoulli(0) or Bernoulli(1) wrong at index %" PetscInt_FMT,
               i);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Categorical frequencies against w/sum(w) by chi-square (zero-weight category must never occur) */
static PetscErrorCode CheckCategoricalStatistics(void)
{
  const PetscInt  N = 1 << 20, n = 5;
  const PetscReal w[5] = {1.0, 0.0, 2.0, 3.5, 0.5}, w1[3] = {0.0, 0.0, 4.0};
  SAStream        s;
  PetscInt64      count[5] = {0};
  double          prob[5];

  PetscFunctionBeginUser;
  PetscCall(SAStreamCreate(SEED_CAMPAIGN, SEED_MEMBER, SA_STREAM_SPLIT, &s));
  for (PetscInt i = 0; i < N; i++) {
    PetscInt k;

    PetscCall(SAStreamCategorical(&s, 4, i, n, w, &k));
    PetscCheck(k >= 0 && k < n, PETSC_COMM_SELF, PETSC_ERR_PLIB, "Category %" PetscInt_FMT " out of range", k);
    count[k]++;
  }
  for (PetscInt k = 0; k < n; k++) prob[k] = w[k] / 7.0;
  PetscCall(CheckChiSquare("categorical", n, count, prob));
  for (PetscInt i = 0; i < 1000; i++) {
    PetscInt k;

    PetscCall(SAStreamCategorical(&s, 4, i, 3, w1, &k));
    PetscCheck(k == 2, PETSC_COMM_SELF, PETSC_ERR_PLIB, "Only category 2 has weight, got %" PetscInt_FMT, k);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Integers in [-3, 6]: in range and uniform by chi-square (9 dof). Integers in [0, n), n = 3 2^61:
   here 2^64 mod n = 2^62, so Lemire rejects a quarter of the candidates and 1/16 of the draws need a
   second Philox block (sub-counter 1). The three blocks v >> 61 and the three residues v mod 3 are
   equally likely, each by chi-square (2 dof); multiply-shift without the rejection step would give
   v mod 3 the probabilities 3/8, 3/8, 1/4. Full 64-bit range: the sign bit is a fair coin (mean
   within N_SIGMA sqrt(1/4/N)). */
static PetscErrorCode CheckIntegerStatistics(void)
{
  const PetscInt   N = 1 << 20, NB = 1 << 18;
  const PetscInt64 lo = -3, hi = 6, big = 3 * ((PetscInt64) 1 << 61);
  SAStream         s;
  PetscInt64       count[10] = {0}, cbig[3] = {0}, cmod[3] = {0}, nneg = 0, v;
  double           prob[10], pbig[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3};

  PetscFunctionBeginUser;
  PetscCall(SAStreamCreate(SEED_CAMPAIGN, SEED_MEMBER, SA_STREAM_TEST, &s));
  for (PetscInt i = 0; i < N; i++) {
    PetscCall(SAStreamInteger(&s, 6, i, lo, hi, &v));
    PetscCheck(v >= lo && v <= hi, PETSC_COMM_SELF, PETSC_ERR_PLIB, "Integer %" PetscInt64_FMT " outside [-3, 6]", v);
    count[v - lo]++;
  }
  for (PetscInt b = 0; b < 10; b++) {
    PetscCheck(count[b] > 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "Integer %" PetscInt64_FMT " never drawn", lo + b);
    prob[b] = 0.1;
  }
  PetscCall(CheckChiSquare("integer [-3, 6]", 10, count, prob));
  for (PetscInt i = 0; i < NB; i++) {
    PetscCall(SAStreamInteger(&s, 6, i, 0, big - 1, &v));
    PetscCheck(v >= 0 && v < big, PETSC_COMM_SELF, PETSC_ERR_PLIB, "Integer %" PetscInt64_FMT " outside [0, 3 2^61)",
               v);
    cbig[v >> 61]++;
    cmod[v % 3]++;
  }
  PetscCall(CheckChiSquare("integer [0, 3 2^61) blocks", 3, cbig, pbig));
  PetscCall(CheckChiSquare("integer [0, 3 2^61) residues mod 3", 3, cmod, pbig));
  for (PetscInt i = 0; i < NB; i++) {
    PetscCall(SAStreamInteger(&s, 7, i, INT64_MIN, INT64_MAX, &v));
    nneg += v < 0;
  }
  PetscCall(CheckMean("full-range sign bit", (double) nneg / NB, 0.5, 0.25, NB));
  PetscCall(SAStreamInteger(&s, 7, 0, -17, -17, &v));
  PetscCheck(v == -17, PETSC_COMM_SELF, PETSC_ERR_PLIB, "Integer in [-17, -17] is %" PetscInt64_FMT, v);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Permutations: valid and reproducible; position of element 0 of a length-10 permutation uniform over
   E epochs (chi-square, 9 dof); all 6 permutations of length 3 equally likely (chi-square, 5 dof) */
static PetscErrorCode CheckPermutation(void)
{
  const PetscInt E = 100000;
  SAStream       s;
  PetscInt       p[10], q[10], seen[10];
  PetscInt64     cpos[10] = {0}, c3[6] = {0};
  double         ppos[10], p3[6];

  PetscFunctionBeginUser;
  PetscCall(SAStreamCreate(SEED_CAMPAIGN, SEED_MEMBER, SA_STREAM_EPOCH, &s));
  PetscCall(SAStreamPermutation(&s, 0, 0, NULL));
  PetscCall(SAStreamPermutation(&s, 0, 1, p));
  PetscCheck(p[0] == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "Permutation of length 1 is not the identity");
  for (PetscInt e = 0; e < E; e++) {
    PetscCall(SAStreamPermutation(&s, e, 10, p));
    if (e < 100) {
      PetscCall(SAStreamPermutation(&s, e, 10, q));
      PetscCheck(!memcmp(p, q, sizeof(p)), PETSC_COMM_SELF, PETSC_ERR_PLIB,
                 "Permutation of epoch %" PetscInt_FMT " not reproducible", e);
      for (PetscInt i = 0; i < 10; i++) seen[i] = 0;
      for (PetscInt i = 0; i < 10; i++) {
        PetscCheck(p[i] >= 0 && p[i] < 10 && !seen[p[i]], PETSC_COMM_SELF, PETSC_ERR_PLIB,
                   "Not a permutation at epoch %" PetscInt_FMT, e);
        seen[p[i]] = 1;
      }
    }
    for (PetscInt i = 0; i < 10; i++)
      if (p[i] == 0) cpos[i]++;
    PetscCall(SAStreamPermutation(&s, e, 3, q));
    c3[2 * q[0] + (q[1] > q[2])]++; /* a bijection of the 6 permutations onto 0..5 */
  }
  for (PetscInt i = 0; i < 10; i++) ppos[i] = 0.1;
  for (PetscInt i = 0; i < 6; i++) p3[i] = 1.0 / 6;
  PetscCall(CheckChiSquare("position of element 0", 10, cpos, ppos));
  PetscCall(CheckChiSquare("permutations of 3", 6, c3, p3));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void test_quantile_helpers(void) { CU_ASSERT_EQUAL(CheckQuantileHelpers(), PETSC_SUCCESS); }
static void test_philox_kat(void) { CU_ASSERT_EQUAL(CheckPhiloxKAT(), PETSC_SUCCESS); }
static void test_layout(void) { CU_ASSERT_EQUAL(CheckLayout(), PETSC_SUCCESS); }
static void test_hash_string(void) { CU_ASSERT_EQUAL(CheckHashString(), PETSC_SUCCESS); }
static void test_vec_layout(void) { CU_ASSERT_EQUAL(CheckVecLayout(), PETSC_SUCCESS); }
static void test_order(void) { CU_ASSERT_EQUAL(CheckOrder(), PETSC_SUCCESS); }
static void test_streams_differ(void) { CU_ASSERT_EQUAL(CheckStreamsDiffer(), PETSC_SUCCESS); }
static void test_uniform_statistics(void) { CU_ASSERT_EQUAL(CheckUniformStatistics(), PETSC_SUCCESS); }
static void test_normal_statistics(void) { CU_ASSERT_EQUAL(CheckNormalStatistics(), PETSC_SUCCESS); }
static void test_bernoulli_statistics(void) { CU_ASSERT_EQUAL(CheckBernoulliStatistics(), PETSC_SUCCESS); }
static void test_categorical_statistics(void) { CU_ASSERT_EQUAL(CheckCategoricalStatistics(), PETSC_SUCCESS); }
static void test_integer_statistics(void) { CU_ASSERT_EQUAL(CheckIntegerStatistics(), PETSC_SUCCESS); }
static void test_permutation(void) { CU_ASSERT_EQUAL(CheckPermutation(), PETSC_SUCCESS); }

static void test_bad_input(void)
{
  SAStream        s, t;
  PetscInt64      v;
  PetscBool       f;
  PetscReal       u;
  PetscInt        k;
  const PetscReal wneg[2] = {1.0, -0.5}, wzero[2] = {0.0, 0.0};

  CU_ASSERT_EQUAL_FATAL(SAStreamCreate(SEED_CAMPAIGN, SEED_MEMBER, SA_STREAM_TEST, &s), PETSC_SUCCESS);
  CU_ASSERT_EQUAL_FATAL(PetscPushErrorHandler(PetscReturnErrorHandler, NULL), PETSC_SUCCESS);
  CU_ASSERT_EQUAL(SAStreamInteger(&s, 0, 0, 5, 4, &v), PETSC_ERR_ARG_OUTOFRANGE);
  CU_ASSERT_EQUAL(SAStreamBernoulli(&s, 0, 0, 1.5, &f), PETSC_ERR_ARG_OUTOFRANGE);
  CU_ASSERT_EQUAL(SAStreamBernoulli(&s, 0, 0, -0.1, &f), PETSC_ERR_ARG_OUTOFRANGE);
  CU_ASSERT_EQUAL(SAStreamCreate(1, 2, 1 << 20, &t), PETSC_ERR_ARG_OUTOFRANGE);
  CU_ASSERT_EQUAL(SAStreamCreate(1, 2, -1, &t), PETSC_ERR_ARG_OUTOFRANGE);
  CU_ASSERT_EQUAL(SAStreamUniform(&s, -1, 0, &u), PETSC_ERR_ARG_OUTOFRANGE);
  CU_ASSERT_EQUAL(SAStreamUniform(&s, (PetscInt64) 1 << 32, 0, &u), PETSC_ERR_ARG_OUTOFRANGE);
  CU_ASSERT_EQUAL(SAStreamNormal(&s, 0, -5, &u), PETSC_ERR_ARG_OUTOFRANGE);
  CU_ASSERT_EQUAL(SAStreamCategorical(&s, 0, 0, 2, wneg, &k), PETSC_ERR_ARG_OUTOFRANGE);
  CU_ASSERT_EQUAL(SAStreamCategorical(&s, 0, 0, 2, wzero, &k), PETSC_ERR_ARG_OUTOFRANGE);
  CU_ASSERT_EQUAL(SAStreamPermutation(&s, 0, -1, &k), PETSC_ERR_ARG_OUTOFRANGE);
  CU_ASSERT_EQUAL(PetscPopErrorHandler(), PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  int       nfail_all;
  CU_pSuite s;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  if (CU_initialize_registry() != CUE_SUCCESS) return EXIT_FAILURE;
  s = CU_add_suite("stream", NULL, NULL);
  CU_add_test(s, "chi-square and normal quantile helpers match tables", test_quantile_helpers);
  CU_add_test(s, "Philox4x32-10 Random123 known answers", test_philox_kat);
  CU_add_test(s, "key, counter and distribution layout", test_layout);
  CU_add_test(s, "FNV-1a string hash", test_hash_string);
  CU_add_test(s, "VecNormal is layout independent", test_vec_layout);
  CU_add_test(s, "arrays equal reverse-order draws", test_order);
  CU_add_test(s, "purpose, member and campaign give distinct streams", test_streams_differ);
  CU_add_test(s, "uniform moments and chi-square", test_uniform_statistics);
  CU_add_test(s, "normal moments and chi-square", test_normal_statistics);
  CU_add_test(s, "Bernoulli frequencies", test_bernoulli_statistics);
  CU_add_test(s, "categorical frequencies", test_categorical_statistics);
  CU_add_test(s, "integer range and uniformity", test_integer_statistics);
  CU_add_test(s, "permutations valid, reproducible, uniform", test_permutation);
  CU_add_test(s, "bad input is rejected", test_bad_input);
  PetscCall(SATestRunSuite(PETSC_COMM_WORLD, &nfail_all));
  PetscCall(PetscFinalize());
  return nfail_all ? EXIT_FAILURE : EXIT_SUCCESS;
}
