"""The named pairs functions return, as ``torch.return_types``: ``max``/``min`` with a dim, ``sort``, ``topk``
(``values``, ``indices``) and ``linalg_eigh`` (``eigenvalues``, ``eigenvectors``); tuples that print as torch's."""
from __future__ import annotations

__all__ = ["max", "min", "sort", "topk", "linalg_eigh"]


class _Pair(tuple):
    __slots__ = ()
    _fields: tuple = ()

    def __new__(cls, first, second):
        return tuple.__new__(cls, (first, second))

    def __getnewargs__(self):
        return tuple(self)

    def __repr__(self):
        fields = ",\n".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
        return f"autodiff.return_types.{type(self).__name__}(\n{fields})"


def _pair(name, fields):
    cls = type(name, (_Pair,), {"__slots__": (), "_fields": fields, "__module__": __name__,
                                 "__doc__": f"``({', '.join(fields)})``, as torch.return_types.{name}."})
    for i, field in enumerate(fields):
        setattr(cls, field, property(lambda self, i=i: self[i]))
    return cls


max = _pair("max", ("values", "indices"))  # noqa: A001 - torch's names
min = _pair("min", ("values", "indices"))  # noqa: A001
sort = _pair("sort", ("values", "indices"))
topk = _pair("topk", ("values", "indices"))
linalg_eigh = _pair("linalg_eigh", ("eigenvalues", "eigenvectors"))
