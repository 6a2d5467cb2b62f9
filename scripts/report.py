#!/usr/bin/python3
"""stabaudit report DIR: figures (PNG) and DIR/report/report.md from DIR/analysis.nc and DIR/results.nc.

Run by `stabaudit report DIR` (rank 0) with Debian's python3-matplotlib and python3-netcdf4
(scripts/setup.sh). Every figure is described in docs/analysis.md; a figure whose data the campaign
does not have (no stochasticity axis, no probe variables) is skipped with a printed note.
"""
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import netCDF4  # noqa: E402
import numpy as np  # noqa: E402

FILL_D = 9.0e36
FILL_I = -2147483647
DIMS = ["none", "optimization", "environment", "parametric", "learning_signal"]
MARGIN = ["fit", "separated", "censored above", "censored below", "non-monotone", "no data", "quasi-separated"]


def text(v):
    return ["".join(c.decode() if isinstance(c, bytes) else c for c in row).rstrip("\x00").strip() for row in v]


def dbl(ds, name):
    x = np.array(ds[name][:], dtype=float)
    x[np.abs(x) > FILL_D] = np.nan
    return x


def ints(ds, name):
    x = np.array(ds[name][:], dtype=np.int64)
    return np.where(x == FILL_I, -1, x)


def opt(ds, key, default):
    words = getattr(ds, "sa_analysis_options", "").split()
    for i in range(0, len(words) - 1, 2):
        if words[i] == key:
            return float(words[i + 1])
    return default


def roc(score, label):
    """ROC curve points of score for label (NaN scores dropped; +inf allowed)."""
    ok = ~np.isnan(score)
    s, y = score[ok], label[ok].astype(bool)
    if y.sum() == 0 or (~y).sum() == 0:
        return None
    thr = np.unique(s)[::-1]
    tpr = [0.0] + [(s[y] >= t).mean() for t in thr]
    fpr = [0.0] + [(s[~y] >= t).mean() for t in thr]
    return np.array(fpr), np.array(tpr)


def main(d):
    out = os.path.join(d, "report")
    os.makedirs(out, exist_ok=True)
    a = netCDF4.Dataset(os.path.join(d, "analysis.nc"))
    r = netCDF4.Dataset(os.path.join(d, "results.nc"))
    a.set_auto_mask(False)
    r.set_auto_mask(False)
    figs, notes = [], []
    step = ints(r, "step")
    perf = dbl(r, "performance")
    twin = ints(r, "twin")
    cfg = ints(r, "config")
    mag = dbl(r, "magnitude")
    onset = ints(r, "onset")
    pert = text(r["perturbation"][:])
    # labels as stored ("lr=0.050000000000000003": every digit, part of the member ids) shown with the shortest
    # decimal that reads back as the same double ("lr=0.05")
    def shortest(x):
        v = repr(float(x.group(0)))
        return v[:-2] if v.endswith(".0") else v
    clabel = [re.sub(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", shortest, lab) for lab in text(r["config_label"][:])]
    col = ints(a, "collapsed")
    cstep = ints(a, "collapse_step")
    warn = ints(a, "warning_step")
    dets = text(a["detector_name"][:])
    C = len(clabel)
    horizon = opt(a, "horizon", 50)

    def save(fig, name, caption):
        p = os.path.join(out, name)
        fig.tight_layout()
        fig.savefig(p, dpi=90, bbox_inches="tight")
        plt.close(fig)
        figs.append((name, caption))

    # 1. trajectories with collapse and warning markers, one panel per configuration (at most 6)
    nc = min(C, 6)
    fig, axs = plt.subplots(1, nc, figsize=(4.2 * nc, 3.4), squeeze=False, sharey=True)
    for c in range(nc):
        ax = axs[0, c]
        for m in np.where(cfg == c)[0]:
            if twin[m] < 0:
                ax.plot(step, perf[m], color="black", lw=1.6, zorder=3)
            else:
                ax.plot(step, perf[m], color="tab:red" if col[m] else "tab:blue", lw=0.7, alpha=0.6)
            if col[m]:
                k = np.searchsorted(step, cstep[m])
                yv = perf[m, min(k, len(step) - 1)]
                ax.plot(cstep[m], 0 if np.isnan(yv) else yv, "x", color="tab:red", ms=6)
            if warn[m, 0] >= 0:
                k = np.searchsorted(step, warn[m, 0])
                yv = perf[m, min(k, len(step) - 1)]
                ax.plot(warn[m, 0], 0 if np.isnan(yv) else yv, "v", color="tab:orange", ms=5)
        ax.set_title(clabel[c], fontsize=9)
        ax.set_xlabel("step")
    axs[0, 0].set_ylabel("performance")
    axs[0, 0].plot([], [], color="black", label="twin")
    axs[0, 0].plot([], [], color="tab:blue", label="perturbed")
    axs[0, 0].plot([], [], color="tab:red", label="collapsed")
    axs[0, 0].plot([], [], "x", color="tab:red", label="collapse")
    axs[0, 0].plot([], [], "v", color="tab:orange", label="meta-state warning")
    axs[0, 0].legend(fontsize=7)
    save(fig, "trajectories.png", "Performance of twins (black) and perturbed members; x = collapse, v = warning")

    # 2. meta-state plane with the twin envelope
    if "latent_state" in a.variables:
        lat = dbl(a, "latent_state")
        base = ints(a, "baseline") == 1
        ex = dbl(a, "explained_variance")
        names = text(a["observable_name"][:])
        load = dbl(a, "loading")
        fig, ax = plt.subplots(1, 2, figsize=(10, 4))
        if lat.shape[2] >= 2:
            pts = lat[base].reshape(-1, lat.shape[2])
            pts = pts[~np.isnan(pts[:, 0])]
            ax[0].scatter(pts[:, 0], pts[:, 1], s=6, color="black", zorder=3, label="baseline twins (envelope)")
            for m in np.where(~base)[0]:
                ax[0].plot(lat[m, :, 0], lat[m, :, 1], color="tab:red" if col[m] else "tab:blue", lw=0.6, alpha=0.5)
            ax[0].set_xlabel("meta-state 1 (%.0f%%)" % (100 * ex[0]))
            ax[0].set_ylabel("meta-state 2 (%.0f%%)" % (100 * ex[1]))
            if len(pts):  # linear inside the twin envelope, logarithmic beyond (collapsing members run away)
                span = np.nanmax(np.abs(pts), axis=0) + 1e-12
                ax[0].set_xscale("symlog", linthresh=span[0])
                ax[0].set_yscale("symlog", linthresh=span[1])
        else:
            for m in range(lat.shape[0]):
                ax[0].plot(step, lat[m, :, 0], color="0.5" if base[m] else ("tab:red" if col[m] else "tab:blue"))
            ax[0].set_xlabel("step")
            ax[0].set_ylabel("meta-state 1")
        ax[0].plot([], [], color="tab:blue", label="perturbed")
        ax[0].plot([], [], color="tab:red", label="collapsed")
        ax[0].legend(fontsize=7)
        kk = min(load.shape[1], 3)
        w = 0.8 / kk
        for j in range(kk):
            ax[1].barh(np.arange(len(names)) + j * w, load[:, j], height=w, label="meta-state %d" % (j + 1))
        ax[1].set_yticks(np.arange(len(names)) + 0.4 - w / 2)
        ax[1].set_yticklabels(names, fontsize=7)
        ax[1].set_xlabel("loading")
        ax[1].legend(fontsize=7)
        save(fig, "metastates.png", "Meta-state plane (baseline twins in grey) and the loadings of the observables")
    else:
        notes.append("meta-states: analysis.nc has no latent_state (%s)" % a.comment)

    # 3. collapse probability vs magnitude per perturbation, one line per configuration, with margins
    if "cell_group" in a.variables:
        cg = ints(a, "cell_group")
        cm, cp = dbl(a, "cell_magnitude"), dbl(a, "collapse_probability")
        clo, chi = dbl(a, "collapse_probability_low"), dbl(a, "collapse_probability_high")
        gcfg, gpert = ints(a, "group_config"), text(a["group_perturbation"][:])
        gdim = ints(a, "group_dimension")
        mg, mlo, mhi = dbl(a, "stability_margin"), dbl(a, "stability_margin_low"), dbl(a, "stability_margin_high")
        blocks = list(dict.fromkeys(gpert))
        ncol = min(4, len(blocks))
        nrow = (len(blocks) + ncol - 1) // ncol
        fig, axs = plt.subplots(nrow, ncol, figsize=(4.4 * ncol, 3.3 * nrow), squeeze=False)
        for b in range(len(blocks), nrow * ncol):
            axs[b // ncol, b % ncol].axis("off")
        for b, name in enumerate(blocks):
            ax = axs[b // ncol, b % ncol]
            bm = cm[np.array([gpert[g] == name for g in cg])]
            for g in [g for g in range(len(gpert)) if gpert[g] == name]:
                sel = np.where(cg == g)[0]
                if not len(sel):
                    continue
                o = sel[np.argsort(cm[sel])]
                line = ax.errorbar(cm[o], cp[o], yerr=[cp[o] - clo[o], chi[o] - cp[o]], marker="o", ms=3,
                                   capsize=2, label=clabel[gcfg[g]])
                if not np.isnan(mg[g]):  # the margin, and its interval (an open end runs to the last magnitude)
                    ax.axvline(mg[g], color=line[0].get_color(), ls="--", lw=0.8)
                    lo_ = mlo[g] if not np.isnan(mlo[g]) else np.min(bm)
                    hi_ = mhi[g] if not np.isnan(mhi[g]) else np.max(bm)
                    ax.axvspan(lo_, hi_, color=line[0].get_color(), alpha=0.12)
            ax.axhline(0.5, color="0.5", lw=0.5)
            if np.all(bm > 0):
                ax.set_xscale("log")
                ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
                ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.set_xticks(sorted(set(bm)))
            ax.set_ylim(-0.04, 1.04)
            ax.tick_params(axis="x", labelsize=7)
            ax.set_title("%s (%s)" % (name, DIMS[gdim[gpert.index(name)]]), fontsize=9)
            ax.set_xlabel("magnitude")
            ax.set_ylabel("collapse probability")
            ax.legend(fontsize=6)
        save(fig, "collapse_probability.png",
             "Collapse probability per magnitude (Wilson intervals); dashed: stability margin, band: its interval")

        # 4. finding 1: final performance vs margin
        cfmed = dbl(a, "config_final_median")
        fig, ax = plt.subplots(figsize=(5, 3.8))
        for b, name in enumerate(blocks):
            gs = [g for g in range(len(gpert)) if gpert[g] == name and not np.isnan(mg[g])]
            if gs:
                ax.errorbar([mg[g] for g in gs], [cfmed[gcfg[g]] for g in gs],
                            xerr=[[mg[g] - mlo[g] for g in gs], [mhi[g] - mg[g] for g in gs]], fmt="o", capsize=2,
                            label=("%s: rho %.2f (n %d)" % (name, dbl(a, "finding1_spearman")[b], ints(a, "finding1_n")[b]))
                            if ints(a, "finding1_n")[b] >= 3 else "%s: n %d, too few for rho" % (name, len(gs)))
        ax.set_xscale("log")
        ax.set_xlabel("stability margin (units of each block)")
        ax.set_ylabel("final performance (twin median)")
        ax.legend(fontsize=7)
        save(fig, "finding1.png", "Finding 1: final performance against stability margin per configuration")

        # 5. finding 2: collapse probability and margin vs stochasticity level
        if "stochasticity_axis" in a.variables:
            axes = text(a["stochasticity_axis"][:])
            fig, axs = plt.subplots(1, 2, figsize=(10, 3.6))
            for name in axes:
                lev = dbl(r, "config_" + name)
                # strata: equal values on the other sweep axes (analyze correlates within them); a line per stratum
                others = [v for v in r.variables if v.startswith("config_") and v not in ("config_label",
                                                                                          "config_" + name)]
                skey = [tuple(float(np.ma.filled(r[v][c], np.nan)) for v in others) for c in range(len(lev))]
                strata = sorted(set(skey))
                for b, bn in enumerate(blocks):
                    for si, sk in enumerate(strata):
                        gs = [g for g in range(len(gpert)) if gpert[g] == bn and skey[gcfg[g]] == sk]
                        pc = [np.mean(col[(cfg == gcfg[g]) & (np.array(pert) == bn)]) for g in gs]
                        o = np.argsort([lev[gcfg[g]] for g in gs])
                        xs = [lev[gcfg[gs[i]]] for i in o]
                        style = dict(color="C%d" % (b % 10), marker="osD^v<>ph*"[si % 10], ls="-" if si == 0 else "--",
                                     label=bn if si == 0 else None)
                        axs[0].plot(xs, [pc[i] for i in o], **style)
                        axs[1].plot(xs, [mg[gs[i]] for i in o], **style)
                if len(strata) > 1:  # the markers of the strata, by the other axes' values
                    for si, sk in enumerate(strata):
                        lab = ", ".join("%s=%g" % (v[len("config_"):], x) for v, x in zip(others, sk))
                        axs[0].plot([], [], color="0.4", marker="osD^v<>ph*"[si % 10], ls="-" if si == 0 else "--",
                                    label=lab)
                for ax in axs:
                    ax.set_xlabel("stochasticity level: %s" % name)
                    if np.all(lev > 0):
                        ax.set_xscale("log")
                        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
                        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
                        ax.set_xticks(sorted(set(lev)))
            axs[0].set_ylabel("collapse probability (all magnitudes)")
            axs[1].set_ylabel("stability margin (units of each block)")
            axs[1].set_yscale("log")
            for ax in axs:
                ax.legend(fontsize=7, ncol=2)
            save(fig, "finding2.png", "Finding 2: collapse probability and margin against the stochasticity level")
        else:
            notes.append("finding 2: the sweep has no controlled-stochasticity axis (config_noise, config_dropout, "
                         "config_batch): figure skipped")
    else:
        notes.append("no perturbed members: collapse-probability and finding figures skipped")

    # 6. finding 3: lead times and ROC curves
    lead = ints(a, "lead_time")
    score = dbl(a, "warning_score")
    fig, axs = plt.subplots(1, 2, figsize=(10, 3.6))
    for q, name in enumerate(dets):
        lt = lead[:, q][lead[:, q] >= 0]
        if len(lt):
            axs[0].hist(lt, bins=10, alpha=0.5, label="%s (n %d)" % (name, len(lt)))
        s, y = [], []
        for m in range(len(col)):
            for k in range(len(step)):
                if (col[m] and step[k] >= cstep[m]) or (twin[m] >= 0 and step[k] < onset[m]):
                    continue
                s.append(score[m, k, q])
                y.append(bool(col[m]) and cstep[m] - step[k] <= horizon)
        curve = roc(np.array(s), np.array(y))
        if curve is not None:
            axs[1].plot(curve[0], curve[1], label="%s AUROC %.2f" % (name, dbl(a, "auroc")[q]))
    axs[0].set_xlabel("lead time (steps)")
    axs[0].set_ylabel("members")
    axs[0].legend(fontsize=7)
    axs[1].plot([0, 1], [0, 1], color="0.6", lw=0.5)
    axs[1].set_xlabel("false positive rate")
    axs[1].set_ylabel("true positive rate")
    axs[1].set_title("collapse within %d steps" % horizon, fontsize=9)
    axs[1].legend(fontsize=7)
    save(fig, "warnings.png", "Finding 3: lead-time histogram and ROC curves of the detectors")

    # 7. sharpness against 2/lr and the Jacobian spectral radius against 1 (probe variables)
    heig = next((v for v in ("sharpness", "hessian_eig") if v in r.variables), None)
    if heig and "probe_step" in r.variables:
        ps = ints(r, "probe_step").astype(float)
        ps[ps < 0] = np.nan
        h = dbl(r, heig)
        if h.ndim == 3:
            h = np.nanmax(h, axis=2)
        lrv = dbl(r, "lr")
        jr = dbl(r, "jacobian_radius") if "jacobian_radius" in r.variables else None
        if jr is not None and not np.isfinite(jr).any():  # the variable exists, the jacobian kind was off
            jr = None
        fig, axs = plt.subplots(1, 2 if jr is not None else 1, figsize=(10, 3.6) if jr is not None else (5.5, 3.6))
        axs = np.atleast_1d(axs)
        for m in range(h.shape[0]):
            c = "0.3" if twin[m] < 0 else ("tab:red" if col[m] else "tab:blue")
            ok = ~np.isnan(ps[m]) & ~np.isnan(h[m])
            axs[0].plot(ps[m][ok], h[m][ok], "o-", color=c, lw=0.7, ms=2)
            if twin[m] < 0:  # the threshold 2/lr of each configuration (its twins' learning rate)
                axs[0].plot(step, 2 / lrv[m], color="k", ls=":", lw=0.8)
        axs[0].set_yscale("log")
        axs[0].set_xlabel("step")
        axs[0].set_ylabel("%s (dotted: 2/lr)" % heig)
        if jr is not None:
            for m in range(jr.shape[0]):
                ok = ~np.isnan(ps[m]) & ~np.isnan(jr[m])
                axs[1].plot(ps[m][ok], jr[m][ok], "o-", ms=2, lw=0.7,
                            color="0.3" if twin[m] < 0 else ("tab:red" if col[m] else "tab:blue"))
            axs[1].axhline(1, color="k", lw=0.6)
            axs[1].set_yscale("log")
            axs[1].set_xlabel("step")
            axs[1].set_ylabel("Jacobian spectral radius")
        save(fig, "sharpness.png", "Sharpness against 2/lr and the update-map Jacobian spectral radius against 1"
             if jr is not None else "Sharpness against 2/lr (no Jacobian probe in the deck)")
    else:
        notes.append("sharpness: results.nc has no probe variables (probe_step, hessian_eig): figure skipped")

    # report.md
    md = ["# Stability report: %s" % a.title, "", "Source: `%s/analysis.nc` (%s)." % (d, a.history), ""]
    if "group_config" in a.variables:
        md += ["## Stability margins", "",
               "| configuration | perturbation | dimension | members | collapsed | margin | interval | status |",
               "|---|---|---|---|---|---|---|---|"]
        gm = ints(a, "group_members")
        for g in range(len(gpert)):
            if gm[g] <= 0:
                continue
            ncol = int(sum(ints(a, "cell_collapsed")[cg == g]))
            st = ints(a, "margin_status")[g]
            if st == 2:
                iv = "> %.4g" % mlo[g]
            elif st == 3:
                iv = "< %.4g" % mhi[g]
            elif st in (4, 5):
                iv = "-"
            else:
                iv = ("(open" if np.isnan(mlo[g]) else "[%.4g" % mlo[g]) + ", " + \
                     ("open)" if np.isnan(mhi[g]) else "%.4g]" % mhi[g])
            md.append("| %s | %s | %s | %d | %d | %s | %s | %s |" % (
                clabel[gcfg[g]], gpert[g], DIMS[gdim[g]], gm[g], ncol, "-" if np.isnan(mg[g]) else "%.4g" % mg[g], iv,
                MARGIN[st]))
        md += ["", "## Findings", "", "(1) Spearman correlation of final performance and stability margin:", "",
               "| perturbation | dimension | n | rho | interval |", "|---|---|---|---|---|"]
        pn = text(a["perturbation_name"][:])
        for b, name in enumerate(pn):
            if ints(a, "finding1_n")[b] < 3:
                md.append("| %s | %s | %d | too few configurations | |" % (
                    name, DIMS[ints(a, "perturbation_dimension")[b]], ints(a, "finding1_n")[b]))
                continue
            md.append("| %s | %s | %d | %.3f | [%.3f, %.3f] |" % (
                name, DIMS[ints(a, "perturbation_dimension")[b]], ints(a, "finding1_n")[b],
                dbl(a, "finding1_spearman")[b], dbl(a, "finding1_spearman_low")[b],
                dbl(a, "finding1_spearman_high")[b]))
        if "stochasticity_axis" in a.variables:
            strat = "comment" in a["finding2_collapse_spearman"].ncattrs()
            md += ["", "(2) Against the stochasticity level (Spearman%s):" % (
                   ", within strata of equal values on the other sweep axes" if strat else ""), "",
                   "| axis | perturbation | margin rho (n) | collapse probability rho (n) |", "|---|---|---|---|"]
            for i, ax_name in enumerate(text(a["stochasticity_axis"][:])):
                for b, name in enumerate(pn):
                    md.append("| %s | %s | %.3f [%.3f, %.3f] (%d) | %.3f [%.3f, %.3f] (%d) |" % (
                        ax_name, name, dbl(a, "finding2_margin_spearman")[i, b],
                        dbl(a, "finding2_margin_spearman_low")[i, b], dbl(a, "finding2_margin_spearman_high")[i, b],
                        ints(a, "finding2_margin_n")[i, b], dbl(a, "finding2_collapse_spearman")[i, b],
                        dbl(a, "finding2_collapse_spearman_low")[i, b],
                        dbl(a, "finding2_collapse_spearman_high")[i, b], ints(a, "finding2_collapse_n")[i, b]))
        else:
            md += ["", "(2) No controlled-stochasticity axis in the sweep."]
    md += ["", "(3) Early warnings (threshold calibrated on the baseline twins):", "",
           "| detector | warned | precision | recall | lead median [IQR] | AUROC (pairs) | false alarms "
           "| matched-dose concordance [interval] |",
           "|---|---|---|---|---|---|---|---|"]
    has_mc = "matched_concordance" in a.variables  # analysis.nc of an older stabaudit has none
    for q, name in enumerate(dets):
        md.append("| %s | %d | %.3f | %.3f | %.4g [%.4g, %.4g] | %.3f (%d) | %.3f | %s |" % (
            name, ints(a, "n_warned")[q], dbl(a, "precision")[q], dbl(a, "recall")[q],
            dbl(a, "lead_time_median")[q], dbl(a, "lead_time_q25")[q], dbl(a, "lead_time_q75")[q],
            dbl(a, "auroc")[q], ints(a, "auroc_pairs")[q], dbl(a, "false_alarm_rate")[q],
            "%.3f [%.3f, %.3f] (%d pairs, %d cells)" % (
                dbl(a, "matched_concordance")[q], dbl(a, "matched_concordance_low")[q],
                dbl(a, "matched_concordance_high")[q], ints(a, "matched_pairs")[q], ints(a, "matched_cells")[q])
            if has_mc else "-"))
    md += ["", "## Figures", ""]
    for name, caption in figs:
        md += ["![%s](%s)" % (caption, name), "", "*%s*" % caption, ""]
    if notes:
        md += ["## Notes", ""] + ["- " + n for n in notes] + [""]
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(md))
    for n in notes:
        print("stabaudit report: note: " + n)
    print("stabaudit report: wrote %s/report.md and %d figures" % (out, len(figs)))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: report.py DIR")
    main(sys.argv[1])
