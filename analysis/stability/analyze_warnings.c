/*
  analyze_warnings.c - the early warnings of SAAnalyze(): meta-states and the Mahalanobis deviation, the simple
  detectors, thresholds calibrated on the baseline, the warnings and their scores (precision, recall, lead time,
  AUROC, false-alarm rate) and the matched-dose concordance.
*/
#include "analyzeimpl.h"
#include <string.h>

/* standardisation, SVD, latent states and the Mahalanobis deviation (detector 0) */
PetscErrorCode SAMetaStates_Private(MPI_Comm comm, const SACampaignData *d, const SAMemberData *r,
                                    const SAAnalysisOptions *o, SAMetaData *ms)
{
  PetscInt   R = d->R, nb = d->nb, C = d->C, p, k, nrow              = 0, nrowall;
  PetscReal  st[3 * SA_MAXOBS], *X, *sum, *cnt, cov[64 * 64], ccount = 0, tr = 0;
  PetscBool *rowok;

  PetscFunctionBeginUser;
  ms->k = 0;
  for (PetscInt i = 0; i < nb * R; i++) ms->sc[i * SA_D] = NAN;
  /* twin statistics of each candidate observable (twin_distance and lr excluded) */
  PetscCall(PetscMemzero(st, sizeof(st)));
  for (PetscInt i = 0; i < nb; i++) {
    if (!r->baseline[d->m0 + i]) continue;
    for (PetscInt o2 = 0; o2 < d->O; o2++)
      for (PetscInt t = 0; t < R; t++) {
        PetscReal v = OBS(d, o2, i)[t];
        if (PetscIsInfOrNanReal(v)) continue;
        st[3 * o2] += 1;
        st[3 * o2 + 1] += v;
        st[3 * o2 + 2] += v * v;
      }
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, st, (PetscMPIInt) (3 * d->O), MPIU_REAL, MPI_SUM, comm));
  p = 0;
  for (PetscInt o2 = 0; o2 < d->O; o2++) {
    PetscReal n = st[3 * o2], mu, var;
    if (o2 == d->itd || o2 == d->ilr || n < 2) continue;
    mu  = st[3 * o2 + 1] / n;
    var = (st[3 * o2 + 2] - n * mu * mu) / (n - 1);
    if (!(var > 1e-24 * (1 + mu * mu))) continue; /* constant on the baseline: carries no state */
    ms->sel[p]  = o2;
    ms->mean[p] = mu;
    ms->sd[p]   = PetscSqrtReal(var);
    p++;
  }
  ms->p = p;
  PetscCall(PetscMalloc2(nb * R * (p + 1) + 1, &X, nb * R + 1, &rowok));
  for (PetscInt i = 0; i < nb; i++)
    for (PetscInt t = 0; t < R; t++) {
      PetscBool ok = PETSC_TRUE;
      for (PetscInt j = 0; j < p; j++)
        if (PetscIsInfOrNanReal(OBS(d, ms->sel[j], i)[t])) ok = PETSC_FALSE;
      rowok[i * R + t] = ok;
      if (ok && r->baseline[d->m0 + i]) {
        for (PetscInt j = 0; j < p; j++) X[nrow * p + j] = (OBS(d, ms->sel[j], i)[t] - ms->mean[j]) / ms->sd[j];
        nrow++;
      }
    }
  PetscCallMPI(MPI_Allreduce(&nrow, &nrowall, 1, MPIU_INT, MPI_SUM, comm));
  if (p < 1 || nrowall < p + 2) {
    PetscCall(PetscSNPrintf(ms->note, sizeof(ms->note),
                            "meta-states skipped: %" PetscInt_FMT " baseline rows for %" PetscInt_FMT " observables",
                            nrowall, p));
    PetscCall(PetscFree2(X, rowok));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(SAMetaStateFit(comm, nrow, p, X, o->varfrac, o->k, &ms->k, ms->sigma, ms->V, ms->explained));
  k = ms->k;
  PetscCheck(k <= 64, comm, PETSC_ERR_SUP, "At most 64 meta-state components, got %" PetscInt_FMT, k);
  /* latent states of every local member */
  for (PetscInt i = 0; i < nb; i++)
    for (PetscInt t = 0; t < R; t++)
      for (PetscInt j = 0; j < k; j++) {
        PetscReal z = 0;
        if (!rowok[i * R + t]) z = NAN;
        else
          for (PetscInt l = 0; l < p; l++) z += (OBS(d, ms->sel[l], i)[t] - ms->mean[l]) / ms->sd[l] * ms->V[j * p + l];
        ms->lat[(i * R + t) * k + j] = z;
      }
  /* baseline means per (config, step) [C*R slots] and pooled over configs [R slots, after them] */
  PetscCall(PetscCalloc2((C + 1) * R * k, &sum, (C + 1) * R, &cnt));
  for (PetscInt i = 0; i < nb; i++) {
    PetscInt c = d->config[d->m0 + i];
    if (!r->baseline[d->m0 + i]) continue;
    for (PetscInt t = 0; t < R; t++) {
      const PetscReal *z = &ms->lat[(i * R + t) * k];
      if (PetscIsNanReal(z[0])) continue;
      cnt[c * R + t] += 1;
      cnt[C * R + t] += 1;
      for (PetscInt j = 0; j < k; j++) {
        sum[(c * R + t) * k + j] += z[j];
        sum[(C * R + t) * k + j] += z[j];
      }
    }
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, sum, (PetscMPIInt) ((C + 1) * R * k), MPIU_REAL, MPI_SUM, comm));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, cnt, (PetscMPIInt) ((C + 1) * R), MPIU_REAL, MPI_SUM, comm));
  /* the mean a member is compared with: its configuration's baseline if it has 2 or more, else the pooled one;
     a baseline twin is compared with the mean of the others (leave-one-out) */
#define SA_MEAN(i, t, mu, ok)                                                                               \
  do {                                                                                                      \
    PetscInt         c_ = d->config[d->m0 + (i)], s_ = cnt[c_ * R + (t)] >= 2 ? c_ * R + (t) : C * R + (t); \
    PetscReal        n_ = cnt[s_];                                                                          \
    const PetscReal *z_ = &ms->lat[((i) *R + (t)) * k];                                                     \
    ok                  = n_ >= 2;                                                                          \
    for (PetscInt j_ = 0; j_ < k && ok; j_++)                                                               \
      mu[j_] = r->baseline[d->m0 + (i)] ? (sum[s_ * k + j_] - z_[j_]) / (n_ - 1) : sum[s_ * k + j_] / n_;   \
  } while (0)
  PetscCall(PetscMemzero(cov, sizeof(cov)));
  for (PetscInt i = 0; i < nb; i++) {
    if (!r->baseline[d->m0 + i]) continue;
    for (PetscInt t = 0; t < R; t++) {
      PetscReal        mu[64];
      PetscBool        ok;
      const PetscReal *z = &ms->lat[(i * R + t) * k];
      if (PetscIsNanReal(z[0])) continue;
      SA_MEAN(i, t, mu, ok);
      if (!ok) continue;
      for (PetscInt a = 0; a < k; a++)
        for (PetscInt b = 0; b < k; b++) cov[a * k + b] += (z[a] - mu[a]) * (z[b] - mu[b]);
      ccount += 1;
    }
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, cov, (PetscMPIInt) (k * k), MPIU_REAL, MPI_SUM, comm));
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &ccount, 1, MPIU_REAL, MPI_SUM, comm));
  if (ccount < k + 1) {
    PetscCall(PetscSNPrintf(ms->note, sizeof(ms->note),
                            "deviation skipped: %g baseline residuals for %" PetscInt_FMT
                            " components (needs 2 baseline twins per step)",
                            (double) ccount, k));
  } else {
    for (PetscInt a = 0; a < k * k; a++) cov[a] /= ccount;
    for (PetscInt a = 0; a < k; a++) tr += cov[a * k + a];
    for (PetscInt a = 0; a < k; a++) cov[a * k + a] += o->ridge * tr / k;
    PetscCall(SACholeskyFactor(k, cov));
    for (PetscInt i = 0; i < nb; i++)
      for (PetscInt t = 0; t < R; t++) {
        PetscReal        mu[64];
        PetscBool        ok;
        const PetscReal *z = &ms->lat[(i * R + t) * k];
        if (PetscIsNanReal(z[0])) {
          /* a diverged member has no state: the deviation is infinite once its observables are not finite */
          if (PetscIsInfOrNanReal(OBS(d, d->iloss, i)[t])) ms->sc[(i * R + t) * SA_D] = PETSC_INFINITY;
          continue;
        }
        SA_MEAN(i, t, mu, ok);
        if (ok) PetscCall(SAMahalanobis(k, z, mu, cov, &ms->sc[(i * R + t) * SA_D]));
      }
  }
#undef SA_MEAN
  PetscCall(PetscFree2(sum, cnt));
  PetscCall(PetscFree2(X, rowok));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* the simple detectors (1..3), thresholds calibrated on the baseline, warnings and their scores */
PetscErrorCode SAWarnings_Private(MPI_Comm comm, const SACampaignData *d, SAMemberData *r, const SAAnalysisOptions *o,
                                  SAMetaData *ms)
{
  PetscInt    R = d->R, nb = d->nb, M = d->M, w = o->det_window, nbl = 0, nball;
  PetscReal  *tmp, *ind, *rs, *rsall, *score;
  PetscMPIInt size, rank, *counts, *displs;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscMalloc4(R, &tmp, R, &ind, R, &score, nb + 1, &rs));
  for (PetscInt i = 0; i < nb; i++) {
    PetscCall(SADetectorLossZ(R, OBS(d, d->iloss, i), w, tmp));
    for (PetscInt t = 0; t < R; t++) ms->sc[(i * R + t) * SA_D + 1] = tmp[t];
    PetscCall(SADetectorRollingVariance(R, OBS(d, d->iperf, i), w, ind));
    PetscCall(SADetectorKendallTrend(R, ind, w, tmp));
    for (PetscInt t = 0; t < R; t++) ms->sc[(i * R + t) * SA_D + 2] = tmp[t];
    PetscCall(SADetectorRollingAR1(R, OBS(d, d->iperf, i), w, ind));
    PetscCall(SADetectorKendallTrend(R, ind, w, tmp));
    for (PetscInt t = 0; t < R; t++) ms->sc[(i * R + t) * SA_D + 3] = tmp[t];
  }
  for (PetscInt i = 0; i < nb; i++) nbl += r->baseline[d->m0 + i];
  PetscCallMPI(MPI_Allreduce(&nbl, &nball, 1, MPIU_INT, MPI_SUM, comm));
  ms->nbase = nball;
  PetscCall(PetscMalloc3(nball + 1, &rsall, size, &counts, size, &displs));
  {
    PetscMPIInt n = (PetscMPIInt) nbl;
    PetscCallMPI(MPI_Allgather(&n, 1, MPI_INT, counts, 1, MPI_INT, comm));
    displs[0] = 0;
    for (PetscMPIInt q = 1; q < size; q++) displs[q] = displs[q - 1] + counts[q - 1];
  }
  for (PetscInt det = 0; det < SA_D; det++) {
    PetscInt j = 0;
    for (PetscInt i = 0; i < nb; i++) {
      if (!r->baseline[d->m0 + i]) continue;
      for (PetscInt t = 0; t < R; t++) score[t] = ms->sc[(i * R + t) * SA_D + det];
      PetscCall(SAWarningRunStatistic(R, score, o->m, &rs[j++]));
    }
    PetscCallMPI(MPI_Allgatherv(rs, (PetscMPIInt) nbl, MPIU_REAL, rsall, counts, displs, MPIU_REAL, comm));
    if (det == 0 && ms->k == 0) ms->thr[det] = PETSC_INFINITY;
    else PetscCall(SAWarningCalibrate(nball, rsall, o->alpha, &ms->thr[det]));
    for (PetscInt i = 0; i < nb; i++) {
      PetscInt ws = -1;
      for (PetscInt t = 0; t < R; t++) score[t] = ms->sc[(i * R + t) * SA_D + det];
      PetscInt k0 = 0;
      /* a perturbed member is watched from its onset: before it, it is its twin */
      if (d->twin[d->m0 + i] >= 0)
        while (k0 < R && d->step[k0] < d->onset[d->m0 + i]) k0++;
      if (ms->thr[det] < PETSC_INFINITY) PetscCall(SAWarningFirst(R, d->step, score, ms->thr[det], o->m, k0, &ws));
      r->warn[(d->m0 + i) * SA_D + det] = ws;
    }
  }
  PetscCall(SAMemberReduceInt_Private(comm, M * SA_D, r->warn));
  /* scores over the campaign */
  ms->ncoll = 0;
  for (PetscInt m = 0; m < M; m++) ms->ncoll += r->collapsed[m];
  for (PetscInt det = 0; det < SA_D; det++) {
    PetscInt   tp = 0, nw = 0, nfa = 0, nl = 0, np = 0;
    PetscReal *lead, *sv = NULL, *svall = NULL;
    PetscBool *lb = NULL;

    PetscCall(PetscMalloc1(M + 1, &lead));
    for (PetscInt m = 0; m < M; m++) {
      PetscInt ws = r->warn[m * SA_D + det];
      if (ws < 0) continue;
      if (r->baseline[m]) nfa++;
      if (r->collapsed[m] && ws > r->cstep[m]) continue; /* after the collapse: not a warning */
      nw++;
      if (r->collapsed[m]) {
        tp++;
        lead[nl++] = r->cstep[m] - ws;
      }
    }
    ms->nwarn[det] = nw;
    ms->ntp[det]   = tp;
    ms->prec[det]  = nw ? (PetscReal) tp / nw : NAN;
    ms->rec[det]   = ms->ncoll ? (PetscReal) tp / ms->ncoll : NAN;
    ms->far[det]   = nball ? (PetscReal) nfa / nball : NAN;
    ms->lmed[det] = ms->lq1[det] = ms->lq3[det] = NAN;
    if (nl) {
      PetscCall(SAQuantile(nl, lead, 0.5, &ms->lmed[det]));
      PetscCall(SAQuantile(nl, lead, 0.25, &ms->lq1[det]));
      PetscCall(SAQuantile(nl, lead, 0.75, &ms->lq3[det]));
    }
    PetscCall(PetscFree(lead));
    /* AUROC of "collapse within H steps" over (member, step) pairs before the collapse: gathered on rank 0 */
    PetscCall(PetscMalloc1(2 * nb * R + 1, &sv));
    for (PetscInt i = 0; i < nb; i++) {
      PetscInt m = d->m0 + i;
      for (PetscInt t = 0; t < R; t++) {
        PetscReal s = ms->sc[(i * R + t) * SA_D + det];
        if (PetscIsNanReal(s) || (r->collapsed[m] && d->step[t] >= r->cstep[m])) continue;
        if (d->twin[m] >= 0 && d->step[t] < d->onset[m]) continue; /* before the onset a perturbed member is its twin */
        sv[2 * np]     = s;
        sv[2 * np + 1] = r->collapsed[m] && r->cstep[m] - d->step[t] <= o->horizon ? 1 : 0;
        np++;
      }
    }
    {
      PetscMPIInt n2 = (PetscMPIInt) (2 * np), *c2 = NULL, *d2 = NULL;
      PetscInt    tot = 0;
      if (!rank) PetscCall(PetscMalloc2(size, &c2, size, &d2));
      PetscCallMPI(MPI_Gather(&n2, 1, MPI_INT, c2, 1, MPI_INT, 0, comm));
      if (!rank) {
        d2[0] = 0;
        for (PetscMPIInt q = 1; q < size; q++) d2[q] = d2[q - 1] + c2[q - 1];
        tot = (d2[size - 1] + c2[size - 1]) / 2;
        PetscCall(PetscMalloc2(2 * tot + 1, &svall, tot + 1, &lb));
      }
      PetscCallMPI(MPI_Gatherv(sv, n2, MPIU_REAL, svall, c2, d2, MPIU_REAL, 0, comm));
      if (!rank) {
        PetscReal *s1;
        PetscCall(PetscMalloc1(tot + 1, &s1));
        for (PetscInt q = 0; q < tot; q++) {
          s1[q] = svall[2 * q];
          lb[q] = svall[2 * q + 1] > 0.5 ? PETSC_TRUE : PETSC_FALSE;
        }
        PetscCall(SAAUROC(tot, s1, lb, &ms->auc[det]));
        PetscCall(PetscFree(s1));
        PetscCall(PetscFree2(svall, lb));
        PetscCall(PetscFree2(c2, d2));
      }
      PetscCallMPI(MPI_Bcast(&ms->auc[det], 1, MPIU_REAL, 0, comm));
      PetscCallMPI(MPI_Allreduce(&np, &ms->npairs[det], 1, MPIU_INT, MPI_SUM, comm));
    }
    PetscCall(PetscFree(sv));
  }
  PetscCall(PetscFree3(rsall, counts, displs));
  PetscCall(PetscFree4(tmp, ind, score, rs));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  Matched-dose concordance of each detector: over every pair (i, j) of perturbed members of one cell (configuration,
  block, magnitude: the same dose) where i collapses and j does not, the fraction in which i was warned strictly
  earlier (1), at the same record or neither (1/2), later (0). A warning of i after its collapse counts as none (as
  in precision and recall); no warning is later than any warning. 0.5: the detector does not tell which of equally
  perturbed members will collapse; NaN without such pairs. Its interval is a percentile bootstrap over the cells that
  have pairs (resampled with replacement: the pairs of one cell share members). Every rank computes it from the
  reduced member arrays and the same stream.
*/
PetscErrorCode SAMatchedConcordance_Private(const SACampaignData *d, const SAMemberData *r, const SAGroups *g,
                                            const SAAnalysisOptions *o, SAMetaData *ms)
{
  PetscInt  *ml, *rep, *cpairs, K = 0; /* cells with pairs (group, magnitude): the same for every detector */
  PetscReal *csum, *boot;              /* csum: K x SA_D */

  PetscFunctionBeginUser;
  PetscCall(
    PetscMalloc5(d->M + 1, &ml, d->M + 1, &rep, d->M + 1, &cpairs, SA_D * (d->M + 1), &csum, o->nboot + 1, &boot));
  for (PetscInt gi = 0; gi < g->G; gi++) {
    PetscInt n = 0;
    for (PetscInt i = 0; i < d->M; i++)
      if (d->config[i] == g->gcfg[gi] && d->twin[i] >= 0 && !strcmp(d->pert + i * SA_NAME, g->bname[g->gblock[gi]]))
        ml[n++] = i;
    for (PetscInt a = 0; a < n; a++) rep[a] = -1;
    for (PetscInt a = 0; a < n; a++) {
      PetscInt i = ml[a], a0 = 0, k;
      if (!r->collapsed[i]) continue;
      for (PetscInt det = 0; det < SA_D; det++) {
        PetscInt  wi = r->warn[i * SA_D + det], pi = 0;
        PetscReal si = 0;
        if (wi > r->cstep[i]) wi = -1; /* after the collapse: not a warning */
        for (PetscInt b = 0; b < n; b++) {
          PetscInt j = ml[b], wj = r->warn[j * SA_D + det];
          if (r->collapsed[j] || d->mag[j] != d->mag[i]) continue;
          if (wi == wj) si += 0.5;
          else if (wi >= 0 && (wj < 0 || wi < wj)) si += 1;
          pi++;
        }
        if (!pi) break; /* no survivor at this dose */
        if (!det) {
          while (d->mag[ml[a0]] != d->mag[i]) a0++; /* the cell's first member */
          if (rep[a0] < 0) {
            rep[a0]   = K;
            cpairs[K] = 0;
            for (PetscInt q = 0; q < SA_D; q++) csum[K * SA_D + q] = 0;
            K++;
          }
          cpairs[rep[a0]] += pi;
        }
        k = rep[a0];
        csum[k * SA_D + det] += si;
      }
    }
  }
  for (PetscInt det = 0; det < SA_D; det++) {
    PetscReal sum = 0;
    PetscInt  np = 0, nr = 0;
    SAStream  s;

    for (PetscInt k = 0; k < K; k++) {
      sum += csum[k * SA_D + det];
      np += cpairs[k];
    }
    ms->mpairs[det] = np;
    ms->mcells[det] = K;
    ms->mconc[det]  = np ? sum / np : NAN;
    ms->mlo[det] = ms->mhi[det] = NAN;
    /* interval: cells resampled with replacement (pairs of one cell share members, so the cell is the unit) */
    PetscCall(SAStreamCreate(o->seed, 400000 + det, SA_STREAM_ANALYSIS, &s));
    for (PetscInt rr = 0; K > 1 && rr < o->nboot; rr++) {
      PetscReal bs = 0;
      PetscInt  bp = 0;
      for (PetscInt q = 0; q < K; q++) {
        PetscInt64 k;
        PetscCall(SAStreamInteger(&s, rr, q, 0, K - 1, &k));
        bs += csum[k * SA_D + det];
        bp += cpairs[k];
      }
      boot[nr++] = bs / bp;
    }
    if (nr >= 2) {
      PetscCall(SAQuantile(nr, boot, (1 - o->level) / 2, &ms->mlo[det]));
      PetscCall(SAQuantile(nr, boot, 1 - (1 - o->level) / 2, &ms->mhi[det]));
    }
  }
  PetscCall(PetscFree5(ml, rep, cpairs, csum, boot));
  PetscFunctionReturn(PETSC_SUCCESS);
}
