"""N optimizer steps on one 2-element parameter, for counting instructions (load-independent, unlike times):

    valgrind --tool=callgrind --callgrind-out-file=/dev/null python benchmarks/small_steps.py adam 20000
    valgrind --tool=callgrind --callgrind-out-file=/dev/null python benchmarks/small_steps.py adam 0

The difference of the two ``Collected`` totals over N is the instructions one step takes (the second run counts
the imports and the first step, which make its state). Run with ``PYTHONHASHSEED=0``; with N=20,000 the imports'
own variation between runs (about 1%) stays under 500 instructions a step. Optimizers: sgd, sgd_momentum, adam.
"""
import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and benchmarks/optimizers.py would shadow the
# optimizers package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import autodiff as ad  # noqa: E402
import optimizers  # noqa: E402

MAKE = {
    "sgd": lambda params: optimizers.SGD(params, lr=1e-3),
    "sgd_momentum": lambda params: optimizers.SGD(params, lr=1e-3, momentum=0.9),
    "adam": lambda params: optimizers.Adam(params, lr=1e-3),
}


def main(name: str, steps: int) -> None:
    param = ad.tensor([1.0, -2.0], requires_grad=True)
    param.grad = ad.tensor([0.5, 0.25])
    optimizer = MAKE[name]([param])
    optimizer.step()  # the state made once, outside the count
    for _ in range(steps):
        optimizer.step()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
