"""Engine benchmark: autodiff against torch (CPU eager), HIPS autograd, mygrad and a hand-written numpy floor.

Everything runs in one process, interleaved round by round (the machines are shared and noisy), and the report
gives medians of per-round figures and of per-round ratios to torch. Cases (the engine's
performance targets are stated for these):

  chain   a 100-op elementwise chain on shape-(2,) tensors, forward + backward   (us per op)
  seed    the seed objective sum(3a^3 - b^2), forward + backward                  (us per call)
  mlp     an MLP 784-256-10 at batch 64, forward + backward                       (relative to torch)
  large   sum(sin(x)*x + x**2) forward + backward at 1e7 float32 elements        (relative to torch)

Usage:  python benchmarks/engine.py [--rounds 7] [--cases chain,seed,mlp,large] [--openblas both|as-is]
                                    [--blas-threads 1]
With --openblas both (the default) the script reruns itself with OPENBLAS_CORETYPE set as found and unset, since
that variable changes numpy's sgemm speed on these machines. torch runs on one thread, and so, by default, does
numpy's BLAS (--blas-threads; 0 leaves it as found): on shared, loaded machines a multi-threaded sgemm waits for
busy cores and the mlp figures of every numpy-based library swing tenfold. Needs the `bench` extra (torch,
autograd, mygrad).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

import autodiff as ad

LIBS = ("autodiff", "torch", "autograd", "mygrad", "numpy")


def _optional(name):
    try:
        return __import__(name)
    except ImportError:
        return None


torch = _optional("torch")
hips = _optional("autograd")
mygrad = _optional("mygrad")
if hips is not None:
    import autograd.numpy as anp
if torch is not None:
    torch.set_num_threads(1)


# -- the cases, one builder per library: each returns a zero-argument callable doing forward + backward ----------

def chain_case(n_ops=100):
    x0 = np.array([0.3, 0.7], dtype=np.float32)

    def chain(x, lib_sin):
        y = x
        for i in range(n_ops // 4):
            y = lib_sin(y * 1.01 + 0.1) - y
        return y

    def ours():
        x = ad.tensor(x0, requires_grad=True)
        chain(x, ad.sin).sum().backward()

    def tor():
        x = torch.tensor(x0, requires_grad=True)
        chain(x, torch.sin).sum().backward()

    def hip():
        hips.grad(lambda x: anp.sum(chain(x, anp.sin)))(x0)

    def myg():
        x = mygrad.tensor(x0)
        mygrad.sum(chain(x, mygrad.sin)).backward()

    def floor():
        y = x0
        saved = []
        for i in range(n_ops // 4):
            u = y * np.float32(1.01) + np.float32(0.1)
            saved.append(u)
            y = np.sin(u) - y
        g = np.ones_like(y)
        for u in reversed(saved):
            g = g * np.cos(u) * np.float32(1.01) - g
        return g

    return dict(autodiff=ours, torch=tor, autograd=hip, mygrad=myg, numpy=floor), n_ops


def seed_case():
    a0 = np.array([2., 3.], dtype=np.float32)
    b0 = np.array([6., 4.], dtype=np.float32)
    a, b = ad.tensor(a0, requires_grad=True), ad.tensor(b0, requires_grad=True)

    def ours():
        ad.sum(3 * a ** 3 - b ** 2).backward()

    ta = tb = None
    if torch is not None:
        ta, tb = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)

    def tor():
        torch.sum(3 * ta ** 3 - tb ** 2).backward()

    def hip():
        hips.grad(lambda a, b: anp.sum(3 * a ** 3 - b ** 2), argnum=(0, 1))(a0, b0)

    def myg():
        ma, mb = mygrad.tensor(a0), mygrad.tensor(b0)
        mygrad.sum(3 * ma ** 3 - mb ** 2).backward()

    def floor():
        np.sum(3 * a0 ** 3 - b0 ** 2)
        return 9 * a0 ** 2, -2 * b0

    return dict(autodiff=ours, torch=tor, autograd=hip, mygrad=myg, numpy=floor), 1


def mlp_case(batch=64):
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((batch, 784)).astype(np.float32)
    w1 = (rng.standard_normal((784, 256)) * 0.05).astype(np.float32)
    b1 = np.zeros(256, np.float32)
    w2 = (rng.standard_normal((256, 10)) * 0.05).astype(np.float32)
    b2 = np.zeros(10, np.float32)

    def loss(lib_max, x, p):
        h = lib_max(x @ p[0] + p[1], 0.0)
        out = h @ p[2] + p[3]
        return (out * out).mean()

    params = [ad.tensor(p, requires_grad=True) for p in (w1, b1, w2, b2)]

    def ours():
        loss(ad.clamp_min if hasattr(ad, "clamp_min") else (lambda t, m: ad.clamp(t, min=m)), ad.tensor(x0),
             params).backward()

    tparams = [torch.tensor(p, requires_grad=True) for p in (w1, b1, w2, b2)] if torch is not None else None

    def tor():
        loss(lambda t, m: torch.clamp(t, min=m), torch.tensor(x0), tparams).backward()

    def hip():
        hips.grad(lambda p: loss(anp.maximum, x0, p))([w1, b1, w2, b2])

    def myg():
        mp = [mygrad.tensor(p) for p in (w1, b1, w2, b2)]
        loss(mygrad.maximum, mygrad.tensor(x0), mp).backward()

    def floor():
        z = x0 @ w1 + b1
        h = np.maximum(z, 0)
        out = h @ w2 + b2
        g = (2.0 / out.size) * out
        gw2 = h.T @ g
        gb2 = g.sum(0)
        gh = (g @ w2.T) * (z > 0)
        return x0.T @ gh, gh.sum(0), gw2, gb2

    return dict(autodiff=ours, torch=tor, autograd=hip, mygrad=myg, numpy=floor), 1


def large_case(n=10_000_000):
    x0 = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    x = ad.tensor(x0, requires_grad=True)

    def ours():
        x.grad = None
        ad.sum(ad.sin(x) * x + x ** 2).backward()

    tx = torch.tensor(x0, requires_grad=True) if torch is not None else None

    def tor():
        tx.grad = None
        torch.sum(torch.sin(tx) * tx + tx ** 2).backward()

    def hip():
        hips.grad(lambda v: anp.sum(anp.sin(v) * v + v ** 2))(x0)

    def myg():
        v = mygrad.tensor(x0)
        mygrad.sum(mygrad.sin(v) * v + v ** 2).backward()

    def floor():
        np.sum(np.sin(x0) * x0 + x0 * x0)
        return np.cos(x0) * x0 + np.sin(x0) + 2 * x0

    return dict(autodiff=ours, torch=tor, autograd=hip, mygrad=myg, numpy=floor), 1


CASES = {"chain": (chain_case, "us/op", 300), "seed": (seed_case, "us", 2000), "mlp": (mlp_case, "x torch", 20),
         "large": (large_case, "x torch", 1)}


def _available(lib):
    return {"autodiff": True, "numpy": True, "torch": torch is not None, "autograd": hips is not None,
            "mygrad": mygrad is not None}[lib]


def measure(case, rounds):
    builder, unit, reps = CASES[case]
    funcs, per = builder()
    libs = [lib for lib in LIBS if _available(lib)]
    for lib in libs:                       # warm up (and check each runs)
        funcs[lib]()
    times = {lib: [] for lib in libs}
    for _ in range(rounds):
        for lib in libs:
            start = time.perf_counter()
            for _ in range(reps):
                funcs[lib]()
            times[lib].append((time.perf_counter() - start) / reps / per * 1e6)
    row = {}
    for lib in libs:
        median = statistics.median(times[lib])
        ratio = (statistics.median([t / r for t, r in zip(times[lib], times["torch"])])
                 if "torch" in times else float("nan"))
        row[lib] = (median, ratio)
    return unit, row


def _limit_blas(threads):
    """Limit numpy's BLAS to ``threads`` (0: leave it); returns what the header reports."""
    try:
        import threadpoolctl
    except ImportError:
        return os.environ.get("OPENBLAS_NUM_THREADS", "as found")
    if threads:
        threadpoolctl.threadpool_limits(limits=threads, user_api="blas")
    pools = [p for p in threadpoolctl.threadpool_info() if p.get("user_api") == "blas"]
    return ",".join(str(p["num_threads"]) for p in pools) or "none"


def report(cases, rounds, blas_threads=1):
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    blas = _limit_blas(blas_threads)
    print(f"OPENBLAS_CORETYPE={coretype!r}  numpy {np.__version__} (BLAS threads {blas})  torch "
          f"{getattr(torch, '__version__', 'absent')} (threads {torch.get_num_threads() if torch else '-'})  "
          f"rounds={rounds}")
    print(f"{'case':8s}" + "".join(f"{lib:>22s}" for lib in LIBS))
    for case in cases:
        unit, row = measure(case, rounds)
        cells = []
        for lib in LIBS:
            if lib not in row:
                cells.append(f"{'-':>22s}")
                continue
            median, ratio = row[lib]
            cells.append(f"{median:11.1f}us {ratio:6.2f}x".rjust(22))
        print(f"{case:8s}" + "".join(cells))
    print("(each cell: median time per op/call, and the median per-round ratio to torch)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--cases", default="chain,seed,mlp,large")
    parser.add_argument("--openblas", choices=("both", "as-is"), default="both")
    parser.add_argument("--blas-threads", type=int, default=1)
    args = parser.parse_args(argv)
    cases = [c for c in args.cases.split(",") if c]
    unknown = set(cases) - set(CASES)
    if unknown:
        parser.error(f"unknown case(s) {sorted(unknown)}; choose from {sorted(CASES)}")
    if args.openblas == "as-is":
        report(cases, args.rounds, args.blas_threads)
        return
    base = [sys.executable, __file__, "--rounds", str(args.rounds), "--cases", args.cases, "--openblas", "as-is",
            "--blas-threads", str(args.blas_threads)]
    env = dict(os.environ)
    if args.blas_threads:                  # also where threadpoolctl is missing
        env["OPENBLAS_NUM_THREADS"] = str(args.blas_threads)
    subprocess.run(base, env=env, check=True)
    if "OPENBLAS_CORETYPE" in env:
        env.pop("OPENBLAS_CORETYPE")
        print()
        subprocess.run(base, env=env, check=True)


if __name__ == "__main__":
    main()
