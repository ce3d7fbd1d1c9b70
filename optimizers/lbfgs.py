"""torch.optim.LBFGS on autodiff tensors."""

from __future__ import annotations

import numpy as np

import autodiff as ad

from ._functional import strong_wolfe, two_loop_direction
from ._functional._scalars import TensorScalar, tensor_scalar
from ._functional.lbfgs import fused_add
from .optimizer import Optimizer, hyperparameter_reader, new_state_tensor, to_scalar


def _array(value):
    return value.numpy(force=True) if isinstance(value, ad.Tensor) else value


#: The hyperparameters a step reads: numbers, or TensorScalars from 0-d tensors.
_read_hyperparameters = hyperparameter_reader("lr", "max_iter", "max_eval", "tolerance_grad",
                                              "tolerance_change", "history_size",
                                              numbers=("tolerance_grad", "tolerance_change"))


class LBFGS(Optimizer):
    r"""L-BFGS (Nocedal and Wright, Numerical Optimization, algorithm 7.5; torch.optim.LBFGS).

    Each ``step(closure)`` runs up to ``max_iter`` quasi-Newton iterations: the direction
    :math:`d = -H g` comes from the last ``history_size`` pairs :math:`(s_i, y_i)` by the two-loop
    recursion (with :math:`H_0 = \frac{s^Ty}{y^Ty} I`), and the step along it is ``lr`` (the
    first iteration: :math:`\min(1, 1/\|g\|_1)\,lr`) or, with ``line_search_fn="strong_wolfe"``,
    the step found by a line search meeting the strong Wolfe conditions.

    Args: lr (1), max_iter (20), max_eval (max_iter * 5 // 4), tolerance_grad (1e-7: stop when
    :math:`\max|g| \le` it), tolerance_change (1e-9: stop when the step or the loss change is
    below it), history_size (100), line_search_fn (None or "strong_wolfe").

    One parameter group only. The closure re-evaluates the loss and its gradient::

        def closure():
            opt.zero_grad()
            loss = f(x)
            loss.backward()
            return loss
        opt.step(closure)

    State (on the first parameter, as torch): ``func_evals``, ``n_iter``, ``d``, ``t``,
    ``old_dirs``, ``old_stps``, ``ro``, ``H_diag``, ``prev_flat_grad``, ``prev_loss`` (and ``al``).
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= to_scalar(lr):
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            if isinstance(max_iter, ad.Tensor):  # a tensor, as torch's max_iter * 5 // 4 gives
                max_eval = new_state_tensor(np.asarray(max_iter.numpy(force=True) * 5 // 4))
            else:
                max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size,
                        line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # The parameters seen as one flat vector.
    def _gather_flat_grad(self) -> np.ndarray:
        return np.concatenate([
            np.zeros(p.numel(), p.numpy(force=True).dtype) if p.grad is None
            else p.grad.numpy(force=True).reshape(-1)
            for p in self._params
        ])

    def _add_grad(self, step_size, update) -> None:
        offset = 0
        step_size = float(step_size)
        for p in self._params:
            values = p.numpy(force=True)  # the parameter's own memory, updated in place
            n = values.size
            values[...] = fused_add(values.reshape(-1), step_size, update[offset:offset + n]).reshape(values.shape)
            offset += n

    def _directional_evaluate(self, closure, x, t, d):
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        for p, saved in zip(self._params, x):
            np.copyto(p.numpy(force=True), saved)
        return loss, flat_grad

    def step(self, closure):
        """Run up to ``max_iter`` L-BFGS iterations; returns the closure's first loss."""
        group = self.param_groups[0]
        (lr, max_iter, max_eval, tolerance_grad, tolerance_change,
         history_size) = _read_hyperparameters(group)
        scalar = self._scalar_type()

        def evaluate():
            return self._evaluate_closure(closure)

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = evaluate()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if np.max(np.abs(flat_grad)) <= tolerance_grad:
            return orig_loss

        memory = _Memory(state)
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            memory.d = self._direction(memory, flat_grad, state, history_size, scalar)
            memory.prev_flat_grad, memory.prev_loss = flat_grad.copy(), loss
            if state["n_iter"] == 1:
                memory.t = min(1.0, 1.0 / scalar(np.sum(np.abs(flat_grad)))) * lr
            else:
                memory.t = lr
            gtd = scalar(np.dot(flat_grad, memory.d))
            if gtd > -tolerance_change:
                break

            last = n_iter == max_iter
            loss, flat_grad, memory.t, evals = self._advance(
                evaluate, group["line_search_fn"], memory, loss, flat_grad, gtd, max_eval - current_evals, scalar,
                last)
            current_evals += evals
            state["func_evals"] += evals

            if last or current_evals >= max_eval or np.max(np.abs(flat_grad)) <= tolerance_grad:
                break
            if np.max(np.abs(memory.d * float(memory.t))) <= tolerance_change:
                break
            if abs(loss - memory.prev_loss) < tolerance_change:
                break
        memory.save(state)
        return orig_loss

    def _scalar_type(self):
        """torch's ``t``, ``gtd``, ``ys``, ``ro``, ``H_diag`` and the line search's scalars are 0-d tensors of the
        parameters' dtype: here TensorScalars, which compute as those do (float32 arithmetic for float32
        parameters, where Python floats would compute in float64 and move the iterates apart)."""
        dtype = self._params[0].numpy(force=True).dtype
        return lambda x: tensor_scalar(np.asarray(x, dtype))

    @staticmethod
    def _direction(memory, flat_grad, state, history_size, scalar):
        """The quasi-Newton direction ``-H g``, after adding the last step's pair ``(s, y)`` to the history
        (when its curvature ``y.s`` is positive); the steepest descent on the first iteration."""
        if state["n_iter"] == 1:
            memory.old_dirs, memory.old_stps, memory.ro = [], [], []
            memory.h_diag = 1
            return np.negative(flat_grad)
        y = flat_grad - memory.prev_flat_grad
        s = memory.d * float(memory.t)  # a float: a TensorScalar would make s float64
        ys = scalar(np.dot(y, s))
        if ys > 1e-10:
            if len(memory.old_dirs) == history_size:
                memory.old_dirs.pop(0)
                memory.old_stps.pop(0)
                memory.ro.pop(0)
            memory.old_dirs.append(y)
            memory.old_stps.append(s)
            memory.ro.append(1.0 / ys)
            memory.h_diag = ys / scalar(np.dot(y, y))
        if "al" not in state:
            state["al"] = [None] * history_size
        return two_loop_direction(flat_grad, memory.old_dirs, memory.old_stps, memory.ro, memory.h_diag,
                                  state["al"])

    def _advance(self, evaluate, line_search_fn, memory, loss, flat_grad, gtd, evals_left, scalar, last):
        """Move the parameters along ``memory.d``: by ``memory.t``, or by the step a strong-Wolfe line search
        finds. Returns the loss and gradient there (not evaluated on the last iteration without a line search,
        as torch), the step taken and the closure's evaluations."""
        t, d = memory.t, memory.d
        if line_search_fn is None:
            self._add_grad(t, d)
            if last:
                return loss, flat_grad, t, 0
            return float(evaluate()), self._gather_flat_grad(), t, 1
        if line_search_fn != "strong_wolfe":
            raise RuntimeError("only 'strong_wolfe' is supported")
        x_init = [p.numpy(force=True).copy() for p in self._params]

        def obj_func(x, step, direction):
            return self._directional_evaluate(evaluate, x, step, direction)

        loss, flat_grad, t, evals = strong_wolfe(obj_func, x_init, t, d, loss, flat_grad, gtd, max_ls=evals_left,
                                                 scalar=scalar)
        self._add_grad(t, d)
        return loss, flat_grad, t, evals


class _Memory:
    """What an L-BFGS step carries over to the next, read from and saved to the state as torch keeps it: vectors
    as tensors, and ``t``, ``ro``, ``H_diag`` and ``al`` as 0-d tensors where torch's are (Python numbers where
    torch's are: ``t = lr``, the first ``H_diag = 1``)."""

    def __init__(self, state):
        self.d = _array(state.get("d"))
        self.t = _scalar(state.get("t"))
        self.old_dirs = [_array(v) for v in state.get("old_dirs", [])]
        self.old_stps = [_array(v) for v in state.get("old_stps", [])]
        self.ro = None if state.get("ro") is None else [_scalar(v) for v in state["ro"]]
        self.h_diag = _scalar(state.get("H_diag"))
        self.prev_flat_grad = _array(state.get("prev_flat_grad"))
        self.prev_loss = state.get("prev_loss")

    def save(self, state):
        state["d"] = None if self.d is None else new_state_tensor(self.d)
        state["t"] = _state_scalar(self.t)
        state["old_dirs"] = [new_state_tensor(v) for v in self.old_dirs]
        state["old_stps"] = [new_state_tensor(v) for v in self.old_stps]
        state["ro"] = None if self.ro is None else [_state_scalar(v) for v in self.ro]
        state["H_diag"] = _state_scalar(self.h_diag)
        state["prev_flat_grad"] = None if self.prev_flat_grad is None else new_state_tensor(self.prev_flat_grad)
        state["prev_loss"] = self.prev_loss
        if "al" in state:
            state["al"] = [_state_scalar(v) for v in state["al"]]


def _scalar(value):
    """A state value as the step computes with it: a 0-d tensor as a TensorScalar, a number as is."""
    return tensor_scalar(value.numpy(force=True)) if isinstance(value, ad.Tensor) else value


def _state_scalar(value):
    """A TensorScalar or numpy scalar as torch keeps it, a 0-d tensor of its dtype; a Python number as is."""
    if isinstance(value, TensorScalar):
        return new_state_tensor(np.asarray(float(value), value.numpy_type))
    if isinstance(value, np.generic):
        return new_state_tensor(np.asarray(value))
    return value
