/*
  analyze_margins.c - the groups (configuration, perturbation block) of SAAnalyze(): dispersion of final
  performance, stability margins (logistic fit with bootstrap interval, SAMarginEstimate()) and the cells
  (group, magnitude) with their collapse probabilities and Wilson intervals.
*/
#include "analyzeimpl.h"
#include <string.h>

static void SADispersion(PetscInt n, const PetscReal v[], PetscReal *med, PetscReal *iqr, PetscReal *sd)
{
  PetscReal q1 = NAN, q3 = NAN, m = 0, s = 0;
  PetscInt  c = 0;

  *med = *iqr = *sd = NAN;
  if (!n) return;
  SAQuantile(n, v, 0.5, med);
  SAQuantile(n, v, 0.25, &q1);
  SAQuantile(n, v, 0.75, &q3);
  *iqr = q3 - q1;
  for (PetscInt i = 0; i < n; i++)
    if (!PetscIsNanReal(v[i])) {
      m += v[i];
      c++;
    }
  if (c < 2) return;
  m /= c;
  for (PetscInt i = 0; i < n; i++)
    if (!PetscIsNanReal(v[i])) s += (v[i] - m) * (v[i] - m);
  *sd = PetscSqrtReal(s / (c - 1));
}

PetscErrorCode SAGroupsBuild_Private(const SACampaignData *d, const SAMemberData *r, const SAAnalysisOptions *o,
                                     SAGroups *g)
{
  PetscReal *x, *y, z = SANormalQuantile(1 - (1 - o->level) / 2);
  PetscInt  *mlist;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(g, sizeof(*g)));
  PetscCall(PetscMalloc2(d->M + 1, &g->bname, d->M + 1, &g->bdim));
  for (PetscInt i = 0; i < d->M; i++) {
    PetscInt b;
    if (d->twin[i] < 0) continue;
    for (b = 0; b < g->B; b++)
      if (!strcmp(g->bname[b], d->pert + i * SA_NAME)) break;
    if (b == g->B) {
      PetscCall(PetscStrncpy(g->bname[b], d->pert + i * SA_NAME, SA_NAME));
      g->bdim[b] = d->dim[i];
      g->B++;
    }
  }
  g->G = g->B * d->C;
  PetscCall(PetscMalloc4(g->G + 1, &g->gcfg, g->G + 1, &g->gblock, g->G + 1, &g->gdim, g->G + 1, &g->gn));
  PetscCall(PetscMalloc4(g->G + 1, &g->margin, g->G + 1, &g->gmed, g->G + 1, &g->giqr, g->G + 1, &g->gstd));
  PetscCall(PetscMalloc4(d->M + 1, &g->cgroup, d->M + 1, &g->cn, d->M + 1, &g->ck, d->M + 1, &g->cmag));
  PetscCall(PetscMalloc3(d->M + 1, &g->cp, d->M + 1, &g->clo, d->M + 1, &g->chi));
  PetscCall(PetscMalloc4(d->C + 1, &g->cfmed, d->C + 1, &g->cfiqr, d->C + 1, &g->cfstd, d->C + 1, &g->cpc));
  PetscCall(PetscMalloc3(d->M + 1, &x, d->M + 1, &y, d->M + 1, &mlist));
  for (PetscInt c = 0; c < d->C; c++) {
    PetscInt n = 0, nc = 0, np = 0;
    for (PetscInt i = 0; i < d->M; i++)
      if (d->config[i] == c && d->twin[i] < 0) x[n++] = d->final[i];
    SADispersion(n, x, &g->cfmed[c], &g->cfiqr[c], &g->cfstd[c]);
    for (PetscInt i = 0; i < d->M; i++)
      if (d->config[i] == c && d->twin[i] >= 0) {
        np++;
        nc += r->collapsed[i] ? 1 : 0;
      }
    g->cpc[c] = np ? (PetscReal) nc / np : NAN;
  }
  for (PetscInt c = 0; c < d->C; c++)
    for (PetscInt b = 0; b < g->B; b++) {
      PetscInt gi = c * g->B + b, n = 0;
      SAStream s;

      g->gcfg[gi]   = c;
      g->gblock[gi] = b;
      g->gdim[gi]   = g->bdim[b];
      for (PetscInt i = 0; i < d->M; i++)
        if (d->config[i] == c && d->twin[i] >= 0 && !strcmp(d->pert + i * SA_NAME, g->bname[b])) {
          mlist[n] = i;
          x[n]     = d->mag[i];
          y[n]     = r->collapsed[i] ? 1 : 0;
          n++;
        }
      g->gn[gi] = n;
      PetscCall(SAStreamCreate(o->seed, gi, SA_STREAM_ANALYSIS, &s));
      PetscCall(SAMarginEstimate(n, x, y, o->margin_log, o->nboot, o->level, &s, &g->margin[gi]));
      {
        PetscReal *f;
        PetscCall(PetscMalloc1(n + 1, &f));
        for (PetscInt j = 0; j < n; j++) f[j] = d->final[mlist[j]];
        SADispersion(n, f, &g->gmed[gi], &g->giqr[gi], &g->gstd[gi]);
        PetscCall(PetscFree(f));
      }
      /* cells: distinct magnitudes in increasing order */
      for (PetscInt j = 0; j < n; j++) {
        PetscBool seen = PETSC_FALSE;
        PetscReal mg   = x[j];
        for (PetscInt l = 0; l < j; l++)
          if (x[l] == mg) seen = PETSC_TRUE;
        if (seen) continue;
        PetscInt cc = g->ncell++, kk = 0, nn = 0;
        for (PetscInt l = 0; l < n; l++)
          if (x[l] == mg) {
            nn++;
            kk += y[l] > 0.5;
          }
        g->cgroup[cc] = gi;
        g->cmag[cc]   = mg;
        g->cn[cc]     = nn;
        g->ck[cc]     = kk;
        g->cp[cc]     = (PetscReal) kk / nn;
        PetscCall(SAWilsonInterval(kk, nn, z, &g->clo[cc], &g->chi[cc]));
      }
    }
  PetscCall(PetscFree3(x, y, mlist));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SAGroupsDestroy_Private(SAGroups *g)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree2(g->bname, g->bdim));
  PetscCall(PetscFree4(g->gcfg, g->gblock, g->gdim, g->gn));
  PetscCall(PetscFree4(g->margin, g->gmed, g->giqr, g->gstd));
  PetscCall(PetscFree4(g->cgroup, g->cn, g->ck, g->cmag));
  PetscCall(PetscFree3(g->cp, g->clo, g->chi));
  PetscCall(PetscFree4(g->cfmed, g->cfiqr, g->cfstd, g->cpc));
  PetscFunctionReturn(PETSC_SUCCESS);
}
