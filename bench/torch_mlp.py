#!/usr/bin/python3
"""PyTorch peer of bench/bench_mlp.c: training steps per second of the same MLP (tanh hidden layers, linear logits,
softmax cross-entropy, SGD with heavy-ball momentum as torch.optim.SGD), float64, on the same data set with the same
standardisation and minibatches drawn from per-epoch permutations. Not a test; run by bench/mlp.sh.

Usage: /usr/bin/python3 bench/torch_mlp.py --dataset digits --hidden 128 --batch 128 [--steps 500] [--warmup 10]
The last output line is 'RESULT key=value ...'. Use /usr/bin/python3 (Debian's python3-torch; TOOLCHAIN.md 5.1).
"""
import argparse
import ctypes
import gzip
import os
import re
import sys
import time

import numpy as np

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
HERE = os.path.dirname(os.path.abspath(__file__))


def load_fashion():
    with gzip.open(os.path.join(FASHION_DIR, "train-images-idx3-ubyte.gz")) as f:
        x = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784).astype(np.float64)
    with gzip.open(os.path.join(FASHION_DIR, "train-labels-idx1-ubyte.gz")) as f:
        y = np.frombuffer(f.read(), dtype=np.uint8, offset=8).astype(np.int64)
    return x, y


def load_digits(data_dir):
    a = np.loadtxt(os.path.join(data_dir, "sklearn", "digits.csv.gz"), delimiter=",")
    return a[:, :-1].astype(np.float64), a[:, -1].astype(np.int64)


def blas_description(torch):
    """The BLAS libraries mapped into this process and, for OpenBLAS, its config string and core."""
    libs = []
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            base = os.path.basename(path)
            if ("blas" in base or "mkl" in base or "blis" in base) and path not in libs:
                libs.append(path)
    info = [f"torch {torch.__version__}"]
    for line in torch.__config__.show().splitlines():
        if "CPU capability" in line:
            info.append(line.strip(" -"))
        info += re.findall(r"(?:BLAS_INFO|LAPACK_INFO)=[^,\s]+", line)
    for path in libs:
        desc = os.path.realpath(path)
        try:
            lib = ctypes.CDLL(path)
            cfg = lib.openblas_get_config
            cfg.restype = ctypes.c_char_p
            desc += f": {cfg().decode()}, {lib.openblas_get_num_threads()} thread(s)"
        except (OSError, AttributeError):
            pass
        info.append(desc)
    env = os.environ.get("OPENBLAS_CORETYPE")
    info.append(f"OPENBLAS_CORETYPE={env}" if env is not None else "OPENBLAS_CORETYPE unset")
    return "; ".join(info)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=["digits", "fashion_mnist"], default="digits")
    p.add_argument("--data-dir", default=os.path.join(HERE, "..", "data"))
    p.add_argument("--hidden", default="64", help="hidden widths, comma-separated")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=200, help="timed optimizer steps")
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()

    try:
        import torch
    except ImportError as e:
        print(f"torch_mlp: PyTorch unavailable ({e}); install python3-torch and run with /usr/bin/python3")
        print("RESULT torch=unavailable")
        return 3
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    dt = torch.float64

    x, y = load_fashion() if a.dataset == "fashion_mnist" else load_digits(a.data_dir)
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std == 0] = 1.0
    X = torch.from_numpy((x - mean) / std).to(dt)
    Y = torch.from_numpy(y)
    n, d, C = X.shape[0], X.shape[1], int(Y.max()) + 1
    widths = [d] + [int(h) for h in a.hidden.split(",")] + [C]

    layers = []
    for i in range(1, len(widths)):
        layers.append(torch.nn.Linear(widths[i - 1], widths[i], dtype=dt))
        if i < len(widths) - 1:
            layers.append(torch.nn.Tanh())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum)
    lossf = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(1)
    state = {"perm": torch.randperm(n, generator=gen), "pos": 0}

    def step():
        if state["pos"] + a.batch > n:
            state["perm"], state["pos"] = torch.randperm(n, generator=gen), 0
        idx = state["perm"][state["pos"]:state["pos"] + a.batch]
        state["pos"] += a.batch
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(X[idx]), Y[idx])
        loss.backward()
        opt.step()
        return loss

    for _ in range(a.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
    lv = loss.item()
    t = (time.perf_counter() - t0) / a.steps
    W = sum(widths[i] * widths[i - 1] for i in range(1, len(widths)))
    P = sum(widths[i] * (widths[i - 1] + 1) for i in range(1, len(widths)))
    arch = "-".join(str(w) for w in widths)
    print(f"torch_mlp: BLAS: {blas_description(torch)}")
    print(f"torch_mlp: {arch} on {a.dataset}, batch {a.batch}, {P} parameters, {torch.get_num_threads()} thread(s); "
          f"{a.warmup} warm-up + {a.steps} timed steps")
    print(f"torch_mlp: {1 / t:.1f} steps/s ({1e3 * t:.3f} ms/step), {6 * a.batch * W / t * 1e-9:.2f} GFLOP/s nominal")
    print(f"RESULT torch=ok arch={arch} dataset={a.dataset} batch={a.batch} params={P} steps={a.steps} "
          f"steps_per_s={1 / t:.6g} ms_per_step={1e3 * t:.6g} gflops_nominal={6 * a.batch * W / t * 1e-9:.6g} "
          f"threads={torch.get_num_threads()} loss={lv:.6g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
