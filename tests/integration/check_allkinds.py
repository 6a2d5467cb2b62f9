"""Checks a campaign of tests/decks/allkinds.yaml: every perturbed member has twin_distance fill
before its onset and a positive, finite distance at every recorded step from onset + 1 on (no kind
is a silent no-op); twins have no distance; and that NKINDS distinct kinds were seen.
Usage: check_allkinds.py results.nc NKINDS"""
import sys
import numpy as np
import netCDF4

d = netCDF4.Dataset(sys.argv[1])
d.set_auto_mask(False)
fill = d["twin_distance"]._FillValue
td, steps = d["twin_distance"][:], d["step"][:]
twin, onset = d["twin"][:], d["onset"][:]
kinds = netCDF4.chartostring(d["kind"][:])
seen, bad = set(), []
for m in range(td.shape[0]):
    if twin[m] < 0:
        if not np.all(td[m] == fill):
            bad.append(f"twin {m} has a twin distance")
        continue
    seen.add(str(kinds[m]))
    pre, post = td[m][steps < onset[m]], td[m][steps > onset[m]]
    if not np.all(pre == fill):
        bad.append(f"member {m} ({kinds[m]}): distance before onset {onset[m]}: {pre}")
    if post.size == 0 or not np.all(np.isfinite(post) & (post > 0) & (post != fill)):
        bad.append(f"member {m} ({kinds[m]}): no positive distance after onset {onset[m]}: {post}")
for axis, values in (("dropout", [0, 0.1]), ("batch", [32, 48])):
    got = sorted(set(np.round(d["config_" + axis][:], 12)))
    if got != values:
        bad.append(f"config_{axis} holds {got}, expected {values}")
print(f"{len(seen)} kinds checked")
if len(seen) != int(sys.argv[2]):
    bad.append(f"{len(seen)} kinds in the campaign, expected {sys.argv[2]}: {sorted(seen)}")
if bad:
    print("\n".join(bad))
    sys.exit(1)
