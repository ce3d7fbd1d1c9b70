"""A group's hyperparameters as a step computes with them: numbers as they are, 0-d tensors as
:class:`~optimizers._functional._scalars.TensorScalar` values computing as torch's 0-d tensors do."""

from __future__ import annotations

import operator

import autodiff as ad

from ._functional._scalars import TensorScalar, tensor_scalar

__all__ = ["hyperparameter", "hyperparameter_reader", "hyperparameters", "is_tensor_value", "to_scalar"]


def to_scalar(x):
    """A hyperparameter as a Python number (a 1-element tensor is accepted, as in torch)."""
    if isinstance(x, ad.Tensor):
        return x.numpy(force=True).item()
    return x


def hyperparameter(value, name: str, squeeze: bool = False, number: bool = False):
    """A group's hyperparameter as the functional code computes with it, read once per step.

    A number stays as it is. A 0-d tensor (as torch 2.13 accepts for most hyperparameters)
    becomes a :class:`~optimizers._functional._scalars.TensorScalar`, which computes in the
    tensor's dtype as torch does, or with ``number`` (a hyperparameter torch only passes on as a
    number: an ``alpha=``, a multiplier) a Python float; an integer tensor becomes an int. A
    1-element tensor is read as 0-d where torch squeezes it (``squeeze``: ``lr``, Adam's betas);
    elsewhere a hyperparameter must be a number or a 0-d tensor (torch's kernels take a
    1-element one only here and there, by accident of broadcasting).
    """
    if not isinstance(value, ad.Tensor):
        return value
    array = value.numpy(force=True)
    if array.ndim and not (squeeze and array.size == 1):
        raise TypeError(f"{name} must be a number or a 0-dim tensor, but got a tensor of shape "
                        f"{tuple(array.shape)}")
    scalar = tensor_scalar(array)
    return float(scalar) if number and isinstance(scalar, TensorScalar) else scalar


def hyperparameters(group: dict, *names: str, squeezed: tuple[str, ...] = ("lr",),
                    numbers: tuple[str, ...] = ()) -> tuple:
    """:func:`hyperparameter` for each of ``names`` (a tuple, such as ``betas``, element by
    element); ``squeezed`` and ``numbers`` name those read with ``squeeze`` and ``number``."""
    values = []
    for name in names:
        value = group[name]
        options = dict(squeeze=name in squeezed, number=name in numbers)
        if isinstance(value, (tuple, list)):
            values.append(tuple(hyperparameter(v, f"{name}[{i}]", **options)
                                for i, v in enumerate(value)))
        else:
            values.append(hyperparameter(value, name, **options))
    return tuple(values)


#: A hyperparameter's types that need no conversion (a tuple's elements are checked as well).
_PLAIN_TYPES = frozenset({float, int, bool, type(None), tuple})


def hyperparameter_reader(*names: str, tuples: tuple[str, ...] = (),
                          squeezed: tuple[str, ...] = ("lr",), numbers: tuple[str, ...] = ()):
    """A function ``read(group)`` giving :func:`hyperparameters` ``(group, *names, ...)``.

    ``tuples`` names those that are tuples of numbers (``betas``). When every value is a number,
    as it nearly always is, the group's values are returned as they are after one type check of
    them and of the tuples' elements: a step of two 2-element tensors takes 5-20 us, and
    converting each hyperparameter on every step cost a microsecond of that.
    """
    get = operator.itemgetter(*names)  # two names or more: a tuple of values
    positions = [names.index(name) for name in tuples]

    def convert(group):
        return hyperparameters(group, *names, squeezed=squeezed, numbers=numbers)

    if not positions:
        def read(group):
            values = get(group)
            return values if _PLAIN_TYPES.issuperset(map(type, values)) else convert(group)
    elif len(positions) == 1:
        (k,) = positions

        def read(group):
            values = get(group)
            if type(values[k]) is not tuple:  # a list, or a tensor
                return convert(group)
            every = values + values[k]  # the values and the tuple's elements, checked at once
            return values if _PLAIN_TYPES.issuperset(map(type, every)) else convert(group)
    elif len(positions) == 2:
        k, j = positions

        def read(group):
            values = get(group)
            if type(values[k]) is not tuple or type(values[j]) is not tuple:
                return convert(group)
            every = values + values[k] + values[j]
            return values if _PLAIN_TYPES.issuperset(map(type, every)) else convert(group)
    else:
        raise NotImplementedError("at most two tuple-valued hyperparameters")

    return read


def is_tensor_value(value) -> bool:
    """Whether a converted hyperparameter (see :func:`hyperparameter`) came from a float tensor."""
    return isinstance(value, TensorScalar)
