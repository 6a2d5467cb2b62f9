#!/usr/bin/python3
"""decline_lead.py DIR [--drop D] [--detector NAME]: warning lead times against the first visible decline.

`stabaudit analyze` measures a detector's lead time against the collapse step (a drop of `collapse_delta`
below the twin that does not recover). A warning that merely coincides with a slow slide in accuracy
would score a long lead there. This script measures the lead against a stricter reference: the first
record at or after the member's onset where its performance is more than D (default 0.05) below its
twin's at the same record. For the collapsed members of DIR/analysis.nc it prints:
  - per perturbation block: collapses, median collapse, decline and warning steps, the median lead over
    the decline, and the fraction of collapses warned strictly before it;
  - the survivors the detector warned for;
  - for every (block, magnitude, configuration) cell where the same dose gave both outcomes, the median
    warning step of the members that collapsed and of those that did not.
Needs Debian's python3-netcdf4 and python3-numpy (scripts/setup.sh). docs/experiments.md uses it on
input/audit_slow.yaml.
"""
import argparse
import sys

import netCDF4
import numpy as np


def dbl(ds, name):
    return np.ma.filled(ds[name][:].astype(float), np.nan)


def text(v):
    return b"".join(x for x in np.ma.filled(v, b"") if x).decode()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", help="campaign directory with results.nc and analysis.nc")
    ap.add_argument("--drop", type=float, default=0.05, help="performance below the twin that counts as visible (0.05)")
    ap.add_argument("--detector", default="metastate", help="detector of analysis.nc (metastate)")
    a = ap.parse_args()
    if not 0 < a.drop < 1:
        sys.exit("decline_lead.py: --drop %g is out of range; allowed (0, 1)" % a.drop)
    try:
        r = netCDF4.Dataset(a.dir + "/results.nc")
        an = netCDF4.Dataset(a.dir + "/analysis.nc")
    except OSError as e:
        sys.exit("decline_lead.py: %s (run `stabaudit run` and `stabaudit analyze` on %s first)" % (e, a.dir))
    names = [text(an["detector_name"][i]) for i in range(an.dimensions["detector"].size)]
    if a.detector not in names:
        sys.exit("decline_lead.py: --detector '%s' is not in %s/analysis.nc; allowed: %s"
                 % (a.detector, a.dir, ", ".join(names)))
    d = names.index(a.detector)
    step = dbl(r, "step")
    perf = dbl(r, "performance")
    twin = np.ma.filled(r["twin"][:], -1)
    onset = np.ma.filled(r["onset"][:], -1)
    cfg = np.ma.filled(r["config"][:], -1)
    mag = dbl(r, "magnitude")
    block = np.array([text(r["perturbation"][i]) for i in range(len(twin))])
    col = np.ma.filled(an["collapsed"][:], 0) > 0
    cstep = dbl(an, "collapse_step")
    warn = dbl(an, "warning_step")[:, d]
    pert = twin >= 0
    decline = np.full(len(twin), np.nan)
    for i in np.where(pert)[0]:
        below = np.where((step >= onset[i]) & (perf[i] - perf[twin[i]] < -a.drop))[0]
        if len(below):
            decline[i] = step[below[0]]
    c = pert & col
    lead = decline[c] - warn[c]
    print("%s: %d collapses of %d perturbed members; detector %s, visible decline = %g below the twin"
          % (a.dir, c.sum(), pert.sum(), a.detector, a.drop))
    print("all      lead over the decline: median %g [IQR %g, %g], warned before it: %.2f; survivors warned %d of %d"
          % (np.nanmedian(lead), *np.nanpercentile(lead, [25, 75]), np.mean(lead > 0),
             np.sum(~np.isnan(warn[pert & ~col])), np.sum(pert & ~col)))
    print("%-8s %9s %8s %8s %8s %8s %8s %10s" % ("block", "collapsed", "collapse", "decline", "warning", "lead",
                                                  "before", "survivors"))
    for b in dict.fromkeys(block[pert]):
        m = pert & (block == b)
        k = m & col
        if not k.any():
            print("%-8s %4d/%-4d" % (b, 0, m.sum()))
            continue
        lb = decline[k] - warn[k]
        print("%-8s %4d/%-4d %8.0f %8.0f %8.0f %8.0f %8.2f %5d/%-4d"
              % (b, k.sum(), m.sum(), np.nanmedian(cstep[k]), np.nanmedian(decline[k]), np.nanmedian(warn[k]),
                 np.nanmedian(lb), np.mean(lb > 0), np.sum(~np.isnan(warn[m & ~col])), np.sum(m & ~col)))
    print("matched doses with both outcomes: block magnitude config: collapsed/members, median warning step "
          "(collapsed vs survivors)")
    for b in dict.fromkeys(block[pert]):
        for g in sorted(set(mag[pert & (block == b)])):
            for k in sorted(set(cfg[pert])):
                m = pert & (block == b) & (mag == g) & (cfg == k)
                if 0 < (m & col).sum() < m.sum():
                    print("  %-8s %-8g %d: %d/%d, %g vs %g" % (b, g, k, (m & col).sum(), m.sum(),
                                                               np.nanmedian(warn[m & col]), np.nanmedian(warn[m & ~col])))


if __name__ == "__main__":
    main()
