/*
  analyze_findings.c - findings 1 (final performance vs stability margin) and 2 (margin and collapse probability vs
  the controlled-stochasticity level) of SAAnalyze(), and the summary it prints on rank 0.
*/
#include "analyzeimpl.h"
#include <stabaudit/sadimension.h>

static PetscBool SAMarginUsable(const SAMargin *mg)
{
  return mg->status == SA_MARGIN_FIT || mg->status == SA_MARGIN_SEPARATED || mg->status == SA_MARGIN_QUASI_SEPARATED
           ? PETSC_TRUE
           : PETSC_FALSE;
}

PetscErrorCode SAFindingsCompute_Private(const SACampaignData *d, const SAMemberData *r, const SAGroups *g,
                                         const SAAnalysisOptions *o, SAFindings *f)
{
  PetscReal x[1024], y[1024];
  SAStream  s;

  PetscFunctionBeginUser;
  PetscCheck(g->B <= 64 && d->C <= 1024, PETSC_COMM_SELF, PETSC_ERR_SUP,
             "Findings support at most 64 perturbation blocks and 1024 configurations");
  f->B = g->B;
  f->A = 0;
  for (PetscInt a = 0; a < d->naxes; a++)
    if (d->stoch[a]) f->axis[f->A++] = a;
  for (PetscInt b = 0; b < g->B; b++) {
    PetscInt n = 0;
    for (PetscInt c = 0; c < d->C; c++) {
      const SAMargin *mg = &g->margin[c * g->B + b];
      if (!SAMarginUsable(mg) || PetscIsNanReal(g->cfmed[c])) continue;
      x[n] = g->cfmed[c];
      y[n] = mg->margin;
      n++;
    }
    PetscCall(SAStreamCreate(o->seed, 100000 + b, SA_STREAM_ANALYSIS, &s));
    f->f1[4 * b] = n;
    PetscCall(
      SASpearmanBootstrap(n, x, y, o->nboot, o->level, &s, &f->f1[4 * b + 1], &f->f1[4 * b + 2], &f->f1[4 * b + 3]));
    for (PetscInt ai = 0; ai < f->A; ai++) {
      PetscInt  a = f->axis[ai], q = 4 * (ai * g->B + b), st[1024], stc[1024];
      PetscReal yc[1024];

      /* with other sweep axes, compare configurations only within a stratum of equal values on those axes */
      for (PetscInt c = 0; c < d->C; c++) {
        stc[c] = c;
        for (PetscInt c2 = 0; c2 < c && stc[c] == c; c2++) {
          PetscBool same = PETSC_TRUE;
          for (PetscInt a2 = 0; a2 < d->naxes; a2++)
            if (a2 != a && d->axval[a2 * d->C + c2] != d->axval[a2 * d->C + c]) same = PETSC_FALSE;
          if (same) stc[c] = c2;
        }
      }
      n = 0;
      for (PetscInt c = 0; c < d->C; c++) {
        const SAMargin *mg = &g->margin[c * g->B + b];
        if (!SAMarginUsable(mg)) continue;
        x[n]  = d->axval[a * d->C + c];
        y[n]  = mg->margin;
        st[n] = stc[c];
        n++;
      }
      PetscCall(SAStreamCreate(o->seed, 200000 + ai * 64 + b, SA_STREAM_ANALYSIS, &s));
      f->f2m[q] = n;
      if (d->naxes > 1)
        PetscCall(
          SASpearmanStratified(n, x, y, st, o->nboot, o->level, &s, &f->f2m[q + 1], &f->f2m[q + 2], &f->f2m[q + 3]));
      else
        PetscCall(SASpearmanBootstrap(n, x, y, o->nboot, o->level, &s, &f->f2m[q + 1], &f->f2m[q + 2], &f->f2m[q + 3]));
      n = 0;
      for (PetscInt c = 0; c < d->C; c++) {
        PetscInt gi = c * g->B + b, nc = 0;
        if (!g->gn[gi]) continue;
        for (PetscInt cc = 0; cc < g->ncell; cc++)
          if (g->cgroup[cc] == gi) nc += g->ck[cc];
        x[n]  = d->axval[a * d->C + c];
        yc[n] = (PetscReal) nc / g->gn[gi];
        st[n] = stc[c];
        n++;
      }
      PetscCall(SAStreamCreate(o->seed, 300000 + ai * 64 + b, SA_STREAM_ANALYSIS, &s));
      f->f2c[q] = n;
      if (d->naxes > 1)
        PetscCall(
          SASpearmanStratified(n, x, yc, st, o->nboot, o->level, &s, &f->f2c[q + 1], &f->f2c[q + 2], &f->f2c[q + 3]));
      else
        PetscCall(
          SASpearmanBootstrap(n, x, yc, o->nboot, o->level, &s, &f->f2c[q + 1], &f->f2c[q + 2], &f->f2c[q + 3]));
    }
  }
  (void) r;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscReal SAMedianOf(PetscInt n, const PetscReal v[])
{
  PetscReal q = NAN;
  if (n > 0) SAQuantile(n, v, 0.5, &q);
  return q;
}

static const char *SADimName(PetscInt dim)
{
  return dim >= SA_DIM_NONE && dim <= SA_DIM_LEARNING_SIGNAL ? SADimensions[dim] : "?";
}

PetscErrorCode SAAnalysisPrint_Private(MPI_Comm comm, const char dir[], const SACampaignData *d, const SAMemberData *r,
                                       const SAGroups *g, const SAMetaData *ms, const SAFindings *f,
                                       const SAAnalysisOptions *o)
{
  PetscInt   nt = 0, np = 0, nct = 0, ncp = 0, nf = 0;
  PetscReal *fv, med = NAN;
  char       lab[SA_NAME]; /* a configuration label as printed (SAConfigLabelShorten) */

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(d->M + 1, &fv));
  for (PetscInt m = 0; m < d->M; m++) {
    if (d->twin[m] < 0) {
      nt++;
      nct += r->collapsed[m];
    } else {
      np++;
      ncp += r->collapsed[m];
      if (!PetscIsNanReal(r->ftle[m])) fv[nf++] = r->ftle[m];
    }
  }
  if (nf) med = SAMedianOf(nf, fv);
  PetscCall(PetscFree(fv));
  PetscCall(PetscPrintf(comm,
                        "stabaudit analyze: %s/results.nc: %" PetscInt_FMT " members (%" PetscInt_FMT
                        " twins, %" PetscInt_FMT " in the baseline), %" PetscInt_FMT " records, %" PetscInt_FMT
                        " configurations\n",
                        dir, d->M, nt, ms->nbase, d->R, d->C));
  PetscCall(PetscPrintf(comm,
                        "collapses: %" PetscInt_FMT " of %" PetscInt_FMT " perturbed members, %" PetscInt_FMT
                        " of %" PetscInt_FMT " twins (delta %g, W %" PetscInt_FMT " steps)\n",
                        ncp, np, nct, nt, (double) o->delta, o->window));
  if (d->nlyap > 0) {
    PetscReal *l1, q = NAN;
    PetscInt   nl = 0;
    PetscCall(PetscMalloc1(d->M, &l1));
    for (PetscInt m = 0; m < d->M; m++)
      if (!PetscIsNanReal(d->lyap[m * d->nlyap])) l1[nl++] = d->lyap[m * d->nlyap];
    if (nl) PetscCall(SAQuantile(nl, l1, 0.5, &q));
    PetscCall(PetscPrintf(comm,
                          "lyapunov: %" PetscInt_FMT " exponents for %" PetscInt_FMT " members; median lambda_1 %.4g\n",
                          d->nlyap, nl, (double) q));
    PetscCall(PetscFree(l1));
  }
  if (d->itd < 0) PetscCall(PetscPrintf(comm, "ftle: results.nc has no twin_distance variable: no FTLE\n"));
  else
    PetscCall(
      PetscPrintf(comm, "ftle: median %.4g per step over %" PetscInt_FMT " perturbed members\n", (double) med, nf));
  if (ms->k > 0) {
    PetscReal cum = 0;
    for (PetscInt j = 0; j < ms->k; j++) cum += ms->explained[j];
    PetscCall(PetscPrintf(comm,
                          "meta-states: %" PetscInt_FMT " components of %" PetscInt_FMT " observables explain %.1f%%;",
                          ms->k, ms->p, 100 * (double) cum));
    for (PetscInt j = 0; j < PetscMin(ms->k, 3); j++) {
      PetscInt best = 0;
      for (PetscInt i = 1; i < ms->p; i++)
        if (PetscAbsReal(ms->V[j * ms->p + i]) > PetscAbsReal(ms->V[j * ms->p + best])) best = i;
      PetscCall(PetscPrintf(comm, " %" PetscInt_FMT ": %s %+.2f", j + 1, d->obsname[ms->sel[best]],
                            (double) ms->V[j * ms->p + best]));
    }
    PetscCall(PetscPrintf(comm, "\n"));
  }
  if (ms->note[0]) PetscCall(PetscPrintf(comm, "note: %s\n", ms->note));

  PetscCall(PetscPrintf(comm, "\nstability margins (%.0f%% intervals)\n", 100 * (double) o->level));
  PetscCall(PetscPrintf(comm, "%-24s %-14s %-15s %5s %5s %11s %25s  %s\n", "configuration", "perturbation", "dimension",
                        "n", "coll", "margin", "interval", "status"));
  for (PetscInt q = 0; q < g->G; q++) {
    const SAMargin *mg = &g->margin[q];
    PetscInt        nc = 0;
    char            iv[64];
    if (!g->gn[q]) continue;
    for (PetscInt c = 0; c < g->ncell; c++)
      if (g->cgroup[c] == q) nc += g->ck[c];
    if (mg->status == SA_MARGIN_CENSORED_ABOVE) PetscCall(PetscSNPrintf(iv, sizeof(iv), "> %.4g", (double) mg->low));
    else if (mg->status == SA_MARGIN_CENSORED_BELOW)
      PetscCall(PetscSNPrintf(iv, sizeof(iv), "< %.4g", (double) mg->high));
    else if (mg->status == SA_MARGIN_NODATA || mg->status == SA_MARGIN_NONMONOTONE)
      PetscCall(PetscSNPrintf(iv, sizeof(iv), "-"));
    else if (PetscIsNanReal(mg->low) || PetscIsNanReal(mg->high)) {
      char a[32] = "(open", b[32] = "open)";
      if (!PetscIsNanReal(mg->low)) PetscCall(PetscSNPrintf(a, sizeof(a), "[%.4g", (double) mg->low));
      if (!PetscIsNanReal(mg->high)) PetscCall(PetscSNPrintf(b, sizeof(b), "%.4g]", (double) mg->high));
      PetscCall(PetscSNPrintf(iv, sizeof(iv), "%s, %s", a, b));
    } else PetscCall(PetscSNPrintf(iv, sizeof(iv), "[%.4g, %.4g]", (double) mg->low, (double) mg->high));
    PetscCall(SAConfigLabelShorten(d->clabel + g->gcfg[q] * SA_NAME, lab, sizeof(lab)));
    PetscCall(PetscPrintf(comm, "%-24s %-14s %-15s %5" PetscInt_FMT " %5" PetscInt_FMT " %11.5g %25s  %s\n", lab,
                          g->bname[g->gblock[q]], SADimName(g->gdim[q]), g->gn[q], nc, (double) mg->margin, iv,
                          SAMarginStatuses[mg->status]));
  }

  PetscCall(PetscPrintf(comm, "\nfindings\n"));
  PetscCall(PetscPrintf(comm,
                        "(1) Spearman rank correlation of a configuration's final performance (twin median) and its "
                        "stability margin\n"));
  for (PetscInt b = 0; b < g->B; b++) {
    if (f->f1[4 * b] >= 3) {
      PetscCall(PetscPrintf(comm, "    %-14s %-15s rho %+.3f [%+.3f, %+.3f]  n = %" PetscInt_FMT "\n", g->bname[b],
                            SADimName(g->bdim[b]), (double) f->f1[4 * b + 1], (double) f->f1[4 * b + 2],
                            (double) f->f1[4 * b + 3], (PetscInt) f->f1[4 * b]));
      continue;
    }
    /* too few configurations for a correlation: the values themselves */
    PetscCall(PetscPrintf(comm, "    %-14s %-15s n = %" PetscInt_FMT " (no correlation below 3):", g->bname[b],
                          SADimName(g->bdim[b]), (PetscInt) f->f1[4 * b]));
    for (PetscInt c = 0; c < d->C; c++) {
      const SAMargin *mg = &g->margin[c * g->B + b];
      if (!SAMarginUsable(mg)) continue;
      PetscCall(SAConfigLabelShorten(d->clabel + c * SA_NAME, lab, sizeof(lab)));
      PetscCall(PetscPrintf(comm, " %s: perf %.3f margin %.4g;", lab, (double) g->cfmed[c], (double) mg->margin));
    }
    PetscCall(PetscPrintf(comm, "\n"));
  }
  if (!f->A)
    PetscCall(PetscPrintf(comm, "(2) no controlled-stochasticity axis in the sweep: finding 2 not available\n"));
  for (PetscInt a = 0; a < f->A; a++) {
    PetscCall(PetscPrintf(comm, "(2) against the stochasticity level '%s' (Spearman%s; the values when n < 3):\n",
                          d->axname[f->axis[a]],
                          d->naxes > 1 ? " within strata of the other sweep axes, n-weighted mean" : ""));
    for (PetscInt b = 0; b < g->B; b++) {
      PetscInt q = 4 * (a * g->B + b);
      if (f->f2c[q] >= 3) {
        PetscCall(PetscPrintf(comm,
                              "    %-14s margin rho %+.3f [%+.3f, %+.3f] n = %" PetscInt_FMT
                              "; collapse probability rho %+.3f [%+.3f, %+.3f] n = %" PetscInt_FMT "\n",
                              g->bname[b], (double) f->f2m[q + 1], (double) f->f2m[q + 2], (double) f->f2m[q + 3],
                              (PetscInt) f->f2m[q], (double) f->f2c[q + 1], (double) f->f2c[q + 2],
                              (double) f->f2c[q + 3], (PetscInt) f->f2c[q]));
        continue;
      }
      PetscCall(PetscPrintf(comm, "    %-14s", g->bname[b]));
      for (PetscInt c = 0; c < d->C; c++) {
        PetscInt        gi = c * g->B + b, nc = 0;
        const SAMargin *mg = &g->margin[gi];
        if (!g->gn[gi]) continue;
        for (PetscInt cc = 0; cc < g->ncell; cc++)
          if (g->cgroup[cc] == gi) nc += g->ck[cc];
        PetscCall(SAConfigLabelShorten(d->clabel + c * SA_NAME, lab, sizeof(lab)));
        PetscCall(PetscPrintf(comm, " %s: collapsed %" PetscInt_FMT "/%" PetscInt_FMT ", margin %s%.4g;", lab, nc,
                              g->gn[gi], mg->status == SA_MARGIN_CENSORED_ABOVE ? "> " : "",
                              (double) (mg->status == SA_MARGIN_CENSORED_ABOVE ? mg->low : mg->margin)));
      }
      PetscCall(PetscPrintf(comm, "\n"));
    }
  }
  PetscCall(PetscPrintf(comm,
                        "(3) early warnings (false-alarm rate %g on %" PetscInt_FMT " baseline twins, %" PetscInt_FMT
                        " consecutive records; AUROC of a collapse within %" PetscInt_FMT " steps; %" PetscInt_FMT
                        " collapses)\n",
                        (double) o->alpha, ms->nbase, o->m, o->horizon, ms->ncoll));
  PetscCall(PetscPrintf(comm, "    %-15s %6s %9s %7s %8s %15s %7s %7s %11s %9s %16s %11s\n", "detector", "warned",
                        "precision", "recall", "lead", "lead IQR", "AUROC", "pairs", "false alarm", "matched C",
                        "interval", "pairs/cells"));
  for (PetscInt q = 0; q < SA_D; q++)
    PetscCall(PetscPrintf(comm,
                          "    %-15s %6" PetscInt_FMT " %9.3f %7.3f %8.4g [%5.4g, %5.4g] %7.3f %7" PetscInt_FMT
                          " %11.3f %9.3f [%6.3f, %6.3f] %5" PetscInt_FMT "/%-5" PetscInt_FMT "\n",
                          SADetectorNames[q], ms->nwarn[q], (double) ms->prec[q], (double) ms->rec[q],
                          (double) ms->lmed[q], (double) ms->lq1[q], (double) ms->lq3[q], (double) ms->auc[q],
                          ms->npairs[q], (double) ms->far[q], (double) ms->mconc[q], (double) ms->mlo[q],
                          (double) ms->mhi[q], ms->mpairs[q], ms->mcells[q]));
  PetscCall(PetscPrintf(comm, "    (matched C: among members given the same dose, how often the one that collapsed "
                              "was warned first; 0.5 = no better than chance)\n"));
  PetscCall(PetscPrintf(comm, "wrote %s/analysis.nc\n", dir));
  PetscFunctionReturn(PETSC_SUCCESS);
}
