"""The random draws checked against torch: (name, seed, callable taking the library). Shared by the test and by
make_random_golden.py, which stores torch's results."""
from __future__ import annotations


def _linear(lib):
    layer = lib.nn.Linear(3, 2)
    return lib.cat([layer.weight.detach().reshape(-1), layer.bias.detach()])


CASES = [
    ("rand", 0, lambda lib: lib.rand(5)),
    ("rand float64", 1, lambda lib: lib.rand(3, dtype=lib.float64)),
    ("randn under 16 elements", 0, lambda lib: lib.randn(7)),
    ("randn two calls share Box-Muller's pair", 5, lambda lib: lib.cat([lib.randn(3), lib.randn(3)])),
    ("randn in blocks of 16", 42, lambda lib: lib.randn(4, 9)),
    ("randn float64 in blocks", 7, lambda lib: lib.randn(20, dtype=lib.float64)),
    ("normal of numbers", 3, lambda lib: lib.normal(2.0, 3.0, size=(5,))),
    ("normal of a tensor mean", 3, lambda lib: lib.normal(lib.arange(4.0), 0.5)),
    ("randint", 11, lambda lib: lib.randint(0, 10, (8,))),
    ("randint 64-bit range", 11, lambda lib: lib.randint(-2 ** 40, 2 ** 40, (3,))),
    ("randperm", 3, lambda lib: lib.randperm(17)),
    ("uniform_", 0, lambda lib: lib.empty(6).uniform_(-2, 3)),
    ("normal_", 9, lambda lib: lib.empty(30).normal_(1, 2)),
    ("a large seed", 2 ** 40 + 7, lambda lib: lib.rand(3)),
    ("nn.Linear's initial weights", 0, _linear),
]
