#!/bin/bash
# A diverging member is a result: gradient descent with lr = 2.1 > 2 / lambda_max diverges, with
# lr = 1.9 it converges; the campaign completes (exit 0) and records reason, step and performance 0.
TEST_NAME=diverge
. "$(dirname "$0")/common.sh"
sa 2 run "$SA_SRC/tests/decks/diverge.yaml" -o d > d.log
"$PY" - d/results.nc <<'PY'
import sys, netCDF4
ds = netCDF4.Dataset(sys.argv[1]); ds.set_auto_mask(False)
lr = ds["config_lr"][:]; cfg = ds["config"][:]; reason = ds["reason"][:]; dstep = ds["diverged_step"][:]
twin = ds["twin"][:]; final = ds["final_performance"][:]; loss = ds["loss"][:]
fill = -2147483647
for m in range(len(reason)):
    l = lr[cfg[m]]
    if l < 2:
        assert reason[m] == 1 and dstep[m] == fill and final[m] > 0.99, (m, reason[m], dstep[m], final[m])
    else:
        assert reason[m] < 0 and 0 < dstep[m] < 300 and final[m] == 0, (m, reason[m], dstep[m], final[m])
        # records after the divergence are fill values, before it finite and growing
        k = dstep[m] // 10
        assert (loss[m, k + 1:] == 9.969209968386869e36).all(), m
        assert loss[m, k - 1] > loss[m, 1]
onset = ds["onset"][:]
late = 0
for m in range(len(reason)):
    t = twin[m]
    if t >= 0 and reason[t] < 0 and dstep[t] < onset[m]:
        # the twin diverged before the onset: the member was never perturbed and shares its fate
        late += 1
        assert reason[m] == reason[t] and dstep[m] == dstep[t] and final[m] == 0, m
        assert (loss[m] == loss[t]).all(), m
print("diverge: members", len(reason), "diverged", int((reason < 0).sum()), "sharing the twin's fate", late)
assert (reason < 0).sum() == 6 and late == 2
PY
grep -q "diverged" d.log || fail "no progress line reports a divergence"
echo "diverge: OK"
