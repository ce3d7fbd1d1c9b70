"""``objective=expression``: minimise a function written in the expression language (see
:mod:`experiments.expression` for the grammar and what is refused)."""

from __future__ import annotations

import keyword

import numpy as np

import autodiff as ad

from experiments import expression as language
from experiments.errors import ConfigError

from . import _validate
from .base import Objective

_INIT_ALLOWED = "a mapping of parameter names to finite numbers or (nested) lists of finite numbers"


def _check_name(name) -> str:
    reserved = set(language.FUNCTIONS) | set(language.CONSTANTS)
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        problem = "is not a valid name"
    elif name.startswith("__"):
        problem = "starts with '__' (dunder names are refused)"
    elif name in reserved:
        problem = "is the name of a function or constant of the expression language"
    else:
        return name
    raise ConfigError(
        f"objective.init.{name} is not allowed: {name!r} {problem}. Allowed: parameter names that are Python "
        f"identifiers, not starting with '__', other than {', '.join(sorted(reserved))}."
    )


class ExpressionObjective(Objective):
    """Minimise ``expr`` over the parameters named in ``init``.

    Args:
        expr: the expression, e.g. ``"sum(3*a**3 - b**2)"``; it must evaluate to a scalar.
        init: parameter name -> initial value (a number or nested lists); every name must appear in ``expr``.
        optimum: optional known minimiser, name -> value (same names and shapes as ``init``).
        min_value: optional known minimum value.
        plot_bounds: optional ``[[x_min, x_max], [y_min, y_max]]`` for a 2-D objective; by default a square
            around the start.
    """

    name = "expression"

    def __init__(self, expr=None, init=None, optimum=None, min_value=None, plot_bounds=None) -> None:
        init = _validate.mapping({} if init is None else init, "init", _INIT_ALLOWED)
        if not init:
            raise ConfigError(
                "objective.init is empty: the expression objective needs at least one parameter, e.g. "
                "objective.init.a=[2,3]. Allowed: " + _INIT_ALLOWED + "."
            )
        self._init = {
            _check_name(name): _validate.finite_array(value, f"init.{name}", _INIT_ALLOWED)
            for name, value in init.items()
        }
        if expr is None:
            raise ConfigError("objective.expr is missing. Allowed: a string such as 'sum(3*a**3 - b**2)'.")
        self.expression = language.parse(expr, self._init)
        unused = sorted(set(self._init) - self.expression.used_names())
        if unused:
            raise ConfigError(
                f"objective.init names {', '.join(unused)}, which the expression {self.expression.source!r} does "
                f"not use (a typo?). Allowed: exactly the parameters the expression uses."
            )
        self._check_value_at_start()
        if optimum is not None:
            self.optimum = self._optimum(optimum)
        if min_value is not None:
            self.min_value = _validate.real(min_value, "min_value", -np.inf)
        self.plot_bounds = self._plot_bounds(plot_bounds)

    def _check_value_at_start(self) -> None:
        params = {name: ad.tensor(value, dtype=ad.float64) for name, value in self._init.items()}
        with np.errstate(all="ignore"):  # a NaN here becomes the clear error below, not a numpy warning
            value = self.expression.evaluate(params)
        if value.ndim != 0:
            raise language.ExpressionError(
                f"Expression refused: it evaluates to a tensor of shape {tuple(value.shape)}, not a scalar; a "
                f"loss must be one number.\n    {self.expression.source}\nAllowed: an expression whose value is a "
                f"single number: wrap a tensor in sum(...), mean(...), norm(...) or another reduction."
            )
        if not np.isfinite(value.item()):
            raise ConfigError(
                f"objective.expr {self.expression.source!r} is {value.item()} at the initial values "
                f"(objective.init); a run would fail at step 0. Allowed: initial values where the expression is "
                f"finite."
            )

    def _optimum(self, optimum) -> dict[str, np.ndarray]:
        optimum = _validate.mapping(optimum, "optimum", "the same parameter names and shapes as objective.init")
        if set(optimum) != set(self._init):
            raise ConfigError(
                f"objective.optimum has the names {sorted(optimum)}; objective.init has {sorted(self._init)}. "
                f"Allowed: the same parameter names and shapes as objective.init."
            )
        result = {}
        for name, value in optimum.items():
            array = _validate.finite_array(value, f"optimum.{name}", "finite numbers shaped like objective.init")
            if array.shape != self._init[name].shape:
                raise ConfigError(
                    f"objective.optimum.{name} has shape {array.shape}, objective.init.{name} shape "
                    f"{self._init[name].shape}. Allowed: the same shapes."
                )
            result[name] = array
        return result

    def _is_two_dimensional(self) -> bool:
        sizes = [value.size for value in self._init.values()]
        return sizes == [2] or sizes == [1, 1]

    def _plot_bounds(self, bounds):
        if not self._is_two_dimensional():
            if bounds is not None:
                raise ConfigError(
                    "objective.plot_bounds is set, but the objective is not 2-D. Allowed: plot_bounds only with one "
                    "parameter of two elements or two scalar parameters."
                )
            return None
        if bounds is None:
            start = np.concatenate([value.ravel() for value in self._init.values()])
            return _validate.square_bounds(start, 2.0 * max(1.0, np.abs(start).max()))
        array = _validate.finite_array(bounds, "plot_bounds", "[[x_min, x_max], [y_min, y_max]] with min < max")
        if array.shape != (2, 2) or not (array[:, 0] < array[:, 1]).all():
            raise ConfigError(
                f"objective.plot_bounds = {bounds!r} is not allowed. Allowed: [[x_min, x_max], [y_min, y_max]] "
                f"with min < max."
            )
        return tuple((float(lo), float(hi)) for lo, hi in array)

    def initial_params(self) -> dict[str, np.ndarray]:
        return {name: value.copy() for name, value in self._init.items()}

    def loss(self, params, step):
        return self.expression.evaluate(params)
