"""Checks the probe variables of tests/decks/probes.yaml's results.nc against the quadratic's closed forms.

The Hessian of the quadratic is A with eigenvalues lambda_i = 0.01 * 100^(i / 499), i = 0..499 (lambda_max = 1
exactly), whatever theta: every probe's top-3 and bottom-3 eigenvalues are the ends of that spectrum (solver tolerance
1e-12: compared at 1e-9 relative); the heavy-ball sharpness ratio is lr * 1 / (2 (1 + 0.9)) with the lr in force at
the probe (lr_spike multiplies it at the onset); the Hutchinson trace lies within 6 standard errors of sum lambda_i;
the SLQ density integrates to ~1 over the grid (it covers the spectrum +- 5 sigma; trapezoid rule, 1e-3); the update-map
Jacobian's spectral radius is at least sqrt(mu) (heavy ball: |z1 z2| = mu for every 2x2 block).
"""
import sys
import numpy as np
import netCDF4

ds = netCDF4.Dataset(sys.argv[1])
ds.set_auto_mask(True)
lam = 0.01 * 100.0 ** (np.arange(500) / 499.0)
lam[-1], lam[0] = 1.0, 0.01
step = ds["probe_step"][:]
eig, emin = ds["hessian_eig"][:], ds["hessian_eig_min"][:]
ratio, trace, se = ds["sharpness_ratio"][:], ds["hessian_trace"][:], ds["hessian_trace_stderr"][:]
dens, grid = ds["hessian_density"][:], ds["density_grid"][:]
rad = ds["jacobian_radius"][:]
lrvar = ds["config_lr"][:]
config = ds["config"][:]
kind = netCDF4.chartostring(ds["kind"][:])
mag = ds["magnitude"][:]
onset = ds["onset"][:]
reason = ds["reason"][:]
nprobes = 0
for m in range(step.shape[0]):
    for p in range(step.shape[1]):
        if np.ma.is_masked(step[m, p]):
            continue
        t = int(step[m, p])
        if np.ma.is_masked(eig[m, p, 0]):
            continue  # a diverged member stops probing
        nprobes += 1
        assert np.allclose(eig[m, p], lam[::-1][:3], rtol=1e-9, atol=0), (m, t, eig[m, p])
        assert np.allclose(emin[m, p], lam[:3], rtol=1e-9, atol=0), (m, t, emin[m, p])
        lr = lrvar[config[m]]
        if kind[m] == "lr_spike" and t == onset[m]:
            lr *= mag[m]
        assert abs(ratio[m, p] - lr / (2 * 1.9)) <= 1e-9 * lr, (m, t, ratio[m, p], lr)
        assert abs(trace[m, p] - lam.sum()) <= 6 * se[m, p], (m, t, trace[m, p], se[m, p])
        integral = np.trapz(dens[m, p], grid)
        assert abs(integral - 1) < 1e-3, (m, t, integral)
        assert rad[m, p] >= np.sqrt(0.9) * (1 - 1e-9), (m, t, rad[m, p])
assert nprobes >= 24 * 3, nprobes
print(f"check_probes: {nprobes} probes match the closed forms")
