"""``save`` and ``load``: tensors and containers of them (a model's or an optimizer's ``state_dict``) in a file
that holds data only, so loading one never runs code (torch's files are pickles: ``weights_only`` exists to limit
what they may run).

The file is a zip archive: ``structure.json`` describes the object (dicts, OrderedDicts, lists, tuples, strings,
numbers, booleans, None, dtypes, devices, tensors by number) and ``tensors/<n>.npy`` holds each tensor's elements
in numpy's format (read with ``allow_pickle=False``). A tensor saved twice in one object is stored once and loads
as one tensor again; ``requires_grad`` and ``nn.Parameter`` survive the round trip.
"""
from __future__ import annotations

import collections
import contextlib
import io
import json
import math
import os
import zipfile

import numpy as np

from . import _device, dtypes
from .tensor import Tensor

__all__ = ["save", "load"]

FORMAT = "autodiff.save/1"


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True) -> None:
    """Write ``obj`` to ``f``, a path or a binary file object open for writing."""
    arrays: list[np.ndarray] = []
    structure = {"format": FORMAT, "object": _encode(obj, arrays, {})}
    with _binary(f, "wb") as stream, zipfile.ZipFile(stream, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("structure.json", json.dumps(structure))
        for n, array in enumerate(arrays):
            buffer = io.BytesIO()
            np.save(buffer, array, allow_pickle=False)
            archive.writestr(f"tensors/{n}.npy", buffer.getvalue())


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Read what ``save`` wrote, from a path or a binary file object. ``weights_only`` is accepted for torch's
    signature: nothing in the file can run, whatever its value. ``map_location`` may name the CPU only."""
    if map_location is not None and not callable(map_location) and not isinstance(map_location, dict):
        _device.check(map_location)
    try:
        with _binary(f, "rb") as stream, zipfile.ZipFile(stream) as archive:
            if "structure.json" not in archive.namelist():
                raise RuntimeError("load: the archive was not written by autodiff.save (torch's files are pickles, "
                                   "which autodiff never reads: they may run code)")
            structure = json.loads(archive.read("structure.json"))
            if structure.get("format") != FORMAT:
                raise RuntimeError(f"load: not a file written by autodiff.save (format {structure.get('format')!r})")
            tensors: dict = {}

            def tensor(n):
                if n not in tensors:
                    with archive.open(f"tensors/{n}.npy") as member:
                        tensors[n] = np.load(io.BytesIO(member.read()), allow_pickle=False)
                return tensors[n]

            return _decode(structure["object"], tensor, {})
    except zipfile.BadZipFile:
        raise RuntimeError("load: the file is not an archive written by autodiff.save (torch's pickled files "
                           "cannot be read: they may run code)") from None


@contextlib.contextmanager
def _binary(f, mode):
    """A path opened (and closed after), or the caller's file object as it is (left open, as torch leaves it)."""
    if isinstance(f, (str, os.PathLike)):
        with open(f, mode) as stream:
            yield stream
    else:
        yield f


def _encode(obj, arrays, seen):
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return {"int": str(obj)} if abs(obj) > 2 ** 53 else obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"float": repr(obj)}
    if isinstance(obj, Tensor):
        if id(obj) not in seen:
            seen[id(obj)] = (len(arrays), obj)       # the object is kept so that its id is not reused
            arrays.append(obj._data)
        return {"tensor": seen[id(obj)][0], "requires_grad": obj.requires_grad,
                "parameter": bool(getattr(obj, "_param", False))}
    if isinstance(obj, dtypes.dtype):
        return {"dtype": str(obj).rpartition(".")[2]}
    if isinstance(obj, _device.device):
        return {"device": str(obj)}
    if isinstance(obj, dict):
        kind = "ordered" if isinstance(obj, collections.OrderedDict) else "dict"
        return {kind: [[_encode(k, arrays, seen), _encode(v, arrays, seen)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"list" if isinstance(obj, list) else "tuple": [_encode(v, arrays, seen) for v in obj]}
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return _encode(obj.item(), arrays, seen)
    raise TypeError(f"save: cannot store an object of type {type(obj).__name__}: tensors, numbers, strings, None, "
                    "dtypes, devices and dicts, lists and tuples of them can be saved")


def _decode(node, tensor, made):
    if not isinstance(node, (dict, list)):
        return node
    (kind, value), *rest = node.items()
    if kind == "tensor":
        if value not in made:
            out = Tensor._from_array(tensor(value))
            if node["parameter"]:
                out._param = True
            if node["requires_grad"]:
                out.requires_grad = True
            made[value] = out
        return made[value]
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "dtype":
        return getattr(dtypes, value)
    if kind == "device":
        return _device.device(value)
    if kind in ("dict", "ordered"):
        items = ((_decode(k, tensor, made), _decode(v, tensor, made)) for k, v in value)
        return collections.OrderedDict(items) if kind == "ordered" else dict(items)
    items = [_decode(v, tensor, made) for v in value]
    return items if kind == "list" else tuple(items)
