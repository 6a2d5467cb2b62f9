#!/bin/bash
# Extending a finished campaign: more seeds, magnitudes and sweep values on the same directory keep
# every existing member id and result, run only the new members, and `plan` counts them beforehand.
TEST_NAME=extend
. "$(dirname "$0")/common.sh"
deck=$SA_SRC/tests/decks/small.yaml
"$SA_BIN" plan "$deck" > plan1.log
grep -q "24 members: 4 unperturbed twins + 20 perturbed; 2 configurations x 2 seeds" plan1.log || fail "plan: $(head -3 plan1.log)"
sa 2 run "$deck" -o x -log_view :logview.txt > run1.log
grep -q "SASolverStep" logview.txt || fail "-log_view did not report the solver events"
cp x/results.nc first.nc
cp x/members.txt first_members.txt
more="-campaign_seeds 1,2,3 -spike_magnitudes 5,10,40 -sweep_lr 0.5,1,2"
"$SA_BIN" plan "$deck" $more > plan2.log
grep -q "63 members" plan2.log || fail "plan of the extended deck: $(head -3 plan2.log)"
sa 2 run "$deck" -o x $more > run2.log
grep -q "63 members, 24 finished earlier, 39 to run" run2.log || fail "extension: $(head -1 run2.log)"
[ "$(grep -c '^\[' run2.log)" -eq 39 ] || fail "extension ran $(grep -c '^\[' run2.log) members, expected 39"
head -25 x/members.txt | diff - first_members.txt > /dev/null || fail "existing member ids changed"
"$PY" - first.nc x/results.nc <<'PY'
import sys, netCDF4, numpy as np
a = netCDF4.Dataset(sys.argv[1]); b = netCDF4.Dataset(sys.argv[2])
n = a.dimensions["member"].size
assert b.dimensions["member"].size == 63
for name, v in a.variables.items():
    if "member" not in v.dimensions or name == "config":
        continue
    x = v[:]; y = b[name][:n]
    assert np.array_equal(np.ma.getdata(x), np.ma.getdata(y)), name
# configurations are re-indexed by label: compare the labels of the old members
la = [bytes(r).rstrip(b"\0") for r in np.ma.getdata(a["config_label"][:])]
lb = [bytes(r).rstrip(b"\0") for r in np.ma.getdata(b["config_label"][:])]
for m in range(n):
    assert la[a["config"][m]] == lb[b["config"][m]], m
print("extend: the first", n, "members are unchanged")
PY
echo "extend: OK"
