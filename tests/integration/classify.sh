#!/bin/bash
# The MLP classification workload on scikit-learn's digits: one member sharded over 2 ranks agrees
# with 1 rank within 1e-12 relative (data parallelism: the same batch split over the group),
# groups of 1 give bitwise identical data however many groups run, re-runs are bitwise identical,
# twins hold before onset, and training really learns: every twin reaches >= 90% test accuracy.
TEST_NAME=classify
. "$(dirname "$0")/common.sh"
deck=$SA_SRC/tests/decks/digits.yaml
sa 1 run "$deck" -o g1 > g1.log
sa 2 run "$deck" -o g2 -group_size 2 > g2.log
sa 2 run "$deck" -o two -group_size 1 > two.log
sa 2 run "$deck" -o again -group_size 2 > again.log
"$NCCOMPARE" g1/results.nc g2/results.nc -rtol 1e-12
"$NCCOMPARE" g1/results.nc two/results.nc
"$NCCOMPARE" g2/results.nc again/results.nc
"$NCTWINS" g2/results.nc
"$PY" - g2/results.nc <<'PY'
import sys, netCDF4
ds = netCDF4.Dataset(sys.argv[1]); ds.set_auto_mask(False)
twin = ds["twin"][:]; final = ds["final_performance"][:]; perf = ds["performance"][:]
acc = [final[m] for m in range(len(twin)) if twin[m] == -1]
print("classify: twin test accuracies", acc)
assert min(acc) >= 0.90, acc
assert (perf[:, 0] < 0.5).all(), "the untrained networks should not already be accurate"
PY
echo "classify: OK"
