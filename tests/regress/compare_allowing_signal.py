#!/usr/bin/python3
"""compare_allowing_signal.py OLD.nc NEW.nc

Compares every variable of two results.nc files bitwise (same names, dimensions, bytes; NaN patterns compared as
bytes). One exception is allowed: the Jacobian-probe variables (jacobian_*) at probe steps where the member's
learning-signal perturbation is active, and the Lyapunov variables (lyap_*) of members whose learning-signal
perturbation is active at some step counted; both now linearise the update the member actually applied, including its
learning signal (docs/architecture.md). Prints each allowed difference (member, kind, variable) and a summary line.
Exit 0 when nothing else differs, 1 otherwise."""
import sys
import numpy as np
import netCDF4

SIGNAL = {"loss_scale", "signal_flip", "signal_noise", "label_smoothing"}


def text(row):
    return b"".join(x for x in row if x not in (b"", b"\x00")).decode() if row.dtype.kind == "S" else str(row)


def active(onset, duration, step):
    return step >= onset and (duration < 0 or step < onset + duration)


def main(a_path, b_path):
    a, b = netCDF4.Dataset(a_path), netCDF4.Dataset(b_path)
    for ds in (a, b):
        ds.set_auto_maskandscale(False)
    bad, allowed = [], []
    if set(a.variables) != set(b.variables):
        bad.append(f"variables differ: {sorted(set(a.variables) ^ set(b.variables))}")
    if {k: len(v) for k, v in a.dimensions.items()} != {k: len(v) for k, v in b.dimensions.items()}:
        bad.append("dimensions differ")
    if bad:
        print("\n".join(bad))
        return 1
    kinds = [text(r) for r in a.variables["kind"][:]] if "kind" in a.variables else []
    onset = a.variables["onset"][:] if "onset" in a.variables else []
    duration = a.variables["duration"][:] if "duration" in a.variables else []
    pstep = a.variables["probe_step"][:] if "probe_step" in a.variables else None
    steps_run = a.variables["lyap_steps"][:] if "lyap_steps" in a.variables else None
    for name in sorted(a.variables):
        x, y = a.variables[name][:], b.variables[name][:]
        if x.shape != y.shape or x.dtype != y.dtype:
            bad.append(f"{name}: shape or type differs")
            continue
        xb = np.ascontiguousarray(x).view(np.uint8).reshape(x.shape + (-1,)) if x.ndim else x
        yb = np.ascontiguousarray(y).view(np.uint8).reshape(y.shape + (-1,)) if y.ndim else y
        diff = np.any(xb != yb, axis=-1) if x.ndim else np.array(x != y)
        if not diff.any():
            continue
        for idx in zip(*np.nonzero(diff)) if diff.ndim else [()]:
            ok = False
            if idx and "member" in a.variables[name].dimensions[:1] and kinds:
                m = idx[0]
                if kinds[m] in SIGNAL:
                    if name.startswith("jacobian_") and pstep is not None and len(idx) >= 2:
                        ok = active(onset[m], duration[m], pstep[m, idx[1]])
                    elif name.startswith("lyap_"):
                        ok = True
            if ok:
                allowed.append((int(idx[0]), kinds[idx[0]], name))
            else:
                bad.append(f"{name}{tuple(int(i) for i in idx)}: {x[idx]!r} != {y[idx]!r}")
                break
    for m, k, v in sorted(set(allowed)):
        print(f"allowed: member {m} ({k}) {v}")
    if bad:
        print("\n".join(bad))
        print(f"FAIL: {len(bad)} variables differ outside the allowed learning-signal exception")
        return 1
    n = len(set((m, v) for m, _, v in allowed))
    print(f"bitwise identical ({len(a.variables)} variables)" + (f"; {n} member-variables of active learning-signal members differ, as allowed" if n else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
