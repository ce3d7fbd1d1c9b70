"""The Tensor: a numpy array with autograd metadata, behaving as torch.Tensor does."""
from __future__ import annotations

import warnings

import numpy as np

from . import dtypes
from .grad_mode import state
from .utils.hooks import RemovableHandle

__all__ = ["Tensor", "Size"]

_NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't be "
    "populated during autograd.backward(). If you indeed want the .grad field to be populated for a non-leaf "
    "Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure "
    "you access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for more informations.")


class Size(tuple):
    """A tensor's shape: a tuple that prints as torch.Size does (``autodiff.Size([2, 3])``)."""

    __module__ = "autodiff"
    __slots__ = ()

    def __repr__(self) -> str:
        return f"autodiff.Size({list(self)})"

    __str__ = __repr__

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, index):
        out = tuple.__getitem__(self, index)
        return Size(out) if isinstance(index, slice) else out

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __reduce__(self):
        return (Size, (tuple(self),))


def _detached(data):
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)):
        return [_detached(d) for d in data]
    return data


class Tensor:
    """An n-dimensional array that records the operations applied to it, for reverse and forward mode AD.

    Create tensors with :func:`autodiff.tensor` (copies its data) or :func:`autodiff.from_numpy` (shares it).
    """

    __module__ = "autodiff"   # shown as autodiff.Tensor, as torch shows torch.Tensor
    __slots__ = ("_data", "_requires_grad", "_grad_fn", "_grad", "_vc", "_retains_grad", "_tangent",
                 "_backward_hooks", "_base", "_view", "_view_version", "_view_grad", "__weakref__")
    # numpy must hand mixed operations (ndarray * Tensor) to the Tensor's reflected operators.
    __array_ufunc__ = None

    @classmethod
    def _from_array(cls, array: np.ndarray, requires_grad: bool = False) -> "Tensor":
        """Wrap an ndarray without copying (internal)."""
        t = object.__new__(cls)
        t._data = array
        t._requires_grad = requires_grad
        t._grad_fn = None
        t._grad = None
        t._vc = [0, 0]  # version counter: [times modified in place, state.epoch of the last change]
        t._retains_grad = False
        t._tangent = None
        t._backward_hooks = None
        t._base = None
        return t

    def __new__(cls, *args):
        """torch's legacy constructor: ``Tensor(data)`` copies data as the default float type (detached),
        ``Tensor(*sizes)`` allocates; prefer :func:`autodiff.tensor`."""
        from . import creation
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            data = args[0]
            if isinstance(data, Tensor):
                return data.detach().to(dtypes.get_default_dtype())
            return creation.tensor(_detached(data), dtype=dtypes.get_default_dtype())
        return creation.empty(*args)

    # -- metadata --------------------------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes.from_numpy(self._data.dtype)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    @property
    def grad_fn(self):
        if self._base is not None and self._view_version != self._vc[0]:
            refresh_view(self)
        return self._grad_fn

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def requires_grad(self) -> bool:
        if self._base is not None and self._view_version != self._vc[0]:
            refresh_view(self)
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value) -> None:
        if self.grad_fn is not None:
            if value:
                raise RuntimeError("you can only change requires_grad flags of leaf variables.")
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to use a "
                               "computed variable in a subgraph that doesn't require differentiation use "
                               "var_no_grad = var.detach().")
        if value and self._data.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if self.grad_fn is not None and requires_grad:
            return self   # torch: a no-op on a non-leaf (only the attribute setter refuses)
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError("Only Tensors of floating point dtype can require gradients")
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self):
        if self.grad_fn is not None and not self._retains_grad:
            warnings.warn(_NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"attempting to assign a gradient of size '{list(value._data.shape)}' to a tensor "
                                   f"of size '{list(self._data.shape)}'. Please ensure that the gradient and the "
                                   "tensor are the same size")
            if value._data.dtype != self._data.dtype:
                from .dispatch import _type_name
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{_SCALAR_NAMES.get(value._data.dtype.name)}' to a "
                    f"tensor with grad_dtype '{_type_name(self._data.dtype)}'. The gradient must match the tensor's "
                    "grad_dtype (defaults to the tensor's dtype). You can set the tensor's grad_dtype attribute with "
                    "a specific dtype, or None to allow any dtype. Set grad_dtype with caution. Diverging the dtypes "
                    "of a tensor and its gradient may break downstream systems that assume they match.")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def retain_grad(self) -> None:
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None:
            return
        self._retains_grad = True
        node = self.grad_fn
        if node.retained is None:
            node.retained = []
        node.retained.append(self)

    @property
    def data(self) -> "Tensor":
        return Tensor._from_array(self._data)

    @data.setter
    def data(self, value: "Tensor") -> None:
        self._data = value._data

    @property
    def _version(self) -> int:
        """How many times the storage was changed in place (torch's version counter)."""
        return self._vc[0]

    def _bump_version(self) -> None:
        """Record an in-place change of the storage (done by every in-place op)."""
        state.epoch += 1
        self._vc[0] += 1
        self._vc[1] = state.epoch

    def register_hook(self, hook):
        """Register ``hook(grad) -> Tensor or None``, called with this tensor's gradient during backward."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._backward_hooks is None:
            self._backward_hooks = {}
        node = self.grad_fn
        if node is not None:
            # as torch: the hook belongs to the node the tensor is an output of now, and runs once on the
            # tensor's total gradient (an in-place change later gives the tensor a new node, not the hook)
            if node.hooks is None:
                node.hooks = []
            if not any(hooks is self._backward_hooks for hooks in node.hooks):
                node.hooks.append(self._backward_hooks)
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        return handle

    # -- conversion ------------------------------------------------------------------------------------------
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                               "instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        if self._requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                               "instead.")
        return self._data if dtype is None else self._data.astype(dtype)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()).item())

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        from ._formatting import tensor_repr
        suffixes = []
        if self.grad_fn is not None:
            suffixes.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._requires_grad:
            suffixes.append("requires_grad=True")
        return tensor_repr(self._data, suffixes)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:      # torch formats a 0-d tensor as its Python number
            return format(self.item(), spec)
        return repr(self)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self._data, self._requires_grad))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
                               "because of a torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        t = Tensor._from_array(self._data.copy(), self._requires_grad)
        if self._grad is not None:
            t._grad = Tensor._from_array(self._grad._data.copy())
        memo[id(self)] = t
        return t

    # -- autograd ----------------------------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
        from .engine import backward
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> "Tensor":
        t = Tensor._from_array(self._data)
        t._vc = self._vc
        return t

    def detach_(self) -> "Tensor":
        if self._base is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead. If you are using "
                               "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as "
                               "True, gradients are views of DDP buckets, and hence detach_() cannot be called on "
                               "these gradients. To fix this error, please refer to the Optimizer.zero_grad() "
                               "function in torch/optim/optimizer.py as the solution.")
        self._grad_fn = None
        self._requires_grad = False
        return self


_SCALAR_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
                 "int32": "int", "bool": "bool"}


def refresh_view(view) -> None:
    from .dispatch import refresh_view as refresh
    refresh(view)


def _rebuild(data, requires_grad):
    return Tensor._from_array(np.array(data), requires_grad)


def _wrap_dim(dim: int, ndim: int) -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n
