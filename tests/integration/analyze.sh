#!/bin/bash
# stabaudit analyze on tests/decks/margin.yaml: gradient descent on a quadratic with lambda_max = 1 and the
# learning rate scaled by m diverges exactly when lr * m > 2, so the lr_scale stability margin of the
# configuration lr is 2 / lr (4.0 and 2.5) and must lie inside its interval. Also: analysis.nc is re-runnable,
# leaves results.nc untouched, does not depend on the number of ranks, and bad input gives a clear error.
TEST_NAME=analyze
. "$(dirname "$0")/common.sh"
sa 2 run "$SA_SRC/tests/decks/margin.yaml" -o m > run.log
sum0=$(md5sum < m/results.nc)
sa 2 analyze m -analyze_bootstrap 200 > a2.log
cat a2.log
cp m/analysis.nc a2.nc
sa 1 analyze m -analyze_bootstrap 200 > a1.log
[ "$(md5sum < m/results.nc)" = "$sum0" ] || fail "analyze modified results.nc"
[ ! -e m/analysis.nc.tmp ] || fail "analysis.nc.tmp left behind"
"$PY" - m/analysis.nc a2.nc m/results.nc <<'PY'
import sys, netCDF4, numpy as np
a = netCDF4.Dataset(sys.argv[1]); a.set_auto_mask(False)
b = netCDF4.Dataset(sys.argv[2]); b.set_auto_mask(False)
r = netCDF4.Dataset(sys.argv[3]); r.set_auto_mask(False)
lr = r["config_lr"][:]
st = a["margin_status"][:]; mg = a["stability_margin"][:]
lo = a["stability_margin_low"][:]; hi = a["stability_margin_high"][:]
for g, c in enumerate(a["group_config"][:]):
    m_true = 2.0 / lr[c]
    print("lr %.2f: margin %.4f in [%.4f, %.4f], 2/lr = %.4f, status %d" % (lr[c], mg[g], lo[g], hi[g], m_true, st[g]))
    assert st[g] == 1, "outcomes separated by magnitude (deterministic GD)"
    assert lo[g] < m_true < hi[g], (g, lo[g], hi[g], m_true)
    assert abs(np.log(mg[g]) - 0.5 * (np.log(lo[g]) + np.log(hi[g]))) < 1e-12  # geometric midpoint of the gap
# collapse <=> lr * m > 2 for every perturbed member; twins never collapse
mag = r["magnitude"][:]; twin = r["twin"][:]; cfg = r["config"][:]; col = a["collapsed"][:]
for m in range(len(twin)):
    expect = twin[m] >= 0 and lr[cfg[m]] * mag[m] > 2
    assert bool(col[m]) == expect, (m, lr[cfg[m]], mag[m], col[m])
# Wilson intervals bracket the cell frequencies
p = a["collapse_probability"][:]
assert (a["collapse_probability_low"][:] <= p).all() and (p <= a["collapse_probability_high"][:]).all()
# 1 rank and 2 ranks: the same analysis (reduction order only)
for v in ["collapsed", "collapse_step", "irreversible", "warning_step", "margin_status"]:
    assert (a[v][:] == b[v][:]).all(), v
for v in ["stability_margin", "ftle", "twin_gap_area", "max_drawdown", "deviation", "auroc", "explained_variance"]:
    x, y = a[v][:], b[v][:]
    assert np.allclose(x, y, rtol=1e-9, atol=1e-12), (v, np.max(np.abs(x - y)))
assert a.Conventions == "CF-1.13" and "analyze" in a.history
print("analyze: margins at 2/lr_max inside their intervals; 1 and 2 ranks agree")
PY
# finding 2 with a second sweep axis: lr x noise on the same deck, 4 seeds. Gradient noise makes more members diverge,
# so at each learning rate the collapse probability rises with the noise, while pooling the two learning rates would
# mix their levels (pooled rho < 1). analyze correlates within the strata of equal lr: +1; the value is recomputed
# here from analysis.nc's cells and results.nc's config_<axis> variables. With noise, members of one dose differ in
# outcome: the matched-dose concordance of each detector is recomputed here from the members' warnings
sa 2 run "$SA_SRC/tests/decks/margin.yaml" -o m2 -sweep_noise 0,0.3,1 -campaign_seeds 1,2,3,4 > run2.log
sa 2 analyze m2 -analyze_bootstrap 100 > a2x.log
grep -q "^(2) against the stochasticity level 'noise' (Spearman within strata of the other sweep axes" a2x.log ||
  fail "finding 2 does not say it is stratified: $(grep '^(2)' a2x.log)"
"$PY" - m2/analysis.nc m2/results.nc <<'PY'
import sys, netCDF4, numpy as np
a = netCDF4.Dataset(sys.argv[1]); a.set_auto_mask(False)
r = netCDF4.Dataset(sys.argv[2]); r.set_auto_mask(False)
lr, noise = r["config_lr"][:], r["config_noise"][:]
cg, cm, cc = a["cell_group"][:], a["cell_members"][:], a["cell_collapsed"][:]
gc = a["group_config"][:]
p = np.array([cc[cg == g].sum() / cm[cg == g].sum() for g in range(len(gc))])
def ranks(v):
    o = np.argsort(v, kind="stable"); rk = np.empty(len(v)); rk[o] = np.arange(1, len(v) + 1)
    for u in np.unique(v): rk[v == u] = rk[v == u].mean()
    return rk
def spearman(x, y):
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0: return np.nan
    return np.corrcoef(ranks(x), ranks(y))[0, 1]
x, strata = noise[gc], lr[gc]
num = den = 0.0
for s in np.unique(strata):
    k = strata == s
    rho = spearman(x[k], p[k])
    if not np.isnan(rho): num += k.sum() * rho; den += k.sum()
expect, pooled = num / den, spearman(x, p)
got = a["finding2_collapse_spearman"][0, 0]
print("finding 2, collapse probability against noise within lr strata: %.6f (recomputed %.6f, pooled %.6f)" % (got, expect, pooled))
assert abs(got - expect) < 1e-12 and abs(got - 1) < 1e-12 and pooled < 0.99, (got, expect, pooled)
assert "within strata" in a["finding2_collapse_spearman"].comment
# matched-dose concordance: pairs (collapsed i, surviving j) of one (config, block, magnitude); i warned first: 1,
# same record or neither: 1/2; a warning after i's collapse is none
tw, cfg, mag = r["twin"][:], r["config"][:], r["magnitude"][:]
blk = [b"".join(x for x in r["perturbation"][i] if x) for i in range(len(tw))]
col, cs, ws = a["collapsed"][:], a["collapse_step"][:], a["warning_step"][:]
for det in range(ws.shape[1]):
    tot = npair = 0
    cells = set()
    for i in range(len(tw)):
        if tw[i] < 0 or not col[i]: continue
        wi = ws[i, det] if 0 <= ws[i, det] <= cs[i] else -1
        for j in range(len(tw)):
            if tw[j] < 0 or col[j] or cfg[j] != cfg[i] or blk[j] != blk[i] or mag[j] != mag[i]: continue
            wj = ws[j, det] if ws[j, det] >= 0 else -1
            tot += 0.5 if wi == wj else (1.0 if wi >= 0 and (wj < 0 or wi < wj) else 0.0)
            npair += 1
            cells.add((cfg[i], blk[i], mag[i]))
    got, gotn, gotk = a["matched_concordance"][det], a["matched_pairs"][det], a["matched_cells"][det]
    lo, hi = a["matched_concordance_low"][det], a["matched_concordance_high"][det]
    print("detector %d: matched concordance %.6f [%.3f, %.3f] over %d pairs in %d cells (recomputed %.6f, %d, %d)"
          % (det, got, lo, hi, gotn, gotk, tot / npair, npair, len(cells)))
    assert npair >= 10 and gotn == npair and gotk == len(cells) and abs(got - tot / npair) < 1e-15, (det, got, tot)
    assert 0 <= lo <= hi <= 1, (lo, hi)
PY
# finding 1 lists only the configurations with a usable margin: at lr 3 the twins themselves diverge (lr > 2), every
# member collapses and the margin is censored below; the printed line names lr 0.5 and 0.8 and nothing else
sa 2 run "$SA_SRC/tests/decks/margin.yaml" -o m3 -sweep_lr 0.5,0.8,3 > run3.log
sa 2 analyze m3 -analyze_bootstrap 50 > a3.log
grep -qE "^    scale +optimization +n = 2 \(no correlation below 3\): lr=0\.5: perf [0-9.]+ margin 3\.995; lr=0\.8: perf [0-9.]+ margin 2\.498;$" a3.log ||
  fail "finding 1 lists other than the two usable margins: $(grep '^    scale' a3.log | head -1)"
# a campaign that computed Lyapunov exponents (lyap_exponent(member, lyap), docs/analysis.md): copied over
mkdir -p ly && cp m/results.nc ly/
"$PY" - ly/results.nc <<'PY'
import sys, netCDF4, numpy as np
ds = netCDF4.Dataset(sys.argv[1], "a")
ds.createDimension("lyap", 3)
v = ds.createVariable("lyap_exponent", "f8", ("member", "lyap"), fill_value=9.96920996838687e36)
v[:] = np.arange(len(ds.dimensions["member"]) * 3).reshape(-1, 3) * 0.01 - 0.5
ds.close()
PY
sa 2 analyze ly -analyze_bootstrap 0 > ly.log
grep -q "lyapunov: 3 exponents" ly.log || fail "lyap_exponent not read: $(cat ly.log)"
"$PY" - ly/analysis.nc <<'PY'
import sys, netCDF4, numpy as np
a = netCDF4.Dataset(sys.argv[1]); a.set_auto_mask(False)
x = a["lyap_exponent"][:]
assert np.allclose(x, np.arange(x.size).reshape(-1, 3) * 0.01 - 0.5, rtol=0, atol=1e-15)
PY
# bad input: a clear message naming the option or file, exit status 2
set +e
sa 1 analyze m -analyze_delta 2 > bad1.log 2>&1; rc1=$?
sa 1 analyze nowhere > bad2.log 2>&1; rc2=$?
sa 1 analyze m -analyze_dleta 0.1 > bad3.log 2>&1; rc3=$?
set -e
[ $rc1 = 2 ] && grep -q "analyze_delta" bad1.log || fail "bad -analyze_delta: rc $rc1, $(cat bad1.log)"
[ $rc2 = 2 ] && grep -q "nowhere.*results.nc" bad2.log || fail "missing directory: rc $rc2, $(cat bad2.log)"
[ $rc3 = 2 ] && grep -q "analyze_dleta" bad3.log || fail "misspelled option: rc $rc3, $(cat bad3.log)"
# the report: figures and report.md (needs python3-matplotlib and python3-netcdf4 from scripts/setup.sh)
sa 1 report m > report.log
for f in trajectories metastates collapse_probability finding1 warnings; do
  head -c 8 "m/report/$f.png" | od -An -c | grep -q "P   N   G" || fail "report: $f.png is not a PNG"
done
grep -q "separated" m/report/report.md || fail "report.md lacks the margin table"
grep -q "finding 2: the sweep has no controlled-stochasticity axis" report.log || fail "report: no note on finding 2"
# scripts/decline_lead.py: its collapse count is analyze's; on this deck the outcome is set by the dose (lr * m > 2),
# so no (block, magnitude, configuration) cell has both outcomes; a detector that is not in analysis.nc is named
"$PY" "$SA_SRC/scripts/decline_lead.py" m > lead.log
cat lead.log
ncol=$("$PY" -c "import sys, netCDF4, numpy as np; a = netCDF4.Dataset(sys.argv[1]); r = netCDF4.Dataset(sys.argv[2])
print(int(((np.ma.filled(a['collapsed'][:], 0) > 0) & (np.ma.filled(r['twin'][:], -1) >= 0)).sum()))" m/analysis.nc m/results.nc)
[ "$ncol" -gt 0 ] || fail "the margin deck has no collapse"
grep -q "^m: $ncol collapses of [0-9]* perturbed members; detector metastate" lead.log ||
  fail "decline_lead.py: collapse count differs from analysis.nc's $ncol"
[ "$(sed -n '/^matched doses/,$p' lead.log | wc -l)" = 1 ] || fail "decline_lead.py: a dose with both outcomes in GD"
rc=0
"$PY" "$SA_SRC/scripts/decline_lead.py" m --detector nosuch > bad4.log 2>&1 || rc=$?
[ $rc != 0 ] && grep -qF "decline_lead.py: --detector 'nosuch' is not in m/analysis.nc; allowed: metastate, loss_zscore" bad4.log ||
  fail "decline_lead.py bad detector: rc $rc, $(cat bad4.log)"
echo "analyze: OK"
