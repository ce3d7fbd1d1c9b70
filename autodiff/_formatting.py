"""Print tensors exactly as PyTorch 2.13 prints them.

Pure numpy, no import of the rest of ``autodiff``: ``Tensor.__repr__`` calls
:func:`tensor_repr` with its ndarray and its autograd suffixes
(``requires_grad=True`` or ``grad_fn=<SumBackward0>``).

The layout rules, as torch applies them:

* One element format is chosen for the whole tensor (or, when summarized, for
  the elements that will be shown), from its nonzero finite values:
  *integer mode* (``53.``) when all of them are whole numbers, *scientific
  mode* (``1.0000e-05``) when ``max/min > 1000``, ``max > 1e8`` or
  ``min < 1e-4`` (in absolute value), else fixed ``precision`` decimals.
  Every element is right-aligned to the widest formatted nonzero finite value.
* Rows are wrapped so that ``(width + 2) * n <= linewidth - indent``; nested
  dimensions indent by one per level and a ``d``-dim block is separated from
  the next by ``d - 1`` newlines.
* Above ``threshold`` elements each dimension longer than ``2 * edgeitems`` is
  cut to its first and last ``edgeitems`` entries around ``...``.
* Suffixes (size, dtype, then the caller's) go on the last line unless that
  would pass ``linewidth``; then on a new line indented under ``tensor(``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from typing import Any, Iterator, Sequence

import numpy as np

__all__ = ["tensor_repr", "set_printoptions", "get_printoptions", "printoptions"]


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_OPTIONS = _PrintOptions()

_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}

# numpy kinds that print like torch's integer/bool tensors (no decimal point)
_INTEGRAL_KINDS = "biu"

_PREFIX = "tensor("


def set_printoptions(
    precision=None,
    threshold=None,
    edgeitems=None,
    linewidth=None,
    profile=None,
    sci_mode=None,
):
    """Set options for printing tensors (same semantics as ``torch.set_printoptions``).

    Args:
        precision: digits after the point in fixed and scientific mode (default 4).
        threshold: number of elements above which the output is summarized (default 1000).
        edgeitems: items kept at each end of a summarized dimension (default 3).
        linewidth: characters per line before wrapping (default 80).
        profile: ``"default"``, ``"short"`` or ``"full"``; set first, then the
            explicit options override it. An unknown name is ignored, as in torch.
        sci_mode: ``True``/``False`` forces scientific notation on/off; ``None``
            lets the printer decide. Like torch, every call sets it (to ``None``
            when not given).
    """
    if profile is not None and profile in _PROFILES:
        for name, value in _PROFILES[profile].items():
            setattr(_OPTIONS, name, value)
    if precision is not None:
        _OPTIONS.precision = precision
    if threshold is not None:
        _OPTIONS.threshold = threshold
    if edgeitems is not None:
        _OPTIONS.edgeitems = edgeitems
    if linewidth is not None:
        _OPTIONS.linewidth = linewidth
    _OPTIONS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current print options, as keyword arguments for :func:`set_printoptions`."""
    return dataclasses.asdict(_OPTIONS)


@contextlib.contextmanager
def printoptions(**kwargs) -> Iterator[None]:
    """Temporarily change the print options (arguments as :func:`set_printoptions`)."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


def dtype_name(dtype: np.dtype) -> str:
    """``autodiff.float64`` for numpy's float64, mirroring torch's ``str(torch.float64)``."""
    return "autodiff." + np.dtype(dtype).name


def _dtype_suffix(dtype: np.dtype) -> tuple[str, int]:
    """The dtype suffix and the length torch's own (``dtype=torch.float64``) would have.

    Line breaks are decided on torch's length so that the layout is torch's line for line;
    only the module name differs.
    """
    name = np.dtype(dtype).name
    return "dtype=" + dtype_name(dtype), len("dtype=torch." + name)


def tensor_repr(
    data: np.ndarray, suffixes: Sequence[str] = (), *, default_dtype=np.float32
) -> str:
    """What ``repr(torch.tensor(data))`` prints, with ``suffixes`` appended as torch appends them.

    Args:
        data: the tensor's values; its dtype decides the dtype suffix.
        suffixes: extra ``key=value`` strings placed after torch's own
            (``size=`` and ``dtype=``), e.g. ``["requires_grad=True"]``.
        default_dtype: the floating dtype that is not named in the output
            (torch's ``get_default_dtype()``); int64 and bool are never named.
    """
    data = np.asarray(data)
    if data.dtype.kind not in _INTEGRAL_KINDS + "f":
        raise TypeError(f"cannot print a tensor of numpy dtype {data.dtype}")
    default_dtype = np.dtype(default_dtype)
    opts = _OPTIONS
    indent = len(_PREFIX)
    own_suffixes: list[tuple[str, int]] = []
    if data.size == 0:
        # Nothing to infer the dtype from, so any non-default one is named, int64 included.
        if data.ndim != 1:
            own_suffixes.append(_measured(f"size={tuple(data.shape)}"))
        if data.dtype != default_dtype:
            own_suffixes.append(_dtype_suffix(data.dtype))
        body = "[]"
    else:
        if not opts.edgeitems:
            own_suffixes.append(_measured(f"size={tuple(data.shape)}"))
        if data.dtype not in (default_dtype, np.dtype(np.int64), np.dtype(np.bool_)):
            own_suffixes.append(_dtype_suffix(data.dtype))
        body = _body(data, indent, opts)
    all_suffixes = [*own_suffixes, *map(_measured, suffixes)]
    return _append_suffixes(_PREFIX + body, all_suffixes, indent, opts.linewidth)


def _measured(suffix: str) -> tuple[str, int]:
    return suffix, len(suffix)


def _append_suffixes(
    text: str, suffixes: Sequence[tuple[str, int]], indent: int, linewidth: int
) -> str:
    # torch's measure of the last line is its length plus 2 (it counts from rfind("\n") + 1
    # the wrong way round); reproduced because it decides where suffixes break.
    last_line_len = len(text) - text.rfind("\n") + 1
    parts = [text]
    for suffix, length in suffixes:
        if last_line_len + length + 2 > linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + length
        else:
            parts.append(", " + suffix)
            last_line_len += length + 2
    parts.append(")")
    return "".join(parts)


def _body(data: np.ndarray, indent: int, opts: _PrintOptions) -> str:
    summarize = data.size > opts.threshold
    shown = _summarized(data, opts.edgeitems) if summarize else data
    formatter = _ElementFormatter(shown, opts)
    return _nested(data, indent, summarize, formatter, opts)


def _summarized(data: np.ndarray, edgeitems: int) -> np.ndarray:
    """The elements a summarized print shows (what the element width is computed from)."""
    if data.ndim == 0:
        return data
    if not edgeitems:
        # torch keeps data[:0] + data[-0:] (all of it) for a vector, nothing for higher dims
        return data if data.ndim == 1 else data[(slice(0, 0),) * data.ndim]
    for axis, size in enumerate(data.shape):
        if size > 2 * edgeitems:
            kept = np.r_[0:edgeitems, size - edgeitems : size]
            data = np.take(data, kept, axis=axis)
    return data


class _ElementFormatter:
    """Formats one element to the common width chosen from the shown values."""

    def __init__(self, shown: np.ndarray, opts: _PrintOptions):
        self.precision = opts.precision
        self.floating = shown.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        if not self.floating:
            for value in shown.ravel().tolist():
                self.width = max(self.width, len(str(value)))
            return
        flat = shown.ravel()
        values = flat[np.isfinite(flat) & (flat != 0)]
        if values.size == 0:
            return
        # decided in float64, as torch does, so float16/float32 ranges behave alike
        magnitudes = np.abs(values).astype(np.float64)
        largest, smallest = magnitudes.max(), magnitudes.min()
        self.int_mode = bool(np.all(values == np.ceil(values)))
        if opts.sci_mode is None:
            with np.errstate(over="ignore"):
                self.sci_mode = bool(largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4)
        else:
            self.sci_mode = bool(opts.sci_mode)
        values = values.tolist()
        if self.sci_mode:
            spec = f".{self.precision}e"
            self.width = max(len(format(v, spec)) for v in values)
        elif self.int_mode:
            # +1 for the "." that marks a whole-number float
            self.width = max(len(format(v, ".0f")) + 1 for v in values)
        else:
            spec = f".{self.precision}f"
            self.width = max(len(format(v, spec)) for v in values)

    def __call__(self, value) -> str:
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = format(value, f".{self.precision}e")
        elif self.int_mode:
            text = format(value, ".0f")
            if math.isfinite(value):
                text += "."
        else:
            text = format(value, f".{self.precision}f")
        return text.rjust(self.width)


def _nested(data, indent, summarize, formatter, opts) -> str:
    if data.ndim == 0:
        return formatter(data.item())
    if data.ndim == 1:
        return _vector(data, indent, summarize, formatter, opts)
    edge = opts.edgeitems
    if summarize and data.shape[0] > 2 * edge:
        head = [_nested(data[i], indent + 1, summarize, formatter, opts) for i in range(edge)]
        tail = [
            _nested(data[i], indent + 1, summarize, formatter, opts)
            for i in range(len(data) - edge, len(data))
        ]
        blocks = head + ["..."] + tail
    else:
        blocks = [_nested(row, indent + 1, summarize, formatter, opts) for row in data]
    separator = "," + "\n" * (data.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(blocks) + "]"


def _vector(data, indent, summarize, formatter, opts) -> str:
    edge = opts.edgeitems
    if summarize and not edge:
        items = ["..."]
    elif summarize and data.shape[0] > 2 * edge:
        items = (
            [formatter(v) for v in data[:edge].tolist()]
            + [" ..."]
            + [formatter(v) for v in data[-edge:].tolist()]
        )
    else:
        items = [formatter(v) for v in data.tolist()]
    per_line = max(1, math.floor((opts.linewidth - indent) / (formatter.width + 2)))
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
