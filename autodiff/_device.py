"""Devices: everything lives on the CPU, as in a torch built without CUDA.

``autodiff.device("cpu")`` and ``tensor.device`` are what torch code reads; ``device("cuda")`` is constructible
(torch allows it too) but a tensor asked to live there fails as torch without CUDA fails.
"""
from __future__ import annotations

_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla",
          "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")
NO_CUDA = "Torch not compiled with CUDA enabled"


class device:
    """A device name: ``device("cpu")``, ``device("cuda:0")``, ``device("cuda", 0)``."""

    __module__ = "autodiff"
    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int):
            raise RuntimeError(NO_CUDA)      # device(0) means cuda:0
        elif ":" in type:
            type, _, number = type.partition(":")
            index = int(number)
        if type not in _TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of device string: {type}")
        self.type, self.index = type, index

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else \
            f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))


CPU = device("cpu")
_default = [CPU]


def check(where) -> None:
    """Accept the CPU; refuse any other device (torch's message without CUDA)."""
    if where is None or where == "cpu":
        target = _default[0]
        if target is CPU:
            return
    target = _default[0] if where is None else device(where)
    if target.type != "cpu":
        raise AssertionError(NO_CUDA) if target.type == "cuda" else RuntimeError(
            f"Could not run on the '{target.type}' device: autodiff computes on the CPU only")


def set_default_device(where) -> None:
    """torch's ``set_default_device``: later tensors are made there (only the CPU works here)."""
    _default[0] = CPU if where is None else device(where)


def get_default_device() -> device:
    check(None)          # as torch without CUDA: asking after set_default_device("cuda") fails
    return CPU
