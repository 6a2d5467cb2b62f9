#!/usr/bin/env python3
"""Checks lyap_exponent(member, lyap) of results.nc from tests/decks/lyap.yaml against the closed form.

Gradient descent on the noise-free quadratic has the constant update-map Jacobian J = I - lr A, with A's eigenvalues
lambda_i = 0.1 + 0.9 i / 19 (dim 20, spectrum linear). The QR (Benettin) exponents are then log|1 - lr lambda_i|, the
k largest in decreasing order. The tangents start random and align with the leading eigenvectors at the rate of the
largest ratio of successive |1 - lr lambda| among the k + 1 leading ones (0.947 for lr 1.0, 0.916 for lr 1.5): after
the transient of 300 steps the misalignment is below 0.947^300 = 8e-8 times a constant of the random start, and since
J is symmetric an error eps in the direction enters log R_ii at O(eps^2), so 1e-8 relative (as the unit test of SALyap)
leaves a wide margin over roundoff (600 steps of products of O(1) numbers, ~1e-13). The lr_scale member (lr -> 0.8 lr
from step 400, same eigenvectors and, for these lr, the same order of the k leading |1 - lr lambda|) counts 100 steps
at lr and 200 at 0.8 lr. The members of lr 2.5 diverge before the transient: fill value, 0 steps counted.
"""
import sys
import numpy as np
from netCDF4 import Dataset

REL = 1e-8
ds = Dataset(sys.argv[1])
ds.set_auto_mask(False)
lam = np.asarray(ds["lyap_exponent"][:])
steps = np.asarray(ds["lyap_steps"][:])
cfg = np.asarray(ds["config"][:])
clr = np.asarray(ds["config_lr"][:])
kind = ["".join(c.decode() for c in row if c) for row in ds["kind"][:]]
mag = np.asarray(ds["magnitude"][:])
reason = np.asarray(ds["reason"][:])
FILL = ds["lyap_exponent"]._FillValue
assert ds["lyap_exponent"].long_name.startswith("leading Lyapunov exponents"), "CF long_name"
assert ds["lyap_exponent"].units == "1" and ds["lyap_exponent"]._FillValue > 1e36, "CF units/_FillValue"
M, k = lam.shape
assert k == 4, f"lyap dimension {k}, expected 4"
ev = 0.1 + 0.9 * np.arange(20) / 19


def top(lr):
    return np.log(np.sort(np.abs(1 - lr * ev))[::-1][:k])


worst = 0.0
ndiv = 0
for m in range(M):
    lr = clr[cfg[m]]
    if lr == 2.5:
        assert reason[m] < 0, f"member {m} (lr 2.5) did not diverge"
        assert np.all(lam[m] == FILL) and steps[m] == 0, f"member {m} diverged: {lam[m]}, {steps[m]} steps, not fill"
        ndiv += 1
        continue
    if kind[m] == "none":
        ref = top(lr)
    else:
        assert kind[m] == "lr_scale", kind[m]
        ref = (100 * top(lr) + 200 * top(mag[m] * lr)) / 300
    assert steps[m] == 300, f"member {m}: {steps[m]} steps counted, expected 300"
    err = np.max(np.abs(lam[m] - ref) / np.abs(ref))
    worst = max(worst, err)
    assert err <= REL, f"member {m} ({kind[m]}, lr {lr}): {lam[m]} vs {ref}, rel. error {err:.3g}"
assert ndiv == 4, f"{ndiv} members of lr 2.5, expected 4"
print(f"check_lyap: {M - ndiv} members, largest relative error {worst:.2e} (tolerance {REL:g}); {ndiv} diverged: fill")
