"""Optimizer step benchmark: ours (numpy kernels) against torch.optim's for-loop, foreach and fused
paths, in one process, interleaved round by round (the machines are shared and noisy).

Large steps: one ``step()`` of SGD with momentum and of Adam over 10 float32 tensors totalling
1e6 and 1e7 elements. Each is reported as the bytes it must move per second (Adam reads p, g, m, v
and writes p, m, v: 7 arrays; SGD-momentum reads p, g, b and writes p, b: 5 arrays) and as a share
of the machine's in-place read-modify-write bandwidth, measured in the same round with ``a += b``
on 100 MB arrays (3 arrays' bytes per pass).

Shares are the median over rounds of each round's ``bytes moved / time / bandwidth``, the
bandwidth measured in the same round, so a neighbour's load on a shared machine cancels out as far
as it can. A last line per size gives the ceiling of our numpy kernels: the same kernel run on
arrays of one block (``_blocks.BLOCK`` elements) that stay in cache, as many times as there are
blocks. That is the time the chain of ufuncs takes with no memory traffic at all, so the most a
blocked numpy kernel could reach if all of the traffic overlapped with the passes in cache, which
one thread issuing one ufunc after another largely cannot do.

Small steps: one ``step()`` on the seed notebooks' two 2-element tensors (the runner's case: many
tiny steps, where per-step overhead is all there is), in microseconds; torch on one thread.

Usage:  python benchmarks/optimizers.py [--rounds 7] [--sizes 1e6,1e7] [--small-steps 5000]
Needs torch for the comparison columns (the `oracle` extra); without it only ours is timed. With
numba installed, ours with ``fused=True`` (the single-pass compiled kernels) is timed too.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import timeit
from pathlib import Path

import numpy as np

# Run as a script, this file's folder comes first on sys.path and its name would shadow the
# optimizers package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import autodiff as ad  # noqa: E402
import optimizers  # noqa: E402
from optimizers._functional import fused  # noqa: E402

try:
    import torch
except ImportError:
    torch = None
else:
    torch.set_num_threads(1)

N_TENSORS = 10
ARRAYS_MOVED = {"Adam": 7, "SGD": 5}
HYPER = {"Adam": dict(lr=1e-3), "SGD": dict(lr=1e-3, momentum=0.9)}
TORCH_PATHS = {"torch for-loop": dict(foreach=False), "torch foreach": dict(foreach=True),
               "torch fused": dict(fused=True)}


def bandwidth(values: np.ndarray, other: np.ndarray) -> float:
    """In-place read-modify-write bandwidth in bytes/s: the best of a few ``a += b`` passes."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        values += other
        best = min(best, time.perf_counter() - start)
    return 3 * values.nbytes / best


def make_steppers(name: str, total: int) -> dict:
    """One zero-argument ``step`` per implementation, all on the same data and gradients."""
    rng = np.random.default_rng(0)
    size = total // N_TENSORS
    values = [rng.random(size, dtype=np.float32) for _ in range(N_TENSORS)]
    grads = [rng.random(size, dtype=np.float32) for _ in range(N_TENSORS)]
    steppers = {}
    params = [ad.tensor(v, requires_grad=True) for v in values]
    for p, g in zip(params, grads):
        p.grad = ad.tensor(g)
    steppers["ours (numpy)"] = getattr(optimizers, name)(params, **HYPER[name]).step
    if fused.available():
        fused_params = [ad.tensor(v, requires_grad=True) for v in values]
        for p, g in zip(fused_params, grads):
            p.grad = ad.tensor(g)
        steppers["ours fused (numba)"] = getattr(optimizers, name)(fused_params, **HYPER[name], fused=True).step
    if torch is not None:
        for label, flags in TORCH_PATHS.items():
            tparams = [torch.tensor(v, requires_grad=True) for v in values]
            for p, g in zip(tparams, grads):
                p.grad = torch.tensor(g)
            steppers[label] = getattr(torch.optim, name)(tparams, **HYPER[name], **flags).step
    for step in steppers.values():  # state allocation happens on the first step
        step()
    return steppers


def time_once(step) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def in_cache_ceiling(name: str, total: int, rounds: int) -> float:
    """Seconds our numpy kernel takes for ``total`` elements when every block is already in cache."""
    from optimizers._functional import _blocks

    block = min(_blocks.BLOCK, total // N_TENSORS)
    params = [ad.tensor(np.random.default_rng(1).random(block, dtype=np.float32), requires_grad=True)]
    params[0].grad = ad.tensor(np.random.default_rng(2).random(block, dtype=np.float32))
    step = getattr(optimizers, name)(params, **HYPER[name]).step
    step()
    repeats = total // block
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            step()
        best = min(best, time.perf_counter() - start)
    return best


def large_steps(sizes, rounds):
    big_a = np.ones(25_000_000, np.float32)
    big_b = np.ones_like(big_a)
    for total in sizes:
        cases = {name: make_steppers(name, total) for name in ("SGD", "Adam")}
        seconds = {(n, label): [] for n, s in cases.items() for label in s}
        shares = {key: [] for key in seconds}
        bandwidths = []
        for _ in range(rounds):
            bw = bandwidth(big_a, big_b)
            bandwidths.append(bw)
            for name, steppers in cases.items():
                moved = ARRAYS_MOVED[name] * 4 * total
                for label, step in steppers.items():
                    t = min(time_once(step) for _ in range(2))
                    seconds[name, label].append(t)
                    shares[name, label].append(moved / t / bw)
        bw = statistics.median(bandwidths)
        print(f"\n{total:.0e} float32 elements in {N_TENSORS} tensors; "
              f"in-place bandwidth (a += b) {bw / 1e9:.1f} GB/s (median of {rounds} rounds)")
        print(f"  {'optimizer':<14}{'implementation':<20}{'ms/step':>9}{'GB/s':>8}{'% of bw':>9}"
              f"{'vs for-loop':>13}")
        for name, steppers in cases.items():
            moved = ARRAYS_MOVED[name] * 4 * total
            loop = statistics.median(seconds.get((name, "torch for-loop"), [float("nan")]))
            label_name = "SGD-momentum" if name == "SGD" else name
            for label in steppers:
                t = statistics.median(seconds[name, label])
                share = statistics.median(shares[name, label])
                ratio = f"{loop / t:>12.2f}x" if loop == loop else f"{'-':>13}"  # nan: no torch
                print(f"  {label_name:<14}{label:<20}{t * 1e3:>9.2f}{moved / t / 1e9:>8.1f}"
                      f"{100 * share:>8.0f}%{ratio}")
            ceiling = in_cache_ceiling(name, total, rounds)
            print(f"  {label_name:<14}{'numpy, all in cache':<20}{ceiling * 1e3:>9.2f}"
                  f"{moved / ceiling / 1e9:>8.1f}{100 * moved / ceiling / bw:>8.0f}%{'(ceiling)':>13}")


def small_steps(rounds, number):
    print(f"\nsmall step: the seed's two 2-element float32 tensors, us per step "
          f"(median of {rounds} rounds of {number})")
    cases = [("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.1))]
    for name, kwargs in cases:
        steppers = {}
        params = [ad.tensor([2.0, 3.0], requires_grad=True), ad.tensor([6.0, 4.0], requires_grad=True)]
        for p in params:
            p.grad = ad.tensor([1.0, 1.0])
        steppers["ours"] = getattr(optimizers, name)(params, **kwargs).step
        if torch is not None:
            tparams = [torch.tensor([2.0, 3.0], requires_grad=True), torch.tensor([6.0, 4.0], requires_grad=True)]
            for p in tparams:
                p.grad = torch.ones(2)
            steppers["torch"] = getattr(torch.optim, name)(tparams, **kwargs).step
        results = {label: [] for label in steppers}
        for _ in range(rounds):
            for label, step in steppers.items():
                results[label].append(timeit.timeit(step, number=number) / number * 1e6)
        text = "  ".join(f"{label} {statistics.median(r):6.1f} us" for label, r in results.items())
        print(f"  {name} {kwargs}: {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--sizes", default="1e6,1e7")
    parser.add_argument("--small-steps", type=int, default=5000)
    args = parser.parse_args()
    print(f"numpy {np.__version__}" + (f", torch {torch.__version__} (1 thread)" if torch else ", no torch"))
    small_steps(args.rounds, args.small_steps)
    large_steps([int(float(s)) for s in args.sizes.split(",")], args.rounds)


if __name__ == "__main__":
    main()
